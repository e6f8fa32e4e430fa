"""Exact gradients by enumeration, and the estimators measured against them."""
import numpy as np
import pytest

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.estimators import (DEFAULT_ESTIMATORS, all_outcomes, compare_estimators, demo_problems,
                                     estimate_gradient, exact_gradient, expected_cost, expected_estimate,
                                     normal_gradient_estimates, normal_variance_sweep, quadratic_normal_gradient,
                                     relaxed_bernoulli_expectation, relaxed_bernoulli_gradient, trace_variance)
from tinygrad_ste.learned_baseline import LearnedBaseline
from tinygrad_ste.stochastic import (BERNOULLI_ONLY, ESTIMATORS, EMABaseline, antithetic_loss, log_prob, reinforce_loss,
                                     sample_bernoulli, sample_categorical, vimco_loss)

# (kind, logits shape): Bernoulli and categorical problems of several sizes.
PROBLEMS = [("bernoulli", (2,)), ("bernoulli", (5,)), ("categorical", (3,)), ("categorical", (2, 4))]


def quadratic_cost(shape, seed):
    """c(b) = ||W vec(b) - y||^2 + v . vec(b): couples the variables; a Tensor op on any batch of samples."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    weights, target, linear = rng.normal(size=(size, 2)), rng.normal(size=2), rng.normal(size=size)

    def cost(b):
        flat = b.reshape(b.shape[0], size)
        error = flat @ weights - target
        return (error * error).sum(axis=1) + flat @ linear
    return cost


def expectation(cost_fn, logits, kind):
    """E_b[c(b)] in plain NumPy, from the enumeration, to check exact_gradient by central differences."""
    outcomes = all_outcomes(logits.shape, kind)
    if kind == "bernoulli":
        p = 1 / (1 + np.exp(-logits))
        probability = np.prod(np.where(outcomes == 1, p, 1 - p).reshape(len(outcomes), -1), axis=1)
    else:
        p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        probability = np.prod((outcomes * p).sum(axis=-1).reshape(len(outcomes), -1), axis=1)
    return float(probability @ cost_fn(Tensor(outcomes)).data)


# ------------------------------------------------------------------ enumeration and the exact gradient


@pytest.mark.parametrize("kind,shape", PROBLEMS)
def test_all_outcomes_are_distinct_valid_and_sum_to_probability_one(kind, shape):
    outcomes = all_outcomes(shape, kind)
    variables = int(np.prod(shape)) if kind == "bernoulli" else int(np.prod(shape[:-1]))
    assert len(outcomes) == (2 if kind == "bernoulli" else shape[-1]) ** variables
    assert len(np.unique(outcomes.reshape(len(outcomes), -1), axis=0)) == len(outcomes)
    if kind == "categorical":
        assert (outcomes.sum(axis=-1) == 1).all()
    logits = Tensor(np.random.default_rng(0).normal(size=shape))
    joint = log_prob(logits, Tensor(outcomes), kind).reshape(len(outcomes), -1).sum(axis=1)
    assert np.isclose(np.exp(joint.data).sum(), 1.0)


@pytest.mark.parametrize("kind,shape", PROBLEMS)
def test_exact_gradient_matches_central_differences_of_the_expectation(kind, shape):
    rng = np.random.default_rng(1)
    logits, cost_fn = rng.normal(size=shape), quadratic_cost(shape, 2)
    grad = exact_gradient(cost_fn, logits, kind)
    eps = 1e-6
    numerical = np.zeros(shape)
    for index in np.ndindex(*shape):
        up, down = logits.copy(), logits.copy()
        up[index] += eps
        down[index] -= eps
        numerical[index] = (expectation(cost_fn, up, kind) - expectation(cost_fn, down, kind)) / (2 * eps)
    assert grad.shape == shape and np.allclose(grad, numerical, atol=1e-6)


def test_exact_gradient_of_linear_costs_in_closed_form():
    rng = np.random.default_rng(3)
    theta, c = rng.normal(size=4), rng.normal(size=4)
    p = 1 / (1 + np.exp(-theta))
    # E[c . b] = c . sigmoid(theta)  ->  c * p * (1 - p)
    assert np.allclose(exact_gradient(lambda b: b @ c, theta, "bernoulli"), c * p * (1 - p))
    # E[c . b] = c . softmax(theta)  ->  p * (c - p . c)
    s = np.exp(theta) / np.exp(theta).sum()
    assert np.allclose(exact_gradient(lambda b: b @ c, theta, "categorical"), s * (c - s @ c))


def test_exact_gradient_accepts_numpy_costs_and_huge_logits():
    grad = exact_gradient(lambda b: b.data.sum(axis=1) ** 2, np.array([1e4, -1e4, 0.5]), "bernoulli")
    assert np.isfinite(grad).all()


def test_exact_gradient_bad_input():
    with pytest.raises(ValueError, match=r"exact_gradient: 2\^20 outcomes for bernoulli logits of shape \(20,\)"):
        exact_gradient(lambda b: b.sum(axis=1), np.zeros(20), "bernoulli")
    with pytest.raises(ValueError, match=r"exact_gradient: 10\^6 outcomes"):
        exact_gradient(lambda b: b.sum(axis=(1, 2)), np.zeros((6, 10)), "categorical")
    with pytest.raises(ValueError, match="exact_gradient: unknown kind 'poisson'"):
        exact_gradient(lambda b: b.sum(axis=1), np.zeros(2), "poisson")
    with pytest.raises(ValueError, match=r"exact_gradient: cost_fn must return one cost per sample, shape \(4,\)"):
        exact_gradient(lambda b: b, np.zeros(2), "bernoulli")
    with pytest.raises(ValueError, match="exact_gradient: categorical logits need a class axis"):
        exact_gradient(lambda b: b, 0.0, "categorical")


# ------------------------------------------------------------------ REINFORCE is unbiased


def assert_unbiased(estimates, exact, label):
    """The mean of the estimates lies within 4 standard errors of the exact gradient, per coordinate
    (plus float64 rounding, for estimators that happen to have no variance at all).

    The tests below make their estimates with ``estimate_gradient(..., n_estimates=N)`` where they can:
    N copies of the logits in one graph, each with its own noise and its own costs, so N independent
    estimates distributed exactly as N separate calls (with ``n_estimates=1`` it is the very same draw).
    A baseline kept across the estimates (EMA, learned) is the exception: one call per estimate."""
    mean = estimates.mean(axis=0)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    excess = np.abs(mean - exact) - 4 * standard_error - 1e-12 * (1 + np.abs(exact))
    assert (excess <= 0).all(), (f"{label}: mean {mean.ravel()} vs exact {exact.ravel()}, "
                                 f"standard errors {standard_error.ravel()}")


@pytest.mark.parametrize("kind,shape", PROBLEMS)
@pytest.mark.parametrize("baseline", [None, "ema", "leave_one_out"])
def test_reinforce_is_unbiased(kind, shape, baseline):
    rng = np.random.default_rng(4)
    logits, cost_fn = rng.normal(size=shape), quadratic_cost(shape, 5)
    exact = exact_gradient(cost_fn, logits, kind)
    if baseline == "ema":
        # An EMA baseline is kept across the estimates, as across training steps: it learns the
        # mean cost, yet each batch only ever sees the average of earlier batches.
        kept = EMABaseline(decay=0.8)
        estimates = np.stack([estimate_gradient(cost_fn, logits, "reinforce", 3, rng, kind, baseline=kept)
                              for _ in range(1500)])
    else:
        estimates = estimate_gradient(cost_fn, logits, "reinforce", 3, rng, kind, baseline=baseline, n_estimates=1500)
    assert_unbiased(estimates, exact, f"reinforce, baseline={baseline}")


def test_the_unbiasedness_check_catches_a_biased_estimator():
    """The same 4-SE check rejects straight-through, which is biased on this problem."""
    rng = np.random.default_rng(6)
    logits, cost_fn = rng.normal(size=(5,)), quadratic_cost((5,), 5)
    estimates = estimate_gradient(cost_fn, logits, "straight_through", 3, rng, "bernoulli", n_estimates=1500)
    with pytest.raises(AssertionError):
        assert_unbiased(estimates, exact_gradient(cost_fn, logits, "bernoulli"), "straight_through")


def test_a_baseline_reduces_the_variance():
    rng = np.random.default_rng(7)
    cost_fn, logits = quadratic_cost((4,), 8), rng.normal(size=4)
    # A cost far from zero makes the plain score function noisy; a baseline removes the offset.
    shifted = lambda b: cost_fn(b) + 100.0  # noqa: E731
    variance = {baseline: estimate_gradient(shifted, logits, "reinforce", 4, rng, "bernoulli", baseline=baseline,
                                            n_estimates=400).var(axis=0).sum()
                for baseline in [None, "leave_one_out"]}
    assert variance["leave_one_out"] < variance[None] / 10


# ------------------------------------------------------------------ the relaxed estimators


def test_gumbel_softmax_bias_shrinks_as_tau_decreases():
    rng = np.random.default_rng(9)
    logits, cost_fn = rng.normal(size=(2, 4)), quadratic_cost((2, 4), 10)
    exact = exact_gradient(cost_fn, logits, "categorical")
    biases = []
    for tau in (2.0, 1.0, 0.5):
        estimates = estimate_gradient(cost_fn, logits, "gumbel", 2000, rng, "categorical", tau=tau,
                                      n_estimates=40).reshape(40, -1)
        bias = np.linalg.norm(estimates.mean(axis=0) - exact.ravel())
        # Standard error of the bias norm: the spread of the mean along the bias direction, at most.
        standard_error = np.sqrt(estimates.var(axis=0, ddof=1).sum() / len(estimates))
        biases.append((tau, bias, standard_error))
    for (tau_hi, bias_hi, se_hi), (tau_lo, bias_lo, se_lo) in zip(biases, biases[1:]):
        assert bias_hi - bias_lo > 4 * (se_hi + se_lo), biases


def linear_cost(shape, seed):
    """c(b) = v . vec(b)."""
    linear = np.random.default_rng(seed).normal(size=int(np.prod(shape)))
    return lambda b: b.reshape(b.shape[0], linear.size) @ linear


@pytest.mark.parametrize("kind,shape", PROBLEMS)
def test_straight_through_and_reinmax_orders_of_accuracy(kind, shape):
    """Liu et al. 2023: straight-through is forward Euler, exact in expectation for a linear cost;
    ReinMax is Heun's method, exact in expectation for a quadratic one, where straight-through is not."""
    rng = np.random.default_rng(11)
    logits = rng.normal(size=shape)
    for estimator, cost_fn in [("straight_through", linear_cost(shape, 12)), ("reinmax", linear_cost(shape, 12)),
                               ("reinmax", quadratic_cost(shape, 13))]:
        estimates = estimate_gradient(cost_fn, logits, estimator, 3, rng, kind, n_estimates=500)
        assert_unbiased(estimates, exact_gradient(cost_fn, logits, kind), estimator)


