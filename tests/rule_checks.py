"""Helpers the tests of discrete.py and stochastic.py share to check backward rules."""
from tinygrad_ste import Tensor


def forward_as(value, hard):
    """``value`` in the forward pass, ``hard``'s backward rule in the backward pass.

    hard + (value - hard), the difference held constant.  Central differences of the
    result differentiate ``value``, while the analytic gradient is ``hard``'s rule, so
    gradcheck tells whether the rule is the derivative of ``value``.
    """
    return hard + Tensor(value.data - hard.data)


def grad_of(fn, x, g):
    """dL/dx for L = sum(g * fn(x)), x an array."""
    x = Tensor(x, requires_grad=True)
    fn(x).backward(g)
    return x.grad
