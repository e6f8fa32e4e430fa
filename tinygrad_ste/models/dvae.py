"""The discrete VAE of lesson 9, after DALL-E 1 (Ramesh et al. 2021, "Zero-Shot Text-to-Image
Generation"): a categorical choice among K code embeddings per latent position, trained through
the Gumbel-softmax relaxation with an annealed temperature and used with hard codes."""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..function import no_grad
from ..module import Module
from ..nn import MLP
from ..optim import Adam
from ..random import generator
from ..stochastic import sample_categorical
from ..tensor import Tensor
from ..vq import codebook_usage
from .training import PIXELS, TrainingResult, timed_train_epochs

__all__ = ["DiscreteVAE", "DiscreteVAEResult", "train_dvae", "annealed_temperature"]


class DiscreteVAE(Module):
    """64 pixels -> encoder MLP -> logits (N, P, K) -> weights over the codebook -> decoder MLP -> 64.

    ``positions`` (P) latent positions, each a categorical q(k | x) = softmax(logits)_k over
    ``num_codes`` (K) rows of a learned codebook (K, D).  ``decode(weights)``: weights
    (N, P, K) -> each position's embedding, sum_k weights_k codebook_k (N, P, D) -> the
    decoder -> reconstruction (N, 64).  A one-hot weight picks one code (the hard code of
    evaluation); a Gumbel-softmax weight mixes them (training).  Like the VQ autoencoder of
    lesson 5 with P codes per image from K, but the choice is a sample, not a nearest neighbour.
    """

    def __init__(self, num_codes, positions, code_dim, hidden, *, rng=None):
        rng = generator(rng, "DiscreteVAE")
        self.num_codes, self.positions, self.code_dim = num_codes, positions, code_dim
        self.encoder = MLP([PIXELS, hidden, positions * num_codes], rng=rng)
        self.codebook = Tensor(rng.standard_normal((num_codes, code_dim)), requires_grad=True)
        self.decoder = MLP([positions * code_dim, hidden, PIXELS], rng=rng)

    def logits(self, x):
        return self.encoder(x).reshape(x.shape[0], self.positions, self.num_codes)

    def decode(self, weights):
        batch = weights.shape[0]
        embeddings = weights.reshape(batch * self.positions, self.num_codes) @ self.codebook
        return self.decoder(embeddings.reshape(batch, self.positions * self.code_dim))

    def hard_codes(self, x):
        """The code of each position: argmax_k logits, (N, P) integers (NumPy)."""
        return self.logits(x).data.argmax(axis=-1)

    def decode_codes(self, codes):
        """Integer codes (N, P), one per position (a prior's samples, say) -> digits (N, 64)."""
        return self.decode(F.one_hot(np.asarray(codes).reshape(-1, self.positions), self.num_codes))

    def reconstruct(self, x):
        """The reconstruction from the hard codes, as evaluated: (N, 64)."""
        return self.decode_codes(self.hard_codes(x))

    @staticmethod
    def kl_to_uniform(logits):
        """KL(q || uniform over K) = sum_k q_k log q_k + log K per position: (N, P), differentiable."""
        log_q = F.log_softmax(logits, axis=-1)
        return (log_q.exp() * log_q).sum(axis=-1) + np.log(logits.shape[-1])


def annealed_temperature(step, total_steps, tau_start=1.0, tau_end=1 / 16):
    """tau at training ``step`` of ``total_steps``: geometric from ``tau_start`` to ``tau_end``,
    tau_start * (tau_end / tau_start) ** (step / (total_steps - 1)), halving at an even pace."""
    return tau_start * (tau_end / tau_start) ** (step / max(total_steps - 1, 1))