# ------------------------------------------------------------------ reproducibility, bad input, the table


@pytest.mark.parametrize("estimator,options", [("gumbel", {"tau": 0.5}), ("reinmax", {}), ("straight_through", {}),
                                               ("straight_through_gumbel", {}),
                                               ("reinforce", {"baseline": "leave_one_out"})])
def test_fixed_seeds_reproduce_estimates_exactly(estimator, options):
    cost_fn, logits = quadratic_cost((3, 4), 12), np.random.default_rng(12).normal(size=(3, 4))
    first, second, other = (estimate_gradient(cost_fn, logits, estimator, 4, np.random.default_rng(seed),
                                              "categorical", **options) for seed in (1, 1, 2))
    assert np.array_equal(first, second) and not np.array_equal(first, other)


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_estimates_stay_finite_for_huge_logits(kind):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4]])
    cost_fn = quadratic_cost((2, 3), 13)
    for estimator in DEFAULT_ESTIMATORS:
        name, options = (estimator, {}) if isinstance(estimator, str) else estimator
        if options.get("baseline") == "ema":   # a one-shot call takes the object, not the string
            options = dict(options, baseline=EMABaseline())
        assert np.isfinite(estimate_gradient(cost_fn, logits, name, 4, np.random.default_rng(0), kind, **options)).all()


