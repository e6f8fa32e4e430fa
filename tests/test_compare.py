"""compare.py: paired standard errors by hand, the combination across seeds, and the wording rules."""
import math

import numpy as np
import pytest

from tinygrad_ste.compare import CLEARLY, across_seeds, paired


def test_paired_standard_error_is_that_of_the_per_item_differences():
    a = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    b = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    d = a - b                                  # 0, 0, 1, 0, -1: mean 0, sample variance 0.5
    result = paired(a, b)
    assert result.mean == pytest.approx(0.0)
    assert result.se == pytest.approx(math.sqrt(0.5 / 5))
    assert result.se == pytest.approx(d.std(ddof=1) / math.sqrt(5))
    assert (result.n_items, result.n_seeds) == (5, 1)


def test_pairing_removes_the_item_spread_that_unpaired_errors_count():
    rng = np.random.default_rng(0)
    difficulty = rng.normal(0, 1, 400)              # shared by both models: cancels when paired
    a = difficulty + 0.1 + rng.normal(0, 0.05, 400)
    b = difficulty + rng.normal(0, 0.05, 400)
    result = paired(a, b)
    unpaired = math.sqrt(a.var(ddof=1) / 400 + b.var(ddof=1) / 400)
    assert result.se < unpaired / 5
    assert result.is_clearly("higher") and not result.is_clearly("lower")


def test_seeds_combine_item_and_seed_variation_as_the_docstring_states():
    d = np.array([[1.0, 2.0, 3.0],
                  [2.0, 2.0, 5.0]])              # seeds x items
    result = paired(d, np.zeros_like(d))
    item_means, seed_means = d.mean(axis=0), d.mean(axis=1)      # [1.5, 2, 4] and [2, 3]
    by_hand = np.var([1.5, 2.0, 4.0], ddof=1) / 3 + np.var([2.0, 3.0], ddof=1) / 2
    assert np.allclose(item_means, [1.5, 2, 4]) and np.allclose(seed_means, [2, 3])
    assert result.se == pytest.approx(math.sqrt(by_hand))
    assert result.mean == pytest.approx(2.5)
    assert (result.n_items, result.n_seeds) == (3, 2)


def test_across_seeds_pairs_by_seed():
    result = across_seeds([0.30, 0.32, 0.31], [0.28, 0.29, 0.30])
    d = np.array([0.02, 0.03, 0.01])
    assert result.mean == pytest.approx(0.02)
    assert result.se == pytest.approx(d.std(ddof=1) / math.sqrt(3))
    assert (result.n_items, result.n_seeds) == (1, 3)


def test_wording_thresholds():
    clear = paired(np.array([1.0, 1.2, 1.1, 0.9]), np.zeros(4))
    assert clear.z >= CLEARLY and clear.verdict("A", "B").startswith("A is clearly higher than B")
    noisy = paired(np.array([1.0, -1.0, 2.0, -1.5]), np.zeros(4))
    assert "not clear" in noisy.verdict("A", "B", negligible=0.01)   # a tie the noise cannot establish
    tight = paired(np.array([0.001, -0.001, 0.0005, -0.0004]), np.zeros(4))
    assert tight.is_tie(negligible=0.01)
    assert "cannot be told apart" in tight.verdict("A", "B", negligible=0.01)
    assert "not clear" in tight.verdict("A", "B")                     # no negligible difference named: no tie


def test_bad_input_names_the_function_and_the_shapes():
    with pytest.raises(ValueError, match=r"paired: .*\(3,\) and \(4,\)"):
        paired(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="across_seeds"):
        across_seeds([0.1], [0.2])
    with pytest.raises(ValueError, match="direction"):
        paired(np.ones(3), np.zeros(3)).is_clearly("up")
