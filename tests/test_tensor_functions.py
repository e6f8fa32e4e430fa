"""tg.sin(x), tg.sum(x, dim=1), tg.cat(...): PyTorch's functions are the Tensor methods."""
import numpy as np

import tinygrad_ste as tg
import tinygrad_ste.functional as F


def test_each_function_is_its_method():
    x = tg.tensor(np.random.default_rng(0).uniform(0.5, 2.0, (2, 3)))
    for name in ("sin", "cos", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu"):
        np.testing.assert_array_equal(getattr(tg, name)(x).numpy(), getattr(x, name)().numpy())
    np.testing.assert_array_equal(tg.sum(x, dim=1, keepdim=True).numpy(), x.sum(axis=1, keepdims=True).numpy())
    np.testing.assert_array_equal(tg.mean(x).numpy(), x.mean().numpy())
    np.testing.assert_array_equal(tg.pow(x, 2).numpy(), (x ** 2).numpy())
    np.testing.assert_array_equal(tg.clamp(x, 1.0, 1.5).numpy(), x.clip(1.0, 1.5).numpy())
    np.testing.assert_array_equal(tg.matmul(x, x.t()).numpy(), (x @ x.T).numpy())
    assert tg.reshape(x, (3, 2)).shape == (3, 2) and tg.flatten(x).shape == (6,) and tg.numel(x) == 6
    assert tg.unsqueeze(x, 0).shape == (1, 2, 3) and tg.squeeze(tg.unsqueeze(x, 0)).shape == (2, 3)
    assert tg.transpose(x, 0, 1).shape == (3, 2) and tg.permute(x, (1, 0)).shape == (3, 2)
    assert tg.cat([x, x], dim=0).shape == (4, 3) and tg.stack([x, x], dim=1).shape == (2, 2, 3)
    np.testing.assert_array_equal(tg.softmax(x, dim=1).numpy(), F.softmax(x, axis=1).numpy())
    np.testing.assert_array_equal(tg.where(x > 1, x, 0.0).numpy(), np.where(x.numpy() > 1, x.numpy(), 0.0))
    np.testing.assert_array_equal(tg.sin([0.0, 1.0]).numpy(), np.sin([0.0, 1.0]))   # array-likes too


def test_gradients_flow_through_the_functions():
    x = tg.tensor([[0.3, -0.7], [1.1, 0.2]], requires_grad=True)
    assert tg.gradcheck(lambda t: tg.sum(tg.tanh(tg.sin(t)) * tg.exp(t), dim=1), [x])
