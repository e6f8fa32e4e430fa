"""The discrete-VAE benchmark of lesson 12: a VAE with Bernoulli latents on the binarized digits,
trained with each gradient estimator for discrete latents at an equal number of cost evaluations.

The benchmark of the REBAR, VIMCO, ARM, DisARM and Gumbel-Rao papers (there on binarized
MNIST with 200 latents), at this project's scale: 8x8 digits, 32 latents, a few epochs.
"""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..estimators import trace_variance
from ..function import no_grad
from ..learned_baseline import LearnedBaseline
from ..module import Module
from ..nn import MLP
from ..optim import Adam
from ..stochastic import (antithetic_loss, log_prob, rebar_loss, reinforce_loss, sample_bernoulli, vimco_loss)
from ..tensor import Tensor
from .gaussian_vae import binarized_digits
from .training import PIXELS, Stopwatch, TrainingResult, train_epochs

__all__ = ["BernoulliVAE", "BernoulliVAEResult", "train_bernoulli_vae", "logit_gradient_variance", "run_benchmark",
           "benchmark_table", "VAE_ESTIMATORS"]

# name -> what trains the encoder; every one spends the same number of decoder evaluations per image and step
VAE_ESTIMATORS = {
    "reinforce_loo": "REINFORCE, leave-one-out baseline",
    "nvil": "REINFORCE, learned baseline (NVIL)",
    "vimco": "VIMCO (the K-sample bound)",
    "arm": "ARM",
    "disarm": "DisARM",
    "rebar": "REBAR",
    "straight_through_gumbel": "straight-through Gumbel",
    "gumbel_rao": "Gumbel-Rao",
}


class BernoulliVAE(Module):
    """A VAE with ``latents`` binary latent variables h and a Bernoulli decoder of black-and-white digits.

    Encoder q(h | x) = prod_l Bernoulli(sigmoid(logits_l(x))): x (N, 64) -> logits (N, L).
    Prior p(h) = prod_l Bernoulli(1/2).  Decoder p(x | h): 64 Bernoulli pixels with logits
    ``decode(h)``: h (..., N, L) -> (..., N, 64); h may be relaxed (in (0, 1)) for the estimators
    that differentiate through it.  For one image,

        ELBO(x) = E_q[log p(x | h)] - KL(q(h | x) || p(h)) <= log p(x),
        KL = sum_l q_l log q_l + (1 - q_l) log(1 - q_l) + log 2     (closed form).
    """

    def __init__(self, latents, hidden, *, rng=None):
        self.latents = latents
        self.encoder = MLP([PIXELS, hidden, latents], rng=rng)
        self.decoder = MLP([latents, hidden, PIXELS], rng=rng)

    def logits(self, x):
        return self.encoder(x)

    def reconstruction_log_likelihood(self, h, x):
        """log p(x | h) summed over the 64 pixels: h (..., N, L), x (N, 64) -> (..., N)."""
        return log_prob(self.decoder(h), x, "bernoulli").sum(axis=-1)

    @staticmethod
    def kl_to_prior(logits):
        """KL(q(h | x) || Bernoulli(1/2)^L) summed over the latents: (N,), differentiable."""
        q = logits.sigmoid()
        return (-q * F.softplus(-logits) - (1 - q) * F.softplus(logits)).sum(axis=-1) + logits.shape[-1] * np.log(2)

    def log_weights(self, h, x, logits):
        """log p(x, h) - log q(h | x) for samples h (K, N, L): (K, N), differentiable in everything."""
        log_prior = -self.latents * np.log(2)
        return self.reconstruction_log_likelihood(h, x) + log_prior - log_prob(logits, h, "bernoulli").sum(axis=-1)

    def evaluate(self, x, rng, elbo_samples=10, likelihood_samples=100):
        """Per image (NumPy, (N,) each): the ELBO from ``elbo_samples`` draws of q, and the importance-sampled
        log-likelihood estimate log (1/S) sum_s p(x, h_s) / q(h_s | x) from ``likelihood_samples`` draws
        (Burda et al. 2016: a lower bound on log p(x) in expectation, tightening as S grows)."""
        with no_grad():
            x = Tensor(x)
            logits = self.logits(x)
            h = sample_bernoulli(logits, "reinforce", rng, n_samples=elbo_samples)
            elbo = self.reconstruction_log_likelihood(h, x).mean(axis=0) - self.kl_to_prior(logits)
            h = sample_bernoulli(logits, "reinforce", rng, n_samples=likelihood_samples)
            log_likelihood = F.logsumexp(self.log_weights(h, x, logits), axis=0) - np.log(likelihood_samples)
        return elbo.data, log_likelihood.data


