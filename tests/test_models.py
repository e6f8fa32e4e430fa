import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.data import load_digits
from tinygrad_ste.discrete import ternarize
from tinygrad_ste.models import (EQUAL_BITS, BinaryLinear, BinaryNetwork, CategoricalAutoencoder, VQAutoencoder,
                                 kmeans_baseline, kmeans_reconstruction_mse, train_binary_network,
                                 train_categorical_autoencoder, train_vq_autoencoder)


def test_kmeans_baseline_improves_with_more_codes_and_beats_the_mean_image():
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    mean_image_mse = ((test_images - train_images.mean(axis=0)) ** 2).mean()
    baselines = [kmeans_reconstruction_mse(k) for k in (1, 16, 64)]
    assert baselines[0] == pytest.approx(mean_image_mse, rel=1e-9), "one centre is the mean image"
    assert baselines[0] > baselines[1] > baselines[2]


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


def test_default_vq_autoencoder_beats_the_kmeans_baseline_with_few_dead_codes():
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


@pytest.mark.parametrize("weights", ["xnor", "ternary"])
def test_xnor_and_ternary_networks_train(weights):
    result = train_binary_network(rule="identity", weights=weights, epochs=3)
    assert result.history["loss"][-1] < 0.5 * result.history["loss"][0]
    assert result.test_accuracy > 0.8
    model = result.model
    if weights == "ternary":
        zeros = np.mean(ternarize(model.hidden.weight).data == 0)
        assert 0.1 < zeros < 0.9, "TWN's threshold zeroes a good share of the weights"
    xnor_activations = train_binary_network(rule="clipped", weights="xnor", binarize_activations=True, epochs=2)
    assert xnor_activations.history["loss"][-1] < xnor_activations.history["loss"][0]
    with pytest.raises(ValueError, match="weights must be one of"):
        train_binary_network(weights="quaternary")


@pytest.mark.parametrize("weights, true_rule", [("sign", "zero"), ("xnor", "zero"), ("ternary", "exact")])
def test_quantized_layers_are_gradchecked_with_their_true_gradient(weights, true_rule):
    """With the true-gradient rule, every path (input, XNOR's alpha_j, TWN's alpha, gain, bias) is exact."""
    rng = np.random.default_rng(8)
    layer = BinaryLinear(5, 3, true_rule, rng=rng, weights=weights)
    x = Tensor(rng.normal(size=(4, 5)), requires_grad=True)

    def forward(x, weight, gain, bias):
        layer.weight, layer.gain, layer.bias = weight, gain, bias
        return layer(x)

    assert gradcheck(forward, [x, layer.weight, layer.gain, layer.bias])


def test_xnor_straight_through_is_the_detached_difference_form():
    rng = np.random.default_rng(9)
    layer = BinaryLinear(6, 2, "identity", rng=rng, weights="xnor")
    x, g = rng.normal(size=(3, 6)), rng.normal(size=(3, 2))
    layer(Tensor(x)).backward(g)
    ours = layer.weight.grad
    weight = Tensor(layer.weight.data, requires_grad=True)
    binary = weight + (Tensor(np.where(weight.data >= 0, 1.0, -1.0)) - weight).detach()
    ((Tensor(x) @ (binary * weight.abs().mean(axis=0))) * (layer.gain.data * layer.scale)).backward(g)
    np.testing.assert_allclose(ours, weight.grad, rtol=1e-12)


def test_xnor_binary_activations_are_gradchecked_with_the_true_gradient():
    """With the zero rule only the scales move: beta = mean |h| per image and alpha_j, both exact."""
    model = BinaryNetwork(4, "zero", binarize_activations=True, rng=np.random.default_rng(10), weights="xnor")
    x = Tensor(np.random.default_rng(11).uniform(0, 1, size=(3, 64)), requires_grad=True)
    assert gradcheck(model, [x])


def test_kmeans_baseline_is_capped_at_the_training_images():
    assert kmeans_baseline(6) == (kmeans_reconstruction_mse(64), 64)
    assert kmeans_baseline(24) == kmeans_baseline(40) == (kmeans_reconstruction_mse(1438), 1438)


def test_equal_bit_budgets_hold_the_bits_they_say():
    for budget, configs in EQUAL_BITS.items():
        for kind, config in configs.items():
            result = train_vq_autoencoder(**config, hidden=8, epochs=1)
            assert abs(result.bits - budget) < 0.5, f"{kind} at {budget} bits has {result.bits:.2f}"
            assert result.model.bits == result.bits


def test_fsq_autoencoder_with_about_40_bits_beats_64_kmeans_centres_clearly():
    result = train_vq_autoencoder(**EQUAL_BITS[40]["FSQ"], hidden=128, epochs=20)
    assert result.kmeans_mse is None and result.restarts == 0
    assert result.test_mse < 0.75 * kmeans_reconstruction_mse(64)


def test_residual_vq_autoencoder_test_error_falls_with_each_stage():
    result = train_vq_autoencoder(**EQUAL_BITS[40]["RVQ"], hidden=64, epochs=10)
    stage_mse = result.stage_mse
    assert len(stage_mse) == 5 and stage_mse[-1] == result.test_mse
    assert all(coarse > fine for coarse, fine in zip(stage_mse, stage_mse[1:])), stage_mse
    dropout = train_vq_autoencoder(**EQUAL_BITS[24]["RVQ"], hidden=16, epochs=2, quantizer_dropout=True)
    assert dropout.history["reconstruction"][-1] < dropout.history["reconstruction"][0]


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
    assert result.test_errors.shape == (359,) and result.test_errors.mean() == pytest.approx(result.test_mse)


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
