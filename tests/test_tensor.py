"""Tensor construction, the backward pass, and its errors."""
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, no_grad, enable_grad, is_grad_enabled


def test_dtypes():
    """Construction keeps the dtype NumPy gives the data, as PyTorch keeps bool and int64."""
    assert Tensor(3.0).dtype == np.float64
    assert Tensor(3).dtype == np.int64
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([True, False]).dtype == bool
    assert Tensor(np.array([1, 2], dtype=np.uint8)).dtype == np.uint8
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert Tensor(np.ones(2, dtype=np.float32), dtype=np.float64).dtype == np.float64


def test_float32_stays_float32_through_ops_and_grads():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = ((x * 2.0 + 1) / 3.0).exp().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_data_is_copied():
    array = np.zeros(3)
    t = Tensor(array)
    array[0] = 5
    assert t.data[0] == 0


@pytest.mark.parametrize("bad", ["abc", ["1", "a"], [1, None], {"a": 1}, [1 + 2j]])
def test_non_numeric_data_is_a_type_error(bad):
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(bad)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        Tensor([1, 2], dtype=np.int64, requires_grad=True)


def test_integer_data_cannot_require_grad_as_in_pytorch():
    with pytest.raises(TypeError, match=r"floating.*int64.*shape \(2,\)"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating.*bool"):
        Tensor(True, requires_grad=True)
    assert Tensor([1, 2], dtype=np.float64, requires_grad=True).requires_grad


def test_boolean_tensor_from_python_booleans_masks_rows():
    """Regression: [True, False] used to become float64 and index rows 1 and 0 instead of masking."""
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    picked = a[Tensor([True, False])]
    np.testing.assert_array_equal(picked.data, [[1.0, 2.0]])
    picked.sum().backward()
    np.testing.assert_array_equal(a.grad, [[1.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("index", [1.1, 1.0, [0.0, 1.0], np.float32(1)])
def test_non_integer_index_tensor_is_an_index_error(index):
    """Regression: a[Tensor(1.1)] used to return a[1] (truncated); PyTorch raises IndexError."""
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(IndexError, match=r"getitem: .*integers or booleans.*float"):
        a[Tensor(index)]
    with pytest.raises(IndexError, match="getitem"):
        a[0, Tensor(index)]


def test_ops_make_floats_from_integer_tensors_where_they_need_them():
    i = Tensor([1, 2, 3])
    assert (i + 1).dtype == np.int64 and (i * i).dtype == np.int64 and i.sum().dtype == np.int64
    assert (i / 2).dtype == np.float64 and i.mean().dtype == np.float64 and i.exp().dtype == np.float64
    assert (i * 0.5).dtype == np.float64 and (i + Tensor([0.5, 0, 0])).dtype == np.float64
    x = Tensor([1.0, 1.0, 1.0], requires_grad=True)
    (x * i).sum().backward()             # an integer constant in a float graph
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])


_NUMERIC_DTYPES = st.sampled_from([np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                   np.float16, np.float32, np.float64])


@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_construction_keeps_dtype_and_indexing_follows_it(data):
    """Over dtypes and index kinds, the two silent wrong results cannot come back: a Tensor keeps
    the dtype of its data (NumPy arrays, Python lists of bools, ints or floats), an integer or
    boolean index tensor selects exactly what the same NumPy index selects, and a
    floating-point one is an IndexError."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="shape")
    source = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    dtype = data.draw(_NUMERIC_DTYPES, label="index dtype")
    if dtype is np.bool_:
        index = data.draw(hnp.arrays(np.bool_, shape[:data.draw(st.integers(1, len(shape)))]), label="mask")
    else:
        high = shape[0] - 1 if np.dtype(dtype).kind == "f" else min(shape[0] - 1, np.iinfo(dtype).max)
        index = data.draw(hnp.arrays(dtype, data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)),
                                     elements=st.integers(0, high)), label="positions")
    as_list = data.draw(st.booleans(), label="as a Python list")
    given_index = index.tolist() if as_list else index
    index_tensor = Tensor(given_index)
    assert index_tensor.dtype == np.asarray(given_index).dtype
    if as_list:   # Python booleans stay bool, ints int64, floats float64
        assert index_tensor.dtype == {"b": bool, "i": np.int64, "u": np.int64, "f": np.float64}[np.dtype(dtype).kind]
    else:
        assert index_tensor.dtype == index.dtype
    x = Tensor(source)
    if index_tensor.dtype.kind == "f":
        with pytest.raises(IndexError, match="getitem"):
            x[index_tensor]
    else:
        np.testing.assert_array_equal(x[index_tensor].data, source[np.asarray(given_index)])


def test_basic_facts_and_repr():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    assert x.shape == (1, 2) and x.ndim == 2 and x.numel() == 2 and len(x) == 1 and x.is_leaf
    assert x.numpy() is x.data
    assert Tensor(2.5).item() == 2.5
    assert "requires_grad=True" in repr(x)
    assert "op=mul" in repr(x * 2)
    with pytest.raises(ValueError, match="item"):
        x.item()


def test_gradient_accumulates_over_paths_and_calls():
    x = Tensor([2.0, -1.0], requires_grad=True)
    y = x * x + x          # x used three times: dy/dx = 2x + 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, -1.0])
    (x * 3).sum().backward()   # gradients add up across calls, as in PyTorch
    np.testing.assert_allclose(x.grad, [8.0, 2.0])


def test_diamond_graph():
    x = Tensor(1.5, requires_grad=True)
    a, b = x.exp(), x * 2
    (a * b).backward()     # d/dx (2x e^x) = 2 e^x (1 + x)
    np.testing.assert_allclose(x.grad, 2 * np.exp(1.5) * 2.5)


def test_chain_of_100k_ops_backpropagates_without_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.00001 ** 100_000)


def test_non_scalar_backward_needs_a_seed():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad, 2.0)
    with pytest.raises(ValueError, match="seed gradient has shape"):
        (x * 2).backward(np.ones(3))


def test_backward_without_grad_is_an_error():
    with pytest.raises(ValueError, match="does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_no_grad_builds_no_graph_and_detach_cuts_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
        with enable_grad():
            assert (x * 2).requires_grad
    assert is_grad_enabled()
    assert y.node is None and not y.requires_grad
    z = (x.detach() * 3 + x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_retain_grad_keeps_intermediate_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    np.testing.assert_allclose(x.grad, 18 * x.data)


def test_array_on_the_left_dispatches_to_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_broadcast_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_non_finite_gradient_names_the_op():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(ValueError, match="backward of log"):
        x.log().sum().backward()
    with pytest.raises(ValueError, match="backward of sqrt"):
        x.sqrt().sum().backward()


@pytest.mark.filterwarnings("ignore:overflow")
def test_non_finite_forward_is_caught_at_the_leaf():
    x = Tensor([1000.0], requires_grad=True)
    with pytest.raises(ValueError, match="not finite"):
        x.exp().sum().backward()


def test_cross_entropy_training_step_reduces_loss():
    """A smoke test that the pieces compose into learning: logistic regression on a separable problem."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    W = Tensor(np.zeros((2, 2)), requires_grad=True)
    losses = []
    for _ in range(50):
        loss = F.cross_entropy(Tensor(X) @ W, y)
        W.grad = None
        loss.backward()
        W.data -= 0.5 * W.grad
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


# ------------------------------------------------------------------ PyTorch semantics at the edges


def test_user_facing_grads_are_fresh_writable_arrays():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a, b = (x * 1).retain_grad(), (x * 1).retain_grad()
    s = (a + b).retain_grad()            # add passes the same g to both inputs
    seed = np.array([1.0, 1.0])
    total = (s * 2).retain_grad()
    total.backward(seed)
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(total.grad, seed)
    h = (x * 3).retain_grad()
    h.sum().backward()                   # sum's gradient is a read-only broadcast view
    for grad in (a.grad, b.grad, s.grad, total.grad, h.grad, x.grad):
        assert grad.flags.writeable and grad.flags.owndata
    a.grad[0] = 99.0
    assert b.grad[0] == 2.0 and seed[0] == 1.0


SCALARS = [2, 2.5, True, np.float64(2.5), np.float32(2.5), np.int64(2), np.int32(3)]


@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: type(s).__name__)
def test_float32_stays_float32_with_any_scalar_on_either_side(scalar):
    x = Tensor(np.full(3, 1.5, dtype=np.float32), requires_grad=True)
    results = [x + scalar, scalar + x, x - scalar, scalar - x, x * scalar, scalar * x, x / scalar, scalar / x,
               x ** scalar, scalar ** x]
    for y in results:
        assert y.dtype == np.float32, y
        y.sum().backward()
    assert x.grad.dtype == np.float32


def test_float32_stays_float32_in_where_with_a_scalar_branch():
    x = Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    for y in (F.where(x.data > 0, x, 0.0), F.where(x.data > 0, np.float64(1.0), x)):
        assert y.dtype == np.float32
        y.sum().backward()
    assert x.grad.dtype == np.float32


def test_bool_of_a_tensor():
    assert bool(Tensor(0.5)) and not bool(Tensor([0.0])) and bool(Tensor([[2.0]]))
    with pytest.raises(ValueError, match=r"bool: .*shape \(2,\).*ambiguous"):
        bool(Tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor(np.zeros(0)))


def test_comparisons_are_elementwise_boolean_and_carry_no_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    cases = {"==": (x == 2, [0, 1, 0]), "!=": (x != 2, [1, 0, 1]), "<": (x < 2, [1, 0, 0]),
             "<=": (x <= 2, [1, 1, 0]), ">": (x > 2, [0, 0, 1]), ">=": (x >= 2, [0, 1, 1]),
             "reflected": (2 < x, [0, 0, 1]), "array": (np.array([1.0, 0, 3]) == x, [1, 0, 1]),
             "tensor": (x == Tensor([1.0, 5.0, 3.0]), [1, 0, 1])}
    for name, (result, expected) in cases.items():
        assert isinstance(result, Tensor) and result.dtype == bool, name
        assert not result.requires_grad and result.node is None, name
        np.testing.assert_array_equal(result.data, np.array(expected, dtype=bool), err_msg=name)
    (x[x > 1.5] * 2).sum().backward()    # a boolean tensor indexes as a mask
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 2.0])
    assert (x == None) is False and (x != "a") is True   # noqa: E711 -- non-numbers compare by identity, as in Python
    with pytest.raises(TypeError, match="'<'"):
        x < "a"


