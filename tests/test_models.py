import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste.data import load_digits
from tinygrad_ste.models import (BinaryNetwork, CategoricalAutoencoder, VQAutoencoder, kmeans_reconstruction_mse, train_binary_network, train_categorical_autoencoder,
                                 train_vq_autoencoder)


def test_kmeans_bound_improves_with_more_codes_and_beats_the_mean_image():
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    mean_image_mse = ((test_images - train_images.mean(axis=0)) ** 2).mean()
    bounds = [kmeans_reconstruction_mse(k) for k in (1, 16, 64)]
    assert bounds[0] == pytest.approx(mean_image_mse, rel=1e-9), "one centre is the mean image"
    assert bounds[0] > bounds[1] > bounds[2]


@pytest.mark.parametrize("options", [dict(), dict(rule="rotation", ema=True, kmeans_init=True)])
def test_short_vq_autoencoder_run_reduces_its_loss(options):
    result = train_vq_autoencoder(num_codes=32, codes_per_image=4, code_dim=4, hidden=64, epochs=8, **options)
    history = result.history
    assert set(history) == {"loss", "reconstruction", "perplexity", "usage"}
    assert all(len(values) == 8 for values in history.values())
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert history["reconstruction"][-1] < history["reconstruction"][0]
    assert 1 <= result.perplexity <= 32 and 0 < result.usage <= 1
    assert result.test_mse < 0.055   # the variance of the pixels is 0.074: it learned something


def test_vq_autoencoder_runs_reproduce():
    first, second = (train_vq_autoencoder(num_codes=16, codes_per_image=2, code_dim=4, hidden=16, epochs=2, seed=5)
                     for _ in range(2))
    assert first.history == second.history and first.test_mse == second.test_mse


def test_default_vq_autoencoder_beats_the_kmeans_bound_with_few_dead_codes():
    result = train_vq_autoencoder()
    assert result.test_mse < 0.8 * result.kmeans_mse
    assert result.dead_fraction <= 0.1
    assert result.perplexity > 0.5 * result.options["num_codes"]


def test_short_binary_network_runs():
    results = {rule: train_binary_network(rule=rule, epochs=3) for rule in (None, "identity", "clipped")}
    for result in results.values():
        assert result.history["loss"][-1] < 0.5 * result.history["loss"][0]
        assert result.test_accuracy > 0.8
    binary = results["identity"].model
    for layer in (binary.hidden, binary.output):
        assert np.abs(layer.weight.data).max() <= 1, "latent weights are clipped to [-1, 1]"
    # Latent weights never leave [-1, 1], where the clipped rule's indicator is 1: same run.
    assert results["identity"].history == results["clipped"].history
    real = results[None].model
    assert np.abs(real.hidden.weight.data).max() > 1, "the real-valued baseline is not clipped"


def test_binary_activations_make_the_rules_differ():
    identity, clipped = (train_binary_network(rule=rule, binarize_activations=True, epochs=2)
                         for rule in ("identity", "clipped"))
    assert identity.history["loss"] != clipped.history["loss"]
    assert identity.history["loss"][-1] < identity.history["loss"][0]


@pytest.mark.parametrize("estimator, options", [
    ("straight_through", {}), ("gumbel", {"tau": 0.5}), ("straight_through_gumbel", {}), ("reinmax", {}),
    ("reinforce", {"baseline": "leave_one_out"}), ("reinforce", {"baseline": "ema", "n_samples": 1})])
def test_short_categorical_autoencoder_run_reduces_its_loss(estimator, options):
    result = train_categorical_autoencoder(estimator, num_latents=8, num_categories=4, hidden=64, epochs=4, lr=5e-3,
                                           **options)
    history = result.history
    assert set(history) == {"loss", "entropy", "test_mse"} and len(history["test_mse"]) == 4
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert history["test_mse"][-1] < history["test_mse"][0]
    assert 0 <= history["entropy"][-1] <= np.log(4)
    assert result.test_mse_mode < history["test_mse"][0]


def test_categorical_autoencoder_rejects_unknown_estimators():
    with pytest.raises(ValueError, match="unknown estimator 'magic'"):
        train_categorical_autoencoder("magic")


@pytest.mark.parametrize("make", [lambda: BinaryNetwork(8, "identity"), lambda: CategoricalAutoencoder(2, 3, 8),
                                  lambda: VQAutoencoder(4, 2, 3, 8)], ids=["binary", "categorical", "vq"])
def test_lesson_models_work_without_rng_and_follow_manual_seed(make):
    tg.manual_seed(0)
    first = [p.data.copy() for p in make().parameters()]
    tg.manual_seed(0)
    for a, b in zip(first, [p.data for p in make().parameters()]):
        np.testing.assert_array_equal(a, b)
