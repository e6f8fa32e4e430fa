"""Measuring gradient estimators against the truth.

For a small problem the exact gradient of an expected cost can be computed by brute
force: list every outcome b, weight its cost by its probability, and differentiate

    E_b[c(b)] = sum_b p(b | logits) c(b)

with the engine itself.  Each estimator (see :mod:`tinygrad_ste.stochastic`) gives a
random estimate g_hat of that gradient; many independent estimates tell its

* bias      ||mean(g_hat) - g||   (an unbiased estimator shows only the noise floor,
                                    sqrt(variance / number of estimates));
* variance  mean ||g_hat - mean(g_hat)||^2   (the trace of the covariance);
* cosine    mean cos(g_hat, g)   (does a single estimate point the right way?).

``cost_fn`` maps a batch of samples, a Tensor ``(n, *logits.shape)``, to one cost per sample,
(n,), a Tensor or a NumPy array.  The relaxed and straight-through estimators
differentiate through the cost, so for them write it with Tensor ops (these work on any
Tensor, so the same function serves every estimator and the enumeration).

Two fair coins, cost b_1 + b_2: E = sigmoid(l_1) + sigmoid(l_2), whose gradient at 0 is 1/4 each:

    >>> import numpy as np
    >>> exact_gradient(lambda b: b.sum(axis=1), np.zeros(2), kind="bernoulli")
    array([0.25, 0.25])

``python -m tinygrad_ste.estimators`` prints the comparison on a small Bernoulli and a
small categorical problem.

A normal variable has no outcomes to list, but a quadratic cost has a closed form instead:
:func:`quadratic_normal_gradient` is the truth that :func:`normal_gradient_estimates`
(the reparameterization and score-function estimators of ``sample_normal``) is measured against;
:func:`normal_variance_sweep` measures how their variances move with the mean, sigma and the
number of draws (lesson 9 and the figure ``normal_estimator_variance``).
"""
from dataclasses import dataclass, field

import numpy as np

from .stochastic import (ESTIMATORS, EMABaseline, NORMAL_ESTIMATORS, Sample, antithetic_loss, distribution_of,
                         log_prob, rebar_loss, reinforce_loss, sample_bernoulli, sample_categorical, sample_normal)
from .tensor import Tensor, as_array, as_tensor
from .function import no_grad
from .arrays import one_hot_array, sigmoid_array
from .random import generator

__all__ = ["expected_cost", "exact_gradient", "expected_estimate", "estimate_gradient", "compare_estimators",
           "all_outcomes", "EstimatorStats", "Comparison", "DEFAULT_ESTIMATORS", "quadratic_normal_gradient",
           "normal_gradient_estimates", "relaxed_bernoulli_expectation", "relaxed_bernoulli_gradient",
           "trace_variance", "normal_variance_sweep"]

DEFAULT_ESTIMATORS = ("straight_through", "gumbel", ("gumbel", {"tau": 0.5}), "straight_through_gumbel",
                      "reinmax", "reinforce", ("reinforce", {"baseline": "ema"}),
                      ("reinforce", {"baseline": "leave_one_out"}))
_SAMPLERS = {"bernoulli": sample_bernoulli, "categorical": sample_categorical}
# The baselines computed within one call, from that call's own samples: the only ones a batch of
# estimates (estimate_gradient's n_estimates) can share.  An object kept across calls is not one of them.
PER_CALL_BASELINES = (None, "none", "leave_one_out")


def _costs(cost_fn, samples, op):
    """Call cost_fn on the samples and check that it returned one cost per sample."""
    cost = cost_fn(samples)
    shape = as_array(cost).shape
    if shape != samples.shape[:1]:
        raise ValueError(f"{op}: cost_fn must return one cost per sample, shape {samples.shape[:1]}, "
                         f"got shape {shape} for samples of shape {samples.shape}")
    return cost


def all_outcomes(shape, kind):
    """Every joint outcome of a sample shaped ``shape``, stacked: ``(number of outcomes, *shape)``.

    Bernoulli: 2^m outcomes for m variables (binary counting); categorical (..., K):
    K^m outcomes for m one-hot variables.
    """
    if kind == "bernoulli":
        m = int(np.prod(shape))
        bits = (np.arange(2 ** m)[:, None] >> np.arange(m)) & 1
        return bits.reshape((2 ** m,) + tuple(shape)).astype(np.float64)
    classes, m = shape[-1], int(np.prod(shape[:-1]))
    choices = np.stack(np.unravel_index(np.arange(classes ** m), (classes,) * m), axis=-1)   # (K^m, m)
    return one_hot_array(choices, classes).reshape((classes ** m,) + tuple(shape))


