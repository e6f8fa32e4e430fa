"""Accuracy at the edges: every elementwise op and the softmax family against arbitrary precision.

The reference is mpmath at 60 significant digits, rounded once to float64.  An op passes at a
point when its value, and its gradient from ``backward()``, are within ``ULPS`` units in the
last place of that reference (measured in the spacing of float64 at the reference, so 1 ulp of
5e-131 is about 1e-146).  The inputs run from the smallest normal numbers to the overflow edge:
+-1e-300, +-1e-8, +-1, +-30, +-40, +-300, +-700, each inside the op's domain.

Where float64 cannot hold the answer, the test says so instead of asking for it:

* a reference below the smallest normal number (2.2e-308) is compared absolutely, within ULPS
  subnormal steps (5e-324 each);
* ``sigmoid(x)`` rounds to exactly 1.0 from x ~ 37 in any library (1 - sigmoid(x) is below half
  an ulp of 1); that is the nearest float64, so the ulp rule accepts it.  For the same reason
  ``log(sigmoid(x))``, the log of a number within an ulp or two of 1, cannot be accurate for
  large x in any library (it is 0 from x ~ 37, where the truth is -e^-x): the composed form is
  checked up to x = 1 and in the whole lower tail, where it matters (-40 at x = -40), and
  ``F.logsigmoid`` everywhere.

Ill-conditioned points get the error their condition number allows, and no more: where
kappa = |x f'(x) / f(x)| is large, rounding x itself by half an ulp moves the true f(x) by kappa/2
ulps, so no float64 algorithm that first forms x / sqrt(2) (as gelu's normal CDF must) can do
better.  Those ops (``CONDITIONED``) are checked within ULPS * max(1, kappa) ulps.

One documented exception, kept for speed: the gradient of ``tanh`` is computed as
1 - tanh(x)^2 from the saved output, as in PyTorch.  It keeps absolute precision (1e-16) but
loses relative precision as |tanh x| nears 1, and is exactly 0 from |x| ~ 19, where the true
value 4 e^(-2|x|) would be representable.  That gradient is checked absolutely.
"""
import numpy as np
import pytest

import tinygrad_ste as tg
import tinygrad_ste.functional as F

mpmath = pytest.importorskip("mpmath")
mp = mpmath.mp
mp.dps = 60

ULPS = 4
TINY = np.finfo(np.float64).tiny
MAGNITUDES = [1e-300, 1e-8, 1.0, 30.0, 40.0, 300.0, 700.0]
GRID = sorted([-m for m in MAGNITUDES] + MAGNITUDES)


def sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def normal_cdf(x):
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def normal_pdf(x):
    return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


