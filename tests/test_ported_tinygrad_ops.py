"""Our port of the relevant cases of tinygrad's ``test/test_ops.py``, without PyTorch.

tinygrad compares every op's forward and gradient with PyTorch's on its own shapes and edge
values.  Here each case takes the same edge values and shapes (the large ones, (45, 65) and
(10, 45, 65), shrunk to (9, 13) and (2, 9, 13): central differences cost two calls per
element), and compares in float64 with a
reference written with NumPy: the forward against a NumPy formula (rtol 1e-7), the gradient of
the sum of the output against central differences of that formula (or, where a kink or a
limit makes differences meaningless, against the derivative PyTorch defines, written out).
"""
import numpy as np
import pytest

import tinygrad_ste as tg
import tinygrad_ste.functional as F
from tinygrad_ste import Tensor


def numerical_gradient(reference, arrays, i, eps=1e-6):
    """d sum(reference(*arrays)) / d arrays[i], by central differences, element by element."""
    x = arrays[i]
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        original = x[index]
        x[index] = original + eps
        upper = np.array(reference(*arrays), dtype=np.float64)   # a copy: x may come back itself
        x[index] = original - eps
        lower = np.array(reference(*arrays), dtype=np.float64)
        x[index] = original
        grad[index] = np.sum(upper - lower) / (2 * eps)   # difference first: no cancellation in a large sum
    return grad


def check_op(shapes, reference, ours=None, vals=None, low=-2.0, high=2.0, forward_only=False, grads=None,
             rtol=1e-7, atol=1e-12, grad_rtol=1e-5, grad_atol=1e-6):
    """The port of tinygrad's ``helper_test_op``: inputs of ``shapes`` drawn uniformly from
    [low, high) (seeded), or the given ``vals``; ``ours`` (default: ``reference`` itself, for
    code that reads the same on Tensors and arrays) must match ``reference`` in shape and value,
    and the gradient of its sum must match ``grads`` (a function of the arrays giving the
    expected gradients) or central differences of ``reference``."""
    ours = ours or reference
    rng = np.random.default_rng(0)
    arrays = ([np.array(v, dtype=np.float64) for v in vals] if vals is not None
              else [rng.uniform(low, high, size=shape) for shape in shapes])
    tensors = [Tensor(a.copy(), requires_grad=not forward_only) for a in arrays]
    out = ours(*tensors)
    expected = np.asarray(reference(*[a.copy() for a in arrays]))
    assert out.shape == expected.shape, f"shape {out.shape}, reference {expected.shape}"
    np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=atol, err_msg="forward")
    if forward_only or not tensors:
        return
    out.sum().backward()
    expected_grads = (grads(*arrays) if grads is not None
                      else [numerical_gradient(reference, [a.copy() for a in arrays], i) for i in range(len(arrays))])
    for i, (t, g) in enumerate(zip(tensors, expected_grads)):
        np.testing.assert_allclose(t.grad, g, rtol=grad_rtol, atol=grad_atol, err_msg=f"gradient of input {i}")


def check_error(shapes, ours, error, match=None):
    """The port of tinygrad's ``helper_test_exception``: our exception type, where PyTorch's differs,
    is the one the README's "Differences from PyTorch" table names."""
    tensors = [Tensor(np.random.default_rng(0).uniform(-1.5, 1.5, size=s), requires_grad=True) for s in shapes]
    with pytest.raises(error, match=match):
        ours(*tensors)


# ------------------------------------------------------------------ arithmetic


def test_add_sub_mul_div():
    check_op([(9, 13), (9, 13)], lambda x, y: x + y)
    check_op([(9, 13), (13,)], lambda x, y: x + y)          # broadcasted add
    check_op([(9, 13), (9, 13)], lambda x, y: x - y)
    check_op([(9, 13)], lambda x: x - 2, ours=lambda x: x - 2)
    check_op([(9, 13)], lambda x: 2 - x)
    check_op([(9, 13), (9, 13)], lambda x, y: x * y)
    check_op([(9, 13), (9, 13)], lambda x, y: x / y, low=0.5)
    check_op([(9, 13)], lambda x: 2 / x, low=0.5)
    check_op([()], lambda x: -x)