EXTREME_LOGITS = {"bernoulli": np.array([50.0, -50.0, 0.5]),
                  "categorical": np.array([[50.0, -50.0, 0.0], [-50.0, 0.3, 50.0]])}


@pytest.mark.parametrize("kind,estimator", [(kind, estimator) for kind in ("bernoulli", "categorical")
                                            for estimator in ESTIMATORS
                                            if kind == "bernoulli" or estimator not in BERNOULLI_ONLY])
def test_every_estimator_stays_finite_at_logits_of_plus_minus_50(kind, estimator):
    """Samples, their values and every gradient are finite where the probabilities are 1 - 2e-22."""
    sampler = sample_bernoulli if kind == "bernoulli" else sample_categorical
    samples = sampler(EXTREME_LOGITS[kind], estimator, np.random.default_rng(0), n_samples=60)
    assert np.isfinite(samples.data).all()
    cost_fn = quadratic_cost(EXTREME_LOGITS[kind].shape, 3)
    assert np.isfinite(estimate_gradient(cost_fn, EXTREME_LOGITS[kind], estimator, 60, np.random.default_rng(0),
                                         kind)).all()


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
@pytest.mark.parametrize("baseline", [None, "leave_one_out"])
def test_reinforce_is_still_unbiased_at_logits_of_plus_minus_50(kind, baseline):
    """The score b - p of a near-certain variable is +-2e-22 or about 1: the exact gradient of
    those coordinates is tiny but finite, and the estimates must still centre on it."""
    logits, cost_fn = EXTREME_LOGITS[kind], quadratic_cost(EXTREME_LOGITS[kind].shape, 5)
    exact = exact_gradient(cost_fn, logits, kind)
    assert np.isfinite(exact).all()
    rng = np.random.default_rng(11)
    estimates = estimate_gradient(cost_fn, logits, "reinforce", 4, rng, kind, baseline=baseline, n_estimates=1500)
    assert np.isfinite(estimates).all()
    assert_unbiased(estimates, exact, f"reinforce at logits +-50, baseline={baseline}")


def test_log_probabilities_of_near_certain_outcomes_keep_their_precision():
    """log p(b) at logits 50 is -1.9e-22 for the likely outcome, -50 for the other: not 0 and -inf."""
    tail = np.log1p(np.exp(-50.0))   # 1.9287e-22, exactly
    bernoulli = log_prob(Tensor(np.array([50.0, 50.0, -50.0])), Tensor(np.array([1.0, 0.0, 0.0])), "bernoulli")
    assert np.allclose(bernoulli.data, [-tail, -50.0 - tail, -tail], rtol=1e-15, atol=0)
    categorical = log_prob(Tensor(np.array([50.0, 0.0, 0.0])), Tensor(np.array([1.0, 0.0, 0.0])), "categorical")
    assert np.isclose(categorical.data, -2 * tail, rtol=1e-14, atol=0)


def test_estimate_gradient_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="estimate_gradient: 'gumbel' differentiates through the cost"):
        estimate_gradient(lambda b: b.data.sum(axis=1), np.zeros(3), "gumbel", 4, rng, "bernoulli")
    with pytest.raises(ValueError, match="estimate_gradient: a baseline only applies to 'reinforce'"):
        estimate_gradient(lambda b: b.sum(axis=1), np.zeros(3), "reinmax", 4, rng, "bernoulli", baseline="ema")
    with pytest.raises(ValueError, match=r"estimate_gradient: cost_fn must return one cost per sample, shape \(4,\)"):
        estimate_gradient(lambda b: b.sum(), np.zeros(3), "reinforce", 4, rng, "bernoulli")
    with pytest.raises(ValueError, match="sample_bernoulli: unknown estimator 'st'"):
        estimate_gradient(lambda b: b.sum(axis=1), np.zeros(3), "st", 4, rng, "bernoulli")
    with pytest.raises(TypeError, match="sample_categorical: rng must be"):
        estimate_gradient(lambda b: b.sum(axis=(1, 2)), np.zeros((2, 3)), "reinforce", 4, 42, "categorical")
    with pytest.raises(ValueError, match="reinforce_loss: baseline='ema' would start a new moving average.*EMABaseline"):
        estimate_gradient(lambda b: b.sum(axis=1), np.zeros(3), "reinforce", 4, rng, "bernoulli", baseline="ema")
    with pytest.raises(ValueError, match="estimate_gradient: unknown kind"):
        estimate_gradient(lambda b: b.sum(axis=1), np.zeros(3), "reinforce", 4, rng, "beta")


BATCHED_RUNS = [("straight_through", {}), ("gumbel", {"tau": 0.5}), ("reinmax", {}), ("straight_through_gumbel", {}),
                ("gumbel_rao", {"K": 3}), ("reinforce", {}), ("reinforce", {"baseline": "leave_one_out"}), ("arm", {}),
                ("disarm", {}), ("rebar", {"eta": 0.5, "tau": 0.3})]


