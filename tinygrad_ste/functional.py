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
from .arrays import one_hot_array, reduction_axes
from .keywords import accept_dim_keywords_in
from .tensor import Tensor, as_array, as_tensor

__all__ = ["logsumexp", "logsigmoid", "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "concatenate", "stack", "where", "masked_fill", "one_hot", "gather", "take_along_axis", "scatter_add",
           "tril", "triu", "softplus", "gelu", "silu", "elu", "leaky_relu", "hardtanh", "softsign",
           "maximum", "minimum", "broadcast_to", "pad", "einsum",
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
    logits = as_tensor(logits)
    target = _class_targets(logits.shape, target, reduction, "cross_entropy")
    return ops.NLLLoss.apply(log_softmax(logits, axis=-1), target=target, reduction=reduction)


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood: the cost of item i is ``-log_probs[i, target[i]]`` (``ops.NLLLoss``).

    ``log_probs`` (..., C), log-probabilities (``log_softmax`` of logits) with the classes on the
    last axis; ``target`` (...) integers in [0, C); ``reduction`` as in :func:`cross_entropy`,
    which is ``nll_loss(log_softmax(logits), target)``.  PyTorch takes the classes on axis 1.
    """
    log_probs = as_tensor(log_probs)
    target = _class_targets(log_probs.shape, target, reduction, "nll_loss")
    return ops.NLLLoss.apply(log_probs, target=target, reduction=reduction)


def _check_reduction(reduction, op_name, allowed=("mean", "sum", "none")):
    if reduction not in allowed:
        raise ValueError(f"{op_name}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")


def _class_targets(scores_shape, target, reduction, op_name):
    """The integer class targets (...) of scores (..., C), checked, as an intp array."""
    _check_reduction(reduction, op_name)
    target = as_array(target)
    if len(scores_shape) == 0 or target.shape != scores_shape[:-1]:
        raise ValueError(f"{op_name}: expected scores (..., C) and target (...) with the same leading "
                         f"shape, got {scores_shape} and {target.shape}")
    if target.dtype.kind not in "iu" and not (target.dtype.kind == "f" and np.all(target == np.round(target))):
        raise TypeError(f"{op_name}: target must hold integer class indices, got dtype {target.dtype}")
    target = target.astype(np.intp)
    classes = scores_shape[-1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        raise ValueError(f"{op_name}: target values must lie in [0, {classes}), "
                         f"got {target.min()}..{target.max()} (scores shape {scores_shape})")
    return target


def _same_shape_pair(prediction, target, op_name):
    """Both as Tensors, of equal shapes: (N,) against (N, 1) would broadcast to (N, N) and give a
    wrong loss without any error, a classic silent bug."""
    prediction, target = as_tensor(prediction), as_tensor(target)
    if prediction.shape != target.shape:
        raise ValueError(f"{op_name}: prediction shape {prediction.shape} and target shape {target.shape} differ")
    return prediction, target


def _reduce(costs, reduction):
    """The elementwise ``costs`` reduced as ``reduction`` says: their mean, their sum, or themselves."""
    if reduction == "none":
        return costs
    return costs.sum() if reduction == "sum" else costs.mean()


def l1_loss(prediction, target, reduction="mean"):
    """Mean absolute error: cost |prediction - target| per element, reduced by ``reduction``
    ("mean", "sum" or "none").  Shapes must be equal, as in :func:`mse_loss`."""
    _check_reduction(reduction, "l1_loss")
    prediction, target = _same_shape_pair(prediction, target, "l1_loss")
    return _reduce((prediction - target).abs(), reduction)


def smooth_l1_loss(prediction, target, reduction="mean", beta=1.0):
    """Smooth L1 (Girshick 2015, Fast R-CNN): with d = prediction - target, the cost is
    d^2 / (2 beta) where |d| < beta and |d| - beta / 2 elsewhere: quadratic near 0, linear
    in the tails, and continuous with a continuous derivative at |d| = beta.  beta = 0 is the
    L1 loss.  Reduced by ``reduction``."""
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    prediction, target = _same_shape_pair(prediction, target, "smooth_l1_loss")
    diff = prediction - target
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(where(size.data < beta, diff * diff * (0.5 / beta), size - 0.5 * beta), reduction)


def huber_loss(prediction, target, reduction="mean", delta=1.0):
    """Huber's loss (Huber 1964): d^2 / 2 where |d| <= delta, delta (|d| - delta / 2) elsewhere,
    d = prediction - target.  It is delta * smooth_l1_loss with beta = delta.  ``delta`` > 0."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return smooth_l1_loss(prediction, target, reduction, beta=delta) * delta


def binary_cross_entropy(probabilities, target, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)) per element, p in [0, 1] (``ops.BinaryCrossEntropy``, which
    clamps each log at -100 as PyTorch does), reduced by ``reduction``.  Shapes must be equal.
    On logits, use :func:`binary_cross_entropy_with_logits`: it is exact where this one clamps."""
    _check_reduction(reduction, "binary_cross_entropy")
    probabilities, target = _same_shape_pair(probabilities, target, "binary_cross_entropy")
    return _reduce(ops.BinaryCrossEntropy.apply(probabilities, target), reduction)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """binary_cross_entropy(sigmoid(x), t), computed stably from the logits x:

        -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))) = t softplus(-x) + (1 - t) softplus(x)

    (since log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x)).  softplus never
    overflows, so x = 1000 with t = 0 costs 1000, not inf; and each term keeps full relative
    precision, so a confident right answer costs softplus(-50) = 1.9e-22, where the shorter
    softplus(x) - t x rounds it to 0.  dL/dx = g (sigmoid(x) - t).
    Reduced by ``reduction``; shapes must be equal."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    logits, target = _same_shape_pair(logits, target, "binary_cross_entropy_with_logits")
    return _reduce(target * softplus(-logits) + (1 - target) * softplus(logits), reduction)


