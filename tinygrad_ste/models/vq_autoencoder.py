"""The VQ autoencoder of lesson 5 (several code vectors per image from one shared codebook),
and the FSQ and residual-VQ bottlenecks lesson 6 compares with it at equal bits."""
import time
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..function import no_grad
from ..module import Module
from ..nn import FSQ, MLP, ResidualVQ, VectorQuantizer
from ..optim import Adam
from ..tensor import Tensor
from ..vq import codebook_usage
from .training import PIXELS, TrainingResult, kmeans_reconstruction_mse, timed_train_epochs

__all__ = ["VQAutoencoder", "VQAutoencoderResult", "train_vq_autoencoder", "EQUAL_BITS", "train_at_equal_bits"]

# Lesson 6: three bottlenecks at (about) the same bits per image, at two budgets.
# VQ: vectors * log2(codes); FSQ: vectors * log2(prod(levels)); RVQ: vectors * stages * log2(codes).
EQUAL_BITS = {
    24: {"VQ": dict(num_codes=256, codes_per_image=3, code_dim=8),             # 3 * 8 bits
         "FSQ": dict(levels=[8, 6, 5], codes_per_image=3),                      # 3 * log2(240) = 23.7 bits
         "RVQ": dict(num_codes=16, num_quantizers=3, codes_per_image=2, code_dim=8)},   # 2 * 3 * 4 bits
    40: {"VQ": dict(num_codes=1024, codes_per_image=4, code_dim=8),            # 4 * 10 bits
         "FSQ": dict(levels=[8, 5, 5, 5], codes_per_image=4),                   # 4 * log2(1000) = 39.9 bits
         "RVQ": dict(num_codes=16, num_quantizers=5, codes_per_image=2, code_dim=8)},   # 2 * 5 * 4 bits
}


class VQAutoencoder(Module):
    """64 pixels -> encoder MLP -> ``codes_per_image`` vectors of ``code_dim`` -> quantized -> decoder MLP -> 64.

    x: (N, 64) -> (reconstruction (N, 64), indices, quantizer loss).  The bottleneck is one of

    * a :class:`~tinygrad_ste.vq.VectorQuantizer` (the default): all code vectors of all
      images share one codebook of ``num_codes`` rows; indices (N, codes_per_image);
    * ``levels=[...]``: an :class:`~tinygrad_ste.fsq.FSQ` grid (no codebook, no loss: the
      loss returned is 0); code_dim must be len(levels) (or None); indices (N, codes_per_image);
    * ``num_quantizers=Q``: a :class:`~tinygrad_ste.vq.ResidualVQ` of Q stages of
      ``num_codes`` codes each; indices (N, codes_per_image, q) for the q stages used.

    An image is described by codes_per_image choices among ``codes_per_vector`` grid
    points or codes: ``bits`` = codes_per_image * log2(codes_per_vector) per image.
    ``quantizer_options`` go to the quantizer (the rule is ``backward``).  ``rng`` draws the
    initial weights and codes (None: the library-wide generator, see :func:`tinygrad_ste.manual_seed`).
    """

    def __init__(self, num_codes, codes_per_image, code_dim, hidden, *, rng=None, levels=None, num_quantizers=None,
                 **quantizer_options):
        if levels is not None:
            if num_quantizers is not None or code_dim not in (None, len(levels)):
                raise ValueError(f"VQAutoencoder: an FSQ bottleneck (levels={levels}) takes code_dim = len(levels) "
                                 f"and no num_quantizers; got code_dim={code_dim}, num_quantizers={num_quantizers}")
            code_dim = len(levels)
        self.codes_per_image, self.code_dim = codes_per_image, code_dim
        self.encoder = MLP([PIXELS, hidden, codes_per_image * code_dim], rng=rng)
        if levels is not None:
            self.quantizer = FSQ(levels, **quantizer_options)
            self.codes_per_vector = self.quantizer.codebook_size
        elif num_quantizers is not None:
            self.quantizer = ResidualVQ(num_quantizers, num_codes, code_dim, rng=rng, **quantizer_options)
            self.codes_per_vector = num_codes ** num_quantizers
        else:
            self.quantizer = VectorQuantizer(num_codes, code_dim, rng=rng, **quantizer_options)
            self.codes_per_vector = num_codes
        self.bits = codes_per_image * float(np.log2(self.codes_per_vector))
        self.decoder = MLP([codes_per_image * code_dim, hidden, PIXELS], rng=rng)

    def forward(self, x, n_quantizers=None):
        """``n_quantizers``: with a residual-VQ bottleneck, use only its first stages (a coarser code)."""
        batch = x.shape[0]
        z_e = self.encoder(x).reshape(batch * self.codes_per_image, self.code_dim)
        if isinstance(self.quantizer, ResidualVQ):
            z_q, indices, loss = self.quantizer(z_e, n_quantizers=n_quantizers)
        elif isinstance(self.quantizer, FSQ):
            (z_q, indices), loss = self.quantizer(z_e), Tensor(0.0)
        else:
            z_q, indices, loss = self.quantizer(z_e)
        reconstruction = self.decoder(z_q.reshape(batch, self.codes_per_image * self.code_dim))
        return reconstruction, indices.reshape(batch, self.codes_per_image, *indices.shape[1:]), loss


