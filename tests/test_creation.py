"""tg.tensor, zeros, ones, full, empty, *_like, arange, linspace, eye, rand, randn, randint, randperm."""
import numpy as np
import pytest

import tinygrad_ste as tg


@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.empty, tg.rand, tg.randn])
def test_sizes_as_arguments_or_one_tuple(make):
    assert make(2, 3).shape == make((2, 3)).shape == make([2, 3]).shape == (2, 3)
    assert make(()).shape == () and make(0).shape == (0,)
    assert make(2, dtype=tg.float32).dtype == np.float32 and make(2).dtype == np.float64
    assert make(2, requires_grad=True).requires_grad and make(2, requires_grad=True).is_leaf


def test_values_and_dtypes():
    np.testing.assert_array_equal(tg.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(tg.ones(3, dtype=tg.int64).numpy(), [1, 1, 1])
    np.testing.assert_array_equal(tg.empty(2).numpy(), [0.0, 0.0])   # zeros, not leftover memory
    assert tg.full((2,), 7).dtype == np.int64 and tg.full((2,), 0.5).dtype == np.float64
    assert tg.full((2,), True).dtype == np.bool_ and tg.full((2,), 7, dtype=tg.float32).dtype == np.float32
    np.testing.assert_array_equal(tg.arange(4).numpy(), [0, 1, 2, 3])
    assert tg.arange(4).dtype == np.int64 and tg.arange(0, 1, 0.25).dtype == np.float64
    np.testing.assert_array_equal(tg.arange(1, 7, 2).numpy(), [1, 3, 5])
    np.testing.assert_allclose(tg.linspace(-1, 1, 5).numpy(), [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_array_equal(tg.eye(2, 3).numpy(), np.eye(2, 3))
    np.testing.assert_array_equal(tg.tensor([[1, 2]]).numpy(), [[1, 2]])
    assert tg.tensor(True).dtype == np.bool_ and tg.tensor([1, 2], dtype=tg.float32).dtype == np.float32
    assert tg.tensor([1.0], requires_grad=True).requires_grad
    source = np.arange(3.0)
    made = tg.from_numpy(source)
    source[0] = 9
    assert made.numpy()[0] == 0, "copied: PyTorch's from_numpy would share the memory"


def test_like_forms_keep_shape_and_dtype():
    x = tg.tensor(np.ones((2, 3), dtype=np.float32))
    for made in (tg.zeros_like(x), tg.ones_like(x), tg.empty_like(x), tg.full_like(x, 2), tg.rand_like(x),
                 tg.randn_like(x)):
        assert made.shape == (2, 3) and made.dtype == np.float32
    assert tg.zeros_like(x, dtype=tg.float64).dtype == np.float64
    np.testing.assert_array_equal(tg.full_like(x, 2).numpy(), np.full((2, 3), 2.0))


def test_random_draws_come_from_the_generator_manual_seed_resets():
    tg.manual_seed(5)
    draws = [tg.rand(3).numpy(), tg.randn(2, 2).numpy(), tg.randint(0, 10, (4,)).numpy(), tg.randperm(6).numpy()]
    rng = np.random.default_rng(5)
    expected = [rng.random(3), rng.standard_normal((2, 2)), rng.integers(0, 10, 4), rng.permutation(6)]
    for got, want in zip(draws, expected):
        np.testing.assert_array_equal(got, want)
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(tg.randn(3, rng=rng).numpy(), np.random.default_rng(1).standard_normal(3))


def test_random_integers_and_permutations():
    tg.manual_seed(0)
    assert tg.randint(10, (3,)).shape == (3,) and tg.randint(10, (3,)).dtype == np.int64
    values = tg.randint(low=2, high=5, size=(1000,)).numpy()
    assert set(np.unique(values)) == {2, 3, 4}
    permutation = tg.randperm(50)
    assert permutation.dtype == np.int64 and sorted(permutation.tolist()) == list(range(50))
    assert tg.rand(2, dtype=tg.float32).dtype == np.float32


def test_bad_arguments_name_the_function():
    with pytest.raises(TypeError, match=r"zeros: sizes must be non-negative integers"):
        tg.zeros(2.5)
    with pytest.raises(TypeError, match=r"ones: sizes must be non-negative integers"):
        tg.ones(-1)
    with pytest.raises(TypeError, match=r"randn: .*dtype must be floating"):
        tg.randn(2, dtype=tg.int64)
    with pytest.raises(TypeError, match=r"randint: give the high end and the size"):
        tg.randint(5)
