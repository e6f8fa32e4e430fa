"""Functions: an op's forward and its backward rules, side by side.

Every op in tinygrad_ste is a subclass of :class:`Function`, shaped like PyTorch's
``torch.autograd.Function``:

* ``forward(ctx, *arrays, **options) -> array`` computes the result with NumPy and
  stores on ``ctx`` what the backward pass will need (``ctx.save_for_backward``).
* ``backward(ctx, grad) -> grads`` maps the gradient of the loss with respect to the
  output, dL/dy (same shape as y), to one gradient per positional input, dL/dx_i.

The twist that makes this project: an op may carry **several named backward rules**
for the same forward.  ``round`` is a staircase whose true derivative is zero almost
everywhere, so nothing upstream can learn through it; the straight-through estimator
pretends its derivative is one.  Both are just rules of the same op::

    >>> import tinygrad_ste as tg
    >>> x = tg.Tensor([0.2, 1.7, -3.4], requires_grad=True)
    >>> tg.round(x, backward="identity").sum().backward()   # straight-through
    >>> x.grad
    array([1., 1., 1.])

A rule is chosen, from most to least specific:

1. per call, with the ``backward=`` keyword: a registered name or any callable
   ``rule(ctx, grad) -> grads``;
2. for a block, with ``with backward_rules(round="identity"): ...`` (keys are op names);
3. otherwise the op's own ``backward`` (for a discrete op, its true gradient).

New rules are registered by name with ``Round.register_rule("mine", rule)`` (also usable
as a decorator).  The rule is picked when the op runs and remembered in the graph, so
leaving a ``with`` block before calling ``.backward()`` does not change the gradient.
"""
import os
import sys
import weakref
from contextlib import contextmanager

import numpy as np

__all__ = ["Node", "Function", "backward_rules", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
           "record_in_place_write"]


# ---------------------------------------------------------------------------------
# Global switches: whether to record a graph at all, block-wide rule overrides, and
# whether to look for the first NaN or inf (detect_anomaly).
# ---------------------------------------------------------------------------------
_grad_enabled = True
_detecting_anomalies = False
_rule_overrides = []   # stack of {op name: rule}, innermost block last
_functions_by_name = {}   # every Function subclass, by its name, so blocks can check their keys


def is_grad_enabled():
    """True unless inside ``no_grad()``."""
    return _grad_enabled


