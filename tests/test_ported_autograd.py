"""HIPS autograd's test_core, test_graphs, test_numpy and test_systematic, re-expressed for tinygrad_ste.

autograd differentiates NumPy code and tests it function by function: the scalar operators,
graph shapes (fan-out, diamonds, constants), each NumPy function on a few arrays, and then
systematically every ufunc and reduction over grids of shapes, axes and keepdims.  This file
asks the same questions of every function tinygrad_ste has (functions autograd covers that
we do not have -- complex numbers, mod, fft, linalg, sort -- are left out; grads of grads too).
Each check compares the forward value with NumPy's and the gradient with central differences
in float64 (``gradcheck``).
"""
import itertools

import numpy as np
import pytest

import tinygrad_ste as tg
import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def check(fn, *arrays, reference=None):
    """gradcheck ``fn`` with every array as a differentiable float64 input; with a NumPy
    ``reference``, the forward value must also match it."""
    tensors = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    if reference is not None:
        np.testing.assert_allclose(fn(*tensors).data, reference(*[t.data for t in tensors]), rtol=1e-10, atol=1e-12)
    assert gradcheck(fn, tensors)


def check_every_combination(fn, reference, *operand_lists, **option_lists):
    """``check`` fn(*operands, **options) for every combination of the listed operands and options."""
    names = list(option_lists)
    for operands in itertools.product(*operand_lists):
        for values in itertools.product(*option_lists.values()):
            options = dict(zip(names, values))
            check(lambda *xs: fn(*xs, **options), *operands,
                  reference=lambda *xs: reference(*xs, **options))


# ==================================================================================
# test_core: the scalar operators, checked in each argument
# ==================================================================================


@pytest.mark.parametrize("op", [
    lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y, lambda x, y: x ** y,
    tg.maximum, tg.minimum,
])
def test_scalar_binary_operators(op):
    check(op, 0.7, 1.8)
    check(op, 1.8, 0.7)


@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
def test_comparisons_are_elementwise_and_carry_no_gradient(op):
    x, y = Tensor([0.7, 1.8], requires_grad=True), Tensor([1.8, 1.8], requires_grad=True)
    result = getattr(x, op)(y)
    assert isinstance(result, Tensor) and result.dtype == bool and not result.requires_grad
    np.testing.assert_array_equal(result.data, getattr(x.data, op)(y.data))


# ==================================================================================
# test_graphs: shapes of graphs
# ==================================================================================


def test_fanout(rng):
    check(lambda x: (x.sin() + x.sin()).sin(), rng.standard_normal(), reference=lambda x: np.sin(2 * np.sin(x)))


def test_output_that_does_not_depend_on_the_input():
    x = Tensor(2.0, requires_grad=True)
    (x * 0.0 + 1.0).backward()
    assert x.grad == 0.0
    with pytest.raises(ValueError, match="does not require grad"):
        Tensor(1.0).backward()   # no input requires grad: PyTorch refuses too


def test_identity():
    x = Tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


def test_shared_intermediate_gradients_are_not_mutated(rng):
    """b feeds two ops; accumulating its gradient must not write into an array another node holds."""
    def fn(a):
        b = a + 1.0
        c = b + 1.5
        d = a + b
        return d + c   # = 3a + 3.5
    a = Tensor(rng.standard_normal(5), requires_grad=True)
    fn(a).sum().backward()
    np.testing.assert_array_equal(a.grad, np.full(5, 3.0))
    check(fn, rng.standard_normal(5))


def test_shared_intermediate_gradients_with_indexing(rng):
    def fn(a):
        b = a + 1.0
        c = b[0] + 1.5
        return (a + b) + c
    check(fn, rng.standard_normal(5), reference=lambda a: 2 * a + 1 + a[0] + 2.5)


@pytest.mark.parametrize("shape, axis, keepdims", [
    ((3, 3), None, True), ((3, 1), 0, False), ((1, 3), 1, False), ((3, 1), 0, True), ((1, 3), 1, True),
    ((1, 3), -1, True),
])
def test_singleton_outputs(rng, shape, axis, keepdims):
    check(lambda x: x.sin().sum(axis=axis, keepdims=keepdims), rng.standard_normal(shape),
          reference=lambda x: np.sin(x).sum(axis=axis, keepdims=keepdims))


def test_item_assignment_is_a_type_error():
    x = Tensor(np.zeros(5), requires_grad=True)
    with pytest.raises(TypeError):
        x[1] = 3.0


