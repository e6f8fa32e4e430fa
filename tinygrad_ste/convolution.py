"""Convolution, pooling and upsampling on images: forward and exact backward side by side.

Images are (N, C, H, W): batch, channels, height, width, as in PyTorch.  Every op here
works on *windows*: the kH x kW patch of the input that output position (i, j) reads.  The
pools view them without copying (``numpy.lib.stride_tricks.sliding_window_view``: an array
(N, C, H_out, W_out, kH, kW)) and reduce over the last two axes; the convolution copies them
into one matrix, a row per output position ("im2col", see :class:`Conv2d`), and multiplies.
Every backward is the same story read the other way: a gradient per window element, added
back to the input position that element came from (:func:`_add_windows_back`).  Windows
overlap when the stride is smaller than the kernel, so an input pixel collects from several
windows.

Output size, for kernel k, stride s and zero padding p on a side of length L:

    L_out = floor((L + 2p - k) / s) + 1

``upsample`` (nearest neighbour) is here instead of a transposed convolution: an upsample
followed by an ordinary ``conv2d`` can express what a stride-2 transposed convolution does
for a decoder, its backward is a plain sum over each block, and it avoids the checkerboard
artefacts of transposed convolutions whose kernel is not a multiple of their stride (Odena,
Dumoulin and Olah 2016, "Deconvolution and Checkerboard Artifacts").  One op fewer to read.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .function import Function

__all__ = ["Conv2d", "AvgPool2d", "MaxPool2d", "Upsample", "output_size"]


def _pair(value, what):
    """An int or a pair of ints as a pair (kernel, stride and padding may differ along H and W)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{what} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def output_size(size, kernel, stride, padding):
    """floor((size + 2 padding - kernel) / stride) + 1: the length of one output side."""
    return (size + 2 * padding - kernel) // stride + 1


def _check_image(x):
    if x.ndim != 4:
        raise ValueError(f"expected an image batch (N, C, H, W), got shape {x.shape}")


def _windows(x, kernel, stride):
    """The pools' windows: x (N, C, H, W) viewed as (N, C, H_out, W_out, kH, kW), without a copy."""
    (kh, kw), (sh, sw) = kernel, stride
    if x.shape[2] < kh or x.shape[3] < kw:
        raise ValueError(f"the kernel {kh}x{kw} is larger than the input {x.shape[2]}x{x.shape[3]}")
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def _add_windows_back(grad_windows, input_shape, stride, padding):
    """The adjoint of reading windows: add each window element's gradient to the input pixel it came from.

    grad_windows (N, H_out, W_out, kH, kW, C) -> the gradient of the unpadded input (N, C, H, W).
    One strided slice per kernel position (kH * kW of them, a handful), so overlapping windows
    add up; the padding's share is cut off at the end (the padding is a constant).  The
    accumulation runs channels last, the layout of :class:`Conv2d`'s columns.
    """
    n, h_out, w_out, kh, kw, c = grad_windows.shape
    (sh, sw), (ph, pw), (h, w) = stride, padding, input_shape[2:]
    padded = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=grad_windows.dtype)
    for a in range(kh):
        for b in range(kw):
            padded[:, a:a + sh * h_out:sh, b:b + sw * w_out:sw] += grad_windows[:, :, :, a, b]
    return padded[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)


class Conv2d(Function):
    """Cross-correlation, as in PyTorch's ``conv2d`` (no flip of the kernel):

        y[n, o, i, j] = sum_{c, a, b} weight[o, c, a, b] * xp[n, c, s_h i + a, s_w j + b]

    where xp is x zero-padded by ``padding``.  Shapes: x (N, C_in, H, W), weight
    (C_out, C_in, kH, kW) (PyTorch's layout) -> y (N, C_out, H_out, W_out), H_out =
    floor((H + 2 p_h - kH) / s_h) + 1 and the same for W.  A bias is added by
    :func:`tinygrad_ste.functional.conv2d`, outside this op.

    Backward, with g = dL/dy (N, C_out, H_out, W_out) and X the windows of xp
    (N, C_in, H_out, W_out, kH, kW):

        dL/dweight[o, c, a, b] = sum_{n, i, j} g[n, o, i, j] X[n, c, i, j, a, b]
        dL/dX[n, c, i, j, a, b] = sum_o g[n, o, i, j] weight[o, c, a, b]

    and dL/dx adds each dL/dX entry to the pixel of x that window element read (pixels of
    the padding are dropped).  Both are the forward's own product read the other way.

    How: the windows are copied into one matrix ("im2col"), a row per output position and a
    column per (kernel row a, kernel column b, channel c), so that the forward is one matrix
    product and each gradient another.  The input is padded with its channels last,
    (N, H, W, C), viewed as windows without copying, and copied into the matrix once; the
    input's gradient is added back one kernel position at a time (:func:`_add_windows_back`).
    Channels last keeps the copies' innermost runs C numbers long: with the windows'
    kernel rows innermost (3 numbers) both directions took about twice as long.
    """
    @staticmethod
    def forward(ctx, x, weight, stride=1, padding=0):
        _check_image(x)
        if weight.ndim != 4 or weight.shape[1] != x.shape[1]:
            raise ValueError(f"weight must be (C_out, C_in, kH, kW) with C_in = {x.shape[1]} (the input's channels), "
                             f"got weight {weight.shape} for input {x.shape}")
        stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
        if min(stride) < 1 or min(padding) < 0:
            raise ValueError(f"stride must be >= 1 and padding >= 0, got stride {stride}, padding {padding}")
        (n, c, h, w), (c_out, _, kh, kw), (sh, sw), (ph, pw) = x.shape, weight.shape, stride, padding
        h_out, w_out = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
        if h_out < 1 or w_out < 1:
            raise ValueError(f"the kernel {kh}x{kw} is larger than the padded input {h + 2 * ph}x{w + 2 * pw}")
        padded = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=np.result_type(x, weight))   # channels last
        padded[:, ph:ph + h, pw:pw + w] = x.transpose(0, 2, 3, 1)
        windows = sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]   # (N, H_out, W_out, C, kH, kW)
        columns = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h_out * w_out, kh * kw * c)   # the one copy
        kernel = weight.transpose(0, 2, 3, 1).reshape(c_out, kh * kw * c)      # columns in the same order
        ctx.save_for_backward(columns, kernel)
        ctx.input_shape, ctx.weight_shape, ctx.stride, ctx.padding = x.shape, weight.shape, stride, padding
        y = columns @ kernel.T                                                  # (N H_out W_out, C_out)
        return y.reshape(n, h_out, w_out, c_out).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, g):
        columns, kernel = ctx.saved_tensors
        need_x, need_weight = ctx.needs_input_grad
        n, c_out, h_out, w_out = g.shape
        _, c, kh, kw = ctx.weight_shape
        g_rows = g.transpose(0, 2, 3, 1).reshape(n * h_out * w_out, c_out)   # the rows of the forward's product
        grad_x = grad_weight = None
        if need_x:
            grad_columns = (g_rows @ kernel).reshape(n, h_out, w_out, kh, kw, c)   # dL/dX, one row per window
            grad_x = _add_windows_back(grad_columns, ctx.input_shape, ctx.stride, ctx.padding)
        if need_weight:
            grad_weight = (g_rows.T @ columns).reshape(c_out, kh, kw, c).transpose(0, 3, 1, 2)
        return grad_x, grad_weight


