"""Compositions of ops: softmax, losses, joining tensors.

Nothing here has a backward of its own: each function is written with Tensor ops (or
calls one from ops.py), so its gradient follows from theirs by the chain rule (and is
gradchecked like theirs).
Import it the PyTorch way: ``import tinygrad_ste.functional as F``; ``dim=`` and ``keepdim=``
are accepted wherever ``axis=`` and ``keepdims=`` are (see :mod:`tinygrad_ste.keywords`).
"""
import sys

import numpy as np

from . import convolution, ops
from .arrays import one_hot_array
from .keywords import accept_dim_keywords_in
from .tensor import Tensor, as_array, as_tensor

__all__ = ["logsumexp", "logsigmoid", "softmax", "log_softmax", "cross_entropy", "mse_loss",
           "concatenate", "stack", "where", "one_hot",
           "softplus", "maximum", "minimum", "broadcast_to", "pad", "einsum",
           "conv2d", "avg_pool2d", "max_pool2d", "upsample"]


def logsumexp(x, axis=-1, keepdims=False):
    """log sum_i exp(x_i) over ``axis`` (an int, a list or tuple of ints, or None for all).

    Stable and accurate (``ops.LogSumExp``): with m = max(x), log sum exp(x) = m + log sum
    exp(x - m), every exponent <= 0 so nothing overflows, and the max's own term 1 goes
    into a log1p so that a tiny sum is kept.  Its gradient is the softmax over the same axes.
    """
    return ops.LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def logsigmoid(x):
    """log sigmoid(x) = -log(1 + e^-x), the log-probability of a Bernoulli logit (``ops.LogSigmoid``).

    Accurate in both tails: -40 with gradient 1 at x = -40, -4.2e-18 at x = 40.
    Prefer it to ``x.sigmoid().log()``, which is accurate too but takes two ops.
    """
    return ops.LogSigmoid.apply(x)


def log_softmax(x, axis=-1):
    """log softmax(x)_i = x_i - logsumexp(x): log-probabilities, stable for large logits.

    One op (``ops.LogSoftmax``, with its own backward) for speed: it is the core of every
    classifier's loss.  ``x - logsumexp(x, axis, keepdims=True)`` computes the same.
    """
    return ops.LogSoftmax.apply(x, axis=axis)


