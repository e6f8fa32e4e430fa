"""Test-session settings.

One BLAS thread, the package's default (``tinygrad_ste.threads``): the suite's matrices
are tiny, and on a busy 2-core machine a multithreaded BLAS spends more time
coordinating threads than multiplying.  Set here, before NumPy is imported, so OpenBLAS
never starts the threads it would not use; the kernels that execute the lessons, and the
workers of ``pytest -n``, inherit it.
"""
import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")


LESSON_TEST = "test_lesson_runs_and_checks_its_exercises"


def pytest_collection_modifyitems(items):
    """Order the tests so that two workers share the lessons and neither waits for the other.

    Under ``pytest -n`` with ``--dist worksteal`` the first worker is handed the first half
    of this list and the second worker the rest; an idle worker later takes the tail of
    the other's queue.  The lesson executions are the longest tests, so each half starts
    with every other lesson: lessons 1, 3, 5, ... (about 80 s of CPU on one core of this
    machine) and 2, 4, 6, ... (about 90 s).  The second worker goes on with the web book's
    tests, which need every lesson executed: by then the first worker's lessons are done
    (a lesson nobody has started yet it executes itself, ``lesson_runs.executed_lessons``),
    and it builds the book while the first worker runs quick tests, so that neither the
    build nor a wait is left for the end, where one worker would idle.  Plain ``pytest``
    runs the same order in one process.
    """
    lessons = [item for item in items if getattr(item, "originalname", None) == LESSON_TEST]
    book = [item for item in items if item.nodeid.startswith("tests/test_web_book.py")]
    rest = [item for item in items if item not in lessons and item not in book]
    first_half = len(items) // 2                       # what worksteal sends the first worker
    split = max(0, first_half - len(lessons[0::2]))
    items[:] = lessons[0::2] + rest[:split] + lessons[1::2] + book + rest[split:]
