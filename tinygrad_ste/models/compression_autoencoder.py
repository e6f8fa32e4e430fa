"""The compression autoencoder of lesson 7: an MLP encoder, an entropy bottleneck, an MLP decoder,
trained on rate + lambda * distortion (Ballé et al. 2017) with one of three proxies for rounding."""
import time
from dataclasses import dataclass, field

import numpy as np

from ..data import load_digits
from ..entropy import EntropyBottleneck, rate_bits
from ..function import no_grad
from ..module import Module
from ..nn import MLP
from ..optim import Adam
from ..tensor import Tensor
from .training import PIXELS, train_epochs

__all__ = ["CompressionAutoencoder", "CompressionAutoencoderResult", "train_compression_autoencoder"]


class CompressionAutoencoder(Module):
    """64 pixels -> encoder MLP -> y (``latent_channels``) -> entropy bottleneck -> decoder MLP -> 64.

    x: (N, 64) -> (reconstruction (N, 64), y_hat (N, C), likelihoods (N, C)).  In training
    mode the bottleneck applies its ``proxy``; in eval mode y_hat = round(y), the integers
    ``compress`` writes.  ``cdf`` and ``rng`` go to :class:`~tinygrad_ste.entropy.EntropyBottleneck`.
    """

    def __init__(self, latent_channels, hidden, proxy="noise", cdf="monotone", *, rng=None):
        self.encoder = MLP([PIXELS, hidden, latent_channels], rng=rng)
        self.bottleneck = EntropyBottleneck(latent_channels, proxy=proxy, cdf=cdf, rng=rng)
        self.decoder = MLP([latent_channels, hidden, PIXELS], rng=rng)

    def forward(self, x):
        y_hat, likelihoods = self.bottleneck(self.encoder(x))
        return self.decoder(y_hat), y_hat, likelihoods

    def compress(self, x):
        """The bytes of round(encoder(x)), entropy-coded by the bottleneck's model."""
        with no_grad():
            return self.bottleneck.compress(self.encoder(x))

    def decompress(self, data, num_images):
        """Reconstructions (num_images, 64) from the bytes :meth:`compress` wrote."""
        with no_grad():
            return self.decoder(self.bottleneck.decompress(data, (num_images, self.bottleneck.channels)))


@dataclass
class CompressionAutoencoderResult:
    """What :func:`train_compression_autoencoder` measured.

    history: per-epoch training means of "loss" (bits + lambda * squared error, per image),
    "bits" (the proxy's rate, bits per image) and "mse" (the proxy's reconstruction MSE).
    test_bits, test_mse: on the test split with true rounding (eval mode), bits per image
    estimated as -sum log2 P and MSE per pixel.  test_mse_proxy: the test MSE the decoder
    reaches with the training proxy's y_hat instead (the train/test mismatch is the gap).
    """
    model: CompressionAutoencoder
    history: dict
    test_bits: float
    test_mse: float
    test_mse_proxy: float
    seconds: float
    options: dict = field(default_factory=dict)


def train_compression_autoencoder(proxy="noise", lam=30.0, latent_channels=8, hidden=64, cdf="monotone", epochs=20,
                                  batch_size=64, lr=0.01, seed=0, verbose=False):
    """Train a :class:`CompressionAutoencoder` on the digits; returns a :class:`CompressionAutoencoderResult`.

    Minimises, per image, rate + ``lam`` * distortion with Adam(lr): rate = -sum log2 P(y_hat)
    (bits) and distortion = sum over the 64 pixels of the squared error (so ``lam`` is in bits
    per unit of squared error: larger lam, more bits, smaller error).  The encoder, decoder
    and the bottleneck's CDFs all learn from this one objective.
    """
    options = dict(proxy=proxy, lam=lam, latent_channels=latent_channels, hidden=hidden, cdf=cdf, epochs=epochs,
                   batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, _ = load_digits("train")
    test_images = Tensor(load_digits("test")[0])
    model = CompressionAutoencoder(latent_channels, hidden, proxy, cdf, rng=rng)

    def step(images):
        images = Tensor(images)
        reconstruction, _, likelihoods = model(images)
        difference = reconstruction - images
        squared_error = (difference * difference).sum() / len(images)   # per image
        bits = rate_bits(likelihoods) / len(images)
        loss = bits + lam * squared_error
        return loss, {"loss": loss.item(), "bits": bits.item(), "mse": squared_error.item() / PIXELS}

    start = time.perf_counter()
    history = train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size, rng, verbose,
                           name=f"compression autoencoder ({proxy}, lambda {lam})")
    seconds = time.perf_counter() - start
    with no_grad():
        proxy_reconstruction = model(test_images)[0].data       # still in training mode: the proxy's y_hat
        model.eval()
        reconstruction, _, likelihoods = model(test_images)
    result = CompressionAutoencoderResult(
        model=model, history=history, test_bits=rate_bits(likelihoods).item() / len(test_images),
        test_mse=float(((reconstruction.data - test_images.data) ** 2).mean()),
        test_mse_proxy=float(((proxy_reconstruction - test_images.data) ** 2).mean()), seconds=seconds,
        options=options)
    if verbose:
        print(f"compression autoencoder ({proxy}, lambda {lam}): {result.test_bits:.2f} bits/image, test MSE "
              f"{result.test_mse:.4f} (with the training proxy {result.test_mse_proxy:.4f}), {seconds:.1f} s")
    return result