def test_pow():
    for exponent in (0, 1, 2, 3, -2):
        check_op([(9, 13)], lambda x: x ** exponent, low=0.5)
        check_op([()], lambda x: x ** exponent, low=0.5)
    check_op([(9, 13)], lambda x: x ** 3, low=-30, high=-27)
    for exponent in (0.0, 1.0, -1.0, 8.0, 5.5, -5.5, 2.0):
        check_op([(9, 13)], lambda x: x ** exponent, low=0.5)
    for base in (1.0, 5.5, 8.0, 2.0):
        check_op([(9, 13)], lambda x: base ** x)
    check_op(None, lambda x: 0.7 ** x, vals=[[-2.0, -1, 0, 1, 2, 3]])
    check_op(None, lambda x: 0.0 ** x, vals=[[0.5, 1, 2, 3]])


def test_pow_zero_exponent():
    """x ** 0 is the constant 1 for every x, so the gradient with respect to the base is 0, never NaN."""
    check_op(None, lambda x: x ** np.zeros(3), ours=lambda x: x ** Tensor(np.zeros(3)),
             vals=[[-np.inf, np.inf, 0.0]], grads=lambda x: [np.zeros(3)])


def test_pow_zero_base():
    check_op(None, lambda x, y: x ** y, vals=[[0.0], [0.0]], grads=lambda x, y: [np.zeros(1), np.zeros(1)])
    check_op(None, lambda x, y: x ** y, vals=[[0.0], [0.3]], forward_only=True)


def test_maximum_minimum():
    check_op([(9, 13), (9, 13)], np.maximum, ours=tg.maximum)
    check_op([(9, 13), (9, 13)], np.minimum, ours=tg.minimum)
    # ties share the gradient equally (PyTorch's maximum does the same)
    check_op(None, np.maximum, ours=tg.maximum, vals=[[1.0, 0.0, 3.0, -4.0], [1.0, -2.0, 3.0, 4.0]],
             grads=lambda x, y: [np.array([0.5, 1, 0.5, 0]), np.array([0.5, 0, 0.5, 1])])


def test_matmul_and_einsum():
    check_op([(13,), (13, 9)], lambda x, y: x @ y)
    check_op([(2, 9, 13), (2, 13, 9)], lambda x, y: x @ y)
    check_op([(3, 4), (4, 5)], lambda x, y: np.einsum("ij,jk->ik", x, y), ours=lambda x, y: tg.einsum("ij,jk->ik", x, y))
    check_op([(3, 3)], lambda x: np.einsum("ii->", x), ours=lambda x: tg.einsum("ii->", x))


# ------------------------------------------------------------------ elementwise


_SIGMOID = lambda x: 1 / (1 + np.exp(-x))   # noqa: E731


@pytest.mark.parametrize("reference, ours, low, high", [
    (np.sqrt, Tensor.sqrt, 0.1, 2), (np.exp, Tensor.exp, -2, 2), (np.log, Tensor.log, 0.1, 2),
    (np.sin, Tensor.sin, -2, 2), (np.cos, Tensor.cos, -2, 2), (np.tan, Tensor.tan, -1.5, 1.5),
    (np.arctan, Tensor.atan, -2, 2), (np.sinh, Tensor.sinh, -2, 2), (np.cosh, Tensor.cosh, -2, 2),
    (np.tanh, Tensor.tanh, -2, 2), (np.abs, Tensor.abs, -2, 2), (_SIGMOID, Tensor.sigmoid, -2, 2),
    (lambda x: np.maximum(x, 0), Tensor.relu, -2, 2), (lambda x: np.log1p(np.exp(x)), F.softplus, -2, 2),
    (lambda x: x * _SIGMOID(x), F.silu, -2, 2), (lambda x: x / (1 + np.abs(x)), F.softsign, -2, 2),
    (lambda x: np.where(x > 0, x, np.expm1(x)), F.elu, -2, 2),
    (lambda x: np.where(x > 0, x, 0.01 * x), F.leaky_relu, -2, 2),
    (lambda x: np.clip(x, -1, 1), F.hardtanh, -2, 2), (np.log1p, Tensor.log1p, -0.5, 2),
    (lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
     lambda x: F.gelu(x, approximate="tanh"), -2, 2),
])
def test_unary(reference, ours, low, high):
    check_op([(9, 13)], reference, ours=ours, low=low, high=high)
    check_op([()], reference, ours=ours, low=low, high=high)


