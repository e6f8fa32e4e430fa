"""NumPy-level helpers shared by the engine's layers: plain arrays in, plain arrays out.

Nothing here records a graph or knows about Tensors.  These are the small pieces of NumPy
that several layers need (an op's forward, a backward rule, a sampler, an exact-gradient
enumeration), written once: axis normalisation, the sigmoid, softplus, log-sum-exp, softmax
and normal CDF computed so that they never overflow and keep their precision in the tails, the
softmax's vector-Jacobian product, one-hot encoding and the nearest-code search of vector
quantization.
"""
import math

import numpy as np

__all__ = ["sizes_argument", "normalize_axes", "reduction_axes", "sigmoid_array", "softplus_array", "log_sigmoid_array",
           "logsumexp_parts", "normal_cdf_array", "softmax_array", "softmax_backward", "one_hot_array", "nearest_code",
           "rows_added", "sort_positions", "cummax_positions"]



def sizes_argument(sizes):
    """PyTorch's two spellings of a shape argument as one tuple: ``f(2, 3)`` and ``f((2, 3))``
    both give ``(2, 3)`` (``sizes`` is the ``*args`` tuple as received)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return sizes


def normalize_axes(axis, ndim):
    """``axis`` -- an int, a tuple of ints or None (all axes) -- as a tuple of axes in [0, ndim).

    Negative axes count from the end: -1 is ndim - 1.  None stays None.  Out-of-range
    and repeated axes are a ValueError (the op adds its name and the input shapes).
    """
    if axis is None:
        return None
    normalized = []
    for a in (tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)):
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axes must be integers, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a {ndim}-d input (valid: {-ndim}..{ndim - 1})")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(normalized)


def reduction_axes(axis, ndim):
    """``normalize_axes`` for ops that reduce or scan along an axis: as in PyTorch, a 0-d input
    counts as having one axis of length 1, so axis 0 or -1 is accepted there (and, like None,
    means its one element)."""
    axes = normalize_axes(axis, max(ndim, 1))
    return None if ndim == 0 else axes


def sigmoid_array(x):
    """sigmoid(x) = 1 / (1 + e^-x) on a NumPy array, to full *relative* precision everywhere.

    sigmoid(x) = e^min(x, 0) / (1 + e^-|x|): 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x)
    for x < 0.  No exponent is above 0, so nothing overflows, and each branch is a quotient
    of accurately computed terms, within a few ulps of the true value, including the lower
    tail (sigmoid(-40) = 4.2e-18, where (1 + tanh(x / 2)) / 2 gives 0).  The upper tail is
    1 - sigmoid(-x), which rounds to 1.0 from x = 37: no float64 is closer to the truth there.
    """
    return np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))


def softplus_array(x):
    """softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), to full relative precision.

    No overflow (softplus(1000) = 1000) and a tiny result kept (softplus(-300) = 5.1e-131).
    The same as ``np.logaddexp(0, x)``, which NumPy computes ten times more slowly.
    """
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def log_sigmoid_array(x):
    """log sigmoid(x) = -log(1 + e^-x) = -softplus(-x), to full relative precision: -40 at
    x = -40, and -4.2e-18 at x = 40 (where the log of a rounded sigmoid gives 0)."""
    return -softplus_array(-x)


def logsumexp_parts(x, axis):
    """(m, x - m, r) with log sum exp(x) = m + r along the int ``axis`` (m and r kept as length 1).

    m = max(x), so no exponent is above 0 and nothing overflows, and the sum is 1 + t: the
    max's own term e^0 = 1 plus the others, t.  r = log(1 + t) is accurate to a couple of
    ulps once 1 + t >= 1.5; below that, where 1 + t would round away t's last digits, t is
    summed again without the max and r = log1p(t) (so a dominant class's log-probability -r
    is -1.9e-22 at a margin of 50, not 0).  Only arrays with such a slice pay for the second sum.
    x - m is returned too: it is exact, where x - (m + r) would round r away (log_softmax is
    (x - m) - r).  Where a slice's max is not finite, m = 0 there and r = log sum exp(x) for the
    whole array: -inf for a slice of all -inf, inf with a +inf entry, NaN with a NaN.
    """
    m = x.max(axis=axis, keepdims=True)
    shifted = x - m
    total = np.exp(shifted).sum(axis=axis, keepdims=True)
    if (total >= 1.5).all():   # the common case, one test: no slice near one, and no inf or NaN (NaN >= 1.5 is False)
        return m, shifted, np.log(total)
    if not np.isfinite(m).all():   # a slice of all -inf, or with inf or NaN: nothing to keep precise there
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):   # log(0) = -inf for a slice of all -inf
            return m, x - m, np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    at_max = shifted == 0   # e^0 = 1 exactly; tied maxima beyond the first count in t
    t = np.where(at_max, 0, np.exp(shifted)).sum(axis=axis, keepdims=True) + (at_max.sum(axis=axis, keepdims=True) - 1)
    return m, shifted, np.where(total < 1.5, np.log1p(t), np.log(total))


_erfc = np.frompyfunc(math.erfc, 1, 1)   # NumPy has no erfc; math.erfc, element by element


def normal_cdf_array(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal CDF, on a NumPy array, in x's floating
    dtype.  The same as (1 + erf(x / sqrt 2)) / 2, but erfc keeps the lower tail to full relative
    precision (Phi(-30) = 4.9e-198, where 1 + erf rounds to 0).  Through ``math.erfc`` one element
    at a time: accurate, but about 100 times slower than a NumPy ufunc."""
    x = np.asarray(x)
    dtype = np.result_type(x, np.float32)
    return (0.5 * np.asarray(_erfc(-x / np.sqrt(2)), dtype=np.float64)).astype(dtype)


