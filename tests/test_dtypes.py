"""dtypes and the device under PyTorch's names; tg.cuda.is_available()."""
import numpy as np
import pytest

import tinygrad_ste as tg


def test_dtype_names_are_numpy_dtypes():
    assert tg.float32 == np.float32 and tg.float64 == np.float64 and tg.int64 == np.int64
    assert tg.int32 == np.int32 and tg.bool == np.bool_ and tg.float16 == np.float16
    assert (tg.float, tg.double, tg.half, tg.long, tg.int, tg.short) == (
        tg.float32, tg.float64, tg.float16, tg.int64, tg.int32, tg.int16)
    assert tg.tensor([1.0], dtype=tg.float32).dtype == tg.float32


@pytest.mark.parametrize("convert, dtype", [("float", np.float32), ("double", np.float64), ("half", np.float16),
                                            ("long", np.int64), ("int", np.int32), ("bool", np.bool_)])
def test_conversion_methods(convert, dtype):
    x = tg.tensor([0.0, 1.5, -2.0])
    y = getattr(x, convert)()
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), x.numpy().astype(dtype))


def test_to_takes_a_dtype_a_device_or_a_tensor():
    x = tg.tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.to(tg.device("cpu")) is x and x.to(tg.float64) is x
    assert x.to("cpu", tg.float32).dtype == tg.float32
    assert x.to(tg.zeros(1, dtype=tg.int64)).dtype == tg.int64
    assert x.to(dtype=tg.float32, device="cpu").dtype == tg.float32
    copy = x.to(tg.float64, copy=True)
    assert copy is not x and copy.data is not x.data


def test_gradients_flow_through_a_floating_conversion_only():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.float()
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])
    assert x.grad.dtype == np.float64
    assert not x.long().requires_grad and x.long().is_leaf
    assert tg.gradcheck(lambda t: t.to(tg.float64) * t.clone(), [tg.tensor([0.5, -1.5], requires_grad=True)])


def test_the_cpu_is_the_only_device():
    assert str(tg.device("cpu")) == "cpu" and tg.device("cpu") == "cpu" and tg.device("cpu:0") == tg.device("cpu")
    assert tg.zeros(2).device == tg.device("cpu")
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    for bad in ("cuda", "cuda:0", "mps"):
        with pytest.raises(ValueError, match="runs on the CPU only"):
            tg.device(bad)
        with pytest.raises(ValueError, match=r"zeros: .*CPU only"):
            tg.zeros(2, device=bad)
        with pytest.raises(ValueError, match=r"to: .*CPU only"):
            tg.ones(2).to(bad)
    with pytest.raises(ValueError, match=r"Linear.to: .*CPU only"):
        tg.nn.Linear(2, 2).to("cuda")


def test_a_dtype_that_is_not_a_number_type_is_a_type_error():
    with pytest.raises(TypeError, match="tensor: .*not a number type"):
        tg.tensor([1.0], dtype=object)
    with pytest.raises(TypeError, match="to: .*not a dtype"):
        tg.tensor([1.0]).to(3.5)