def _objective(model, images, logits, estimator, evaluations, rng, tau, baseline):
    """The training loss of one batch (images a Tensor (N, 64), the encoder's logits (N, L)) whose gradient
    w.r.t. the logits is ``estimator``'s; ``baseline``: NVIL's ``cost -> b`` for these images.

    Every estimator decodes ``evaluations`` latent samples per image.  The decoder always learns from
    the hard samples' reconstruction term (VIMCO: its bound); the KL term is exact.
    """
    kl = model.kl_to_prior(logits).mean()
    if estimator == "vimco":
        h = sample_bernoulli(logits, "reinforce", rng, n_samples=evaluations)
        return vimco_loss(logits, h, model.log_weights(h, images, logits), "bernoulli")
    if estimator in ("straight_through_gumbel", "gumbel_rao"):
        h = sample_bernoulli(logits, estimator, rng, tau=tau, n_samples=evaluations)
        return -model.reconstruction_log_likelihood(h, images).mean() + kl
    sampler = {"reinforce_loo": "reinforce", "nvil": "reinforce"}.get(estimator, estimator)
    h = sample_bernoulli(logits, sampler, rng, tau=tau, n_samples=evaluations)
    cost = -model.reconstruction_log_likelihood(h, images)                   # (evaluations, N)
    if estimator == "rebar":
        hard = evaluations // 3
        return cost[:hard].mean() + rebar_loss(logits, h, cost, "bernoulli") + kl
    if estimator in ("arm", "disarm"):
        term = antithetic_loss(logits, h, cost, estimator, rng)
    else:
        term = reinforce_loss(logits, h, cost, "bernoulli",
                              baseline="leave_one_out" if estimator == "reinforce_loo" else baseline)
    return cost.mean() + term + kl


def logit_gradient_variance(model, images, estimator, evaluations, rng, tau, baseline, repeats=16):
    """The variance of the estimator's gradient w.r.t. the encoder's logits on a fixed batch.

    ``repeats`` independent estimates of d loss / d logits (N, L), each with fresh samples, times N
    (the gradient of the batch *mean* is 1/N of each image's); returns ``(variance, se)``: the trace
    of their covariance per image (:func:`~tinygrad_ste.estimators.trace_variance` over all N * L
    entries, divided by N) and its standard error.  A learned ``baseline`` predicts here
    without learning (measuring must not train it).  The decoder's gradients this leaves behind
    are cleared by the next training step's ``zero_grad``.
    """
    images = Tensor(images)
    with no_grad():
        logits = model.logits(images).data
    predict = None if baseline is None else (
        lambda cost: np.broadcast_to(baseline.predict(images), np.shape(cost)).copy())
    estimates = []
    for _ in range(repeats):
        leaf = Tensor(logits, requires_grad=True)
        _objective(model, images, leaf, estimator, evaluations, rng, tau, predict).backward()
        estimates.append(leaf.grad * len(logits))
    variance, se = trace_variance(np.array(estimates).reshape(repeats, -1))
    return variance / len(logits), se / len(logits)


@dataclass
class BernoulliVAEResult(TrainingResult):
    """What :func:`train_bernoulli_vae` measured.

    history: per epoch, "loss" (the training objective per image, nats).  gradient_variance: a list of
    (epoch, variance, its standard error) at the epochs ``variance_every`` asks for (see :func:`logit_gradient_variance`).
    test_elbo, test_log_likelihood: per test image (NumPy arrays, nats), at the end, from an
    evaluation generator seeded alike for every estimator.  seconds: process CPU time of the
    training loop alone (no evaluation), so estimators compare on what they cost.
    """
    test_elbo: np.ndarray
    test_log_likelihood: np.ndarray
    gradient_variance: list


