"""The differentiable ops: forward and exact backward of each, side by side.

One section per family, in this order: arithmetic (``+ - * / **``, their forms with a constant,
pairwise max and min, matmul and einsum), elementwise functions (exp, log, tanh, the
activations gelu, silu, elu, ...), reductions (sum, mean, max, min, var, std, the cumulative
sum, prod; argmax, any and all, which have no gradient), losses (log-softmax, negative
log-likelihood, mean squared error, binary cross-entropy), shape and indexing (reshape and its
kin, transpose, broadcast, pad, indexing, concatenate, stack, where, flip, roll, tile, the
triangles, gather and scatter-add).  Convolution and
pooling are a family of their own, in ``convolution.py``.  The NumPy-level helpers the
ops share (axis normalisation, the stable sigmoid, ...) are in ``arrays.py``.

Notation: ``y`` is the op's output, ``g = dL/dy`` the gradient arriving from above (same
shape as y).  Each backward returns ``dL/dx`` for every input x, in input order, as the
chain rule says: ``dL/dx = g * dy/dx`` for elementwise ops.

Binary ops may broadcast (x of shape (3, 1) plus y of shape (4,) gives (3, 4)); their
backward returns gradients in the *output* shape and the engine sums them back to each
input's shape (``tensor.sum_to_shape``).  A backward may return ``None`` for an input
whose ``ctx.needs_input_grad`` is False, to skip work nobody asked for.

Ops that take an axis accept negative ones (-1 is the last axis), as NumPy does.  Each
converts them with :func:`normalize_axes` in forward and keeps the result on ctx, so
backward, which may see arrays of another rank, means the same axes.
"""
import numpy as np

from .arrays import (log_sigmoid_array, logsumexp_parts, normal_cdf_array, normalize_axes, reduction_axes,
                     rows_added, sigmoid_array, softmax_array, softmax_backward, softplus_array)
from .function import Function


# ------------------------------------------------------------------ arithmetic


class Add(Function):
    """y = a + b.  dL/da = g,  dL/db = g."""
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """y = a - b.  dL/da = g,  dL/db = -g."""
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, -g


class Mul(Function):
    """y = a * b.  dL/da = g * b,  dL/db = g * a."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    """y = a / b.  dL/da = g / b,  dL/db = -g * a / b^2."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g / b if need_a else None), (-g * a / (b * b) if need_b else None)


class Pow(Function):
    """y = a ** b.  dL/da = g * b * a^(b-1),  dL/db = g * y * ln(a)  (needs a > 0).

    Two limits are taken as PyTorch takes them: where b = 0, y = 1 is constant in a, so
    dL/da = 0 (even at a = 0, where a^(b-1) is infinite, and at a = +-inf, where
    b * a^(b-1) would be 0 * inf); where a = 0 and b >= 0, dL/db = 0 (y * ln(a) -> 0 as a -> 0+).
    """
    @staticmethod
    def forward(ctx, a, b):
        y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:   # where b = 0, b * 1^1 = 0 stands in for b * a^(b-1), which is 0 * inf at a = 0 or +-inf
            exponent_zero = b == 0
            grad_a = g * b * np.where(exponent_zero, 1, a) ** np.where(exponent_zero, 1, b - 1)
        if need_b:   # where a = 0 and b >= 0, y * ln(1) = 0 stands in for y * ln(0) = 0 * -inf
            grad_b = g * y * np.log(np.where((a == 0) & (b >= 0), 1, a))
        return grad_a, grad_b


class AddConstant(Function):
    """y = x + c (or c + x) for a Python number c.  dL/dx = g.

    Every arithmetic operator has a form with a constant: ``x + 1``, ``1 - x``, ``2 * x``,
    ``x / 2`` each make one of AddConstant, SubConstant, MulConstant, DivConstant, whichever
    side the number is on (``constant_first`` says it was on the left).  The number is a
    constant of the op, not an input Tensor of its own, so the graph gets one node fewer
    and the backward one edge fewer (PyTorch's ``add.Scalar`` does the same).
    """
    name = "add_constant"

    @staticmethod
    def forward(ctx, x, c, constant_first=False):
        return c + x if constant_first else x + c

    @staticmethod
    def backward(ctx, g):
        return g


class SubConstant(Function):
    """y = x - c, or y = c - x when ``constant_first``, for a Python number c.
    dL/dx = g, or -g for c - x.  See :class:`AddConstant` for the constant forms."""
    name = "sub_constant"

    @staticmethod
    def forward(ctx, x, c, constant_first=False):
        ctx.save_for_backward(constant_first)   # a flag, not an array: all the backward needs
        return c - x if constant_first else x - c

    @staticmethod
    def backward(ctx, g):
        constant_first, = ctx.saved_tensors
        return -g if constant_first else g


class MulConstant(Function):
    """y = x * c (or c * x) for a Python number c.  dL/dx = g * c.
    See :class:`AddConstant` for the constant forms."""
    name = "mul_constant"

    @staticmethod
    def forward(ctx, x, c, constant_first=False):
        ctx.save_for_backward(c)   # a number, not an array: all the backward needs
        return c * x if constant_first else x * c

    @staticmethod
    def backward(ctx, g):
        c, = ctx.saved_tensors
        return g * c


class DivConstant(Function):
    """y = x / c, or y = c / x when ``constant_first``, for a Python number c.
    dL/dx = g / c, or -g * c / x^2 for c / x.  See :class:`AddConstant` for the constant forms."""
    name = "div_constant"

    @staticmethod
    def forward(ctx, x, c, constant_first=False):
        ctx.save_for_backward(c, x, constant_first)
        return c / x if constant_first else x / c

    @staticmethod
    def backward(ctx, g):
        c, x, constant_first = ctx.saved_tensors
        return -g * c / (x * x) if constant_first else g / c


class Neg(Function):
    """y = -x.  dL/dx = -g."""
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Maximum(Function):
    """y = max(a, b) elementwise, a and b broadcast against each other.

    dL/da = g where a > b, dL/db = g where b > a.  Where a == b the two **share g equally**
    (g/2 each), the convention of ``Max``, ``torch.amax`` and ``torch.maximum``: then
    d max(x, x)/dx = 1, as central differences measure it.
    """
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share_of_a = (a > b) + 0.5 * (a == b)   # 1, 1/2 or 0 per element, broadcast shape
        return g * share_of_a, g * (1 - share_of_a)


