"""PyTorch's spelling of the axis keywords, ``dim=`` and ``keepdim=``, accepted beside NumPy's.

The library is written with NumPy's names, ``axis=`` and ``keepdims=``; PyTorch code writes
``x.sum(dim=1, keepdim=True)`` and ``F.softmax(x, dim=-1)``.  Rather than give every function
both pairs of parameters, :func:`accept_dim_keywords` renames PyTorch's keywords on the way in,
and :func:`accept_dim_keywords_in` applies it, once, to every function of a class or module
that has an ``axis`` or ``keepdims`` parameter -- so a new method gets both spellings for free.

    >>> import tinygrad_ste as tg
    >>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.sum(dim=1, keepdim=True).shape == x.sum(axis=1, keepdims=True).shape == (2, 1)
    True
"""
import functools
import inspect

__all__ = ["accept_dim_keywords", "accept_dim_keywords_in"]

_NUMPY_NAME = {"dim": "axis", "keepdim": "keepdims"}


def accept_dim_keywords(function):
    """``function``, also accepting ``dim=`` for ``axis=`` and ``keepdim=`` for ``keepdims=``.

    Giving both spellings of one keyword is a TypeError naming the function."""
    @functools.wraps(function)
    def renamed(*args, **kwargs):
        for torch_name, numpy_name in _NUMPY_NAME.items():
            if torch_name in kwargs:
                if numpy_name in kwargs:
                    raise TypeError(f"{function.__name__}: got both {torch_name}= and {numpy_name}=; they are two "
                                    "spellings of the same argument, give one")
                kwargs[numpy_name] = kwargs.pop(torch_name)
        return function(*args, **kwargs)
    return renamed


def accept_dim_keywords_in(owner):
    """Wrap, with :func:`accept_dim_keywords`, every function defined in ``owner`` (a class, or a
    module: ``sys.modules[__name__]``) that has an ``axis`` or a ``keepdims`` parameter."""
    home = owner.__name__ if inspect.ismodule(owner) else owner.__module__
    for name, function in list(vars(owner).items()):
        if (inspect.isfunction(function) and function.__module__ == home
                and {"axis", "keepdims"} & set(inspect.signature(function).parameters)):
            setattr(owner, name, accept_dim_keywords(function))