@dataclass
class VQAutoencoderResult(TrainingResult):
    """What :func:`train_vq_autoencoder` measured.

    history: per-epoch training means of "loss" (reconstruction + quantizer loss),
    "reconstruction" (MSE), "perplexity" and "usage" (per batch).  test_mse: test
    reconstruction MSE, the mean of test_errors, the per-image test MSE (test images,), which
    pairs this model with another scored on the same images; kmeans_mse: the k-means baseline
    (:func:`kmeans_reconstruction_mse`) with the same
    number of codes (VQ bottleneck only, else None).  perplexity, usage: over all test
    code vectors (residual VQ: the mean over its stages).  dead_fraction: share of codes
    no training image uses (residual VQ: mean over stages).  restarts: dead codes
    restarted in training.  bits: bits per image.  stage_mse (residual VQ only, else
    None): test MSE using the first 1, 2, ..., Q stages.  seconds: training time.
    """
    test_mse: float
    kmeans_mse: float
    perplexity: float
    usage: float
    dead_fraction: float
    restarts: int
    bits: float = None
    stage_mse: list = None
    test_errors: np.ndarray = None


def _usage(indices, codes):
    """(perplexity, usage) of code indices (N, C) or, per stage, (N, C, Q): the mean over stages."""
    per_stage = indices.reshape(-1, 1 if indices.ndim == 2 else indices.shape[-1])
    return tuple(np.mean([codebook_usage(per_stage[:, s], codes)[i] for s in range(per_stage.shape[1])])
                 for i in (0, 1))