def train_bernoulli_vae(estimator="disarm", latents=32, hidden=64, evaluations=6, tau=0.5, epochs=10,
                        batch_size=64, lr=3e-3, variance_every=0, seed=0, verbose=False):
    """Train a :class:`BernoulliVAE` on :func:`~tinygrad_ste.models.gaussian_vae.binarized_digits` with one
    encoder-gradient ``estimator`` of :data:`VAE_ESTIMATORS`; returns a :class:`BernoulliVAEResult`.

    Each step decodes ``evaluations`` latent samples per image (a multiple of 6 suits every
    estimator: REINFORCE and VIMCO draw 6, ARM/DisARM 3 antithetic pairs, REBAR 2 hard samples
    with their 2 + 2 relaxed ones, straight-through Gumbel and Gumbel-Rao 6 relaxed-backward
    samples at temperature ``tau``, which REBAR's relaxation uses too).  The objective is -ELBO
    (VIMCO: -L_K, its K-sample bound).  ``variance_every``: measure the logit-gradient variance
    on a fixed batch of 64 training images before training and every that many epochs (0: never).
    """
    if estimator not in VAE_ESTIMATORS:
        raise ValueError(f"train_bernoulli_vae: unknown estimator {estimator!r}; choose one of "
                         f"{', '.join(map(repr, VAE_ESTIMATORS))}")
    if evaluations % 6:
        raise ValueError(f"train_bernoulli_vae: evaluations must be a multiple of 6 (pairs for ARM/DisARM, "
                         f"triples for REBAR), got {evaluations}")
    options = dict(estimator=estimator, latents=latents, hidden=hidden, evaluations=evaluations, tau=tau,
                   epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, test_images = binarized_digits("train"), binarized_digits("test")
    model = BernoulliVAE(latents, hidden, rng=rng)
    baseline = LearnedBaseline(PIXELS, hidden=hidden, lr=lr, rng=rng) if estimator == "nvil" else None
    variance_batch, variance_rng = train_images[:64], np.random.default_rng(seed + 2)
    variances = []

    def measure_variance(epoch):
        if variance_every and epoch % variance_every == 0:
            variances.append((epoch, *logit_gradient_variance(model, variance_batch, estimator, evaluations,
                                                              variance_rng, tau, baseline)))

    def step(images):
        images = Tensor(images)
        loss = _objective(model, images, model.logits(images), estimator, evaluations, rng, tau,
                          None if baseline is None else baseline.given(images))
        return loss, {"loss": loss.item()}

    epoch_counter = {"epoch": 0, "cpu": 0.0}   # its stopwatch starts after measure_variance(0), below

    def after_epoch():
        epoch_counter["cpu"] += epoch_counter["stopwatch"].cpu_seconds()
        epoch_counter["epoch"] += 1
        measure_variance(epoch_counter["epoch"])
        epoch_counter["stopwatch"] = Stopwatch()
        return {}

    measure_variance(0)
    epoch_counter["stopwatch"] = Stopwatch()
    history = train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size, rng, verbose,
                           name=f"bernoulli vae ({estimator})", after_epoch=after_epoch)
    elbo, log_likelihood = model.evaluate(test_images, np.random.default_rng(10_000 + seed))
    return BernoulliVAEResult(model=model, history=history, test_elbo=elbo, test_log_likelihood=log_likelihood,
                              gradient_variance=variances, seconds=epoch_counter["cpu"], options=options)


def run_benchmark(estimators=tuple(VAE_ESTIMATORS), seeds=(0, 1, 2), **settings):
    """Train :func:`train_bernoulli_vae` with every estimator and seed; returns ``{estimator: [result per seed]}``.

    ``settings`` go to every run (epochs, latents, evaluations, ...), so the runs differ only in the
    estimator and the seed: the same initial weights and test draws for one seed, whatever the estimator.
    The lesson and the figure both call this, with their own epochs.
    """
    return {estimator: [train_bernoulli_vae(estimator, seed=seed, **settings) for seed in seeds]
            for estimator in estimators}


def benchmark_table(runs):
    """Per estimator: (test ELBO (seeds, items), importance-sampled log-likelihood (seeds, items), final
    logit-gradient variance per seed, CPU seconds per seed): the arrays that paired comparisons take."""
    return {estimator: (np.array([r.test_elbo for r in results]), np.array([r.test_log_likelihood for r in results]),
                        np.array([r.gradient_variance[-1][1] if r.gradient_variance else np.nan for r in results]),
                        np.array([r.seconds for r in results]))
            for estimator, results in runs.items()}
