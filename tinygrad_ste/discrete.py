"""Hard, deterministic ops and the backward rules that let gradients through them.

Each op here is a staircase: piecewise constant, so its true derivative is zero
wherever it exists.  Training through it needs a *surrogate*: a backward rule that is
not the derivative of the forward, chosen by name with the ``backward=`` keyword or
for a block with ``backward_rules(...)``:

========== =========================================== ==========================
rule       dL/dx                                       source
========== =========================================== ==========================
"zero"     0 (the true gradient; the default)          calculus
"identity" g (pretend the op were y = x)               Hinton 2012; Bengio et al. 2013
"clipped"  g * 1[|x| <= 1] (derivative of hardtanh)    Hubara et al. 2016
callable   anything ``rule(ctx, g)`` returns           you; see :func:`surrogate`
========== =========================================== ==========================

``ternarize`` (ternary weights alpha * {-1, 0, +1}) has these rules too, plus "exact", its
true gradient and default: its scale alpha moves with x, so that gradient is not zero.

One op per class, its forward first and then every rule, so the whole story of one
op fits on a screen.
"""
import numpy as np

from .arrays import nearest_code, normalize_axes, rows_added, softmax_array, softmax_backward
from .function import Function
from .tensor import as_tensor

__all__ = ["round", "floor", "ceil", "trunc", "sign", "ternarize", "ternary_threshold_and_scale", "one_hot_argmax",
           "quantize", "surrogate", "zero_gradient", "STAIRCASE_RULES", "Round", "Floor", "Ceil", "Trunc", "Sign",
           "Ternarize", "OneHotArgmax", "Quantize"]


def zero_gradient(ctx, g):
    """The true gradient of a piecewise-constant op -- a staircase here, a sample with its
    noise held fixed in ``stochastic``: a small change of the input leaves the output
    where it is, so dL/dx = 0 almost everywhere."""
    return np.zeros_like(g)


def _identity(ctx, g):
    """Straight-through (Bengio et al. 2013): treat the op as y = x on the way back."""
    return g


def _clipped(ctx, g):
    """Straight-through clipped to |x| <= 1: the derivative of hardtanh(x) = clip(x, -1, 1).

    Stops the gradient once x has run past where rounding or binarizing can still
    change its output (BinaryNet, Hubara et al. 2016)."""
    x, = ctx.saved_tensors
    return g * (np.abs(x) <= 1)


def surrogate(derivative):
    """Make a backward rule from the derivative of a smooth stand-in for the op.

    ``surrogate(lambda x: 1 - np.tanh(x) ** 2)`` backpropagates as if the forward were
    tanh: dL/dx = g * derivative(x).  ``derivative`` maps the op's input array to an
    array of the same shape.
    """
    def rule(ctx, g):
        x, = ctx.saved_tensors
        return g * derivative(x)
    rule.__name__ = f"surrogate({getattr(derivative, '__name__', 'derivative')})"
    return rule


# The rules every staircase here offers (each op gets its own copy, to register more on).
STAIRCASE_RULES = {"zero": zero_gradient, "identity": _identity, "clipped": _clipped}


class Round(Function):
    """y = round(x), to the nearest integer (halves to even, as ``np.round``).  Rules: see module."""
    name = "round"
    rules = STAIRCASE_RULES
    backward = staticmethod(zero_gradient)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.round(x)


# floor, ceil and trunc are staircases like round, with steps elsewhere: the same rules, another forward.

class Floor(Function):
    """y = floor(x), the largest integer <= x (steps at the integers).  Rules: as ``round``."""
    name = "floor"
    rules = STAIRCASE_RULES
    backward = staticmethod(zero_gradient)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.floor(x)


class Ceil(Function):
    """y = ceil(x), the smallest integer >= x.  Rules: as ``round``."""
    name = "ceil"
    rules = STAIRCASE_RULES
    backward = staticmethod(zero_gradient)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.ceil(x)


class Trunc(Function):
    """y = trunc(x), x with its fractional part dropped (towards 0: trunc(-1.5) = -1).  Rules: as ``round``."""
    name = "trunc"
    rules = STAIRCASE_RULES
    backward = staticmethod(zero_gradient)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.trunc(x)


class Sign(Function):
    """y = +1 if x >= 0 else -1: the BinaryConnect binarizer (Courbariaux et al. 2015).

    Unlike ``np.sign``, sign(0) = +1, so every output is a valid binary weight.
    """
    name = "sign"
    rules = STAIRCASE_RULES
    backward = staticmethod(zero_gradient)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def ternary_threshold_and_scale(w, axis=None):
    """TWN's threshold and scale (Li et al. 2016) of the weights ``w``, per group along ``axis``.

    Delta = 0.7 * mean |w| (the paper's approximation of the optimal threshold for
    roughly Gaussian or uniform weights) and alpha = mean of |w| over the weights with
    |w| > Delta (0 if there are none).  ``axis`` = None takes the whole array as one
    group (TWN: one threshold and scale per layer); ``axis=0`` on an (in, out) weight
    matrix gives one per output unit.  Both are returned with ``keepdims``, so they
    broadcast against ``w``.
    """
    magnitude = np.abs(w)
    threshold = 0.7 * magnitude.mean(axis=axis, keepdims=True)
    above = magnitude > threshold
    count = above.sum(axis=axis, keepdims=True)
    scale = (magnitude * above).sum(axis=axis, keepdims=True) / np.maximum(count, 1)   # 0 when count = 0
    return threshold, scale