class Minimum(Function):
    """y = min(a, b) elementwise = -max(-a, -b); ties share g equally, as in ``Maximum``.

    Computed through Maximum: -a > -b exactly where a < b, so Maximum's backward, run on
    what its forward saved, hands each side its share of g for the min as well.
    """
    @staticmethod
    def forward(ctx, a, b):
        return -Maximum.forward(ctx, -a, -b)

    backward = staticmethod(Maximum.backward)


class MatMul(Function):
    """y = a @ b, NumPy's matmul: 2-D, batched (..., n, k) @ (..., k, m), or with a 1-D side.

    For 2-D: dL/da = g @ b^T  (n, k),  dL/db = a^T @ g  (k, m).  Batched inputs use the
    same formulas on the last two axes; broadcast batch axes are summed by the engine.
    A 1-D a is a row vector (1, k) and a 1-D b a column vector (k, 1), as in NumPy.
    """
    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs at least 1-D operands; use * for scalars")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"shapes {a.shape} and {b.shape} do not line up: "
                             f"{a.shape[-1]} columns against {b.shape[-2 if b.ndim > 1 else 0]} rows")
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # Promote 1-D operands to matrices so one pair of formulas serves every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:   # the output lost b's column axis: put it back
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:   # ... and a's row axis
            g2 = np.expand_dims(g2, -2)
        grad_a = g2 @ b2.swapaxes(-1, -2) if ctx.needs_input_grad[0] else None
        grad_b = a2.swapaxes(-1, -2) @ g2 if ctx.needs_input_grad[1] else None
        if a.ndim == 1 and grad_a is not None:
            grad_a = grad_a[..., 0, :]
        if b.ndim == 1 and grad_b is not None:
            grad_b = grad_b[..., 0]
        return grad_a, grad_b


def _explicit_subscripts(subscripts, shapes):
    """Parse einsum ``subscripts`` into (one letter string per operand, output letters).

    The result spells every axis with a letter: ``...`` becomes spare letters for the
    broadcast axes (aligned from the right, as broadcasting is), and a missing ``->output``
    becomes NumPy's implicit one: the broadcast axes, then the letters used exactly once,
    in alphabetical (ASCII) order.  ``'...ij,jk'`` on shapes (5, 2, 3) and (3, 4) gives
    (['Aij', 'jk'], 'Aik').
    """
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"subscripts {subscripts!r} name {len(inputs)} operand(s), got {len(shapes)}")
    for term in inputs + [output]:
        named = term.replace("...", "", 1)
        if named and not (named.isascii() and named.isalpha()):
            raise ValueError(f"subscripts {subscripts!r}: use letters a-z, A-Z, commas, one '->' and "
                             "at most one '...' per operand")
    letters = set(subscripts) - set(",->.")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in letters]
    broadcast_ndims = []
    for i, (term, shape) in enumerate(zip(inputs, shapes)):
        named = len(term.replace("...", ""))
        if ("..." in term and named > len(shape)) or ("..." not in term and named != len(shape)):
            raise ValueError(f"operand {i} has shape {shape}, but its subscripts {term!r} name {named} axes")
        broadcast_ndims.append(len(shape) - named if "..." in term else 0)
    broadcast = "".join(spare[:max(broadcast_ndims, default=0)])
    if not arrow:
        used = "".join(inputs).replace("...", "")
        output = "..." + "".join(sorted(c for c in set(used) if used.count(c) == 1))
    elif any(broadcast_ndims) and "..." not in output:
        raise ValueError(f"subscripts {subscripts!r}: the operands have '...' axes, so the output needs '...' too")
    inputs = [term.replace("...", broadcast[len(broadcast) - k:]) for term, k in zip(inputs, broadcast_ndims)]
    lengths = {}   # letter -> (its length where not 1, the operand it has that length in)
    for i, (term, shape) in enumerate(zip(inputs, shapes)):
        for letter, n in zip(term, shape):
            if n == 1:   # broadcasts against any length
                continue
            seen, first = lengths.setdefault(letter, (n, i))
            if n != seen:
                axis = f"axis {letter!r}" if letter in letters else "a '...' axis"
                raise ValueError(f"subscripts {subscripts!r}: {axis} has length {seen} in operand {first} "
                                 f"but {n} in operand {i} (lengths must match, or be 1 to broadcast)")
    return inputs, output.replace("...", broadcast)


