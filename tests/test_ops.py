"""Every differentiable op gradchecked in float64, on random shapes, with broadcasting."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, broadcast_to, gradcheck, maximum, minimum, ops
from tinygrad_ste.arrays import rows_added

settings.register_profile("ops", max_examples=20, deadline=None)
settings.load_profile("ops")

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def leaf(rng, shape, low=-2.0, high=2.0):
    return Tensor(rng.uniform(low, high, size=shape), requires_grad=True)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast against each other, e.g. (3, 1) and (4,)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    return shapes.input_shapes


@pytest.mark.parametrize("op", [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / b,
    lambda a, b: a ** b,
])
@given(shapes=broadcast_pair(), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast(op, shapes, seed):
    rng = np.random.default_rng(seed)
    a = leaf(rng, shapes[0], 0.5, 2.0)   # positive, so a ** b and log(a) are defined
    b = leaf(rng, shapes[1], 0.5, 2.0)
    assert gradcheck(op, [a, b])


@pytest.mark.parametrize("op", [
    lambda x: -x, lambda x: x.exp(), lambda x: x.tanh(), lambda x: x.sigmoid(),
    lambda x: x.relu(), lambda x: x.abs(), lambda x: x.clip(-0.5, 0.7),
    lambda x: (x * x + 0.5).log(), lambda x: (x * x + 0.5).sqrt(),
])
@given(shape=small_shapes, seed=st.integers(0, 2**16))
def test_unary_ops(op, shape, seed):
    x = leaf(np.random.default_rng(seed), shape)
    # Keep away from the kinks of relu/abs/clip, where the derivative is not defined.
    x.data[np.abs(x.data) < 1e-3] += 0.01
    x.data[np.abs(x.data + 0.5) < 1e-3] += 0.01
    x.data[np.abs(x.data - 0.7) < 1e-3] += 0.01
    assert gradcheck(op, [x])


@pytest.mark.parametrize("scalar_side", ["left", "right"])
def test_python_scalars_and_arrays_on_either_side(scalar_side):
    rng = np.random.default_rng(0)
    x = leaf(rng, (3, 4), 0.5, 2.0)
    c = rng.uniform(0.5, 2.0, size=(4,))
    if scalar_side == "left":
        fns = [lambda x: 2 + x, lambda x: 2 - x, lambda x: 2 * x, lambda x: 2 / x, lambda x: 2 ** x,
               lambda x: c + x, lambda x: c - x, lambda x: c * x, lambda x: c / x, lambda x: c @ x.T]
    else:
        fns = [lambda x: x + 2, lambda x: x - 2, lambda x: x * 2, lambda x: x / 2, lambda x: x ** 3,
               lambda x: x + c, lambda x: x - c, lambda x: x * c, lambda x: x / c, lambda x: x @ c]
    for fn in fns:
        assert gradcheck(fn, [x])


@given(shape=small_shapes, c=st.floats(-3, 3).filter(lambda c: abs(c) > 0.1), seed=st.integers(0, 2**16))
def test_a_python_number_on_either_side_is_a_constant_of_the_op_written(shape, c, seed):
    x = leaf(np.random.default_rng(seed), shape, 0.5, 2.0)   # away from 0, for c / x
    for fn, op_name in [(lambda x: x + c, "add_constant"), (lambda x: c + x, "add_constant"),
                        (lambda x: x - c, "sub_constant"), (lambda x: c - x, "sub_constant"),
                        (lambda x: x * c, "mul_constant"), (lambda x: c * x, "mul_constant"),
                        (lambda x: x / c, "div_constant"), (lambda x: c / x, "div_constant")]:
        y = fn(x)
        assert y.node.function.name == op_name and y.node.parents == [x]
        np.testing.assert_array_equal(y.data, fn(x.data))
        assert gradcheck(fn, [x])


def test_an_int_takes_the_route_of_a_float():
    x = Tensor([0.5, 4.0], requires_grad=True)
    for fn in [lambda x, c: x - c, lambda x, c: c - x, lambda x, c: x / c, lambda x, c: c / x]:
        assert fn(x, 2).node.function is fn(x, 2.0).node.function
        np.testing.assert_array_equal(fn(x, 2).data, fn(x, 2.0).data)


def test_a_number_operand_keeps_float32_in_forward_and_backward():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 0.1 + 0.2 - 0.3) * 3
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, np.full(3, 0.3, dtype=np.float32), rtol=1e-6)


@given(leading=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), classes=st.integers(1, 4),
       reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2**16))
def test_nll_loss_is_index_negate_reduce_in_one_op(leading, classes, reduction, seed):
    rng = np.random.default_rng(seed)
    log_probs, target = leaf(rng, leading + (classes,)), rng.integers(0, classes, size=leading)
    loss = ops.NLLLoss.apply(log_probs, target=target, reduction=reduction)
    picked = -log_probs[np.indices(target.shape, sparse=True) + (target,)]   # the three-op form
    composed = {"none": picked, "sum": picked.sum(), "mean": picked.mean()}[reduction]
    np.testing.assert_allclose(loss.data, composed.data, rtol=1e-15)
    assert loss.node.function.name == "nll_loss" and loss.node.parents == [log_probs]
    assert gradcheck(lambda x: ops.NLLLoss.apply(x, target=target, reduction=reduction), [log_probs])


@given(shape=small_shapes, seed=st.integers(0, 2**16))
def test_mse_loss_is_subtract_square_mean_in_one_op(shape, seed):
    rng = np.random.default_rng(seed)
    a, b = leaf(rng, shape), leaf(rng, shape)
    loss = ops.MSELoss.apply(a, b)
    np.testing.assert_allclose(loss.data, ((a - b) * (a - b)).mean().data, rtol=1e-15)
    assert loss.node.function.name == "mse_loss" and loss.node.parents == [a, b]
    assert gradcheck(ops.MSELoss.apply, [a, b])


@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)),
])
def test_matmul_2d_batched_and_vectors(shape_a, shape_b):
    rng = np.random.default_rng(1)
    assert gradcheck(lambda a, b: a @ b, [leaf(rng, shape_a), leaf(rng, shape_b)])


def test_matmul_incompatible_shapes_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))


@st.composite
def shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)))
    return shape, axis


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@given(shape_axis=shape_and_axis(), keepdims=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions(reduction, shape_axis, keepdims, seed):
    shape, axis = shape_axis
    x = leaf(np.random.default_rng(seed), shape)   # continuous values: no ties for max
    assert gradcheck(lambda x: getattr(x, reduction)(axis=axis, keepdims=keepdims), [x])


def test_max_ties_share_the_gradient():
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0, 0.5, 0.5, 0])


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), seed=st.integers(0, 2**16))
def test_reshape_and_transpose(shape, seed):
    rng = np.random.default_rng(seed)
    x = leaf(rng, shape)
    axes = tuple(rng.permutation(len(shape)))
    assert gradcheck(lambda x: x.reshape(-1) * np.arange(x.data.size), [x])
    assert gradcheck(lambda x: x.transpose(*axes), [x])
    assert gradcheck(lambda x: x.T, [x])


@pytest.mark.parametrize("index", [
    1, -1, slice(1, 3), (slice(None), 2), (Ellipsis, 0), (None, 1),
    [0, 2, 2, 0], np.array([2, -1, 0, 2]), (np.array([0, 0, 2]), np.array([1, 1, 3])),
    np.array([[True, False, True, False]] * 3),
])
def test_indexing_with_repeated_indices_accumulates(index):
    x = leaf(np.random.default_rng(2), (3, 4))
    assert gradcheck(lambda x: x[index], [x])


@pytest.mark.parametrize("shape, dtype", [((5,), np.float64), ((5, 3), np.float64), ((5, 2, 3), np.float32)])
def test_rows_added_is_np_add_at_bit_for_bit(shape, dtype):
    # the gradient of a row lookup x[rows]: the same sums, added in the same order, as np.add.at
    rng = np.random.default_rng(4)
    rows = rng.integers(-shape[0], shape[0], size=40)
    values = rng.standard_normal((40, *shape[1:])).astype(dtype)
    expected = np.zeros(shape, dtype=np.float64)
    np.add.at(expected, rows, values)
    got = rows_added(shape, rows, values, dtype=np.float64)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)
    assert rows_added(shape, rows, values).dtype == dtype


def test_repeated_index_gradient_value():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


# ------------------------------------------------------------------ negative axes, in forward and backward


def grad_of(fn, x, weights):
    """dL/dx for L = sum(weights * fn(x)), and fn(x)'s value."""
    x = Tensor(x, requires_grad=True)
    y = fn(x)
    y.backward(weights)
    return y.data, x.grad


