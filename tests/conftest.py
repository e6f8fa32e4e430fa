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
