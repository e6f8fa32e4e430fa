"""The Gaussian VAE of lesson 9 (tinygrad_ste/models/gaussian_vae.py)."""
import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.models import GaussianVAE, binarized_digits, train_gaussian_vae
from tinygrad_ste.stochastic import reinforce_loss, sample_normal


def test_binarized_digits_are_black_and_white():
    images = binarized_digits("test")
    assert images.shape == (359, 64) and set(np.unique(images)) == {0.0, 1.0}


def test_kl_to_prior_is_the_closed_form_and_differentiable():
    """KL(N(m, s^2) || N(0, 1)) against a Monte Carlo average of log q - log p (within 4 SE), and gradchecked."""
    rng = np.random.default_rng(0)
    mean, log_std = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)) * 0.5
    kl = GaussianVAE.kl_to_prior(Tensor(mean), Tensor(log_std)).data
    z = sample_normal(mean, log_std, rng, n_samples=200000).data
    log_ratio = (-0.5 * ((z - mean) / np.exp(log_std)) ** 2 - log_std + 0.5 * z ** 2).sum(axis=-1)
    standard_error = log_ratio.std(axis=0) / np.sqrt(len(z))
    assert (np.abs(log_ratio.mean(axis=0) - kl) < 4 * standard_error).all()
    assert gradcheck(GaussianVAE.kl_to_prior, [Tensor(mean, requires_grad=True), Tensor(log_std, requires_grad=True)])


@pytest.mark.parametrize("estimator, baseline", [("reparameterization", None), ("reinforce", "leave_one_out")])
def test_short_gaussian_vae_run_raises_the_elbo(estimator, baseline):
    result = train_gaussian_vae(estimator, latent_dim=4, hidden=32, baseline=baseline, epochs=3, seed=1)
    history = result.history
    assert set(history) == {"loss", "kl", "test_elbo"} and all(len(v) == 3 for v in history.values())
    assert history["test_elbo"][-1] > history["test_elbo"][0]
    assert -64 * np.log(2) < result.test_elbo < 0   # better than coin flips per pixel; a bound on log p <= 0
    assert result.test_elbos.shape == (359,) and result.test_elbos.mean() == pytest.approx(result.test_elbo)


def test_reinforce_draws_leave_the_encoder_to_reinforce_loss():
    """With "reinforce" the draws carry no graph: the cost alone trains only the decoder, and the
    encoder's gradient comes from reinforce_loss."""
    rng = np.random.default_rng(2)
    model = GaussianVAE(2, 8, rng=rng)
    x = Tensor(binarized_digits("test")[:5])
    mean, log_std = model.encode(x)
    z = sample_normal(mean, log_std, rng, estimator="reinforce", n_samples=3)
    cost = -model.reconstruction_log_likelihood(z, x)
    cost.mean().backward()
    assert model.encoder[0].weight.grad is None and model.decoder[0].weight.grad is not None
    reinforce_loss((mean, log_std), z, cost, kind="normal", baseline="leave_one_out").backward()
    assert np.abs(model.encoder[0].weight.grad).sum() > 0


def test_gaussian_vae_rejects_unknown_estimators():
    with pytest.raises(ValueError, match="train_gaussian_vae: unknown estimator 'gumbel'"):
        train_gaussian_vae("gumbel")


def test_gaussian_vae_works_without_rng_and_follows_manual_seed():
    tg.manual_seed(0)
    first = [p.data.copy() for p in GaussianVAE(2, 8).parameters()]
    tg.manual_seed(0)
    assert all(np.array_equal(a, p.data) for a, p in zip(first, GaussianVAE(2, 8).parameters()))