@pytest.mark.parametrize("kind,shape,estimator,options", [
    (kind, shape, estimator, options) for kind, shape in PROBLEMS for estimator, options in BATCHED_RUNS
    if kind == "bernoulli" or estimator not in BERNOULLI_ONLY])
def test_a_batch_of_estimates_is_one_call_per_estimate(kind, shape, estimator, options):
    """n_estimates=1 draws the same noise as one call, so it gives the same estimate, to the last bit; a larger
    batch gives one estimate per copy of the logits (their distribution: the unbiasedness tests above)."""
    cost_fn, logits = quadratic_cost(shape, 15), np.random.default_rng(16).normal(size=shape)
    one = estimate_gradient(cost_fn, logits, estimator, 6, np.random.default_rng(17), kind, **options)
    batch = estimate_gradient(cost_fn, logits, estimator, 6, np.random.default_rng(17), kind, **options, n_estimates=1)
    assert batch.shape == (1,) + shape and np.array_equal(batch[0], one)
    many = estimate_gradient(cost_fn, logits, estimator, 6, np.random.default_rng(17), kind, **options, n_estimates=5)
    assert many.shape == (5,) + shape and np.isfinite(many).all()


def test_a_batch_of_estimates_bad_input():
    rng, cost = np.random.default_rng(0), lambda b: b.sum(axis=1)   # noqa: E731
    with pytest.raises(ValueError, match="estimate_gradient: n_estimates must be a positive integer or None, got 0"):
        estimate_gradient(cost, np.zeros(3), "reinforce", 4, rng, "bernoulli", n_estimates=0)
    with pytest.raises(ValueError, match="estimate_gradient: n_estimates makes its estimates in one batch, so the "
                                         "baseline must be None, 'none' or 'leave_one_out'"):
        estimate_gradient(cost, np.zeros(3), "reinforce", 4, rng, "bernoulli", baseline=EMABaseline(), n_estimates=2)


def test_reinforce_accepts_a_numpy_cost():
    rng = np.random.default_rng(14)
    grad = estimate_gradient(lambda b: (b.data ** 2).sum(axis=1), np.zeros(3), "reinforce", 4, rng, "bernoulli")
    assert grad.shape == (3,) and np.isfinite(grad).all()


def test_compare_estimators_table():
    rng = np.random.default_rng(15)
    cost_fn, logits = quadratic_cost((2, 3), 16), rng.normal(size=(2, 3))
    specs = ["straight_through", ("gumbel", {"tau": 0.5}), ("reinforce", {"baseline": "ema"}),
             ("reinforce", {"baseline": "leave_one_out"})]
    table = compare_estimators(cost_fn, logits, "categorical", rng, estimators=specs, n_samples=4, n_estimates=200)
    exact = exact_gradient(cost_fn, logits, "categorical")
    assert np.allclose(table.exact, exact)
    labels = [row.label for row in table]
    assert labels == ["straight_through", "gumbel, tau=0.5", "reinforce, baseline=ema",
                      "reinforce, baseline=leave_one_out"]
    text = str(table)
    assert all(label in text for label in labels) and "bias" in text and "cosine" in text
    for row in table:
        assert row.estimates.shape == (200, 2, 3)
        mean = row.estimates.mean(axis=0)
        assert np.isclose(row.bias, np.linalg.norm(mean - exact))
        assert np.isclose(row.variance, ((row.estimates - mean) ** 2).sum(axis=(1, 2)).mean())
        assert np.isclose(row.noise_floor, np.sqrt(row.variance / 200))
        assert -1 <= row.cosine <= 1
    assert table.rows[0].cosine > table.rows[2].cosine   # one straight-through estimate points better
    with pytest.raises(ValueError, match="compare_estimators: unknown estimator 'rebbar'"):
        compare_estimators(cost_fn, logits, "categorical", rng, estimators=["rebbar"])


# One estimate per row has no variance: the table's variance of it is NaN, with NumPy's warning.
@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_compare_estimators_in_one_graph():
    """one_graph=True draws a row's estimates from one graph: with one estimate per row it is the very same draw
    as one call per estimate, to the last bit; a row with a moving-average baseline is still drawn one at a time."""
    cost_fn, logits = quadratic_cost((2, 3), 18), np.random.default_rng(19).normal(size=(2, 3))
    specs = ["straight_through", ("gumbel_rao", {"K": 3}), ("reinforce", {"baseline": "ema"}),
             ("reinforce", {"baseline": "leave_one_out"})]
    one_by_one, one_graph = (compare_estimators(cost_fn, logits, "categorical", np.random.default_rng(20),
                                                estimators=specs, n_samples=4, n_estimates=1, one_graph=flag)
                             for flag in (False, True))
    assert all(np.array_equal(a.estimates, b.estimates) for a, b in zip(one_by_one, one_graph))
    table = compare_estimators(cost_fn, logits, "categorical", np.random.default_rng(21), estimators=specs,
                               n_samples=4, n_estimates=300, one_graph=True)
    for row in table:
        assert row.estimates.shape == (300, 2, 3) and len(np.unique(row.estimates[:, 0, 0])) > 1   # 300 draws
    assert all(row.bias < 4 * row.noise_floor for row in table.rows[2:])   # REINFORCE: unbiased either way


def test_demo_problems_are_small_enough_to_enumerate():
    for name, cost_fn, logits, kind in demo_problems(np.random.default_rng(0)):
        assert exact_gradient(cost_fn, logits, kind).shape == logits.shape


