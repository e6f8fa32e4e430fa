"""The categorical-latent autoencoder of lesson 3: codes *sampled* from the encoder's logits,
trained with an estimator of :mod:`tinygrad_ste.stochastic` (one of ``AUTOENCODER_ESTIMATORS``)."""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..function import no_grad
from ..module import Module
from ..nn import MLP
from ..optim import Adam
from ..stochastic import COST_ESTIMATORS, ESTIMATORS, make_baseline, reinforce_loss, sample_categorical
from ..tensor import Tensor
from .training import PIXELS, TrainingResult, timed_train_epochs

__all__ = ["AUTOENCODER_ESTIMATORS", "CategoricalAutoencoder", "CategoricalAutoencoderResult",
           "train_categorical_autoencoder"]

# The estimators this model trains with: those whose gradient reaches the logits through the sample itself, and
# REINFORCE through reinforce_loss.  ARM and DisARM are for Bernoulli variables, and REBAR needs rebar_loss over
# groups of three evaluations: lesson 12's Bernoulli VAE (models/bernoulli_vae.py) trains with those.
AUTOENCODER_ESTIMATORS = tuple(name for name in ESTIMATORS if name not in COST_ESTIMATORS or name == "reinforce")


class CategoricalAutoencoder(Module):
    """64 pixels -> encoder MLP -> logits of ``num_latents`` categorical variables over
    ``num_categories`` -> (a one-hot sample) -> decoder MLP -> 64 pixels.

    ``logits(x)``: (N, 64) -> (N, L, K).  ``decode(z)``: one-hot or relaxed samples
    (..., N, L, K) -> reconstructions (..., N, 64).  The code of an image is L choices
    among K: K ** L possible codes (log2 K bits each).
    """

    def __init__(self, num_latents, num_categories, hidden, *, rng=None):
        self.num_latents, self.num_categories = num_latents, num_categories
        self.encoder = MLP([PIXELS, hidden, num_latents * num_categories], rng=rng)
        self.decoder = MLP([num_latents * num_categories, hidden, PIXELS], rng=rng)

    def logits(self, x):
        return self.encoder(x).reshape(x.shape[0], self.num_latents, self.num_categories)

    def decode(self, z):
        return self.decoder(z.reshape(*z.shape[:-2], self.num_latents * self.num_categories))


@dataclass
class CategoricalAutoencoderResult(TrainingResult):
    """What :func:`train_categorical_autoencoder` measured.

    history: per epoch, "loss" (the training objective: mean squared error of the
    reconstructions from the training samples; for "gumbel" those are relaxed samples),
    "entropy" (mean entropy of one latent's distribution, in nats; log K is uniform, 0 is
    deterministic) and "test_mse" (test reconstruction MSE from one hard sample per image).
    test_mse: the last of those; test_errors: the per-image test MSE behind it (test images,),
    for paired comparisons (:func:`tinygrad_ste.compare.paired`); test_mse_mode: reconstruction
    from the most likely category of every latent instead of a sample.
    """
    test_mse: float
    test_errors: np.ndarray
    test_mse_mode: float


def train_categorical_autoencoder(estimator="straight_through", num_latents=8, num_categories=8, hidden=128,
                                  n_samples=4, tau=1.0, baseline="leave_one_out", epochs=20, batch_size=64,
                                  lr=2e-3, seed=0, verbose=False):
    """Train a :class:`CategoricalAutoencoder` with one gradient ``estimator``; returns a
    :class:`CategoricalAutoencoderResult`.

    For each image x, ``n_samples`` codes z ~ softmax(logits(x)) are drawn with
    :func:`~tinygrad_ste.stochastic.sample_categorical`, and the objective is the mean
    over samples and images of cost(z) = MSE(decode(z), x): a Monte Carlo estimate of
    E_z[cost(z)].  The decoder gets its exact gradient; the encoder gets the estimator's.
    ``estimator`` is one of ``AUTOENCODER_ESTIMATORS``; ``tau`` the temperature of the
    relaxed ones; "reinforce" adds ``reinforce_loss`` with ``baseline`` ("none", "ema"
    -- one average kept across all steps -- or "leave_one_out", which needs n_samples >= 2).
    """
    if estimator not in AUTOENCODER_ESTIMATORS:
        raise ValueError(f"train_categorical_autoencoder: estimator {estimator!r} is not one this model trains "
                         f"with; choose one of {', '.join(map(repr, AUTOENCODER_ESTIMATORS))}")
    options = dict(estimator=estimator, num_latents=num_latents, num_categories=num_categories, hidden=hidden,
                   n_samples=n_samples, tau=tau, baseline=baseline, epochs=epochs, batch_size=batch_size,
                   lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    evaluation_rng = np.random.default_rng(seed + 1)   # the same test noise whatever the estimator
    train_images, _ = load_digits("train")
    test_images = Tensor(load_digits("test")[0])
    model = CategoricalAutoencoder(num_latents, num_categories, hidden, rng=rng)
    baseline_fn = make_baseline(baseline) if estimator == "reinforce" else None   # one EMA for the whole run

    def step(images):
        images = Tensor(images)
        logits = model.logits(images)                                               # (N, L, K)
        z = sample_categorical(logits, estimator, rng, tau=tau, n_samples=n_samples)  # (n, N, L, K)
        cost = ((model.decode(z) - images) ** 2).mean(axis=-1)                      # (n, N)
        loss = cost.mean()
        objective = loss
        if estimator == "reinforce":
            objective = loss + reinforce_loss(logits, z, cost, kind="categorical", baseline=baseline_fn)
        log_p = F.log_softmax(logits.detach()).data
        entropy = -(np.exp(log_p) * log_p).sum(axis=-1).mean()
        return objective, {"loss": loss.item(), "entropy": float(entropy)}

    def test_errors(z):
        """Per-image test MSE of the reconstructions from codes z: (test images,)."""
        return ((model.decode(z).data - test_images.data) ** 2).mean(axis=-1)

    last = {}   # the last evaluation's per-image errors

    def evaluate():
        with no_grad():   # no graph, so the estimator named here plays no part: a plain hard sample
            last["errors"] = test_errors(sample_categorical(model.logits(test_images), "straight_through",
                                                            evaluation_rng))
        return {"test_mse": float(last["errors"].mean())}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size,
                                          rng, verbose, name=f"categorical autoencoder ({estimator})",
                                          after_epoch=evaluate)
    with no_grad():
        test_mse_mode = float(test_errors(F.one_hot(model.logits(test_images).data.argmax(axis=-1),
                                                    num_categories)).mean())
    return CategoricalAutoencoderResult(model=model, history=history, test_mse=history["test_mse"][-1],
                                        test_errors=last["errors"], test_mse_mode=test_mse_mode, seconds=seconds,
                                        options=options)
