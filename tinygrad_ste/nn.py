"""Layers, in the shape of PyTorch's ``torch.nn``: Linear, Conv2d, Upsample, Sequential, activations, MLP.

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

from . import functional as F
from .module import Module, Parameter
from .random import generator
from .tensor import Tensor
from .fsq import FSQ
from .vq import ResidualVQ, VectorQuantizer
from .entropy import EntropyBottleneck, rate_bits
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss

__all__ = ["Module", "Parameter", "Linear", "Conv2d", "Upsample", "Sequential", "ReLU", "Tanh", "Sigmoid", "LeakyReLU",
           "GELU", "Softmax", "Flatten", "Identity", "Dropout", "Embedding", "MLP",
           "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           "VectorQuantizer", "ResidualVQ", "FSQ", "EntropyBottleneck", "rate_bits", "MixtureOfExperts"]


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


class Conv2d(Module):
    """y = conv2d(x, weight) + bias: x (N, in_channels, H, W) -> y (N, out_channels, H_out, W_out).

    ``weight`` (out_channels, in_channels, kH, kW) in PyTorch's layout, ``bias``
    (out_channels,); H_out = floor((H + 2 padding - kH) / stride) + 1 (see
    :func:`tinygrad_ste.functional.conv2d`).  Both start uniform in [-1/sqrt(fan_in),
    1/sqrt(fan_in)] with fan_in = in_channels * kH * kW, the number of inputs one output
    sums, for the reason given in :class:`Linear` (PyTorch's default too).  ``rng`` draws
    them (None: the library-wide generator, :func:`tinygrad_ste.manual_seed`).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, *, rng=None):
        rng = generator(rng, "Conv2d")
        kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding = stride, padding
        bound = 1 / np.sqrt(in_channels * kernel[0] * kernel[1])
        self.weight = Tensor(rng.uniform(-bound, bound, (out_channels, in_channels, *kernel)), requires_grad=True)
        self.bias = Tensor(rng.uniform(-bound, bound, out_channels), requires_grad=True) if bias else None

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: input has shape {x.shape}, expected (N, {self.in_channels}, H, W)")
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None})")


class Upsample(Module):
    """Nearest-neighbour upsampling by ``scale_factor``: (N, C, H, W) -> (N, C, s H, s W).

    Followed by a :class:`Conv2d`, it is this library's decoder step up in resolution, in
    place of a transposed convolution (:mod:`tinygrad_ste.convolution` says why).
    """

    def __init__(self, scale_factor=2):
        self.scale_factor = scale_factor

    def forward(self, x):
        return F.upsample(x, self.scale_factor)

    def __repr__(self):
        return f"Upsample(scale_factor={self.scale_factor})"


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


class LeakyReLU(Module):
    """x for x >= 0, ``negative_slope`` * x below (:func:`~tinygrad_ste.functional.leaky_relu`)."""
    def __init__(self, negative_slope=0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


class GELU(Module):
    """x Phi(x), Phi the standard normal CDF, or its tanh approximation with ``approximate="tanh"``
    (Hendrycks and Gimpel 2016; :func:`~tinygrad_ste.functional.gelu`)."""
    def __init__(self, approximate="none"):
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)


class Softmax(Module):
    """softmax along ``dim``: exp(x_i) / sum_j exp(x_j) (:func:`~tinygrad_ste.functional.softmax`)."""
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, axis=self.dim)


class Flatten(Module):
    """Merge axes ``start_dim`` to ``end_dim`` into one: (N, C, H, W) -> (N, C H W) by default,
    which keeps the batch axis (``Tensor.flatten``'s default, start_dim=0, merges it too)."""
    def __init__(self, start_dim=1, end_dim=-1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)


class Identity(Module):
    """Returns its input: a placeholder where a model may or may not have a layer."""
    def forward(self, x):
        return x


class Dropout(Module):
    """While training, zero each element with probability ``p`` and scale the others by 1 / (1 - p),
    so the expected output is the input (Srivastava et al. 2014); after ``eval()``, the identity.

    The gradient passes through the kept elements with the same scale.  ``rng`` draws the mask
    (None: the library-wide generator, :func:`tinygrad_ste.manual_seed`)."""
    def __init__(self, p=0.5, *, rng=None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p}")
        self.p, self.rng = p, generator(rng, "Dropout")

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        kept = self.rng.random(x.shape) >= self.p
        return x * (kept / (1 - self.p)).astype(x.dtype)

    def __repr__(self):
        return f"Dropout(p={self.p})"


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``: indices (...) -> vectors
    (..., embedding_dim), row ``i`` of ``weight`` for index ``i``.  The gradient of each row is the
    sum of the gradients where its index was used.  ``weight`` starts standard normal, as in
    PyTorch; ``rng`` draws it (None: the library-wide generator)."""
    def __init__(self, num_embeddings, embedding_dim, *, rng=None):
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Tensor(generator(rng, "Embedding").standard_normal((num_embeddings, embedding_dim)),
                             requires_grad=True)

    def forward(self, indices):
        indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if indices.dtype.kind not in "iu" or (indices.size and not 0 <= indices.min() <= indices.max()
                                               < self.num_embeddings):
            raise ValueError(f"{self!r}: indices must be integers in [0, {self.num_embeddings}), got dtype "
                             f"{indices.dtype} and shape {indices.shape}")
        return self.weight[indices]

    def __repr__(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"


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