def test_extreme_values():
    check_op(None, _SIGMOID, ours=Tensor.sigmoid, vals=[[-300.0, 300.0, 0.0]], grads=lambda x: [
        _SIGMOID(x) * (1 - _SIGMOID(x))])
    check_op(None, np.tanh, ours=Tensor.tanh, vals=[[-300.0, 300.0]], grads=lambda x: [np.zeros(2)])
    check_op(None, lambda x: x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))) / 2,
             ours=lambda x: F.gelu(x, approximate="tanh"), vals=[[-300.0, 300.0]], grads=lambda x: [np.array([0.0, 1.0])])


def test_clip():
    check_op([(9, 13)], lambda x: np.clip(x, -2.3, 1.2), ours=lambda x: x.clip(-2.3, 1.2))
    # PyTorch's clamp passes the gradient at the bounds themselves
    check_op(None, lambda x: np.clip(x, -2.5, 1.5), ours=lambda x: x.clip(-2.5, 1.5),
             vals=[[-3.0, -2.5, 0, 1.5, 2]], grads=lambda x: [np.array([0.0, 1, 1, 1, 0])])
    check_op([(9, 13)], lambda x: np.clip(x, 0, 0.1), ours=lambda x: x.clip(0, 0.1))
    check_op([(9, 13)], lambda x: np.minimum(x, 0), ours=lambda x: x.clip(None, 0))
    check_op([(9, 13)], lambda x: np.maximum(x, 0), ours=lambda x: x.clip(0, None))
    check_error([(9, 13)], lambda x: x.clip(None, None), ValueError, "at least one")
    check_error([(9, 13)], lambda x: x.clip(3, 0), ValueError, "lo <= hi")   # PyTorch: all 0 (see README)


@pytest.mark.parametrize("ours, reference", [(tg.floor, np.floor), (tg.ceil, np.ceil), (tg.trunc, np.trunc),
                                             (tg.round, np.round)])
def test_staircases(ours, reference):
    check_op([(9, 13)], reference, ours=ours, low=-10, high=10, grads=lambda x: [np.zeros_like(x)])
    check_op(None, reference, ours=ours, vals=[[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]], forward_only=True)


def test_isinf_isnan_isfinite():
    values = [[-np.inf, 0.0, np.inf, np.nan, 1.1]]
    check_op(None, np.isinf, ours=Tensor.isinf, vals=values, forward_only=True)
    check_op(None, np.isnan, ours=Tensor.isnan, vals=values, forward_only=True)
    check_op(None, np.isfinite, ours=Tensor.isfinite, vals=values, forward_only=True)


# ------------------------------------------------------------------ reductions


def test_sum_mean_max_min():
    check_op([(45, 3)], np.sum, ours=Tensor.sum)
    for axis in (3, (1, 3), (0, 2), (1, 2), 1, -1):
        check_op([(3, 4, 5, 6)], lambda x: np.sum(x, axis=axis), ours=lambda x: x.sum(axis=axis))
    check_op([(3, 4, 5, 6)], lambda x: np.sum(x, axis=1, keepdims=True), ours=lambda x: x.sum(axis=1, keepdims=True))
    check_op([(3, 4, 5, 6)], lambda x: np.mean(x, axis=(1, 2)), ours=lambda x: x.mean(axis=(1, 2)))
    for axis in (0, -1, None):   # a 0-d tensor has one axis of length 1 for reductions, as in PyTorch
        check_op([()], np.sum, ours=lambda x: x.sum(axis))
    check_op([(45, 3)], np.max, ours=Tensor.max)
    check_op([(3, 4, 5, 6)], lambda x: np.max(x, axis=1), ours=lambda x: x.max(axis=1))
    check_op(None, lambda x: np.max(x) * 0.5, ours=lambda x: x.max() * 0.5, vals=[[[1.0, 1.0, 0.0, 1.0]]],
             grads=lambda x: [np.array([[1, 1, 0, 1]]) / 6])   # ties share the gradient (README table)
    check_op([(3, 3)], np.min, ours=Tensor.min)
    check_op(None, np.max, ours=Tensor.max, vals=[[0, -2 ** 31]], forward_only=True)
    check_error([(3, 4, 5, 6)], lambda x: x.sum(5), ValueError, "sum: axis 5 is out of range")   # PyTorch: IndexError
    check_error([()], lambda x: x.sum(1), ValueError, "out of range")


