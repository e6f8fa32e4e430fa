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
import ast

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


def computed_names(statements, computed, in_claim):
    """Walk ``statements`` in order, adding to ``computed`` every name bound to a value the notebook computed;
    return the asserts met on the way, as (assert node, whether its test reads a computed name).

    Outside claim cells a name is computed when it is assigned anything but a literal (``results =
    train(...)`` is, ``seeds = (0, 1)`` is not) or filled in place by a method call
    (``errors.append(...)``).  Inside a claim cell it must also be derived from one: assigned from an
    expression, looped over an iterable, or a function whose body reads a name that is already
    computed.  Imported names never are.
    """
    def reads_computed(node):
        return any(isinstance(n, ast.Name) and n.id in computed for n in ast.walk(node))

    def bound(target):
        return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}

    def counts(value):
        if in_claim:
            return reads_computed(value)
        try:
            ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return True
        return False

    asserts = []
    for statement in statements:
        if isinstance(statement, ast.Assert):
            asserts.append((statement, reads_computed(statement.test)))
        elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if counts(statement.value) or (isinstance(statement, ast.AugAssign) and reads_computed(statement.target)):
                computed.update(*(bound(t) for t in targets))
        elif (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
              and isinstance(statement.value.func, ast.Attribute) and isinstance(statement.value.func.value, ast.Name)
              and (not in_claim or reads_computed(statement.value))):
            computed.add(statement.value.func.value.id)   # errors.append(measured): a container filled in place
        elif isinstance(statement, (ast.For, ast.AsyncFor)) and reads_computed(statement.iter):
            computed.update(bound(statement.target))
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and reads_computed(statement):
            computed.add(statement.name)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                if item.optional_vars is not None and counts(item.context_expr):
                    computed.update(bound(item.optional_vars))
        for block in ("body", "orelse", "finalbody"):   # compound statements: their blocks, in order
            asserts += computed_names(getattr(statement, block, []), computed, in_claim)
        for handler in getattr(statement, "handlers", []):
            asserts += computed_names(handler.body, computed, in_claim)
    return asserts


def claims_on_constants(notebook):
    """The asserts of a notebook's claim cells that read no value the notebook computed, as
    "cell N, line L: source" strings (see :func:`test_every_claim_asserts_on_values_the_lesson_computed`)."""
    computed, problems = set(), []
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        in_claim = "claim" in tags(cell)
        for statement, ok in computed_names(ast.parse(cell.source).body, computed, in_claim):
            if in_claim and not ok:
                problems.append(f"cell {i}, line {statement.lineno}: {ast.get_source_segment(cell.source, statement)}")
    return problems


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_claim_asserts_on_values_the_lesson_computed(path):
    """A claim must be able to fail when the code changes: every ``assert`` in a cell tagged ``claim``
    reads, in its test, a name whose value the notebook computed.

    The rule, checked on the source with ``ast`` (no execution): a name is *computed* when an earlier
    code cell that is not a claim assigns it anything but a literal (``runs = train(...)``, not
    ``seeds = (0, 1)``) or fills it by a method call (``errors.append(...)``), or when the claim cell
    itself derives it from a computed name (an assignment, a loop over it, a helper function that reads
    it).  An assert that reads only literals, imported modules or values the claim cell made up from
    them (a fixed-seed draw, ``assert True``) is rejected.  The rule cannot tell a measurement from a
    constant of the architecture read off a trained model; that is for review.
    """
    problems = claims_on_constants(read(path))
    assert not problems, f"{path.name}: claim asserts that read no value the lesson computed:\n" + "\n".join(problems)


def test_the_claim_rule_rejects_asserts_on_constants():
    def notebook(*cells):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, metadata={"tags": tags})
                                               for source, tags in cells])
    measured = ("import numpy as np\nseeds = (0, 1)\nscores = np.array([0.9, 0.8])", [])
    assert claims_on_constants(notebook(measured, ("assert scores.mean() > 0.5", ["claim"]))) == []
    assert claims_on_constants(notebook(measured, ("gap = scores[0] - scores[1]\n"
                                                   "def clearly(d):\n    return d > 3 * scores.std()\n"
                                                   "assert clearly(gap)", ["claim"]))) == []
    for constant in ["assert len(seeds) == 2", "assert True",
                     "weights = np.random.default_rng(0).standard_normal(3)\nassert (weights < 0).any()"]:
        assert len(claims_on_constants(notebook(measured, (constant, ["claim"])))) == 1, constant


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