def expected_cost(cost_fn, logits, kind, max_outcomes=2 ** 16):
    """E_b[cost_fn(b)] = sum_b p(b) cost_fn(b), exactly, by enumerating every outcome b.

    logits: any shape for kind="bernoulli", (..., K) for kind="categorical"; a Tensor
    (the result is then differentiable with respect to it) or an array.  Returns a
    scalar Tensor.  Raises ValueError when there are more than ``max_outcomes``
    outcomes (2^m, or K^m for m categorical variables).
    """
    return _enumerate_expectation(cost_fn, as_tensor(logits), kind, max_outcomes, "expected_cost")


def exact_gradient(cost_fn, logits, kind, max_outcomes=2 ** 16):
    """d/dlogits E_b[cost_fn(b)], exactly: :func:`expected_cost` differentiated by the engine.

    Returns a float64 array shaped like ``logits``.
    """
    theta = Tensor(as_array(logits, dtype=np.float64), requires_grad=True)
    _enumerate_expectation(cost_fn, theta, kind, max_outcomes, "exact_gradient").backward()
    return theta.grad


def expected_estimate(cost_fn, logits, estimator, kind, tau=1.0, max_outcomes=2 ** 16):
    """E_b[g_hat(b)], exactly: the mean of infinitely many estimates, by enumerating every outcome b.

    Only for the estimators whose estimate depends on the drawn sample b alone, not on the
    noise that drew it: "straight_through" (g_hat(b) = J_P(logits / tau)^T dc/db / tau) and
    "reinmax" (see :mod:`tinygrad_ste.stochastic`).  Then E[g_hat] = sum_b p(b) g_hat(b),
    and its distance to :func:`exact_gradient` is the estimator's bias with no sampling noise
    at all.  (The mean over n samples per estimate is the same, so n does not matter.)

    Each outcome is fed to the estimator's backward rule as the sample, with its probability
    as a constant weight.  Returns a float64 array shaped like ``logits``.
    """
    if estimator not in ("straight_through", "reinmax"):
        raise ValueError(f"expected_estimate: {estimator!r} depends on the noise, not only on the sample; "
                         "only 'straight_through' and 'reinmax' can be averaged by enumeration "
                         "(estimate the others with compare_estimators)")
    distribution = distribution_of(kind, "expected_estimate")
    theta = Tensor(as_array(logits, dtype=np.float64), requires_grad=True)
    with no_grad():
        probability = _enumerate_outcomes(theta, kind, max_outcomes, "expected_estimate")[1].exp().data
    outcomes = all_outcomes(theta.shape, kind)
    # Noise that makes each outcome the sample drawn (the rules read only the logits and the sample).
    forcing_noise = (2 * outcomes - 1) * (1e6 + np.abs(theta.data).max())
    samples = Sample.apply(theta, noise=forcing_noise, distribution=distribution, tau=tau, backward=estimator)
    cost = _costs(cost_fn, samples, "expected_estimate")
    if not (isinstance(cost, Tensor) and cost.requires_grad):
        raise ValueError(f"expected_estimate: {estimator!r} differentiates through the cost, so cost_fn must be "
                         f"written with Tensor ops; it returned a {type(cost).__name__} without a graph")
    (cost * Tensor(probability)).sum().backward()
    return theta.grad


def _enumerate_outcomes(theta, kind, max_outcomes, op):
    """(every outcome b as a Tensor (outcomes, *theta.shape), log p(b | theta) as a Tensor (outcomes,)).

    The variables are independent, so log p(b) is the sum of their log-probabilities.
    """
    distribution_of(kind, op, discrete=True)
    if kind == "categorical" and theta.ndim == 0:
        raise ValueError(f"{op}: categorical logits need a class axis (..., K), got shape {theta.shape}")
    variables = theta.size if kind == "bernoulli" else theta.size // theta.shape[-1]
    values = 2 if kind == "bernoulli" else theta.shape[-1]
    if float(values) ** variables > max_outcomes:
        raise ValueError(f"{op}: {values}^{variables} outcomes for {kind} logits of shape {theta.shape} "
                         f"are too many to enumerate (max_outcomes={max_outcomes})")
    outcomes = Tensor(all_outcomes(theta.shape, kind))
    return outcomes, log_prob(theta, outcomes, kind).reshape(len(outcomes), -1).sum(axis=1)