def _ternarize_exact(ctx, g):
    """The true gradient of y = alpha * t.  The ternary pattern t is a staircase (it changes
    only where some |x_j| crosses Delta), so only alpha moves, and alpha = sum_j |x_j| m_j / M
    (m_j = 1[|x_j| > Delta], M = sum_j m_j, per group):

        dL/dx_j = (sum_i g_i t_i) * sign(x_j) * m_j / M
    """
    x, = ctx.saved_tensors
    threshold, _ = ternary_threshold_and_scale(x, ctx.axis)
    above = np.abs(x) > threshold
    count = np.maximum(above.sum(axis=ctx.axis, keepdims=True), 1)
    pattern = np.where(above, np.sign(x), 0.0)   # t: +1, 0 or -1
    return (g * pattern).sum(axis=ctx.axis, keepdims=True) * pattern / count


class Ternarize(Function):
    """y = alpha * t with t = +1 if x > Delta, -1 if x < -Delta, else 0: ternary weight networks
    (TWN, Li et al. 2016).  Delta and alpha: :func:`ternary_threshold_and_scale`, per group along ``axis``.

    Three values per weight, about log2(3) = 1.58 bits, and the zeros skip work.  Rules:
    "exact" (the default: the true gradient, which flows only through alpha), and sign's
    "zero", "identity" (TWN's straight-through: dL/dx = dL/dy) and "clipped".
    """
    name = "ternarize"
    rules = {"exact": _ternarize_exact, "zero": zero_gradient, "identity": _identity, "clipped": _clipped}
    backward = staticmethod(_ternarize_exact)

    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.save_for_backward(x)
        ctx.axis = axis
        threshold, scale = ternary_threshold_and_scale(x, axis)
        return (scale * np.where(np.abs(x) > threshold, np.sign(x), 0.0)).astype(x.dtype)


def round(x, backward=None):
    """Round to the nearest integer; ``backward`` = "zero" (default), "identity", "clipped" or a rule."""
    return Round.apply(x, backward=backward)


def floor(x, backward=None):
    """Round down to an integer; ``backward`` = "zero" (default), "identity", "clipped" or a rule."""
    return Floor.apply(x, backward=backward)


def ceil(x, backward=None):
    """Round up to an integer; ``backward`` = "zero" (default), "identity", "clipped" or a rule."""
    return Ceil.apply(x, backward=backward)


def trunc(x, backward=None):
    """Round towards zero; ``backward`` = "zero" (default), "identity", "clipped" or a rule."""
    return Trunc.apply(x, backward=backward)


def sign(x, backward=None):
    """Binarize to +/-1 (sign(0) = +1); ``backward`` = "zero" (default), "identity", "clipped" or a rule."""
    return Sign.apply(x, backward=backward)


def ternarize(x, backward=None, axis=None):
    """TWN ternary weights alpha * {-1, 0, +1} (Delta, alpha per group along ``axis``; None: the whole array).

    ``backward`` = "exact" (default, the true gradient: through alpha only), "zero",
    "identity" (straight-through, as in TWN), "clipped" or a rule.
    """
    return Ternarize.apply(x, backward=backward, axis=axis)


# ------------------------------------------------------------------ one-hot argmax


def _through_softmax(ctx, g):
    """Backward as if the forward were s = softmax(logits / tau) (straight-through softmax):
    dL/dlogits = s * (g - sum(g * s)) / tau."""
    logits, = ctx.saved_tensors
    return softmax_backward(softmax_array(logits / ctx.tau, ctx.axis), g, ctx.axis) / ctx.tau


class OneHotArgmax(Function):
    """y = one_hot(argmax(logits)) along ``axis``: 1 at the largest logit, 0 elsewhere.

    Rules: "zero" (the true gradient, default) and "softmax" (straight-through through
    softmax(logits / tau), as in the straight-through Gumbel estimator of Jang et al. 2017).
    """
    name = "one_hot_argmax"
    rules = {"zero": zero_gradient, "softmax": _through_softmax}
    backward = staticmethod(zero_gradient)

    @staticmethod
    def forward(ctx, logits, axis=-1, tau=1.0):
        if tau <= 0:
            raise ValueError(f"tau must be positive, got {tau}")
        axis, = normalize_axes(axis, logits.ndim)
        ctx.save_for_backward(logits)
        ctx.axis, ctx.tau = axis, tau
        winner = logits.argmax(axis=axis)
        hard = np.zeros_like(logits)
        np.put_along_axis(hard, np.expand_dims(winner, axis), 1, axis=axis)
        return hard


