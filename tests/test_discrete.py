"""The hard deterministic ops of discrete.py and their backward rules."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, backward_rules, gradcheck
from tinygrad_ste.arrays import softmax_array, softmax_backward
from tinygrad_ste.discrete import (Ceil, Floor, Round, Trunc, ceil, floor, nearest_code, one_hot_argmax, quantize,
                                   round, sign, surrogate, ternarize, ternary_threshold_and_scale, trunc)
from rule_checks import forward_as, grad_of

SHAPES = [(5,), (3, 4), (2, 3, 4)]


# ------------------------------------------------------------------ round and sign


@pytest.mark.parametrize("op", [round, floor, ceil, trunc, sign])
@pytest.mark.parametrize("shape", SHAPES)
def test_round_and_sign_rules(op, shape):
    rng = np.random.default_rng(len(shape))
    x = rng.uniform(-3, 3, size=shape)
    g = rng.normal(size=shape)
    assert np.array_equal(grad_of(lambda t: op(t), x, g), np.zeros(shape))                 # default: "zero"
    assert np.array_equal(grad_of(lambda t: op(t, backward="zero"), x, g), np.zeros(shape))
    assert np.array_equal(grad_of(lambda t: op(t, backward="identity"), x, g), g)          # straight-through
    assert np.array_equal(grad_of(lambda t: op(t, backward="clipped"), x, g), g * (np.abs(x) <= 1))


@pytest.mark.parametrize("op, numpy_op", [(floor, np.floor), (ceil, np.ceil), (trunc, np.trunc)])
def test_floor_ceil_trunc_forward_as_numpy_and_pytorch(op, numpy_op):
    x = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.4, 0.5, 1.5, 2.6, np.inf, -np.inf])
    np.testing.assert_array_equal(op(x).data, numpy_op(x))
    assert op(np.float32([1.5])).dtype == np.float32
    np.testing.assert_array_equal(trunc(x).data[:3], [-2.0, -1.0, -0.0])   # towards zero, unlike floor


def test_the_staircases_share_round_rules_but_register_their_own():
    for op in (Floor, Ceil, Trunc):
        assert op.rules == Round.rules and op.rules is not Round.rules
    Floor.register_rule("double", lambda ctx, grad: 2 * grad)
    try:
        assert "double" not in Round.rules and "double" not in Ceil.rules
        assert np.array_equal(grad_of(lambda t: floor(t, backward="double"), np.ones(2), np.ones(2)), [2, 2])
    finally:
        del Floor.rules["double"]
    with backward_rules(floor="identity", ceil="clipped", trunc="identity"):
        x, g = np.array([0.5, 1.5]), np.array([1.0, 1.0])
        assert np.array_equal(grad_of(floor, x, g), g) and np.array_equal(grad_of(ceil, x, g), [1, 0])


def test_clipped_rule_includes_the_boundary():
    x = np.array([-1.0, 1.0, 1.0 + 1e-12, -1.5])
    assert np.array_equal(grad_of(lambda t: sign(t, backward="clipped"), x, np.ones(4)), [1, 1, 0, 0])


def test_forward_values():
    x = np.array([-1.5, -0.5, 0.0, 0.4, 0.5, 2.6])
    assert np.array_equal(round(x).data, np.round(x))
    assert np.array_equal(sign(x).data, [-1, -1, 1, 1, 1, 1])      # sign(0) = +1, never 0
    assert sign(np.float32([0.0, -2.0])).dtype == np.float32


def test_straight_through_returns_the_upstream_gradient_unchanged_through_a_chain():
    rng = np.random.default_rng(1)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert np.array_equal(grad_of(lambda t: sign(round(t, backward="identity"), backward="identity"), x, g), g)
    with backward_rules(round="identity"):
        assert np.array_equal(grad_of(round, x, g), g)


def test_callable_rule_and_surrogate():
    rng = np.random.default_rng(2)
    x, g = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))

    def half(ctx, grad):
        return grad / 2

    assert np.allclose(grad_of(lambda t: round(t, backward=half), x, g), g / 2)
    tanh_rule = surrogate(lambda a: 1 - np.tanh(a) ** 2)
    assert np.allclose(grad_of(lambda t: sign(t, backward=tanh_rule), x, g), g * (1 - np.tanh(x) ** 2))
    # gradchecked: the surrogate rule is the derivative of tanh, the smooth stand-in.
    assert gradcheck(lambda t: forward_as(t.tanh(), sign(t, backward=tanh_rule)), [Tensor(x, requires_grad=True)])


def test_registered_rule_and_unknown_rule():
    Round.register_rule("double", lambda ctx, grad: 2 * grad)
    try:
        assert np.array_equal(grad_of(lambda t: round(t, backward="double"), np.ones(3), np.ones(3)), [2, 2, 2])
    finally:
        del Round.rules["double"]
    with pytest.raises(ValueError, match="round: unknown backward rule 'nope'.*'identity'"):
        round(Tensor([1.0], requires_grad=True), backward="nope")


# ------------------------------------------------------------------ ternarize


def test_ternarize_forward_by_hand():
    x = np.array([-1.0, -0.2, 0.1, 0.5, 2.0])
    # mean |x| = 0.76, Delta = 0.532: only -1.0 and 2.0 survive, alpha = (1.0 + 2.0) / 2
    np.testing.assert_allclose(ternarize(x).data, [-1.5, 0, 0, 0, 1.5])
    w = np.array([[1.0, 0.1], [-0.1, -0.3], [0.05, 0.4]])
    # per column (axis=0): Delta = 0.7 * [0.3833, 0.2667]; column 0 keeps 1.0, column 1 keeps -0.3 and 0.4
    np.testing.assert_allclose(ternarize(w, axis=0).data, [[1.0, 0.0], [0.0, -0.35], [0.0, 0.35]])
    threshold, scale = ternary_threshold_and_scale(w, axis=0)
    assert threshold.shape == scale.shape == (1, 2)
    np.testing.assert_allclose(ternarize(np.zeros(4)).data, 0)   # nothing above Delta = 0: alpha = 0
    assert ternarize(np.float32([1.0, -2.0])).dtype == np.float32


@pytest.mark.parametrize("shape", SHAPES)
def test_ternarize_has_the_rules_of_sign(shape):
    rng = np.random.default_rng(len(shape) + 10)
    x, g = rng.uniform(-3, 3, size=shape), rng.normal(size=shape)
    assert np.array_equal(grad_of(lambda t: ternarize(t, backward="zero"), x, g), np.zeros(shape))
    assert np.array_equal(grad_of(lambda t: ternarize(t, backward="identity"), x, g), g)
    assert np.array_equal(grad_of(lambda t: ternarize(t, backward="clipped"), x, g), g * (np.abs(x) <= 1))


@pytest.mark.parametrize("shape, axis", [((5,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), (0, 1))])
@pytest.mark.parametrize("seed", range(3))
def test_ternarize_exact_rule_is_gradchecked(shape, axis, seed):
    """The default rule is the true gradient: only alpha moves with x (the pattern is a staircase)."""
    x = np.random.default_rng(seed).normal(size=shape)
    assert gradcheck(lambda t: ternarize(t, axis=axis), [Tensor(x, requires_grad=True)])


def test_ternarize_straight_through_is_the_detached_difference_form():
    rng = np.random.default_rng(6)
    x, g = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    ours, theirs = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    y = ternarize(ours, backward="identity", axis=0)
    y.backward(g)
    detached_form = theirs + (Tensor(ternarize(x, axis=0).data) - theirs).detach()
    detached_form.backward(g)
    np.testing.assert_array_equal(y.data, detached_form.data)
    np.testing.assert_array_equal(ours.grad, theirs.grad)


# ------------------------------------------------------------------ one-hot argmax


@pytest.mark.parametrize("shape,axis", [((4,), -1), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1)])
def test_one_hot_argmax_forward(shape, axis):
    logits = np.random.default_rng(3).normal(size=shape)
    hard = one_hot_argmax(logits, axis=axis).data
    assert np.array_equal(hard.sum(axis=axis), np.ones(np.delete(shape, axis)))
    assert np.array_equal(hard.argmax(axis=axis), logits.argmax(axis=axis))


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("shape,axis", [((4,), -1), ((3, 5), -1), ((3, 5), 0)])
def test_one_hot_argmax_softmax_rule_is_the_gradient_of_softmax(tau, shape, axis):
    rng = np.random.default_rng(4)
    logits, g = rng.normal(size=shape), rng.normal(size=shape)
    rule = grad_of(lambda t: one_hot_argmax(t, axis=axis, backward="softmax", tau=tau), logits, g)
    exact = grad_of(lambda t: F.softmax(t / tau, axis=axis), logits, g)
    assert np.allclose(rule, exact)
    assert gradcheck(lambda t: forward_as(F.softmax(t / tau, axis=axis),
                                          one_hot_argmax(t, axis=axis, backward="softmax", tau=tau)),
                     [Tensor(logits, requires_grad=True)])
    assert np.array_equal(grad_of(lambda t: one_hot_argmax(t, axis=axis), logits, g), np.zeros(shape))


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
@settings(max_examples=20, deadline=None)
def test_one_hot_argmax_accepts_negative_axes(shape, data):
    axis = data.draw(st.integers(-len(shape), -1))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    logits, g = rng.normal(size=shape), rng.normal(size=shape)
    negative, positive = [grad_of(lambda t: one_hot_argmax(t, axis=a, backward="softmax", tau=0.7), logits, g)
                          for a in (axis, axis % len(shape))]
    np.testing.assert_array_equal(negative, positive)
    np.testing.assert_array_equal(one_hot_argmax(logits, axis=axis).data, one_hot_argmax(logits, axis=axis % len(shape)).data)


def test_one_hot_argmax_large_logits_and_bad_tau():
    logits = Tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    one_hot_argmax(logits, backward="softmax").backward(np.array([[1.0, 2.0, 3.0]]))
    assert np.isfinite(logits.grad).all()
    with pytest.raises(ValueError, match="one_hot_argmax.*tau"):
        one_hot_argmax(logits, tau=0.0)


def test_softmax_helpers():
    logits = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])
    s = softmax_array(logits)
    assert np.isfinite(s).all() and np.allclose(s.sum(axis=-1), 1)
    g = np.random.default_rng(5).normal(size=logits.shape)
    jacobian = np.diag(s[1]) - np.outer(s[1], s[1])
    assert np.allclose(softmax_backward(s, g)[1], jacobian.T @ g[1])


# ------------------------------------------------------------------ quantize


def problem(seed, n=7, k=5, d=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(k, d)), rng.normal(size=(n, d))


@pytest.mark.parametrize("seed", range(4))
def test_nearest_code_matches_brute_force(seed):
    z, codebook, _ = problem(seed, n=20, k=6, d=4)
    brute = ((z[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)   # the (N, K, D) way
    assert np.array_equal(nearest_code(z, codebook), brute)
    z_q, indices = quantize(z, codebook)
    assert np.array_equal(indices, brute) and np.array_equal(z_q.data, codebook[brute])


@pytest.mark.parametrize("seed", range(3))
def test_quantize_zero_rule_is_gradchecked(seed):
    z, codebook, _ = problem(seed)
    # z_q does not move when z moves a little (0 for z); each code row collects the g of the rows that chose it.
    assert gradcheck(lambda a, b: quantize(a, b)[0],
                     [Tensor(z, requires_grad=True), Tensor(codebook, requires_grad=True)])


def test_quantize_zero_rule_accumulates_into_codes():
    z = np.array([[0.0, 0.1], [0.1, 0.0], [5.0, 5.0]])
    codebook = Tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 0.0]], requires_grad=True)
    z_q, _ = quantize(z, codebook)
    z_q.backward(np.ones((3, 2)))
    assert np.array_equal(codebook.grad, [[2, 2], [1, 1], [0, 0]])


def test_quantize_identity_passes_g_and_nothing_to_the_codebook():
    z, codebook, g = problem(5)
    z, codebook = Tensor(z, requires_grad=True), Tensor(codebook, requires_grad=True)
    quantize(z, codebook, backward="identity")[0].backward(g)
    assert np.array_equal(z.grad, g) and codebook.grad is None


def rotation_matrices(z, z_q):
    """lambda R for every row, built explicitly: R = I - 2 r r^T + 2 q e^T (Fifty et al. 2024)."""
    e = z / np.linalg.norm(z, axis=1, keepdims=True)
    q = z_q / np.linalg.norm(z_q, axis=1, keepdims=True)
    r = (e + q) / np.linalg.norm(e + q, axis=1, keepdims=True)
    eye = np.eye(z.shape[1])
    R = eye - 2 * np.einsum("ni,nj->nij", r, r) + 2 * np.einsum("ni,nj->nij", q, e)
    scale = np.linalg.norm(z_q, axis=1) / np.linalg.norm(z, axis=1)
    return scale[:, None, None] * R, R, e, q


@pytest.mark.parametrize("seed", range(3))
def test_quantize_rotation_rule(seed):
    z, codebook, g = problem(seed, d=4)
    z_t, book = Tensor(z, requires_grad=True), Tensor(codebook, requires_grad=True)
    z_q, _ = quantize(z_t, book, backward="rotation")
    z_q.backward(g)
    scaled, R, e, q = rotation_matrices(z, z_q.data)
    assert np.allclose(np.einsum("nij,nj->ni", R, e), q)                          # R maps e onto q ...
    assert np.allclose(np.einsum("nji,njk->nik", R, R), np.eye(4))                 # ... and is a rotation
    assert np.allclose(z_t.grad, np.einsum("nji,nj->ni", scaled, g))               # dL/dz = lambda R^T g
    assert book.grad is None
    assert np.allclose(np.linalg.norm(z_t.grad, axis=1),                          # ||dL/dz|| = (||z_q||/||z||) ||g||
                       np.linalg.norm(z_q.data, axis=1) / np.linalg.norm(z, axis=1) * np.linalg.norm(g, axis=1))

    # gradchecked as the derivative of z -> sg(lambda R) z, lambda R held at its value at z.
    def rotated(a):
        return forward_as((Tensor(scaled) @ a.reshape(*a.shape, 1)).reshape(*a.shape),
                          quantize(a, codebook, backward="rotation")[0])
    assert gradcheck(rotated, [Tensor(z, requires_grad=True)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_quantize_rotation_gradient_is_finite_at_tiny_norms(dtype):
    """Norms are clamped at 1e-6, as in the reference implementation: z = 0, z of norm 1e-200 (or
    1e-40 in float32) and z pointing exactly away from its code all get a finite gradient."""
    tiny = 1e-200 if dtype == np.float64 else 1e-40
    codebook = np.array([[1.0, 1.0], [-3.0, 0.5]], dtype=dtype)
    z = Tensor(np.array([[0.0, 0.0], [tiny, 0.0], [-1e-3, -1e-3], [0.9, 1.2]], dtype=dtype), requires_grad=True)
    z_q, indices = quantize(z, codebook, backward="rotation")
    assert list(indices) == [0, 0, 0, 0]
    z_q.backward(np.ones((4, 2), dtype=dtype))
    assert z.grad.dtype == dtype and np.isfinite(z.grad).all()
    bound = np.linalg.norm(z_q.data, axis=1) / 1e-6 * np.sqrt(2)        # ||z_q|| / 1e-6 times ||g||
    assert (np.linalg.norm(z.grad, axis=1) <= bound * (1 + 1e-5)).all()
    ordinary = Tensor(z.data[3:], requires_grad=True)                   # a normal row: unchanged by the clamp
    quantize(ordinary, codebook, backward="rotation")[0].backward(np.ones((1, 2), dtype=dtype))
    scaled = rotation_matrices(z.data[3:].astype(np.float64), codebook[:1].astype(np.float64))[0]
    np.testing.assert_allclose(ordinary.grad, np.einsum("nji,nj->ni", scaled, np.ones((1, 2))), rtol=1e-5)


def test_quantize_rotation_is_identity_when_z_is_a_code():
    codebook = np.array([[1.0, 2.0], [-3.0, 0.5]])
    z = Tensor(codebook.copy(), requires_grad=True)
    g = np.array([[0.3, -1.0], [2.0, 1.0]])
    quantize(z, codebook, backward="rotation")[0].backward(g)
    assert np.allclose(z.grad, g)


@pytest.mark.parametrize("z_shape,book_shape", [((6,), (4, 6)), ((3, 2), (4, 3)), ((3, 2), (4,)), ((2, 3, 2), (4, 2))])
def test_quantize_bad_shapes(z_shape, book_shape):
    with pytest.raises(ValueError, match=r"quantize: .*" + str(z_shape).replace("(", r"\(").replace(")", r"\)")):
        quantize(np.zeros(z_shape), np.zeros(book_shape))