def test_diamond():
    # a -> (b = 2a, c = a + 1) -> d = b c = 2a^2 + 2a, so dd/da = 4a + 2
    a = Tensor(1.5, requires_grad=True)
    d = (a * 2) * (a + 1)
    d.backward()
    assert d.item() == 7.5 and a.grad == 8.0


def test_repeated_diamonds():
    # Each layer x -> x * x + x doubles the number of paths: after 3 layers, 2^3 paths per step.
    def fn(x):
        for _ in range(3):
            x = x * x + x
        return x
    check(fn, [0.3, -0.2], reference=fn)


def test_deep_chain():
    """10,000 ops in a row: the backward pass is iterative, so no recursion limit is hit."""
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 10_000, rel=1e-9)


def test_one_variable_used_by_many_ops(rng):
    check(lambda x: x * x.exp() + x.sin() * x - x / (x * x + 1), rng.standard_normal(4))


# ==================================================================================
# test_numpy: one function at a time
# ==================================================================================


@pytest.mark.parametrize("shape_a, shape_b", [((10, 11), (11,)), ((10, 11), (11, 10)), ((10,), (10, 11)), ((11,), (11,))])
def test_dot(rng, shape_a, shape_b):
    check(lambda a, b: a @ b, rng.standard_normal(shape_a), rng.standard_normal(shape_b), reference=np.dot)


@pytest.mark.parametrize("shape", [(10, 11), (10,)])
def test_product_with_a_scalar(rng, shape):   # autograd's dot with floats: a scalar operand means *
    check(lambda a, s: a * s, rng.standard_normal(shape), rng.standard_normal(), reference=np.dot)
    check(lambda s, a: s * a, rng.standard_normal(), rng.standard_normal(shape), reference=np.dot)


def test_outer(rng):
    u, v = rng.standard_normal(5), rng.standard_normal(4)
    check(lambda u, v: F.einsum("i,j->ij", u, v), u, v, reference=np.outer)
    check(lambda u, v: u.unsqueeze(-1) * v, u, v, reference=np.outer)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape, axis, keepdims", [((10, 11), None, False), ((3, 4, 5), 1, False), ((3, 4, 5), 1, True),
                                                   ((3, 4, 5), -1, False), ((3, 4, 5), (0, -1), True)])
def test_max_min(rng, name, shape, axis, keepdims):
    check(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims), rng.standard_normal(shape),
          reference=lambda x: getattr(np, name)(x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("name", ["sum", "mean"])
@pytest.mark.parametrize("shape, axis, keepdims", [((10, 11), None, False), ((10, 11), 0, False), ((10, 11), 0, True),
                                                   ((10, 11, 7), (1, 2), False), ((10, 11, 7), (-1, 0), True)])
def test_sum_mean(rng, name, shape, axis, keepdims):
    check(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims), rng.standard_normal(shape),
          reference=lambda x: getattr(np, name)(x, axis=axis, keepdims=keepdims))


def test_reversing_slices(rng):   # autograd's flipud and fliplr
    check(lambda x: x[::-1], rng.standard_normal((10, 11)), reference=np.flipud)
    check(lambda x: x[:, ::-1], rng.standard_normal((10, 11)), reference=np.fliplr)


@pytest.mark.parametrize("shape, axis", [((10, 11), 0), ((10, 11), 1), ((10, 11), -1), ((10,), None), ((10, 11), None)])
def test_cumsum(rng, shape, axis):
    check(lambda x: x.cumsum(axis), rng.standard_normal(shape), reference=lambda x: np.cumsum(x, axis=axis))


def test_python_sum_of_tensors(rng):
    check(lambda x, y: sum([x, y]), rng.standard_normal((10, 11)), rng.standard_normal((10, 11)),
          reference=lambda x, y: x + y)


@pytest.mark.parametrize("statistic, derivative", [("mean", 1.0), ("std", 0.0), ("var", 0.0)])
def test_statistics_of_a_stacked_list(statistic, derivative):
    # [x, x + 2] at x = 0 is symmetric about its mean: moving x moves both, so the spread does not change.
    x = Tensor(0.0, requires_grad=True)
    getattr(F.stack([x, x + 2]), statistic)().backward()
    assert x.grad == derivative


@pytest.mark.parametrize("index", [
    (3, 0, 1), (slice(None, None, -1), slice(2, 4), slice(None)), ([0, 1, 2], slice(None), slice(None)),
    (3, slice(2, None), [1, 3]), (Ellipsis, 1), (slice(None), None, 2), (-1, [-1, 0, -1]),
])
def test_indexing(rng, index):
    check(lambda x: x[index], rng.standard_normal((5, 6, 4)), reference=lambda x: x[index])