def _pool_geometry(kernel_size, stride):
    """(kernel, stride) of a pooling op as (h, w) pairs; the stride defaults to the kernel."""
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError(f"kernel_size and stride must be >= 1, got {kernel} and {stride}")
    return kernel, stride


class AvgPool2d(Function):
    """Mean over each kernel window, channel by channel (no padding):

        y[n, c, i, j] = (1 / (kH kW)) sum_{a, b} x[n, c, s_h i + a, s_w j + b]

    x (N, C, H, W) -> y (N, C, H_out, W_out); ``stride`` defaults to the kernel (windows
    side by side).  Backward: every element of a window receives g[n, c, i, j] / (kH kW),
    added up where windows overlap.
    """
    name = "avg_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None):
        _check_image(x)
        kernel, stride = _pool_geometry(kernel_size, stride)
        ctx.input_shape, ctx.kernel, ctx.stride = x.shape, kernel, stride
        return _windows(x, kernel, stride).mean(axis=(-2, -1))

    @staticmethod
    def backward(ctx, g):
        kh, kw = ctx.kernel
        grad_windows = np.broadcast_to((g / (kh * kw))[..., None, None], g.shape + (kh, kw))
        return _add_windows_back(grad_windows.transpose(0, 2, 3, 4, 5, 1), ctx.input_shape, ctx.stride, (0, 0))


class MaxPool2d(Function):
    """Max over each kernel window, channel by channel (no padding):

        y[n, c, i, j] = max_{a, b} x[n, c, s_h i + a, s_w j + b]

    x (N, C, H, W) -> y (N, C, H_out, W_out); ``stride`` defaults to the kernel.
    Backward: g[n, c, i, j] goes to the element of the window that is the max; **ties
    share it equally**, as in :class:`~tinygrad_ste.ops.Max` (so each window passes on
    exactly g whichever element NumPy would call the argmax; PyTorch instead gives all of
    it to one).  Overlapping windows add their shares.
    """
    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None):
        _check_image(x)
        kernel, stride = _pool_geometry(kernel_size, stride)
        windows = _windows(x, kernel, stride)
        y = windows.max(axis=(-2, -1))
        ctx.save_for_backward(windows, y)
        ctx.input_shape, ctx.stride = x.shape, stride
        return y

    @staticmethod
    def backward(ctx, g):
        windows, y = ctx.saved_tensors
        is_max = windows == y[..., None, None]
        share = is_max / is_max.sum(axis=(-2, -1), keepdims=True)
        return _add_windows_back((g[..., None, None] * share).transpose(0, 2, 3, 4, 5, 1), ctx.input_shape,
                                 ctx.stride, (0, 0))


class Upsample(Function):
    """Nearest-neighbour upsampling by an integer ``scale_factor`` s: each pixel becomes an s x s block.

        y[n, c, i, j] = x[n, c, floor(i / s), floor(j / s)]

    x (N, C, H, W) -> y (N, C, s H, s W).  Backward: each input pixel was copied s * s
    times, so it receives the sum of g over its block.
    """
    @staticmethod
    def forward(ctx, x, scale_factor=2):
        _check_image(x)
        scale = _pair(scale_factor, "scale_factor")
        if min(scale) < 1:
            raise ValueError(f"scale_factor must be >= 1, got {scale}")
        ctx.scale = scale
        return x.repeat(scale[0], axis=2).repeat(scale[1], axis=3)

    @staticmethod
    def backward(ctx, g):
        (sh, sw), (n, c, h, w) = ctx.scale, g.shape
        return g.reshape(n, c, h // sh, sh, w // sw, sw).sum(axis=(3, 5))
