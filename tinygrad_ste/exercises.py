"""Checking a learner's answers to the exercises at the end of each lesson.

How an exercise is laid out in a lesson notebook (``tests/test_lessons.py`` relies on it):

1. a markdown cell stating the task;
2. a code cell tagged ``exercise`` that only *defines* the answer, with a placeholder the
   learner replaces: ``answer = ...`` for a value, ``raise NotImplementedError`` in the
   body of a function to write;
3. a markdown cell tagged ``solution``: the reference solution as a Python code block
   inside ``<details><summary>Reference solution</summary> ... </details>``, one click
   away and never executed;
4. a code cell tagged ``check`` that calls :func:`check`.

:func:`check` prints a short confirmation when the answer is right and otherwise raises
an :class:`ExerciseError` whose message says what is off and gives a hint; an answer
still holding its placeholder raises :class:`NotAnswered` instead.
"""
import numpy as np

__all__ = ["check", "ExerciseError", "NotAnswered"]


class ExerciseError(AssertionError):
    """The answer to an exercise is wrong; the message says how, and hints at a fix."""


class NotAnswered(ExerciseError):
    """The exercise cell still holds its placeholder (``...`` or ``raise NotImplementedError``)."""


def check(exercise, answer, expected=None, *, test=None, atol=1e-6, rtol=1e-6, hint=None):
    """Check ``answer`` to ``exercise`` (a title such as ``"Exercise 1.2"``); print "correct." if it is.

    Give exactly one of

    * ``expected``: a number or array; the answer must have its shape and be close to it
      elementwise, |answer - expected| <= atol + rtol * |expected|;
    * ``test``: a callable ``test(answer)`` returning None when the answer is right and
      otherwise a sentence saying what is off (it may also raise ``AssertionError``
      with that sentence).  It usually calls the learner's function on a few inputs.

    ``hint`` is appended to every "wrong" message.  Returns None (so a notebook cell shows
    only the printed line).  Raises :class:`NotAnswered` when the
    answer is ``...`` or ``None`` or when ``test`` meets a ``NotImplementedError``, and
    :class:`ExerciseError` when the answer is wrong or the learner's code raised.
    """
    if (expected is None) == (test is None):
        raise TypeError("check: give exactly one of expected= or test=")
    if answer is ... or answer is None:
        raise NotAnswered(_not_answered(exercise))
    try:
        problem = _compare(answer, expected, atol, rtol) if test is None else test(answer)
    except NotImplementedError:
        raise NotAnswered(_not_answered(exercise)) from None
    except AssertionError as failure:
        problem = str(failure) or "a check inside the test failed"
    except Exception as error:   # the learner's code crashed: report it as a wrong answer, with its message
        problem = f"your code raised {type(error).__name__}: {error}"
    if problem:
        message = f"{exercise}: not quite. {problem}"
        raise ExerciseError(message + (f"\nHint: {hint}" if hint else ""))
    print(f"{exercise}: correct.")


def _not_answered(exercise):
    return (f"{exercise} is not answered yet: replace the placeholder (`...` or `raise NotImplementedError`) "
            "in the exercise cell with your code, run that cell, then run this one again.")


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