@pytest.mark.parametrize("kind, shape", [("bernoulli", (3,)), ("categorical", (2, 3))])
def test_expected_cost_is_the_enumerated_sum_and_is_differentiable(kind, shape):
    rng = np.random.default_rng(7)
    logits = rng.normal(size=shape)
    weights = rng.normal(size=shape)

    def cost(b):
        return ((b * weights).sum(axis=tuple(range(1, b.ndim))) - 0.3) ** 2

    np.testing.assert_allclose(expected_cost(cost, logits, kind).item(), expectation(cost, logits, kind), rtol=1e-12)
    assert gradcheck(lambda theta: expected_cost(cost, theta, kind), [Tensor(logits, requires_grad=True)])


# ------------------------------------------------------------------ expected_estimate: an estimator's mean, enumerated


@pytest.mark.parametrize("kind, shape", [("bernoulli", (3,)), ("categorical", (2, 3)), ("categorical", (3, 4))])
@pytest.mark.parametrize("seed", range(3))
def test_reinmax_at_tau_one_is_exactly_unbiased_for_quadratic_costs(kind, shape, seed):
    cost, logits = quadratic_cost(shape, seed), np.random.default_rng(seed + 10).normal(size=shape)
    exact = exact_gradient(cost, logits, kind)
    np.testing.assert_allclose(expected_estimate(cost, logits, "reinmax", kind, tau=1.0), exact, atol=1e-12)
    # ... but not at another temperature, and straight-through is biased at any
    assert np.abs(expected_estimate(cost, logits, "reinmax", kind, tau=2.0) - exact).max() > 1e-3
    assert np.abs(expected_estimate(cost, logits, "straight_through", kind) - exact).max() > 1e-3


def test_expected_straight_through_matches_its_closed_form_on_one_coin():
    # c(b) = (b - 0.3)^2, straight-through gives c'(b) p (1 - p): its mean is 2 (p - 0.3) p (1 - p).
    p = 1 / (1 + np.exp(-1.0))
    mean = expected_estimate(lambda b: ((b - 0.3) ** 2).sum(axis=1), [1.0], "straight_through", "bernoulli")
    np.testing.assert_allclose(mean, [2 * (p - 0.3) * p * (1 - p)], rtol=1e-12)


@pytest.mark.parametrize("estimator, tau", [("straight_through", 0.5), ("reinmax", 2.0)])
def test_expected_estimate_is_the_mean_of_many_estimates(estimator, tau):
    rng = np.random.default_rng(7)
    cost, logits = quadratic_cost((2, 3), 7), rng.normal(size=(2, 3))
    estimates = estimate_gradient(cost, logits, estimator, 4, rng, "categorical", tau=tau, n_estimates=2000)
    standard_error = estimates.std(axis=0) / np.sqrt(len(estimates))
    deviation = np.abs(estimates.mean(axis=0) - expected_estimate(cost, logits, estimator, "categorical", tau=tau))
    assert (deviation < 4.5 * standard_error).all()   # 6 entries, each within 4.5 standard errors


def test_expected_estimate_refuses_noise_dependent_estimators_and_arrays():
    with pytest.raises(ValueError, match="expected_estimate: 'gumbel' depends on the noise"):
        expected_estimate(lambda b: b.sum(axis=1), [0.0], "gumbel", "bernoulli")
    with pytest.raises(ValueError, match="expected_estimate: 'reinmax' differentiates through the cost"):
        expected_estimate(lambda b: np.asarray(b.data).sum(axis=1), [0.0], "reinmax", "bernoulli")


def test_running_the_module_as_a_command_gives_no_already_imported_warning():
    # `python -m tinygrad_ste.estimators` warns if importing the package already imported the module;
    # run_module makes the same check without running main().
    import subprocess
    import sys
    code = "import runpy; runpy.run_module('tinygrad_ste.estimators')"
    result = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------ a normal variable against the closed form

NORMAL_POINTS = [(0.0, 0.0), (1.5, np.log(0.5)), (-1.0, np.log(2.0))]   # (mean, log_std); the target is 2
NORMAL_RUNS = [("reparameterization", None), ("reinforce", None), ("reinforce", "leave_one_out")]


def test_quadratic_normal_gradient_is_the_derivative_of_the_expectation():
    mean, log_std, target = 0.3, -0.4, 2.0

    def expectation(m, s):
        return (m - target) ** 2 + np.exp(2 * s)

    eps = 1e-6
    numerical = [(expectation(mean + eps, log_std) - expectation(mean - eps, log_std)) / (2 * eps),
                 (expectation(mean, log_std + eps) - expectation(mean, log_std - eps)) / (2 * eps)]
    np.testing.assert_allclose(quadratic_normal_gradient(mean, log_std, target), numerical, rtol=1e-7)


@pytest.mark.parametrize("estimator, baseline", NORMAL_RUNS)
@pytest.mark.parametrize("mean, log_std", NORMAL_POINTS)
def test_both_normal_estimators_are_unbiased(estimator, baseline, mean, log_std):
    """The mean of 4,000 estimates lies within 4 standard errors of the closed form, for both parameters."""
    rng = np.random.default_rng(20)
    estimates = normal_gradient_estimates(lambda z: (z - 2.0) ** 2, mean, log_std, estimator, n_samples=4,
                                          n_estimates=4000, rng=rng, baseline=baseline)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    exact = quadratic_normal_gradient(mean, log_std, 2.0)
    assert (np.abs(estimates.mean(axis=0) - exact) < 4 * standard_error).all(), (estimates.mean(axis=0), exact)


