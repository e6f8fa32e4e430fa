"""Making tensors, as PyTorch does: ``tensor``, ``zeros``, ``arange``, ``linspace``, ``randn`` ...

Every function takes PyTorch's keywords ``dtype=`` (``tg.float32``, ``tg.int64``, ... or a NumPy
dtype), ``device=`` (only the CPU: see :mod:`tinygrad_ste.dtypes`) and ``requires_grad=``.
Sizes are given as PyTorch gives them, ``zeros(2, 3)`` or ``zeros((2, 3))``.  Two things differ:

* the default floating dtype is float64 (PyTorch's is float32), in which gradients are checked;
* the random ones (``rand``, ``randn``, ``randint``, ``randperm`` and the ``*_like`` forms) draw
  from the library-wide generator that :func:`tinygrad_ste.manual_seed` resets, or from
  ``rng=``, a ``numpy.random.Generator`` -- not from PyTorch's stream, so the numbers differ.

    >>> import tinygrad_ste as tg
    >>> tg.linspace(0, 1, 5)
    Tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    >>> tg.zeros(2, 3, dtype=tg.int64).shape, tg.arange(4).dtype
    ((2, 3), dtype('int64'))
    >>> _ = tg.manual_seed(0)
    >>> first = tg.randn(3)
    >>> _ = tg.manual_seed(0)
    >>> bool((tg.randn(3) == first).numpy().all())
    True
"""
import numpy as np

from .arrays import sizes_argument
from .dtypes import as_dtype, check_device
from .random import generator
from .tensor import Tensor, as_array

__all__ = ["tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "rand_like", "randn_like", "arange", "linspace", "eye", "rand", "randn", "randint",
           "randperm"]


def _made(array, op, dtype, device, requires_grad):
    """The Tensor of ``array`` for the creation function ``op``, in ``dtype`` (None: the array's own)."""
    check_device(device, op)
    return Tensor(array, requires_grad=requires_grad, dtype=as_dtype(dtype, op) or array.dtype)


def _shape(size, op):
    """``size`` -- a tuple of ints as written, ``(2, 3)``, or one tuple or list, ``((2, 3),)`` -- as a tuple."""
    size = sizes_argument(size)
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in size):
        raise TypeError(f"{op}: sizes must be non-negative integers, as in {op}(2, 3) or {op}((2, 3)); got {size}")
    return tuple(int(n) for n in size)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A tensor of ``data`` (a number, nested lists, an array), keeping its dtype unless ``dtype`` is given."""
    return _made(as_array(data), "tensor", dtype, device, requires_grad)


def from_numpy(array):
    """A tensor of the NumPy array's numbers.  Copied: PyTorch's shares the array's memory."""
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of shape ``size`` (float64 unless ``dtype``)."""
    return _made(np.zeros(_shape(size, "zeros")), "zeros", dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of shape ``size`` (float64 unless ``dtype``)."""
    return _made(np.ones(_shape(size, "ones")), "ones", dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """PyTorch leaves an empty tensor's numbers unset; here they are zeros, so nothing depends on
    leftover memory."""
    return _made(np.zeros(_shape(size, "empty")), "empty", dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value``, of its type unless ``dtype``
    (an int gives int64, a bool bool, a float float64)."""
    return _made(np.full(_shape((size,), "full"), fill_value), "full", dtype, device, requires_grad)


def _like(input, op, make, dtype, device, requires_grad):
    """``make(shape)`` as a tensor in ``input``'s dtype unless ``dtype`` is given."""
    array = as_array(input)
    return _made(make(array.shape), op, array.dtype if dtype is None else dtype, device, requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    """Zeros of ``input``'s shape and dtype."""
    return _like(input, "zeros_like", np.zeros, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    """Ones of ``input``'s shape and dtype."""
    return _like(input, "ones_like", np.ones, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """Zeros of ``input``'s shape and dtype (see :func:`empty`)."""
    return _like(input, "empty_like", np.zeros, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """``fill_value`` in ``input``'s shape and dtype."""
    return _like(input, "full_like", lambda shape: np.full(shape, fill_value), dtype, device, requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False, *, rng=None):
    """Uniform on [0, 1) in ``input``'s shape and dtype (see :func:`rand`)."""
    return _like(input, "rand_like", lambda shape: generator(rng, "rand_like").random(shape), dtype, device,
                 requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False, *, rng=None):
    """Standard normal in ``input``'s shape and dtype (see :func:`randn`)."""
    return _like(input, "randn_like", lambda shape: generator(rng, "randn_like").standard_normal(shape), dtype,
                 device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """start, start + step, ... up to but not including ``end`` (``arange(n)``: 0 .. n - 1);
    int64 when all three are integers, else float64."""
    start, end = (0, start) if end is None else (start, end)
    return _made(np.arange(start, end, step), "arange", dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced numbers from ``start`` to ``end``, both included (float64)."""
    return _made(np.linspace(start, end, steps), "linspace", dtype, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (m = n unless given)."""
    return _made(np.eye(n, m), "eye", dtype, device, requires_grad)


def _floating(dtype, op):
    """``dtype`` checked to be a floating one (None stays None): random reals cannot be integers."""
    dtype = as_dtype(dtype, op)
    if dtype is not None and dtype.kind != "f":
        raise TypeError(f"{op}: draws real numbers, so dtype must be floating, got {dtype}; use randint for integers")
    return dtype


def rand(*size, dtype=None, device=None, requires_grad=False, rng=None):
    """Uniform on [0, 1) of shape ``size``, drawn in float64 (then converted to ``dtype``)."""
    array = generator(rng, "rand").random(_shape(size, "rand"))
    return _made(array, "rand", _floating(dtype, "rand"), device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, rng=None):
    """Standard normal of shape ``size`` (``randn(())`` is one number, 0-d), drawn in float64."""
    array = generator(rng, "randn").standard_normal(_shape(size, "randn"))
    return _made(array, "randn", _floating(dtype, "randn"), device, requires_grad)


def randint(low=0, high=None, size=None, dtype=None, device=None, requires_grad=False, rng=None):
    """Integers uniform on [low, high) of shape ``size`` (int64): ``randint(high, size)`` or
    ``randint(low, high, size)``, as in PyTorch."""
    if size is None:   # randint(high, size): the first argument is the high end
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError(f"randint: give the high end and the size, as randint(10, (3,)) or randint(0, 10, (3,)); "
                        f"got low={low}, high={high}, size={size}")
    array = generator(rng, "randint").integers(low, high, _shape((size,), "randint"))
    return _made(array, "randint", dtype, device, requires_grad)


def randperm(n, dtype=None, device=None, requires_grad=False, rng=None):
    """A random permutation of 0 .. n - 1 (int64), e.g. to shuffle the items of an epoch."""
    return _made(generator(rng, "randperm").permutation(n), "randperm", dtype, device, requires_grad)