@dataclass
class DiscreteVAEResult(TrainingResult):
    """What :func:`train_dvae` measured.

    history: per epoch, "loss" (the training objective), "reconstruction" (training MSE of
    the soft reconstructions), "kl" (KL to uniform per position, nats), "tau" (the
    temperature at the end of the epoch), "test_mse_soft" (test MSE of a Gumbel-softmax
    mixture at that tau, as in training), "test_mse_hard" (test MSE from the argmax codes)
    and "test_gap_se" (the standard error of hard - soft, from the per-image differences).
    test_mse: the last hard-code test MSE; test_errors and test_errors_soft: the per-image test
    MSE of the last evaluation (test images,), hard codes and soft mixtures, for paired
    comparisons (:func:`tinygrad_ste.compare.paired`).  perplexity: of the hard test codes.
    """
    test_mse: float
    test_errors: np.ndarray
    test_errors_soft: np.ndarray
    perplexity: float


def train_dvae(num_codes=128, positions=8, code_dim=8, hidden=64, tau_start=1.0, tau_end=1 / 16, kl_weight=1e-3,
               epochs=40, batch_size=64, lr=2e-3, seed=0, verbose=False):
    """Train a :class:`DiscreteVAE` on the digits; returns a :class:`DiscreteVAEResult`.

    Each step: weights = Gumbel-softmax samples of the encoder's logits at temperature tau
    (``sample_categorical(logits, "gumbel", ...)``: a smooth function of the logits, so the
    encoder gets its exact gradient), and the objective is
    MSE(decode(weights), x) + ``kl_weight`` * mean KL(q || uniform) per position.
    tau falls geometrically from ``tau_start`` to ``tau_end`` over the training steps
    (:func:`annealed_temperature`).  Evaluation decodes the hard argmax codes.
    """
    options = dict(num_codes=num_codes, positions=positions, code_dim=code_dim, hidden=hidden, tau_start=tau_start,
                   tau_end=tau_end, kl_weight=kl_weight, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    evaluation_rng = np.random.default_rng(seed + 1)
    train_images = load_digits("train")[0]
    test_images = Tensor(load_digits("test")[0])
    model = DiscreteVAE(num_codes, positions, code_dim, hidden, rng=rng)
    total_steps = epochs * -(-len(train_images) // batch_size)
    schedule = {"step": 0, "tau": tau_start}

    def step(images):
        schedule["tau"] = annealed_temperature(schedule["step"], total_steps, tau_start, tau_end)
        schedule["step"] += 1
        images = Tensor(images)
        logits = model.logits(images)
        weights = sample_categorical(logits, "gumbel", rng, tau=schedule["tau"])
        reconstruction = F.mse_loss(model.decode(weights), images)
        kl = model.kl_to_uniform(logits).mean()
        loss = reconstruction + kl_weight * kl
        return loss, {"loss": loss.item(), "reconstruction": reconstruction.item(), "kl": kl.item()}

    def per_image_mse(reconstruction):
        return ((reconstruction.data - test_images.data) ** 2).mean(axis=1)

    last = {}   # the last evaluation's per-image errors

    def evaluate():
        with no_grad():
            soft = sample_categorical(model.logits(test_images), "gumbel", evaluation_rng, tau=schedule["tau"])
            soft_mse, hard_mse = per_image_mse(model.decode(soft)), per_image_mse(model.reconstruct(test_images))
        last.update(hard=hard_mse, soft=soft_mse)
        gap = hard_mse - soft_mse
        return {"tau": schedule["tau"], "test_mse_soft": float(soft_mse.mean()),
                "test_mse_hard": float(hard_mse.mean()), "test_gap_se": float(gap.std(ddof=1) / np.sqrt(len(gap)))}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size,
                                          rng, verbose, name="dvae", after_epoch=evaluate)
    with no_grad():
        perplexity, _ = codebook_usage(model.hard_codes(test_images), num_codes)
    return DiscreteVAEResult(model=model, history=history, test_mse=history["test_mse_hard"][-1],
                             test_errors=last["hard"], test_errors_soft=last["soft"],
                             perplexity=perplexity, seconds=seconds, options=options)