def test_vector_slice_and_slices_of_slices(rng):
    check(lambda x: x[2:4], rng.standard_normal(5), reference=lambda x: x[2:4])
    check(lambda x: x[2:6][1:3], rng.standard_normal(7), reference=lambda x: x[3:5])
    check(lambda x: x[::-1, 2:4] + x[::-1, 3:5], rng.standard_normal((5, 6, 4)),
          reference=lambda x: x[::-1, 2:4] + x[::-1, 3:5])


@pytest.mark.parametrize("reshape", [
    lambda x: x.reshape((20, 6)), lambda x: x.reshape(20, 6), lambda x: x.reshape(-1, 6),
    lambda x: x.reshape(-1), lambda x: x.flatten(), lambda x: x.flatten(1), lambda x: x.flatten(0, -2),
])
def test_reshape_ravel_flatten(rng, reshape):
    x = rng.standard_normal((5, 6, 4))
    check(reshape, x)
    assert reshape(Tensor(x)).numel() == x.size


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_concatenate(rng, axis):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    check(lambda a, b, c: F.concatenate([a, b, c], axis=axis), a, b, c,
          reference=lambda a, b, c: np.concatenate([a, b, c], axis=axis))


@pytest.mark.parametrize("fn, reference", [
    (lambda x: x.T, lambda x: x.T), (lambda x: x.clip(-0.1, 0.1), lambda x: np.clip(x, -0.1, 0.1)),
    (lambda x: x.squeeze(), np.squeeze), (lambda x: x.squeeze(1), lambda x: np.squeeze(x, 1)),
    (lambda x: x.unsqueeze(1), lambda x: np.expand_dims(x, 1)), (lambda x: x.unsqueeze(-1), lambda x: x[..., None]),
])
def test_transpose_clip_squeeze_unsqueeze(rng, fn, reference):
    check(fn, rng.standard_normal((5, 1, 4)), reference=reference)


def test_arrays_built_from_scalars_and_arrays(rng):
    x, y = rng.standard_normal(2)
    check(lambda x, y: F.stack([x, y, x]), x, y, reference=lambda x, y: np.array([x, y, x]))
    check(lambda x, y: F.stack([F.stack([x, y]), F.stack([y, x])]), x, y,
          reference=lambda x, y: np.array([[x, y], [y, x]]))
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    check(lambda a, b: F.stack([a, b, a]), a, b, reference=lambda a, b: np.array([a, b, a]))


def test_len():
    assert len(Tensor(np.zeros((5, 2)))) == 5


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_ddof(rng, name):
    b, c, d = rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal((1, 3))
    reference = getattr(np, name)
    fn = lambda x, **options: getattr(x, name)(**options)   # noqa: E731
    check_every_combination(fn, reference, [b, c, d], axis=[None], keepdims=[True, False], ddof=[0, 1])
    check_every_combination(fn, reference, [c, d], axis=[None, 1, -1], keepdims=[True, False], ddof=[2])


def test_where(rng):
    condition = rng.standard_normal((4, 5)) > 0
    check(lambda x, y: F.where(condition, x, y), rng.standard_normal((4, 5)), rng.standard_normal((4, 5)),
          reference=lambda x, y: np.where(condition, x, y))


# Ties: the derivative of a max over copies of x is 1 in x -- exactly what sharing the
# gradient equally between tied elements gives, and what central differences measure.
def test_max_of_equal_values():
    check(lambda x: F.stack([x, x]).max(), 1.0)
    for x in (1.0, -1.0):
        check(lambda x: F.stack([F.stack([x, x]), F.stack([x, 0.5])]).max(axis=1), x)


def test_min_of_three_equal_values():
    def fn(x):
        c = 0.5
        rows = [[x, x, x], [x, c, c], [c, c, c], [x, x, c]]
        return F.stack([F.stack(row) for row in rows]).min(axis=0)
    for x in (1.0, -1.0):
        check(fn, x)


def test_maximum_of_equal_values():
    check(lambda x: tg.maximum(x, x), 1.0)
    for x in (1.0, -1.0, 2.0):
        check(lambda x: tg.maximum(F.stack([x, x, 0.5]), F.stack([F.stack([x, 0.5, x]), F.stack([x, x, 0.5])])), x)


# ==================================================================================
# test_systematic: every reduction, ufunc and shape function over grids of inputs
# ==================================================================================

STATISTICS = ["max", "min", "sum", "mean", "var", "std"]