def _enumerate_expectation(cost_fn, theta, kind, max_outcomes, op):
    """sum_b p(b | theta) cost_fn(b) over every outcome b, as a scalar Tensor (errors name ``op``)."""
    outcomes, log_p = _enumerate_outcomes(theta, kind, max_outcomes, op)
    costs = _costs(cost_fn, outcomes, op)
    costs = as_array(costs)
    return (log_p.exp() * costs).sum()


def estimate_gradient(cost_fn, logits, estimator, n_samples, rng, kind, tau=1.0, baseline=None, K=None, eta=1.0,
                      n_estimates=None):
    """One Monte Carlo estimate of d/dlogits E_b[cost_fn(b)] with ``estimator``, from ``n_samples`` cost evaluations.

    Runs exactly what a learner writes: sample with :func:`~tinygrad_ste.stochastic.sample_bernoulli`
    or ``sample_categorical``, compute the costs, backpropagate their mean, plus the loss term of
    an estimator that learns from costs: ``reinforce_loss`` for "reinforce" (with ``baseline``),
    ``antithetic_loss`` for "arm" and "disarm" (``n_samples`` = 2 per pair), ``rebar_loss`` for
    "rebar" (``eta``; ``n_samples`` = 3 per hard sample).  ``K``: the conditional noises of
    "gumbel_rao".  Returns an array shaped like ``logits``.

    ``n_estimates``: that many independent estimates from one graph, stacked: an array
    ``(n_estimates, *logits.shape)``.  The logits are copied along a new axis 1 of the samples,
    ``(n_samples, n_estimates, *logits.shape)``, so each copy has its own noise; ``cost_fn`` sees
    every sample of every copy as one batch, ``(n_samples * n_estimates, *logits.shape)``, and its
    costs are laid back out per copy, ``(n_samples, n_estimates)``.  Every estimator's loss averages
    over the copies too; multiplied by ``n_estimates`` it is the sum of the copies' own losses, and
    the gradient of copy j is what one call with copy j's noise returns.  Much faster than a loop of
    single calls for a small problem (one graph instead of many).  A baseline must then be None, "none" or
    "leave_one_out" (computed per copy, along the samples): an object kept across calls, such as an
    :class:`~tinygrad_ste.stochastic.EMABaseline`, would see all the copies' costs as one batch.
    """
    distribution_of(kind, "estimate_gradient", discrete=True)
    if baseline is not None and estimator != "reinforce":
        raise ValueError(f"estimate_gradient: a baseline only applies to 'reinforce', not to {estimator!r}")
    if eta != 1.0 and estimator != "rebar":
        raise ValueError(f"estimate_gradient: eta, the control variate's scale, only applies to 'rebar', "
                         f"not to {estimator!r}")
    logits = as_array(logits, dtype=np.float64)
    if n_estimates is not None:
        if not isinstance(n_estimates, (int, np.integer)) or n_estimates < 1:
            raise ValueError(f"estimate_gradient: n_estimates must be a positive integer or None, got {n_estimates!r}")
        if not (baseline is None or (isinstance(baseline, str) and baseline in PER_CALL_BASELINES)):
            raise ValueError(f"estimate_gradient: n_estimates makes its estimates in one batch, so the baseline must "
                             f"be None, 'none' or 'leave_one_out', not {baseline!r} (kept across calls, it would see "
                             f"every estimate's costs at once); call once per estimate instead")
        logits = np.broadcast_to(logits, (int(n_estimates),) + logits.shape).copy()
    theta = Tensor(logits, requires_grad=True)
    samples = _SAMPLERS[kind](theta, estimator, rng, tau=tau, n_samples=n_samples, K=K)
    if n_estimates is None:
        cost = _costs(cost_fn, samples, "estimate_gradient")
    else:   # one batch of samples for cost_fn, then one cost per (sample, copy)
        cost = _costs(cost_fn, samples.reshape((-1,) + samples.shape[2:]), "estimate_gradient")
        cost = cost.reshape(samples.shape[:2])
    if estimator == "reinforce":
        loss = reinforce_loss(theta, samples, cost, kind=kind, baseline=baseline)
    elif estimator in ("arm", "disarm"):
        loss = antithetic_loss(theta, samples, cost, estimator, rng)
    elif estimator == "rebar":
        loss = rebar_loss(theta, samples, cost, kind, eta)
    elif isinstance(cost, Tensor) and cost.requires_grad:
        loss = cost.mean()
    else:
        raise ValueError(f"estimate_gradient: {estimator!r} differentiates through the cost, so cost_fn must be "
                         f"written with Tensor ops; it returned a {type(cost).__name__} without a graph")
    if n_estimates is not None:
        loss = loss * n_estimates   # the sum of the copies' losses, each a mean over its own samples
    loss.backward()
    return theta.grad if theta.grad is not None else np.zeros_like(theta.data)


