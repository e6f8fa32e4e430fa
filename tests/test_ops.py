"""Every differentiable op gradchecked in float64, on random shapes, with broadcasting."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_ste import Tensor, gradcheck

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
    [0, 2, 2, 0], (np.array([0, 0, 2]), np.array([1, 1, 3])), np.array([[True, False, True, False]] * 3),
])
def test_indexing_with_repeated_indices_accumulates(index):
    x = leaf(np.random.default_rng(2), (3, 4))
    assert gradcheck(lambda x: x[index], [x])


def test_repeated_index_gradient_value():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
