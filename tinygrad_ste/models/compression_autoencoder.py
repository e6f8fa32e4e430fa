"""The compression autoencoder of lesson 7: an MLP encoder, an entropy bottleneck, an MLP decoder,
trained on rate + lambda * distortion (Ballé et al. 2017) with one of three proxies for rounding."""
from dataclasses import dataclass

import numpy as np

from ..data import load_digits
from ..entropy import EntropyBottleneck, rate_bits
from ..function import no_grad
from ..module import Module
from ..nn import MLP
from ..optim import Adam
from ..tensor import Tensor
from .training import PIXELS, TrainingResult, kmeans_reconstruction_mse, timed_train_epochs
from .vq_autoencoder import train_vq_autoencoder

__all__ = ["CompressionAutoencoder", "CompressionAutoencoderResult", "train_compression_autoencoder",
           "codebook_rate_distortion"]


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
class CompressionAutoencoderResult(TrainingResult):
    """What :func:`train_compression_autoencoder` measured.

    history: per-epoch training means of "loss" (bits + lambda * squared error, per image),
    "bits" (the proxy's rate, bits per image) and "mse" (the proxy's reconstruction MSE).
    test_bits, test_mse: on the test split with true rounding (eval mode), bits per image
    estimated as -sum log2 P and MSE per pixel.  test_mse_proxy: the test MSE the decoder
    reaches with the training proxy's y_hat instead (the train/test mismatch is the gap).
    """
    test_bits: float
    test_mse: float
    test_mse_proxy: float


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

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size,
                                          rng, verbose, name=f"compression autoencoder ({proxy}, lambda {lam})")
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


def codebook_rate_distortion(kmeans_sizes=(4, 16, 64, 256), vectors_per_image=(1, 2, 4), residual_vectors=1,
                             residual_stages=4, hidden=64, epochs=20, seed=0):
    """Bits per image and test MSE of the codebook compressors lesson 7 sets beside the entropy-coded ones.

    Their bits are fixed by their size (no entropy coding), and every code vector is one of 16
    values, 4 bits:

    * k-means with K centres, K in ``kmeans_sizes``: log2 K bits (:func:`kmeans_reconstruction_mse`);
    * lesson 5's VQ autoencoder (16 codes of dimension 4) and lesson 6's FSQ (4 x 4 levels), each
      with c code vectors per image for c in ``vectors_per_image``: 4c bits;
    * one lesson-6 residual VQ of ``residual_stages`` stages of 16 codes (dimension 8),
      ``residual_vectors`` vectors per image, read after its first q stages: 4 q residual_vectors bits.

    The autoencoders are :func:`train_vq_autoencoder` runs with ``hidden``, ``epochs`` and ``seed``
    (the codebook defaults: straight-through, dead-code restart).  Returns ``{label: (bits, test MSE)}``,
    two lists per compressor: the ``curves`` :func:`~tinygrad_ste.viz.plot_rate_distortion` draws.
    """
    settings = dict(hidden=hidden, epochs=epochs, seed=seed)
    vq = [train_vq_autoencoder(num_codes=16, codes_per_image=c, code_dim=4, **settings) for c in vectors_per_image]
    fsq = [train_vq_autoencoder(levels=[4, 4], codes_per_image=c, **settings) for c in vectors_per_image]
    residual = train_vq_autoencoder(num_codes=16, num_quantizers=residual_stages, codes_per_image=residual_vectors,
                                    code_dim=8, **settings)
    stages = range(1, residual_stages + 1)
    return {"k-means (log2 K bits)": ([float(np.log2(k)) for k in kmeans_sizes],
                                      [kmeans_reconstruction_mse(k, seed) for k in kmeans_sizes]),
            "VQ, 16 codes (lesson 5)": ([r.bits for r in vq], [r.test_mse for r in vq]),
            "FSQ, 4 x 4 levels (lesson 6)": ([r.bits for r in fsq], [r.test_mse for r in fsq]),
            f"residual VQ, first q of {residual_stages} stages (lesson 6)": (
                [residual.bits * q / residual_stages for q in stages], residual.stage_mse)}
