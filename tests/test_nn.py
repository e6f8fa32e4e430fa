import numpy as np
import pytest

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste import nn


def make_rng(seed=0):
    return np.random.default_rng(seed)


class Block(nn.Module):
    """Nested modules, a list, a tuple, a dict, a buffer and a shared layer."""

    def __init__(self, rng):
        self.head = nn.Linear(3, 4, rng=rng)
        self.stack = [nn.Linear(4, 4, rng=rng), nn.Sequential(nn.Tanh(), nn.Linear(4, 2, rng=rng))]
        self.pair = (Tensor(np.ones(2), requires_grad=True), nn.ReLU())
        self.by_name = {"scale": Tensor(np.ones(2), requires_grad=True)}
        self.running = Tensor(np.zeros(2))   # a buffer: saved, not trained
        self.same_head = self.head           # shared: reported once
        self.note = "not a tensor"

    def forward(self, x):
        h = self.head(x)
        for layer in self.stack:
            h = layer(h)
        return h * self.pair[0] * self.by_name["scale"]


def test_parameters_are_found_in_nested_modules_lists_tuples_and_dicts():
    block = Block(make_rng())
    names = [name for name, _ in block.named_parameters()]
    assert names == ["head.weight", "head.bias", "stack.0.weight", "stack.0.bias",
                     "stack.1.layers.1.weight", "stack.1.layers.1.bias", "pair.0", "by_name.scale"]
    assert [p.shape for p in block.parameters()] == [(3, 4), (4,), (4, 4), (4,), (4, 2), (2,), (2,), (2,)]
    assert "running" in block.state_dict() and "running" not in names


def test_every_parameter_gets_a_gradient_and_zero_grad_clears_it():
    block = Block(make_rng())
    block(Tensor(make_rng(1).standard_normal((5, 3)))).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


def test_train_and_eval_reach_every_submodule():
    block = Block(make_rng())
    assert all(m.training for _, m in block.named_modules())
    assert block.eval() is block
    assert not any(m.training for _, m in block.named_modules())
    block.train()
    assert all(m.training for _, m in block.named_modules())


def test_state_dict_round_trip_restores_outputs():
    x = Tensor(make_rng(2).standard_normal((5, 3)))
    source, target = Block(make_rng(0)), Block(make_rng(1))
    assert not np.allclose(source(x).data, target(x).data)
    state = source.state_dict()
    target.load_state_dict(state)
    np.testing.assert_array_equal(source(x).data, target(x).data)
    state["head.weight"][...] = 0   # a copy: editing it leaves the module alone
    assert np.any(source.head.weight.data != 0)


def test_save_and_load_npz(tmp_path):
    x = Tensor(make_rng(2).standard_normal((5, 3)))
    source, target = Block(make_rng(0)), Block(make_rng(1))
    source.running.data[...] = [3.0, 4.0]
    path = tmp_path / "block.npz"
    source.save(path)
    weight = target.head.weight
    target.load(path)
    assert target.head.weight is weight, "loading writes in place, so optimizers keep their tensors"
    np.testing.assert_array_equal(target(x).data, source(x).data)
    np.testing.assert_array_equal(target.running.data, [3.0, 4.0])


def test_load_state_dict_names_missing_unexpected_and_misshaped_keys():
    block = Block(make_rng())
    state = block.state_dict()
    del state["head.bias"]
    state["extra"] = np.zeros(1)
    state["stack.0.weight"] = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"missing keys \['head.bias'\].*unexpected keys \['extra'\]"
                                         r".*stack.0.weight: expected \(4, 4\), got \(4, 5\)"):
        block.load_state_dict(state)


@pytest.mark.parametrize("input_shape, fan_out", [((1, 1), 1), ((4, 3), 5), ((7, 6), 2), ((2, 3, 4), 3)])
def test_linear_is_gradchecked(input_shape, fan_out):
    rng = make_rng(len(input_shape) + fan_out)
    layer = nn.Linear(input_shape[-1], fan_out, rng=rng)
    x = Tensor(rng.standard_normal(input_shape), requires_grad=True)

    def affine(x, weight, bias):
        layer.weight, layer.bias = weight, bias
        return layer(x)

    assert gradcheck(affine, [x, layer.weight, layer.bias])   # (2, 3, 4): weights shared over two batch axes


def test_linear_init_bounds_shapes_and_no_bias():
    layer = nn.Linear(16, 300, rng=make_rng())
    assert layer.weight.shape == (16, 300) and layer.bias.shape == (300,)
    assert np.abs(layer.weight.data).max() <= 0.25 and np.abs(layer.weight.data).max() > 0.24
    assert np.isclose(layer.weight.data.var(), 0.25 ** 2 / 3, rtol=0.05)   # uniform(-b, b) has variance b^2 / 3
    no_bias = nn.Linear(2, 3, bias=False, rng=make_rng())
    assert no_bias.bias is None and len(no_bias.parameters()) == 1
    with pytest.raises(ValueError, match=r"Linear\(2, 3\).*\(4, 5\)"):
        no_bias(Tensor(np.zeros((4, 5))))


def test_activations_and_mlp_structure():
    x = Tensor([-2.0, 0.5])
    np.testing.assert_allclose(nn.ReLU()(x).data, [0.0, 0.5])
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh([-2.0, 0.5]))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp([2.0, -0.5])))
    mlp = nn.MLP([5, 8, 8, 2], activation=nn.Tanh, rng=make_rng())
    assert [type(layer).__name__ for layer in mlp] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert mlp(Tensor(np.zeros((3, 5)))).shape == (3, 2)
    with pytest.raises(ValueError, match="MLP"):
        nn.MLP([5], rng=make_rng())


