"""The discrete-VAE benchmark of lesson 12 (tinygrad_ste/models/bernoulli_vae.py)."""
import numpy as np
import pytest

from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.estimators import exact_gradient
from tinygrad_ste.models import VAE_ESTIMATORS, BernoulliVAE, logit_gradient_variance, train_bernoulli_vae
from tinygrad_ste.models.bernoulli_vae import _objective


def test_kl_to_the_uniform_prior():
    logits = np.random.default_rng(0).normal(size=(3, 5))
    q = 1 / (1 + np.exp(-logits))
    expected = (q * np.log(2 * q) + (1 - q) * np.log(2 * (1 - q))).sum(axis=-1)
    assert np.allclose(BernoulliVAE.kl_to_prior(Tensor(logits)).data, expected)
    assert gradcheck(BernoulliVAE.kl_to_prior, [Tensor(logits, requires_grad=True)])


def test_elbo_and_likelihood_estimate_are_exact_for_a_tiny_latent_space():
    """With 3 latents, log p(x) and the ELBO can be enumerated: the estimates land on them."""
    rng = np.random.default_rng(1)
    model = BernoulliVAE(latents=3, hidden=8, rng=rng)
    x = (rng.random((2, 64)) < 0.3).astype(float)
    outcomes = Tensor(((np.arange(8)[:, None] >> np.arange(3)) & 1).astype(float))      # (8, 3)
    log_joint = model.reconstruction_log_likelihood(Tensor(np.repeat(outcomes.data[:, None], 2, axis=1)),
                                                    Tensor(x)).data - 3 * np.log(2)    # (8, 2)
    log_likelihood = np.log(np.exp(log_joint).sum(axis=0))
    logits = model.logits(Tensor(x))
    q = 1 / (1 + np.exp(-logits.data))                                                   # (2, 3)
    weight = np.prod(np.where(outcomes.data[:, None] == 1, q, 1 - q), axis=-1)           # (8, 2)
    elbo = (weight * (log_joint - np.log(weight))).sum(axis=0)
    estimated_elbo, estimated_likelihood = model.evaluate(x, rng, elbo_samples=20000, likelihood_samples=20000)
    assert np.allclose(estimated_elbo, elbo, atol=0.05) and np.allclose(estimated_likelihood, log_likelihood, atol=0.05)
    assert (elbo <= log_likelihood).all()


@pytest.mark.parametrize("estimator", list(VAE_ESTIMATORS))
def test_every_estimator_trains_and_reproduces_by_seed(estimator):
    first, second = (train_bernoulli_vae(estimator, latents=8, hidden=16, epochs=1, variance_every=1, seed=3)
                     for _ in range(2))
    assert np.array_equal(first.test_elbo, second.test_elbo)
    assert np.isfinite(first.test_elbo).all() and np.isfinite(first.test_log_likelihood).all()
    assert [epoch for epoch, _, _ in first.gradient_variance] == [0, 1] and first.seconds > 0
    # the importance-sampled estimate is the tighter bound, on average over the test images
    assert first.test_log_likelihood.mean() > first.test_elbo.mean()


def test_the_unbiased_estimators_have_the_exact_logit_gradient_on_average():
    """The REINFORCE term of the VAE objective: its mean over many estimates is the enumerated gradient."""
    rng = np.random.default_rng(4)
    model = BernoulliVAE(latents=3, hidden=8, rng=rng)
    x = Tensor((rng.random((1, 64)) < 0.3).astype(float))
    logits = model.logits(x).data
    kl = lambda theta: BernoulliVAE.kl_to_prior(Tensor(theta)).data   # noqa: E731

    def cost(h):   # -log p(x | h) for samples (n, 1, 3)
        return -model.reconstruction_log_likelihood(h, x)[:, 0]
    exact = exact_gradient(cost, logits, "bernoulli")
    exact = exact + (kl(logits + np.eye(3) * 1e-6) - kl(logits - np.eye(3) * 1e-6)).reshape(1, 3) / 2e-6
    # 1500 independent estimates in one batch: the image 1500 times, each copy with its own logits leaf row and
    # its own samples.  The objective is a mean over the images, and each copy's terms depend on its row only,
    # so 1500 times it is the sum of 1500 one-image objectives: row i of the gradient is one estimate.
    copies = 1500
    images = Tensor(np.repeat(x.data, copies, axis=0))
    for estimator in ("reinforce_loo", "disarm", "rebar"):
        leaf = Tensor(np.repeat(logits, copies, axis=0), requires_grad=True)
        (_objective(model, images, leaf, estimator, 6, rng, 0.5, None) * copies).backward()
        estimates = leaf.grad
        standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
        assert (np.abs(estimates.mean(axis=0) - exact) < 4 * standard_error + 1e-6).all(), estimator


def test_gradient_variance_and_bad_input():
    model = BernoulliVAE(latents=4, hidden=8, rng=np.random.default_rng(5))
    images = (np.random.default_rng(6).random((8, 64)) < 0.5).astype(float)
    variance, se = logit_gradient_variance(model, images, "reinforce_loo", 6, np.random.default_rng(7), 0.5, None)
    assert variance > 0 and 0 < se < variance
    with pytest.raises(ValueError, match="train_bernoulli_vae: unknown estimator 'st'"):
        train_bernoulli_vae("st")
    with pytest.raises(ValueError, match="train_bernoulli_vae: evaluations must be a multiple of 6"):
        train_bernoulli_vae("arm", evaluations=4)