def test_prod():
    check_op([(3, 4, 5, 6)], np.prod, ours=Tensor.prod, low=0.5, high=1.5)
    check_op([(3, 4, 5, 6)], lambda x: np.prod(x, axis=1), ours=lambda x: x.prod(axis=1))
    check_op([(3, 4, 5, 6)], lambda x: np.prod(x, axis=(1, -1), keepdims=True),
             ours=lambda x: x.prod(axis=(1, -1), keepdims=True))
    check_op(None, lambda x: np.prod(x, axis=1), ours=lambda x: x.prod(axis=1),
             vals=[[[1.0, 0.0, 3.0], [0.0, 0.0, 2.0]]], grads=lambda x: [np.array([[0.0, 3, 0], [0, 0, 0]])])


def test_var_std():
    for ddof in (1, 0, 5):   # PyTorch's correction; its default is 1, ours NumPy's 0 (README table)
        n = 15 * 25 * 35
        check_op([(15, 25, 35)], lambda x: np.var(x, ddof=ddof), ours=lambda x: x.var(ddof=ddof),
                 grads=lambda x: [2 * (x - x.mean()) / (n - ddof)])
        check_op([(15, 25, 35)], lambda x: np.std(x, ddof=ddof), ours=lambda x: x.std(ddof=ddof),
                 grads=lambda x: [(x - x.mean()) / ((n - ddof) * np.std(x, ddof=ddof))])
    check_op([(15, 25, 35)], lambda x: np.var(x, axis=(0, 2), ddof=1), ours=lambda x: x.var(axis=(0, 2), ddof=1))
    check_error([(10, 2)], lambda x: x.var(ddof=50), ValueError, "needs more than ddof=50")   # PyTorch: inf


def test_any_all_argmax_argmin():
    check_op([(3, 4, 5)], np.any, ours=Tensor.any, forward_only=True)
    check_op(None, lambda x: np.all(x, axis=1), ours=lambda x: x.all(axis=1), vals=[[[1.0, 0.0], [2.0, 3.0]]],
             forward_only=True)
    check_op([(10, 20)], lambda x: np.argmax(x, axis=-1), ours=lambda x: x.argmax(axis=-1), forward_only=True)
    check_op([(10, 20)], np.argmin, ours=Tensor.argmin, forward_only=True)
    check_op(None, lambda x: np.argmax(x), ours=Tensor.argmax, vals=[[2.0, 2.0, 1.0]], forward_only=True)


def test_cumsum():
    check_op([()], lambda x: x, ours=lambda x: x.cumsum(0))
    check_op([(20,)], lambda x: np.cumsum(x, 0), ours=lambda x: x.cumsum(0))
    check_op([(20, 30)], lambda x: np.cumsum(x, 1), ours=lambda x: x.cumsum(1))
    check_op([(5, 6, 7)], lambda x: np.cumsum(x, -1), ours=lambda x: x.cumsum(-1))
    check_op([(2, 0, 4)], lambda x: np.cumsum(x, 1), ours=lambda x: x.cumsum(1))
    check_error([(20,)], lambda x: x.cumsum(1), ValueError, "cumsum: axis 1 is out of range")


def test_cummax_sort_topk():
    check_op([(20,)], lambda x: np.maximum.accumulate(x, 0), ours=lambda x: x.cummax(0)[0])
    check_op([(5, 6, 7)], lambda x: np.maximum.accumulate(x, 2), ours=lambda x: x.cummax(-1)[0])
    check_op([(8, 7)], lambda x: np.sort(x, 1), ours=lambda x: x.sort(1)[0])
    check_op([(8, 7)], lambda x: -np.sort(-x, 0), ours=lambda x: x.sort(0, descending=True)[0])
    check_op([(8, 7)], lambda x: -np.sort(-x, 1)[:, :3], ours=lambda x: x.topk(3)[0])
    check_op([(8, 7)], lambda x: np.sort(x, 0)[:2], ours=lambda x: x.topk(2, 0, largest=False)[0])


# ------------------------------------------------------------------ softmax and losses


def _log_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def test_softmax_log_softmax_logsumexp():
    for shape, axis in [((9, 13), 1), ((45,), 0), ((), 0), ((), -1)]:
        check_op([shape], lambda x: np.exp(_log_softmax(x, axis if x.ndim else None)),
                 ours=lambda x: F.softmax(x, axis))
        check_op([shape], lambda x: _log_softmax(x, axis if x.ndim else None), ours=lambda x: F.log_softmax(x, axis))
    for shape, axis in [((9, 13), 0), ((9, 13), 1), ((6, 6, 6), 2), ((45,), 0), ((), 0), ((), -1)]:
        def reference(x):
            return np.log(np.sum(np.exp(x), axis=axis if x.ndim else None))
        check_op([shape], reference, ours=lambda x: F.logsumexp(x, axis))


