"""Test-session settings.

One BLAS thread: the suite's matrices are tiny, and on a busy 2-core machine a
multithreaded BLAS spends more time coordinating threads than multiplying (a VQ
autoencoder run measured 26-52 s instead of 4 s).  Set before NumPy is imported, and
inherited by the kernels that execute the lessons.
"""
import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