def test_reparameterization_variance_matches_its_closed_form():
    """Pathwise d/dmean of (z - c)^2 is the mean of 2 (z - c) over n draws: variance 4 sigma^2 / n.

    The sample variance of m estimates has standard error about variance * sqrt(2 / (m - 1)) (normal data).
    """
    rng = np.random.default_rng(21)
    for log_std, n_samples in [(0.0, 4), (np.log(0.5), 1), (np.log(2.0), 16)]:
        estimates = normal_gradient_estimates(lambda z: (z - 2.0) ** 2, 0.5, log_std, "reparameterization",
                                              n_samples, 4000, rng)[:, 0]
        expected = 4 * np.exp(2 * log_std) / n_samples
        assert abs(estimates.var(ddof=1) - expected) < 4 * expected * np.sqrt(2 / (len(estimates) - 1))


def test_the_score_function_is_noisier_here():
    """On this cost, the pathwise estimate of d/dmean has a smaller variance than REINFORCE, with or
    without a leave-one-out baseline (variances differ by many times their standard errors)."""
    rng = np.random.default_rng(22)
    variances = {run: normal_gradient_estimates(lambda z: (z - 2.0) ** 2, 0.0, 0.0, run[0], 4, 4000, rng,
                                                baseline=run[1])[:, 0].var(ddof=1) for run in NORMAL_RUNS}
    pathwise = variances[NORMAL_RUNS[0]]
    assert all(pathwise * 3 < variances[run] for run in NORMAL_RUNS[1:]), variances


def test_trace_variance_is_the_trace_of_the_covariance():
    estimates = np.random.default_rng(23).normal(size=(50, 3)) * [1.0, 2.0, 0.5]
    variance, standard_error = trace_variance(estimates)
    assert np.isclose(variance, np.trace(np.cov(estimates, rowvar=False, ddof=0)))
    squared_distances = ((estimates - estimates.mean(axis=0)) ** 2).sum(axis=1)
    assert np.isclose(standard_error, squared_distances.std(ddof=1) / np.sqrt(50))


def test_normal_variance_sweep_matches_the_pathwise_closed_form_at_every_point():
    """Pathwise, for (z - c)^2 with z = mu + sigma eps, one draw gives d/dmean = 2 (z - c) and
    d/dlog_std = 2 sigma (mu - c) eps + 2 sigma^2 eps^2: total variance 4 sigma^2 + 4 sigma^2 (mu - c)^2
    + 8 sigma^4 (Var eps^2 = 2, and eps, eps^2 are uncorrelated), divided by n for n draws.
    Each measured variance lies within 4 of its standard errors of that."""
    sweeps = {"mean": ([-1.0, 2.0, 4.0], dict(sigma=1.0, n_samples=4)),
              "sigma": ([0.25, 2.0], dict(mean=0.0, n_samples=2)),
              "n_samples": ([1, 8], dict(mean=0.5, sigma=0.5))}
    variances = normal_variance_sweep(lambda z: (z - 2.0) ** 2, sweeps, {"pathwise": ("reparameterization", None)},
                                      n_estimates=4000, rng=np.random.default_rng(24))
    assert set(variances) == {(swept, "pathwise") for swept in sweeps}
    for swept, (values, fixed) in sweeps.items():
        measured, standard_error = variances[swept, "pathwise"]
        assert measured.shape == standard_error.shape == (len(values),)
        for value, v, se in zip(values, measured, standard_error):
            p = {**fixed, swept: value}
            sigma2 = p["sigma"] ** 2
            expected = (4 * sigma2 + 4 * sigma2 * (p["mean"] - 2.0) ** 2 + 8 * sigma2 ** 2) / p["n_samples"]
            assert abs(v - expected) < 4 * se, (swept, value, v, expected)


def test_normal_variance_sweep_bad_input():
    runs, rng = {"pathwise": ("reparameterization", None)}, np.random.default_rng(0)
    with pytest.raises(ValueError, match="normal_variance_sweep: sweep one of mean, sigma, n_samples .* got 'std'"):
        normal_variance_sweep(lambda z: z, {"std": ([1.0], dict(mean=0.0, n_samples=2))}, runs, 3, rng)
    with pytest.raises(ValueError, match=r"got 'mean' swept with \['sigma'\] fixed"):
        normal_variance_sweep(lambda z: z, {"mean": ([1.0], dict(sigma=1.0))}, runs, 3, rng)


def test_normal_gradient_estimates_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="normal_gradient_estimates: unknown estimator 'gumbel'"):
        normal_gradient_estimates(lambda z: z, 0.0, 0.0, "gumbel", 2, 3, rng)
    with pytest.raises(ValueError, match="normal_gradient_estimates: a baseline only applies to 'reinforce'"):
        normal_gradient_estimates(lambda z: z, 0.0, 0.0, "reparameterization", 2, 3, rng, baseline="leave_one_out")
    with pytest.raises(ValueError, match="exact_gradient: unknown kind 'normal'; choose 'bernoulli' or 'categorical'"):
        exact_gradient(lambda b: b.sum(axis=1), np.zeros(2), kind="normal")


@pytest.mark.parametrize("tau", [2.0, 1.0, 0.3])
def test_gumbel_is_unbiased_for_the_relaxed_objective_computed_by_quadrature(tau):
    """The binary Concrete expectation by quadrature matches a Monte Carlo mean, and the "gumbel"
    estimator's mean matches its derivative (both within 4 SE); the discrete gradient differs at tau = 2."""
    rng = np.random.default_rng(23)
    logit, n = 0.5, 40000

    def cost(x):
        return (x - 0.3) ** 2

    theta = Tensor(np.full(n, logit), requires_grad=True)
    relaxed = sample_bernoulli(theta, "gumbel", rng, tau=tau)
    values = cost(relaxed)
    values.sum().backward()
    expectation_se = values.data.std() / np.sqrt(n)
    assert abs(values.data.mean() - relaxed_bernoulli_expectation(cost, logit, tau)) < 4 * expectation_se
    standard_error = theta.grad.std(ddof=1) / np.sqrt(n)
    assert abs(theta.grad.mean() - relaxed_bernoulli_gradient(cost, logit, tau)) < 4 * standard_error
    if tau == 2.0:
        p = 1 / (1 + np.exp(-logit))
        assert abs(theta.grad.mean() - 0.4 * p * (1 - p)) > 4 * standard_error