def train_vq_autoencoder(num_codes=256, codes_per_image=8, code_dim=8, hidden=128, rule="identity", ema=False,
                         restart_after=100, kmeans_init=False, beta=0.25, epochs=60, batch_size=64, lr=2e-3,
                         seed=0, verbose=False, levels=None, num_quantizers=None, quantizer_dropout=False):
    """Train a :class:`VQAutoencoder` on the digits; returns a :class:`VQAutoencoderResult`.

    Minimises MSE(decoder(z_q), x) + the quantizer's loss with Adam(lr).  ``rule``
    ("identity" straight-through, "rotation" trick, "zero"), ``ema``, ``restart_after``
    (None: no dead-code restart), ``kmeans_init`` and ``beta`` are the quantizer's options.
    ``levels``: an FSQ bottleneck instead (``rule`` is then round's rule; num_codes,
    code_dim and the codebook options are not used).  ``num_quantizers``: a residual VQ of
    that many stages, each with the codebook options; ``quantizer_dropout`` its option.
    """
    options = dict(num_codes=num_codes, codes_per_image=codes_per_image, code_dim=code_dim, hidden=hidden,
                   rule=rule, ema=ema, restart_after=restart_after, kmeans_init=kmeans_init, beta=beta,
                   epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, levels=levels,
                   num_quantizers=num_quantizers, quantizer_dropout=quantizer_dropout)
    rng = np.random.default_rng(seed)
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    if levels is not None:
        model = VQAutoencoder(None, codes_per_image, None, hidden, rng=rng, levels=levels, backward=rule)
        codes = model.quantizer.codebook_size
    else:
        codebook_options = dict(beta=beta, backward=rule, ema=ema, restart_after=restart_after,
                                kmeans_init=kmeans_init)
        if num_quantizers is not None:
            codebook_options["quantizer_dropout"] = quantizer_dropout
        model = VQAutoencoder(num_codes, codes_per_image, code_dim, hidden, rng=rng, num_quantizers=num_quantizers,
                              **codebook_options)
        codes = num_codes
    quantizer = model.quantizer
    name = "fsq" if levels is not None else "rvq" if num_quantizers is not None else "vq"

    def step(images):
        images = Tensor(images)
        reconstruction, _, quantizer_loss = model(images)
        reconstruction_loss = F.mse_loss(reconstruction, images)
        loss = reconstruction_loss + quantizer_loss
        return loss, {"loss": loss.item(), "reconstruction": reconstruction_loss.item(),
                      "perplexity": quantizer.perplexity, "usage": quantizer.usage}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size,
                                          rng, verbose, name=f"{name}-autoencoder")

    model.eval()
    with no_grad():
        reconstruction, test_indices, _ = model(Tensor(test_images))
        _, train_indices, _ = model(Tensor(train_images))
        stage_mse = None if num_quantizers is None else [
            float(((model(Tensor(test_images), n_quantizers=q)[0].data - test_images) ** 2).mean())
            for q in range(1, num_quantizers + 1)]
    perplexity, usage = _usage(test_indices, codes)
    test_errors = ((reconstruction.data - test_images) ** 2).mean(axis=1)
    result = VQAutoencoderResult(
        model=model, history=history, test_mse=float(test_errors.mean()), test_errors=test_errors,
        kmeans_mse=kmeans_reconstruction_mse(num_codes, seed) if name == "vq" else None, perplexity=perplexity,
        usage=usage, dead_fraction=1 - _usage(train_indices, codes)[1], restarts=getattr(quantizer, "restarts", 0),
        seconds=seconds, options=options, bits=model.bits, stage_mse=stage_mse)
    if verbose:
        baseline = "" if result.kmeans_mse is None else f" (k-means with {num_codes} codes: {result.kmeans_mse:.4f})"
        print(f"{name}-autoencoder, {model.bits:.1f} bits per image: test MSE {result.test_mse:.4f}{baseline}, "
              f"perplexity {perplexity:.1f}, usage {usage:.2f}, dead {result.dead_fraction:.2f}, {seconds:.1f} s")
    return result


def train_at_equal_bits(budgets=tuple(EQUAL_BITS), hidden=128, epochs=60, batch_size=64, seed=0, verbose=False):
    """Train the VQ, FSQ and residual-VQ autoencoders of :data:`EQUAL_BITS` at each budget.

    Returns ``{budget: {"VQ": result, "FSQ": result, "RVQ": result}}`` of
    :class:`VQAutoencoderResult`; every run has the same encoder and decoder sizes, the
    same training settings and the codebook defaults (straight-through, dead-code restart
    for VQ and RVQ; FSQ has no codebook to restart).
    """
    return {bits: {kind: train_vq_autoencoder(hidden=hidden, epochs=epochs, batch_size=batch_size, seed=seed,
                                              verbose=verbose, **config)
                   for kind, config in EQUAL_BITS[bits].items()} for bits in budgets}
