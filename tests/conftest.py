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


def pytest_collection_modifyitems(items):
    """The lessons' executions first: they are the longest tests, and under ``pytest -n`` the worker
    that builds the web book (its tests are one group, ``--dist loadgroup``) executes lessons from the
    last one back while the other worker's lesson tests go from the first one on (``lesson_runs.py``);
    the short tests then fill both workers while the book is built."""
    items.sort(key=lambda item: item.originalname != "test_lesson_runs_and_checks_its_exercises")
