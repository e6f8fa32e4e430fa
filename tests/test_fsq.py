"""Finite scalar quantization (fsq.py): the grid, the indices, the rules of round, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.nn import FSQ
from rule_checks import forward_as


def wide_inputs(levels, n=4000, seed=0):
    return Tensor(np.random.default_rng(seed).uniform(-4, 4, size=(n, len(levels))), requires_grad=True)


def test_fsq_8555_reaches_every_level_of_every_dimension_on_wide_inputs():
    fsq = FSQ([8, 5, 5, 5])
    z_q, indices = fsq(wide_inputs(fsq.levels))
    for d, L in enumerate([8, 5, 5, 5]):
        half = L // 2
        np.testing.assert_array_equal(np.unique(z_q.data[:, d]), (np.arange(L) - half) / half)
    assert fsq.codebook_size == 1000 and indices.min() >= 0 and indices.max() < 1000


def test_fsq_indices_and_codes_round_trip():
    fsq = FSQ([8, 5, 5, 5])
    z_q, indices = fsq(wide_inputs(fsq.levels, seed=1))
    np.testing.assert_array_equal(fsq.indices_to_codes(indices), z_q.data)
    every_code = fsq.indices_to_codes(np.arange(1000))
    assert len(np.unique(every_code, axis=0)) == 1000, "the implicit codebook has 1000 distinct points"
    assert np.abs(every_code).max() == 1
    np.testing.assert_array_equal(fsq.codes_to_indices(every_code), np.arange(1000))
    # the mixed-radix reading: the first dimension is the fastest-moving digit
    np.testing.assert_array_equal(fsq.indices_to_codes(np.array([0, 1, 8])),
                                  [[-1, -1, -1, -1], [-0.75, -1, -1, -1], [-1, -0.5, -1, -1]])


def test_fsq_straight_through_gradient_is_positive():
    fsq = FSQ([8, 5, 5, 5])
    z = Tensor(np.random.default_rng(2).normal(size=(50, 4)), requires_grad=True)
    z_q, _ = fsq(z)
    z_q.sum().backward()
    assert (z.grad > 0).all()


@pytest.mark.parametrize("L", range(2, 10))
def test_bound_reaches_exactly_L_integers_and_zero_maps_to_the_middle(L):
    fsq = FSQ([L])
    extremes = fsq.bound(Tensor([[-50.0], [50.0]])).data.ravel()
    half = L // 2
    # odd L: -half..half; even L: the half-level offset gives -half..half-1
    assert np.round(extremes).tolist() == [-half, half if L % 2 else half - 1]
    assert abs(fsq.bound(Tensor([[0.0]])).data.item()) < 0.05
    assert fsq(Tensor([[0.0]]))[0].data.item() == 0


@settings(max_examples=25, deadline=None)
@given(levels=st.lists(st.integers(2, 9), min_size=1, max_size=4), leading=st.lists(st.integers(1, 3), max_size=2),
       seed=st.integers(0, 2 ** 16))
def test_fsq_rules_are_the_derivative_of_the_bound(levels, leading, seed):
    """Straight-through: the gradient of bound(z) / half_width (gradchecked in float64),
    and the same as the z + detach(q(z) - z) form."""
    fsq = FSQ(levels)
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(*leading, len(levels)))
    assert gradcheck(lambda t: forward_as(fsq.bound(t) / fsq.half_width, fsq(t)[0]), [Tensor(z, requires_grad=True)])

    g = rng.normal(size=z.shape)
    ours = Tensor(z, requires_grad=True)
    z_q, _ = fsq(ours)
    z_q.backward(g)
    theirs = Tensor(z, requires_grad=True)
    smooth = fsq.bound(theirs) / fsq.half_width
    detached_form = smooth + (Tensor(np.round(fsq.bound(z).data)) / fsq.half_width - smooth).detach()
    detached_form.backward(g)
    np.testing.assert_array_equal(z_q.data, detached_form.data)
    np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-12)


def test_fsq_takes_every_rule_of_round():
    z = np.random.default_rng(3).normal(size=(6, 2))
    g = np.ones_like(z)
    grads = {}
    for rule in ["zero", "identity", "clipped"]:
        fsq = FSQ([3, 4], backward=rule)
        t = Tensor(z, requires_grad=True)
        fsq(t)[0].backward(g)
        grads[rule] = t.grad
    np.testing.assert_array_equal(grads["zero"], 0)
    bounded = FSQ([3, 4]).bound(z).data
    np.testing.assert_allclose(grads["clipped"], grads["identity"] * (np.abs(bounded) <= 1))


def test_fsq_usage_and_repr():
    fsq = FSQ([2, 2])
    fsq(Tensor([[-3.0, -3.0], [3.0, -3.0], [3.0, -3.0], [3.0, 3.0]]))
    p = np.array([0.25, 0.5, 0.25])
    assert fsq.perplexity == pytest.approx(np.exp(-(p * np.log(p)).sum())) and fsq.usage == 0.75
    assert repr(fsq) == "FSQ(levels=[2, 2], backward='identity')"
    assert fsq.parameters() == []


@pytest.mark.parametrize("levels, error, message", [
    ([], ValueError, "non-empty"), ([8, 1, 5], ValueError, r"at least 2 levels.*\[8, 1, 5\]"),
    ([8, 2.5], TypeError, "integers"), (5, ValueError, "non-empty list")])
def test_fsq_bad_levels(levels, error, message):
    with pytest.raises(error, match=message):
        FSQ(levels)


def test_fsq_bad_shapes_indices_and_rules():
    fsq = FSQ([8, 5, 5, 5])
    with pytest.raises(ValueError, match=r"FSQ\(levels=\[8, 5, 5, 5\]\).*\(\.\.\., 4\).*\(6, 3\)"):
        fsq(Tensor(np.zeros((6, 3))))
    with pytest.raises(ValueError, match=r"\[0, 1000\).*1000"):
        fsq.indices_to_codes(np.array([3, 1000]))
    with pytest.raises(TypeError, match="integers"):
        fsq.indices_to_codes(np.array([0.5]))
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\).*\(2,\)"):
        fsq.codes_to_indices(np.zeros(2))
    with pytest.raises(ValueError, match="unknown backward rule 'rotation'"):
        FSQ([3], backward="rotation")