class Einsum(Function):
    """y = ``numpy.einsum(subscripts, *operands)``: sums of products named by index letters.

    ``'bij,bjk->bik'`` is a batched matmul, ``'bi,bj->bij'`` a batched outer product,
    ``'ij->ji'`` a transpose, ``'ii->'`` a trace.  Any number of operands; ``...`` stands for
    broadcast axes.

    Backward: y is linear in each operand, so dL/dx_i is the same kind of sum with x_i's
    place taken by g.  With letters written out: for y[out] = sum prod_j x_j[s_j],
    dL/dx_i[s_i] = einsum(out, s_j for j != i -> s_i)(g, x_j for j != i).  Two letters need
    care: a letter only x_i has (summed over, in no other operand nor the output) is not in
    that sum -- each of its elements got the same share of g, so the result is broadcast
    along it (so is an axis of length 1 elsewhere, broadcast against x_i); and a letter repeated in s_i (``'ii'``, a diagonal) is written back onto that
    diagonal of a zero array.
    """
    @staticmethod
    def forward(ctx, *operands, subscripts):
        inputs, output = _explicit_subscripts(subscripts, [x.shape for x in operands])
        ctx.save_for_backward(*operands)
        ctx.inputs, ctx.output = inputs, output
        return np.einsum(",".join(inputs) + "->" + output, *operands)

    @staticmethod
    def backward(ctx, g):
        operands, inputs, output = ctx.saved_tensors, ctx.inputs, ctx.output
        grads = []
        for i, (term, x) in enumerate(zip(inputs, operands)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [j for j in range(len(inputs)) if j != i]
            unique = "".join(dict.fromkeys(term))             # letters of x_i, each once, in order
            reachable = set(output).union(*(inputs[j] for j in others))
            kept = "".join(c for c in unique if c in reachable)
            grad = np.einsum(",".join([output] + [inputs[j] for j in others]) + "->" + kept,
                             g, *[operands[j] for j in others])
            # Letters only x_i has, and axes where the other operands had length 1 and were
            # broadcast against x_i: every element along them gets the same gradient.
            length = dict(zip(term, x.shape))
            grad = np.expand_dims(grad, tuple(k for k, c in enumerate(unique) if c not in reachable))
            grad = np.broadcast_to(grad, tuple(length[c] if n == 1 else n for c, n in zip(unique, grad.shape)))
            if len(unique) < len(term):   # a repeated letter: the gradient lives on the diagonal
                length = dict(zip(unique, grad.shape))
                full = np.zeros(tuple(length[c] for c in term), dtype=grad.dtype)
                np.einsum(term + "->" + unique, full)[...] = grad   # einsum returns a writable view here
                grad = full
            grads.append(grad)
        return tuple(grads)

# ------------------------------------------------------------------ elementwise


class Exp(Function):
    """y = e^x.  dL/dx = g * y."""
    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


class Log(Function):
    """y = ln x.  dL/dx = g / x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / x


class Log1p(Function):
    """y = ln(1 + x), accurate for tiny x (where 1 + x would round to 1).  dL/dx = g / (1 + x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (1 + x)


class Sqrt(Function):
    """y = sqrt(x).  dL/dx = g / (2 y)."""
    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g / (2 * y)


class Abs(Function):
    """y = |x|.  dL/dx = g * sign(x)  (0 at x = 0, the usual subgradient choice)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.sign(x)


class Cast(Function):
    """y = x converted to ``dtype`` (``x.to(dtype)``, ``x.float()``).  dL/dx = g, converted back
    to x's dtype by the engine.  Casting to an integer or boolean dtype carries no gradient: the
    Tensor method detaches first, as rounding to integers has none."""
    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


class Tanh(Function):
    """y = tanh x.  dL/dx = g * (1 - y^2), from the saved output: no second tanh.

    NumPy's own ``np.tanh`` is the fastest correct tanh it has (vectorised, as fast as
    PyTorch's here); writing it through exp is ten times slower and overflows.
    """
    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        # g * (1 - y * y), computed in place in one array: the plain form's three temporaries
        # cost 4.5% of a small MLP's training step (W1 in benchmarks/).
        dx = np.square(y, out=np.empty_like(y))   # (not y * y, which is a scalar for a 0-d y)
        np.subtract(1, dx, out=dx)
        dx *= g
        return dx


class Sigmoid(Function):
    """y = 1 / (1 + e^-x).  dL/dx = g * sigmoid(x) * sigmoid(-x)  (= g * y * (1 - y)).

    Both to full relative precision in both tails (``arrays.sigmoid_array``).  The gradient
    is written with sigmoid(-x) rather than 1 - y: for x above about 37, y rounds to 1.0 and
    1 - y to 0, while the true gradient e^-x is tiny but representable.  With e = e^-|x|,
    sigmoid(x) * sigmoid(-x) = e / (1 + e)^2 for either sign of x, so forward saves e.
    """
    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        ctx.save_for_backward(e)
        return np.exp(np.minimum(x, 0)) / (1 + e)   # arrays.sigmoid_array, keeping e for backward

    @staticmethod
    def backward(ctx, g):
        e, = ctx.saved_tensors
        return g * e / ((1 + e) * (1 + e))


class LogSigmoid(Function):
    """y = log sigmoid(x) = -log(1 + e^-x).  dL/dx = g * sigmoid(-x)  (= g * (1 - sigmoid(x))).

    The log-probability of a Bernoulli logit, so it must hold in both tails: -40 with
    gradient 1 at x = -40, where ``log(sigmoid(x))`` of a sigmoid rounded to 0 would be
    -inf.  Forward with ``arrays.log_sigmoid_array`` (-softplus(-x): no overflow, full relative
    precision); the gradient sigmoid(-x) is computed directly, not as 1 - sigmoid(x).
    """
    name = "logsigmoid"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return log_sigmoid_array(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * sigmoid_array(-x)


class Softplus(Function):
    """y = ln(1 + e^x), a smooth relu.  dL/dx = g * sigmoid(x).

    Computed as max(x, 0) + ln(1 + e^-|x|) (``arrays.softplus_array``): e^x never overflows
    (softplus(1000) = 1000) and tiny values keep their relative precision (softplus(-300) =
    e^-300 = 5.1e-131), and so does the gradient (``arrays.sigmoid_array``: sigmoid(-300) =
    5.1e-131, not 0).
    """
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return softplus_array(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * sigmoid_array(x)


class Relu(Function):
    """y = max(x, 0).  dL/dx = g * 1[x > 0]."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x > 0)


class Clip(Function):
    """y = min(max(x, lo), hi).  dL/dx = g * 1[lo <= x <= hi] (g at the corners too, as in PyTorch).

    Either bound may be None, for no bound on that side (not both); lo > hi is an error
    (PyTorch instead returns hi everywhere)."""
    @staticmethod
    def forward(ctx, x, lo, hi):
        if lo is None and hi is None:
            raise ValueError("clip needs at least one of lo and hi")
        ctx.lo = -np.inf if lo is None else lo
        ctx.hi = np.inf if hi is None else hi
        if ctx.lo > ctx.hi:
            raise ValueError(f"clip needs lo <= hi, got lo={lo}, hi={hi}")
        ctx.save_for_backward(x)
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x >= ctx.lo) & (x <= ctx.hi))


class Sin(Function):
    """y = sin x.  dL/dx = g * cos x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.cos(x)


class Cos(Function):
    """y = cos x.  dL/dx = -g * sin x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return -g * np.sin(x)

class Tan(Function):
    """y = tan x.  dL/dx = g * (1 + y^2)  (= g / cos^2 x), from the saved output."""
    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (1 + y * y)


class Atan(Function):
    """y = arctan x, in (-pi/2, pi/2).  dL/dx = g / (1 + x^2)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (1 + x * x)


class Sinh(Function):
    """y = sinh x = (e^x - e^-x) / 2.  dL/dx = g * cosh x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.cosh(x)