def softmax_array(logits, axis=-1):
    """softmax of a NumPy array along ``axis`` (for backward rules, which work on arrays).

    Shifted by the max first, so exp never overflows, even for logits of 1e4.
    """
    shifted = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def softmax_backward(s, g, axis=-1):
    """dL/dlogits for s = softmax(logits), given g = dL/ds (NumPy arrays, broadcastable).

    The softmax Jacobian is diag(s) - s s^T, so dL/dlogits = s * (g - sum(g * s)).
    """
    return s * (g - (g * s).sum(axis=axis, keepdims=True))


def one_hot_array(indices, num_classes, dtype=np.float64):
    """Integer array of shape (...) -> NumPy array of shape (..., num_classes), 1 at each index.

    For backward rules and samplers, which work on arrays; ``functional.one_hot`` wraps it
    in a Tensor.  Indices outside [0, num_classes) are a ValueError.
    """
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu" and not (indices.dtype.kind == "f" and np.all(indices == np.round(indices))):
        raise TypeError(f"one_hot: indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ValueError(f"one_hot: indices must lie in [0, {num_classes}), got {indices.min()}..{indices.max()}")
    return np.eye(num_classes, dtype=dtype)[indices.astype(np.intp)]


def nearest_code(z, codebook):
    """Index of the nearest codebook row for every row of z, by squared distance.

    z: (N, D), codebook: (K, D) -> indices (N,).  Uses
    ||z - c||^2 = ||z||^2 - 2 z.c + ||c||^2, an (N, K) matrix from one matmul, instead
    of the (N, K, D) array of differences (64 times bigger for D = 64).  ||z||^2 is the
    same for every code, so it is left out of the argmin.
    """
    distances = 2 * z @ codebook.T
    # ||c||^2 - 2 z.c written into the product's own array: the same numbers, one (N, K) array fewer.
    np.subtract((codebook * codebook).sum(axis=1), distances, out=distances)
    return np.argmin(distances, axis=1)


def rows_added(shape, rows, values, dtype=None):
    """Zeros of ``shape`` with ``values[i]`` added to row ``rows[i]`` for every i (a row chosen twice gets both).

    rows: ints (N,) in [-K, K) for K = shape[0]; values: ``(N,) + shape[1:]``; dtype: values' by default.
    The gradient of a row lookup ``x[rows]``.  By definition ``np.add.at(zeros, rows, values)``:
    the same sums in the same order, but spelled with positions in the flat array, for which
    ``np.add.at`` is about three times faster than with rows of a 2-D one.
    """
    out = np.zeros(shape, dtype=values.dtype if dtype is None else dtype)
    row_size = math.prod(shape[1:])
    positions = (rows % shape[0])[:, None] * row_size + np.arange(row_size)
    np.add.at(out.reshape(-1), positions.reshape(-1), values.reshape(-1))
    return out


def sort_positions(x, axis=-1, descending=False):
    """Positions that sort ``x`` along ``axis`` (a stable sort: equal values keep their order)."""
    return np.argsort(-x if descending else x, axis=axis, kind="stable")


def cummax_positions(x, axis):
    """Position of the running maximum of ``x`` along ``axis``: for each i, the last j <= i where
    x_j equals max(x_0..x_i), as in PyTorch's ``cummax`` (a later tie takes over)."""
    running = np.maximum.accumulate(x, axis=axis)
    steps = np.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
    return np.maximum.accumulate(np.where(x == running, steps, 0), axis=axis)
