"""dim= and keepdim= wherever axis= and keepdims= are, and PyTorch's method names."""
import inspect

import numpy as np
import pytest

import tinygrad_ste as tg
import tinygrad_ste.functional as F
from tinygrad_ste import Tensor


def test_every_function_with_an_axis_takes_dim_too():
    x = tg.tensor(np.random.default_rng(0).standard_normal((3, 4, 5)))
    for name, method in inspect.getmembers(Tensor, inspect.isfunction):
        parameters = inspect.signature(method).parameters
        if "axis" in parameters or "keepdims" in parameters:
            assert hasattr(method, "__wrapped__"), f"Tensor.{name} does not accept dim="
    for name in F.__all__:
        function = getattr(F, name)
        if {"axis", "keepdims"} & set(inspect.signature(function).parameters):
            assert hasattr(function, "__wrapped__"), f"F.{name} does not accept dim="
    np.testing.assert_array_equal(x.sum(dim=1, keepdim=True).numpy(), x.sum(axis=1, keepdims=True).numpy())
    np.testing.assert_array_equal(x.mean(dim=(0, 2)).numpy(), x.mean(axis=(0, 2)).numpy())
    np.testing.assert_array_equal(x.max(dim=-1).numpy(), x.numpy().max(axis=-1))
    np.testing.assert_array_equal(x.squeeze(dim=0).shape, (3, 4, 5))
    np.testing.assert_array_equal(F.softmax(x, dim=0).numpy(), F.softmax(x, axis=0).numpy())
    assert F.concatenate([x, x], dim=2).shape == (3, 4, 10)


def test_both_spellings_at_once_is_a_type_error():
    with pytest.raises(TypeError, match=r"sum: got both dim= and axis="):
        tg.ones(2, 2).sum(axis=0, dim=0)
    with pytest.raises(TypeError, match=r"softmax: got both dim= and axis="):
        F.softmax(tg.ones(2, 2), axis=0, dim=0)


def test_pytorch_method_names():
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.size == 24
    assert x.dim() == 3 and x.numel() == 24
    assert x.view(6, 4).shape == (6, 4) and x.view(-1).shape == (24,)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.permute((1, 0, 2)).shape == (3, 2, 4)
    assert x.transpose(1, 2).shape == (2, 4, 3) and x.transpose(0, -1).shape == (4, 3, 2)
    m = tg.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(m.t().numpy(), [[1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(m.transpose(0, 1).numpy(), m.t().numpy())   # PyTorch swaps, also on 2-d
    np.testing.assert_array_equal(m.pow(2).numpy(), [[1.0, 4.0, 9.0]])
    np.testing.assert_array_equal(m.clamp(min=1.5).numpy(), [[1.5, 2.0, 3.0]])
    np.testing.assert_array_equal(m.clamp(max=2.5).numpy(), [[1.0, 2.0, 2.5]])
    np.testing.assert_array_equal(m.add(m, alpha=2).numpy(), 3 * m.numpy())
    np.testing.assert_array_equal(m.sub(1).mul(2).div(2).neg().numpy(), 1 - m.numpy())
    assert m.matmul(m.t()).item() == 14.0 and m.tolist() == [[1.0, 2.0, 3.0]]
    assert m.is_floating_point() and not tg.tensor([1]).is_floating_point() and m.cpu() is m
    with pytest.raises(ValueError, match=r"t: expects a tensor of at most 2 dimensions"):
        x.t()
    assert tg.gradcheck(lambda t: t.permute(1, 2, 0).view(4, 6).t().pow(2), [x])


def test_requires_grad_and_clone():
    x = tg.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    y = x.clone()
    assert y.data is not x.data and y.requires_grad
    (3 * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    with pytest.raises(RuntimeError, match="requires_grad_: only leaf tensors"):
        (x * 2).requires_grad_(False)
    with pytest.raises(TypeError, match="requires_grad_: only floating-point tensors"):
        tg.tensor([1, 2]).requires_grad_()
