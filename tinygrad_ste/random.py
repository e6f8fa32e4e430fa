"""The library-wide random number generator, and ``manual_seed``, as in PyTorch.

Every layer and sampler that draws random numbers takes ``rng=``, a
``numpy.random.Generator``.  Leave it out and it draws from one generator shared by the
whole library, ``default_generator``; ``manual_seed(seed)`` resets that generator, so a
script that starts with it gives the same numbers on every run:

    >>> import tinygrad_ste as tg
    >>> _ = tg.manual_seed(0)
    >>> first = tg.nn.Linear(3, 2).weight.data
    >>> _ = tg.manual_seed(0)
    >>> bool((tg.nn.Linear(3, 2).weight.data == first).all())
    True

Pass ``rng=np.random.default_rng(seed)`` instead where one part of a program should not
depend on what the others drew (two models compared from the same start, say).

``manual_seed`` resets the generator in place rather than replacing it, so a layer
that kept ``default_generator`` (the vector quantizer keeps it for its restarts) follows
the reset too.  Before any ``manual_seed`` it is seeded from the operating system, like
``numpy.random.default_rng()``.
"""
import numpy as np

__all__ = ["default_generator", "manual_seed", "generator"]

default_generator = np.random.default_rng()


def manual_seed(seed):
    """Reset the library-wide generator to the stream of ``numpy.random.default_rng(seed)``; returns it."""
    default_generator.bit_generator.state = np.random.default_rng(seed).bit_generator.state
    return default_generator


def generator(rng, op):
    """The generator an op draws from: ``rng`` if given, else the library-wide one.

    ``op`` names the caller in the TypeError raised for anything but a ``numpy.random.Generator``.
    """
    if rng is None:
        return default_generator
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{op}: rng must be a numpy.random.Generator, e.g. np.random.default_rng(0), "
                        f"or None for the library-wide one (see tinygrad_ste.manual_seed); got {type(rng).__name__}")
    return rng
