"""Layers, in the shape of PyTorch's ``torch.nn``: Linear, Sequential, activations, MLP.

Every layer is a :class:`~tinygrad_ste.module.Module` (re-exported here as ``nn.Module``):
its parameters are its Tensor attributes with requires_grad=True.  The quantizers live in
their own modules and are re-exported here: ``nn.VectorQuantizer`` and ``nn.ResidualVQ``
(:mod:`tinygrad_ste.vq`), ``nn.FSQ`` (:mod:`tinygrad_ste.fsq`); the entropy bottleneck of
learned compression lives in :mod:`tinygrad_ste.entropy` and is re-exported as
``nn.EntropyBottleneck`` (with its ``nn.rate_bits``); the mixture of experts with hard routing
lives in :mod:`tinygrad_ste.moe` and is re-exported as ``nn.MixtureOfExperts``.

    >>> import numpy as np
    >>> from tinygrad_ste import Tensor, nn
    >>> model = nn.MLP([4, 8, 2], activation=nn.Tanh)   # rng= optional: see tinygrad_ste.random
    >>> [name for name, _ in model.named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
    >>> model(Tensor(np.zeros((3, 4)))).shape
    (3, 2)
"""
import numpy as np

from .module import Module
from .random import generator
from .tensor import Tensor
from .fsq import FSQ
from .vq import ResidualVQ, VectorQuantizer
from .entropy import EntropyBottleneck, rate_bits

__all__ = ["Module", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "MLP", "VectorQuantizer", "ResidualVQ", "FSQ",
           "EntropyBottleneck", "rate_bits", "MixtureOfExperts"]


class Linear(Module):
    """y = x @ weight + bias.  x: (N, in_features) -> y: (N, out_features).

    ``weight`` has shape (in_features, out_features) -- stored that way round, unlike
    PyTorch, so the forward needs no transpose.  Both weight and bias start uniform in
    [-1/sqrt(in_features), 1/sqrt(in_features)], PyTorch's default for ``nn.Linear``:
    an output is a sum of in_features terms, so this scale keeps its variance about a
    third of the input's, whatever the width, and training starts neither saturated nor
    vanishing.  ``rng`` (a ``numpy.random.Generator``) draws the initial values; None
    draws them from the library-wide generator (:func:`tinygrad_ste.manual_seed`).
    """

    def __init__(self, in_features, out_features, bias=True, *, rng=None):
        rng = generator(rng, "Linear")
        bound = 1 / np.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Tensor(rng.uniform(-bound, bound, (in_features, out_features)), requires_grad=True)
        self.bias = Tensor(rng.uniform(-bound, bound, out_features), requires_grad=True) if bias else None

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input has shape {x.shape}, "
                             f"its last axis must be {self.in_features}")
        y = x @ self.weight
        return y if self.bias is None else y + self.bias

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class Sequential(Module):
    """Apply modules one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)


class ReLU(Module):
    """max(x, 0), elementwise."""
    def forward(self, x):
        return x.relu()


class Tanh(Module):
    """tanh(x), elementwise."""
    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    """1 / (1 + e^-x), elementwise."""
    def forward(self, x):
        return x.sigmoid()


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of the given ``sizes`` with an activation between them.

    ``MLP([64, 128, 10], activation=ReLU)`` is
    ``Sequential(Linear(64, 128), ReLU(), Linear(128, 10))``: no activation after the last
    layer, so the output can be logits or any real value.  ``activation`` is a Module
    class (or any function returning a fresh Module); ``rng`` draws the initial weights
    (None: the library-wide generator).
    """

    def __init__(self, sizes, activation=ReLU, *, rng=None):
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i > 0:
                layers.append(activation())
            layers.append(Linear(fan_in, fan_out, rng=rng))
        super().__init__(*layers)


# Last: the mixture of experts builds its experts from Linear and MLP above.
from .moe import MixtureOfExperts  # noqa: E402