@pytest.mark.parametrize("name", STATISTICS)
def test_statistics_over_shapes_axes_and_keepdims(rng, name):
    method = lambda x, **options: getattr(x, name)(**options)   # noqa: E731
    reference = getattr(np, name)
    scalar, vector, matrix, row = (rng.standard_normal(shape) for shape in [(), (3,), (2, 3), (1, 3)])
    check_every_combination(method, reference, [3.5, scalar])
    check_every_combination(method, reference, [vector, matrix, row], axis=[None, 0, -1], keepdims=[True, False])
    check_every_combination(method, reference, [matrix, row], axis=[1, (0, 1), (-1, -2)], keepdims=[True, False])


@pytest.mark.parametrize("name", STATISTICS)
def test_statistics_of_empty_tensors_keep_numpy_shapes(name):
    """Reducing the non-empty axis of a (0, 3) tensor gives shape (0,), as NumPy's does, and a gradient."""
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    y = getattr(x, name)(axis=1)
    assert y.shape == getattr(np, name)(x.data, axis=1).shape == (0,)
    y.backward(np.ones(y.shape))
    assert x.grad.shape == (0, 3)


def limits(low, high, values):
    return low + (high - low) * values


UNARY = {   # name: (op, NumPy reference, the interval where the op is smooth)
    "neg": (lambda x: -x, np.negative, (-2, 2)),
    "exp": (lambda x: x.exp(), np.exp, (-2, 2)),
    "log": (lambda x: x.log(), np.log, (0.2, 2)),
    "log1p": (lambda x: x.log1p(), np.log1p, (0.2, 2)),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, (1, 3)),
    "sin": (lambda x: x.sin(), np.sin, (-2, 2)),
    "cos": (lambda x: x.cos(), np.cos, (-2, 2)),
    "tanh": (lambda x: x.tanh(), np.tanh, (-2, 2)),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), (-2, 2)),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x)), (-2, 2)),
    "abs": (lambda x: x.abs(), np.abs, (0.1, 4)),
    "abs of negatives": (lambda x: x.abs(), np.abs, (-4, -0.1)),
    "relu": (lambda x: x.relu(), lambda x: np.maximum(x, 0), (0.1, 2)),
    "square": (lambda x: x * x, np.square, (-2, 2)),
    "power": (lambda x: x ** 3, lambda x: x ** 3, (-2, 2)),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_functions_over_shapes(rng, name):
    op, reference, (low, high) = UNARY[name]
    inputs = [limits(low, high, 0.4)] + [limits(low, high, rng.random(shape)) for shape in [(2,), (3, 2), (1, 2)]]
    check_every_combination(op, reference, inputs)


BINARY = {   # name: (op, NumPy reference, limits of a, limits of b)
    "add": (lambda a, b: a + b, np.add, (-2, 2), (-2, 2)),
    "sub": (lambda a, b: a - b, np.subtract, (-2, 2), (-2, 2)),
    "mul": (lambda a, b: a * b, np.multiply, (-2, 2), (-2, 2)),
    "div": (lambda a, b: a / b, np.true_divide, (-2, 2), (0.8, 1.2)),
    "div by negatives": (lambda a, b: a / b, np.true_divide, (-2, 2), (-2.0, -0.3)),
    "pow": (lambda a, b: a ** b, np.power, (0.5, 2), (-2, 2)),
    "maximum": (tg.maximum, np.maximum, (-2, 2), (-2, 2)),
    "minimum": (tg.minimum, np.minimum, (-2, 2), (-2, 2)),
}


@pytest.mark.parametrize("name", BINARY)
def test_binary_functions_over_broadcast_shapes(rng, name):
    op, reference, limits_a, limits_b = BINARY[name]
    shapes = [(), (2,), (3, 2), (1, 2)]   # every pair broadcasts
    a = [limits(*limits_a, rng.random(shape)) for shape in shapes]
    b = [limits(*limits_b, rng.random(shape)) for shape in shapes]
    check_every_combination(op, reference, a, b)


@pytest.mark.parametrize("axes", [None, (0, 1, 2), (0, 2, 1), (2, 0, 1), (2, 1, 0), (1, 0, 2), (1, 2, 0)])
def test_transpose(rng, axes):
    check(lambda x: x.transpose(axes), rng.standard_normal((2, 3, 4)), reference=lambda x: np.transpose(x, axes))


