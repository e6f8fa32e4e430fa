"""NumPy-level helpers shared by the engine's layers: plain arrays in, plain arrays out.

Nothing here records a graph or knows about Tensors.  These are the small pieces of NumPy
that several layers need (an op's forward, a backward rule, a sampler, an exact-gradient
enumeration), written once: axis normalisation, the sigmoid and the softmax computed so
that they never overflow, the softmax's vector-Jacobian product, one-hot encoding and the
nearest-code search of vector quantization.
"""
import numpy as np

__all__ = ["normalize_axes", "sigmoid_array", "sigmoid_exact_tails", "softmax_array", "softmax_backward",
           "one_hot_array", "nearest_code"]



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


def sigmoid_array(x):
    """1 / (1 + e^-x) on a NumPy array, computed as (1 + tanh(x / 2)) / 2: the same
    function, but e^-x overflows for x below about -709 while tanh never does."""
    return 0.5 * (1 + np.tanh(0.5 * x))


def sigmoid_exact_tails(x):
    """1 / (1 + e^-x) as exp(-log(1 + e^-x)) (``np.logaddexp``): full *relative* precision in
    both tails, e.g. sigmoid(-40) = 4.2e-18, where (1 + tanh(x / 2)) / 2 gives 0."""
    return np.exp(-np.logaddexp(0, -x))


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
    return np.argmin((codebook * codebook).sum(axis=1) - 2 * z @ codebook.T, axis=1)
