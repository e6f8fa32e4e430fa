"""Every lesson executed, and the web book built, once per test run, by whichever test asks first.

Two tests need an executed lesson: ``test_lessons.py`` (its claims and exercise checks) and
the web book (``test_web_book.py``, which builds its pages from the executed copies).
Under ``pytest -n`` they may run in different worker processes, in any order, so a lesson
is executed under a file lock in ``build/lesson-runs/`` (``once_per_test_run``, which the
web-book tests also use to build the site once): the first test to ask executes it and leaves

* the graded copy (every exercise run twice, as stored and then solved) in
  ``build/lesson-runs/``, for ``test_lessons.py``;
* the reader's copy (the stored cells, exercises unanswered, with the outputs of this run,
  inline figures kept) in ``build/executed-lessons/``, for the book;

and a stamp naming the test run (and the error, if the lesson failed).  A test that asks
while another worker is executing the lesson waits for the lock and reads the result; a
copy stamped by an earlier run is never reused.  ``executed_lessons`` runs the lessons
nobody has started before waiting for the ones another worker holds, so the workers
share the lessons between them whoever asks.
"""
import copy
import fcntl
import json
import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPOSITORY = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPOSITORY / "lessons").glob("*.ipynb"))
EXECUTED = REPOSITORY / "build" / "executed-lessons"
RUNS = REPOSITORY / "build" / "lesson-runs"
# One id for the whole test run: pytest-xdist gives every worker the same one.
TEST_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
# Not a time budget: a cell that runs this long means a hung kernel.
CELL_TIMEOUT_SECONDS = 600
SOLUTION_CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)


class RunFailed(Exception):
    """What ``once_per_test_run`` made raised (a lesson's failing claim, say) in this test run."""


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
    """The notebook with each exercise run twice: as stored (must be rejected), then solved.

    Returns (graded notebook, indices of the unanswered checks, of the solved checks,
    {index of a stored cell: index of the graded cell that runs it as stored}).
    """
    graded = copy.deepcopy(notebook)
    cells, checks_unanswered, checks_solved, as_stored = [], [], [], {}
    triples = {exercise: (solution, check) for exercise, solution, check in exercise_triples(notebook)}
    skip = set()
    for i, cell in enumerate(notebook.cells):
        if i in skip:
            continue
        if i not in triples:
            as_stored[i] = len(cells)
            cells.append(copy.deepcopy(cell))
            continue
        solution, check = triples[i]
        skip.update((solution, check))
        code = SOLUTION_CODE.findall(notebook.cells[solution].source)
        assert len(code) == 1, f"cell {solution}: a solution holds exactly one ```python block"
        cells += [copy.deepcopy(cell), nbformat.v4.new_code_cell(notebook.cells[check].source)]
        checks_unanswered.append(len(cells) - 1)
        as_stored[i], as_stored[check] = len(cells) - 2, len(cells) - 1
        cells += [nbformat.v4.new_code_cell(code[0]), nbformat.v4.new_code_cell(notebook.cells[check].source)]
        checks_solved.append(len(cells) - 1)
    graded.cells = cells
    return graded, checks_unanswered, checks_solved, as_stored


def reader_copy(notebook, graded, as_stored):
    """The stored lesson with the outputs its cells got in the graded run (exercises unanswered)."""
    reader = copy.deepcopy(notebook)
    for i, j in as_stored.items():
        if reader.cells[i].cell_type == "code":
            reader.cells[i].outputs = graded.cells[j].outputs
            reader.cells[i].execution_count = graded.cells[j].execution_count
    return reader


@contextmanager
def _locked(name, wait=True):
    """Hold the lock ``name``; yields False instead of waiting when ``wait`` is False and another holds it."""
    RUNS.mkdir(parents=True, exist_ok=True)
    with open(RUNS / f"{name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def once_per_test_run(name, make, wait=True):
    """Call ``make()`` unless this test run already did, in whichever process asks first.

    Returns True once it has been made (here or by another worker); False, without waiting,
    if ``wait`` is False and another worker is making it.  Raises RunFailed if ``make()``
    raised, here or in the worker that called it.
    """
    with _locked(name, wait) as held:
        if not held:
            return False
        stamp_path = RUNS / f"{name}.json"
        stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
        if stamp.get("test run") != TEST_RUN:
            error = None
            try:
                make()
            except Exception as failure:   # CellExecutionError (a failed claim too), a dead kernel, a timeout
                error = f"{type(failure).__name__}: {failure}"
            stamp = {"test run": TEST_RUN, "error": error}
            stamp_path.write_text(json.dumps(stamp))
    if stamp["error"]:
        raise RunFailed(f"{name}: {stamp['error']}")
    return True


def _execute(path):
    """Execute the graded copy of a lesson; write it to RUNS, and the reader's copy to EXECUTED if no cell raised."""
    notebook = read(path)
    graded, _, _, as_stored = graded_copy(notebook)
    # The kernel imports the package from this checkout, installed or not.  (Its matplotlib
    # backend stays Jupyter's inline one, so the figures are in the outputs the book shows.)
    environment = {**os.environ,
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    client = NotebookClient(graded, kernel_name="python3", timeout=CELL_TIMEOUT_SECONDS,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env=environment)
    finally:
        nbformat.write(graded, RUNS / path.name)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    nbformat.write(reader_copy(notebook, graded, as_stored), EXECUTED / path.name)


def graded_run(path):
    """The graded copy of the lesson at ``path``, executed in this test run; RunFailed if a cell raised."""
    once_per_test_run(path.stem, lambda: _execute(path))
    return read(RUNS / path.name)


def executed_lessons(paths=LESSONS):
    """Make sure every lesson in ``paths`` was executed in this test run; returns the folder of reader's copies.

    It goes from the last lesson back, so that a worker running ``test_lessons.py`` (first lesson
    first) meets it in the middle; lessons another worker holds are waited for at the end.
    """
    waiting = [path for path in reversed(paths) if not once_per_test_run(path.stem, lambda: _execute(path), wait=False)]
    for path in waiting:
        once_per_test_run(path.stem, lambda: _execute(path))
    return EXECUTED