@pytest.mark.parametrize("axes", [(0, -1, 1), (-1, 0, 1), (1, -1, 0)])
def test_transpose_with_negative_axes(rng, axes):
    for shape in [(2, 3, 4), (3, 3, 3)]:   # the cube used to give a wrong gradient without an error
        check(lambda x: x.transpose(axes), rng.standard_normal(shape), reference=lambda x: np.transpose(x, axes))


def test_swapaxes_and_moveaxis_by_transpose(rng):
    check(lambda x: x.transpose(0, 2, 1), rng.standard_normal((3, 4, 5)), reference=lambda x: np.swapaxes(x, 1, 2))
    check(lambda x: x.transpose(1, 2, 0), rng.standard_normal((2, 3, 4)), reference=lambda x: np.moveaxis(x, 0, 2))


def test_matmul_over_shapes(rng):
    left = [rng.standard_normal(shape) for shape in [(3,), (2, 3), (2, 2, 3)]]
    right = [rng.standard_normal(shape) for shape in [(3,), (3, 4), (2, 3, 4)]]
    check_every_combination(lambda a, b: a @ b, np.matmul, left, right)
    check(lambda a, b: a @ b, rng.standard_normal((1, 2, 2)), rng.standard_normal((3, 2, 1)), reference=np.matmul)


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij->ji", [(1, 1)]), ("ij->ji", [(4, 4)]), ("ij->ji", [(3, 4)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 3), (3, 4)]), ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(0, 2, 3), (0, 3, 4)]),
    ("ijk,lji->lki", [(3, 4, 4), (4, 4, 3)]),
    ("ijk,lji,lli->lki", [(3, 4, 4), (4, 4, 3), (4, 4, 3)]),
    ("jk...,lj...->lk...", [(3, 2), (2, 3)]), ("jk...,lj...->lk...", [(3, 2, 4), (2, 3, 4)]),
    ("j...k,lj...->lk...", [(2, 2), (2, 2)]), ("j...k,lj...->lk...", [(2, 2, 2), (2, 2, 2)]),
    ("k,nk->", [(5,), (10, 5)]), ("abcd->bd", [(3, 2, 3, 2)]), ("...k,...nk->...", [(3, 5), (3, 10, 5)]),
    ("ij,k", [(3, 4), (3,)]),
    ("i,i->", [(3,), (3,)]),                                  # inner product
    ("ij,kj->ik", [(2, 3), (4, 3)]),                          # np.inner of matrices
    ("ijk,kl->ijl", [(2, 3, 2), (2, 4)]),                     # np.tensordot(a, b, axes=1)
    ("ijk,jkl->il", [(2, 3, 2), (3, 2, 4)]),                  # np.tensordot(a, b, axes=2)
])
def test_einsum(rng, subscripts, shapes):
    check(lambda *xs: F.einsum(subscripts, *xs), *[rng.standard_normal(shape) for shape in shapes],
          reference=lambda *xs: np.einsum(subscripts, *xs))


def test_concatenate_and_stack_over_shapes_and_axes(rng):
    def join(a, b, axis, joiner):
        return joiner([a, b], axis=axis)
    for shape in [(1,), (3,), (2, 2), (2, 2, 2)]:
        a, b = rng.standard_normal(shape), rng.standard_normal(shape)
        axes = list(range(-len(shape), len(shape)))
        check_every_combination(lambda a, b, axis: F.concatenate([a, b], axis=axis),
                                lambda a, b, axis: np.concatenate([a, b], axis=axis), [a], [b], axis=axes)
        check_every_combination(lambda a, b, axis: F.stack([a, b], axis=axis),
                                lambda a, b, axis: np.stack([a, b], axis=axis), [a], [b], axis=axes + [len(shape)])
    check(lambda a, b: F.concatenate([a, b]), rng.standard_normal(1), rng.standard_normal(3),
          reference=lambda a, b: np.concatenate([a, b]))
    check(lambda a, b: F.concatenate([a, b], axis=-2), rng.standard_normal((2, 4)), rng.standard_normal((1, 4)),
          reference=lambda a, b: np.vstack([a, b]))


def test_pad_and_broadcast_over_shapes(rng):
    for shape, widths in [((3,), (1, 2)), ((2, 3), ((0, 1), (2, 0))), ((2, 1, 3), 1)]:
        check(lambda x: F.pad(x, widths), rng.standard_normal(shape), reference=lambda x: np.pad(x, widths))
    for shape, target in [((), (2, 3)), ((3,), (2, 3)), ((2, 1), (2, 3)), ((1, 3), (4, 2, 3))]:
        check(lambda x: tg.broadcast_to(x, target), rng.standard_normal(shape),
              reference=lambda x: np.broadcast_to(x, target))
