"""Optimizers: turn each parameter's ``.grad`` into an in-place update of its ``.data``.

The training loop is the PyTorch one::

    optimizer = Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        optimizer.zero_grad()            # backward() adds to .grad, so clear it first
        loss = F.cross_entropy(model(x), y)
        loss.backward()                  # fills p.grad for every parameter p
        optimizer.step()                 # p.data <- p.data - (update from p.grad)

As in PyTorch, the parameters are held in ``optimizer.param_groups``, a list of dicts, each
with its ``"params"`` and its hyperparameters (``"lr"``, ``"momentum"``, ...), which may be
changed between steps (``group["lr"] *= 0.5``; the schedulers of :mod:`.lr_scheduler` do that).
Give several groups to train parts of a model differently::

    SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 0.1}], lr=0.01)

Updates write into ``p.data`` in place, so a model and its optimizer keep pointing at the
same arrays; each is recorded as an in-place write, so a graph built before ``step()`` cannot
be backpropagated after it.  A parameter whose ``.grad`` is None (it took no part in this
loss) is skipped, and its state (``optimizer.state[p]``) does not advance.
"""
import numpy as np

from ..function import record_in_place_write
from ..tensor import Tensor
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]


class Optimizer:
    """Holds ``param_groups`` and per-parameter ``state``; subclasses write ``update``.

    ``params`` is an iterable of Tensors, or of dicts ``{"params": tensors, "lr": ..., ...}``
    whose missing hyperparameters are taken from ``defaults``."""

    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.defaults, self.param_groups, self.state = defaults, [], {}
        for group in (params if isinstance(params[0], dict) else [{"params": params}]):
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group ``{"params": tensors, hyperparameter: value, ...}`` (defaults fill the rest)."""
        group = {**self.defaults, **group, "params": list(group["params"])}
        seen = {id(p) for other in self.param_groups for p in other["params"]}
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a Tensor with requires_grad=True, "
                                f"got {type(p).__name__}" + (f" of shape {p.shape}" if isinstance(p, Tensor) else ""))
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__}: parameter {i} (shape {p.shape}) is in two groups")
        if not group["lr"] > 0:
            raise ValueError(f"{type(self).__name__}: lr must be positive, got {group['lr']}")
        self.check(group)
        self.param_groups.append(group)

    def check(self, group):
        """A ValueError for a hyperparameter of ``group`` out of its range (subclasses say which)."""

    def zero_grad(self, set_to_none=True):
        """Set every parameter's ``.grad`` to None (or to zeros, with ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None if set_to_none or p.grad is None else np.zeros_like(p.grad)

    def step(self):
        """Update every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    state = self.state.setdefault(p, {})
                    p.data -= self.update(p.data, p.grad, state, group).astype(p.data.dtype, copy=False)
                    record_in_place_write(p.data, f"{type(self).__name__}.step")

    def update(self, weights, grad, state, group):
        """The amount to subtract from ``weights``, with the hyperparameters of ``group``; may read
        and write ``state`` (a dict per parameter)."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay
    (PyTorch's formulas).  With g = grad + weight_decay * w (an L2 penalty (weight_decay / 2) ||w||^2)::

        momentum = 0:  w <- w - lr * g
        otherwise:     v <- momentum * v + g   (v starts as g at the first step)
                       w <- w - lr * v                    (heavy ball, Polyak 1964)
                       w <- w - lr * (g + momentum * v)   (nesterov=True: Sutskever et al. 2013)

    Momentum averages recent gradients, so steps grow along directions the gradient keeps
    pointing in and noise across steps partly cancels; Nesterov's form looks one step ahead.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))

    def check(self, group):
        if not 0 <= group["momentum"] < 1:
            raise ValueError(f"SGD: momentum must lie in [0, 1), got {group['momentum']}")
        if group["nesterov"] and not group["momentum"]:
            raise ValueError("SGD: nesterov=True needs a momentum above 0")

    def update(self, weights, grad, state, group):
        g = grad + group["weight_decay"] * weights
        momentum = group["momentum"]
        if momentum:
            v = state["velocity"] = g if "velocity" not in state else momentum * state["velocity"] + g
            g = g + momentum * v if group["nesterov"] else v
        return group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma and Ba 2015): a step scaled per element by running gradient statistics.

    With g = grad + weight_decay * w and t the number of steps this parameter has taken:

        m <- beta1 * m + (1 - beta1) * g          running mean of g      (m starts at 0)
        v <- beta2 * v + (1 - beta2) * g^2        running mean of g^2    (v starts at 0)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)    bias correction
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    Because m and v start at zero they underestimate early on; dividing by (1 - beta^t)
    undoes exactly that.  Each element's step is about lr whatever the gradient's scale.
    weight_decay here is an L2 penalty added to g, as in PyTorch's ``Adam`` (see :class:`AdamW`).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def check(self, group):
        if not all(0 <= beta < 1 for beta in group["betas"]):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got {group['betas']}")

    def update(self, weights, grad, state, group):
        m_hat, denominator = self.moments(grad + group["weight_decay"] * weights, state, group)
        m_hat *= group["lr"]   # lr * m_hat / denominator, in m_hat's own array (it is a new one)
        m_hat /= denominator
        return m_hat

    @staticmethod
    def moments(g, state, group):
        """(m_hat, sqrt(v_hat) + eps) for the gradient ``g``, advancing m, v and t in ``state``."""
        beta1, beta2 = group["betas"]
        if not state:
            state["step"], state["m"], state["v"] = 0, np.zeros_like(g), np.zeros_like(g)
        t = state["step"] = state["step"] + 1
        m, v = state["m"], state["v"]
        # m = beta1 * m + (1 - beta1) * g and the same for v, written in place: the same
        # arithmetic without two new arrays per parameter and step (Adam runs for every parameter).
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        return m / (1 - beta1 ** t), np.sqrt(v / (1 - beta2 ** t)) + group["eps"]


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter 2019), PyTorch's ``AdamW``::

        w <- w - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w)

    with m_hat, v_hat from the gradient alone (see :class:`Adam`).  Adam's L2 penalty is
    rescaled per element by 1 / sqrt(v_hat) like the gradient, so weights with large gradients
    are barely decayed; here every weight shrinks by the same factor (1 - lr weight_decay).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def update(self, weights, grad, state, group):
        m_hat, denominator = self.moments(grad, state, group)
        return group["lr"] * m_hat / denominator + group["lr"] * group["weight_decay"] * weights


class RMSprop(Optimizer):
    """RMSprop (Tieleman and Hinton 2012), PyTorch's formulas.  With g = grad + weight_decay * w::

        v <- alpha * v + (1 - alpha) * g^2                   running mean of g^2 (from 0)
        d = sqrt(v) + eps, or sqrt(v - a^2) + eps when centered, a the running mean of g
        w <- w - lr * g / d                                  (momentum = 0)
        b <- momentum * b + g / d,  w <- w - lr * b          (otherwise; b from 0)

    Like Adam without the mean of g and without bias correction: each element's step is
    divided by the recent size of its gradient.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def check(self, group):
        if not 0 <= group["alpha"] < 1 or not 0 <= group["momentum"] < 1:
            raise ValueError(f"RMSprop: alpha and momentum must lie in [0, 1), got {group['alpha']} and "
                             f"{group['momentum']}")

    def update(self, weights, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        g = grad + group["weight_decay"] * weights
        v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
        if group["centered"]:
            a = state["grad_avg"] = alpha * state.get("grad_avg", 0.0) + (1 - alpha) * g
            v = v - a * a
        step = g / (np.sqrt(v) + group["eps"])
        if momentum:
            step = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0.0) + step
        return group["lr"] * step