def test_same_seed_same_model():
    a, b = nn.MLP([3, 4, 2], rng=make_rng(7)), nn.MLP([3, 4, 2], rng=make_rng(7))
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_mlp_learns_xor_with_adam():
    from tinygrad_ste.optim import Adam
    rng = make_rng(3)
    x = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    model = nn.MLP([2, 8, 2], activation=nn.Tanh, rng=rng)
    optimizer = Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    assert (model(x).data.argmax(axis=1) == y).all()


def test_repr_shows_the_structure():
    text = repr(Block(make_rng()))
    assert text.startswith("Block(\n  (head): Linear(3, 4, bias=True)")
    assert "(stack.1): Sequential(\n    (layers.0): Tanh()" in text and "(pair.1): ReLU()" in text


# ----------------------------------------------------------------- PyTorch's modules and Module methods
def test_flatten_identity_and_softmax():
    x = Tensor(make_rng(0).standard_normal((2, 3, 4)))
    assert nn.Flatten()(x).shape == (2, 12) and nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Identity()(x) is x
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).data, F.softmax(x, axis=1).data)


def test_dropout_scales_what_it_keeps_and_is_the_identity_in_eval():
    p, n = 0.3, 20_000
    dropout = nn.Dropout(p, rng=make_rng(1))
    x = Tensor(np.ones(n), requires_grad=True)
    y = dropout(x)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 1 / (1 - p))
    # The share dropped is a mean of n Bernoulli(p) draws: within 4 standard errors of p.
    assert abs((1 - kept.mean()) - p) < 4 * np.sqrt(p * (1 - p) / n)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / (1 - p))   # the gradient passes where the element was kept
    assert dropout.eval()(x) is x and nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match=r"Dropout: p must lie in \[0, 1\)"):
        nn.Dropout(1.0)


def test_embedding_rows_and_their_gradient():
    embedding = nn.Embedding(5, 3, rng=make_rng(2))
    assert embedding.weight.shape == (5, 3)
    indices = Tensor(np.array([[0, 4], [4, 2]]), dtype=np.int64)
    np.testing.assert_array_equal(embedding(indices).data, embedding.weight.data[[[0, 4], [4, 2]]])
    weights = Tensor(make_rng(3).standard_normal((2, 2, 3)))
    (embedding(indices) * weights).sum().backward()
    expected = np.zeros((5, 3))
    np.add.at(expected, np.array([[0, 4], [4, 2]]), weights.data)   # row 4 used twice: its gradients add
    np.testing.assert_allclose(embedding.weight.grad, expected)
    with pytest.raises(ValueError, match=r"Embedding\(5, 3\): indices must be integers in \[0, 5\)"):
        embedding(np.array([5]))


def test_leaky_relu_and_gelu_modules():
    x = Tensor(np.array([-2.0, -0.5, 0.0, 1.5]))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, [-0.2, -0.05, 0.0, 1.5])
    np.testing.assert_allclose(nn.GELU()(x).data, F.gelu(x).data)
    np.testing.assert_allclose(nn.GELU(approximate="tanh")(x).data, F.gelu(x, approximate="tanh").data)


def test_module_tree_methods():
    model = nn.Sequential(nn.Linear(2, 3, rng=make_rng(0)), nn.ReLU(), nn.Sequential(nn.Linear(3, 1, rng=make_rng(1))))
    assert len(model) == 3 and isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.Sequential)
    assert [name for name, _ in model.named_children()] == ["layers.0", "layers.1", "layers.2"]
    assert model.children() == [model[0], model[1], model[2]]
    assert model.modules() == [model, model[0], model[1], model[2], model[2][0]]
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.layers.0.weight", "layers.2.layers.0.bias"]
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Sequential", "ReLU", "Linear", "Sequential"]   # the insides first, as in PyTorch
    assert not model.eval().training and not model[2][0].training and model.train().training


def test_requires_grad_freezes_and_unfreezes_exactly_the_parameters():
    block = Block(make_rng(0))
    trainable = [name for name, _ in block.named_parameters()]
    assert block.requires_grad_(False) is block and block.parameters() == []
    assert not block.running.requires_grad
    block.requires_grad_(True)
    assert [name for name, _ in block.named_parameters()] == trainable and not block.running.requires_grad


def test_zero_grad_to_none_or_to_zeros():
    layer = nn.Linear(2, 2, rng=make_rng(0))
    layer(Tensor(np.ones((1, 2)))).sum().backward()
    layer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(layer.weight.grad, np.zeros((2, 2)))
    layer.zero_grad()
    assert layer.weight.grad is None


def test_parameter_is_a_tensor_that_requires_grad():
    class Scale(nn.Module):
        def __init__(self):
            self.factor = nn.Parameter(Tensor(2.0))

        def forward(self, x):
            return self.factor * x
    scale = Scale()
    assert isinstance(scale.factor, Tensor) and scale.factor.requires_grad and scale.parameters() == [scale.factor]
    assert not nn.Parameter(np.ones(2), requires_grad=False).requires_grad


def test_module_to_converts_floating_tensors_in_place():
    layer = nn.Linear(2, 2, rng=make_rng(0))
    weight = layer.weight
    assert layer.to("cpu") is layer and layer.to(np.float32) is layer
    assert layer.weight is weight and weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer.double().weight.dtype == np.float64
    with pytest.raises(TypeError, match=r"Linear.to: a module converts to floating dtypes only"):
        layer.to(np.int64)
