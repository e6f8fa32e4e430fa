"""The learned prior over code grids: causal masking, bits, sampling and its temperature."""
import numpy as np
import pytest

from tinygrad_ste.data import load_digits
from tinygrad_ste.models.binary_network import train_binary_network
from tinygrad_ste.models.code_prior import (CodePrior, MaskedConv2d, independent_prior_bits, sample_quality,
                                            train_code_prior, uniform_bits)


def test_each_position_sees_only_earlier_positions():
    rng = np.random.default_rng(0)
    prior = CodePrior(5, (3, 4), hidden=8, rng=rng)
    codes = rng.integers(0, 5, (1, 3, 4))
    base = prior.logits(codes).data
    for i, j in np.ndindex(3, 4):
        changed = codes.copy()
        changed[0, i, j] = (codes[0, i, j] + 1) % 5
        moved = np.abs(prior.logits(changed).data - base).max(axis=-1)[0] > 1e-12
        flat = np.arange(12).reshape(3, 4)
        assert not moved[flat <= flat[i, j]].any(), f"a position at or before ({i}, {j}) saw its code"
        assert moved[flat > flat[i, j]].all()   # the masked kernel reaches every later position


def test_masked_conv_masks():
    a = MaskedConv2d(1, 1, (3, 3), mask="A", rng=np.random.default_rng(0))
    b = MaskedConv2d(1, 1, (3, 3), mask="B", rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a.mask, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(b.mask, [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="MaskedConv2d"):
        MaskedConv2d(1, 1, (2, 3))


def test_uniform_prior_costs_log2_k_bits_per_position():
    prior = CodePrior(8, (2, 3), hidden=4, rng=np.random.default_rng(0))
    prior.head[1].weight.data[...] = 0
    prior.head[1].bias.data[...] = 0   # equal logits: the uniform prior
    codes = np.random.default_rng(1).integers(0, 8, (7, 2, 3))
    np.testing.assert_allclose(prior.bits(codes), 6 * 3.0)
    assert uniform_bits(8, 6) == 18.0


def test_a_prior_that_memorises_one_grid_samples_it():
    grid = np.array([[3, 1], [0, 2]])
    result = train_code_prior(np.repeat(grid[None], 640, axis=0), grid[None], 4, hidden=16, epochs=30, lr=1e-2, seed=0)
    assert result.test_bits[0] < 0.005   # p(grid) > 0.996: 20 samples are all the grid with probability > 0.93
    samples = result.model.sample(20, rng=np.random.default_rng(0))
    assert (samples == grid).all()


def test_temperature_zero_is_the_argmax_and_small_temperatures_approach_it():
    rng = np.random.default_rng(2)
    prior = CodePrior(6, (2, 2), hidden=8, rng=rng)
    greedy = prior.sample(4, temperature=0)
    assert (greedy == greedy[0]).all()   # no randomness
    first_logits = prior.logits(np.zeros((1, 2, 2), dtype=int)).data[0, 0, 0]
    assert greedy[0, 0, 0] == first_logits.argmax()
    logits = prior.logits(greedy[:1]).data[0]
    for i, j in np.ndindex(2, 2):   # each code is the argmax given the codes before it
        assert greedy[0, i, j] == logits[i, j].argmax()
    np.testing.assert_array_equal(prior.sample(20, temperature=1e-6, rng=rng), np.repeat(greedy[:1], 20, axis=0))
    with pytest.raises(ValueError, match="temperature"):
        prior.sample(1, temperature=-1)


def test_samples_follow_the_model_at_temperature_one():
    prior = CodePrior(3, (1, 1), hidden=4, rng=np.random.default_rng(0))
    logits = prior.logits(np.zeros((1, 1, 1), dtype=int)).data[0, 0, 0]
    p = np.exp(logits) / np.exp(logits).sum()
    n = 20000
    counts = np.bincount(prior.sample(n, rng=np.random.default_rng(1)).ravel(), minlength=3)
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(counts / n - p) < 4 * se)


def test_conditional_prior_uses_its_condition():
    rng = np.random.default_rng(3)
    prior = CodePrior(4, (4, 4), hidden=8, condition_codes=3, condition_grid=(2, 2), rng=rng)
    codes = rng.integers(0, 4, (2, 4, 4))
    top = np.zeros((2, 2, 2), dtype=int)
    assert not np.allclose(prior.logits(codes, top).data, prior.logits(codes, top + 1).data)
    assert prior.sample(3, condition=top[:1].repeat(3, axis=0), rng=rng).shape == (3, 4, 4)
    with pytest.raises(ValueError, match="condition"):
        prior.logits(codes)


def test_independent_prior_bits_by_hand():
    train = np.array([[0, 1], [0, 0], [0, 1]])   # position 0: code 0 three times; position 1: 0 once, 1 twice
    bits = independent_prior_bits(train, np.array([[0, 1]]), 2)
    np.testing.assert_allclose(bits, -np.log2(4 / 5) - np.log2(3 / 5))


def test_sample_quality_of_real_test_digits():
    classifier = train_binary_network(rule=None, epochs=5, seed=0).model
    test_images = load_digits("test")[0]
    quality = sample_quality(test_images, classifier, load_digits("train")[0])
    assert quality["class_counts"].sum() == len(test_images)
    assert quality["total_variation"] < 0.1   # the test split has every digit about equally often
    assert quality["confidence"].mean() > 0.8
    assert quality["nearest_distance"].min() > 0   # no test digit is a training digit
