"""The VQ autoencoder of lesson 5: several code vectors per image from one shared codebook."""
import time
from dataclasses import dataclass, field

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..function import no_grad
from ..module import Module
from ..nn import MLP, VectorQuantizer
from ..optim import Adam
from ..tensor import Tensor
from ..vq import codebook_usage
from .training import PIXELS, kmeans_reconstruction_mse, train_epochs

__all__ = ["VQAutoencoder", "VQAutoencoderResult", "train_vq_autoencoder"]


class VQAutoencoder(Module):
    """64 pixels -> encoder MLP -> ``codes_per_image`` vectors of ``code_dim`` -> quantized -> decoder MLP -> 64.

    x: (N, 64) -> (reconstruction (N, 64), indices (N, codes_per_image), vq loss).
    All code vectors of all images share one codebook of ``num_codes`` rows, so an image
    is described by codes_per_image choices among num_codes: num_codes ** codes_per_image
    possible reconstructions instead of num_codes for one code per image.
    ``vq_options`` go to :class:`~tinygrad_ste.vq.VectorQuantizer`.
    """

    def __init__(self, num_codes, codes_per_image, code_dim, hidden, *, rng=None, **vq_options):
        self.codes_per_image, self.code_dim = codes_per_image, code_dim
        self.encoder = MLP([PIXELS, hidden, codes_per_image * code_dim], rng=rng)
        self.quantizer = VectorQuantizer(num_codes, code_dim, rng=rng, **vq_options)
        self.decoder = MLP([codes_per_image * code_dim, hidden, PIXELS], rng=rng)

    def forward(self, x):
        batch = x.shape[0]
        z_e = self.encoder(x).reshape(batch * self.codes_per_image, self.code_dim)
        z_q, indices, vq_loss = self.quantizer(z_e)
        reconstruction = self.decoder(z_q.reshape(batch, self.codes_per_image * self.code_dim))
        return reconstruction, indices.reshape(batch, self.codes_per_image), vq_loss


@dataclass
class VQAutoencoderResult:
    """What :func:`train_vq_autoencoder` measured.

    history: per-epoch training means of "loss" (reconstruction + vq loss),
    "reconstruction" (MSE), "perplexity" and "usage" (per batch).  test_mse: test
    reconstruction MSE; kmeans_mse: :func:`kmeans_reconstruction_mse` with the same
    number of codes.  perplexity, usage: over all test code vectors.  dead_fraction:
    share of codes no training image uses.  restarts: dead codes restarted in training.
    """
    model: VQAutoencoder
    history: dict
    test_mse: float
    kmeans_mse: float
    perplexity: float
    usage: float
    dead_fraction: float
    restarts: int
    seconds: float
    options: dict = field(default_factory=dict)


def train_vq_autoencoder(num_codes=256, codes_per_image=8, code_dim=8, hidden=128, rule="identity", ema=False,
                         restart_after=100, kmeans_init=False, beta=0.25, epochs=60, batch_size=64, lr=2e-3,
                         seed=0, verbose=False):
    """Train a :class:`VQAutoencoder` on the digits; returns a :class:`VQAutoencoderResult`.

    Minimises MSE(decoder(z_q), x) + the quantizer's loss with Adam(lr).  ``rule``
    ("identity" straight-through, "rotation" trick, "zero"), ``ema``, ``restart_after``
    (None: no dead-code restart), ``kmeans_init`` and ``beta`` are the quantizer's options.
    """
    options = dict(num_codes=num_codes, codes_per_image=codes_per_image, code_dim=code_dim, hidden=hidden,
                   rule=rule, ema=ema, restart_after=restart_after, kmeans_init=kmeans_init, beta=beta,
                   epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    model = VQAutoencoder(num_codes, codes_per_image, code_dim, hidden, rng=rng, beta=beta, backward=rule, ema=ema,
                          restart_after=restart_after, kmeans_init=kmeans_init)
    quantizer = model.quantizer

    def step(images):
        images = Tensor(images)
        reconstruction, _, vq_loss = model(images)
        reconstruction_loss = F.mse_loss(reconstruction, images)
        loss = reconstruction_loss + vq_loss
        return loss, {"loss": loss.item(), "reconstruction": reconstruction_loss.item(),
                      "perplexity": quantizer.perplexity, "usage": quantizer.usage}

    start = time.perf_counter()
    history = train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size, rng,
                           verbose, name="vq-autoencoder")
    seconds = time.perf_counter() - start

    model.eval()
    with no_grad():
        reconstruction, test_indices, _ = model(Tensor(test_images))
        _, train_indices, _ = model(Tensor(train_images))
    perplexity, usage = codebook_usage(test_indices, num_codes)
    result = VQAutoencoderResult(
        model=model, history=history, test_mse=float(((reconstruction.data - test_images) ** 2).mean()),
        kmeans_mse=kmeans_reconstruction_mse(num_codes, seed), perplexity=perplexity, usage=usage,
        dead_fraction=1 - codebook_usage(train_indices, num_codes)[1], restarts=quantizer.restarts,
        seconds=seconds, options=options)
    if verbose:
        print(f"vq-autoencoder: test MSE {result.test_mse:.4f} (k-means with {num_codes} codes: "
              f"{result.kmeans_mse:.4f}), perplexity {perplexity:.1f}, usage {usage:.2f}, "
              f"dead {result.dead_fraction:.2f}, {seconds:.1f} s")
    return result
