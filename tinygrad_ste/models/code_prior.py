"""The learned prior of lesson 10: an autoregressive model of a grid of codes that draws new ones.

Once a digit is a grid of codes (the conv VQ-VAE, VQ-VAE-2, the dVAE), a model of the codes
is a model of digits: p(codes) = prod_i p(c_i | c_<i) in raster order (left to right, top to
bottom), trained by cross-entropy on the training digits' codes; sampling draws c_1, c_2, ...
one position at a time and the decoder turns the grid into a digit (van den Oord et al. 2017,
section 4; for VQ-VAE-2, a prior over the top codes and one over the bottom codes given the top).

**Why a masked convolution and not a transformer.**  The grids here are at most 4x4 = 16
positions, and the engine has just gained ``conv2d``: a PixelCNN-style stack (van den Oord et
al. 2016, "Pixel Recurrent Neural Networks") is a few lines on top of it, where a causal
transformer would need attention, positional embeddings and layer norm written first.  One
detail makes the small grid easy: a masked kernel of size (2H - 1) x (2W - 1), centred on each
position with padding (H - 1, W - 1), reaches *every* earlier position of an H x W grid, so the
"blind spot" of stacked 3x3 PixelCNN layers (earlier positions up and to the right that no
stack of small masked kernels sees) never arises.

Also here: the two baselines a prior must beat (uniform codes, :func:`uniform_bits`; each
position on its own, :func:`independent_prior_bits`), and :func:`sample_quality`, which scores
generated digits with a classifier trained on real ones.
"""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..function import no_grad
from ..module import Module
from ..nn import Conv2d
from ..optim import Adam
from ..random import generator
from ..tensor import Tensor
from .training import TrainingResult, timed_train_epochs

__all__ = ["MaskedConv2d", "CodePrior", "CodePriorResult", "train_code_prior", "uniform_bits",
           "independent_prior_bits", "sample_quality"]