# ------------------------------------------------------------------ the estimators since REINFORCE


BERNOULLI_PROBLEMS = [shape for kind, shape in PROBLEMS if kind == "bernoulli"]


@pytest.mark.parametrize("shape", BERNOULLI_PROBLEMS)
@pytest.mark.parametrize("estimator,options", [("arm", {}), ("disarm", {}), ("rebar", {}),
                                               ("rebar", {"tau": 0.3, "eta": 0.5}), ("rebar", {"tau": 2.0}),
                                               ("reinforce", {"baseline": "learned"})])
def test_antithetic_rebar_and_learned_baseline_are_unbiased(shape, estimator, options):
    rng = np.random.default_rng(20)
    logits, cost_fn = rng.normal(size=shape), quadratic_cost(shape, 21)
    if options.get("baseline") == "learned":   # one learned constant, kept across the estimates
        learned = LearnedBaseline(0, rng=np.random.default_rng(22))
        estimates = np.stack([estimate_gradient(cost_fn, logits, estimator, 6, rng, "bernoulli", baseline=learned)
                              for _ in range(1500)])
    else:
        estimates = estimate_gradient(cost_fn, logits, estimator, 6, rng, "bernoulli", **options, n_estimates=1500)
    assert_unbiased(estimates, exact_gradient(cost_fn, logits, "bernoulli"), f"{estimator} {options}")


CATEGORICAL_PROBLEMS = [shape for kind, shape in PROBLEMS if kind == "categorical"]


@pytest.mark.parametrize("shape", CATEGORICAL_PROBLEMS)
@pytest.mark.parametrize("options", [{}, {"tau": 0.3, "eta": 0.5}, {"tau": 2.0}])
def test_categorical_rebar_is_unbiased(shape, options):
    """REBAR with the conditional Gumbel relaxation (Tucker et al. 2017, appendix) on one-hot samples."""
    rng = np.random.default_rng(30)
    logits, cost_fn = rng.normal(size=shape), quadratic_cost(shape, 31)
    estimates = estimate_gradient(cost_fn, logits, "rebar", 6, rng, "categorical", **options, n_estimates=1500)
    assert_unbiased(estimates, exact_gradient(cost_fn, logits, "categorical"), f"rebar {options}")


def test_disarm_is_arm_with_the_uniform_integrated_out():
    """Averaging ARM over many draws of U given one antithetic pair gives DisARM's estimate for that pair."""
    rng = np.random.default_rng(23)
    logits = Tensor(rng.normal(size=5), requires_grad=True)
    samples = sample_bernoulli(logits, "disarm", rng, n_samples=2)
    cost = quadratic_cost((5,), 24)(samples).data
    antithetic_loss(logits, samples, cost, "disarm").backward()
    disarm, logits.grad = logits.grad, None
    # 4000 ARM estimates for this one pair in one graph: 4000 copies of the logits and of the pair, each drawing
    # its own U given the pair (antithetic_loss averages over the copies; times 4000: the sum)
    copies = Tensor(np.broadcast_to(logits.data, (4000, 5)).copy(), requires_grad=True)
    tiled = np.broadcast_to(samples.data[:, None], (2, 4000, 5))
    (antithetic_loss(copies, tiled, np.broadcast_to(cost[:, None], (2, 4000)), "arm", rng) * 4000).backward()
    assert_unbiased(copies.grad, disarm, "arm given the pair")


def test_gumbel_rao_has_straight_through_gumbels_mean_and_less_variance():
    """Paulus et al. 2021: a Rao-Blackwellisation keeps the mean (so the bias of straight-through
    Gumbel, measured here against the exact gradient) and lowers the variance, more so with larger K."""
    rng = np.random.default_rng(25)
    for kind, shape in [("bernoulli", (4,)), ("categorical", (2, 4))]:
        logits, cost_fn = rng.normal(size=shape), quadratic_cost(shape, 26)
        draws = {label: estimate_gradient(cost_fn, logits, estimator, 2, rng, kind, tau=0.5, **options,
                                          n_estimates=3000).reshape(3000, -1)
                 for label, estimator, options in [("st", "straight_through_gumbel", {}),
                                                   ("rao1", "gumbel_rao", {"K": 1}),
                                                   ("rao10", "gumbel_rao", {"K": 10})]}
        for label in ("rao1", "rao10"):
            difference = draws[label].mean(axis=0) - draws["st"].mean(axis=0)
            standard_error = np.sqrt((draws[label].var(axis=0) + draws["st"].var(axis=0)) / 3000)
            assert (np.abs(difference) < 4 * standard_error + 1e-12).all(), (kind, label, difference)
        variance = {label: trace_variance(estimates) for label, estimates in draws.items()}
        # K = 1 is straight-through Gumbel again (one conditional noise is a fresh noise); K = 10 is clearly lower
        assert abs(variance["rao1"][0] - variance["st"][0]) < 4 * np.hypot(variance["rao1"][1], variance["st"][1])
        assert variance["st"][0] - variance["rao10"][0] > 4 * np.hypot(variance["st"][1], variance["rao10"][1])
        bias = np.linalg.norm(draws["rao10"].mean(axis=0) - exact_gradient(cost_fn, logits, kind).ravel())
        assert bias > 4 * np.sqrt(variance["rao10"][0] / 3000)   # biased, like straight-through Gumbel