def kl_div(log_probs, target, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(target || q) term by term, PyTorch's ``kl_div``: ``log_probs``
    holds log q (as ``log_softmax`` gives it), ``target`` the probabilities p (or log p with
    ``log_target=True``).  Each element costs p (log p - log q), 0 where p = 0 (the limit of p log p).

    ``reduction``: "mean" averages over *every element* (PyTorch's default, which is not the KL
    divergence of a batch); "batchmean" divides the sum by the first axis, the true mean KL per
    item; "sum" and "none" as elsewhere."""
    _check_reduction(reduction, "kl_div", ("mean", "batchmean", "sum", "none"))
    log_probs, target = _same_shape_pair(log_probs, target, "kl_div")
    if log_target:
        costs = target.exp() * (target - log_probs)
    else:
        positive = target.data > 0
        costs = where(positive, target * where(positive, target, 1.0).log(), 0.0) - target * log_probs
    if reduction == "batchmean":
        return costs.sum() / (log_probs.shape[0] if log_probs.ndim else 1)
    return _reduce(costs, reduction)


def mse_loss(prediction, target, reduction="mean"):
    """Squared error, (prediction - target)^2 per element, reduced by ``reduction``: "mean"
    (the default, (1/n) sum over all n elements, one op: ``ops.MSELoss``), "sum", or "none"
    (the squared errors themselves).  The shapes must be equal (see ``_same_shape_pair``).
    """
    _check_reduction(reduction, "mse_loss")
    prediction, target = _same_shape_pair(prediction, target, "mse_loss")
    if reduction == "mean":
        return ops.MSELoss.apply(prediction, target)
    return _reduce((prediction - target) ** 2, reduction)


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


def masked_fill(x, mask, value):
    """x with ``value`` wherever the boolean ``mask`` is True, as PyTorch's ``masked_fill``
    (``Tensor.masked_fill``)."""
    return as_tensor(x).masked_fill(mask, value)


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


def gather(x, axis, index):
    """y[i] = x[i with its ``axis`` coordinate replaced by index[i]], PyTorch's ``gather``
    (``ops.Gather``): ``index`` has as many axes as x, y has its shape."""
    return ops.Gather.apply(x, axis=axis, index=as_array(index))


def take_along_axis(x, indices, axis):
    """``numpy.take_along_axis`` with gradients: like :func:`gather`, but x and ``indices`` are
    broadcast against each other on every axis but ``axis`` first (PyTorch's ``take_along_dim``)."""
    x, indices = as_tensor(x), as_array(indices)
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of shape {indices.shape} need as many axes as x {x.shape}")
    try:
        (axis,) = reduction_axes(axis, x.ndim) or (0,)
        others = np.broadcast_shapes(*[tuple(1 if a == axis else n for a, n in enumerate(shape))
                                       for shape in (x.shape, indices.shape)])
    except (TypeError, ValueError) as error:
        raise type(error)(f"take_along_axis: {error} (shapes {x.shape} and {indices.shape})") from None
    x_shape = tuple(x.shape[a] if a == axis else n for a, n in enumerate(others))
    index_shape = tuple(indices.shape[a] if a == axis else n for a, n in enumerate(others))
    x = x if x.shape == x_shape else ops.BroadcastTo.apply(x, shape=x_shape)
    return gather(x, axis, np.broadcast_to(indices, index_shape))


def scatter_add(x, axis, index, source):
    """x with source[i] added at x[i with its ``axis`` coordinate replaced by index[i]], for every
    position i of ``index`` (PyTorch's ``scatter_add``, ``ops.ScatterAdd``); places named twice
    get both.  Differentiable in x and in source."""
    return ops.ScatterAdd.apply(x, source, axis=axis, index=as_array(index))


def tril(x, diagonal=0):
    """The lower triangle of the last two axes, as ``torch.tril`` (``ops.Tril``); the rest is 0."""
    return ops.Tril.apply(x, k=diagonal)


def triu(x, diagonal=0):
    """The upper triangle of the last two axes, as ``torch.triu`` (``ops.Triu``); the rest is 0."""
    return ops.Triu.apply(x, k=diagonal)


def gelu(x, approximate="none"):
    """x Phi(x), the GELU (``ops.Gelu``): exact with erf, or ``approximate="tanh"``."""
    return ops.Gelu.apply(x, approximate=approximate)


def silu(x):
    """x sigmoid(x), the SiLU or swish (``ops.Silu``)."""
    return ops.Silu.apply(x)


def elu(x, alpha=1.0):
    """x for x > 0, alpha (e^x - 1) otherwise (``ops.Elu``)."""
    return ops.Elu.apply(x, alpha=alpha)


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope x otherwise (``ops.LeakyRelu``)."""
    return ops.LeakyRelu.apply(x, negative_slope=negative_slope)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """clip(x, min_val, max_val) with PyTorch's gradient: 0 at the corners (``ops.Hardtanh``)."""
    return ops.Hardtanh.apply(x, min_val=min_val, max_val=max_val)


def softsign(x):
    """x / (1 + |x|) (``ops.Softsign``)."""
    return ops.Softsign.apply(x)


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