@dataclass
class EstimatorStats:
    """How one estimator did on one problem, over ``len(estimates)`` independent estimates."""
    label: str
    estimator: str
    options: dict
    estimates: np.ndarray = field(repr=False)   # (n_estimates, *logits.shape)
    bias: float            # ||mean estimate - exact||
    noise_floor: float     # sqrt(variance / n_estimates): the bias an unbiased estimator shows by chance
    variance: float        # mean ||estimate - mean estimate||^2
    cosine: float          # mean cosine similarity of an estimate with the exact gradient


@dataclass
class Comparison:
    """The rows of :func:`compare_estimators`; ``str()`` formats them as a table."""
    kind: str
    exact: np.ndarray
    rows: list

    def __iter__(self):
        return iter(self.rows)

    def __str__(self):
        header = f"{'estimator':<34} {'bias':>9} {'noise':>9} {'variance':>10} {'cosine':>7}"
        lines = [f"{self.kind}: logits shape {self.exact.shape}, |exact gradient| = {np.linalg.norm(self.exact):.4g}",
                 header, "-" * len(header)]
        for row in self.rows:
            lines.append(f"{row.label:<34} {row.bias:>9.4f} {row.noise_floor:>9.4f} "
                         f"{row.variance:>10.4g} {row.cosine:>7.3f}")
        if self.rows:
            lines.append(f"(over {len(self.rows[0].estimates)} estimates each; noise = sqrt(variance / estimates), "
                         "the bias an unbiased estimator shows by chance)")
        return "\n".join(lines)


def trace_variance(estimates):
    """The variance of gradient estimates (n_estimates, d) and its standard error: ``(variance, se)``.

    variance = mean_i ||g_i - mean(g)||^2, the trace of the covariance (the total variance over
    the d components); se = the standard deviation of the n squared distances / sqrt(n).
    """
    squared_distance = ((estimates - estimates.mean(axis=0)) ** 2).sum(axis=1)
    return float(squared_distance.mean()), float(squared_distance.std(ddof=1) / np.sqrt(len(estimates)))


def _label(estimator, options):
    return estimator + "".join(f", {key}={value}" for key, value in options.items())


def compare_estimators(cost_fn, logits, kind, rng=None, estimators=DEFAULT_ESTIMATORS, n_samples=4, n_estimates=500,
                       one_graph=False):
    """Bias, variance and cosine similarity of each estimator against :func:`exact_gradient`.

    ``estimators``: names, or ``(name, options)`` pairs such as ``("gumbel", {"tau": 0.5})``,
    ``("gumbel_rao", {"K": 10})``, ``("rebar", {"eta": 0.5})`` or ``("reinforce", {"baseline": "ema"})``
    (any keyword of :func:`estimate_gradient`).  Each row draws ``n_estimates`` independent
    estimates, each from ``n_samples`` cost evaluations (an antithetic pair counts two, a REBAR
    sample three), so the rows compare at equal cost.  An "ema" baseline is made once per row and
    kept across its estimates, as a learner keeps it across training steps.  ``rng`` draws
    the samples (None: the library-wide generator).
    ``one_graph``: draw a row's estimates all at once, from one graph (:func:`estimate_gradient`
    with ``n_estimates``): the same distribution as one call per estimate, many times faster, but
    other draws of the noise, so other numbers.  A row whose baseline is kept across estimates
    ("ema", or a baseline object) is still drawn one estimate at a time.
    Returns a :class:`Comparison` (print it for the table).
    """
    rng = generator(rng, "compare_estimators")
    exact = exact_gradient(cost_fn, logits, kind)
    exact_norm = np.linalg.norm(exact)
    rows = []
    for spec in estimators:
        estimator, options = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
        if estimator not in ESTIMATORS:
            raise ValueError(f"compare_estimators: unknown estimator {estimator!r}; "
                             f"choose one of {', '.join(map(repr, ESTIMATORS))}")
        run_options = dict(options)
        if run_options.get("baseline") == "ema":
            run_options["baseline"] = EMABaseline()
        baseline = run_options.get("baseline")
        if one_graph and (baseline is None or (isinstance(baseline, str) and baseline in PER_CALL_BASELINES)):
            estimates = estimate_gradient(cost_fn, logits, estimator, n_samples, rng, kind, **run_options,
                                          n_estimates=n_estimates)
        else:
            estimates = np.stack([estimate_gradient(cost_fn, logits, estimator, n_samples, rng, kind, **run_options)
                                  for _ in range(n_estimates)])
        flat = estimates.reshape(n_estimates, -1)
        mean = flat.mean(axis=0)
        variance = trace_variance(flat)[0]
        norms = np.linalg.norm(flat, axis=1) * exact_norm
        cosines = np.divide(flat @ exact.ravel(), norms, out=np.zeros(n_estimates), where=norms > 0)
        rows.append(EstimatorStats(label=_label(estimator, options), estimator=estimator, options=options,
                                   estimates=estimates, bias=float(np.linalg.norm(mean - exact.ravel())),
                                   noise_floor=float(np.sqrt(variance / n_estimates)), variance=variance,
                                   cosine=float(cosines.mean())))
    return Comparison(kind=kind, exact=exact, rows=rows)


