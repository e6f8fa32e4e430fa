"""Module: the base class of layers and models, in the shape of PyTorch's ``torch.nn.Module``.

A :class:`Module` is an object whose attributes hold Tensors and other Modules.  It finds
them by walking its attributes (and lists, tuples and dicts of them), so a layer only has
to assign its weights in ``__init__``::

    class Affine(Module):
        def __init__(self, rng):
            self.weight = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
            self.bias = Tensor(np.zeros(2), requires_grad=True)

        def forward(self, x):
            return x @ self.weight + self.bias

A **parameter is any Tensor attribute with requires_grad=True**; PyTorch's spelling,
``nn.Parameter(data)``, is such a Tensor.  A Tensor attribute without it is a *buffer* -- state that is saved
with the module but not trained by gradient descent (the EMA statistics of a
:class:`~tinygrad_ste.vq.VectorQuantizer`, for example).

``module(x)`` calls ``module.forward(x)``.  ``state_dict()`` maps dotted names
("encoder.layers.0.weight") to copies of every parameter and buffer; ``save(path)`` writes
them to a NumPy ``.npz`` file and ``load(path)`` reads them back.
"""
import numpy as np

from . import dtypes, serialization
from .tensor import Tensor

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """``nn.Parameter(data)``: a Tensor of ``data`` that requires grad, as PyTorch spells a weight.

    Any Tensor attribute with ``requires_grad=True`` is a parameter of its module; this class
    only makes that the default."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        super().__init__(np.zeros(0) if data is None else data, requires_grad=requires_grad)


def _walk(value, name, seen):
    """Yield (dotted name, object) for every Module and Tensor reachable from ``value``.

    Lists and tuples contribute their positions ("layers.0"), dicts their keys.  An object
    met twice (a layer shared by two parents) is reported once, under its first name.
    """
    if isinstance(value, (Module, Tensor)):
        if id(value) in seen:
            return
        seen.add(id(value))
        yield name, value
        if isinstance(value, Module):
            children = vars(value).items()
        else:
            return
    elif isinstance(value, (list, tuple)):
        children = enumerate(value)
    elif isinstance(value, dict):
        children = value.items()
    else:
        return
    for key, child in children:
        yield from _walk(child, f"{name}.{key}" if name else str(key), seen)


class Module:
    """Base class of every layer and model.  Subclass it and write ``forward``.

    ``training`` is True after construction and ``train()``, False after ``eval()``;
    layers that behave differently while training (the vector quantizer updates its
    codebook) read it.
    """

    training = True   # class default, so subclasses need not call Module.__init__

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ------------------------------------------------------------- finding tensors
    def named_modules(self):
        """(name, module) for this module ("") and every module inside it."""
        return [(name, obj) for name, obj in _walk(self, "", set()) if isinstance(obj, Module)]

    def named_tensors(self):
        """(name, tensor) for every parameter and buffer, in attribute order."""
        return [(name, obj) for name, obj in _walk(self, "", set()) if isinstance(obj, Tensor)]

    def named_parameters(self):
        """(name, tensor) for every Tensor attribute with requires_grad=True."""
        return [(name, tensor) for name, tensor in self.named_tensors() if tensor.requires_grad]

    def parameters(self):
        """The trainable tensors, e.g. for ``optim.Adam(model.parameters())``."""
        return [tensor for _, tensor in self.named_parameters()]

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (``backward()`` adds to ``.grad``): set them to
        None, or to zeros with ``set_to_none=False``."""
        for parameter in self.parameters():
            parameter.grad = None if set_to_none or parameter.grad is None else np.zeros_like(parameter.grad)

    def named_children(self):
        """(name, module) for each module directly inside this one (not the modules inside those)."""
        inside = self.named_modules()[1:]
        names = {name for name, _ in inside}
        return [(name, module) for name, module in inside
                if not any(name.startswith(other + ".") for other in names)]

    def children(self):
        """The modules directly inside this one."""
        return [module for _, module in self.named_children()]

    def modules(self):
        """This module and every module inside it."""
        return [module for _, module in self.named_modules()]

    def apply(self, function):
        """Call ``function(module)`` on every module inside this one, then on this one; returns self
        (e.g. ``model.apply(initialise)`` to set the weights of every Linear)."""
        for module in reversed(self.modules()):
            function(module)
        return self

    def requires_grad_(self, requires_grad=True):
        """Stop (False) or restart (True) training this module's parameters; returns self.

        Frozen parameters stop being parameters (here, a parameter is a tensor that requires
        grad), so the module remembers their names to restart exactly those."""
        tensors = dict(self.named_tensors())
        if requires_grad:
            for name in getattr(self, "_frozen_names", ()):
                tensors[name].requires_grad = True
            self._frozen_names = ()
        else:
            frozen = [name for name, tensor in self.named_parameters()]
            for name in frozen:
                tensors[name].requires_grad = False
            self._frozen_names = (*getattr(self, "_frozen_names", ()), *frozen)
        return self

    def to(self, *args, dtype=None, device=None):
        """``model.to("cpu")``, ``model.to(tg.float32)``: the device must be the CPU; a floating dtype
        converts every floating parameter and buffer (the same Tensor objects); returns self."""
        for arg in args:
            device, dtype = (arg, dtype) if isinstance(arg, (str, dtypes.device)) else (device, arg)
        dtypes.check_device(device, f"{type(self).__name__}.to")
        dtype = dtypes.as_dtype(dtype, f"{type(self).__name__}.to")
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: a module converts to floating dtypes only, got {dtype}")
        for _, tensor in self.named_tensors():
            if dtype is not None and tensor.data.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
        return self

    def float(self): return self.to(dtypes.float32)
    def double(self): return self.to(dtypes.float64)

    # ------------------------------------------------------------- modes
    def train(self, mode=True):
        """Put this module and every module inside it in training mode (or not). Returns self."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``. Returns self."""
        return self.train(False)

    # ------------------------------------------------------------- saving
    def state_dict(self):
        """{dotted name: copy of the array} for every parameter and buffer."""
        return {name: tensor.data.copy() for name, tensor in self.named_tensors()}

    def load_state_dict(self, state):
        """Copy arrays from ``state`` into this module's tensors, in place.

        Strict: every name must be present, no extra names are allowed and every shape
        must match, otherwise a ValueError lists what is wrong (so a model is never
        half-loaded silently).  Arrays are cast to each tensor's dtype.
        """
        tensors = dict(self.named_tensors())
        missing = sorted(set(tensors) - set(state))
        unexpected = sorted(set(state) - set(tensors))
        wrong_shapes = [f"{name}: expected {tensors[name].shape}, got {np.shape(state[name])}"
                        for name in tensors if name in state and np.shape(state[name]) != tensors[name].shape]
        problems = []
        if missing:
            problems.append(f"missing keys {missing}")
        if unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if wrong_shapes:
            problems.append("shape mismatch " + "; ".join(wrong_shapes))
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + ", ".join(problems))
        for name, tensor in tensors.items():
            tensor.data[...] = np.asarray(state[name])   # in place: optimizers keep holding the same tensors

    def save(self, path):
        """Write ``state_dict()`` to a NumPy ``.npz`` file at ``path`` (``tg.save(self.state_dict(), path)``)."""
        serialization.save(self.state_dict(), path)

    def load(self, path):
        """Read a file written by :meth:`save` into this module (strictly, see ``load_state_dict``)."""
        self.load_state_dict(serialization.load(path))
        return self

    def __repr__(self):
        lines = []
        for name, value in vars(self).items():   # direct children only; each prints its own
            items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
            named = [(name, value)] if isinstance(value, Module) else [(f"{name}.{key}", item) for key, item in items]
            lines += [f"  ({key}): {item!r}".replace("\n", "\n  ") for key, item in named if isinstance(item, Module)]
        return f"{type(self).__name__}(" + ("\n" + "\n".join(lines) + "\n" if lines else "") + ")"
