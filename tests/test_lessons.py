"""Every lesson runs top to bottom, its exercises accept the reference solutions and reject blanks.

The exercise convention is described in ``tinygrad_ste/exercises.py``: a code cell tagged
``exercise`` (with a placeholder), a markdown cell tagged ``solution`` (the reference code
in a ```python block), a code cell tagged ``check``.  For every exercise the graded copy
of a lesson runs, in one kernel:

    exercise cell as stored -> check cell (must raise NotAnswered)
    -> reference solution   -> check cell (must pass)
"""
import copy
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPOSITORY = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPOSITORY / "lessons").glob("*.ipynb"))
SECONDS_PER_LESSON = 60   # the budget on 2 CPU cores
SOLUTION_CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def read(path):
    return nbformat.read(path, as_version=4)


def tags(cell):
    return cell.metadata.get("tags", [])


def exercise_triples(notebook):
    """(exercise, solution, check) cell indices, one per exercise, in order; asserts the layout."""
    triples = []
    for i, cell in enumerate(notebook.cells):
        if "exercise" in tags(cell):
            solution, check = notebook.cells[i + 1], notebook.cells[i + 2]
            assert cell.cell_type == "code", f"cell {i}: an exercise cell must be code"
            assert "solution" in tags(solution) and solution.cell_type == "markdown", \
                f"cell {i + 1}: the cell after an exercise must be its markdown solution"
            assert "<summary>Reference solution</summary>" in solution.source
            assert "check" in tags(check) and check.cell_type == "code", \
                f"cell {i + 2}: the cell after a solution must be the check"
            assert "check(" in check.source
            triples.append((i, i + 1, i + 2))
    return triples


def graded_copy(notebook):
    """The notebook with each exercise run twice: as stored (must be rejected), then solved."""
    graded = copy.deepcopy(notebook)
    cells, checks_unanswered, checks_solved = [], [], []
    triples = {exercise: (solution, check) for exercise, solution, check in exercise_triples(notebook)}
    skip = set()
    for i, cell in enumerate(notebook.cells):
        if i in skip:
            continue
        if i not in triples:
            cells.append(copy.deepcopy(cell))
            continue
        solution, check = triples[i]
        skip.update((solution, check))
        code = SOLUTION_CODE.findall(notebook.cells[solution].source)
        assert len(code) == 1, f"cell {solution}: a solution holds exactly one ```python block"
        unanswered_check = nbformat.v4.new_code_cell(notebook.cells[check].source)
        unanswered_check.metadata["tags"] = ["raises-exception"]   # nbclient lets this cell fail
        cells += [copy.deepcopy(cell), unanswered_check]
        checks_unanswered.append(len(cells) - 1)
        cells += [nbformat.v4.new_code_cell(code[0]), nbformat.v4.new_code_cell(notebook.cells[check].source)]
        checks_solved.append(len(cells) - 1)
    graded.cells = cells
    return graded, checks_unanswered, checks_solved


def test_lessons_are_numbered_in_order_from_one():
    assert len(LESSONS) >= 5
    assert [p.name[:3] for p in LESSONS] == [f"{n:02d}_" for n in range(1, len(LESSONS) + 1)]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_is_stored_without_outputs_and_follows_the_layout(path):
    notebook = read(path)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    for i, cell in enumerate(notebook.cells):
        assert set(cell.metadata) <= {"tags"}, f"cell {i} carries metadata {sorted(cell.metadata)}"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{path.name} cell {i} is stored with outputs; clear them before committing"
    assert "After this lesson you will be able to" in notebook.cells[0].source
    assert 2 <= len(exercise_triples(notebook)) <= 3


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_and_checks_its_exercises(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The kernel imports the package from this checkout, installed or not.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])))
    graded, checks_unanswered, checks_solved = graded_copy(read(path))
    client = NotebookClient(graded, kernel_name="python3", timeout=SECONDS_PER_LESSON,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()   # raises CellExecutionError, with the traceback, on any unexpected error
    elapsed = time.perf_counter() - start

    for i in checks_unanswered:
        errors = [o for o in graded.cells[i].outputs if o.output_type == "error"]
        assert errors and errors[0].ename == "NotAnswered", \
            f"{path.name}: an unanswered exercise did not raise NotAnswered:\n{graded.cells[i].source}"
        assert "not answered yet" in errors[0].evalue
    for i in checks_solved:
        printed = "".join(o.get("text", "") for o in graded.cells[i].outputs if o.output_type == "stream")
        assert "correct." in printed, f"{path.name}: a reference solution was not accepted:\n{graded.cells[i].source}"
    assert elapsed < SECONDS_PER_LESSON, f"{path.name} took {elapsed:.1f} s, budget {SECONDS_PER_LESSON} s"
    print(f"{path.name}: {elapsed:.1f} s")
