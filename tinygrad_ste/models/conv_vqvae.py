"""The convolutional VQ-VAE of lesson 10 (van den Oord et al. 2017, "Neural Discrete
Representation Learning"): an 8x8 digit becomes a grid of code vectors, one nearest code per
grid position, so that a model of the code grid (:mod:`.code_prior`) can draw new digits."""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..function import no_grad
from ..module import Module
from ..nn import Conv2d, ReLU, Sequential, Upsample, VectorQuantizer
from ..optim import Adam
from ..tensor import Tensor
from ..vq import codebook_usage
from .training import TrainingResult, timed_train_epochs

__all__ = ["ConvVQVAE", "ConvVQVAEResult", "train_conv_vqvae", "as_images", "to_code_vectors", "from_code_vectors"]

SIDE = 8   # the digits are 8x8


def as_images(x):
    """Flat digits (N, 64) as a one-channel image batch (N, 1, 8, 8)."""
    return x.reshape(x.shape[0], 1, SIDE, SIDE)


def to_code_vectors(z):
    """A feature map (N, D, H, W) as one row per grid position, (N H W, D): the quantizer's input."""
    n, d, h, w = z.shape
    return z.transpose(0, 2, 3, 1).reshape(n * h * w, d)


def from_code_vectors(rows, n, h, w):
    """The inverse of :func:`to_code_vectors`: rows (N H W, D) -> (N, D, H, W)."""
    return rows.reshape(n, h, w, rows.shape[-1]).transpose(0, 3, 1, 2)


def downsampler(in_channels, hidden, halvings, rng):
    """Conv(3x3) then ``halvings`` stride-2 Conv(4x4, padding 1), ReLU after each: (N, C, 8, 8) ->
    (N, hidden, 8 / 2^halvings, 8 / 2^halvings)."""
    layers = [Conv2d(in_channels, hidden, 3, padding=1, rng=rng), ReLU()]
    for _ in range(halvings):
        layers += [Conv2d(hidden, hidden, 4, stride=2, padding=1, rng=rng), ReLU()]
    return layers


def upsampler(in_channels, hidden, doublings, rng):
    """Conv(3x3), then ``doublings`` times nearest upsampling and Conv(3x3), then Conv(3x3) to one
    channel: (N, C, s, s) -> (N, 1, 2^doublings s, 2^doublings s)."""
    layers = [Conv2d(in_channels, hidden, 3, padding=1, rng=rng), ReLU()]
    for _ in range(doublings):
        layers += [Upsample(2), Conv2d(hidden, hidden, 3, padding=1, rng=rng), ReLU()]
    return Sequential(*layers, Conv2d(hidden, 1, 3, padding=1, rng=rng))


class ConvVQVAE(Module):
    """8x8 digit -> conv encoder -> grid (G x G) of D-vectors -> nearest of K codes each -> conv decoder.

    ``grid`` G is 4 (one stride-2 conv) or 2 (two); ``num_codes`` K, ``code_dim`` D,
    ``hidden`` channels.  ``forward(x)``: x (N, 64) -> reconstruction (N, 64), code indices
    (N, G, G) ints, the quantizer's loss.  ``decode(indices)`` draws the digits of any code
    grid (N, G, G), the step that turns a prior's samples into images.  A digit costs
    G^2 log2(K) bits.  ``vq_options`` (beta, backward rule, ema, restart_after ...) go to the
    :class:`~tinygrad_ste.vq.VectorQuantizer`, so every backward rule of ``quantize`` applies.
    """

    def __init__(self, num_codes=16, code_dim=8, hidden=32, grid=4, *, rng=None, **vq_options):
        if grid not in (2, 4):
            raise ValueError(f"ConvVQVAE: grid must be 4 or 2 (8x8 digits halved once or twice), got {grid}")
        self.num_codes, self.code_dim, self.grid = num_codes, code_dim, grid
        halvings = int(np.log2(SIDE // grid))
        self.encoder = Sequential(*downsampler(1, hidden, halvings, rng), Conv2d(hidden, code_dim, 1, rng=rng))
        self.quantizer = VectorQuantizer(num_codes, code_dim, rng=rng, **vq_options)
        self.decoder = upsampler(code_dim, hidden, halvings, rng)

    @property
    def bits(self):
        """Bits per image: grid^2 positions of log2(num_codes) bits."""
        return self.grid ** 2 * float(np.log2(self.num_codes))

    def forward(self, x):
        z_e = self.encoder(as_images(x))
        n = z_e.shape[0]
        z_q, indices, loss = self.quantizer(to_code_vectors(z_e))
        reconstruction = self.decoder(from_code_vectors(z_q, n, self.grid, self.grid))
        return reconstruction.reshape(n, SIDE * SIDE), indices.reshape(n, self.grid, self.grid), loss

    def decode(self, indices):
        """Code grids (N, G, G) ints -> digits (N, 64)."""
        indices = np.asarray(indices)
        n = indices.shape[0]
        z_q = self.quantizer.codebook[indices.reshape(-1)]
        return self.decoder(from_code_vectors(z_q, n, self.grid, self.grid)).reshape(n, SIDE * SIDE)


@dataclass
class ConvVQVAEResult(TrainingResult):
    """What :func:`train_conv_vqvae` measured.

    history: per-epoch "loss" and "reconstruction" (training MSE).  test_mse: mean test MSE;
    test_errors: per test image (359,), for paired comparisons; train_codes, test_codes:
    (N, G, G) code grids of every training and test digit (what a prior learns from and is
    scored on); perplexity: of the test codes.
    """
    test_mse: float
    test_errors: np.ndarray
    train_codes: np.ndarray
    test_codes: np.ndarray
    perplexity: float


def train_conv_vqvae(num_codes=16, code_dim=8, hidden=32, grid=4, rule="identity", ema=False, restart_after=100,
                     beta=0.25, epochs=20, batch_size=64, lr=2e-3, seed=0, verbose=False):
    """Train a :class:`ConvVQVAE` on the digits with MSE + the quantizer's loss and Adam; returns a
    :class:`ConvVQVAEResult`.  ``rule``, ``ema``, ``restart_after`` and ``beta`` are the
    quantizer's options (as in lesson 5's :func:`~.vq_autoencoder.train_vq_autoencoder`)."""
    options = dict(num_codes=num_codes, code_dim=code_dim, hidden=hidden, grid=grid, rule=rule, ema=ema,
                   restart_after=restart_after, beta=beta, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, test_images = load_digits("train")[0], load_digits("test")[0]
    model = ConvVQVAE(num_codes, code_dim, hidden, grid, rng=rng, beta=beta, backward=rule, ema=ema,
                      restart_after=restart_after)

    def step(images):
        images = Tensor(images)
        reconstruction, _, quantizer_loss = model(images)
        reconstruction_loss = F.mse_loss(reconstruction, images)
        loss = reconstruction_loss + quantizer_loss
        return loss, {"loss": loss.item(), "reconstruction": reconstruction_loss.item()}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size,
                                          rng, verbose, name="conv-vqvae")
    model.eval()
    with no_grad():
        reconstruction, test_codes, _ = model(Tensor(test_images))
        train_codes = model(Tensor(train_images))[1]
    test_errors = ((reconstruction.data - test_images) ** 2).mean(axis=1)
    return ConvVQVAEResult(model=model, history=history, test_mse=float(test_errors.mean()), test_errors=test_errors,
                           train_codes=train_codes, test_codes=test_codes,
                           perplexity=codebook_usage(test_codes, num_codes)[0], seconds=seconds, options=options)
