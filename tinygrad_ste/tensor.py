"""Tensor: a NumPy array that remembers how it was made, and ``backward()``.

A Tensor holds ``data`` (a NumPy array), ``grad`` (dL/d data after ``backward()``, same
shape, or None) and, when it is the output of an op that needs a gradient, a ``node``
(:class:`~tinygrad_ste.function.Node`, the very ``ctx`` the op's forward filled in): which
op made it, which backward rule was chosen, what the forward saved, and the input
Tensors (its parents).  Those nodes are the computation graph.

``loss.backward()`` walks that graph from the loss back to the leaves:

1. order the nodes so that every node comes before the nodes that made its inputs
   (an explicit stack, no recursion: a chain of 100,000 ops is fine);
2. for each node, call its rule: ``rule(ctx, dL/dy) -> (dL/dx_1, dL/dx_2, ...)``;
3. undo NumPy broadcasting: if an input of shape (3, 1) was broadcast to (3, 4), its
   gradient is summed back to (3, 1) -- done here once, so no op has to;
4. add the gradients of inputs used more than once (the multivariate chain rule),
   and accumulate into ``.grad`` of every leaf that has ``requires_grad=True``;
5. release what each node saved for it, as PyTorch does: the memory is freed, and a
   second ``backward()`` through the same ops is an error (unless the first was
   ``backward(retain_graph=True)``) instead of silently doubled gradients.

Tensors follow Python's protocols the way PyTorch's do: comparisons (``x > 0``) are
elementwise and give boolean tensors without a gradient, ``bool(x)`` needs one element,
and tensors stay hashable by identity (usable as dict keys and in sets).
"""
import math

import numpy as np

from . import dtypes, ops
from .arrays import cummax_positions, normalize_axes, sizes_argument, sort_positions
from .function import is_grad_enabled, no_grad, record_in_place_write
from .keywords import accept_dim_keywords_in

__all__ = ["Tensor", "as_tensor", "as_array", "sum_to_shape", "topological_order"]

# Operands of + - * / that become a constant of a one-input op (bool and NumPy scalars are left
# to _lift, which gives them the tensor's dtype: True is not a float, np.float64(2) not weak).
_PYTHON_NUMBERS = (int, float)


class _Size(int):
    """``x.size``: NumPy's ``size``, the number of elements, and callable as PyTorch's ``size``:
    ``x.size()`` is the shape and ``x.size(0)`` the length of axis 0."""

    def __new__(cls, shape):
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim=None):
        return self.shape if dim is None else self.shape[dim]


