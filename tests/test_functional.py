"""Compositions in functional.py: values against NumPy, gradients against central differences."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck


def leaf(rng, shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family_gradcheck(axis):
    rng = np.random.default_rng(0)
    x = leaf(rng, (3, 4))
    assert gradcheck(lambda x: F.softmax(x, axis=axis), [x])
    assert gradcheck(lambda x: F.log_softmax(x, axis=axis), [x])
    assert gradcheck(lambda x: F.logsumexp(x, axis=axis), [x])
    assert gradcheck(lambda x: F.logsumexp(x, axis=axis, keepdims=True), [x])


@pytest.mark.parametrize("axis, shape", [(0, (3, 4)), (-1, (2, 3, 5)), (1, (2, 3, 5))])
def test_log_softmax_op_matches_its_composition(axis, shape):
    """The fused op (ops.LogSoftmax) against x - logsumexp(x) built from elementary ops."""
    rng = np.random.default_rng(2)
    x = leaf(rng, shape)
    weights = rng.standard_normal(shape)
    fused = F.log_softmax(x, axis=axis)
    (fused * weights).sum().backward()
    fused_grad, x.grad = x.grad, None
    composed = x - F.logsumexp(x, axis=axis, keepdims=True)
    (composed * weights).sum().backward()
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fused_grad, x.grad, rtol=1e-12, atol=1e-12)


def test_softmax_is_stable_for_huge_logits():
    logits = Tensor([[1000.0, 1001.0, -1e4], [-1e4, -1e4, -1e4]], requires_grad=True)
    p = F.softmax(logits)
    assert np.all(np.isfinite(p.data))
    np.testing.assert_allclose(p.data.sum(axis=1), 1.0)
    np.testing.assert_allclose(F.logsumexp(logits).data, [1001 + np.log1p(np.exp(-1)), -1e4 + np.log(3)])
    (p[0, 1] + F.log_softmax(logits)[1, 0]).backward()
    assert np.all(np.isfinite(logits.grad))


def test_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(1)
    logits, target = leaf(rng, (5, 3)), np.array([0, 2, 1, 1, 0])
    z = logits.data
    expected = -np.mean(z[np.arange(5), target] - np.log(np.exp(z).sum(axis=1)))
    np.testing.assert_allclose(F.cross_entropy(logits, target).item(), expected)
    assert gradcheck(lambda x: F.cross_entropy(x, target), [logits])


@pytest.mark.parametrize("target, error", [
    (np.array([0, 3]), ValueError), (np.array([0]), ValueError), (np.array([0.5, 1.0]), TypeError),
])
def test_cross_entropy_rejects_bad_targets(target, error):
    with pytest.raises(error, match="cross_entropy"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), target)


def test_mse_loss_refuses_silent_broadcasting():
    rng = np.random.default_rng(2)
    a, b = leaf(rng, (4, 1)), leaf(rng, (4, 1))
    assert gradcheck(F.mse_loss, [a, b])
    with pytest.raises(ValueError, match=r"mse_loss.*\(4, 1\).*\(4,\)"):
        F.mse_loss(a, np.zeros(4))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    rng = np.random.default_rng(3)
    a, b = leaf(rng, (2, 3)), leaf(rng, (2, 3))
    assert gradcheck(lambda a, b: F.concatenate([a, b * 2], axis=axis), [a, b])
    assert gradcheck(lambda a, b: F.stack([a, b, a], axis=axis), [a, b])


def test_where_with_broadcasting():
    rng = np.random.default_rng(4)
    a, b = leaf(rng, (3, 4)), leaf(rng, (4,))
    cond = rng.random((3, 4)) > 0.5
    assert gradcheck(lambda a, b: F.where(cond, a, b), [a, b])


def test_one_hot():
    np.testing.assert_array_equal(F.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="one_hot"):
        F.one_hot([3], 3)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data())
@settings(max_examples=20, deadline=None)
def test_softmax_family_accepts_negative_axes(shape, data):
    axis = data.draw(st.integers(-len(shape), -1))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    weights = rng.standard_normal(shape)
    for fn in (F.softmax, F.log_softmax, F.logsumexp):
        results = []
        for a in (axis, axis % len(shape)):
            x = leaf(np.random.default_rng(1), shape)
            y = fn(x, axis=a)
            y.backward(weights if y.shape == shape else weights.sum(axis=a))
            results.append((y.data, x.grad))
        np.testing.assert_array_equal(results[0][0], results[1][0])
        np.testing.assert_array_equal(results[0][1], results[1][1])
        assert gradcheck(lambda x: fn(x, axis=axis), [leaf(rng, shape)])


@pytest.mark.filterwarnings("ignore:invalid value", "ignore:divide by zero")
def test_log_softmax_of_a_row_of_minus_infinity():
    """What ops.LogSoftmax's docstring says: an all -inf row has no softmax (NaN, as in PyTorch);
    a row with one finite entry is fine, and logsumexp of an all -inf row is -inf."""
    x = Tensor([[-np.inf, -np.inf], [-np.inf, 0.0]])
    y = F.log_softmax(x).data
    assert np.isnan(y[0]).all()
    np.testing.assert_array_equal(y[1], [-np.inf, 0.0])
    np.testing.assert_array_equal(F.logsumexp(x).data, [-np.inf, 0.0])
