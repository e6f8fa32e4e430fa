"""The differentiable ops: forward and exact backward of each, side by side.

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

from .function import Function


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
    dL/da = 0 (even at a = 0, where a^(b-1) is infinite); where a = 0 and b >= 0,
    dL/db = 0 (y * ln(a) -> 0 as a -> 0+).
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
        if need_a:   # where b = 0, b * a^1 = 0 stands in for b * a^(b-1), which is 0 * inf at a = 0
            grad_a = g * b * a ** np.where(b == 0, 1, b - 1)
        if need_b:   # where a = 0 and b >= 0, y * ln(1) = 0 stands in for y * ln(0) = 0 * -inf
            grad_b = g * y * np.log(np.where((a == 0) & (b >= 0), 1, a))
        return grad_a, grad_b


class AddConstant(Function):
    """y = x + c for a Python number c.  dL/dx = g.

    ``x + 0.5`` and ``x - 0.5`` (as x + (-0.5)) come here: the number is a constant of
    this op, not an input Tensor of its own, so the graph gets one node fewer and the
    backward one edge fewer (PyTorch's ``add.Scalar`` does the same).
    """
    name = "add_constant"

    @staticmethod
    def forward(ctx, x, c):
        return x + c

    @staticmethod
    def backward(ctx, g):
        return g


class MulConstant(Function):
    """y = c * x for a Python number c.  dL/dx = c * g.

    ``x * 0.9`` and ``0.9 * x`` come here, for the reason given in :class:`AddConstant`.
    """
    name = "mul_constant"

    @staticmethod
    def forward(ctx, x, c):
        ctx.save_for_backward(c)   # a number, not an array: all the backward needs
        return x * c

    @staticmethod
    def backward(ctx, g):
        c, = ctx.saved_tensors
        return g * c


class Neg(Function):
    """y = -x.  dL/dx = -g."""
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


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
        grad_a = g2 @ np.swapaxes(b2, -1, -2) if ctx.needs_input_grad[0] else None
        grad_b = np.swapaxes(a2, -1, -2) @ g2 if ctx.needs_input_grad[1] else None
        if a.ndim == 1 and grad_a is not None:
            grad_a = grad_a[..., 0, :]
        if b.ndim == 1 and grad_b is not None:
            grad_b = grad_b[..., 0]
        return grad_a, grad_b


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
        axis = normalize_axes(axis, x.ndim)
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
        axis = normalize_axes(axis, x.ndim)
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
        axis = normalize_axes(axis, x.ndim)
        if any(x.shape[a] == 0 for a in (range(x.ndim) if axis is None else axis)):
            raise ValueError("max over an axis of length 0 has no value")
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


class LogSoftmax(Function):
    """y = log softmax(x) = x - log sum_j exp(x_j) along ``axis``: log-probabilities.

    Forward, stable for large x: with m = max(x), log sum exp(x) = m + log sum exp(x - m),
    and no exponent is above 0.  Backward, with p = softmax(x) = e^y:
    dL/dx_i = g_i - p_i * sum_j g_j.

    One op rather than the seven it is made of (max, -, exp, sum, log, +, -): every op
    records a node and allocates a temporary, and in a small classifier those seven cost
    more than the matmuls.  ``functional.logsumexp`` keeps the composed form to read.

    A row of all -inf has no softmax (0 / 0): its result is NaN, as in PyTorch.  A row
    with at least one finite entry is fine (-inf entries get log-probability -inf).
    """
    @staticmethod
    def forward(ctx, x, axis=-1):
        axis, = normalize_axes(axis, x.ndim)
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g - np.exp(y) * g.sum(axis=ctx.axis, keepdims=True)


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
        dx = np.empty_like(y)        # g * (1 - y^2) built in one array: no temporaries
        np.square(y, out=dx)
        np.subtract(1, dx, out=dx)
        dx *= g
        return dx


def sigmoid_array(x):
    """1 / (1 + e^-x) on a NumPy array, computed as (1 + tanh(x / 2)) / 2: the same
    function, but e^-x overflows for x below about -709 while tanh never does."""
    return 0.5 * (1 + np.tanh(0.5 * x))


class Sigmoid(Function):
    """y = 1 / (1 + e^-x).  dL/dx = g * y * (1 - y)."""
    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        dx = 1 - y                   # 1 - y, then y * (1 - y), then g * y * (1 - y), in one array
        dx *= y
        dx *= g
        return dx


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
    """y = min(max(x, lo), hi).  dL/dx = g * 1[lo <= x <= hi]."""
    @staticmethod
    def forward(ctx, x, lo, hi):
        if lo > hi:
            raise ValueError(f"clip needs lo <= hi, got lo={lo}, hi={hi}")
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x >= ctx.lo) & (x <= ctx.hi))


# ------------------------------------------------------------------ shape and selection


class Reshape(Function):
    """y = x viewed with another shape (same elements, same order).  dL/dx = g reshaped back."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


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
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic_index(ctx.index):
            dx[ctx.index] = g
        else:
            np.add.at(dx, ctx.index, g)
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