def _in_place_form(name):
    """The method ``name + "_"``: ``x.exp_()`` overwrites x with ``x.exp()`` (see ``Tensor._update``)."""
    def in_place(self, *args, **kwargs):
        return self._update(lambda x: getattr(x, name)(*args, **kwargs), name + "_")
    in_place.__name__ = in_place.__qualname__ = name + "_"
    in_place.__doc__ = f"In place: ``x.{name}_(...)`` overwrites x with ``x.{name}(...)`` (see ``_update``)."
    return in_place


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is anything
    ``numpy.asarray`` accepts, and keeps the dtype NumPy gives it, as in PyTorch:
    Python floats are float64 (PyTorch's default is float32), Python ints int64,
    Python booleans bool, and arrays their own dtype.  An op that needs floats makes
    them (``Tensor([1, 2]) / 2`` is float64); only a floating-point tensor may have
    ``requires_grad=True``, so write ``Tensor([1.0, 2.0], requires_grad=True)``.
    Anything non-numeric is a TypeError.  The data is copied, so later changes to your
    array do not leak in.
    """

    # Make NumPy hand ``array + tensor`` over to Tensor.__radd__ instead of trying to
    # treat the Tensor as an opaque object inside an object array.
    __array_ufunc__ = None
    __slots__ = ("data", "grad", "requires_grad", "node", "_retains_grad")

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        try:
            array = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"Tensor: cannot make a numeric array from {type(data).__name__}: {error}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: expected numeric data, got an array of dtype {array.dtype} "
                            f"and shape {array.shape}")
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating-point tensors can require grad, got dtype {array.dtype} "
                            f"(shape {array.shape}); give float data, e.g. [1.0, 2.0], or dtype=np.float64")
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.node = None
        self._retains_grad = False

    @classmethod
    def _from_op(cls, data, node):
        """An op's output: skips the checks and the copy of ``__init__`` (ops are trusted)."""
        tensor = cls.__new__(cls)
        tensor.data = data if type(data) is np.ndarray else np.asarray(data)
        tensor.grad = None
        tensor.requires_grad = node is not None
        tensor.node = node
        tensor._retains_grad = False
        return tensor

    # ----------------------------------------------------------------- basic facts
    shape = property(lambda self: self.data.shape, doc="Tuple of dimensions, as in NumPy.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    size = property(lambda self: _Size(self.data.shape),
                    doc="Number of elements, as NumPy's ``size``; called, the shape, as PyTorch's ``size()``.")
    dtype = property(lambda self: self.data.dtype, doc="NumPy dtype of the data.")
    is_leaf = property(lambda self: self.node is None,
                       doc="True for tensors made by the user, not by an op that records a graph.")

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, this one has shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def detach(self):
        """A tensor with the same data and no history: gradients stop here."""
        return Tensor._from_op(self.data, None)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor too after ``backward()`` (leaves always keep it)."""
        self._retains_grad = True
        return self

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        """Iterate over the first axis; each item is ``x[i]`` (differentiable)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self):
        """The truth of a one-element tensor, so ``if loss < 0.1:`` works; more elements are ambiguous."""
        if self.data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor of shape {self.shape} ({self.data.size} elements) "
                             "is ambiguous; test x.data.any() or x.data.all()")
        return bool(self.data.item())

    def __repr__(self):
        body = np.array2string(self.data, prefix="Tensor(", separator=", ")
        extras = ""
        if self.node is not None:
            extras = f", op={self.node.function.name}, backward={self.node.rule_name}"
        elif self.requires_grad:
            extras = ", requires_grad=True"
        if self.data.dtype != np.float64:
            extras += f", dtype={self.data.dtype}"
        return f"Tensor({body}{extras})"

    # ----------------------------------------------------------------- operators
    def _lift(self, other, symbol):
        """Wrap a constant operand of the operator ``symbol`` as a Tensor.

        A Python or NumPy number takes this tensor's floating dtype, so float32 stays
        float32 (as in PyTorch, a scalar does not promote a tensor)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, np.number, np.bool_)) and self.data.dtype.kind == "f":
            return Tensor._from_op(np.asarray(other, dtype=self.data.dtype), None)
        try:
            return Tensor(other)
        except TypeError:
            raise TypeError(f"unsupported operand for {symbol}: a Tensor and {type(other).__name__} "
                            f"{other!r:.60}; the other operand must be a Tensor, a number or a numeric array") from None

    # One route per operator, whichever side of it the other operand is on: a Python number
    # becomes a constant of the operator's one-input op (``x - 1`` and ``1 - x`` are both a
    # sub_constant, ``2 / x`` a div_constant), anything else an input of its two-input op.
    def _arithmetic(self, other, op, constant_op, symbol, reflected=False):
        """``self symbol other``, or ``other symbol self`` when ``reflected`` (``__rsub__`` & co)."""
        if type(other) in _PYTHON_NUMBERS:
            if reflected:   # the flag is passed only when set: one keyword more costs 3% of an op
                return constant_op.apply(self, c=other, constant_first=True)
            return constant_op.apply(self, c=other)
        other = self._lift(other, symbol)
        return op.apply(other, self) if reflected else op.apply(self, other)

    def __add__(self, other): return self._arithmetic(other, ops.Add, ops.AddConstant, "+")
    def __radd__(self, other): return self._arithmetic(other, ops.Add, ops.AddConstant, "+", reflected=True)
    def __sub__(self, other): return self._arithmetic(other, ops.Sub, ops.SubConstant, "-")
    def __rsub__(self, other): return self._arithmetic(other, ops.Sub, ops.SubConstant, "-", reflected=True)
    def __mul__(self, other): return self._arithmetic(other, ops.Mul, ops.MulConstant, "*")
    def __rmul__(self, other): return self._arithmetic(other, ops.Mul, ops.MulConstant, "*", reflected=True)
    def __truediv__(self, other): return self._arithmetic(other, ops.Div, ops.DivConstant, "/")
    def __rtruediv__(self, other): return self._arithmetic(other, ops.Div, ops.DivConstant, "/", reflected=True)
    def __pow__(self, other): return ops.Pow.apply(self, self._lift(other, "**"))
    def __rpow__(self, other): return ops.Pow.apply(self._lift(other, "**"), self)
    def __matmul__(self, other): return ops.MatMul.apply(self, self._lift(other, "@"))
    def __rmatmul__(self, other): return ops.MatMul.apply(self._lift(other, "@"), self)
    def __neg__(self): return ops.Neg.apply(self)

    # Comparisons are elementwise and make boolean tensors with no gradient (a step has
    # none).  With a non-numeric operand they return NotImplemented, so ``x == None`` is
    # False and ``x < "a"`` a TypeError naming the operator, as for Python's own types.
    def _compare(self, other, compare):
        if not isinstance(other, Tensor):
            try:
                other = self._lift(other, "comparison")
            except TypeError:
                return NotImplemented
        return Tensor._from_op(compare(self.data, other.data), None)

    def __eq__(self, other): return self._compare(other, np.equal)
    def __ne__(self, other): return self._compare(other, np.not_equal)
    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)
    __hash__ = object.__hash__   # defining __eq__ would otherwise make tensors unhashable
    def __getitem__(self, index): return ops.GetItem.apply(self, index=_plain_index(index))

    # ----------------------------------------------------------------- methods
    def sum(self, axis=None, keepdims=False): return ops.Sum.apply(self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return ops.Mean.apply(self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return ops.Max.apply(self, axis=axis, keepdims=keepdims)
    def exp(self): return ops.Exp.apply(self)
    def log(self): return ops.Log.apply(self)
    def sqrt(self): return ops.Sqrt.apply(self)
    def abs(self): return ops.Abs.apply(self)
    def tanh(self): return ops.Tanh.apply(self)
    def sigmoid(self): return ops.Sigmoid.apply(self)
    def relu(self): return ops.Relu.apply(self)
    def clip(self, lo=None, hi=None):
        """Clamp into [lo, hi]; either bound may be None (no bound on that side)."""
        return ops.Clip.apply(self, lo=lo, hi=hi)

    def reshape(self, *shape):
        """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; one dimension may be -1."""
        shape = sizes_argument(shape)
        return ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes):
        """Permute axes: ``x.transpose()`` reverses them, ``x.transpose(0, 2, 1)`` is explicit.

        Two axes given apart are swapped, as PyTorch's ``transpose(dim0, dim1)`` does whatever the
        rank (``x.transpose(1, 2)`` of a (N, C, L) tensor is (N, L, C)); NumPy's reading of two
        axes, a permutation of a 2-d tensor, agrees except for the do-nothing ``(0, 1)``.  A tuple,
        ``x.transpose((1, 0))``, is always a permutation."""
        if len(axes) == 2 and self.ndim >= 2:
            axes = _swapping(axes, self.ndim)
        elif len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = tuple(axes[0] or ())   # x.transpose(None) reverses too, as in NumPy
        return ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return self.transpose()

    # ----------------------------------------------------------------- more methods: statistics, trigonometry, shapes
    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis``; tied elements share the gradient equally, as in ``max``."""
        return ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        """Variance over ``axis``, dividing by n - ``ddof`` (NumPy's default 0; PyTorch's is 1)."""
        return ops.Var.apply(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        """Standard deviation, sqrt of ``var`` with the same arguments."""
        return ops.Std.apply(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def log1p(self): return ops.Log1p.apply(self)
    def sin(self): return ops.Sin.apply(self)
    def cos(self): return ops.Cos.apply(self)
    def maximum(self, other): return ops.Maximum.apply(self, self._lift(other, "maximum"))
    def minimum(self, other): return ops.Minimum.apply(self, self._lift(other, "minimum"))

    def cumsum(self, axis=None):
        """Running sum along ``axis`` (None: over the flattened tensor, as in NumPy)."""
        return ops.Cumsum.apply(self, axis=axis)

    def squeeze(self, axis=None):
        """Drop axes of length 1 (all, or those in ``axis``; others named are kept, as in PyTorch)."""
        return ops.Squeeze.apply(self, axis=axis)

    def unsqueeze(self, axis):
        """Insert an axis of length 1 at ``axis`` of the result: (3, 4) -> (3, 1, 4) for axis 1 or -2."""
        return ops.Unsqueeze.apply(self, axis=axis)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge axes ``start_dim`` to ``end_dim`` (included) into one, as ``torch.flatten``."""
        return ops.Flatten.apply(self, start_dim=start_dim, end_dim=end_dim)

    def broadcast_to(self, shape):
        """Broadcast to ``shape`` (NumPy's rules; -1 keeps an axis).  A view: nothing is copied."""
        return ops.BroadcastTo.apply(self, shape=tuple(shape))

    def expand(self, *sizes):
        """PyTorch's name for ``broadcast_to``: ``x.expand(4, -1)`` or ``x.expand((4, -1))``."""
        sizes = sizes_argument(sizes)
        return ops.BroadcastTo.apply(self, shape=sizes)

    # ----------------------------------------------------------------- the ops people reach for next
    def tan(self): return ops.Tan.apply(self)
    def atan(self): return ops.Atan.apply(self)
    def sinh(self): return ops.Sinh.apply(self)
    def cosh(self): return ops.Cosh.apply(self)

    def prod(self, axis=None, keepdims=False):
        """Product over ``axis``; exact gradients where elements are 0 (see ``ops.Prod``)."""
        return ops.Prod.apply(self, axis=axis, keepdims=keepdims)

    # Tests and positions carry no gradient: they run on the detached tensor, so the result
    # is a plain boolean or int64 tensor whatever the input required.
    def isnan(self): return Tensor._from_op(np.isnan(self.data), None)
    def isinf(self): return Tensor._from_op(np.isinf(self.data), None)
    def isfinite(self): return Tensor._from_op(np.isfinite(self.data), None)
    def any(self, axis=None, keepdims=False): return ops.Any.apply(self.detach(), axis=axis, keepdims=keepdims)
    def all(self, axis=None, keepdims=False): return ops.All.apply(self.detach(), axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        """Position (int64) of the largest element over ``axis`` (None: of the flattened tensor)."""
        return ops.ArgMax.apply(self.detach(), axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        """Position (int64) of the smallest element over ``axis`` (None: of the flattened tensor)."""
        return ops.ArgMin.apply(self.detach(), axis=axis, keepdims=keepdims)

    def _gather_at(self, positions_of, axis, op_name):
        """(values, positions) of a selection along ``axis``: ``positions_of(array, axis)`` picks the
        positions (no gradient), and the values are a gather, carrying g back to those positions.
        A 0-d tensor counts as 1-d, as in PyTorch."""
        x = self if self.ndim else self.reshape(1)
        try:
            axis, = normalize_axes(axis, x.ndim)
            positions = positions_of(x.data, axis)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{op_name}: {error} (input shape {self.shape})") from None
        values = ops.Gather.apply(x, axis=axis, index=positions)
        if self.ndim == 0:
            return values.reshape(()), Tensor._from_op(positions.reshape(()), None)
        return values, Tensor._from_op(positions, None)

    def sort(self, axis=-1, descending=False):
        """``(values, positions)`` sorted along ``axis`` (stable); the values carry the gradient."""
        return self._gather_at(lambda x, a: sort_positions(x, a, descending), axis, "sort")

    def topk(self, k, axis=-1, largest=True, sorted=True):
        """``(values, positions)`` of the ``k`` largest (or smallest) elements along ``axis``, in
        sorted order (also when ``sorted=False``, which allows any order); values carry the gradient."""
        def top(x, a):
            if not 0 <= k <= x.shape[a]:
                raise ValueError(f"k={k} is out of range for an axis of length {x.shape[a]}")
            return np.take(sort_positions(x, a, descending=largest), np.arange(k), axis=a)
        return self._gather_at(top, axis, "topk")

    def cummax(self, axis):
        """``(values, positions)`` of the running maximum along ``axis``; each value's gradient goes
        to the element it came from (the latest of tied ones, as in PyTorch)."""
        return self._gather_at(cummax_positions, axis, "cummax")

    def gather(self, axis, index):
        """PyTorch's ``gather``: y[i] = x[i with its ``axis`` coordinate replaced by index[i]]."""
        return ops.Gather.apply(self, axis=axis, index=as_array(index))

    def scatter_add(self, axis, index, source):
        """PyTorch's ``scatter_add``: a copy of x with source[i] added at the places index names."""
        return ops.ScatterAdd.apply(self, source, axis=axis, index=as_array(index))

    def masked_fill(self, mask, value):
        """x with ``value`` where the boolean ``mask`` (broadcast against x) is True; the filled
        places get no gradient, the others pass g through."""
        mask = as_array(mask)
        if mask.dtype != bool:
            raise TypeError(f"masked_fill: mask must be boolean, got dtype {mask.dtype} (shape {mask.shape})")
        return ops.Where.apply(self._lift(value, "masked_fill"), self, condition=mask)

    def flip(self, axis=None):
        """Reverse the order along ``axis`` (an int, a tuple, or None: all axes)."""
        return ops.Flip.apply(self, axis=axis)

    def roll(self, shifts, axis=None):
        """Shift cyclically by ``shifts`` along ``axis`` (None: the flattened tensor), as ``torch.roll``."""
        return ops.Roll.apply(self, shifts=shifts, axis=axis)

    def tile(self, *reps):
        """``np.tile``: repeat ``reps[i]`` times along axis i; fewer reps than axes leave the first axes alone."""
        reps = sizes_argument(reps)
        return ops.Tile.apply(self, reps=reps)

    def repeat(self, *sizes):
        """PyTorch's ``repeat`` (NumPy's ``tile``): at least one size per axis, ``x.repeat(2, 3)``."""
        sizes = sizes_argument(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat: {len(sizes)} sizes for a tensor of shape {self.shape}; give at least "
                             f"one per axis ({self.ndim}), or use tile")
        return ops.Tile.apply(self, reps=sizes)

    def tril(self, diagonal=0): return ops.Tril.apply(self, k=diagonal)
    def triu(self, diagonal=0): return ops.Triu.apply(self, k=diagonal)

    def split(self, split_size_or_sections, axis=0):
        """Cut along ``axis`` into pieces of ``split_size_or_sections`` elements (the last may be
        shorter) or, given a list, of those sizes, which must add up to the axis; a tuple of views."""
        try:
            axis, = normalize_axes(axis, self.ndim)
        except (TypeError, ValueError) as error:
            raise type(error)(f"split: {error} (input shape {self.shape})") from None
        length = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size <= 0:
                raise ValueError(f"split: the size of a piece must be positive, got {size}")
            sizes = [size] * (length // size) + ([length % size] if length % size else [])
        else:
            sizes = [int(n) for n in split_size_or_sections]
            if sum(sizes) != length or min(sizes, default=0) < 0:
                raise ValueError(f"split: sizes {sizes} do not add up to the length {length} of axis {axis} "
                                 f"of a tensor of shape {self.shape}")
        starts = np.cumsum([0] + sizes[:-1])
        lead = (slice(None),) * axis
        return tuple(self[lead + (slice(start, start + size),)] for start, size in zip(starts, sizes or [0]))

    def chunk(self, chunks, axis=0):
        """Cut along ``axis`` into ``chunks`` pieces of ceil(length / chunks) elements (fewer pieces
        when they run out, as in PyTorch)."""
        if chunks <= 0:
            raise ValueError(f"chunk: the number of chunks must be positive, got {chunks}")
        try:
            length = self.shape[normalize_axes(axis, self.ndim)[0]]
        except (TypeError, ValueError) as error:
            raise type(error)(f"chunk: {error} (input shape {self.shape})") from None
        return self.split(max(-(-length // chunks), 1), axis)

    # ----------------------------------------------------------------- PyTorch's spellings
    # The methods above under the names PyTorch code uses (``dim=`` and ``keepdim=`` are
    # accepted wherever ``axis=`` and ``keepdims=`` are: see the end of this module).
    def dim(self): return self.data.ndim
    def numel(self): return self.data.size
    def view(self, *shape): return self.reshape(*shape)
    def permute(self, *dims): return self.transpose(*dims)
    def pow(self, exponent): return self ** exponent
    def matmul(self, other): return self @ other
    def neg(self): return -self
    def add(self, other, alpha=1): return self + (other if alpha == 1 else alpha * other)
    def sub(self, other, alpha=1): return self - (other if alpha == 1 else alpha * other)
    def mul(self, other): return self * other
    def div(self, other): return self / other
    def clamp(self, min=None, max=None): return self.clip(min, max)   # noqa: A002 -- PyTorch's keywords
    def tolist(self): return self.data.tolist()
    def is_floating_point(self): return self.data.dtype.kind == "f"
    def cpu(self): return self
    device = property(lambda self: dtypes.device("cpu"), doc="Where the data lives: always the CPU.")

    def t(self):
        """The transpose of a tensor of at most two dimensions, as ``torch.t``."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape {self.shape}; use permute")
        return self.transpose()

    def clone(self):
        """A copy with data of its own; gradients flow through it to ``self``, as in PyTorch."""
        return ops.Cast.apply(self, dtype=self.dtype)   # astype copies

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of this leaf in place (a floating-point one); returns the tensor."""
        if not self.is_leaf:
            raise RuntimeError(f"requires_grad_: only leaf tensors can be changed (this one, shape {self.shape}, "
                               f"was made by {self.node.function.name}); use .detach().requires_grad_()")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only floating-point tensors can require grad, got dtype "
                            f"{self.data.dtype} (shape {self.shape})")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, dtype=None, device=None, copy=False):
        """PyTorch's ``to``: ``x.to(tg.float32)``, ``x.to("cpu")``, ``x.to("cpu", tg.float32)``,
        ``x.to(other)`` (other's dtype).  The device must be the CPU.  A new floating dtype gives a
        converted tensor that gradients flow back through; an integer or boolean one, a tensor
        without gradient; the same dtype, ``x`` itself (a copy if ``copy=True``)."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, dtypes.device)):
                device = arg
            else:
                dtype = arg
        dtypes.check_device(device, "to")
        dtype = dtypes.as_dtype(dtype, "to") or self.data.dtype
        if dtype == self.data.dtype and not copy:
            return self
        return ops.Cast.apply(self if dtype.kind == "f" else self.detach(), dtype=dtype)

    # ----------------------------------------------------------------- in-place updates
    # ``w -= lr * w.grad`` inside ``no_grad()`` overwrites w's numbers and leaves w the same leaf,
    # as in PyTorch's hand-written training loops.  Every write is recorded, so a backward pass
    # that still needs the old numbers is an error (Node.check_saved_unchanged), never a silently
    # wrong gradient.
    def __iadd__(self, other): return self._update(lambda x: x + other, "+=", operator=True)
    def __isub__(self, other): return self._update(lambda x: x - other, "-=", operator=True)
    def __imul__(self, other): return self._update(lambda x: x * other, "*=", operator=True)
    def __itruediv__(self, other): return self._update(lambda x: x / other, "/=", operator=True)
    def zero_(self): return self._update(lambda x: Tensor._from_op(np.zeros_like(x.data), None), "zero_")
    def fill_(self, value): return self._update(lambda x: Tensor._from_op(np.full_like(x.data, value), None), "fill_")
    def copy_(self, source): return self._update(lambda x: as_tensor(source), "copy_")

    def _update(self, compute, op, operator=False):
        """Overwrite this tensor's data with ``compute(self)``, the in-place form ``op`` of an op.

        Allowed when no graph would record it: inside ``no_grad()``, or for tensors outside
        any graph.  A leaf that requires grad must be updated inside ``no_grad()`` (a RuntimeError
        otherwise, as in PyTorch).  For a tensor in a graph, ``y += 1`` is written out of place,
        ``y = y + 1`` (the name moves to the new tensor); ``y.exp_()`` is a RuntimeError, as this
        engine records no in-place op in a graph."""
        if self.requires_grad and self.is_leaf and is_grad_enabled():
            raise RuntimeError(f"{op}: a leaf tensor that requires grad (shape {self.shape}) cannot be changed in "
                               "place while gradients are recorded; update it inside `with tg.no_grad():`")
        result = compute(self)
        if result.node is not None:   # the update would be part of a graph
            if operator:
                return result
            raise RuntimeError(f"{op}: in-place ops are not recorded in a graph here; write it out of place "
                               f"(y = y.{op[:-1]}(...)), or inside `with tg.no_grad():`")
        if result.shape != self.shape:
            raise ValueError(f"{op}: the result has shape {result.shape}, but the tensor updated in place has "
                             f"shape {self.shape}")
        try:
            np.copyto(self.data, result.data, casting="same_kind")
        except (TypeError, ValueError) as error:   # float into int, or a read-only (broadcast) array
            raise type(error)(f"{op}: cannot write into a {self.dtype} tensor of shape {self.shape}: {error}") from None
        record_in_place_write(self.data, op)
        return self

    add_, sub_, mul_, div_, pow_, neg_, clamp_, clip_ = (
        _in_place_form(name) for name in ("add", "sub", "mul", "div", "pow", "neg", "clamp", "clip"))
    exp_, log_, sqrt_, abs_, sin_, cos_, tanh_, sigmoid_, relu_ = (
        _in_place_form(name) for name in ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu"))

    # ----------------------------------------------------------------- conversions: last, as they
    # are named after Python's float, int and bool, which the class body above must still see
    def float(self): return self.to(dtypes.float32)
    def double(self): return self.to(dtypes.float64)
    def half(self): return self.to(dtypes.float16)
    def long(self): return self.to(dtypes.int64)
    def int(self): return self.to(dtypes.int32)
    def bool(self): return self.to(dtypes.bool)

    # ----------------------------------------------------------------- backward
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate dL/dx into ``.grad`` of every leaf x that requires grad.

        ``gradient`` is dL/d(self), the seed; it may be omitted only when ``self`` has
        one element (a loss), where it is 1.  Gradients add up across calls, as in
        PyTorch: set ``.grad = None`` (or ``optimizer.zero_grad()``) between steps.

        The pass frees the graph behind it: each op's saved arrays are released once
        used, so a second ``backward()`` through the same ops raises a RuntimeError.
        ``retain_graph=True`` keeps them, for a second pass through the same graph.
        """
        grads = {self: _seed(self, gradient)}   # dL/dt of every tensor t reached, summed over its uses
        order = topological_order(self)          # 1. each node before the nodes that made its inputs
        try:
            # Any overflow, 0/0 or x/0 inside a rule raises, so it is reported at the op that made it.
            with np.errstate(over="raise", divide="raise", invalid="raise"), no_grad():
                for tensor in order:
                    grad = grads.pop(tensor, None)
                    if grad is None:   # no gradient flowed here (every consumer's rule returned None)
                        continue
                    if tensor._retains_grad:
                        _accumulate(tensor, grad)
                    node = tensor.node
                    input_grads = _call_rule(node, grad, retain_graph)   # 2. the chain rule at one node
                    for parent, input_grad in zip(node.parents, input_grads):   # 3. and 4., per input:
                        if input_grad is not None and parent.requires_grad:
                            input_grad = sum_to_shape(input_grad, parent.data, node.function.name)   # unbroadcast
                            grads[parent] = grads[parent] + input_grad if parent in grads else input_grad   # add up
        except (FloatingPointError, ValueError, TypeError, IndexError, RuntimeError) as error:
            raise _told_where(error, tensor.node)
        for leaf, grad in grads.items():   # every non-leaf was popped: what is left are the leaves
            _accumulate(leaf, grad)


def _seed(output, gradient):
    """dL/d(output) to start ``output.backward(gradient)`` from, checked: 1 for a one-element output."""
    if not output.requires_grad:
        raise ValueError(f"backward: this tensor (shape {output.shape}) does not require grad: no input had "
                         "requires_grad=True, or it was computed under no_grad() or from .detach()")
    if gradient is None:
        if output.data.size != 1:
            raise ValueError(f"backward: output has shape {output.shape}, not one element; pass the seed gradient "
                             f"dL/d(output) of that shape, e.g. y.backward(np.ones({output.shape}))")
        return np.ones_like(output.data)
    gradient = as_array(gradient, dtype=output.dtype)
    if gradient.shape != output.shape:
        raise ValueError(f"backward: seed gradient has shape {gradient.shape}, output has shape {output.shape}")
    return gradient


def _call_rule(node, grad, retain_graph):
    """Step 2 at one node: its rule's dL/dx for each input, as a tuple, given dL/dy = ``grad``.

    Checks that the graph is still there and that the rule kept its promise (one gradient,
    or None, per input), and frees what the forward saved unless ``retain_graph``."""
    if node.saved_tensors is None:
        raise RuntimeError(f"backward: the graph through {node.function.name} was already freed by an earlier "
                           "backward(); to backpropagate through the same ops again, call the first one as "
                           "backward(retain_graph=True)")
    node.check_saved_unchanged()
    input_grads = node.rule(node, grad)   # the node is the op's ctx
    if not retain_graph:
        node.saved_tensors = None
    if type(input_grads) is not tuple:
        if input_grads is None:
            raise TypeError(f"backward of {node.function.name}: the rule returned None; it must return dL/dx for "
                            f"each of the op's {len(node.parents)} input(s) (did you forget the return statement?)")
        input_grads = (input_grads,)
    if len(input_grads) != len(node.parents):
        raise ValueError(f"backward of {node.function.name}: the rule returned {len(input_grads)} gradients "
                         f"for {len(node.parents)} inputs")
    return input_grads


def _told_where(error, node):
    """``error``, raised in the backward step of ``node``, made to say where it happened.

    A non-finite gradient (NumPy's FloatingPointError) becomes a ValueError naming the op and
    its input shapes; inside detect_anomaly(), a built-in error also gets the line of the
    forward call that made the node.  Other errors are returned as they are."""
    if isinstance(error, FloatingPointError):
        told = ValueError(f"backward of {node.function.name}: the gradient became non-finite ({error}); "
                          f"input shapes: {[p.shape for p in node.parents]}{_made_at(node)}")
        told.__suppress_context__ = True
        return told
    if getattr(node, "called_at", None) is None or type(error).__module__ != "builtins":
        return error   # called_at is recorded only inside detect_anomaly()
    told = type(error)(f"{error}{_made_at(node)}")
    told.__cause__ = error
    return told


def topological_order(root):
    """Every non-leaf tensor reachable from ``root``, each one before its inputs (none for a leaf root).

    Depth-first search with an explicit stack of (tensor, iterator over its parents);
    a tensor is emitted once all of its parents are done (post-order), and the
    reversed post-order is a valid order for the backward pass.
    """
    if root.node is None:
        return []
    order, visited = [], {root}
    stack = [(root, iter(root.node.parents))]
    while stack:
        tensor, parents = stack[-1]
        for parent in parents:
            if parent.node is not None and parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent.node.parents)))
                break
        else:
            stack.pop()
            order.append(tensor)
    order.reverse()
    return order


def _made_at(node):
    """'; made by the forward call at file:line' for a node recorded inside detect_anomaly(), else ''."""
    called_at = getattr(node, "called_at", None)
    return "" if called_at is None else f"; the {node.function.name} node was made by the forward call at {called_at}"


def sum_to_shape(grad, like, op_name):
    """Undo broadcasting: sum ``grad`` down to the shape (and dtype) of the array ``like``.

    NumPy broadcasting prepends axes and stretches axes of length 1.  If x of shape
    (3, 1) became y of shape (2, 3, 4), each x element fed 2 * 4 outputs, so
    dL/dx = sum of dL/dy over axis 0 and over axis 2 (kept as length 1).
    A Tensor returned by a backward rule is accepted: its data is used.
    """
    if type(grad) is np.ndarray and grad.shape == like.shape and grad.dtype == like.dtype:
        return grad   # nothing was broadcast: the common case, checked first (it runs for every edge)
    grad = as_array(grad)
    shape, given = like.shape, grad.shape
    if given != shape:
        leading = grad.ndim - len(shape)   # axes that broadcasting prepended
        if leading < 0:
            raise ValueError(f"backward of {op_name}: a gradient of shape {given} does not match "
                             f"its input of shape {shape}")
        stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1 and given[leading + i] != 1)
        if stretched:
            grad = grad.sum(axis=stretched, keepdims=True)
        if leading:
            grad = grad.sum(axis=tuple(range(leading)))
        if grad.shape != shape:
            raise ValueError(f"backward of {op_name}: a gradient of shape {given} does not match "
                             f"its input of shape {shape}")
    if grad.dtype != like.dtype:
        grad = grad.astype(like.dtype)
    return grad


def _accumulate(tensor, grad):
    """Step 4's end: add a tensor's total gradient into its ``.grad`` -- a leaf's, or that of a
    tensor that called ``retain_grad()`` -- as a fresh array (grads may be shared views).

    Checked once per tensor and backward pass, after all its uses are summed: a sum of
    finite numbers with a non-finite one stays non-finite, so nothing is missed.
    """
    if not np.isfinite(grad).all():
        raise ValueError(f"backward: the gradient reaching a tensor of shape {tensor.shape} is not finite "
                         "(was the forward pass already inf or NaN?)")
    tensor.grad = np.array(grad) if tensor.grad is None else tensor.grad + grad


def _swapping(pair, ndim):
    """The permutation of ``ndim`` axes that swaps the two axes in ``pair`` (negative ones count from the end)."""
    try:
        (first,), (second,) = (normalize_axes(axis, ndim) for axis in pair)
    except (TypeError, ValueError) as error:
        raise type(error)(f"transpose: {error}") from None
    axes = list(range(ndim))
    axes[first], axes[second] = second, first
    return tuple(axes)


def as_tensor(x):
    """``x`` itself if it is a Tensor, else a new constant Tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def as_array(x, dtype=None):
    """The NumPy array behind ``x``: a Tensor's ``data`` (not copied), or ``numpy.asarray(x)``.

    For arguments that carry no gradient (targets, indices, masks, costs), which may come
    as Tensors, arrays or lists alike; ``dtype`` converts when given."""
    return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=dtype)


def _plain_index(index):
    """Tensors used as indices become their arrays; indices carry no gradient.

    As in PyTorch, an index tensor must hold integers (positions) or booleans (a mask, as in
    ``x[x > 0]``); a floating-point one is an IndexError rather than silently truncated."""
    if isinstance(index, Tensor):
        if index.data.dtype.kind not in "biu":
            raise IndexError(f"getitem: tensors used as indices must hold integers or booleans, got dtype "
                             f"{index.data.dtype} (shape {index.shape}); convert positions with "
                             "index.numpy().astype(int)")
        return index.data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    return index


accept_dim_keywords_in(Tensor)   # x.sum(dim=1, keepdim=True), as PyTorch spells x.sum(axis=1, keepdims=True)