def same_forward_and_backward(fn_negative, fn_positive, x, seed):
    """The two spellings of one op give the same value and the same gradient, and the first is gradchecked."""
    y_positive = fn_positive(Tensor(x)).data
    weights = np.random.default_rng(seed).standard_normal(y_positive.shape)
    y_neg, grad_neg = grad_of(fn_negative, x, weights)
    y_pos, grad_pos = grad_of(fn_positive, x, weights)
    np.testing.assert_array_equal(y_neg, y_pos)
    np.testing.assert_array_equal(grad_neg, grad_pos)
    assert gradcheck(fn_negative, [Tensor(x, requires_grad=True)])


@st.composite
def shape_and_axes(draw, min_dims=1):
    """A shape, some of its axes (as a tuple, no repeats) written negative or positive, and the positive spelling."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=3))
    positive = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    written = [a - len(shape) if draw(st.booleans()) else a for a in positive]
    return shape, tuple(written), tuple(positive)


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@given(case=shape_and_axes(), keepdims=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions_accept_negative_axes(reduction, case, keepdims, seed):
    shape, written, positive = case
    x = np.random.default_rng(seed).standard_normal(shape)
    for w, p in [(written, positive), (written[0], positive[0])]:   # a tuple and a single int
        same_forward_and_backward(lambda t: getattr(t, reduction)(axis=w, keepdims=keepdims),
                                  lambda t: getattr(t, reduction)(axis=p, keepdims=keepdims), x, seed)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_transpose_accepts_negative_axes(shape, data):
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    positive = tuple(int(a) for a in rng.permutation(len(shape)))
    written = tuple(a - len(shape) if data.draw(st.booleans()) else a for a in positive)
    same_forward_and_backward(lambda t: t.transpose(*written), lambda t: t.transpose(*positive),
                              rng.standard_normal(shape), seed)


def test_transpose_with_a_negative_axis_on_a_cube_and_a_box():
    """The reported bug: a silently wrong gradient on a cube, a crash on other shapes."""
    for shape in [(2, 2, 2), (2, 3, 4)]:
        x = Tensor(np.zeros(shape), requires_grad=True)
        g = np.arange(float(np.prod(shape))).reshape(np.transpose(np.zeros(shape), (0, 2, 1)).shape)
        x.transpose(0, -1, 1).backward(g)
        np.testing.assert_array_equal(x.grad, np.transpose(g, (0, 2, 1)))


@given(case=shape_and_axes(), seed=st.integers(0, 2**16))
def test_log_softmax_concatenate_and_stack_accept_negative_axes(case, seed):
    shape, written, positive = case
    w, p = written[0], positive[0]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    other = Tensor(rng.standard_normal(shape))
    same_forward_and_backward(lambda t: F.log_softmax(t, axis=w), lambda t: F.log_softmax(t, axis=p), x, seed)
    same_forward_and_backward(lambda t: F.concatenate([t, other, t], axis=w),
                              lambda t: F.concatenate([t, other, t], axis=p), x, seed)
    stack_axis = w - 1 if w < 0 else w                     # stack counts the axes of its output: one more
    same_forward_and_backward(lambda t: F.stack([t, other], axis=stack_axis),
                              lambda t: F.stack([t, other], axis=stack_axis % (len(shape) + 1)), x, seed)


@pytest.mark.parametrize("apply, message", [
    (lambda x: x.sum(axis=2), r"sum: axis 2 is out of range for a 2-d input"),
    (lambda x: x.max(axis=(0, -2)), r"max: repeated axis"),
    (lambda x: x.transpose((0, 0)), r"transpose: repeated axis"),
    (lambda x: x.transpose(1), r"transpose: axes \(1,\) are not a permutation"),
    (lambda x: F.stack([x, x], axis=-4), r"stack: axis -4 is out of range for a 3-d input"),
])
def test_bad_axes_name_the_op_and_the_shape(apply, message):
    with pytest.raises(ValueError, match=message + r".*\(2, 3\)"):
        apply(Tensor(np.ones((2, 3))))


# ------------------------------------------------------------------ edge values, as PyTorch defines them


def test_pow_zero_exponent_has_gradient_zero_even_at_zero():
    x = Tensor([0.0, 1.5, -2.0], requires_grad=True)
    y = x ** 0
    y.sum().backward()
    np.testing.assert_array_equal(y.data, 1.0)
    np.testing.assert_array_equal(x.grad, 0.0)


def test_pow_learnable_exponent_at_base_zero():
    base = Tensor([0.0, 0.0, 2.0])
    b = Tensor([2.0, 0.0, 3.0], requires_grad=True)
    (base ** b).sum().backward()                  # d/db 0^b = 0 (b >= 0), as in PyTorch; d/db 2^b = 2^b ln 2
    np.testing.assert_allclose(b.grad, [0.0, 0.0, 8 * np.log(2)])
    a = Tensor([0.0, 3.0], requires_grad=True)
    (a ** Tensor(2.0, requires_grad=True)).sum().backward()   # both learnable, one base zero
    np.testing.assert_allclose(a.grad, [0.0, 6.0])


def test_max_of_an_empty_tensor_over_a_nonempty_axis():
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    for keepdims, shape in [(False, (0,)), (True, (0, 1))]:
        y = x.max(axis=1, keepdims=keepdims)
        assert y.shape == shape == np.zeros((0, 3)).max(axis=1, keepdims=keepdims).shape
        y.sum().backward()
        assert x.grad.shape == (0, 3)
    for axis in (0, None):
        with pytest.raises(ValueError, match=r"max: there is no value over an axis of length 0.*\(0, 3\)"):
            x.max(axis=axis)


def test_concatenating_0d_tensors_says_so():
    with pytest.raises(ValueError, match=r"concatenate: 0-d tensors cannot be concatenated.*stack"):
        F.concatenate([Tensor(1.0), Tensor(2.0)])
    assert F.stack([Tensor(1.0), Tensor(2.0)]).shape == (2,)


# ==================================================================================
# More ops: elementwise, pairwise extremes, min/var/std, cumsum, shapes.
# ==================================================================================


@pytest.mark.parametrize("op, low", [
    (lambda x: x.log1p(), -0.9), (lambda x: x.sin(), -3.0), (lambda x: x.cos(), -3.0), (F.softplus, -3.0),
])
@given(shape=small_shapes, seed=st.integers(0, 2**16))
def test_more_unary_ops(op, low, shape, seed):
    assert gradcheck(op, [leaf(np.random.default_rng(seed), shape, low, 3.0)])


def test_log1p_and_softplus_are_accurate_at_the_extremes():
    tiny = Tensor([1e-20, -1e-20])
    np.testing.assert_array_equal(tiny.log1p().data, [1e-20, -1e-20])   # log(1 + x) would give 0
    x = Tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = F.softplus(x)
    np.testing.assert_allclose(y.data, [0.0, np.log(2.0), 1000.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 1.0])   # sigmoid, finite at both ends


@pytest.mark.parametrize("op", [maximum, minimum])
@given(shapes=broadcast_pair(), seed=st.integers(0, 2**16))
def test_maximum_minimum_broadcast(op, shapes, seed):
    rng = np.random.default_rng(seed)   # continuous values: no ties, where the derivative jumps
    assert gradcheck(op, [leaf(rng, shapes[0]), leaf(rng, shapes[1])])


def test_maximum_minimum_ties_share_the_gradient():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([1.0, 1.0, 3.0], requires_grad=True)
    maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(b.grad, [0.5, 0.0, 0.5])
    a.grad = b.grad = None
    minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(b.grad, [0.5, 1.0, 0.5])
    x = Tensor(0.7, requires_grad=True)
    maximum(x, x).backward()   # = x, so the two shares add up to 1
    assert x.grad == 1.0


def test_maximum_names_itself_and_the_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"maximum: .*\(3,\).*\(4,\)"):
        maximum(Tensor(np.zeros(3)), Tensor(np.zeros(4)))


def test_maximum_minimum_with_numbers_and_methods_keep_float32():
    x = Tensor(np.array([-1.0, 2.0], dtype=np.float32), requires_grad=True)
    for y in (maximum(x, 0), maximum(0.5, x), minimum(x, 1.0), x.maximum(0), x.minimum(np.float32(1))):
        assert y.dtype == np.float32
    np.testing.assert_array_equal(maximum(0.0, x).data, [0.0, 2.0])
    np.testing.assert_array_equal(x.minimum(1.0).data, [-1.0, 1.0])


@pytest.mark.parametrize("reduction", ["min", "var", "std"])
@given(shape_axis=shape_and_axis(), mixed_signs=st.booleans(), keepdims=st.booleans(), seed=st.integers(0, 2**16))
def test_more_reductions_with_negative_axes(reduction, shape_axis, mixed_signs, keepdims, seed):
    shape, axis = shape_axis
    if mixed_signs and isinstance(axis, tuple):   # shape_and_axis draws tuples of positive axes
        axis = tuple(a - len(shape) if i % 2 else a for i, a in enumerate(axis))
    x = leaf(np.random.default_rng(seed), shape)
    expected = getattr(np, reduction)(x.data, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(getattr(x, reduction)(axis=axis, keepdims=keepdims).data, expected, rtol=1e-12)
    assert gradcheck(lambda x: getattr(x, reduction)(axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("reduction", ["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_std_ddof(reduction, ddof):
    x = leaf(np.random.default_rng(ddof), (3, 4))
    for axis in (None, 0, -1, (0, 1)):
        expected = getattr(np, reduction)(x.data, axis=axis, ddof=ddof)
        np.testing.assert_allclose(getattr(x, reduction)(axis=axis, ddof=ddof).data, expected, rtol=1e-12)
        assert gradcheck(lambda x: getattr(x, reduction)(axis=axis, ddof=ddof), [x])


def test_var_std_refuse_too_few_elements_and_std_of_a_constant_has_gradient_zero():
    with pytest.raises(ValueError, match=r"var: .*ddof=1.*got 1.*\(1, 3\)"):
        Tensor(np.ones((1, 3))).var(axis=0, ddof=1)
    with pytest.raises(ValueError, match=r"std: .*axis 2 is out of range.*\(1, 3\)"):
        Tensor(np.ones((1, 3))).std(axis=2)
    x = Tensor([2.0, 2.0, 2.0], requires_grad=True)
    x.std().backward()   # not differentiable there; 0, like |x| at 0 (and as PyTorch)
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_min_ties_share_the_gradient_like_max():
    x = Tensor([[3.0, 1.0, 1.0], [2.0, 5.0, 4.0]], requires_grad=True)
    x.min(axis=-1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data(),
       seed=st.integers(0, 2**16))
def test_cumsum(shape, data, seed):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    x = leaf(np.random.default_rng(seed), shape)
    np.testing.assert_allclose(x.cumsum(axis).data, np.cumsum(x.data, axis=axis))
    assert gradcheck(lambda x: x.cumsum(axis), [x])


@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2), data=st.data(),
       seed=st.integers(0, 2**16))
def test_squeeze_unsqueeze_flatten(shape, data, seed):
    x = leaf(np.random.default_rng(seed), shape)
    ndim = len(shape)
    assert x.squeeze().shape == np.squeeze(x.data).shape
    if ndim:
        axis = data.draw(st.integers(-ndim, ndim - 1))
        kept_unless_one = x.squeeze(axis).shape   # PyTorch: an axis whose length is not 1 stays
        assert kept_unless_one == (np.squeeze(x.data, axis).shape if shape[axis] == 1 else shape)
        assert gradcheck(lambda x: x.squeeze(axis), [x])
        start = data.draw(st.integers(-ndim, ndim - 1))
        end = data.draw(st.integers(start % ndim - ndim, -1))   # on or after start
        merged = shape[start % ndim:end % ndim + 1]
        assert x.flatten(start, end).shape == shape[:start % ndim] + (int(np.prod(merged)),) + shape[end % ndim + 1:]
        assert gradcheck(lambda x: x.flatten(start, end), [x])
    new_axis = data.draw(st.integers(-ndim - 1, ndim))
    assert x.unsqueeze(new_axis).shape == np.expand_dims(x.data, new_axis).shape
    assert x.flatten().shape == (max(x.numel(), 1),)
    assert gradcheck(lambda x: x.unsqueeze(new_axis).squeeze(), [x])
    assert x.unsqueeze(new_axis).node.function.name == "unsqueeze"   # graphs name the op you called


@pytest.mark.parametrize("call, message", [
    (lambda x: x.flatten(2, 1), r"flatten: start_dim 2 comes after end_dim 1 .*\(2, 3, 4\)"),
    (lambda x: x.flatten(0, 3), r"flatten: axis 3 is out of range.*\(2, 3, 4\)"),
    (lambda x: x.squeeze(-4), r"squeeze: axis -4 is out of range"),
    (lambda x: x.unsqueeze(4), r"unsqueeze: axis 4 is out of range"),
    (lambda x: x.squeeze(0.5), r"squeeze: .*must be .*integer.*0.5"),
    (lambda x: x.cumsum(3), r"cumsum: .*out of range.*\(2, 3, 4\)"),
])
def test_shape_ops_name_themselves_in_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(Tensor(np.zeros((2, 3, 4))))


@given(target=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), data=st.data(),
       seed=st.integers(0, 2**16))
def test_broadcast_to_and_expand(target, data, seed):
    kept = data.draw(st.integers(0, len(target)))   # x has the last `kept` axes, some of length 1
    shape = tuple(1 if data.draw(st.booleans()) else n for n in target[len(target) - kept:])
    x = leaf(np.random.default_rng(seed), shape)
    np.testing.assert_array_equal(broadcast_to(x, target).data, np.broadcast_to(x.data, target))
    assert gradcheck(lambda x: broadcast_to(x, target), [x])
    keep = tuple(-1 if i >= len(target) - len(shape) and shape[i - len(target) + len(shape)] == n else n
                 for i, n in enumerate(target))   # -1 wherever x already has the length
    assert x.expand(*keep).shape == x.expand(keep).shape == x.broadcast_to(target).shape == target
    assert gradcheck(lambda x: x.expand(keep), [x])


def test_broadcast_gradient_sums_the_copies():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.expand(4, -1).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 4.0, 4.0])


@pytest.mark.parametrize("call, message", [
    (lambda x: x.expand(3, 4), r"broadcast_to: cannot broadcast shape \(3, 2\) to \(3, 4\)"),
    (lambda x: x.expand(-1, 3, 2), r"broadcast_to: -1 in \(-1, 3, 2\) names a new leading axis"),
    (lambda x: broadcast_to(x, (2,)), r"broadcast_to: cannot broadcast to \(2,\).*fewer dimensions"),
])
def test_broadcast_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(Tensor(np.zeros((3, 2))))


# ------------------------------------------------------------------ the ops people reach for next


def _away_from(x, kinks, margin=1e-3):
    """Move elements of x off the points where an op has a kink (central differences straddle it)."""
    for kink in kinks:
        x.data[np.abs(x.data - kink) < margin] += 2 * margin
    return x


@pytest.mark.parametrize("op, kinks", [
    (lambda x: x.tan(), []), (lambda x: x.atan(), []), (lambda x: x.sinh(), []), (lambda x: x.cosh(), []),
    (F.gelu, []), (lambda x: F.gelu(x, approximate="tanh"), []), (F.silu, []),
    (F.elu, [0.0]), (lambda x: F.elu(x, alpha=0.5), [0.0]), (F.leaky_relu, [0.0]),
    (lambda x: F.hardtanh(x, -0.5, 0.7), [-0.5, 0.7]), (F.softsign, [0.0]),
])
@given(shape=small_shapes, seed=st.integers(0, 2**16))
def test_new_elementwise_ops(op, kinks, shape, seed):
    x = _away_from(leaf(np.random.default_rng(seed), shape, -1.4, 1.4), kinks)
    assert gradcheck(op, [x])


def test_new_elementwise_forward_values():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    phi = np.array([0.0013498980316301, 0.3085375387259869, 0.5, 0.6914624612740131, 0.9986501019683699])
    np.testing.assert_allclose(F.gelu(x).data, x * phi, rtol=1e-12)
    np.testing.assert_allclose(F.silu(x).data, x / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(F.elu(x).data, np.where(x > 0, x, np.expm1(x)), rtol=1e-12)
    np.testing.assert_array_equal(F.leaky_relu(x, 0.1).data, np.where(x > 0, x, 0.1 * x))
    np.testing.assert_array_equal(F.softsign(x).data, x / (1 + np.abs(x)))
    t = Tensor([-1.0, 1.0, 0.0], requires_grad=True)
    F.hardtanh(t).sum().backward()   # PyTorch's hardtanh: no gradient at the corners
    np.testing.assert_array_equal(t.grad, [0.0, 0.0, 1.0])
    y = Tensor([np.nan, np.inf, -np.inf, 1.0])
    assert y.isnan().data.tolist() == [True, False, False, False] and y.isnan().dtype == bool
    assert y.isinf().data.tolist() == [False, True, True, False]
    assert y.isfinite().data.tolist() == [False, False, False, True]


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16),
       data=st.data())
def test_prod_gradcheck_over_negative_axes_with_zeros(shape, seed, data):
    x = leaf(np.random.default_rng(seed), shape)
    zeros = data.draw(st.integers(0, min(2, x.size)))
    x.data.reshape(-1)[:zeros] = 0.0                  # one zero, two, or none
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdims = data.draw(st.booleans())
    np.testing.assert_allclose(x.prod(axis, keepdims).data, np.prod(x.data, axis=axis, keepdims=keepdims))
    assert gradcheck(lambda t: t.prod(axis, keepdims), [x])


def test_prod_gradient_with_zeros_by_hand():
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], requires_grad=True)
    x.prod(axis=-1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])


def test_any_all_argmax_argmin_carry_no_gradient():
    x = Tensor([[0.0, 2.0, 2.0], [-1.0, 0.0, -3.0]], requires_grad=True)
    assert x.any().item() and not x.all().item()
    assert x.any(axis=-1).data.tolist() == [True, True] and x.all(axis=0).data.tolist() == [False, False, True]
    assert x.argmax().item() == 1 and x.argmin().item() == 5                    # flattened, first of ties
    assert x.argmax(axis=-1).data.tolist() == [1, 1] and x.argmin(axis=1, keepdims=True).shape == (2, 1)
    for result in (x.any(), x.argmax(axis=0), x.argmin()):
        assert not result.requires_grad and result.node is None
    assert x.argmax().dtype == np.int64 and Tensor(5.0).argmax(axis=-1).item() == 0
    with pytest.raises(ValueError, match="argmax: .*out of range.*\\(2, 3\\)"):
        x.argmax(axis=2)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), seed=st.integers(0, 2**16),
       data=st.data())
def test_sort_topk_cummax_values_carry_the_gradient(shape, seed, data):
    x = leaf(np.random.default_rng(seed), shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    descending = data.draw(st.booleans())
    values, positions = x.sort(axis, descending)
    expected = np.sort(x.data, axis=axis)
    np.testing.assert_array_equal(values.data, np.flip(expected, axis) if descending else expected)
    np.testing.assert_array_equal(np.take_along_axis(x.data, positions.data, axis), values.data)
    assert gradcheck(lambda t: t.sort(axis, descending)[0], [x])
    k = data.draw(st.integers(0, shape[axis]))
    top, _ = x.topk(k, axis)
    np.testing.assert_array_equal(top.data, np.take(np.flip(expected, axis), np.arange(k), axis=axis))
    assert gradcheck(lambda t: t.topk(k, axis, largest=False)[0], [x])
    running, _ = x.cummax(axis)
    np.testing.assert_array_equal(running.data, np.maximum.accumulate(x.data, axis=axis))
    assert gradcheck(lambda t: t.cummax(axis)[0], [x])


def test_cummax_positions_follow_pytorch_on_ties():
    values, positions = Tensor([1.0, 3.0, 2.0, 3.0, 0.0]).cummax(0)
    assert values.data.tolist() == [1, 3, 3, 3, 3] and positions.data.tolist() == [0, 1, 1, 3, 3]
    with pytest.raises(ValueError, match=r"topk: k=4 is out of range.*\(3,\)"):
        Tensor([1.0, 2.0, 3.0]).topk(4)


@pytest.mark.parametrize("op", [
    lambda x: x.flip(-1), lambda x: x.flip((0, -1)), lambda x: x.flip(),
    lambda x: x.roll(2, -1), lambda x: x.roll((1, -2), (0, 1)), lambda x: x.roll(5),
    lambda x: x.repeat(2, 1, 3), lambda x: x.tile(2), lambda x: x.tile(1, 2, 1, 2),
    lambda x: x.tril(), lambda x: x.triu(1), lambda x: F.tril(x, -1),
    lambda x: x.split(2, -1)[-1] * 2 + x.split([1, 1, 1], 0)[1].sum(),
    lambda x: F.stack([c.sum() for c in x.chunk(2, axis=-2)]),
    lambda x: x.masked_fill(x.data > 0.5, 0.25),
])
@given(seed=st.integers(0, 2**16))
def test_new_shape_ops(op, seed):
    assert gradcheck(op, [leaf(np.random.default_rng(seed), (3, 3, 4))])


def test_new_shape_ops_forward_as_numpy_and_pytorch():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(a)
    np.testing.assert_array_equal(x.flip((0, -1)).data, np.flip(a, (0, 2)))
    np.testing.assert_array_equal(x.roll(1, -1).data, np.roll(a, 1, 2))
    assert x.repeat(2, 1, 1, 3).shape == (2, 2, 3, 12) and x.tile(2).shape == (2, 3, 8)
    np.testing.assert_array_equal(x.triu(-1).data, np.triu(a, -1))
    assert [c.shape for c in x.split(3, axis=-1)] == [(2, 3, 3), (2, 3, 1)]
    assert [c.shape for c in Tensor(np.zeros(5)).chunk(3)] == [(2,), (2,), (1,)]   # PyTorch's sizes
    assert [c.shape for c in Tensor(np.zeros(4)).chunk(3)] == [(2,), (2,)]         # fewer pieces, as PyTorch
    with pytest.raises(ValueError, match="repeat: 1 sizes .*\\(2, 3, 4\\)"):
        x.repeat(2)
    with pytest.raises(ValueError, match="split: sizes \\[1, 1, 1\\] .*length 2"):
        x.split([1, 1, 1])
    with pytest.raises(ValueError, match="tril: .*at least 2 axes"):
        Tensor([1.0]).tril()
    with pytest.raises(TypeError, match="masked_fill: mask must be boolean"):
        x.masked_fill([1, 0, 1, 0], 0.0)


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_gather_and_scatter_add(data, seed):
    rng = np.random.default_rng(seed)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(data.draw(st.integers(1, n if a != axis % len(shape) else 5)) for a, n in enumerate(shape))
    index = rng.integers(0, shape[axis], size=index_shape)   # repeats allowed: gradients add up
    x = leaf(rng, shape)
    y = x.gather(axis, index)
    reference = np.empty(index_shape)
    for position in np.ndindex(*index_shape):
        source = list(position)
        source[axis] = index[position]
        reference[position] = x.data[tuple(source)]
    np.testing.assert_array_equal(y.data, reference)
    assert gradcheck(lambda t: t.gather(axis, index), [x])
    source = leaf(rng, index_shape)
    expected = x.data.copy()
    for position in np.ndindex(*index_shape):
        target = list(position)
        target[axis] = index[position]
        expected[tuple(target)] += source.data[position]
    np.testing.assert_allclose(x.scatter_add(axis, index, source).data, expected)
    assert gradcheck(lambda a, b: F.scatter_add(a, axis, index, b), [x, source])


def test_take_along_axis_broadcasts_as_numpy():
    rng = np.random.default_rng(0)
    x = leaf(rng, (3, 1, 4))
    indices = rng.integers(0, 4, size=(1, 5, 2))
    np.testing.assert_array_equal(F.take_along_axis(x, indices, -1).data, np.take_along_axis(x.data, indices, -1))
    assert gradcheck(lambda t: F.take_along_axis(t, indices, -1), [x])


@pytest.mark.parametrize("call, message", [
    (lambda x: x.gather(0, np.zeros((2, 3), dtype=int)), r"gather: index of shape \(2, 3\) is longer than the input"),
    (lambda x: x.gather(0, np.zeros(2, dtype=int)), "gather: index of shape \\(2,\\) must have as many axes"),
    (lambda x: x.gather(-1, np.full((2, 2), 2)), r"gather: index values must lie in \[-2, 2\)"),
    (lambda x: x.scatter_add(0, np.zeros((2, 2), dtype=int), np.ones((1, 2))), "scatter_add: .*longer than the source"),
])
def test_gather_and_scatter_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call(Tensor(np.ones((2, 2))))
    with pytest.raises(TypeError, match="gather: index must hold integers"):
        Tensor(np.ones((2, 2))).gather(0, np.zeros((2, 2)))


# ------------------------------------------------------------------ fixed: edge cases from tinygrad's op tests


def test_pow_zero_exponent_at_infinity_has_zero_base_gradient():
    x = Tensor([-np.inf, np.inf, 0.0], requires_grad=True)
    y = x ** Tensor([0.0, 0.0, 0.0])
    np.testing.assert_array_equal(y.data, [1.0, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_clip_one_side():
    x = Tensor([-2.0, 0.5, 3.0], requires_grad=True)
    np.testing.assert_array_equal(x.clip(None, 0).data, [-2.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.clip(0, None).data, [0.0, 0.5, 3.0])
    x.clip(hi=1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="clip: .*at least one"):
        x.clip(None, None)


@pytest.mark.parametrize("axis", [0, -1])
def test_zero_d_tensor_has_one_axis_for_reductions_and_scans(axis):
    x = Tensor(1.5, requires_grad=True)
    for name, y, value in [("sum", x.sum(axis), 1.5), ("mean", x.mean(axis, keepdims=True), 1.5),
                           ("max", x.max(axis), 1.5), ("prod", x.prod(axis), 1.5),
                           ("softmax", F.softmax(x, axis), 1.0), ("log_softmax", F.log_softmax(x, axis), 0.0),
                           ("logsumexp", F.logsumexp(x, axis), 1.5), ("squeeze", x.squeeze(axis), 1.5),
                           ("cumsum", x.cumsum(axis), 1.5)]:
        assert y.shape == () and y.item() == value, name
    assert gradcheck(lambda t: t.cumsum(axis) * F.logsumexp(t, axis) + F.softmax(t, axis), [x])
    with pytest.raises(ValueError, match="sum: axis 1 is out of range for a 1-d input"):
        x.sum(1)
