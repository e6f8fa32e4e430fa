"""Compositions in functional.py: values against NumPy, gradients against central differences."""
import re

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


def test_one_hot_is_a_tensor_without_gradient():
    y = F.one_hot([2, 0], 3)
    assert isinstance(y, Tensor) and not y.requires_grad and y.dtype == np.float64
    np.testing.assert_array_equal(y.data, [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(F.one_hot(Tensor([[1.0], [3.0]])).data, np.eye(4)[[[1], [3]]])   # classes: max + 1
    assert F.one_hot([1], 2, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"one_hot: indices must lie in \[0, 3\)"):
        F.one_hot([3], 3)
    with pytest.raises(TypeError, match="one_hot: indices must be integers"):
        F.one_hot([0.5], 3)


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


# ==================================================================================
# More functions: cross_entropy over (..., C), pad, einsum.
# ==================================================================================
import tinygrad_ste as tg   # noqa: E402


def cross_entropy_numpy(logits, target):
    """-log softmax(logits)[..., target], item by item, straight from the definition."""
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, target[..., None], axis=-1)[..., 0]


@settings(max_examples=20, deadline=None)
@given(leading=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), classes=st.integers(1, 4),
       reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2**16))
def test_cross_entropy_over_any_leading_shape(leading, classes, reduction, seed):
    rng = np.random.default_rng(seed)
    logits, target = leaf(rng, leading + (classes,)), rng.integers(0, classes, size=leading)
    costs = cross_entropy_numpy(logits.data, target)
    expected = {"none": costs, "sum": costs.sum(), "mean": costs.mean()}[reduction]
    loss = F.cross_entropy(logits, target, reduction=reduction)
    assert loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12, atol=1e-15)
    assert gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), [logits])


def test_cross_entropy_default_is_the_batch_mean():
    rng = np.random.default_rng(5)
    logits, target = leaf(rng, (6, 3)), rng.integers(0, 3, size=6)
    assert F.cross_entropy(logits, target).item() == pytest.approx(cross_entropy_numpy(logits.data, target).mean())


@pytest.mark.parametrize("logits_shape, target_shape", [((2, 3), (3,)), ((2, 3, 4), (2, 4)), ((), ())])
def test_cross_entropy_names_both_shapes(logits_shape, target_shape):
    with pytest.raises(ValueError, match=rf"cross_entropy: .*{re.escape(str(logits_shape))} and "
                                         rf"{re.escape(str(target_shape))}"):
        F.cross_entropy(Tensor(np.zeros(logits_shape)), np.zeros(target_shape, dtype=int))
    with pytest.raises(ValueError, match="cross_entropy: reduction must be"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], reduction="avg")


@pytest.mark.parametrize("pad_width", [1, (2,), (1, 2), ((1, 0), (0, 2), (2, 1)), [[0, 0], [3, 1], [0, 0]]])
def test_pad_constant(pad_width):
    rng = np.random.default_rng(6)
    x = leaf(rng, (2, 3, 2))
    np.testing.assert_array_equal(F.pad(x, pad_width, value=-1.5).data,
                                  np.pad(x.data, pad_width, constant_values=-1.5))
    assert gradcheck(lambda x: F.pad(x, pad_width, value=-1.5), [x])


@pytest.mark.parametrize("pad_width, message", [
    ((1, -1), "non-negative integers"), ((0.5, 1), "non-negative integers"), (((1, 1), (1, 1)), "does not fit 3"),
])
def test_pad_errors_name_op_and_shape(pad_width, message):
    with pytest.raises(ValueError, match=rf"pad: pad_width .*{message}.*\(2, 3, 2\)"):
        F.pad(Tensor(np.zeros((2, 3, 2))), pad_width)
    with pytest.raises(ValueError, match=r"pad: a 0-d tensor has no axes to pad"):
        F.pad(Tensor(1.0), 1)


