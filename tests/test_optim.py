import numpy as np
import pytest

from tinygrad_ste import Tensor
from tinygrad_ste.optim import SGD, Adam, AdamW, RMSprop, lr_scheduler

GRADS = [np.array([0.5, -1.0, 0.0]), np.array([0.2, 0.3, -2.0]), np.array([-0.4, 0.1, 1.0])]
START = np.array([1.0, -2.0, 0.5])


def run_steps(optimizer, param, grads):
    """Feed the given gradients one step at a time; return the parameter after each step."""
    history = []
    for grad in grads:
        param.grad = np.array(grad, dtype=np.float64)
        optimizer.step()
        history.append(param.data.copy())
    return history


def test_plain_sgd_step():
    w = Tensor([1.0, -2.0], requires_grad=True)
    (after,) = run_steps(SGD([w], lr=0.1), w, [[0.5, -1.0]])
    np.testing.assert_allclose(after, [1.0 - 0.05, -2.0 + 0.1])


def test_sgd_momentum_and_weight_decay_match_hand_computation():
    w = Tensor([1.0, -2.0], requires_grad=True)
    lr, mu, wd = 0.1, 0.9, 0.01
    grads = [np.array([0.5, -1.0]), np.array([0.2, 0.3]), np.array([-0.4, 0.1])]
    history = run_steps(SGD([w], lr=lr, momentum=mu, weight_decay=wd), w, grads)
    weights, velocity = np.array([1.0, -2.0]), None
    for grad, got in zip(grads, history):
        g = grad + wd * weights
        velocity = g if velocity is None else mu * velocity + g
        weights = weights - lr * velocity
        np.testing.assert_allclose(got, weights, rtol=1e-12)
    # the first two steps written out by hand, element 0:
    w1 = 1.0 - 0.1 * (0.5 + 0.01)
    w2 = w1 - 0.1 * (0.9 * 0.51 + 0.2 + 0.01 * w1)
    np.testing.assert_allclose(history[1][0], w2, rtol=1e-12)