def vimco_bound_gradient(log_joint, logits, samples_per_bound):
    """d/dlogits E[L_K] exactly, L_K = log mean_k exp(log_joint(h_k) - log q(h_k)), by enumerating all K-tuples."""
    theta = Tensor(logits, requires_grad=True)
    tiled = theta.reshape(1, -1).expand(samples_per_bound, logits.size)

    outcomes = Tensor(all_outcomes(tiled.shape, "bernoulli"))                         # (n, K, m)
    probability = log_prob(tiled, outcomes, "bernoulli").sum(axis=(1, 2)).exp()     # (n,)
    # the bound depends on the logits through q(h_k) too, so it is not a constant cost (not expected_cost)
    log_weights = log_joint(outcomes) - log_prob(theta, outcomes, "bernoulli").sum(axis=-1)
    bound = F.logsumexp(log_weights, axis=1) - np.log(samples_per_bound)
    (probability * bound).sum().backward()
    return theta.grad


@pytest.mark.parametrize("samples_per_bound", [2, 3])
def test_vimco_is_unbiased_for_the_gradient_of_the_multi_sample_bound(samples_per_bound):
    rng = np.random.default_rng(27)
    logits, weights = rng.normal(size=3), rng.normal(size=3)
    log_joint = lambda h: (h * weights).sum(axis=-1) - 2.0 * h.sum(axis=-1) ** 2 / 3   # noqa: E731
    exact = vimco_bound_gradient(log_joint, logits, samples_per_bound)
    # 2000 independent estimates in one graph: 2000 copies of the logits, each with its own K samples and its own
    # bound (vimco_loss works along axis 0 for each batch entry and averages the batch; times 2000: the sum)
    theta = Tensor(np.broadcast_to(logits, (2000, 3)).copy(), requires_grad=True)
    h = sample_bernoulli(theta, "reinforce", rng, n_samples=samples_per_bound)     # (K, 2000, 3)
    log_weights = log_joint(h) - log_prob(theta, h, "bernoulli").sum(axis=-1)    # (K, 2000)
    (vimco_loss(theta, h, log_weights, "bernoulli") * 2000).backward()
    assert_unbiased(-theta.grad, exact, f"vimco, K={samples_per_bound}")   # the loss is -L_K


def test_new_estimators_bad_input():
    rng = np.random.default_rng(0)
    cost = lambda b: b.sum(axis=1)   # noqa: E731
    with pytest.raises(ValueError, match="sample_categorical: 'disarm' is an estimator for Bernoulli variables"):
        estimate_gradient(lambda b: b.sum(axis=(1, 2)), np.zeros((2, 3)), "disarm", 4, rng, "categorical")
    with pytest.raises(ValueError, match="sample_bernoulli: 'arm' draws groups of 2 .* multiple of 2, got 3"):
        estimate_gradient(cost, np.zeros(3), "arm", 3, rng, "bernoulli")
    with pytest.raises(ValueError, match="sample_bernoulli: 'rebar' draws groups of 3 .* got 4"):
        estimate_gradient(cost, np.zeros(3), "rebar", 4, rng, "bernoulli")
    with pytest.raises(ValueError, match="sample_bernoulli: K, the number of conditional noises, .* 'reinmax'"):
        estimate_gradient(cost, np.zeros(3), "reinmax", 4, rng, "bernoulli", K=5)
    with pytest.raises(ValueError, match="estimate_gradient: eta, the control variate's scale, only applies"):
        estimate_gradient(cost, np.zeros(3), "disarm", 4, rng, "bernoulli", eta=0.5)
    with pytest.raises(ValueError, match="rebar_loss: cost must be a Tensor computed with Tensor ops"):
        estimate_gradient(lambda b: b.data.sum(axis=1), np.zeros(3), "rebar", 3, rng, "bernoulli")
    logits = Tensor(np.zeros(3), requires_grad=True)
    pairs = sample_bernoulli(logits, "disarm", rng, n_samples=4)
    with pytest.raises(ValueError, match="antithetic_loss: estimator must be 'arm' or 'disarm'"):
        antithetic_loss(logits, pairs, np.zeros(4), "reinforce")
    with pytest.raises(ValueError, match=r"antithetic_loss: samples of shape \(3, 3\) must be antithetic pairs"):
        antithetic_loss(logits, pairs.data[:3], np.zeros(3))
    with pytest.raises(ValueError, match=r"antithetic_loss: cost of shape \(3,\) must be one cost per sample"):
        antithetic_loss(logits, pairs, np.zeros(3))
    with pytest.raises(ValueError, match="vimco_loss: log_weights must be a Tensor"):
        vimco_loss(logits, pairs, np.zeros(4), "bernoulli")
    with pytest.raises(ValueError, match=r"vimco_loss: needs K >= 2 samples"):
        vimco_loss(logits, pairs.data[:1], Tensor(np.zeros(1)), "bernoulli")


def test_compare_estimators_accepts_the_new_names_at_equal_cost():
    rng = np.random.default_rng(28)
    cost_fn, logits = quadratic_cost((3,), 29), rng.normal(size=3)
    specs = [("gumbel_rao", {"K": 5}), "arm", "disarm", ("rebar", {"eta": 0.5}),
             ("reinforce", {"baseline": LearnedBaseline(0, rng=rng)})]
    table = compare_estimators(cost_fn, logits, "bernoulli", rng, estimators=specs, n_samples=6, n_estimates=50)
    assert [row.label for row in table][:4] == ["gumbel_rao, K=5", "arm", "disarm", "rebar, eta=0.5"]
    assert all(row.estimates.shape == (50, 3) and np.isfinite(row.estimates).all() for row in table)