EINSUM_CASES = [   # subscripts, operand shapes
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),     # batched matmul
    ("bi,bj->bij", [(3, 2), (3, 4)]),             # batched outer product
    ("i,j", [(3,), (2,)]),                        # outer product, implicit output
    ("ij->ji", [(2, 3)]),
    ("ij,jk", [(2, 3), (3, 4)]),                  # implicit output: ik
    ("ij,k", [(3, 4), (3,)]),                     # implicit output: ijk
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),        # diagonal, trace
    ("iji->j", [(2, 3, 2)]),
    ("ij->", [(2, 3)]), ("abcd->bd", [(2, 2, 3, 2)]),
    ("k,nk->", [(4,), (3, 4)]),
    ("ijk,lji,lli->lki", [(3, 2, 2), (2, 2, 3), (2, 2, 3)]),   # three operands, a letter twice in one
    ("...ij,...jk->...ik", [(2, 1, 3, 2), (4, 2, 2)]),        # broadcast batch axes
    ("...ij,...jk", [(3, 2), (5, 2, 4)]),
    ("jk...,lj...->lk...", [(3, 2, 4), (2, 3, 4)]),
    ("j...k,lj...->lk...", [(2, 2, 2), (2, 2, 2)]),
    ("...k,...nk->...", [(3, 4), (3, 2, 4)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),                          # an axis of length 1 broadcast
    ("Ab,bC", [(2, 3), (3, 4)]),                              # implicit output in ASCII order: CA
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM_CASES)
def test_einsum_matches_numpy_and_gradchecks(subscripts, shapes):
    rng = np.random.default_rng(7)
    operands = [leaf(rng, shape) for shape in shapes]
    np.testing.assert_allclose(tg.einsum(subscripts, *operands).data,
                               np.einsum(subscripts, *[x.data for x in operands]), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *xs: F.einsum(subscripts, *xs), operands)


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 3), min_size=4, max_size=4), batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       data=st.data(), seed=st.integers(0, 2**16))
def test_einsum_batched_products_over_random_broadcast_shapes(sizes, batch, data, seed):
    """'...ij,...jk->...ik' and '...i,...j->...ij' with batch axes that broadcast (some of length 1)."""
    rng = np.random.default_rng(seed)
    i, j, k, _ = sizes
    left_batch = tuple(1 if data.draw(st.booleans()) else n for n in batch)
    for subscripts, shapes in [("...ij,...jk->...ik", [left_batch + (i, j), batch + (j, k)]),
                               ("...i,...j->...ij", [batch + (i,), left_batch + (k,)])]:
        operands = [leaf(rng, shape) for shape in shapes]
        np.testing.assert_allclose(F.einsum(subscripts, *operands).data,
                                   np.einsum(subscripts, *[x.data for x in operands]), rtol=1e-12, atol=1e-12)
        assert gradcheck(lambda *xs: F.einsum(subscripts, *xs), operands)


@settings(max_examples=20, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data(), seed=st.integers(0, 2**16))
def test_pad_random_shapes_and_widths(shape, data, seed):
    widths = [(data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape]
    x = leaf(np.random.default_rng(seed), shape)
    np.testing.assert_array_equal(F.pad(x, widths, value=0.5).data, np.pad(x.data, widths, constant_values=0.5))
    assert gradcheck(lambda x: F.pad(x, widths, value=0.5), [x])


def test_einsum_takes_a_list_and_the_same_tensor_twice():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    F.einsum("i,i->", [x, x]).backward()   # sum x_i^2
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk->ik", [(2, 3)], r"name 2 operand\(s\), got 1"),
    ("ijk,jk->ik", [(3, 4), (4, 2)], r"operand 0 has shape \(3, 4\), but its subscripts 'ijk' name 3 axes"),
    ("ij,jk->ik", [(2, 3), (4, 2)], r"axis 'j' has length 3 in operand 0 but 4 in operand 1"),
    ("i-j", [(2, 3)], "use letters"),
    ("...ij,jk->ik", [(5, 2, 3), (3, 4)], r"the output needs '...' too"),
])
def test_einsum_errors_name_op_subscripts_and_shapes(subscripts, shapes, message):
    with pytest.raises(ValueError, match="einsum: .*" + message):
        F.einsum(subscripts, *[np.zeros(shape) for shape in shapes])
    with pytest.raises(TypeError, match="einsum: subscripts must be a string"):
        F.einsum(np.zeros(2), np.zeros(2))


# ------------------------------------------------------------------ more losses, each with reduction=

_REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda costs: costs}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16))
@settings(max_examples=15, deadline=None)
def test_elementwise_losses_against_their_formulas(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-2, 2, shape), rng.uniform(-2, 2, shape)
    d = a - b
    d[np.abs(np.abs(d) - 0.7) < 1e-3] += 0.01    # off the kinks of smooth L1 and Huber
    d[np.abs(d) < 1e-3] += 0.01
    a = b + d
    p, t = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)
    q = rng.uniform(0.05, 1, shape)
    cases = [
        (lambda x, y: F.l1_loss(x, y, reduction), np.abs(d), a, b),
        (lambda x, y: F.smooth_l1_loss(x, y, reduction, beta=0.7),
         np.where(np.abs(d) < 0.7, 0.5 * d * d / 0.7, np.abs(d) - 0.35), a, b),
        (lambda x, y: F.huber_loss(x, y, reduction, delta=0.7),
         np.where(np.abs(d) <= 0.7, 0.5 * d * d, 0.7 * (np.abs(d) - 0.35)), a, b),
        (lambda x, y: F.binary_cross_entropy(x, y, reduction), -(t * np.log(p) + (1 - t) * np.log(1 - p)), p, t),
        (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction),
         -(t * np.log(1 / (1 + np.exp(-a))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-a)))), a, t),
        (lambda x, y: F.kl_div(x, y, reduction), q * (np.log(q) - np.log(p)), np.log(p), q),
        (lambda x, y: F.kl_div(x, y, reduction, log_target=True), q * (np.log(q) - np.log(p)), np.log(p), np.log(q)),
    ]
    for loss, costs, x, y in cases:
        np.testing.assert_allclose(loss(x, y).data, _REDUCE[reduction](costs), rtol=1e-10, atol=1e-12)
        assert gradcheck(loss, [Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_picks_the_target_log_probability(reduction):
    rng = np.random.default_rng(0)
    log_probs = np.log(rng.dirichlet(np.ones(4), size=(2, 3)))
    target = rng.integers(0, 4, size=(2, 3))
    costs = -np.take_along_axis(log_probs, target[..., None], -1)[..., 0]
    np.testing.assert_allclose(F.nll_loss(log_probs, target, reduction).data, _REDUCE[reduction](costs))
    assert gradcheck(lambda x: F.nll_loss(x, target, reduction), [Tensor(log_probs, requires_grad=True)])
    with pytest.raises(ValueError, match=r"nll_loss: target values must lie in \[0, 4\)"):
        F.nll_loss(log_probs, target + 4)


def test_losses_stay_finite_where_the_naive_formula_does_not():
    logits = Tensor([1000.0, -1000.0, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logits, [0.0, 1.0, 1.0], reduction="none")
    np.testing.assert_allclose(loss.data, [1000.0, 1000.0, np.log(2)])
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad, [1.0, -1.0, -0.5])
    p = Tensor([0.0, 1.0, 0.5], requires_grad=True)
    bce = F.binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="none")   # log clamped at -100, as in PyTorch
    np.testing.assert_allclose(bce.data, [100.0, 100.0, np.log(2)])
    bce.sum().backward()
    assert np.isfinite(p.grad).all()
    kl = F.kl_div(np.log([0.5, 0.5]), [1.0, 0.0], reduction="sum")     # 0 log 0 = 0
    np.testing.assert_allclose(kl.data, np.log(2))
    assert F.kl_div(np.zeros((4, 3)), np.ones((4, 3)), reduction="batchmean").item() == 0.0


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.l1_loss(np.ones(3), np.ones((3, 1))), ValueError, r"l1_loss: prediction shape \(3,\) and target"),
    (lambda: F.binary_cross_entropy([1.5], [1.0]), ValueError, "binary_cross_entropy: input must be probabilities"),
    (lambda: F.huber_loss([1.0], [1.0], reduction="max"), ValueError, "huber_loss: reduction must be one of"),
    (lambda: F.kl_div([1.0], [1.0], reduction="batch"), ValueError, "kl_div: reduction must be one of .*'batchmean'"),
    (lambda: F.smooth_l1_loss([1.0], [1.0], beta=-1), ValueError, "smooth_l1_loss: beta must be >= 0"),
])
def test_loss_errors_name_the_loss(call, error, message):
    with pytest.raises(error, match=message):
        call()