def softmax(x, axis=-1):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``axis``: positive, sums to one (``ops.Softmax``)."""
    return ops.Softmax.apply(x, axis=axis)


def cross_entropy(logits, target, reduction="mean"):
    """Negative log-likelihood of integer class targets under softmax(logits), classes on the last axis.

    ``logits``: (..., C) scores; ``target``: (...) integers in [0, C), the same leading shape
    (``(N, C)`` and ``(N,)`` for a batch, ``(B, T, C)`` and ``(B, T)`` for sequences).  The
    cost of each item is ``-log softmax(logits)[..., target]``, and ``reduction`` says what
    to return: ``"mean"`` (the default) its average, ``"sum"`` its sum, ``"none"`` the costs
    themselves, shape (...) -- one per sample, as REINFORCE needs.

    PyTorch agrees for (N, C); for more axes it expects the classes on axis 1, not last.
    Computed as PyTorch computes it, ``nll_loss(log_softmax(logits), target)``: two ops
    (``ops.LogSoftmax``, ``ops.NLLLoss``), each with its own backward.

        >>> import tinygrad_ste.functional as F
        >>> F.cross_entropy([[0.0, 0.0], [0.0, 0.0]], [0, 1], reduction="none").data   # -log(1/2) each
        array([0.69314718, 0.69314718])
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    logits = as_tensor(logits)
    target = as_array(target)
    if logits.ndim == 0 or target.shape != logits.shape[:-1]:
        raise ValueError(f"cross_entropy: expected logits (..., C) and target (...) with the same leading "
                         f"shape, got {logits.shape} and {target.shape}")
    if target.dtype.kind not in "iu" and not (target.dtype.kind == "f" and np.all(target == np.round(target))):
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
    target = target.astype(np.intp)
    classes = logits.shape[-1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        raise ValueError(f"cross_entropy: target values must lie in [0, {classes}), "
                         f"got {target.min()}..{target.max()} (logits shape {logits.shape})")
    return ops.NLLLoss.apply(log_softmax(logits, axis=-1), target=target, reduction=reduction)


def mse_loss(prediction, target, reduction="mean"):
    """Squared error, (prediction - target)^2 per element, reduced by ``reduction``: "mean"
    (the default, (1/n) sum over all n elements, one op: ``ops.MSELoss``), "sum", or "none"
    (the squared errors themselves).

    The shapes must be equal: (N,) against (N, 1) would broadcast to (N, N) and give a
    wrong loss without any error, a classic silent bug.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    prediction, target = as_tensor(prediction), as_tensor(target)
    if prediction.shape != target.shape:
        raise ValueError(f"mse_loss: prediction shape {prediction.shape} and target shape {target.shape} differ")
    if reduction == "mean":
        return ops.MSELoss.apply(prediction, target)
    squared = (prediction - target) ** 2
    return squared.sum() if reduction == "sum" else squared


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (``np.concatenate``)."""
    return ops.Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis (``np.stack``)."""
    return ops.Stack.apply(*tensors, axis=axis)


def _tensor_pair(a, b, op_name):
    """a and b as Tensors, for a two-operand function; a plain number takes the other side's
    dtype (float32 stays float32), and a non-numeric operand is an error naming ``op_name``."""
    if isinstance(b, Tensor) and not isinstance(a, Tensor):
        return b._lift(a, op_name), b
    a = as_tensor(a)
    return a, a._lift(b, op_name)


def where(condition, a, b):
    """Elementwise ``a if condition else b`` with broadcasting; ``condition`` gets no gradient.

    A number as one branch takes the dtype of the Tensor in the other (float32 stays float32).
    """
    condition = as_array(condition).astype(bool)
    return ops.Where.apply(*_tensor_pair(a, b, "where"), condition=condition)


def one_hot(indices, num_classes=-1, dtype=np.float64):
    """Integer indices (...) -> one-hot Tensor (..., num_classes): 1 at each index, 0 elsewhere.

    As ``torch.nn.functional.one_hot``, but float64 by default (PyTorch's is int64), so it
    mixes with other tensors directly; ``num_classes=-1`` means max(indices) + 1.  It carries
    no gradient (indices are not differentiable).  NumPy code uses ``arrays.one_hot_array``.

        >>> one_hot([2, 0], 3).data
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    indices = as_array(indices)
    if num_classes == -1:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    return Tensor(one_hot_array(indices, num_classes, dtype=dtype), dtype=dtype)


# ==================================================================================
# More ops learners expect: the ones PyTorch has as functions rather than Tensor methods.
# ==================================================================================


def softplus(x):
    """softplus(x) = log(1 + exp(x)), a smooth relu; stable for large |x| (``ops.Softplus``)."""
    return ops.Softplus.apply(x)


def maximum(a, b):
    """Elementwise max(a, b) with broadcasting (``torch.maximum``).

    Where a == b the two share the gradient equally (g/2 each), the convention of ``max``.
    """
    return ops.Maximum.apply(*_tensor_pair(a, b, "maximum"))


def minimum(a, b):
    """Elementwise min(a, b) with broadcasting (``torch.minimum``); ties share the gradient equally."""
    return ops.Minimum.apply(*_tensor_pair(a, b, "minimum"))


def broadcast_to(x, shape):
    """x broadcast to ``shape`` (NumPy's rules; -1 keeps an axis), as ``torch.broadcast_to``.

    The gradient sums over the copies: ``broadcast_to(x, (4, 3)).sum()`` gives x of shape
    (3,) the gradient 4 in every element.
    """
    return ops.BroadcastTo.apply(x, shape=tuple(shape))


def pad(x, pad_width, value=0.0):
    """x surrounded by the constant ``value``; ``pad_width`` as in ``numpy.pad`` (``ops.Pad``).

        >>> pad([1.0, 2.0], (1, 2)).data
        array([0., 1., 2., 0., 0.])
    """
    return ops.Pad.apply(x, pad_width=pad_width, value=value)


def einsum(subscripts, *operands):
    """Einstein summation, ``numpy.einsum`` with gradients (``ops.Einsum``); any number of operands.

    For the products that ``@`` and ``sum`` cannot write in one line:

        >>> import numpy as np
        >>> a, b = np.ones((2, 3, 4)), np.ones((2, 4, 5))
        >>> einsum("bij,bjk->bik", a, b).shape      # batched matmul
        (2, 3, 5)
        >>> einsum("bi,bj->bij", a[:, :, 0], b[:, 0]).shape   # batched outer product
        (2, 3, 5)

    Operands may also be given as one list, as in PyTorch: ``einsum("ij,jk", [a, b])``.
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {type(subscripts).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return ops.Einsum.apply(*operands, subscripts=subscripts)


# ==================================================================================
# Images (N, C, H, W): convolution, pooling and upsampling (the ops live in convolution.py).
# ==================================================================================


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation plus an optional bias, as ``torch.nn.functional.conv2d``.

    x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) or None -> (N, C_out,
    H_out, W_out), H_out = floor((H + 2 padding - kH) / stride) + 1.  ``stride`` and
    ``padding`` are ints or (height, width) pairs; the padding is zeros.  The product is
    ``convolution.Conv2d`` (its docstring has the backward); the bias, one number per output
    channel, is added by broadcasting over (N, H_out, W_out).

        >>> import numpy as np
        >>> conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), padding=1).data[0, 0]
        array([[4., 6., 6., 4.],
               [6., 9., 9., 6.],
               [6., 9., 9., 6.],
               [4., 6., 6., 4.]])
    """
    y = convolution.Conv2d.apply(x, weight, stride=stride, padding=padding)
    if bias is None:
        return y
    bias = as_tensor(bias)
    if bias.shape != (y.shape[1],):
        raise ValueError(f"conv2d: bias must have shape ({y.shape[1]},), one per output channel, got {bias.shape}")
    return y + bias.reshape(1, -1, 1, 1)


def avg_pool2d(x, kernel_size, stride=None):
    """Mean over kernel windows of (N, C, H, W), stride defaulting to the kernel (``convolution.AvgPool2d``)."""
    return convolution.AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride)


def max_pool2d(x, kernel_size, stride=None):
    """Max over kernel windows of (N, C, H, W), stride defaulting to the kernel; tied maxima share
    the gradient equally (``convolution.MaxPool2d``)."""
    return convolution.MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride)


def upsample(x, scale_factor=2):
    """Nearest-neighbour upsampling of (N, C, H, W) to (N, C, s H, s W) (``convolution.Upsample``),
    as ``torch.nn.functional.interpolate(x, scale_factor=s, mode="nearest")``."""
    return convolution.Upsample.apply(x, scale_factor=scale_factor)


accept_dim_keywords_in(sys.modules[__name__])   # F.softmax(x, dim=-1), as PyTorch spells F.softmax(x, axis=-1)