def test_adam_with_bias_correction_over_three_steps():
    w = Tensor([0.5, -1.5, 2.0], requires_grad=True)
    lr, (b1, b2), eps, wd = 0.01, (0.9, 0.999), 1e-8, 0.1
    grads = [np.array([1.0, -2.0, 0.0]), np.array([0.5, 0.5, 3.0]), np.array([-1.0, 0.0, 1.0])]
    history = run_steps(Adam([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), w, grads)
    weights, m, v = np.array([0.5, -1.5, 2.0]), 0.0, 0.0
    for t, (grad, got) in enumerate(zip(grads, history), start=1):
        g = grad + wd * weights
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        weights = weights - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(got, weights, rtol=1e-12)
    # Bias correction makes Adam's first step lr * sign(g) (up to eps), whatever g's scale.
    w = Tensor([0.0, 0.0], requires_grad=True)
    (first,) = run_steps(Adam([w], lr=0.01), w, [[1e-3, -50.0]])
    np.testing.assert_allclose(first, [-0.01, 0.01], rtol=1e-4)


def test_parameters_without_grad_are_skipped_and_keep_their_state():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    optimizer = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.array([1.0]), None
    optimizer.step()
    assert b.data[0] == 1.0 and b not in optimizer.state
    a.grad, b.grad = None, np.array([1.0])
    optimizer.step()
    assert a.data[0] == pytest.approx(0.9) and optimizer.state[b]["step"] == 1
    np.testing.assert_allclose(b.data, [0.9], rtol=1e-6)


def test_step_updates_in_place_and_zero_grad_clears():
    w = Tensor([1.0, 2.0], requires_grad=True)
    array = w.data
    optimizer = SGD([w], lr=1.0)
    (w * w).sum().backward()
    optimizer.step()
    assert w.data is array
    np.testing.assert_allclose(w.data, [-1.0, -2.0])
    optimizer.zero_grad()
    assert w.grad is None


def test_float32_parameters_stay_float32():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    run_steps(Adam([w]), w, [np.ones(3)])
    assert w.data.dtype == np.float32


def test_bad_arguments_are_rejected():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"parameter 0.*requires_grad.*shape \(1,\)"):
        SGD([Tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        Adam([w], lr=0)
    with pytest.raises(ValueError, match="momentum"):
        SGD([w], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="betas"):
        Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov=True needs a momentum"):
        SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="RMSprop: alpha and momentum must lie in"):
        RMSprop([w], alpha=1.0)
    with pytest.raises(ValueError, match=r"parameter 0 \(shape \(1,\)\) is in two groups"):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def test_sgd_nesterov_matches_hand_computation():
    w = Tensor(START, requires_grad=True)
    lr, mu, wd = 0.1, 0.9, 0.01
    history = run_steps(SGD([w], lr=lr, momentum=mu, weight_decay=wd, nesterov=True), w, GRADS)
    weights, velocity = START.copy(), None
    for grad, got in zip(GRADS, history):
        g = grad + wd * weights
        velocity = g if velocity is None else mu * velocity + g
        weights = weights - lr * (g + mu * velocity)   # Nesterov: the gradient plus the momentum ahead
        np.testing.assert_allclose(got, weights, rtol=1e-12)


@pytest.mark.parametrize("momentum, centered", [(0.0, False), (0.5, False), (0.0, True), (0.5, True)])
def test_rmsprop_matches_hand_computation(momentum, centered):
    w = Tensor(START, requires_grad=True)
    lr, alpha, eps, wd = 0.01, 0.9, 1e-8, 0.1
    history = run_steps(RMSprop([w], lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=momentum,
                                centered=centered), w, GRADS)
    weights, square, mean, buffer = START.copy(), 0.0, 0.0, 0.0
    for grad, got in zip(GRADS, history):
        g = grad + wd * weights
        square = alpha * square + (1 - alpha) * g ** 2
        mean = alpha * mean + (1 - alpha) * g
        step = g / (np.sqrt(square - mean ** 2 if centered else square) + eps)
        buffer = momentum * buffer + step
        weights = weights - lr * (buffer if momentum else step)
        np.testing.assert_allclose(got, weights, rtol=1e-12)


def test_adamw_decays_the_weights_apart_from_the_gradient():
    w = Tensor(START, requires_grad=True)
    lr, (b1, b2), eps, wd = 0.01, (0.9, 0.999), 1e-8, 0.1
    history = run_steps(AdamW([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), w, GRADS)
    weights, m, v = START.copy(), 0.0, 0.0
    for t, (grad, got) in enumerate(zip(GRADS, history), start=1):
        m = b1 * m + (1 - b1) * grad            # the moments see the gradient alone
        v = b2 * v + (1 - b2) * grad ** 2
        weights = weights * (1 - lr * wd) - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(got, weights, rtol=1e-12)
    assert AdamW([w]).param_groups[0]["weight_decay"] == 0.01   # PyTorch's default


def test_param_groups_have_their_own_hyperparameters_and_a_writable_lr():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    optimizer = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.5]
    assert optimizer.param_groups[1]["momentum"] == 0.0 and optimizer.param_groups[1]["params"] == [b]
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    optimizer.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5])
    for group in optimizer.param_groups:
        group["lr"] = 0.01
    optimizer.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.89, 0.49])
    c = Tensor([1.0], requires_grad=True)
    optimizer.add_param_group({"params": [c], "lr": 1.0})
    c.grad = np.array([0.25])
    optimizer.step()
    assert c.item() == pytest.approx(0.75)


def test_step_lr_and_cosine_annealing():
    w = Tensor([1.0], requires_grad=True)
    optimizer = SGD([{"params": [w]}, {"params": [Tensor([1.0], requires_grad=True)], "lr": 2.0}], lr=1.0)
    step = lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.1)
    seen = []
    for epoch in range(7):
        seen.append(step.get_last_lr())
        step.step()
    np.testing.assert_allclose(seen, [[1.0, 2.0]] * 3 + [[0.1, 0.2]] * 3 + [[0.01, 0.02]])
    optimizer = Adam([w], lr=0.1)
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=4, eta_min=0.02)
    seen = []
    for epoch in range(5):
        seen.append(optimizer.param_groups[0]["lr"])
        cosine.step()
    expected = [0.02 + 0.08 * (1 + np.cos(np.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(seen, expected)
    assert seen[0] == 0.1 and seen[-1] == pytest.approx(0.02)