class Cosh(Function):
    """y = cosh x = (e^x + e^-x) / 2.  dL/dx = g * sinh x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.sinh(x)


_SQRT_2_OVER_PI = np.sqrt(2 / np.pi)


class Gelu(Function):
    """y = x * Phi(x), Phi the standard normal CDF: the GELU (Hendrycks & Gimpel 2016).

    ``approximate="none"`` (PyTorch's default): Phi(x) = (1 + erf(x / sqrt 2)) / 2 and
    dL/dx = g * (Phi(x) + x * phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi) the normal density.
    ``approximate="tanh"``: Phi(x) ~ (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3),
    and dL/dx is the derivative of that formula,
    g * ((1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2), t = tanh(u).
    """
    @staticmethod
    def forward(ctx, x, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
        return x * normal_cdf_array(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x))
        density = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        return g * (normal_cdf_array(x) + x * density)


class Silu(Function):
    """y = x * sigmoid(x), the SiLU or swish (Elfwing et al. 2018; Ramachandran et al. 2017).

    dL/dx = g * s (1 + x (1 - s)) with s = sigmoid(x), and 1 - s computed as sigmoid(-x): for
    large x, 1 - s would keep only the digits of s that survived rounding to near 1."""
    @staticmethod
    def forward(ctx, x):
        s = sigmoid_array(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * s * (1 + x * sigmoid_array(-x))


class Elu(Function):
    """y = x for x > 0, alpha (e^x - 1) otherwise (Clevert et al. 2016).

    dL/dx = g for x > 0, g * alpha e^x otherwise: e^x itself, not y + alpha, which would
    cancel to 0 in the far tail where e^x is tiny but representable (e^-40 = 4.2e-18)."""
    @staticmethod
    def forward(ctx, x, alpha=1.0):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.where(x > 0, 1, ctx.alpha * np.exp(np.minimum(x, 0)))


class LeakyRelu(Function):
    """y = x for x > 0, negative_slope * x otherwise (Maas et al. 2013).

    dL/dx = g for x > 0, g * negative_slope otherwise (at 0 too, as in PyTorch)."""
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, negative_slope * x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.where(x > 0, 1, ctx.negative_slope)


class Hardtanh(Function):
    """y = clip(x, min_val, max_val), by default to [-1, 1].

    dL/dx = g strictly inside (min_val, max_val), 0 outside and at the two corners, as in
    PyTorch (``clip``'s gradient, like ``torch.clamp``'s, is g at the corners too).
    This is the "clipped" straight-through rule of ``discrete.py`` made an op of its own."""
    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        if min_val > max_val:
            raise ValueError(f"needs min_val <= max_val, got {min_val} and {max_val}")
        ctx.save_for_backward(x)
        ctx.min_val, ctx.max_val = min_val, max_val
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x > ctx.min_val) & (x < ctx.max_val))


class Softsign(Function):
    """y = x / (1 + |x|), a tanh-like squashing with polynomial tails.  dL/dx = g / (1 + |x|)^2."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (1 + np.abs(x)) ** 2


# ------------------------------------------------------------------ reductions


def _restore_reduced_axes(g, ndim, axis, keepdims):
    """Give a reduction's gradient back the axes it removed, as length-1 axes,
    so it broadcasts against the reduction's input."""
    if axis is None:
        return g.reshape((1,) * ndim)
    return g if keepdims else np.expand_dims(g, axis)


class Sum(Function):
    """y = sum of x over ``axis`` (None: all axes).  dL/dx = g, copied to every summed element."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axis = reduction_axes(axis, x.ndim)
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        g = _restore_reduced_axes(g, len(ctx.shape), ctx.axis, ctx.keepdims)
        return np.broadcast_to(g, ctx.shape)


class Mean(Function):
    """y = mean of x over ``axis``.  dL/dx = g / n, n the number of elements averaged."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axis = reduction_axes(axis, x.ndim)
        y = x.mean(axis=axis, keepdims=keepdims)
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.count = x.size // max(np.size(y), 1) if x.size else 1
        return y

    @staticmethod
    def backward(ctx, g):
        g = _restore_reduced_axes(g, len(ctx.shape), ctx.axis, ctx.keepdims)
        return np.broadcast_to(g / ctx.count, ctx.shape)


class Max(Function):
    """y = max of x over ``axis``.

    dL/dx = g where x equals the max, 0 elsewhere; ties share g equally (so the sum of
    the gradient is g whichever element NumPy would call the argmax).  As in NumPy, an
    empty tensor has a max only over non-empty axes: (0, 3) over axis 1 gives shape (0,).
    """
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axis = reduction_axes(axis, x.ndim)
        if any(x.shape[a] == 0 for a in (range(x.ndim) if axis is None else axis)):
            raise ValueError("there is no value over an axis of length 0")   # min, which reuses this, too
        y = x.max(axis=axis, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        return y if keepdims else (y.reshape(()) if axis is None else np.squeeze(y, axis=axis))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        is_max = x == y
        g = _restore_reduced_axes(g, x.ndim, ctx.axis, ctx.keepdims)
        return g * is_max / is_max.sum(axis=ctx.axis, keepdims=True)


class Min(Function):
    """y = min of x over ``axis`` = -max(-x).  dL/dx = g where x equals the min, 0 elsewhere;
    ties share g equally, exactly as in ``Max`` (whose forward and backward it reuses:
    the elements of -x tied for its max are those of x tied for its min)."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return -Max.forward(ctx, -x, axis=axis, keepdims=keepdims)

    backward = staticmethod(Max.backward)


class Var(Function):
    """y = sum((x - mean x)^2) / (n - ddof) over ``axis``, n the number of elements reduced.

    ``ddof=0`` (NumPy's default) is the population variance, ``ddof=1`` the unbiased sample
    variance (PyTorch's default).  dL/dx = g * 2 (x - mean x) / (n - ddof): the mean moves
    with x too, but its contribution is g * 2 sum(x - mean x) / ... = 0.
    """
    @staticmethod
    def forward(ctx, x, axis=None, ddof=0, keepdims=False):
        axis = reduction_axes(axis, x.ndim)
        count = x.size if axis is None else int(np.prod([x.shape[a] for a in axis]))
        if count - ddof <= 0:
            raise ValueError(f"needs more than ddof={ddof} elements per reduction, got {count}")
        centred = x - x.mean(axis=axis, keepdims=True)
        ctx.save_for_backward(centred)
        ctx.axis, ctx.keepdims, ctx.divisor = axis, keepdims, count - ddof
        return (centred * centred).sum(axis=axis, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, g):
        centred = ctx.saved_tensors[0]
        g = _restore_reduced_axes(g, centred.ndim, ctx.axis, ctx.keepdims)
        return g * (2 / ctx.divisor) * centred


class Std(Var):
    """y = sqrt(var x) over ``axis`` (``ddof`` as in ``Var``).

    dL/dx = g / (2 y) * dvar/dx = g (x - mean x) / ((n - ddof) y).  Where y = 0 (all the
    reduced elements equal) the std is not differentiable, like |x| at 0, and the gradient
    is 0 there, as in PyTorch.
    """
    @staticmethod
    def forward(ctx, x, axis=None, ddof=0, keepdims=False):
        y = np.sqrt(Var.forward(ctx, x, axis=axis, ddof=ddof, keepdims=keepdims))
        ctx.save_for_backward(*ctx.saved_tensors, y)
        return y

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved_tensors[1]
        half_over_y = np.divide(0.5, y, out=np.zeros_like(y), where=y > 0)   # dsqrt(v)/dv = 1 / (2 sqrt v)
        return Var.backward(ctx, g * half_over_y)


class Cumsum(Function):
    """y_i = x_0 + x_1 + ... + x_i along ``axis`` (None: over the flattened x, as NumPy does).

    x_j feeds every y_i with i >= j, so dL/dx_j = g_j + g_{j+1} + ... + g_last: the cumulative
    sum of g taken from the far end (flip, cumsum, flip back).
    A 0-d x along axis 0 (or -1) is its own running sum, shape (), as in PyTorch.
    """
    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.shape = x.shape
        if axis is not None:
            axis = reduction_axes(axis, x.ndim)
            if axis is None:   # a 0-d x
                return x.copy()
            axis, = axis
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g
        axis = 0 if ctx.axis is None else ctx.axis
        return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis).reshape(ctx.shape)


def _products_of_the_others(x, axis):
    """For every element x_i, the product of the other elements of its reduction (over ``axis``,
    a tuple, or None: all), without dividing by x_i, so zeros are exact: the product of what
    comes before x_i times the product of what comes after (two running products)."""
    axes = tuple(range(x.ndim)) if axis is None else axis
    ends = tuple(range(x.ndim - len(axes), x.ndim))
    moved = np.moveaxis(x, axes, ends)
    flat = moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,))
    if flat.shape[-1] == 0:
        return np.zeros_like(x)
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis((before * after).reshape(moved.shape), ends, axes)


class Prod(Function):
    """y = product of x over ``axis`` (None: all).  dL/dx_i = g * (product of the other elements).

    Not g * y / x_i, which is 0 / 0 where x_i = 0: with one zero in a product, only that
    element's gradient is nonzero (the product of the others); with two, every gradient is 0.
    """
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axis = reduction_axes(axis, x.ndim)
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdims = axis, keepdims
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        g = _restore_reduced_axes(g, x.ndim, ctx.axis, ctx.keepdims)
        return g * _products_of_the_others(x, ctx.axis)


def _position_of(find, x, axis, keepdims):
    """``find`` (np.argmax or np.argmin) over ``axis`` as int64; a 0-d x counts as 1-d, as in PyTorch."""
    if x.ndim == 0:
        normalize_axes(0 if axis is None else axis, 1)
        return np.zeros((), dtype=np.int64)
    if axis is not None:
        axis, = normalize_axes(axis, x.ndim)
    return find(x, axis=axis, keepdims=keepdims).astype(np.int64)


class ArgMax(Function):
    """Position of the largest element over ``axis`` (None: of the flattened x), int64.
    No gradient: positions are integers.  The first of tied elements wins, as in NumPy and PyTorch."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _position_of(np.argmax, x, axis, keepdims)


class ArgMin(Function):
    """Position of the smallest element over ``axis``, as ``ArgMax`` (first of ties; no gradient)."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _position_of(np.argmin, x, axis, keepdims)


class Any(Function):
    """True where any element over ``axis`` is nonzero (a boolean array; no gradient)."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return np.any(x, axis=reduction_axes(axis, x.ndim), keepdims=keepdims)


class All(Function):
    """True where every element over ``axis`` is nonzero (a boolean array; no gradient)."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return np.all(x, axis=reduction_axes(axis, x.ndim), keepdims=keepdims)


# ------------------------------------------------------------------ losses


class LogSoftmax(Function):
    """y = log softmax(x) = x - log sum_j exp(x_j) along ``axis``: log-probabilities.

    Forward with ``arrays.logsumexp_parts``: with m = max(x), y = (x - m) - log1p(sum of the
    other e^(x_j - m)), no exponent above 0 and a dominant class's tiny log-probability kept
    to full relative precision.  Backward, with p = softmax(x) = e^y:
    dL/dx_i = g_i - p_i * sum_j g_j.

    One op rather than the seven it is made of (max, -, exp, sum, log, +, -): every op
    records a node and allocates a temporary, and in a small classifier those seven cost
    more than the matmuls.  ``functional.logsumexp`` is the op below.

    A row of all -inf has no softmax (0 / 0): its result is NaN, as in PyTorch.  A row
    with at least one finite entry is fine (-inf entries get log-probability -inf).
    """
    @staticmethod
    def forward(ctx, x, axis=-1):
        vector = x.reshape(x.shape or (1,))   # a 0-d x counts as 1-d: its one element has log-probability 0
        axis, = normalize_axes(axis, vector.ndim)
        _, shifted, r = logsumexp_parts(vector, axis)
        y = (shifted - r).reshape(x.shape)
        axis = axis if x.ndim else None
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g - np.exp(y) * g.sum(axis=ctx.axis, keepdims=True)


class LogSumExp(Function):
    """y = log sum exp(x) over ``axis`` (an int, a tuple or list of ints, or None: all).
    dL/dx = g * softmax(x) = g * e^(x - y), the softmax over the same axes.

    Forward with ``arrays.logsumexp_parts`` on the axes gathered into one: no overflow, and
    full relative precision for a tiny result (log(1 + e^-50) = 1.9e-22, not 0).  Backward
    keeps y as its two parts m + r and forms e^(x - m) / e^r, in which x - m is exact: e^(x - y)
    would carry the rounding of a large y (700) into every digit of a small probability.
    """
    @staticmethod
    def forward(ctx, x, axis=-1, keepdims=False):
        axes = reduction_axes(axis, x.ndim) or tuple(range(x.ndim))   # a 0-d x: axis 0 or -1, its one element
        moved = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim))
        m, _, r = logsumexp_parts(moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,)), -1)
        m, r = np.expand_dims(m[..., 0], axes), np.expand_dims(r[..., 0], axes)   # keepdims shapes
        ctx.save_for_backward(x, m, r)
        y = m + r
        return y if keepdims else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, g):
        x, m, r = ctx.saved_tensors
        with np.errstate(invalid="ignore"):   # -inf - -inf where every entry is -inf: no gradient there
            p = np.exp(x - m) / np.exp(r)
        return np.where(np.isneginf(r), 0, p) * g.reshape(m.shape)


class Softmax(Function):
    """y = softmax(x) = e^(x - m) / sum_j e^(x_j - m) along ``axis``, m = max(x).
    dL/dx_i = y_i * (g_i - sum_j g_j y_j)  (the Jacobian diag(y) - y y^T applied to g).

    Its own op, not e^(log softmax): x - m is exact, so a tiny probability keeps full relative
    precision (9.0e-36 for a margin of 80), where e^(log p) carries the rounding of log p
    (about 1e-14 at log p = -80) into every digit.
    """
    @staticmethod
    def forward(ctx, x, axis=-1):
        vector = x.reshape(x.shape or (1,))   # a 0-d x counts as 1-d: its softmax is 1
        axis, = normalize_axes(axis, vector.ndim)
        y = softmax_array(vector, axis=axis).reshape(x.shape)
        ctx.axis = axis if x.ndim else None
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return softmax_backward(y, g, axis=ctx.axis)


class NLLLoss(Function):
    """Negative log-likelihood of integer targets, classes on the last axis (PyTorch's nll_loss).

    ``log_probs`` (..., C), ``target`` (...) integers in [0, C): cost[i] = -log_probs[i, target[i]]
    for every item i, then their mean (``reduction="mean"``), their sum ("sum"), or the costs
    themselves ("none", shape (...)).  dL/dlog_probs is zero except at each item's target
    class, where it is -g / N (mean over N items), -g (sum) or -g[i] (none): only the picked
    log-probability moved the cost.

    One op, as in PyTorch, rather than the three it is made of (index, negate, mean): in a
    small classifier each op's bookkeeping costs about as much as its arithmetic.
    """
    name = "nll_loss"

    @staticmethod
    def forward(ctx, log_probs, target, reduction="mean"):
        # Item i picks class target[i] of its own row: each leading axis is indexed by its own
        # positions (np.indices), the last one by the target.  No place is picked twice.
        ctx.picked = np.indices(target.shape, sparse=True) + (target,)
        ctx.shape, ctx.reduction, ctx.count = log_probs.shape, reduction, max(target.size, 1)
        costs = -log_probs[ctx.picked]
        if reduction == "none":
            return costs
        return costs.sum() if reduction == "sum" else costs.mean()

    @staticmethod
    def backward(ctx, g):
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        dx[ctx.picked] = -g / ctx.count if ctx.reduction == "mean" else -g
        return dx


class MSELoss(Function):
    """Mean squared error L = (1/n) sum (a - b)^2 over all n elements of a and b (same shape).

    dL/da = 2 (a - b) g / n,  dL/db = -dL/da.  One op (PyTorch's mse_loss), not the three of
    subtract, square and mean, for the reason given in :class:`NLLLoss`.
    """
    name = "mse_loss"

    @staticmethod
    def forward(ctx, a, b):
        diff = a - b
        ctx.save_for_backward(diff)
        return np.mean(diff * diff)

    @staticmethod
    def backward(ctx, g):
        diff, = ctx.saved_tensors
        grad_a = diff * (2 * g / max(diff.size, 1))
        need_a, need_b = ctx.needs_input_grad
        return (grad_a if need_a else None), (-grad_a if need_b else None)

_LOG_FLOOR = -100.0   # PyTorch's clamp of log p in binary_cross_entropy, so p = 0 costs 100, not inf


class BinaryCrossEntropy(Function):
    """cost = -(t log p + (1 - t) log(1 - p)) for each element: p a probability in [0, 1], t the
    target (usually 0 or 1).  As in PyTorch, each log is clamped at -100, so a confident wrong
    p costs at most 100.  The costs, elementwise; ``functional.binary_cross_entropy`` reduces.

    dL/dp = g (p - t) / (p (1 - p)), with p (1 - p) floored at 1e-12 (PyTorch's epsilon), so p
    at 0 or 1 gives a large finite gradient; dL/dt = g (log(1 - p) - log p), clamped logs.
    Prefer ``binary_cross_entropy_with_logits`` on logits: it needs no clamp at all.
    """
    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, p, t):
        if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1):
            raise ValueError(f"input must be probabilities in [0, 1], got {np.nanmin(p):.4g}..{np.nanmax(p):.4g}")
        with np.errstate(divide="ignore"):   # log 0 = -inf, clamped just below
            log_p = np.maximum(np.log(p), _LOG_FLOOR)
            log_not_p = np.maximum(np.log1p(-p), _LOG_FLOOR)
        ctx.save_for_backward(p, t, log_p, log_not_p)
        return -(t * log_p + (1 - t) * log_not_p)

    @staticmethod
    def backward(ctx, g):
        p, t, log_p, log_not_p = ctx.saved_tensors
        need_p, need_t = ctx.needs_input_grad
        grad_p = g * (p - t) / np.maximum(p * (1 - p), 1e-12) if need_p else None
        return grad_p, (g * (log_not_p - log_p) if need_t else None)


# ------------------------------------------------------------------ shape and indexing


class Reshape(Function):
    """y = x viewed with another shape (same elements, same order).  dL/dx = g reshaped back."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


# squeeze, unsqueeze and flatten only change the shape: each is a Reshape (whose backward,
# g.reshape(x.shape), they inherit) with its own forward, so a graph names the op you called.


class Squeeze(Reshape):
    """Drop axes of length 1: all of them (``axis=None``) or those named in ``axis``.

    As in PyTorch, a named axis whose length is not 1 is left alone (NumPy would raise).
    """
    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.shape = x.shape
        axes = range(x.ndim) if axis is None else (reduction_axes(axis, x.ndim) or ())
        dropped = {a for a in axes if x.shape[a] == 1}
        return x.reshape(tuple(n for a, n in enumerate(x.shape) if a not in dropped))


class Unsqueeze(Reshape):
    """Insert an axis of length 1 at position ``axis`` of the output, in [-ndim - 1, ndim]:
    for x of shape (3, 4), axis 0 gives (1, 3, 4) and axis -1 gives (3, 4, 1)."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.shape = x.shape
        return np.expand_dims(x, normalize_axes(axis, x.ndim + 1))


class Flatten(Reshape):
    """Merge the axes ``start_dim`` .. ``end_dim`` (both included) into one, as ``torch.flatten``:
    (2, 3, 4) gives (24,) by default, (2, 12) with start_dim=1, (6, 4) with end_dim=-2.
    A 0-d x becomes shape (1,)."""
    @staticmethod
    def forward(ctx, x, start_dim=0, end_dim=-1):
        ctx.shape = x.shape
        ndim = max(x.ndim, 1)   # a 0-d x counts as 1-d, as in PyTorch
        (start,), (end,) = normalize_axes(start_dim, ndim), normalize_axes(end_dim, ndim)
        if start > end:
            raise ValueError(f"start_dim {start_dim} comes after end_dim {end_dim}")
        merged = int(np.prod(x.shape[start:end + 1]))   # not -1: NumPy cannot infer it when a length is 0
        return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])


class Transpose(Function):
    """y = x with axes permuted (``axes=None`` reverses them).  dL/dx = g with the inverse permutation."""
    @staticmethod
    def forward(ctx, x, axes=None):
        axes = normalize_axes(axes, x.ndim)
        if axes is not None and len(axes) != x.ndim:
            raise ValueError(f"axes {axes} are not a permutation of the {x.ndim} axes of the input")
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, None if ctx.axes is None else np.argsort(ctx.axes))


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` by NumPy's rules (PyTorch's ``expand``): axes are matched
    from the end, an axis of length 1 is repeated, missing leading axes are added.  A -1
    in ``shape`` keeps that axis of x.  y is a read-only view: no element is copied.

    Every element of y is a copy of one element of x, so dL/dx = g summed over the copies.
    That is exactly what the engine does for every broadcasting op (``tensor.sum_to_shape``),
    so the backward returns g as it is.
    """
    name = "broadcast_to"

    @staticmethod
    def forward(ctx, x, shape):
        shape = tuple(shape)
        new_axes = len(shape) - x.ndim
        if new_axes < 0:
            raise ValueError(f"cannot broadcast to {shape}: it has fewer dimensions than the tensor")
        if -1 in shape[:new_axes]:
            raise ValueError(f"-1 in {shape} names a new leading axis, which has no length to keep")
        shape = tuple(x.shape[i - new_axes] if n == -1 else n for i, n in enumerate(shape))
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"cannot broadcast shape {x.shape} to {shape}: each axis must match "
                             "or have length 1 in the tensor") from None

    @staticmethod
    def backward(ctx, g):
        return g


class Pad(Function):
    """y = x surrounded by the constant ``value``: ``pad_width[i] = (before_i, after_i)``
    elements are added before and after axis i.

    ``pad_width`` as in ``numpy.pad``: an int (that many on both sides of every axis), a
    pair (before, after) for every axis, or one pair per axis.  (PyTorch's ``F.pad`` lists
    the pairs flat and from the last axis; here they are NumPy's, first axis first.)
    For x of shape (2, 3), ``pad_width=((1, 0), (2, 2))`` gives shape (3, 7).

    The padding is constant, so only the inner block depends on x: dL/dx = g with the
    padding cut off.
    """
    @staticmethod
    def forward(ctx, x, pad_width, value=0.0):
        if x.ndim == 0:
            raise ValueError("a 0-d tensor has no axes to pad")
        widths = np.asarray(pad_width)
        if widths.dtype.kind not in "iu" or widths.size == 0 or np.any(widths < 0):
            raise ValueError(f"pad_width must hold non-negative integers, got {pad_width!r}")
        try:
            widths = np.broadcast_to(widths, (x.ndim, 2))
        except ValueError:
            raise ValueError(f"pad_width {pad_width!r} does not fit {x.ndim} dimensions: give an int, "
                             "a pair (before, after), or one pair per axis") from None
        ctx.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.inner]


def _is_basic_index(index):
    """Integers, slices, None and ``...`` select each element at most once (NumPy 'basic' indexing)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis))) for p in parts)


class GetItem(Function):
    """y = x[index].  dL/dx = zeros with g scattered back to the selected places.

    With integer-array indices an element can be selected twice (``x[[0, 0]]``); its
    gradient is then the sum of both, which ``np.add.at`` accumulates (plain
    ``dx[index] += g`` would keep only one of them).
    """
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        index = ctx.index
        if type(index) is np.ndarray and index.ndim == 1 and index.dtype.kind in "iu":
            return rows_added(ctx.shape, index, g)   # a row lookup (embeddings, codebooks): the common case
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic_index(index):
            dx[index] = g
        else:
            np.add.at(dx, index, g)
        return dx


class Concatenate(Function):
    """y = the inputs joined along an existing ``axis``.  Each input gets its slice of g."""
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        if not arrays:
            raise ValueError("needs at least one tensor")
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("0-d tensors cannot be concatenated (they have no axis to join along); "
                             "use stack to join them along a new axis")
        axis, = normalize_axes(axis, arrays[0].ndim)
        ctx.axis = axis
        ctx.boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.split(g, ctx.boundaries, axis=ctx.axis))


class Stack(Function):
    """y = the inputs stacked along a new ``axis``.  Input i gets g indexed at position i of that axis."""
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        if not arrays:
            raise ValueError("needs at least one tensor")
        axis, = normalize_axes(axis, arrays[0].ndim + 1)   # an axis of the output, which has one more
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.moveaxis(g, ctx.axis, 0))


class Where(Function):
    """y = a where condition else b (all three broadcast).  dL/da = g * cond,  dL/db = g * (1 - cond)."""
    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        zero = np.zeros((), dtype=g.dtype)
        return np.where(ctx.condition, g, zero), np.where(ctx.condition, zero, g)


class Flip(Function):
    """y = x reversed along ``axis`` (an int, a tuple, or None: every axis).  dL/dx = g flipped back."""
    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.axis = normalize_axes(axis, x.ndim)
        return np.flip(x, ctx.axis)

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.axis)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``axis`` (None: the flattened x, then the
    shape restored), as ``np.roll`` and ``torch.roll``.  dL/dx = g rolled back by -shifts."""
    @staticmethod
    def forward(ctx, x, shifts, axis=None):
        axis = normalize_axes(axis, x.ndim)
        if axis is not None and np.ndim(shifts) and len(shifts) != len(axis):
            raise ValueError(f"{len(shifts)} shifts for {len(axis)} axes")
        ctx.shifts, ctx.axis = shifts, axis
        return np.roll(x, shifts, axis)

    @staticmethod
    def backward(ctx, g):
        return np.roll(g, np.negative(ctx.shifts), ctx.axis)


class Tile(Function):
    """y = x repeated ``reps[i]`` times along axis i (``np.tile``; PyTorch's ``repeat``).  With
    more reps than axes, x gets leading axes of length 1 first: (2, 3) tiled (2, 1, 2) is (2, 2, 6).

    Each x element has r_0 * r_1 * ... copies; dL/dx sums g over them: seen as
    (r_0, n_0, r_1, n_1, ...), g is summed over the r axes.
    """
    @staticmethod
    def forward(ctx, x, reps):
        reps = tuple(reps)
        if any(not isinstance(r, (int, np.integer)) or r < 0 for r in reps):
            raise ValueError(f"repetitions must be non-negative integers, got {reps}")
        ctx.shape = x.shape
        ctx.reps = (1,) * (x.ndim - len(reps)) + reps
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, g):
        lengths = (1,) * (len(ctx.reps) - len(ctx.shape)) + ctx.shape
        interleaved = [n for pair in zip(ctx.reps, lengths) for n in pair]
        return g.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(lengths), 2))).reshape(ctx.shape)


class Tril(Function):
    """y = the lower triangle of x (the last two axes): x[..., i, j] where j <= i + k, else 0.
    dL/dx = the lower triangle of g.  k > 0 keeps diagonals above the main one, k < 0 drops some."""
    @staticmethod
    def forward(ctx, x, k=0):
        if x.ndim < 2:
            raise ValueError("needs at least 2 axes (the last two are the matrix)")
        ctx.k = k
        return np.tril(x, k)

    @staticmethod
    def backward(ctx, g):
        return np.tril(g, ctx.k)


class Triu(Function):
    """y = the upper triangle of x (the last two axes): x[..., i, j] where j >= i + k, else 0.
    dL/dx = the upper triangle of g."""
    @staticmethod
    def forward(ctx, x, k=0):
        if x.ndim < 2:
            raise ValueError("needs at least 2 axes (the last two are the matrix)")
        ctx.k = k
        return np.triu(x, k)

    @staticmethod
    def backward(ctx, g):
        return np.triu(g, ctx.k)



def _gather_positions(index, axis):
    """The full NumPy index that picks ``x[i_0, ..., index[i], ..., i_last]`` for every position i of
    ``index``: each axis indexed by its own positions (np.indices), ``axis`` by ``index``."""
    positions = list(np.indices(index.shape, sparse=True))
    positions[axis] = index
    return tuple(positions)


def _check_gather_index(x_shape, index, axis, source_shape=None):
    """Shared checks of gather and scatter_add, as in PyTorch: an integer ``index`` with as many
    axes as x, no longer than x on the other axes (nor than the source, for scatter_add), and
    positions within x's ``axis``.  Returns ``axis`` normalized."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"index must hold integers, got dtype {index.dtype}")
    axis, = normalize_axes(axis, len(x_shape))
    limits = [(x_shape, "the input")] + ([] if source_shape is None else [(source_shape, "the source")])
    if index.ndim != len(x_shape) or any(len(shape) != index.ndim for shape, _ in limits):
        raise ValueError(f"index of shape {index.shape} must have as many axes as the input {x_shape}"
                         + ("" if source_shape is None else f" and the source {source_shape}"))
    for shape, what in limits:
        for a, (n_index, n) in enumerate(zip(index.shape, shape)):
            if n_index > n and (a != axis or what == "the source"):
                raise ValueError(f"index of shape {index.shape} is longer than {what} {shape} on axis {a}")
    if index.size and (index.min() < -x_shape[axis] or index.max() >= x_shape[axis]):
        raise ValueError(f"index values must lie in [{-x_shape[axis]}, {x_shape[axis]}) for axis {axis} of "
                         f"length {x_shape[axis]}, got {index.min()}..{index.max()}")
    return axis


class Gather(Function):
    """y[i] = x[i with its ``axis`` coordinate replaced by index[i]] (PyTorch's ``gather``).

    ``index`` has as many axes as x and y has its shape; along the other axes index may be
    shorter than x (it then reads the leading part).  For a 2-D x and axis 1,
    y[r, c] = x[r, index[r, c]].  dL/dx: g added back at the places read, with
    ``np.add.at``, so a place read twice gets both contributions.

    ``sort``, ``topk`` and ``cummax`` are gathers: each computes which positions to read
    (no gradient in that choice) and the values carry g back to those positions.
    """
    @staticmethod
    def forward(ctx, x, axis, index):
        axis = _check_gather_index(x.shape, index, axis)
        ctx.shape, ctx.positions = x.shape, _gather_positions(index, axis)
        return x[ctx.positions]

    @staticmethod
    def backward(ctx, g):
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(dx, ctx.positions, g)
        return dx


class ScatterAdd(Function):
    """y = x, then y[i with its ``axis`` coordinate replaced by index[i]] += source[i] for every
    position i of ``index`` (PyTorch's ``scatter_add``; an "index add").

    dL/dx = g (x passes through unchanged); dL/dsource[i] = g at the place source[i] was added
    to (a gather of g), 0 where source is longer than index.
    """
    name = "scatter_add"

    @staticmethod
    def forward(ctx, x, source, axis, index):
        axis = _check_gather_index(x.shape, index, axis, source.shape)
        ctx.positions, ctx.source_shape = _gather_positions(index, axis), source.shape
        ctx.read = tuple(slice(0, n) for n in index.shape)
        y = np.array(x, dtype=np.result_type(x, source))
        np.add.at(y, ctx.positions, source[ctx.read])
        return y

    @staticmethod
    def backward(ctx, g):
        grad_source = None
        if ctx.needs_input_grad[1]:
            grad_source = np.zeros(ctx.source_shape, dtype=g.dtype)
            grad_source[ctx.read] = g[ctx.positions]
        return g, grad_source
