"""Tensor construction, the backward pass, and its errors."""
import re

import numpy as np
import pytest

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, no_grad, enable_grad, is_grad_enabled


def test_dtypes():
    assert Tensor(3).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor([True, False]).dtype == np.float64
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