# ------------------------------------------------------------------ a normal variable: the closed form


def quadratic_normal_gradient(mean, log_std, target):
    """The exact gradient of E_z[(z - target)^2] for z ~ N(mean, sigma^2), sigma = exp(log_std).

    E = (mean - target)^2 + sigma^2, so d/dmean = 2 (mean - target) and d/dsigma = 2 sigma,
    i.e. d/dlog_std = sigma * d/dsigma = 2 sigma^2.  Returns the array [d/dmean, d/dlog_std].
    """
    return np.array([2.0 * (mean - target), 2.0 * np.exp(2.0 * log_std)])


def normal_gradient_estimates(cost_fn, mean, log_std, estimator, n_samples, n_estimates, rng, baseline=None):
    """``n_estimates`` independent estimates of d/d(mean, log_std) E_z[cost_fn(z)], z ~ N(mean, sigma^2).

    mean, log_std: numbers.  Each estimate averages ``n_samples`` draws of
    :func:`~tinygrad_ste.stochastic.sample_normal` with ``estimator`` ("reparameterization"
    or "reinforce", the latter with ``baseline`` "none" or "leave_one_out").  All estimates
    are made in one pass: the parameters are repeated into vectors of ``n_estimates``
    independent copies, so ``cost_fn`` maps draws z (n_samples, n_estimates) elementwise to
    costs of the same shape (with Tensor ops, which the pathwise estimator differentiates).
    Returns an array (n_estimates, 2): the estimates of d/dmean and d/dlog_std.
    """
    if estimator not in NORMAL_ESTIMATORS:
        raise ValueError(f"normal_gradient_estimates: unknown estimator {estimator!r}; "
                         f"choose one of {', '.join(map(repr, NORMAL_ESTIMATORS))}")
    if baseline is not None and estimator != "reinforce":
        raise ValueError(f"normal_gradient_estimates: a baseline only applies to 'reinforce', not to {estimator!r}")
    means = Tensor(np.full(n_estimates, float(mean)), requires_grad=True)
    log_stds = Tensor(np.full(n_estimates, float(log_std)), requires_grad=True)
    z = sample_normal(means, log_stds, rng, estimator=estimator, n_samples=n_samples)   # (n_samples, n_estimates)
    cost = cost_fn(z)
    if estimator == "reinforce":
        # reinforce_loss averages over all n_samples * n_estimates costs; each copy's estimate averages over
        # its own n_samples, hence the factor n_estimates.
        loss = n_estimates * reinforce_loss((means, log_stds), z, cost, kind="normal", baseline=baseline)
    else:
        loss = cost.mean(axis=0).sum()
    loss.backward()
    return np.stack([means.grad, log_stds.grad], axis=1)


_SWEPT_PARAMETERS = ("mean", "sigma", "n_samples")


