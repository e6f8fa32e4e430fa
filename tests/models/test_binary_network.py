"""BinaryConnect, BinaryNet, XNOR-Net and ternary networks: training runs and gradchecks."""
import numpy as np
import pytest

from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.discrete import ternarize
from tinygrad_ste.models import BinaryLinear, BinaryNetwork, train_binary_network


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
