"""PyTorch's functions of a tensor, ``tg.sin(x)``, ``tg.sum(x, dim=1)``, ``tg.cat([a, b])``: each is
the Tensor method of the same name (or the op of ``functional``), so there is one definition.

    >>> import tinygrad_ste as tg
    >>> x = tg.tensor([[0.0, 1.0], [2.0, 3.0]])
    >>> tg.sum(tg.sin(x), dim=1).shape == x.sin().sum(axis=1).shape == (2,)
    True

``tg.max`` and ``tg.min`` are not among them: with a dimension PyTorch's return the values
*and* the positions, while ``x.max(dim)`` here returns the values (``torch.amax``); write
``x.max(dim=1)`` and ``x.argmax(dim=1)``.
"""
from . import functional
from .tensor import as_tensor

__all__ = ["sin", "cos", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "pow", "clamp", "matmul",
           "sum", "mean", "argmax", "argmin", "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute",
           "numel", "cat", "stack", "where", "softmax", "log_softmax"]


def _method_as_function(name):
    """``tg.<name>(x, ...)``, which is ``x.<name>(...)`` for ``x`` a Tensor or anything one can be made of."""
    def function(input, *args, **kwargs):
        return getattr(as_tensor(input), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``tg.{name}(x, ...)`` is ``x.{name}(...)``: see ``Tensor.{name}``."
    return function


sin, cos, exp, log, sqrt, abs, tanh, sigmoid, relu, pow, clamp, matmul = (   # noqa: A001 -- PyTorch's names
    _method_as_function(name)
    for name in ("sin", "cos", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "pow", "clamp", "matmul"))
sum, mean, argmax, argmin = (_method_as_function(name) for name in ("sum", "mean", "argmax", "argmin"))   # noqa: A001
reshape, flatten, squeeze, unsqueeze, transpose, permute, numel = (
    _method_as_function(name) for name in ("reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute",
                                           "numel"))
cat, stack, where = functional.concatenate, functional.stack, functional.where
softmax, log_softmax = functional.softmax, functional.log_softmax
