"""Compositions of ops: softmax, losses, joining tensors.

Nothing here has a backward of its own: each function is written with Tensor ops (or
calls one from ops.py), so its gradient follows from theirs by the chain rule (and is
gradchecked like theirs).
Import it the PyTorch way: ``import tinygrad_ste.functional as F``.
"""
import numpy as np

from . import ops
from .tensor import Tensor, as_tensor

__all__ = ["logsumexp", "softmax", "log_softmax", "cross_entropy", "mse_loss",
           "concatenate", "stack", "where", "one_hot"]


def logsumexp(x, axis=-1, keepdims=False):
    """log sum_i exp(x_i) along ``axis``, stable for large x.

    Uses log sum exp(x) = m + log sum exp(x - m) with m = max(x): every exponent is
    then <= 0, so nothing overflows.  m is detached because the identity holds for any
    constant m -- its gradient contributions cancel exactly, so we skip computing them.
    """
    x = as_tensor(x)
    shift = x.data.max(axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)   # a row of all -inf stays -inf, not NaN
    out = (x - shift).exp().sum(axis=axis, keepdims=True).log() + shift
    return out if keepdims else out.reshape(np.squeeze(out.data, axis=axis).shape)


def log_softmax(x, axis=-1):
    """log softmax(x)_i = x_i - logsumexp(x): log-probabilities, stable for large logits.

    One op (``ops.LogSoftmax``, with its own backward) for speed: it is the core of every
    classifier's loss.  ``x - logsumexp(x, axis, keepdims=True)`` computes the same.
    """
    return ops.LogSoftmax.apply(x, axis=axis)


def softmax(x, axis=-1):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``axis``: positive, sums to one."""
    return log_softmax(x, axis=axis).exp()


def cross_entropy(logits, target):
    """Mean negative log-likelihood of integer class targets under softmax(logits).

    ``logits``: (N, C) scores; ``target``: (N,) integers in [0, C).
    loss = -(1/N) sum_n log softmax(logits_n)[target_n].
    """
    logits = as_tensor(logits)
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logits.ndim != 2 or target.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: expected logits (N, C) and target (N,), got {logits.shape} and {target.shape}")
    if target.dtype.kind not in "iu" and not (target.dtype.kind == "f" and np.all(target == np.round(target))):
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
    target = target.astype(np.intp)
    classes = logits.shape[1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        raise ValueError(f"cross_entropy: target values must lie in [0, {classes}), "
                         f"got {target.min()}..{target.max()} (logits shape {logits.shape})")
    picked = log_softmax(logits, axis=1)[np.arange(len(target)), target]
    return -picked.mean()


def mse_loss(prediction, target):
    """Mean squared error, (1/n) sum (prediction - target)^2, over all n elements.

    The shapes must be equal: (N,) against (N, 1) would broadcast to (N, N) and give a
    wrong loss without any error, a classic silent bug.
    """
    prediction, target = as_tensor(prediction), as_tensor(target)
    if prediction.shape != target.shape:
        raise ValueError(f"mse_loss: prediction shape {prediction.shape} and target shape {target.shape} differ")
    diff = prediction - target
    return (diff * diff).mean()


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (``np.concatenate``)."""
    return ops.Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis (``np.stack``)."""
    return ops.Stack.apply(*tensors, axis=axis)


def where(condition, a, b):
    """Elementwise ``a if condition else b`` with broadcasting; ``condition`` gets no gradient.

    A number as one branch takes the dtype of the Tensor in the other (float32 stays float32).
    """
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition).astype(bool)
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        b = a._lift(b, "where")
    elif isinstance(b, Tensor) and not isinstance(a, Tensor):
        a = b._lift(a, "where")
    return ops.Where.apply(a, b, condition=condition)


def one_hot(indices, num_classes, dtype=np.float64):
    """Integer array (...) -> one-hot NumPy array (..., num_classes).  Carries no gradient."""
    indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ValueError(f"one_hot: indices must lie in [0, {num_classes}), got {indices.min()}..{indices.max()}")
    return np.eye(num_classes, dtype=dtype)[indices.astype(np.intp)]
