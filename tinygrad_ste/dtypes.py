"""Data types and the device, under PyTorch's names.

A tensor's numbers live in a NumPy array, so its dtype is a NumPy dtype, and PyTorch's names
are those dtypes: ``tg.float32`` *is* ``numpy.dtype("float32")``, so ``x.dtype == tg.float32``
and ``x.dtype == np.float32`` are both true, and either may be passed as ``dtype=``.

    >>> import tinygrad_ste as tg
    >>> tg.tensor([1, 2], dtype=tg.float32).dtype == tg.float32
    True
    >>> tg.long is tg.int64 and tg.double is tg.float64
    True

The default floating dtype is float64, not PyTorch's float32: gradients are checked in
float64, and float32 is kept wherever it is given.

The engine runs on the CPU only.  ``tg.device("cpu")`` and ``device="cpu"`` are accepted
wherever PyTorch takes a device, so code written for PyTorch runs unchanged; any other device
is a ValueError saying so.
"""
import numpy as np

__all__ = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
           "half", "float", "double", "short", "int", "long",
           "device", "as_dtype", "check_device"]

float16, float32, float64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
int8, int16, int32, int64, uint8 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8))
bool = np.dtype(np.bool_)   # noqa: A001 -- PyTorch's name (torch.bool); Python's bool is not needed here
half, float, double = float16, float32, float64   # noqa: A001
short, int, long = int16, int32, int64   # noqa: A001


def as_dtype(dtype, op):
    """``dtype`` (a name above, a NumPy dtype or type, or None) as a NumPy dtype of a number, or None.

    Anything that is not a number type (a string such as "cuda", ``object``) is a TypeError
    naming ``op``."""
    if dtype is None:
        return None
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype; use tg.float32, tg.float64, tg.int64, tg.bool, ...") from None
    if dtype.kind not in "biuf":
        raise TypeError(f"{op}: dtype {dtype} is not a number type; use tg.float32, tg.float64, tg.int64, tg.bool, ...")
    return dtype


class device:   # noqa: N801 -- PyTorch's name, torch.device
    """``tg.device("cpu")``: where tensors live.  Only "cpu" (also "cpu:0") exists here.

    Anything else -- "cuda", "mps", "cuda:1" -- is a ValueError: this engine computes with
    NumPy on the CPU.  ``str(device("cpu"))`` is "cpu", and a device equals its name.
    """

    def __init__(self, type="cpu", index=None):   # noqa: A002 -- PyTorch's keyword
        if isinstance(type, device):
            type = type.type
        if not isinstance(type, str) or type not in ("cpu", "cpu:0") or index not in (None, 0):
            where = f"{type}:{index}" if index is not None else type
            raise ValueError(f"device: this engine runs on the CPU only (with NumPy), so the device must be "
                             f"'cpu', got {where!r}")
        self.type, self.index = "cpu", None

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return "cpu"

    def __eq__(self, other):
        return isinstance(other, (device, str)) and str(other) in ("cpu", "cpu:0")

    def __hash__(self):
        return hash("cpu")


def check_device(where, op):
    """Accept None, "cpu" or ``device("cpu")`` as ``device=`` of ``op``; anything else is a ValueError."""
    if where is not None:
        try:
            device(where)
        except ValueError as error:
            raise ValueError(f"{op}: {error}") from None
