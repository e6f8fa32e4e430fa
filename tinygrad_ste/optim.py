"""Optimizers: turn each parameter's ``.grad`` into an in-place update of its ``.data``.

The training loop is the PyTorch one::

    optimizer = Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        optimizer.zero_grad()            # backward() adds to .grad, so clear it first
        loss = F.cross_entropy(model(x), y)
        loss.backward()                  # fills p.grad for every parameter p
        optimizer.step()                 # p.data <- p.data - (update from p.grad)

Updates write into ``p.data`` in place, so a model and its optimizer keep pointing at
the same arrays.  A parameter whose ``.grad`` is None (it took no part in this loss) is
skipped, and its optimizer state does not advance.
"""
import numpy as np

from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Holds the list of parameters and per-parameter state; subclasses write ``update``."""

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a Tensor with requires_grad=True, "
                                f"got {type(p).__name__}" + (f" of shape {p.shape}" if isinstance(p, Tensor) else ""))
        if lr <= 0:
            raise ValueError(f"{type(self).__name__}: lr must be positive, got {lr}")
        self.lr = lr
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        """Set every parameter's ``.grad`` to None."""
        for p in self.params:
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient."""
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                p.data -= self.update(p.data, p.grad, state).astype(p.data.dtype, copy=False)

    def update(self, weights, grad, state):
        """The amount to subtract from ``weights``; may read and write ``state`` (a dict per parameter)."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay (PyTorch's formulas).

    With g = grad + weight_decay * w (an L2 penalty (weight_decay / 2) ||w||^2)::

        momentum = 0:  w <- w - lr * g
        otherwise:     v <- momentum * v + g   (v starts as g at the first step)
                       w <- w - lr * v

    Momentum (Polyak 1964) averages recent gradients, so steps grow along directions the
    gradient keeps pointing in and noise across steps partly cancels.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must lie in [0, 1), got {momentum}")
        self.momentum, self.weight_decay = momentum, weight_decay

    def update(self, weights, grad, state):
        g = grad + self.weight_decay * weights
        if self.momentum:
            state["velocity"] = g if "velocity" not in state else self.momentum * state["velocity"] + g
            g = state["velocity"]
        return self.lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba 2015): a step scaled per element by running gradient statistics.

    With g = grad + weight_decay * w and t the number of steps this parameter has taken:

        m <- beta1 * m + (1 - beta1) * g          running mean of g      (m starts at 0)
        v <- beta2 * v + (1 - beta2) * g^2        running mean of g^2    (v starts at 0)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)    bias correction
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    Because m and v start at zero they underestimate early on; dividing by (1 - beta^t)
    undoes exactly that.  Each element's step is about lr whatever the gradient's scale.
    weight_decay here is an L2 penalty added to g, as in PyTorch's ``Adam`` (not AdamW).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas}")
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

    def update(self, weights, grad, state):
        beta1, beta2 = self.betas
        g = grad + self.weight_decay * weights
        t = state["step"] = state.get("step", 0) + 1
        m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