def test_cross_entropy_and_nll_loss():
    target = np.random.default_rng(1).integers(0, 10, size=32)
    for reduction, reduce in [("mean", np.mean), ("sum", np.sum), ("none", lambda c: c)]:
        check_op([(32, 10)], lambda x: reduce(-_log_softmax(x, 1)[np.arange(32), target]),
                 ours=lambda x: F.cross_entropy(x, target, reduction=reduction))
        check_op([(32, 10)], lambda x: reduce(-x[np.arange(32), target]),
                 ours=lambda x: F.nll_loss(x, target, reduction=reduction))


def test_binary_cross_entropy():
    t = (np.random.default_rng(2).uniform(size=(32, 10)) > 0.5).astype(float)
    for reduction, reduce in [("mean", np.mean), ("sum", np.sum), ("none", lambda c: c)]:
        check_op([(32, 10)], lambda x: reduce(-(t * np.log(_SIGMOID(x)) + (1 - t) * np.log(1 - _SIGMOID(x)))),
                 ours=lambda x: F.binary_cross_entropy(x.sigmoid(), Tensor(t), reduction))
        check_op([(32, 10)], lambda x: reduce(-(t * np.log(_SIGMOID(x)) + (1 - t) * np.log(1 - _SIGMOID(x)))),
                 ours=lambda x: F.binary_cross_entropy_with_logits(x, Tensor(t), reduction))


# ------------------------------------------------------------------ shape and indexing


def test_shapes():
    check_op([(3, 4, 5, 6)], lambda x: np.transpose(x, (3, 0, 2, 1)), ours=lambda x: x.transpose(3, 0, 2, 1))
    check_op([(4, 3, 6, 6)], lambda x: x.reshape(-1, 3, 6, 6), ours=lambda x: x.reshape(-1, 3, 6, 6))
    check_op([(1, 3, 6, 6)], lambda x: np.squeeze(x, 0), ours=lambda x: x.squeeze(0))
    check_op([(4, 3, 6, 6)], lambda x: x, ours=lambda x: x.squeeze(3))   # not of length 1: kept, as PyTorch
    for axis in (0, -1, None):
        check_op([()], lambda x: x, ours=lambda x: x.squeeze(axis))
    check_op([(4, 3, 6, 6)], lambda x: np.expand_dims(x, -1), ours=lambda x: x.unsqueeze(-1))
    check_op([(4, 3, 6, 6)], lambda x: x.reshape(4, -1), ours=lambda x: x.flatten(1))
    check_op([(4, 3, 1, 6)], lambda x: np.broadcast_to(x, (4, 3, 6, 6)), ours=lambda x: x.expand(4, 3, 6, 6))
    check_op([(4, 3, 6, 6)], lambda x: np.flip(x, (0, 1)), ours=lambda x: x.flip((0, 1)))
    check_op([(4, 3, 6, 6)], lambda x: np.flip(x, -1), ours=lambda x: x.flip(-1))
    check_op([(4, 3, 6, 6)], lambda x: np.roll(x, 1, 0), ours=lambda x: x.roll(1, 0))
    check_op([(4, 3, 6, 6)], lambda x: np.roll(x, (-1, 2), (1, -1)), ours=lambda x: x.roll((-1, 2), (1, -1)))
    check_op([(3, 3)], lambda x: np.tile(x, (4, 3)), ours=lambda x: x.repeat(4, 3))
    check_op([(3, 3)], lambda x: np.tile(x, (2, 1, 3)), ours=lambda x: x.repeat(2, 1, 3))
    check_error([(3, 3)], lambda x: x.repeat(2), ValueError, "repeat: 1 sizes")
    for diagonal in (0, 1, -1, 5, -5):
        check_op([(5, 5)], lambda x: np.tril(x, diagonal), ours=lambda x: x.tril(diagonal))
        check_op([(3, 4, 5)], lambda x: np.triu(x, diagonal), ours=lambda x: x.triu(diagonal))
    check_op([(9, 13), (9, 13)], lambda x, y: np.concatenate([x, y], -1), ours=lambda x, y: F.concatenate([x, y], -1))
    check_op([(9, 13), (9, 13)], lambda x, y: np.stack([x, y], 1), ours=lambda x, y: F.stack([x, y], 1))
    check_op([(3, 4)], lambda x: np.pad(x, ((1, 2), (0, 1))), ours=lambda x: F.pad(x, ((1, 2), (0, 1))))