# name -> (the engine's op on a Tensor, the value, its derivative, the domain), both in mpmath
ELEMENTWISE = {
    "exp": (lambda t: t.exp(), mpmath.exp, mpmath.exp, lambda x: True),
    "log": (lambda t: t.log(), mpmath.log, lambda x: 1 / x, lambda x: x > 0),
    "log1p": (lambda t: t.log1p(), mpmath.log1p, lambda x: 1 / (1 + x), lambda x: x > -1),
    "sqrt": (lambda t: t.sqrt(), mpmath.sqrt, lambda x: 1 / (2 * mpmath.sqrt(x)), lambda x: x > 0),
    "abs": (lambda t: t.abs(), abs, lambda x: mpmath.sign(x), lambda x: x != 0),
    "neg": (lambda t: -t, lambda x: -x, lambda x: -1, lambda x: True),
    "relu": (lambda t: t.relu(), lambda x: max(x, 0), lambda x: 1 if x > 0 else 0, lambda x: x != 0),
    "sin": (lambda t: t.sin(), mpmath.sin, mpmath.cos, lambda x: True),
    "cos": (lambda t: t.cos(), mpmath.cos, lambda x: -mpmath.sin(x), lambda x: True),
    "tanh": (lambda t: t.tanh(), mpmath.tanh, lambda x: mpmath.sech(x) ** 2, lambda x: True),
    "sigmoid": (lambda t: t.sigmoid(), sigmoid, lambda x: sigmoid(x) * sigmoid(-x), lambda x: True),
    "logsigmoid": (F.logsigmoid, lambda x: -mpmath.log1p(mpmath.exp(-x)), lambda x: sigmoid(-x), lambda x: True),
    "softplus": (F.softplus, lambda x: mpmath.log1p(mpmath.exp(x)), sigmoid, lambda x: True),
    "tan": (lambda t: t.tan(), mpmath.tan, lambda x: mpmath.sec(x) ** 2, lambda x: True),
    "atan": (lambda t: t.atan(), mpmath.atan, lambda x: 1 / (1 + x * x), lambda x: True),
    "sinh": (lambda t: t.sinh(), mpmath.sinh, mpmath.cosh, lambda x: True),
    "cosh": (lambda t: t.cosh(), mpmath.cosh, mpmath.sinh, lambda x: True),
    "gelu": (F.gelu, lambda x: x * normal_cdf(x), lambda x: normal_cdf(x) + x * normal_pdf(x), lambda x: True),
    "silu": (F.silu, lambda x: x * sigmoid(x), lambda x: sigmoid(x) * (1 + x * sigmoid(-x)), lambda x: True),
    "elu": (F.elu, lambda x: x if x > 0 else mpmath.expm1(x), lambda x: 1 if x > 0 else mpmath.exp(x),
            lambda x: x != 0),
    "leaky_relu": (F.leaky_relu, lambda x: x if x > 0 else 0.01 * x, lambda x: 1 if x > 0 else mpmath.mpf("0.01"),
                   lambda x: x != 0),
    "hardtanh": (F.hardtanh, lambda x: min(max(x, -1), 1), lambda x: 1 if -1 < x < 1 else 0, lambda x: abs(x) != 1),
    "softsign": (F.softsign, lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2, lambda x: True),
    "log of sigmoid": (lambda t: t.sigmoid().log(), lambda x: -mpmath.log1p(mpmath.exp(-x)),
                       lambda x: sigmoid(-x), lambda x: x <= 1),   # see the module docstring
}
# Ops whose tolerance is scaled by the condition number (see the module docstring).
CONDITIONED = {"gelu"}
# Gradients that keep absolute, not relative, precision (see the module docstring).
ABSOLUTE_GRADIENTS = {"tanh"}


def close(got, reference, ulps=ULPS):
    """|got - reference| within ``ulps`` float64 spacings at the reference (subnormal spacing below TINY)."""
    want = float(reference)
    if not np.isfinite(want):
        return got == want
    step = np.spacing(abs(want)) if abs(want) >= TINY else np.spacing(0.0)
    return abs(got - want) <= ulps * step


def value_and_gradient(op, x):
    t = tg.Tensor(np.array([x]), requires_grad=True)
    y = op(t)
    y.sum().backward()
    return float(y.data[0]), float(t.grad[0])


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_values_and_gradients_to_a_few_ulps(name):
    op, value, derivative, domain = ELEMENTWISE[name]
    failures = []
    for x in GRID:
        if not domain(mpmath.mpf(x)):
            continue
        got_value, got_gradient = value_and_gradient(op, x)
        exact_value, exact_gradient = value(mpmath.mpf(x)), derivative(mpmath.mpf(x))
        kappa = 1
        if name in CONDITIONED and exact_value != 0:
            kappa = max(1, float(abs(mpmath.mpf(x) * derivative(mpmath.mpf(x)) / exact_value)))
        if not close(got_value, exact_value, ULPS * kappa):
            failures.append(f"{name}({x}) = {got_value!r}, exact {float(exact_value)!r}")
        if name in ABSOLUTE_GRADIENTS:
            if abs(got_gradient - float(exact_gradient)) > 2 * np.finfo(np.float64).eps:
                failures.append(f"{name}'({x}) = {got_gradient!r}, exact {float(exact_gradient)!r}")
        elif not close(got_gradient, exact_gradient):
            failures.append(f"{name}'({x}) = {got_gradient!r}, exact {float(exact_gradient)!r}")
    assert not failures, "\n".join(failures)


def test_the_issues_examples():
    """log(sigmoid(-40)) is -40 with gradient 1, as in PyTorch; softplus'(-300) is 5.1e-131, not 0."""
    for op in (lambda t: t.sigmoid().log(), F.logsigmoid):
        value, gradient = value_and_gradient(op, -40.0)
        assert value == pytest.approx(-40.0, rel=1e-15) and gradient == pytest.approx(1.0, rel=1e-15)
    value, gradient = value_and_gradient(F.softplus, -300.0)
    assert gradient == pytest.approx(5.148200222412013e-131, rel=1e-14)