@contextmanager
def _set_grad_enabled(enabled):
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Context manager (and decorator): ops inside record no graph.

    Use it for evaluation and for optimizer updates, where no gradient is wanted and
    keeping the graph would only cost memory.
    """
    return _set_grad_enabled(False)


def enable_grad():
    """Context manager (and decorator): record a graph again inside a ``no_grad`` block."""
    return _set_grad_enabled(True)


@contextmanager
def detect_anomaly():
    """Context manager: stop at the first op that turns finite numbers into NaN or inf.

    Inside the block, every op checks its output: if all its inputs are finite and its
    output is not, it raises a ValueError naming the op, its input shapes and the line
    of your code that called it (``log(0)``, ``exp(1000)``, ``0 / 0`` ...).  Each op
    also remembers that line, so an error in ``backward()`` names the forward call that
    made the failing node.  Same name as PyTorch's ``torch.autograd.detect_anomaly``.

    It costs a stack lookup and a finiteness test per op, so use it to hunt a NaN, not
    to train; outside the block the engine does neither.
    """
    global _detecting_anomalies
    previous, _detecting_anomalies = _detecting_anomalies, True
    try:
        yield
    finally:
        _detecting_anomalies = previous


# ---------------------------------------------------------------------------------
# In-place writes, and PyTorch's version check: an array an op saved for its backward must
# not be overwritten before that backward runs, or the gradient would be silently wrong.
# Every in-place write is counted; a node remembers the count when it was made, so the
# check (Node.check_saved_unchanged) costs one comparison unless something was written since.
# ---------------------------------------------------------------------------------
_in_place_writes = 0
_written = {}   # id(array) -> (number of its latest in-place write, weak reference to it, the op that wrote)


def record_in_place_write(array, op):
    """Note that ``op`` (``"+="``, ``"exp_"``, ``"SGD.step"`` ...) has just overwritten ``array`` in place."""
    global _in_place_writes
    _in_place_writes += 1
    key = id(array)
    _written[key] = (_in_place_writes, weakref.ref(array, lambda _: _written.pop(key, None)), op)


_PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _caller():
    """'file:line in function' of the innermost stack frame outside this package: the learner's call."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIRECTORY):
        frame = frame.f_back
    if frame is None:
        return "inside tinygrad_ste"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _check_anomaly(function, tensors, out, ctx):
    """detect_anomaly's check of one op call (see there); records where the call was made on ``ctx``."""
    ctx.called_at = _caller()
    if not np.isfinite(out).all() and all(np.isfinite(t.data).all() for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        bad = "NaN" if np.isnan(out).any() else "inf"
        raise ValueError(f"detect_anomaly: {function.name} produced {bad} from finite inputs "
                         f"(input shapes: {shapes}); called at {ctx.called_at}")


def _forward_output(function, out):
    """What a forward returned, as an array; a clear TypeError for anything else (an op author's mistake)."""
    if isinstance(out, (np.generic, int, float)):   # NumPy reductions return scalars, e.g. np.float64
        out = np.asarray(out)
    if isinstance(out, np.ndarray) and out.dtype.kind in "biuf":
        return out
    if out is None:
        raise TypeError(f"{function.name}.forward returned None; it must return the result as a NumPy "
                        "array (did you forget the return statement?)")
    if isinstance(out, tensor.Tensor):
        raise TypeError(f"{function.name}.forward returned a Tensor; forward works on NumPy arrays and must "
                        "return one (compute with the arrays it receives, or return tensor.data)")
    raise TypeError(f"{function.name}.forward returned {type(out).__name__}; it must return a numeric NumPy array")


@contextmanager
def backward_rules(**rules):
    """Choose the backward rule of whole ops for a block of code.

    ``with backward_rules(round="identity", sign="clipped"): y = model(x)`` trains a
    model straight-through without touching its code.  Keys are op names
    (``Function.name``), values rule names or callables.  A ``backward=`` keyword
    given at the call itself still wins: it is the more specific choice.
    """
    for op_name, rule in rules.items():   # a typo should fail here, not silently train with the default
        if op_name not in _functions_by_name:
            raise ValueError(f"backward_rules: no op is named {op_name!r}; ops with named rules: "
                             + ", ".join(sorted(n for n, f in _functions_by_name.items() if f.rules)))
        _functions_by_name[op_name].resolve_rule(rule)
    _rule_overrides.append(rules)
    try:
        yield
    finally:
        _rule_overrides.pop()


class Node:
    """One op application in the graph -- and the ``ctx`` its forward and backward receive.

    As in PyTorch, the scratch pad of an op *is* its graph node, one object per op call:

    * ``function`` -- the op (a Function subclass), ``rule`` -- the backward rule chosen,
      ``parents`` -- the input Tensors, in order;
    * ``saved_tensors`` -- the arrays given to :meth:`save_for_backward`;
    * ``needs_input_grad[i]`` -- whether input ``i`` wants a gradient, so a rule may skip
      (return ``None`` for) the ones nobody asked for;
    * any other attribute an op sets on it (``ctx.axis = axis``), and ``called_at``, the
      line of code that ran the op, when it ran inside :func:`detect_anomaly`.

    ``backward()`` releases ``saved_tensors`` (sets them to None) once it has used them,
    unless called with ``retain_graph=True``: that frees the memory, and a second
    backward pass through the node is an error instead of doubled gradients.
    """

    # Fixed fields in slots; the __dict__ for op-specific attributes is only created by
    # the ops that set one.  Fewer objects per op means less work for Python's garbage
    # collector, which otherwise walks the whole graph again and again while it grows.
    __slots__ = ("function", "rule", "parents", "needs_input_grad", "saved_tensors", "writes_seen", "__dict__")

    def __init__(self, function, parents, needs_input_grad, rule=None):
        self.function, self.parents, self.needs_input_grad, self.rule = function, parents, needs_input_grad, rule
        self.saved_tensors = ()
        self.writes_seen = _in_place_writes

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def check_saved_unchanged(self):
        """A RuntimeError if an array this node kept for its backward (saved, or set on it as
        ``ctx.name``) was overwritten in place after its forward ran: PyTorch's version check."""
        if self.writes_seen == _in_place_writes:
            return   # nothing at all was written in place since this node was made
        kept = [a for a in (*self.saved_tensors, *vars(self).values()) if isinstance(a, np.ndarray)]
        for number, reference, op in list(_written.values()):
            array = reference()
            if number > self.writes_seen and array is not None and any(np.shares_memory(array, a) for a in kept):
                raise RuntimeError(
                    f"backward of {self.function.name}: an array it saved for the backward pass (shape "
                    f"{array.shape}) was overwritten by an in-place operation ({op}) after the forward pass, so "
                    "the gradient would be wrong; do the in-place update after backward(), or write it out of "
                    "place (y = y + 1 instead of y += 1)")

    @property
    def rule_name(self):
        """The name the chosen rule is registered under ("default" for the op's own backward)."""
        for name, rule in self.function.rules.items():
            if rule is self.rule:
                return name
        if self.rule is self.function.backward:
            return "default"
        return getattr(self.rule, "__name__", "custom")


class Function:
    """Base class of every op.  Subclass it, write ``forward`` and ``backward``.

    Class attributes:

    * ``name`` -- the op's name in errors, ``repr`` and :func:`backward_rules`
      (defaults to the class name in lower case);
    * ``rules`` -- named alternative backward rules, ``{name: rule(ctx, grad)}``;
      each subclass gets its own copy, so registering on one op never leaks to another.

    Use an op through :meth:`apply`, never by calling ``forward`` yourself: ``apply``
    is what records the graph.
    """

    name = "function"
    rules = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        cls.rules = dict(cls.__dict__.get("rules", {}))
        _functions_by_name[cls.name] = cls

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError(f"{ctx.function.name} has no forward: define forward(ctx, *arrays) "
                                  "returning the result as a NumPy array")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(f"{ctx.function.name} has no backward: define backward(ctx, grad) returning "
                                  "dL/dx for each input, or choose a rule with backward=")

    @classmethod
    def register_rule(cls, rule_name, rule=None):
        """Register ``rule(ctx, grad) -> grads`` under ``rule_name`` for this op.

        Works as a call, ``Round.register_rule("half", rule)``, or as a decorator,
        ``@Round.register_rule("half")``.
        """
        def register(rule):
            if not callable(rule):
                raise TypeError(f"{cls.name}.register_rule: rule must be callable, got {type(rule).__name__}")
            cls.rules[rule_name] = rule
            return rule
        return register if rule is None else register(rule)

    @classmethod
    def resolve_rule(cls, backward=None):
        """The backward rule this call will use (see the module docstring for the order)."""
        if backward is None:
            for overrides in reversed(_rule_overrides):
                if cls.name in overrides:
                    backward = overrides[cls.name]
                    break
            else:
                return cls.backward
        if callable(backward):
            return backward
        try:
            return cls.rules[backward]
        except (KeyError, TypeError):
            known = ", ".join(repr(n) for n in cls.rules) or "none besides its default"
            raise ValueError(f"{cls.name}: unknown backward rule {backward!r}; registered rules: {known}") from None

    @classmethod
    def apply(cls, *inputs, backward=None, **options):
        """Run the op on Tensors (or array-likes) and record it in the graph.

        Positional ``inputs`` are the differentiable operands; keyword ``options``
        (an axis, a shape, an index) go to ``forward`` unchanged.  Returns a Tensor.
        """
        Tensor = tensor.Tensor
        tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
        needs_grad = tuple([t.requires_grad for t in tensors])
        recording = _grad_enabled and any(needs_grad)
        if backward is None and not _rule_overrides:   # the common case, spared a call: it runs for every op
            rule = cls.backward
        else:   # resolved even when no graph is recorded, so that a misspelt rule fails
            rule = cls.resolve_rule(backward)
        ctx = Node(cls, tensors, needs_grad, rule)
        try:
            out = cls.forward(ctx, *[t.data for t in tensors], **options)
        except (ValueError, IndexError, TypeError) as error:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise type(error)(f"{cls.name}: {error} (input shapes: {shapes})") from error
        if type(out) is not np.ndarray:
            out = _forward_output(cls, out)
        if _detecting_anomalies:
            _check_anomaly(cls, tensors, out, ctx)
        return Tensor._from_op(out, ctx if recording else None)


# tensor.py builds on this module (a Tensor's node holds a Function), so the module is
# imported last, whole, and apply() reads ``tensor.Tensor`` when it runs: this works
# whichever of the two modules Python loads first.  (An import statement inside apply()
# would cost about a microsecond on every op.)
from . import tensor  # noqa: E402
