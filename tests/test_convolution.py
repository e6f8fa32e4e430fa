"""Convolution, pooling and upsampling: gradchecked in float64 over random shapes, strides, padding
and batch sizes, and checked against direct loops that follow the docstrings' formulas."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_ste as tg
import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck, nn

settings.register_profile("convolution", max_examples=15, deadline=None)
settings.load_profile("convolution")


def leaf(rng, shape):
    return Tensor(rng.uniform(-1, 1, shape), requires_grad=True)


def conv2d_loops(x, weight, bias, stride, padding):
    """y[n, o, i, j] = bias[o] + sum_{c, a, b} weight[o, c, a, b] xp[n, c, s i + a, s j + b], one element at a time."""
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    xp[:, :, padding:padding + h, padding:padding + w] = x
    h_out, w_out = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    y = np.zeros((n, o, h_out, w_out))
    for b in range(n):
        for k in range(o):
            for i in range(h_out):
                for j in range(w_out):
                    patch = xp[b, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    y[b, k, i, j] = (patch * weight[k]).sum() + (0 if bias is None else bias[k])
    return y


def pool_loops(x, kernel, stride, reduce):
    n, c, h, w = x.shape
    h_out, w_out = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    y = np.zeros((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            y[:, :, i, j] = reduce(x[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel], axis=(2, 3))
    return y


@st.composite
def conv_case(draw):
    """A batch, channels, kernel, stride and padding whose output is at least 1 x 1."""
    kernel = draw(st.integers(1, 3))
    padding = draw(st.integers(0, kernel - 1))
    stride = draw(st.integers(1, 3))
    h = draw(st.integers(max(1, kernel - 2 * padding), 6))
    w = draw(st.integers(max(1, kernel - 2 * padding), 6))
    return dict(n=draw(st.integers(1, 3)), c_in=draw(st.integers(1, 3)), c_out=draw(st.integers(1, 3)),
                h=h, w=w, kernel=kernel, stride=stride, padding=padding, seed=draw(st.integers(0, 2**16)))


@given(case=conv_case(), with_bias=st.booleans())
def test_conv2d_matches_loops_and_gradcheck(case, with_bias):
    rng = np.random.default_rng(case["seed"])
    x = leaf(rng, (case["n"], case["c_in"], case["h"], case["w"]))
    weight = leaf(rng, (case["c_out"], case["c_in"], case["kernel"], case["kernel"]))
    bias = leaf(rng, (case["c_out"],)) if with_bias else None
    options = dict(stride=case["stride"], padding=case["padding"])
    expected = conv2d_loops(x.data, weight.data, None if bias is None else bias.data, **options)
    np.testing.assert_allclose(F.conv2d(x, weight, bias, **options).data, expected, atol=1e-12)
    inputs = [x, weight] + ([bias] if with_bias else [])
    assert gradcheck(lambda *t: F.conv2d(t[0], t[1], t[2] if with_bias else None, **options), inputs)


def test_conv2d_rectangular_kernel_stride_and_padding():
    rng = np.random.default_rng(3)
    x, weight = leaf(rng, (2, 2, 5, 7)), leaf(rng, (3, 2, 1, 3))
    y = F.conv2d(x, weight, stride=(2, 1), padding=(0, 1))
    assert y.shape == (2, 3, 3, 7)
    assert gradcheck(lambda a, b: F.conv2d(a, b, stride=(2, 1), padding=(0, 1)), [x, weight])


@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(2, 6), w=st.integers(2, 6),
       kernel=st.integers(1, 2), stride=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_pooling_matches_loops_and_gradcheck(n, c, h, w, kernel, stride, seed):
    x = leaf(np.random.default_rng(seed), (n, c, h, w))   # continuous values: no ties
    np.testing.assert_allclose(F.avg_pool2d(x, kernel, stride).data, pool_loops(x.data, kernel, stride, np.mean))
    np.testing.assert_allclose(F.max_pool2d(x, kernel, stride).data, pool_loops(x.data, kernel, stride, np.max))
    assert gradcheck(lambda t: F.avg_pool2d(t, kernel, stride), [x])
    assert gradcheck(lambda t: F.max_pool2d(t, kernel, stride), [x])


def test_pool_stride_defaults_to_the_kernel():
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).data[0, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_max_pool_ties_share_the_gradient_equally():
    x = Tensor(np.array([[[[1.0, 1.0], [0.0, 1.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_allclose(x.grad[0, 0], [[1 / 3, 1 / 3], [0, 1 / 3]])


@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4),
       scale=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_upsample_matches_loops_and_gradcheck(n, c, h, w, scale, seed):
    x = leaf(np.random.default_rng(seed), (n, c, h, w))
    y = F.upsample(x, scale).data
    for i in range(h * scale):
        for j in range(w * scale):
            np.testing.assert_array_equal(y[:, :, i, j], x.data[:, :, i // scale, j // scale])
    assert gradcheck(lambda t: F.upsample(t, scale), [x])


@pytest.mark.parametrize("call, words", [
    (lambda: F.conv2d(np.ones((2, 3, 8)), np.ones((4, 3, 3, 3))), ["conv2d", "(N, C, H, W)", "(2, 3, 8)"]),
    (lambda: F.conv2d(np.ones((2, 3, 8, 8)), np.ones((4, 2, 3, 3))), ["conv2d", "C_in = 3", "(4, 2, 3, 3)"]),
    (lambda: F.conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3))), ["conv2d", "larger than", "(1, 1, 2, 2)"]),
    (lambda: F.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=0), ["conv2d", "stride"]),
    (lambda: F.conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), bias=np.ones(3)), ["conv2d", "(2,)", "(3,)"]),
    (lambda: F.max_pool2d(np.ones((1, 4, 4)), 2), ["max_pool2d", "(1, 4, 4)"]),
    (lambda: F.avg_pool2d(np.ones((1, 1, 4, 4)), 5), ["avg_pool2d", "larger than"]),
    (lambda: F.upsample(np.ones((4, 4)), 2), ["upsample", "(4, 4)"]),
])
def test_bad_input_names_the_op_and_the_shapes(call, words):
    with pytest.raises(ValueError) as error:
        call()
    for word in words:
        assert word in str(error.value)


def test_conv2d_layer_is_seeded_and_checks_its_input():
    a = nn.Conv2d(2, 4, 3, padding=1, rng=np.random.default_rng(0))
    b = nn.Conv2d(2, 4, 3, padding=1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    tg.manual_seed(5)
    c = nn.Conv2d(2, 4, 3)
    tg.manual_seed(5)
    np.testing.assert_array_equal(c.weight.data, nn.Conv2d(2, 4, 3).weight.data)
    assert a.weight.shape == (4, 2, 3, 3) and np.abs(a.weight.data).max() <= 1 / np.sqrt(18)
    assert [name for name, _ in a.named_parameters()] == ["weight", "bias"]
    assert a(Tensor(np.ones((5, 2, 8, 8)))).shape == (5, 4, 8, 8)
    assert nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.Upsample(2))(
        Tensor(np.ones((1, 1, 8, 8)))).shape == (1, 2, 8, 8)
    with pytest.raises(ValueError, match=r"Conv2d\(2, 4.*\(5, 3, 8, 8\)"):
        a(Tensor(np.ones((5, 3, 8, 8))))
