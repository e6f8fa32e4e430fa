"""Every lesson runs top to bottom with no error, its claims hold, and its exercises accept the
reference solutions and report blanks.

The conventions are described in ``tinygrad_ste/exercises.py``: a code cell tagged
``exercise`` (with a placeholder), a markdown cell tagged ``solution`` (the reference code
in a ```python block), a code cell tagged ``check``; and code cells tagged ``claim`` whose
assertions back the prose.  For every exercise the graded copy of a lesson runs, in one kernel:

    exercise cell as stored -> check cell (must print "not answered yet")
    -> reference solution   -> check cell (must print "correct.")

Any error in any cell, a failing claim included, fails the test.  The lessons are not timed
here (a loaded machine would fail a timed test); ``benchmarks/`` times them.

Each lesson is executed once per test run, by this test or by the web-book test
(``tests/test_web_book.py``), whichever asks first: ``lesson_runs.py`` keeps the graded
copy this test reads and the reader's copy the book is built from, so that under
``pytest -n`` the two worker processes share the lessons instead of running them twice.
"""
import nbformat
import pytest

from lesson_runs import LESSONS, SOLUTION_CODE, exercise_triples, graded_copy, graded_run, read, tags


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
    claims = [cell for cell in notebook.cells if "claim" in tags(cell)]
    assert claims, f"{path.name} has no cell tagged 'claim' backing its directional sentences"
    assert all(cell.cell_type == "code" and "assert" in cell.source for cell in claims), \
        f"{path.name}: a claim cell is a code cell that asserts what the prose says"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_and_checks_its_exercises(path):
    _, checks_unanswered, checks_solved, _ = graded_copy(read(path))
    graded = graded_run(path)   # RunFailed, with the traceback, on any error: a failed claim too

    claims = [cell for cell in graded.cells if "claim" in tags(cell)]
    assert claims and all(cell.execution_count for cell in claims), f"{path.name}: a claim cell did not run"
    for i in checks_unanswered:
        printed = printed_text(graded.cells[i])
        assert "not answered yet" in printed and "correct." not in printed, \
            f"{path.name}: an unanswered exercise was not reported as such:\n{graded.cells[i].source}\n{printed}"
    for i in checks_solved:
        printed = printed_text(graded.cells[i])
        assert "correct." in printed and "not quite" not in printed and "not answered" not in printed, \
            f"{path.name}: a reference solution was not accepted:\n{graded.cells[i].source}\n{printed}"


def printed_text(cell):
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def test_exercise_2_3_names_a_correct_rule_that_was_not_registered(capsys):
    notebook = read(next(p for p in LESSONS if p.name.startswith("02_")))
    (_, solution, check), = [triple for triple in exercise_triples(notebook)
                             if "Exercise 2.3" in notebook.cells[triple[2]].source]
    code, = SOLUTION_CODE.findall(notebook.cells[solution].source)
    assert 'Sign.register_rule("tanh", tanh_rule)' in code
    namespace = {}
    first_code_cell = next(cell for cell in notebook.cells if cell.cell_type == "code")   # the imports
    exec(first_code_cell.source, namespace)
    exec(code.replace('Sign.register_rule("tanh", tanh_rule)', ""), namespace)   # right rule, never registered
    capsys.readouterr()
    exec(notebook.cells[check].source, namespace)
    assert 'Exercise 2.3: not quite. no rule named "tanh" is registered on sign' in capsys.readouterr().out