def test_binary_cross_entropy_with_logits_keeps_the_cost_of_a_confident_answer():
    """t softplus(-x) + (1 - t) softplus(x): a right answer at margin 50 costs 1.9e-22, a wrong one 50."""
    for x, t in [(50.0, 1.0), (-50.0, 0.0), (50.0, 0.0), (-700.0, 1.0), (1e-8, 0.5)]:
        logits = tg.Tensor(np.array([x]), requires_grad=True)
        cost = F.binary_cross_entropy_with_logits(logits, tg.Tensor(np.array([t])), reduction="sum")
        cost.backward()
        exact = t * mpmath.log1p(mpmath.exp(-x)) + (1 - t) * mpmath.log1p(mpmath.exp(x))
        assert close(float(cost.data), exact), (x, t, float(cost.data), float(exact))
        assert close(float(logits.grad[0]), sigmoid(mpmath.mpf(x)) - t) or \
            abs(float(logits.grad[0]) - float(sigmoid(mpmath.mpf(x)) - t)) <= np.finfo(np.float64).eps


# ------------------------------------------------------------------ the softmax family

ROWS = [[0.0, -50.0], [0.0, -700.0], [1e-300, 0.0, -1e-300], [300.0, -300.0, 0.0], [700.0, 699.0, -700.0],
        [-700.0, -701.0], [1.0, 2.0, 3.0, 4.0], [40.0, 40.0, -40.0]]


def mp_log_softmax(row):
    """Exact log-probabilities and log-sum-exp; log1p of the terms besides the max keeps e^-700."""
    row = [mpmath.mpf(v) for v in row]
    top = max(row)
    others = list(row)
    others.remove(top)
    rest = mpmath.log1p(mpmath.fsum(mpmath.exp(v - top) for v in others))
    return [(v - top) - rest for v in row], top + rest


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_log_softmax_softmax_and_logsumexp_to_a_few_ulps(row):
    log_probs, total = mp_log_softmax(row)
    probs = [mpmath.exp(v) for v in log_probs]
    weights = np.linspace(-1.0, 2.0, len(row))   # the gradient of sum(w * out), a generic direction
    for name, op, exact in [("log_softmax", F.log_softmax, log_probs), ("softmax", F.softmax, probs)]:
        x = tg.Tensor(np.array(row), requires_grad=True)
        y = op(x)
        (y * weights).sum().backward()
        for got, want in zip(y.data, exact):
            assert close(got, want), f"{name}({row}) = {y.data}, exact {[float(v) for v in exact]}"
        # d/dx_j sum_i w_i log p_i = w_j - p_j sum w;  d/dx_j sum_i w_i p_i = p_j (w_j - sum_i w_i p_i)
        if name == "log_softmax":
            exact_grad = [w - p * mpmath.fsum(weights) for w, p in zip(weights, probs)]
        else:
            mean_w = mpmath.fsum(w * p for w, p in zip(weights, probs))
            exact_grad = [p * (w - mean_w) for w, p in zip(weights, probs)]
        for got, want in zip(x.grad, exact_grad):
            # a gradient entry that is a difference of O(1) terms is exact only to O(1) ulps
            assert close(got, want) or abs(got - float(want)) <= ULPS * np.finfo(np.float64).eps, \
                f"d {name}({row}) = {x.grad}, exact {[float(v) for v in exact_grad]}"
    x = tg.Tensor(np.array(row), requires_grad=True)
    y = F.logsumexp(x, axis=-1)
    y.backward()
    assert close(float(y.data), total), f"logsumexp({row}) = {y.data}, exact {float(total)}"
    for got, want in zip(x.grad, probs):
        assert close(got, want), f"d logsumexp({row}) = {x.grad}, exact {[float(p) for p in probs]}"


def test_logsumexp_of_a_tiny_sum_keeps_its_precision_and_accepts_a_list_of_axes():
    x = tg.Tensor(np.array([[0.0, -50.0], [-50.0, -60.0]]), requires_grad=True)
    assert close(float(F.logsumexp(x[0], axis=0).data), mpmath.log1p(mpmath.exp(-50)))
    total = F.logsumexp(x, axis=[0, 1])
    total.backward()
    exact = mpmath.log(1 + 2 * mpmath.exp(-50) + mpmath.exp(-60))
    assert total.shape == () and close(float(total.data), exact)
    assert np.isclose(x.grad.sum(), 1.0, rtol=1e-15, atol=0)
    keep = F.logsumexp(tg.Tensor(np.zeros((2, 3, 4))), axis=(0, 2), keepdims=True)
    assert keep.shape == (1, 3, 1) and np.allclose(keep.data, np.log(8))