class MaskedConv2d(Conv2d):
    """A :class:`~tinygrad_ste.nn.Conv2d` whose kernel only sees earlier grid positions (raster order).

    Kernel (kH, kW) with both odd, padding (kH // 2, kW // 2), so output (i, j) is centred on
    input (i, j).  The weight is multiplied by a fixed 0/1 mask in every forward: kernel rows
    above the centre are kept, the centre row left of the centre is kept, the rest is zero.
    ``mask="A"`` (first layer) also zeroes the centre itself, so output (i, j) never sees the
    code at (i, j) it must predict; ``mask="B"`` (later layers) keeps it, since there the
    centre holds features computed only from earlier positions.
    """

    def __init__(self, in_channels, out_channels, kernel_size, mask="B", *, rng=None):
        kh, kw = kernel_size
        if kh % 2 == 0 or kw % 2 == 0 or mask not in ("A", "B"):
            raise ValueError(f"MaskedConv2d: need an odd kernel and mask 'A' or 'B', got {kernel_size} and {mask!r}")
        super().__init__(in_channels, out_channels, (kh, kw), padding=(kh // 2, kw // 2), rng=rng)
        keep = np.zeros((kh, kw))
        keep[:kh // 2] = 1
        keep[kh // 2, :kw // 2 + (mask == "B")] = 1
        self.mask = keep   # a plain array, not a Tensor: not a parameter, not saved
        self.mask_type = mask

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class CodePrior(Module):
    """p(codes) = prod_i softmax(logits_i)[c_i] over an H x W grid of codes from ``num_codes`` K.

    Layers: one-hot codes (N, K, H, W) -> MaskedConv2d "A" (kernel 2H-1 x 2W-1, which alone sees
    every earlier position) -> ReLU -> 1x1 conv -> ReLU -> 1x1 conv -> logits (N, H, W, K).  A 1x1
    conv is a mask-"B" layer of size one: it mixes features of one position only.  With
    ``condition_codes`` Kc and ``condition_grid`` (h, w) (VQ-VAE-2's bottom prior given the
    top), the condition's one-hot grid goes through a 1x1 conv, is upsampled to H x W and
    added after the first layer: unmasked, since the whole condition is known before sampling.

    ``logits(codes, condition=None)``, ``bits(codes, condition=None)`` (per grid, (N,),
    -log2 p(codes)), ``sample(n, temperature, condition=None, rng=None)`` (N, H, W).
    """

    def __init__(self, num_codes, grid, hidden=64, condition_codes=None, condition_grid=None, *, rng=None):
        height, width = grid
        self.num_codes, self.grid, self.hidden = num_codes, (height, width), hidden
        kernel = (2 * height - 1, 2 * width - 1)
        self.first = MaskedConv2d(num_codes, hidden, kernel, mask="A", rng=rng)
        self.head = [Conv2d(hidden, hidden, 1, rng=rng), Conv2d(hidden, num_codes, 1, rng=rng)]
        self.condition_codes, self.condition_grid = condition_codes, condition_grid
        self.condition = None
        if condition_codes is not None:
            if height % condition_grid[0] or width % condition_grid[1]:
                raise ValueError(f"CodePrior: the condition grid {condition_grid} must divide the grid {grid}")
            self.condition = Conv2d(condition_codes, hidden, 1, rng=rng)

    def _one_hot(self, codes, num_codes):
        return F.one_hot(codes, num_codes).transpose(0, 3, 1, 2)

    def logits(self, codes, condition=None):
        """codes (N, H, W) ints (and the condition (N, h, w)) -> logits (N, H, W, K); position i's
        logits depend only on the codes before i in raster order."""
        codes = np.asarray(codes)
        if codes.ndim != 3 or codes.shape[1:] != self.grid:
            raise ValueError(f"CodePrior: expected codes of shape (N, {self.grid[0]}, {self.grid[1]}), "
                             f"got {codes.shape}")
        if (condition is None) != (self.condition is None):
            raise ValueError("CodePrior: give a condition exactly when the prior was built with condition_codes")
        h = self.first(self._one_hot(codes, self.num_codes))
        if condition is not None:
            scale = (self.grid[0] // self.condition_grid[0], self.grid[1] // self.condition_grid[1])
            h = h + F.upsample(self.condition(self._one_hot(np.asarray(condition), self.condition_codes)), scale)
        return self.head[1](self.head[0](h.relu()).relu()).transpose(0, 2, 3, 1)

    def bits(self, codes, condition=None):
        """-log2 p(codes) of each grid, (N,) (NumPy): the bits an entropy coder would spend on it."""
        with no_grad():
            nats = F.cross_entropy(self.logits(codes, condition), np.asarray(codes), reduction="none").data
        return nats.sum(axis=(1, 2)) / np.log(2)

    def sample(self, n, temperature=1.0, condition=None, rng=None):
        """Draw n grids, position by position in raster order, from softmax(logits / temperature).

        temperature 1 samples the model; below 1 sharpens it towards its most likely codes;
        0 takes the argmax at every step (no randomness).  condition (n, h, w) for a
        conditional prior.  rng: a NumPy Generator (None: the library-wide one).
        """
        if temperature < 0:
            raise ValueError(f"CodePrior.sample: temperature must be >= 0, got {temperature}")
        rng = generator(rng, "CodePrior.sample")
        codes = np.zeros((n, *self.grid), dtype=np.int64)
        with no_grad():
            for i in range(self.grid[0]):
                for j in range(self.grid[1]):
                    logits = self.logits(codes, condition).data[:, i, j]
                    if temperature == 0:
                        codes[:, i, j] = logits.argmax(axis=1)
                        continue
                    scaled = logits / temperature
                    p = np.exp(scaled - scaled.max(axis=1, keepdims=True))
                    p /= p.sum(axis=1, keepdims=True)
                    codes[:, i, j] = (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1).clip(max=self.num_codes - 1)
        return codes


def uniform_bits(num_codes, positions):
    """Bits per grid of the uniform prior: every position log2(num_codes) bits."""
    return positions * float(np.log2(num_codes))


def independent_prior_bits(train_codes, test_codes, num_codes):
    """Bits of each test grid (N,) under independent per-position code frequencies.

    p_i(k) = (count of code k at position i in the training grids + 1) / (N_train + K): the
    add-one (Laplace) estimate, so a code never seen at a position in training costs finite bits.
    """
    train = np.asarray(train_codes).reshape(len(train_codes), -1)
    test = np.asarray(test_codes).reshape(len(test_codes), -1)
    counts = np.stack([np.bincount(train[:, i], minlength=num_codes) for i in range(train.shape[1])])
    p = (counts + 1) / (len(train) + num_codes)
    return -np.log2(p[np.arange(test.shape[1]), test]).sum(axis=1)


@dataclass
class CodePriorResult(TrainingResult):
    """What :func:`train_code_prior` measured: per-epoch "loss" (nats per position); test_bits
    (N_test,), -log2 p of each test grid; independent_bits (N_test,), the same under
    per-position frequencies; uniform_bits, the same for every grid."""
    test_bits: np.ndarray
    independent_bits: np.ndarray
    uniform_bits: float


def train_code_prior(train_codes, test_codes, num_codes, train_condition=None, test_condition=None,
                     condition_codes=None, hidden=64, epochs=30, batch_size=64, lr=3e-3, seed=0, verbose=False):
    """Fit a :class:`CodePrior` to the training grids (N, H, W) by cross-entropy with Adam.

    With ``condition_codes``, ``train_condition``/``test_condition`` (N, h, w) are the codes it
    is conditioned on (VQ-VAE-2's top codes for its bottom prior).  Returns a
    :class:`CodePriorResult` scored on ``test_codes``.
    """
    options = dict(num_codes=num_codes, condition_codes=condition_codes, hidden=hidden, epochs=epochs,
                   batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_codes, test_codes = np.asarray(train_codes), np.asarray(test_codes)
    conditional = condition_codes is not None
    model = CodePrior(num_codes, train_codes.shape[1:], hidden, condition_codes,
                      np.asarray(train_condition).shape[1:] if conditional else None, rng=rng)

    def step(codes, *condition):
        loss = F.cross_entropy(model.logits(codes, condition[0] if conditional else None), codes)
        return loss, {"loss": loss.item()}

    arrays = (train_codes, np.asarray(train_condition)) if conditional else (train_codes,)
    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), arrays, epochs, batch_size, rng,
                                          verbose, name="code prior")
    positions = int(np.prod(train_codes.shape[1:]))
    return CodePriorResult(model=model, history=history, test_bits=model.bits(test_codes, test_condition),
                           independent_bits=independent_prior_bits(train_codes, test_codes, num_codes),
                           uniform_bits=uniform_bits(num_codes, positions), seconds=seconds, options=options)


def sample_quality(images, classifier, train_images):
    """How digit-like generated ``images`` (N, 64) are, judged by a ``classifier`` of real digits.

    Returns a dict of NumPy values: "class_counts" (10,), how many images it assigns to each
    digit; "total_variation", half the L1 distance of those frequencies from uniform (0: every
    digit equally often; 0.9: all one digit); "confidence" (N,), its softmax probability of
    the class it picks; "nearest_distance" (N,), the mean squared pixel distance to the
    nearest training digit (near 0 would mean copies of training digits).
    """
    images = np.asarray(images)
    with no_grad():
        probabilities = F.softmax(classifier(Tensor(images)), axis=-1).data
    counts = np.bincount(probabilities.argmax(axis=1), minlength=10)
    squared = (images ** 2).sum(1)[:, None] - 2 * images @ train_images.T + (train_images ** 2).sum(1)[None, :]
    return {"class_counts": counts, "total_variation": float(np.abs(counts / counts.sum() - 0.1).sum() / 2),
            "confidence": probabilities.max(axis=1),
            "nearest_distance": np.maximum(squared.min(axis=1), 0) / images.shape[1]}
