"""The Gaussian-latent VAE of lesson 9: the same model trained with the reparameterization
trick or with REINFORCE, so the two estimators of one gradient can be compared on a real task."""
from dataclasses import dataclass

import numpy as np

from ..data import load_digits
from ..function import no_grad
from ..module import Module
from ..nn import MLP
from ..optim import Adam
from ..stochastic import NORMAL_ESTIMATORS, log_prob, make_baseline, reinforce_loss, sample_normal
from ..tensor import Tensor
from .training import PIXELS, TrainingResult, timed_train_epochs

__all__ = ["GaussianVAE", "GaussianVAEResult", "train_gaussian_vae", "binarized_digits"]


def binarized_digits(split):
    """The digits of ``split`` with every pixel set to 1 where its intensity exceeds 1/2, else 0: (N, 64).

    Black-and-white images make the Bernoulli likelihood of :class:`GaussianVAE` a true
    probability, so its ELBO is a true lower bound on log p(x), in nats.
    """
    return (load_digits(split)[0] > 0.5).astype(np.float64)


class GaussianVAE(Module):
    """A variational autoencoder (Kingma & Welling 2014) with ``latent_dim`` normal latents.

    Encoder q(z | x) = N(mean(x), diag(exp(log_std(x))^2)): x (N, 64) -> mean, log_std (N, L).
    Prior p(z) = N(0, I).  Decoder p(x | z): 64 independent Bernoulli pixels with logits
    ``decode(z)``: z (..., N, L) -> (..., N, 64).  For one image,

        ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x),
        KL = sum_l (mean_l^2 + sigma_l^2 - 1) / 2 - log sigma_l     (closed form, no sampling).
    """

    def __init__(self, latent_dim, hidden, *, rng=None):
        self.latent_dim = latent_dim
        self.encoder = MLP([PIXELS, hidden, 2 * latent_dim], rng=rng)
        self.decoder = MLP([latent_dim, hidden, PIXELS], rng=rng)

    def encode(self, x):
        """(mean, log_std), each (N, L)."""
        out = self.encoder(x)
        return out[:, :self.latent_dim], out[:, self.latent_dim:]

    def decode(self, z):
        return self.decoder(z)

    @staticmethod
    def kl_to_prior(mean, log_std):
        """KL(N(mean, sigma^2) || N(0, 1)) summed over the latents: (N,), differentiable."""
        return (0.5 * (mean * mean + (2 * log_std).exp() - 1) - log_std).sum(axis=-1)

    def reconstruction_log_likelihood(self, z, x):
        """log p(x | z) summed over the 64 pixels: z (..., N, L), x (N, 64) -> (..., N)."""
        return log_prob(self.decode(z), x, "bernoulli").sum(axis=-1)

    def elbo(self, x, rng, n_samples=8):
        """The ELBO of each image in nats, (N,) NumPy: E_q[log p(x | z)] averaged over ``n_samples``
        draws from ``rng``, minus the closed-form KL.  An unbiased estimate of the true ELBO."""
        with no_grad():
            x = Tensor(x)
            mean, log_std = self.encode(x)
            z = sample_normal(mean, log_std, rng, n_samples=n_samples)
            elbo = self.reconstruction_log_likelihood(z, x).mean(axis=0) - self.kl_to_prior(mean, log_std)
        return elbo.data


@dataclass
class GaussianVAEResult(TrainingResult):
    """What :func:`train_gaussian_vae` measured.

    history: per epoch, "loss" (the training objective: -ELBO per image in nats, from the
    training draws), "kl" (the KL term per image) and "test_elbo" (the ELBO per test
    image, from ``evaluation_samples`` draws each).  test_elbo: the last of those;
    test_elbos: the per-image ELBOs behind it (test images,), for paired comparisons
    (:func:`tinygrad_ste.compare.paired`).
    """
    test_elbo: float
    test_elbos: np.ndarray


def train_gaussian_vae(estimator="reparameterization", latent_dim=4, hidden=64, n_samples=4,
                       baseline="leave_one_out", epochs=20, batch_size=64, lr=2e-3, evaluation_samples=8, seed=0,
                       verbose=False):
    """Train a :class:`GaussianVAE` on :func:`binarized_digits` with one gradient ``estimator``.

    For each image, ``n_samples`` draws z ~ q(z | x) by
    :func:`~tinygrad_ste.stochastic.sample_normal`; the objective is the mean over draws and
    images of -log p(x | z) + KL, a Monte Carlo estimate of -ELBO.  The decoder and the KL
    term get their exact gradients; the reconstruction term reaches the encoder through the
    estimator: "reparameterization" (backward through z) or "reinforce" (``reinforce_loss``
    with ``baseline``, the cost of a draw being its -log p(x | z)).
    Returns a :class:`GaussianVAEResult`.
    """
    if estimator not in NORMAL_ESTIMATORS:
        raise ValueError(f"train_gaussian_vae: unknown estimator {estimator!r}; "
                         f"choose one of {', '.join(map(repr, NORMAL_ESTIMATORS))}")
    options = dict(estimator=estimator, latent_dim=latent_dim, hidden=hidden, n_samples=n_samples, baseline=baseline,
                   epochs=epochs, batch_size=batch_size, lr=lr, evaluation_samples=evaluation_samples, seed=seed)
    rng = np.random.default_rng(seed)
    evaluation_rng = np.random.default_rng(seed + 1)   # the same test draws whatever the estimator
    train_images, test_images = binarized_digits("train"), binarized_digits("test")
    model = GaussianVAE(latent_dim, hidden, rng=rng)
    baseline_fn = make_baseline(baseline) if estimator == "reinforce" else None

    def step(images):
        images = Tensor(images)
        mean, log_std = model.encode(images)
        z = sample_normal(mean, log_std, rng, estimator=estimator, n_samples=n_samples)   # (n, N, L)
        cost = -model.reconstruction_log_likelihood(z, images)                             # (n, N)
        kl = model.kl_to_prior(mean, log_std)                                              # (N,)
        loss = cost.mean() + kl.mean()
        objective = loss
        if estimator == "reinforce":
            objective = loss + reinforce_loss((mean, log_std), z, cost, kind="normal", baseline=baseline_fn)
        return objective, {"loss": loss.item(), "kl": kl.mean().item()}

    last = {}   # the last evaluation's per-image ELBOs

    def evaluate():
        last["elbos"] = model.elbo(test_images, evaluation_rng, evaluation_samples)
        return {"test_elbo": float(last["elbos"].mean())}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size,
                                          rng, verbose, name=f"gaussian vae ({estimator})", after_epoch=evaluate)
    return GaussianVAEResult(model=model, history=history, test_elbo=history["test_elbo"][-1],
                             test_elbos=last["elbos"], seconds=seconds,
                             options=options)
