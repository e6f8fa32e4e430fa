"""How many threads NumPy's BLAS (the library behind ``@``) may use: ``set_num_threads``, as in PyTorch.

    >>> import tinygrad_ste as tg
    >>> tg.get_num_threads()     # the package's default
    1
    >>> tg.set_num_threads(2)    # let a matrix product use two cores
    >>> tg.get_num_threads()
    2
    >>> tg.set_num_threads(1)    # and back

The models of this project multiply matrices of a few hundred rows.  A multithreaded
BLAS splits each product over its threads, and for products this small the threads spend
more time waiting for one another than multiplying: on a 2-core machine shared with other
work, lesson 5's VQ autoencoder trained 3.5 times as long (wall-clock) with two threads as with
one, to the same numbers (README, "Threads, and the times you wait").  So importing the package sets one thread,
``DEFAULT_NUM_THREADS``, unless you chose a number yourself by setting
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` or ``MKL_NUM_THREADS`` before starting
Python; ``set_num_threads(n)`` changes it at any time, for larger matrices of your own.

Limiting a BLAS that is already loaded needs ``threadpoolctl`` (installed with the
lessons, test and bench extras).  Without it the package leaves the BLAS as it found it,
and ``set_num_threads`` raises an ImportError that says how to install it.
"""
import os

__all__ = ["DEFAULT_NUM_THREADS", "get_num_threads", "set_num_threads"]

DEFAULT_NUM_THREADS = 1
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MISSING = ("tinygrad_ste.{op} needs threadpoolctl to change the BLAS thread pool of a running process: "
           "pip install threadpoolctl (or set OPENBLAS_NUM_THREADS before starting Python)")


def _blas_controller(op):
    """threadpoolctl's handle on the BLAS libraries NumPy loaded; ImportError naming ``op`` if it is missing."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        raise ImportError(MISSING.format(op=op)) from None
    import numpy  # noqa: F401  (loads the BLAS, so the controller finds it)
    return ThreadpoolController().select(user_api="blas")


def set_num_threads(n):
    """Let NumPy's BLAS use ``n`` threads (an int >= 1) from now on, in this process."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads: n must be at least 1, got {n}")
    _blas_controller("set_num_threads").limit(limits=n)


def get_num_threads():
    """How many threads NumPy's BLAS may use now (the largest, if it loaded more than one BLAS)."""
    return max((library.num_threads for library in _blas_controller("get_num_threads").lib_controllers),
               default=1)


def apply_default():
    """At import: one BLAS thread, unless the user set a thread variable or threadpoolctl is missing."""
    if any(variable in os.environ for variable in THREAD_VARIABLES):
        return
    try:
        set_num_threads(DEFAULT_NUM_THREADS)
    except ImportError:
        pass