def test_split_chunk():
    for shape, size, axis in [((10,), 5, 0), ((10,), [1, 4, 5], 0), ((10,), 3, 0), ((3, 4), 1, 1), ((4, 4), [2, 2], -1)]:
        pieces = Tensor(np.arange(np.prod(shape), dtype=float).reshape(shape)).split(size, axis)
        starts = np.cumsum([0] + [p.shape[axis] for p in pieces])
        assert starts[-1] == shape[axis]
        for piece, start, end in zip(pieces, starts, starts[1:]):
            np.testing.assert_array_equal(piece.data, np.take(np.arange(np.prod(shape)).reshape(shape),
                                                             np.arange(start, end), axis=axis))
    base = np.tile(np.arange(13.0), (8, 1))
    assert [c.shape for c in Tensor(base).chunk(6, 1)] == [(8, 3)] * 4 + [(8, 1)]   # PyTorch: 5 chunks


def test_slicing_and_fancy_indexing():
    check_op([(3, 3, 3)], lambda x: x[1:2, 1:2], ours=lambda x: x[1:2, 1:2])
    check_op([(3, 3, 3)], lambda x: x[::-1, 0:3:2, None], ours=lambda x: x[::-1, 0:3:2, None])
    check_op([(3, 3, 3)], lambda x: x[..., 1], ours=lambda x: x[..., 1])
    check_op([(3,)], lambda x: x[10:], ours=lambda x: x[10:])
    index = np.array([[0, 2], [1, 1]])
    check_op([(3, 4)], lambda x: x[index], ours=lambda x: x[Tensor(index)])
    check_op([(3, 4)], lambda x: x[index, 1:3], ours=lambda x: x[Tensor(index), 1:3])
    mask = np.array([True, False, True])
    check_op([(3, 4)], lambda x: x[mask], ours=lambda x: x[Tensor(mask)])
    check_error([(3, 4)], lambda x: x[Tensor(1.1)], IndexError, "integers or booleans")


def test_mixed_advanced_indexing_follows_numpy():
    """x[1, :, 3:11:2, d, 0:2]: the two advanced indices (1 and d) are apart, so NumPy moves their
    axes to the front; PyTorch treats the integer 1 as a basic index and keeps d's axes in place
    (the README table).  We follow NumPy."""
    x = np.random.default_rng(0).uniform(size=(2, 3, 12, 4, 5))
    d = np.array([[0, 1], [3, 2]])
    check_op(None, lambda t: t[1, :, 3:11:2, d, 0:2], ours=lambda t: t[1, :, 3:11:2, Tensor(d), 0:2], vals=[x])
    assert Tensor(x)[1, :, 3:11:2, Tensor(d), 0:2].shape == (2, 2, 3, 4, 2)   # PyTorch: (3, 4, 2, 2, 2)


def test_gather_scatter_add_masked_fill():
    index = np.random.default_rng(3).integers(0, 4, size=(4, 5, 3))
    check_op([(4, 5, 6)], lambda x: np.take_along_axis(x, index, 2), ours=lambda x: x.gather(2, index))
    check_op([(4, 5, 6)], lambda x: np.take_along_axis(x, index, 2), ours=lambda x: F.take_along_axis(x, index, -1))
    source_index = np.random.default_rng(4).integers(0, 4, size=(2, 5, 6))

    def scattered(x, source):
        out = x.copy()
        for position in np.ndindex(*source_index.shape):
            out[(source_index[position],) + position[1:]] += source[position]
        return out
    check_op([(4, 5, 6), (2, 5, 6)], scattered, ours=lambda x, s: x.scatter_add(0, source_index, s))
    mask = np.random.default_rng(5).uniform(size=(4, 5)) > 0.5
    check_op([(4, 5)], lambda x: np.where(mask, -7.0, x), ours=lambda x: x.masked_fill(mask, -7.0))


def test_where():
    check_op([(9, 13), (9, 13)], lambda x, y: np.where(x > 0.5, x, y), ours=lambda x, y: F.where(x.data > 0.5, x, y))
