"""The DALL-E-style discrete VAE of lesson 9 (tinygrad_ste/models/dvae.py)."""
import numpy as np
import pytest

import tinygrad_ste as tg
import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.models import DiscreteVAE, annealed_temperature, train_dvae


def test_annealed_temperature_runs_from_one_to_a_sixteenth_geometrically():
    taus = [annealed_temperature(step, 9) for step in range(9)]
    assert taus[0] == 1.0 and taus[-1] == pytest.approx(1 / 16)
    assert np.allclose(np.diff(np.log(taus)), np.log(1 / 16) / 8)   # equal ratios: halving at an even pace


def test_kl_to_uniform():
    logits = np.random.default_rng(0).normal(size=(2, 3, 5))
    q = F.softmax(Tensor(logits)).data
    expected = (q * np.log(q * 5)).sum(axis=-1)
    assert np.allclose(DiscreteVAE.kl_to_uniform(Tensor(logits)).data, expected)
    assert np.allclose(DiscreteVAE.kl_to_uniform(Tensor(np.zeros((1, 4)))).data, 0.0)   # uniform q: no cost
    assert gradcheck(DiscreteVAE.kl_to_uniform, [Tensor(logits, requires_grad=True)])


def test_decode_of_a_one_hot_picks_the_code_and_reconstruct_uses_the_argmax():
    rng = np.random.default_rng(1)
    model = DiscreteVAE(num_codes=6, positions=3, code_dim=2, hidden=8, rng=rng)
    x = Tensor(rng.random((4, 64)))
    codes = model.hard_codes(x)
    assert codes.shape == (4, 3) and np.array_equal(codes, model.logits(x).data.argmax(axis=-1))
    hard = model.decode(F.one_hot(codes, 6))
    assert np.allclose(model.reconstruct(x).data, hard.data)
    embeddings = model.codebook.data[codes].reshape(4, 6)
    assert np.allclose(hard.data, model.decoder(Tensor(embeddings)).data)
    assert np.allclose(model.decode_codes(codes.reshape(4, 3, 1)).data, hard.data)   # any grid of P codes per image


def test_short_dvae_run_learns_and_anneals():
    result = train_dvae(num_codes=16, positions=4, code_dim=4, hidden=32, epochs=4, seed=3)
    history = result.history
    assert set(history) == {"loss", "reconstruction", "kl", "tau", "test_mse_soft", "test_mse_hard", "test_gap_se"}
    assert history["tau"][-1] == pytest.approx(1 / 16) and history["tau"] == sorted(history["tau"], reverse=True)
    assert history["test_mse_hard"][-1] < history["test_mse_hard"][0]
    assert result.test_mse < 0.074   # the variance of the pixels: it learned something
    assert 1 <= result.perplexity <= 16
    assert result.test_errors.shape == result.test_errors_soft.shape == (359,)   # per test image, for paired comparisons
    assert result.test_errors.mean() == pytest.approx(result.test_mse)
    assert result.test_errors_soft.mean() == pytest.approx(history["test_mse_soft"][-1])
    gap = result.test_errors - result.test_errors_soft
    assert gap.std(ddof=1) / np.sqrt(len(gap)) == pytest.approx(history["test_gap_se"][-1])


def test_dvae_works_without_rng_and_follows_manual_seed():
    tg.manual_seed(0)
    first = [p.data.copy() for p in DiscreteVAE(4, 2, 3, 8).parameters()]
    tg.manual_seed(0)
    assert all(np.array_equal(a, p.data) for a, p in zip(first, DiscreteVAE(4, 2, 3, 8).parameters()))
