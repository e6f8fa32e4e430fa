"""micrograd's engine tests, re-expressed for tinygrad_ste.

micrograd (Karpathy) checks its scalar engine on two small expressions against PyTorch.
Here the same kind of expressions run on 0-d Tensors, and the expected values are written
out in closed form (derived by hand below, and cross-checked once against PyTorch in
float64), so the tests need no PyTorch.  A few PyTorch conventions at kinks the
expressions touch are checked too.
"""
import numpy as np
import pytest

from tinygrad_ste import Tensor


def scalar(value):
    return Tensor(value, requires_grad=True)


def test_sanity_check():
    # With x = -4: z = 3x + 2 = -10 < 0, so relu(z) = 0 and relu(z^2) = z^2 near x, and
    #   y = z^2 + (z x) + (z x) x = (3x + 2)^2 + (3x^2 + 2x)(1 + x) = 100 + 40 * (-3) = -20,
    #   dy/dx = 6 (3x + 2) + (6x + 2)(1 + x) + (3x^2 + 2x) = -60 + 66 + 40 = 46.
    x = scalar(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.item() == -20.0
    assert x.grad == 46.0


def test_more_ops():
    # With a = -4, b = 2 the relus are: relu(a + b) = relu(-2) = 0 and relu(b - a) = b - a = 6, so
    #   c = 3a + 4b + 3 = -1,   d = 12 (a b + b^3) + (b - a) = 6,   e = c - d = -7,   f = e^2 = 49,
    #   g = f / 2 + 10 / f = 24.5 + 10/49,
    #   dg/de = (1/2 - 10/f^2) 2e,  de/da = 3 - (12 b - 1) = -20,  de/db = 4 - (12 (a + 3 b^2) + 1) = -93.
    a, b = scalar(-4.0), scalar(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1          # Tensor has no in-place ops: += rebinds c to a new node, as in micrograd
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    dg_de = (0.5 - 10 / 49 ** 2) * 2 * (-7)
    assert g.item() == pytest.approx(24.5 + 10 / 49, rel=1e-12)
    assert a.grad == pytest.approx(dg_de * -20, rel=1e-12)    # 138.8338...
    assert b.grad == pytest.approx(dg_de * -93, rel=1e-12)    # 645.5773...


def test_values_agree_with_pytorch_to_the_printed_digits():
    """The closed forms above, as PyTorch float64 prints them (a guard against a slip in the algebra)."""
    assert 24.5 + 10 / 49 == pytest.approx(24.70408163265306, rel=1e-15)
    assert (0.5 - 10 / 49 ** 2) * 2 * (-7) * -20 == pytest.approx(138.83381924198252, rel=1e-15)
    assert (0.5 - 10 / 49 ** 2) * 2 * (-7) * -93 == pytest.approx(645.5772594752186, rel=1e-15)


def test_the_expressions_broadcast_elementwise():
    """The same sanity expression on a vector gives, element by element, the scalar results."""
    x = Tensor([-4.0, 0.5, 3.0], requires_grad=True)
    z = 2 * x + 2 + x
    y = (z * z).relu() + (z.relu() + z * x) * (1 + x)
    y.sum().backward()
    for i, value in enumerate([-4.0, 0.5, 3.0]):
        xi = scalar(value)
        zi = 2 * xi + 2 + xi
        yi = (zi * zi).relu() + (zi.relu() + zi * xi) * (1 + xi)
        yi.backward()
        assert y.data[i] == pytest.approx(yi.item()) and x.grad[i] == pytest.approx(xi.grad)


@pytest.mark.parametrize("op, expected", [
    (lambda x: x.relu(), 0.0),                   # torch.relu: gradient 0 at 0
    (lambda x: x.abs(), 0.0),                    # torch.abs: sign(0) = 0
    (lambda x: x.clip(0.0, 1.0), 1.0),           # torch.clamp: the bounds count as inside
    (lambda x: x.clip(-1.0, 0.0), 1.0),
])
def test_kinks_follow_pytorch(op, expected):
    x = scalar(0.0)
    op(x).backward()
    assert x.grad == expected


def test_powers_at_zero_follow_pytorch():
    """micrograd's ** takes constant exponents; at base 0 PyTorch defines every gradient as 0."""
    x = scalar(0.0)
    (x ** 0).backward()          # d x^0/dx = 0 * x^-1: 0, not NaN
    assert x.grad == 0.0
    base, exponent = scalar(0.0), scalar(2.0)
    (base ** exponent).backward()   # d 0^b/db = 0^b ln 0: 0 for b > 0, not NaN
    assert base.grad == 0.0 and exponent.grad == 0.0


def test_a_value_used_many_times_accumulates():
    """micrograd's classic bug: a = x + x must give da/dx = 2, not 1."""
    x = scalar(3.0)
    (x + x).backward()
    assert x.grad == 2.0
    x.grad = None
    y = x * x * x     # y = x^3, x used three times in two ops
    y.backward()
    np.testing.assert_allclose(x.grad, 27.0)
