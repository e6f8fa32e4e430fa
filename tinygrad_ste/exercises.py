"""Checking a learner's answers to the exercises, and the conventions every lesson follows.

Exercises: how one is laid out in a lesson notebook (``tests/test_lessons.py`` relies on it):

1. a markdown cell stating the task;
2. a code cell tagged ``exercise`` that only *defines* the answer, with a placeholder the
   learner replaces: ``answer = ...`` for a value, ``raise NotImplementedError`` in the
   body of a function to write;
3. a markdown cell tagged ``solution``: the reference solution as a Python code block
   inside ``<details><summary>Reference solution</summary> ... </details>``, one click
   away and never executed;
4. a code cell tagged ``check`` that calls :func:`check`.

:func:`check` never raises on a learner's answer: it *prints* one verdict line, so that
"Restart Kernel and Run All" (and ``jupyter nbconvert --execute``) always completes:

* ``Exercise 1.2: correct.``
* ``Exercise 1.2: not answered yet. ...`` while the placeholder is still there;
* ``Exercise 1.2: not quite. <what is off>`` followed by ``Hint: ...`` when it is wrong.

The tests run every lesson twice over its exercises (placeholders, then reference
solutions) and read these printed verdicts.  A check cell must therefore not fail on an
unanswered exercise either: anything it prints beyond ``check(...)`` must work while the
answer is still a placeholder.

Claims: every sentence of a lesson that states a direction or a comparison ("X beats Y",
"the bias falls with tau", "at the noise floor") is backed by a code cell tagged ``claim``
right after the cell that measures it.  A claim cell prints the statistic the sentence
uses and ``assert``s the sentence, with a tolerance derived from the standard error where
the measurement is noisy (for example ``assert abs(mean - exact) < 4 * standard_error``),
never a tolerance loosened until it passes.  The tests execute every lesson and require at
least one claim cell in each; a failing claim fails the lesson's test, which means the
prose must change, not the assertion.
"""
import numpy as np

__all__ = ["check"]


def check(exercise, answer, expected=None, *, test=None, atol=1e-6, rtol=1e-6, hint=None):
    """Check ``answer`` to ``exercise`` (a title such as ``"Exercise 1.2"``) and print the verdict.

    Give exactly one of

    * ``expected``: a number or array; the answer must have its shape and be close to it
      elementwise, |answer - expected| <= atol + rtol * |expected|;
    * ``test``: a callable ``test(answer)`` returning None when the answer is right and
      otherwise a sentence saying what is off (it may also raise ``AssertionError``
      with that sentence).  It usually calls the learner's function on a few inputs.

    Prints one of "correct.", "not answered yet. ..." (the answer is ``...`` or ``None``,
    or ``test`` met a ``NotImplementedError``) or "not quite. ..." (the answer is wrong, or
    the learner's code raised), the last followed by ``hint`` when given.  Returns None, so
    a notebook cell shows only the printed line.  Only a misuse of ``check`` itself raises
    (``TypeError``).
    """
    if (expected is None) == (test is None):
        raise TypeError("check: give exactly one of expected= or test=")
    if answer is ... or answer is None:
        return _report(exercise, _NOT_ANSWERED)
    try:
        problem = _compare(answer, expected, atol, rtol) if test is None else test(answer)
    except NotImplementedError:
        return _report(exercise, _NOT_ANSWERED)
    except AssertionError as failure:
        problem = str(failure) or "a check inside the test failed"
    except Exception as error:   # the learner's code crashed: report it as a wrong answer, with its message
        problem = f"your code raised {type(error).__name__}: {error}"
    if problem:
        return _report(exercise, f"not quite. {problem}" + (f"\nHint: {hint}" if hint else ""))
    return _report(exercise, "correct.")


_NOT_ANSWERED = ("not answered yet. Replace the placeholder (`...` or `raise NotImplementedError`) in the "
                 "exercise cell with your code, run that cell, then run this one again.")


def _report(exercise, verdict):
    print(f"{exercise}: {verdict}")


def _compare(answer, expected, atol, rtol):
    """None if ``answer`` matches ``expected`` numerically, else a sentence saying how it differs."""
    answer = np.asarray(getattr(answer, "data", answer))   # a Tensor is compared by its data
    expected = np.asarray(expected)
    if answer.dtype.kind not in "biuf":
        return f"expected a number or a numeric array, got {answer.dtype} data"
    if answer.shape != expected.shape:
        return f"your answer has shape {answer.shape}, expected shape {expected.shape}"
    if answer.shape == () and not np.isclose(answer, expected, atol=atol, rtol=rtol):
        return f"your answer is {answer.item():.6g}"
    wrong = ~np.isclose(answer, expected, atol=atol, rtol=rtol)
    if wrong.any():
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        return (f"{int(wrong.sum())} of {answer.size} entries differ from the expected values; "
                f"the first is at index {first}: you have {answer[first]:.6g}")
    return None