def one_hot_argmax(logits, axis=-1, backward=None, tau=1.0):
    """Hard one-hot of the argmax; ``backward`` = "zero" (default) or "softmax" (uses ``tau``)."""
    return OneHotArgmax.apply(logits, backward=backward, axis=axis, tau=tau)


# ------------------------------------------------------------------ vector quantization


def _vq_zero(ctx, g):
    """True gradient: z_q does not move when z moves a little (0 for z); z_q = codebook[i]
    is a row lookup, so each code row gets the sum of g over the rows that chose it."""
    return np.zeros_like(g), _codebook_gradient(ctx, g)


def _codebook_gradient(ctx, g):
    if not ctx.needs_input_grad[1]:
        return None
    return rows_added(ctx.codebook_shape, ctx.indices, g)


def _vq_identity(ctx, g):
    """VQ-VAE straight-through (van den Oord et al. 2017): dL/dz = g, nothing for the codebook
    through this path (the codebook learns from the codebook loss instead)."""
    return g, None


ROTATION_MIN_NORM = 1e-6


def _clamped_norm(rows):
    """max(||row||, ROTATION_MIN_NORM) for every row of an (N, D) array, as an (N, 1) column."""
    return np.maximum(np.sqrt((rows * rows).sum(axis=1, keepdims=True)), ROTATION_MIN_NORM)


def _vq_rotation(ctx, g):
    """The rotation trick (Fifty et al. 2024, "Restructuring Vector Quantization with the Rotation Trick").

    Forward is still z_q, but backward treats it as z_q = (||z_q|| / ||z||) R z with the
    scale and the rotation R held constant, where R rotates e = z/||z|| onto
    q = z_q/||z_q|| in the plane they span:
        R = I - 2 r r^T + 2 q e^T,   r = (e + q) / ||e + q||.
    So dL/dz = (||z_q|| / ||z||) R^T g = lambda (g - 2 r (r.g) + 2 e (q.g)).
    The gradient keeps its angle to z_q, rotated onto z.  The codebook gets nothing.

    Every norm we divide by is clamped at ``ROTATION_MIN_NORM`` = 1e-6, as in the reference
    implementations (vector-quantize-pytorch's ``safe_div``), so an encoder output of
    norm 0 or 1e-200 gets a finite gradient (at most ||z_q|| * 1e6 times g) instead of an
    overflow; norms above 1e-6 are unaffected.
    """
    z, z_q = ctx.saved_tensors
    z_norm = _clamped_norm(z)
    q_norm = _clamped_norm(z_q)
    e, q = z / z_norm, z_q / q_norm
    r = e + q
    r = r / _clamped_norm(r)   # e + q = 0 when z points exactly away from z_q: r = 0, a pure scaling
    rotated = g - 2 * r * (r * g).sum(axis=1, keepdims=True) + 2 * e * (q * g).sum(axis=1, keepdims=True)
    return (q_norm / z_norm) * rotated, None


class Quantize(Function):
    """z_q = codebook[indices]: each row of z replaced by its nearest code (found by ``nearest_code``).

    z: (N, D), codebook: (K, D), indices: (N,) -> z_q: (N, D).
    Rules: "zero" (the true gradient, default), "identity" (VQ-VAE straight-through),
    "rotation" (the rotation trick).
    """
    name = "quantize"
    rules = {"zero": _vq_zero, "identity": _vq_identity, "rotation": _vq_rotation}
    backward = staticmethod(_vq_zero)

    @staticmethod
    def forward(ctx, z, codebook, indices):
        z_q = codebook[indices]
        ctx.save_for_backward(z, z_q)
        ctx.indices, ctx.codebook_shape = indices, codebook.shape
        return z_q


def quantize(z, codebook, backward=None):
    """Snap every row of z (N, D) to its nearest codebook row (K, D); returns ``(z_q, indices)``.

    ``z_q`` is a Tensor (N, D), ``indices`` a NumPy int array (N,).  ``backward`` =
    "zero" (default), "identity" (straight-through) or "rotation" (rotation trick).
    """
    z, codebook = as_tensor(z), as_tensor(codebook)
    z_data, book = z.data, codebook.data
    if z_data.ndim != 2 or book.ndim != 2 or z_data.shape[1] != book.shape[1]:
        raise ValueError(f"quantize: expected z (N, D) and codebook (K, D), got {z_data.shape} and {book.shape}")
    indices = nearest_code(z_data, book)
    return Quantize.apply(z, codebook, backward=backward, indices=indices), indices