def test_tensors_stay_hashable_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b, a}) == 2
    assert {a: "a", b: "b"}[b] == "b"


def test_len_and_iteration():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == len(x) == 3 and all(row.shape == (2,) for row in rows)
    sum(rows, Tensor(0.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 2)))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(Tensor(1.0))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(Tensor(1.0))


@pytest.mark.parametrize("bad", ["a", None, {"a": 1}, 1j])
def test_non_numeric_operand_names_the_operator(bad):
    x = Tensor([1.0])
    for symbol, apply in [("+", lambda: x + bad), ("*", lambda: bad * x), ("-", lambda: x - bad),
                          ("/", lambda: x / bad), ("**", lambda: x ** bad), ("@", lambda: x @ bad)]:
        with pytest.raises(TypeError, match=re.escape(symbol)):
            apply()


def test_backward_frees_the_graph_and_a_second_pass_says_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    assert loss.node.saved_tensors is None and loss.node.parents[0].node.saved_tensors is None   # released
    with pytest.raises(RuntimeError, match=r"already freed.*retain_graph=True"):
        loss.backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])     # not doubled

    x.grad = None
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()                                     # kept once, so a second pass is allowed
    np.testing.assert_allclose(x.grad, [4.0, 8.0])

    x.grad = None
    shared = x.exp()                                    # a part shared by two losses
    shared.sum().backward()
    with pytest.raises(RuntimeError, match="graph through exp was already freed"):
        (shared * 2).sum().backward()
    np.testing.assert_allclose(x.grad, np.exp([1.0, 2.0]))   # the failed pass changed nothing