def normal_variance_sweep(cost_fn, sweeps, runs, n_estimates, rng):
    """The variance of each normal-gradient estimator as one parameter moves and the other two stay fixed.

    sweeps: ``{parameter: (values, fixed)}``, parameter one of "mean", "sigma" (the standard
    deviation; log_std = log sigma) and "n_samples" (draws per estimate), ``fixed`` a dict of the
    other two, e.g. ``{"sigma": ([0.5, 1, 2], {"mean": 0.0, "n_samples": 4})}``.
    runs: ``{label: (estimator, baseline)}`` for :func:`normal_gradient_estimates`.  At every point
    ``n_estimates`` independent estimates of d/d(mean, log_std) E[cost_fn(z)] give the variance
    and its standard error (:func:`trace_variance`); ``rng`` draws them all, sweep by sweep, run
    by run, value by value.  Returns ``{(parameter, label): array (2, len(values))}``: row 0 the
    variances, row 1 their standard errors.
    """
    variances = {}
    for swept, (values, fixed) in sweeps.items():
        if swept not in _SWEPT_PARAMETERS or set(fixed) != set(_SWEPT_PARAMETERS) - {swept}:
            raise ValueError(f"normal_variance_sweep: sweep one of {', '.join(_SWEPT_PARAMETERS)} and fix the other "
                             f"two; got {swept!r} swept with {sorted(fixed)} fixed")
        for label, (estimator, baseline) in runs.items():
            points = [{**fixed, swept: value} for value in values]
            variances[swept, label] = np.array([trace_variance(normal_gradient_estimates(
                cost_fn, p["mean"], np.log(p["sigma"]), estimator, int(p["n_samples"]), n_estimates, rng,
                baseline=baseline)) for p in points]).T
    return variances


def relaxed_bernoulli_expectation(cost_fn, logit, tau, points=200_000):
    """E_L[cost_fn(s)] for the relaxed sample s = sigmoid((logit + L) / tau) of one binary variable.

    s follows the binary Concrete distribution (Maddison et al. 2017), the continuous stand-in
    whose reparameterization is the "gumbel" estimator.  Computed without sampling, by the
    midpoint rule over the uniform U behind the logistic noise L = log U - log(1 - U) with
    ``points`` nodes: a deterministic number.  ``cost_fn`` maps a NumPy array elementwise.
    """
    u = (np.arange(points) + 0.5) / points
    return float(np.mean(cost_fn(sigmoid_array((logit + np.log(u) - np.log1p(-u)) / tau))))


def relaxed_bernoulli_gradient(cost_fn, logit, tau, step=1e-5):
    """d/dlogit of :func:`relaxed_bernoulli_expectation`, by central differences of the quadrature:
    the exact gradient of the relaxed objective, which the "gumbel" estimator is unbiased for."""
    return (relaxed_bernoulli_expectation(cost_fn, logit + step, tau)
            - relaxed_bernoulli_expectation(cost_fn, logit - step, tau)) / (2 * step)


# ------------------------------------------------------------------ the demonstration problems


def demo_problems(rng):
    """Two small problems: (name, cost_fn, logits, kind) for a Bernoulli and a categorical latent.

    Bernoulli: 4 binary variables decoded linearly, c(b) = ||W b - y||^2 (16 outcomes).
    Categorical: 3 variables with 4 classes each, every class an embedding row,
    c(b) = ||sum_v b_v E_v - y||^2 (64 outcomes).  Both costs couple the variables, so the
    relaxed estimators' bias shows.
    """
    weights, target = rng.normal(size=(4, 3)), rng.normal(size=3)

    def bernoulli_cost(b):
        error = b @ weights - target          # (n, 3)
        return (error * error).sum(axis=1)

    embeddings, goal = rng.normal(size=(3, 4, 2)), rng.normal(size=2)

    def categorical_cost(b):
        decoded = (b.reshape(b.shape[0], 12) @ embeddings.reshape(12, 2)) - goal   # (n, 2)
        return (decoded * decoded).sum(axis=1)

    return [("bernoulli", bernoulli_cost, rng.normal(size=4), "bernoulli"),
            ("categorical", categorical_cost, rng.normal(size=(3, 4)), "categorical")]


def main(seed=0, n_samples=4, n_estimates=1000):
    """Print the comparison table for both demonstration problems (fixed seed)."""
    rng = np.random.default_rng(seed)
    for name, cost_fn, logits, kind in demo_problems(rng):
        table = compare_estimators(cost_fn, logits, kind, rng, n_samples=n_samples, n_estimates=n_estimates)
        print(table)
        print()


if __name__ == "__main__":
    main()
