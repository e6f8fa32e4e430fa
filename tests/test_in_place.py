"""In-place updates: under no_grad they overwrite the tensor itself, and PyTorch's version check
turns a backward pass that would read overwritten numbers into an error naming the op."""
import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import nn, optim


def test_manual_sgd_under_no_grad_updates_the_leaf_itself():
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    array = w.data
    (w * w).sum().backward()
    with tg.no_grad():
        w -= 0.25 * w.grad
        w *= 2
        w += tg.ones(2)
        w /= 2.0
    assert w.data is array and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.numpy(), ((np.array([1.0, -2.0]) * 0.5) * 2 + 1) / 2)


def test_in_place_methods_match_their_out_of_place_forms():
    start = np.array([0.25, -1.5, 2.0])
    for name, args, expected in [("add_", (1.0,), start + 1), ("sub_", (start, ), 0 * start),
                                 ("mul_", (3,), 3 * start), ("div_", (2,), start / 2), ("pow_", (2,), start ** 2),
                                 ("neg_", (), -start), ("abs_", (), np.abs(start)), ("exp_", (), np.exp(start)),
                                 ("tanh_", (), np.tanh(start)), ("relu_", (), np.maximum(start, 0)),
                                 ("sin_", (), np.sin(start)), ("clamp_", (-1.0, 1.0), np.clip(start, -1, 1)),
                                 ("zero_", (), 0 * start), ("fill_", (7.0,), np.full(3, 7.0)),
                                 ("copy_", (tg.tensor([1.0, 2.0, 3.0]),), [1.0, 2.0, 3.0])]:
        x = tg.tensor(start)
        assert getattr(x, name)(*args) is x, name
        np.testing.assert_allclose(x.numpy(), expected, err_msg=name)
    x = tg.tensor([1.0, 2.0])
    x.add_(tg.tensor([1.0, 1.0]), alpha=-0.5)
    np.testing.assert_allclose(x.numpy(), [0.5, 1.5])


def test_a_leaf_that_requires_grad_is_updated_inside_no_grad_only():
    w = tg.tensor([1.0], requires_grad=True)
    for update in (lambda: w.__isub__(1.0), lambda: w.mul_(2), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad .* inside `with tg.no_grad\(\):`"):
            update()
    assert w.item() == 1.0


def test_on_a_tensor_in_a_graph_the_operator_is_written_out_of_place():
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)

    def residual_block(t):
        h = t * t
        h += t            # out of place: h = h + t, the graph stays right
        h *= 3
        return h
    assert tg.gradcheck(residual_block, [x])
    total = tg.zeros(())
    total += (x * 2).sum()   # a constant accumulator that meets the graph joins it
    total.backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match=r"exp_: in-place ops are not recorded in a graph here"):
        (x * 2).exp_()


def test_overwriting_an_input_saved_for_backward_is_an_error_naming_the_op():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with tg.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match=r"backward of mul: an array it saved .* overwritten by an in-place "
                                           r"operation \(-=\)"):
        loss.backward()


def test_overwriting_an_output_saved_for_backward_is_caught_through_a_view():
    x = tg.tensor([0.1, 0.2], requires_grad=True)
    y = x.exp()                      # exp saves its output
    y.detach().mul_(2)               # same memory, another tensor
    with pytest.raises(RuntimeError, match=r"backward of exp: .* \(mul_\)"):
        y.sum().backward()
    x2 = tg.tensor([[0.1, 0.2]], requires_grad=True)
    z = x2.reshape(2).tanh()       # tanh saves its output too
    with tg.no_grad():
        z.fill_(0.5)
    with pytest.raises(RuntimeError, match=r"backward of tanh: .* \(fill_\)"):
        z.sum().backward()


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(tg.ones(4, 3)).sum()
    loss.backward(retain_graph=True)
    optimizer.step()
    with pytest.raises(RuntimeError, match=r"backward of matmul: .* \(SGD.step\)"):
        loss.backward()


def test_no_false_alarms():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    unrelated = tg.zeros(2)
    loss = (w * w).sum()
    unrelated += 1                   # another array: nothing this graph saved
    y = w + 1                        # add saves nothing: overwriting its input is harmless
    with tg.no_grad():
        w.mul_(1.0)
    loss2 = (w * 3).sum()            # made after the write: sees the new numbers
    y.sum().backward()
    loss2.backward()
    np.testing.assert_allclose(w.grad, [4.0, 4.0])
    with pytest.raises(RuntimeError):
        loss.backward()              # but the first loss did save w


def test_writes_that_cannot_happen_in_place_are_errors():
    x = tg.zeros(3)
    with pytest.raises(ValueError, match=r"\+=: the result has shape \(2, 3\), but the tensor updated in place "
                                         r"has shape \(3,\)"):
        x += tg.ones(2, 3)
    n = tg.zeros(2, dtype=tg.int64)
    with pytest.raises(TypeError, match=r"\+=: cannot write into a int64 tensor of shape \(2,\)"):
        n += 0.5
    n += 2
    np.testing.assert_array_equal(n.numpy(), [2, 2])
