"""Regenerate the key plots in ``figures/`` with the project's own code: no notebook server.

    python -m tinygrad_ste.figures              # every figure, into figures/
    python -m tinygrad_ste.figures --out /tmp/f --quick staircase

Every figure uses a fixed seed, so rerunning on the same machine gives the same pictures.
``--quick`` runs with tiny settings (for the tests): same code path, rougher numbers.  The
figures are made ``--jobs`` at a time (default: one per core), each in a process of its own
with one BLAS thread (the package's default), and a line per figure reports its wall-clock and
CPU time as it is written; figures that share trained runs (``MADE_TOGETHER``) are made in
one process.

Each figure is a function registered with ``@figure`` that returns ``(matplotlib figure,
numbers)``: ``numbers`` maps a name to each number the README's caption of that figure
states, *in the order the caption states them*, settings included (how many estimates,
epochs, ...).  The command writes them, per figure, to ``numbers.json`` beside the PNGs.
``tests/test_figures.py`` reads the caption (the bold paragraph before the figure's image)
and checks that its n-th number, as printed, is the n-th value rounded to the digits
printed (a percentage is the value times 100); numbers inside `code`, "Lesson N" and "section N"
are not counted.  A figure whose caption states no number returns ``{}``.

**Captions that survive another machine.**  Training is chaotic: another CPU or BLAS kernel
moves the last digits of a trained model's error, and sometimes a ranking.  So a caption
quotes numbers only to the precision a regeneration elsewhere reproduces, and every
qualitative statement it makes ("X is clearly lower than Y", "noise wins most often") is
checked by the figure itself on the run it has just made, with its spread:

    difference = compare.paired(a_errors, b_errors)      # per test item, (seeds, items)
    caption_says(numbers, "X's test MSE is clearly lower than Y's", difference.is_clearly("lower"),
                 difference=difference)

:func:`caption_says` records the sentence, whether it holds, and the numbers it rests on
(for a :class:`~tinygrad_ste.compare.PairedDifference`: the difference, its standard error,
z, the smallest difference it would call clear, items and seeds) under
``numbers["caption says"]``, so ``numbers.json`` keeps each statement with its evidence and
a caption may quote them ("3.4 standard errors").  After
writing every figure asked for, the command exits with an error listing each statement
that does not hold (the figures and numbers are still written, to be looked at); with
``--quick`` the statements are recorded but not enforced.  Comparisons follow the wording
rules of :mod:`tinygrad_ste.compare`: "clearly" is at least 3 standard errors of a paired
difference, and comparisons of trained models span at least 3 seeds.

Where a lesson computes the same thing, the figure runs the lesson's own settings; where
it is a larger run, its caption says so and the lesson says how to make it.
"""
import argparse
import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")   # files only: never open a window

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from .. import compare, discrete, viz  # noqa: E402
from ..data import cluttered_digits, load_digits  # noqa: E402
from ..estimators import (compare_estimators, demo_problems, exact_gradient, expected_estimate,  # noqa: E402
                         normal_variance_sweep, trace_variance)
from ..function import no_grad  # noqa: E402
from ..kmeans import kmeans  # noqa: E402
from ..models import (EQUAL_BITS, VAE_ESTIMATORS, benchmark_table, codebook_rate_distortion,  # noqa: E402
                      compare_glimpse_choices, decode_levels, glimpse, kmeans_baseline, kmeans_test_errors,
                      run_benchmark, sample_quality, train_at_equal_bits, train_binary_network,
                      train_categorical_autoencoder, train_code_prior, train_compression_autoencoder, train_conv_vqvae,
                      train_dvae, train_gaussian_vae, train_vq_autoencoder, train_vqvae2)
from ..entropy import EntropyBottleneck  # noqa: E402
from ..tensor import Tensor  # noqa: E402
from ..models.architecture_search import (EDGES, OPERATIONS, SEARCH_LABELS, SEARCHES,  # noqa: E402
                                          search_architecture, train_architecture)
from ..models.bandit import LEARNER_LABELS, LEARNERS, train_bandit  # noqa: E402
from ..models.mixture_of_experts import ROUTER_LABELS, train_mixture_of_experts  # noqa: E402
from ..models.training import Stopwatch  # noqa: E402
from ..moe import ROUTERS  # noqa: E402

SEED = 0
# --quick trains on minibatches this large: a few steps per epoch run every line of a figure, and that is what
# the quick run checks (its numbers are rough, and never the README's).
QUICK_BATCH = 512
FIGURES = {}   # name -> function(quick) -> (figure, numbers), in the order the lessons meet them


STATEMENTS = "caption says"   # the key of numbers[...] under which a figure records its caption's statements


def figure(make):
    """Register ``make(quick) -> (figure, numbers)`` under its function name."""
    FIGURES[make.__name__] = make
    return make


def caption_says(numbers, sentence, holds, difference=None, **evidence):
    """Record that the figure's caption says ``sentence``, whether this run supports it, and why.

    ``holds``: the check, on numbers this run computed (for a comparison, e.g.
    ``difference.is_clearly("lower")``).  ``difference``: the
    :class:`~tinygrad_ste.compare.PairedDifference` it rests on, if any; its mean, standard
    error, z, detectable difference (3 SE), items and seeds are recorded.  ``evidence``: any other numbers it rests on.
    Stored as ``numbers["caption says"][sentence]``; :func:`main` fails when ``holds`` is false.
    """
    if difference is not None:
        evidence = dict(difference=difference.mean, standard_error=difference.se, z=difference.z,
                        detectable=difference.detectable, items=difference.n_items, seeds=difference.n_seeds,
                        **evidence)
    numbers.setdefault(STATEMENTS, {})[sentence] = {"holds": bool(holds),
                                                    **{key: float(value) for key, value in evidence.items()}}


def failed_statements(numbers):
    """The sentences of ``numbers["caption says"]`` that the run did not support."""
    return [sentence for sentence, record in numbers.get(STATEMENTS, {}).items() if not record["holds"]]


@figure
def staircase(quick):
    """round(x) and the gradient of each of its rules ("zero", "identity", "clipped")."""
    grid = np.linspace(-2.5, 2.5, 101 if quick else 1001)
    gradients = {}
    for rule in discrete.Round.rules:
        x = Tensor(grid, requires_grad=True)
        discrete.round(x, backward=rule).sum().backward()
        gradients[rule] = x.grad
    return viz.plot_staircase(grid, np.round(grid), gradients), {}   # the caption states no number


def _categorical_demo(rng):
    """The small categorical problem of ``estimators.demo_problems``: (cost_fn, logits)."""
    (_, cost_fn, logits, kind), = [problem for problem in demo_problems(rng) if problem[3] == "categorical"]
    return cost_fn, logits


def _estimate_variance(row):
    """The total variance of one row of ``compare_estimators`` and its standard error: ``(variance, se)``."""
    return trace_variance(row.estimates.reshape(len(row.estimates), -1))


def _variance_difference(higher, lower):
    """The difference of two independent rows' total variances in standard errors (its z)."""
    (v_high, se_high), (v_low, se_low) = _estimate_variance(higher), _estimate_variance(lower)
    return (v_high - v_low) / np.hypot(se_high, se_low)


@figure
def estimator_histograms(quick):
    """Many independent estimates of one gradient entry, one histogram per estimator."""
    rng = np.random.default_rng(SEED)
    cost_fn, logits = _categorical_demo(rng)
    n_estimates, n_samples = (20 if quick else 1000), 4
    comparison = compare_estimators(cost_fn, logits, "categorical", rng, n_samples=n_samples, n_estimates=n_estimates)
    largest = np.unravel_index(np.abs(comparison.exact).argmax(), comparison.exact.shape)   # where bias shows most
    exact = comparison.exact[largest]
    # Each estimate against the exact value: the mean of (estimate - exact) and its Monte Carlo standard error.
    misses = {row.label: compare.paired(row.estimates[(slice(None),) + largest], np.full(n_estimates, exact))
              for row in comparison}
    rows = {row.label: row for row in comparison}
    numbers = {"estimates": n_estimates, "samples per estimate": n_samples, "variables": logits.shape[0],
               "classes": logits.shape[1], "outcomes": logits.shape[1] ** logits.shape[0], "exact": float(exact),
               "straight_through: mean": exact + misses["straight_through"].mean,
               "straight_through: standard error": misses["straight_through"].se,
               "reinforce: mean": exact + misses["reinforce"].mean, "reinforce: standard error": misses["reinforce"].se,
               **{f"{label}: total variance": _estimate_variance(rows[label])[0]
                  for label in ("reinforce", "reinforce, baseline=ema", "reinforce, baseline=leave_one_out")}}
    relaxed = [label for label, row in rows.items() if row.estimator in ("straight_through", "gumbel",
                                                                        "straight_through_gumbel")]
    nearest = min(relaxed, key=lambda label: abs(misses[label].z))
    caption_says(numbers, "the means of straight-through and the Gumbel estimators each miss the exact value clearly "
                          f"(3 standard errors; nearest: {nearest})",
                 all(abs(misses[label].z) >= compare.CLEARLY for label in relaxed), misses[nearest])
    unbiased = [label for label, row in rows.items() if row.estimator in ("reinforce", "reinmax")]
    farthest = max(unbiased, key=lambda label: abs(misses[label].z))
    caption_says(numbers, f"the means of REINFORCE (with and without baselines) and ReinMax are within 2 standard "
                          f"errors of the exact value (farthest: {farthest})",
                 all(abs(misses[label].z) < compare.TIED for label in unbiased), misses[farthest])
    for baseline in ("reinforce, baseline=ema", "reinforce, baseline=leave_one_out"):
        z = _variance_difference(rows["reinforce"], rows[baseline])
        caption_says(numbers, f"{baseline}: a clearly lower total variance than REINFORCE without one (3 SE)",
                     z >= compare.CLEARLY, z=z)
    return viz.plot_estimates(comparison, index=largest), numbers


# Straight-through's and ReinMax's bias is computed exactly (they depend on the sample only) at the swept
# temperatures and at these lower ones, where straight-through's turns down again.
EXACT_BIAS_BELOW_SWEEP = (0.05, 0.01)


@figure
def estimator_temperature(quick):
    """Bias and variance of the estimators that have a temperature, against the temperature."""
    rng = np.random.default_rng(SEED)
    cost_fn, logits = _categorical_demo(rng)
    temperatures = [0.1, 1.0] if quick else [0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
    n_estimates, n_samples = (20 if quick else 1000), 4
    swept = ["gumbel", "straight_through_gumbel", "straight_through", "reinmax"]
    bias, variance, noise_floor = ({name: [] for name in swept} for _ in range(3))
    rows = {}
    for tau in temperatures:
        compared = compare_estimators(cost_fn, logits, "categorical", rng,
                                      estimators=[(name, {"tau": tau}) for name in swept],
                                      n_samples=n_samples, n_estimates=n_estimates)
        for name, row in zip(swept, compared):
            rows[name, tau] = row
            bias[name].append(row.bias)
            variance[name].append(row.variance)
            noise_floor[name].append(row.noise_floor)
    # Straight-through and ReinMax depend on the sample only, so their bias is also known exactly.
    exact = exact_gradient(cost_fn, logits, "categorical")
    exact_taus = sorted(set(temperatures) | set(EXACT_BIAS_BELOW_SWEEP))
    exact_bias = {(name, tau): float(np.linalg.norm(expected_estimate(cost_fn, logits, name, "categorical", tau=tau)
                                                    - exact)) for name in ("straight_through", "reinmax")
                  for tau in exact_taus}
    numbers = {"estimates": n_estimates, "samples per estimate": n_samples,
               **{f"straight_through, tau={tau:g}: exact bias": exact_bias["straight_through", tau]
                  for tau in exact_taus},
               "exact gradient: size": float(np.linalg.norm(exact)),
               "reinmax, tau=1: exact bias": exact_bias["reinmax", 1.0]}
    falling = [tau for tau in temperatures if tau <= 1.0][::-1]   # 1, 0.5, ..., 0.1
    st = [exact_bias["straight_through", tau] for tau in falling]
    caption_says(numbers, "plain straight-through's exact bias is smallest at tau = 1 of the swept temperatures and "
                          "rises at each lower one down to 0.1",
                 min(exact_bias["straight_through", tau] for tau in temperatures) == st[0] and bool(np.all(np.diff(st) > 0)))
    caption_says(numbers, "below the sweep, straight-through's exact bias falls again, toward the size of the exact "
                          "gradient", exact_bias["straight_through", min(EXACT_BIAS_BELOW_SWEEP)] <
                 exact_bias["straight_through", min(temperatures)])
    caption_says(numbers, "ReinMax's exact bias at tau = 1 is 0 up to rounding error",
                 exact_bias["reinmax", 1.0] < 1e-12 * np.linalg.norm(exact), bias=exact_bias["reinmax", 1.0])
    for name in ("gumbel", "straight_through_gumbel"):   # the Monte Carlo estimates: at tau = 1 against the lowest tau
        cold, warm = rows[name, min(temperatures)], rows[name, 1.0]
        # |measured bias - bias| <= |mean estimate - its expectation|, whose root mean square is the noise floor;
        # the two rows are independent, so the noise floors combine like standard errors (a bound on the error)
        bias_z = (warm.bias - cold.bias) / np.hypot(warm.noise_floor, cold.noise_floor)
        caption_says(numbers, f"{name}: a clearly lower bias at the lowest tau than at tau = 1 (3 noise floors)",
                     bias_z >= compare.CLEARLY, z=bias_z)
        variance_z = _variance_difference(cold, warm)
        caption_says(numbers, f"{name}: a clearly higher variance at the lowest tau than at tau = 1 (3 SE)",
                     variance_z >= compare.CLEARLY, z=variance_z)
    return viz.plot_bias_variance(temperatures, bias, variance, "temperature tau", noise_floor=noise_floor,
                                  title="Gradient estimators with a temperature: the bias-variance trade-off "
                                        f"({n_estimates} estimates of {n_samples} samples per point)"), numbers


@figure
def estimator_training(quick):
    """The categorical autoencoder of lesson 3 section 7, larger (128 hidden units, 20 epochs instead of 64 and 6):
    left, a temperature sweep for each estimator that has one (seed 0); right, each estimator at the
    temperature that did best there, mean test MSE per epoch over three other seeds, compared pair by
    pair over the test images and those seeds.

    One training run is chaotic: a last-bit difference in a matrix product grows into a visibly different
    final error (the same seed gave REINFORCE without a baseline 0.0614 on one machine, 0.0581 on another).
    The number of BLAS threads is not the cause here (1 and 2 OpenBLAS threads give identical runs); the
    BLAS kernel each CPU gets is.  So the right panel, and the README, report means over seeds.
    """
    settings = dict(epochs=2, hidden=16, batch_size=QUICK_BATCH) if quick else dict(hidden=128, epochs=20)
    temperatures = [0.5, 2.0] if quick else [0.5, 1.0, 1.5, 2.0]
    seeds = [1, 2] if quick else [1, 2, 3]
    swept = ["straight_through", "gumbel", "straight_through_gumbel", "reinmax"]
    sweep = {name: [train_categorical_autoencoder(name, tau=tau, **settings, seed=SEED).test_mse
                    for tau in temperatures] for name in swept}
    chosen = {name: temperatures[int(np.argmin(sweep[name]))] for name in swept}
    runs = {f"{name}, tau={chosen[name]:g}": dict(estimator=name, tau=chosen[name]) for name in swept}
    runs.update({"reinforce, leave_one_out": dict(estimator="reinforce", baseline="leave_one_out"),
                 "reinforce, no baseline": dict(estimator="reinforce", baseline="none")})
    curves, final, errors = {}, {}, {}
    for label, options in runs.items():
        results = [train_categorical_autoencoder(**options, **settings, seed=seed) for seed in seeds]
        curves[label] = np.mean([r.history["test_mse"] for r in results], axis=0)
        final[label] = np.array([r.test_mse for r in results])
        errors[label] = _test_errors(results)

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.6), gridspec_kw=dict(width_ratios=[1, 1.5]))
    viz.plot_curves(temperatures, sweep, "temperature tau", f"test MSE after {settings['epochs']} epochs",
                    f"Temperature sweep (seed {SEED})", logx=True, ax=left, legend=False)
    left.set_xticks(temperatures, [f"{tau:g}" for tau in temperatures])
    left.legend(fontsize=8)
    viz.plot_curves(np.arange(1, settings["epochs"] + 1),
                    {f"{label}: final {final[label].mean():.4f}": curve for label, curve in curves.items()},
                    "epoch", "test reconstruction MSE", f"Each estimator at its best tau: mean of seeds "
                    f"{', '.join(map(str, seeds))}", logy=True, ax=right)
    fig.suptitle("Digits autoencoder with 8 categorical latents of 8 classes")
    fig.tight_layout()
    numbers = {"hidden": settings["hidden"], "epochs": settings["epochs"], "lesson hidden": 64, "lesson epochs": 6,
               **{f"tau {i + 1}": tau for i, tau in enumerate(temperatures)}, "seeds": len(seeds)}
    for label in runs:
        name = runs[label]["estimator"]
        if name in chosen:
            numbers[f"{name}: chosen tau"] = chosen[name]
        key = label.split(", tau=")[0]   # stable whichever tau was chosen
        numbers[f"{key}: mean test MSE"] = float(final[label].mean())
        numbers[f"{key}: standard error"] = float(final[label].std(ddof=1) / np.sqrt(len(seeds)))
    caption_says(numbers, "the best tau is not the same for every estimator", len(set(chosen.values())) > 1)
    label_of = {label.split(", tau=")[0]: label for label in runs}
    baseline = compare.paired(errors[label_of["reinforce, no baseline"]], errors[label_of["reinforce, leave_one_out"]])
    caption_says(numbers, "REINFORCE without a baseline: a clearly higher test MSE than with leave-one-out",
                 baseline.is_clearly("higher"), baseline)
    above = {name: compare.paired(errors[label_of["reinforce, leave_one_out"]], errors[label_of[name]]) for name in swept}
    weakest = min(above, key=lambda name: above[name].z)
    caption_says(numbers, "REINFORCE with leave-one-out: a clearly higher test MSE than each estimator with a "
                          f"temperature (the least clear: {weakest})",
                 all(d.is_clearly("higher") for d in above.values()), above[weakest])
    ahead = {(a, b): compare.paired(errors[label_of[a]], errors[label_of[b]])
             for a in ("reinmax", "straight_through_gumbel") for b in ("straight_through", "gumbel")}
    weakest = max(ahead, key=lambda pair: ahead[pair].z)
    caption_says(numbers, "ReinMax and straight-through Gumbel: a lower test MSE than straight-through and "
                          f"Gumbel-softmax, each by 2 standard errors or more (the least: {weakest[0]} - {weakest[1]})",
                 all(d.z <= -compare.TIED for d in ahead.values()), ahead[weakest])
    return fig, numbers


SEEDS = (0, 1, 2)   # the seeds of every figure that compares trained models

BINARY_RUNS = {"real weights": dict(rule=None),
               "binary weights, identity": dict(rule="identity"),
               "binary weights, clipped": dict(rule="clipped"),
               "binary weights + activations, identity": dict(rule="identity", binarize_activations=True),
               "binary weights + activations, clipped": dict(rule="clipped", binarize_activations=True),
               "XNOR-Net weights": dict(rule="identity", weights="xnor"),
               "ternary (TWN)": dict(rule="identity", weights="ternary"),
               "XNOR-Net (+ scaled binary activations)": dict(rule="clipped", binarize_activations=True,
                                                              weights="xnor")}


@lru_cache(maxsize=None)
def _binary_runs(quick):
    """Lesson 4's classifiers, with its seeds and settings, trained longer: ``{label: [result per seed]}`` (trained
    once per process)."""
    settings = dict(epochs=2, hidden=16, batch_size=QUICK_BATCH) if quick else \
        dict(hidden=128, epochs=15)   # lesson 4's settings, but 15 epochs where the lesson trains 10
    return {label: [train_binary_network(**options, **settings, seed=seed) for seed in SEEDS]
            for label, options in BINARY_RUNS.items()}


def _test_correct(results, attribute="test_correct"):
    """Per-image test correctness (1 or 0) of one classifier trained with several seeds: (seeds, test images);
    ``attribute`` names the result's per-image scores (a glimpse model's "test_correct_as_trained")."""
    return np.stack([getattr(r, attribute) for r in results]).astype(np.float64)


NEGLIGIBLE_ACCURACY = 0.02   # an accuracy gap under 2 points is one the lessons call negligible


@figure
def binary_network(quick):
    """Training accuracy of BinaryConnect / BinaryNet against the same network with real weights
    (mean over lesson 4's seeds): the runs of lesson 4, section 3, trained for 15 epochs instead of 10."""
    runs = {label: results for label, results in _binary_runs(quick).items() if label in list(BINARY_RUNS)[:5]}
    first = runs["real weights"][0].options
    accuracy = {label: float(_test_correct(results).mean()) for label, results in runs.items()}
    drawn = viz.plot_curves(np.arange(1, first["epochs"] + 1),
                            {f"{label}: test {accuracy[label]:.1%}": np.mean([r.history["accuracy"] for r in results],
                                                                              axis=0)
                             for label, results in runs.items()},
                            "epoch", "training accuracy",
                            f"Binary networks on the digits (64-{first['hidden']}-10, Adam, mean of {len(SEEDS)} "
                            "seeds); the identity curve hides under the clipped one")
    numbers = {"hidden": first["hidden"], "epochs": first["epochs"], "seeds": len(SEEDS)}
    numbers.update({f"{label}: test accuracy": value for label, value in accuracy.items()
                    if label != "binary weights, clipped"})   # the caption states it once: it equals identity's
    same = all(identity.history == clipped.history for identity, clipped in
               zip(runs["binary weights, identity"], runs["binary weights, clipped"]))
    caption_says(numbers, "binary weights: the identity and clipped rules give the very same run in every seed", same)
    real = compare.paired(_test_correct(runs["real weights"]), _test_correct(runs["binary weights, identity"]))
    caption_says(numbers, "real weights and binary weights cannot be told apart", real.is_tie(NEGLIGIBLE_ACCURACY),
                 real, negligible=NEGLIGIBLE_ACCURACY)
    activations = compare.paired(_test_correct(runs["binary weights + activations, clipped"]),
                                 _test_correct(runs["binary weights + activations, identity"]))
    caption_says(numbers, "binary activations: the clipped rule is not clearly ahead of the identity rule, nor behind",
                 abs(activations.z) < compare.CLEARLY, activations)
    return drawn, numbers


def zero_weight_fraction(model):
    """Share of a BinaryNetwork's forward-pass weights that are exactly 0 (ternary weights have many)."""
    with no_grad():
        weights = [discrete.ternarize(layer.weight).data if model.weights == "ternary" else layer.weight.data
                   for layer in (model.hidden, model.output)]
    return float(np.mean(np.concatenate([w.ravel() for w in weights]) == 0))


@figure
def ternary_xnor(quick):
    """Test accuracy of ternary (TWN) and XNOR-Net weights beside BinaryConnect and real weights: lesson 4's
    runs, mean over its seeds."""
    shown = {"real weights": "real weights", "BinaryConnect (sign)": "binary weights, identity",
             "XNOR-Net weights": "XNOR-Net weights", "ternary (TWN)": "ternary (TWN)",
             "BinaryNet (+ binary activations)": "binary weights + activations, clipped",
             "XNOR-Net (+ scaled binary activations)": "XNOR-Net (+ scaled binary activations)"}
    runs = {label: _binary_runs(quick)[run] for label, run in shown.items()}
    correct = {label: _test_correct(results) for label, results in runs.items()}
    zeros = float(np.mean([zero_weight_fraction(r.model) for r in runs["ternary (TWN)"]]))
    bars = {(f"{label}, {zeros:.0%} zeros" if label == "ternary (TWN)" else label): c.mean()
            for label, c in correct.items()}
    epochs = runs["real weights"][0].options["epochs"]
    drawn = viz.plot_bars(bars, "test accuracy", "Quantized weights on the 8x8 digits (64-128-10, Adam, "
                          f"{epochs} epochs, mean of {len(SEEDS)} seeds)", fmt="{:.1%}", ylim=(0.8, 1.0))
    numbers = {**{f"{label}: test accuracy": float(c.mean()) for label, c in correct.items()},
               "ternary (TWN): zero weights": zeros,
               # settings the caption states
               "ternary levels -1, 0, +1": 3, "epochs": epochs, "seeds": len(SEEDS),
               "test images": len(load_digits("test")[0]),
               "threshold / mean |W|": discrete.ternary_threshold_and_scale(np.ones(4))[0].item()}
    weights = ["real weights", "BinaryConnect (sign)", "XNOR-Net weights", "ternary (TWN)"]
    gaps = {(a, b): compare.paired(correct[a], correct[b]) for i, a in enumerate(weights) for b in weights[i + 1:]}
    ahead = gaps["real weights", "XNOR-Net weights"]
    # Only "on average": at 2.6 standard errors on this machine, a regeneration elsewhere (chaotic training)
    # may land on either side of 2 or 3.
    caption_says(numbers, "real weights are ahead of XNOR-Net weights on average", ahead.mean > 0, ahead)
    others = {pair: gap for pair, gap in gaps.items() if pair != ("real weights", "XNOR-Net weights")}
    largest = max(others, key=lambda pair: abs(others[pair].z))
    caption_says(numbers, "no other gap between real, BinaryConnect, XNOR-Net and ternary weights is clear (3 SE); "
                          f"the largest is {largest[0]} minus {largest[1]}",
                 all(abs(gap.z) < compare.CLEARLY for gap in others.values()), others[largest])
    # A tie only for ternary weights: XNOR-Net against BinaryConnect is not clear (the statement above), but the
    # smallest gap three seeds detect there was 1.9 points on this machine, too close to the 2 a tie needs.
    tie = gaps["BinaryConnect (sign)", "ternary (TWN)"]
    caption_says(numbers, "ternary (TWN) and BinaryConnect cannot be told apart", tie.is_tie(NEGLIGIBLE_ACCURACY), tie,
                 negligible=NEGLIGIBLE_ACCURACY)
    return drawn, numbers




@lru_cache(maxsize=None)
def _vq_runs(quick):
    """The three VQ autoencoders of lesson 5, with its settings and seeds: ``{label: [result per seed]}``;
    the VQ figures share them (trained once per process)."""
    settings = dict(num_codes=16, codes_per_image=8, code_dim=8, hidden=16, epochs=1, batch_size=QUICK_BATCH) if quick else \
        dict(num_codes=128, codes_per_image=8, code_dim=8, hidden=64, epochs=40)   # lesson 5, section 2
    variants = {"straight-through + restart": dict(rule="identity"),
                "straight-through, no restart": dict(rule="identity", restart_after=None),
                "rotation trick + restart": dict(rule="rotation")}
    return {label: [train_vq_autoencoder(**options, **settings, seed=seed) for seed in SEEDS]
            for label, options in variants.items()}


def _test_errors(results, attribute="test_errors"):
    """Per-image test errors of one model trained with several seeds: (seeds, test images); ``attribute``
    names the result's per-image errors ("test_errors_soft": a dVAE's soft mixtures)."""
    return np.stack([getattr(r, attribute) for r in results])


@figure
def vq_training(quick):
    """Reconstruction error per epoch of the three VQ autoencoders (mean over seeds), against the k-means baseline."""
    runs = _vq_runs(quick)
    first = runs["straight-through + restart"][0]
    codes, epochs = first.options["num_codes"], first.options["epochs"]
    kmeans_errors = kmeans_test_errors(codes, SEED)
    drawn = viz.plot_curves(np.arange(1, epochs + 1),
                            {f"{label} (test {np.mean([r.test_mse for r in rs]):.4f})":
                             np.mean([r.history["reconstruction"] for r in rs], axis=0) for label, rs in runs.items()},
                            "epoch", "reconstruction MSE (training batches)",
                            f"VQ autoencoder, {first.options['codes_per_image']} codes per image from {codes}, "
                            f"against one code per image (mean of {len(SEEDS)} seeds)", logy=True, markers=False,
                            reference=(f"k-means, {codes} centres (test {kmeans_errors.mean():.4f})",
                                       kmeans_errors.mean()))
    numbers = {"codes per image": first.options["codes_per_image"], "codes": codes, "epochs": epochs,
               "seeds": len(SEEDS)}
    numbers.update({f"{label}: test MSE": float(_test_errors(rs).mean()) for label, rs in runs.items()})
    numbers["k-means: test MSE"] = float(kmeans_errors.mean())
    for label, rs in runs.items():
        errors = _test_errors(rs)
        versus_kmeans = compare.paired(errors, np.broadcast_to(kmeans_errors, errors.shape))
        caption_says(numbers, f"{label}: test MSE clearly lower than k-means's", versus_kmeans.is_clearly("lower"),
                     versus_kmeans)
    rotation = compare.paired(_test_errors(runs["rotation trick + restart"]),
                              _test_errors(runs["straight-through + restart"]))
    caption_says(numbers, "the rotation trick's test MSE is clearly lower than straight-through's",
                 rotation.is_clearly("lower"), rotation)
    restart = compare.paired(_test_errors(runs["straight-through + restart"]),
                             _test_errors(runs["straight-through, no restart"]))
    caption_says(numbers, "restarts lower the test MSE, by 2 standard errors or more", restart.z <= -compare.TIED,
                 restart)
    return drawn, numbers


@figure
def vq_codebook_usage(quick):
    """How often each code is chosen on the training set, without and with dead-code restart (seed 0);
    unused codes and perplexity over every seed."""
    images = load_digits("train")[0]
    counts, unused, perplexity = {}, {}, {}
    for label in ["straight-through, no restart", "straight-through + restart"]:
        results = _vq_runs(quick)[label]
        usages = []
        for result in results:
            with no_grad():
                _, indices, _ = result.model(Tensor(images))
            usages.append(np.bincount(indices.ravel(), minlength=result.options["num_codes"]))
        unused[label] = np.array([(usage == 0).sum() for usage in usages])
        perplexity[label] = np.array([r.perplexity for r in results])
        counts[f"{label}, seed {SEED}: test perplexity {results[0].perplexity:.0f}"] = usages[0]
    restarted = _vq_runs(quick)["straight-through + restart"][0].options
    no, yes = "straight-through, no restart", "straight-through + restart"
    numbers = {"no restart: least unused codes": int(unused[no].min()),
               "no restart: most unused codes": int(unused[no].max()), "codes": restarted["num_codes"],
               "seeds": len(SEEDS), "no restart: highest test perplexity": float(perplexity[no].max()),
               "restart after steps": restarted["restart_after"], "restart: most unused codes": int(unused[yes].max()),
               "restart: lowest test perplexity": float(perplexity[yes].min())}
    caption_says(numbers, "in every seed, restarts leave fewer unused codes and a higher test perplexity",
                 bool(np.all(unused[yes] < unused[no]) and np.all(perplexity[yes] > perplexity[no])))
    return viz.plot_code_usage(counts, title="VQ autoencoder: code usage on the training set, "
                                             "without and with dead-code restart"), numbers


@figure
def vq_reconstructions(quick):
    """Test digits, two VQ autoencoders' reconstructions (seed 0) and the k-means one."""
    runs = _vq_runs(quick)
    originals = load_digits("test")[0][:12]
    rows = {"original": originals}
    for label in ["straight-through + restart", "rotation trick + restart"]:
        with no_grad():
            rows[f"{label}"] = runs[label][0].model(Tensor(originals))[0].data.clip(0, 1)
    num_codes = runs["rotation trick + restart"][0].options["num_codes"]
    centres, _ = kmeans(load_digits("train")[0], num_codes, np.random.default_rng(SEED))
    rows[f"k-means ({num_codes})"] = centres[discrete.nearest_code(originals, centres)]
    return viz.show_images(rows, title="Test digits and their reconstructions"), {}


# What mse_vs_bits's caption says of the ranking: (bits, clearly lower, than).
MSE_VS_BITS_RANKING = ((40, "FSQ", "VQ"), (40, "RVQ", "VQ"))


@figure
def mse_vs_bits(quick):
    """Test MSE against bits per image: VQ, FSQ and residual VQ at equal bits (mean of the seeds), and the
    k-means baseline."""
    settings = dict(epochs=1, hidden=16, batch_size=QUICK_BATCH) if quick else dict(epochs=60, hidden=128)
    runs = [train_at_equal_bits(**settings, seed=seed) for seed in SEEDS]   # one {budget: {kind: result}} per seed
    budgets, kinds = sorted(runs[0]), list(EQUAL_BITS[min(EQUAL_BITS)])
    errors = {(b, kind): _test_errors([run[b][kind] for run in runs]) for b in budgets for kind in kinds}
    series = {kind: ([runs[0][b][kind].bits for b in budgets], [errors[b, kind].mean() for b in budgets])
              for kind in kinds}
    largest = [run[budgets[-1]]["RVQ"] for run in runs]   # the same model with its first 1, 2, ... stages
    stages, bits = len(largest[0].stage_mse), largest[0].bits
    stage_mse = np.mean([r.stage_mse for r in largest], axis=0)
    rvq_label = f"RVQ ({bits:.0f}-bit model), first q stages"
    series[rvq_label] = ([bits * q / stages for q in range(1, stages + 1)], stage_mse)
    baseline_bits = budgets if quick else [4, 6, 8, np.log2(1438)] + budgets
    baselines = {b: kmeans_baseline(b, SEED) for b in baseline_bits}   # (test MSE, centres)
    baseline_label = "k-means baseline: min(2^bits, 1438 training images) centres"
    series[baseline_label] = (baseline_bits, [baselines[b][0] for b in baseline_bits])
    drawn = viz.plot_xy(series, "bits per image", "test reconstruction MSE",
                        f"Digits autoencoders at equal bits ({settings['epochs']} epochs each, mean of "
                        f"{len(SEEDS)} seeds)", logy=True, dashed={baseline_label, rvq_label})
    numbers = {"epochs": settings["epochs"], "seeds": len(SEEDS)}
    numbers.update({f"{kind}, {b} bits: {statistic}": value for b in budgets for kind in kinds
                    for statistic, value in (("test MSE", float(errors[b, kind].mean())),
                                             ("bits", runs[0][b][kind].bits),
                                             ("perplexity", float(np.mean([run[b][kind].perplexity for run in runs]))))})
    numbers.update({f"k-means baseline, {b} bits": baselines[b][0] for b in budgets})
    numbers.update({f"RVQ, {budgets[-1]} bits, first {q} stages: test MSE": float(mse)
                    for q, mse in enumerate(stage_mse, start=1)})
    training_images = len(load_digits("train")[0])   # settings the caption states
    numbers.update({"lesson epochs": 10, "training images": training_images,
                    "log2 training images": float(np.log2(training_images)),
                    f"FSQ, {budgets[-1]} bits: grid points": int(np.prod(EQUAL_BITS[budgets[-1]]["FSQ"]["levels"]))})
    for b in budgets:
        kmeans_errors = kmeans_test_errors(baselines[b][1], SEED)
        for kind in kinds:
            difference = compare.paired(errors[b, kind], np.broadcast_to(kmeans_errors, errors[b, kind].shape))
            caption_says(numbers, f"{b} bits: {kind}'s test MSE clearly lower than the k-means baseline's",
                         difference.is_clearly("lower"), difference)
    for b, better, worse in MSE_VS_BITS_RANKING:
        difference = compare.paired(errors[b, better], errors[b, worse])
        caption_says(numbers, f"{b} bits: {better}'s test MSE clearly lower than {worse}'s",
                     difference.is_clearly("lower"), difference)
    return drawn, numbers


# ------------------------------------------------------------------ learned compression (lesson 7)


@figure
def rounding_proxies(quick):
    """What the decoder sees, the rate and its gradient under the three proxies for rounding."""
    bottleneck = EntropyBottleneck(1, cdf="logistic", init_scale=0.8)
    picture = viz.plot_rounding_proxies(bottleneck, np.linspace(-3, 3, 121 if quick else 601),
                                        np.random.default_rng(SEED))
    draws = 2000 if quick else 200000
    y = np.random.default_rng(SEED + 1).normal(0, 3, (draws, 1))
    noisy = EntropyBottleneck(1, proxy="noise", rng=np.random.default_rng(SEED))(Tensor(y))[0].data
    numbers = {"noise variance": float((noisy - y).var()),
               "rounding error variance": float((np.round(y) - y).var()), "1/12": 1 / 12, "draws": draws}
    for name, error in (("noise", noisy - y), ("rounding error", np.round(y) - y)):
        # the variance is the mean of the squared deviations: against 1/12, with its Monte Carlo standard error
        versus = compare.paired(((error - error.mean()) ** 2).ravel(), np.full(draws, 1 / 12))
        caption_says(numbers, f"{name}: the variance is within 2 standard errors of 1/12", abs(versus.z) < compare.TIED,
                     versus)
    return picture, numbers


@figure
def rate_distortion(quick):
    """Rate-distortion curves of the compression autoencoder, one per proxy (mean of the seeds), with
    lesson 7's codebook compressors (k-means, VQ, FSQ, residual VQ) on the same axes; the test objective of each run."""
    proxies, seeds = ("noise", "round", "mixed"), SEEDS

    def objective(r):   # what training minimised, on the test split with true rounding
        return r.test_bits + r.options["lam"] * 64 * r.test_mse

    if quick:
        settings, lambdas, seeds = dict(latent_channels=4, hidden=16, epochs=1, batch_size=QUICK_BATCH), (3, 30), (0, 1)
        codebooks = dict(kmeans_sizes=(4, 16), vectors_per_image=(1, 2), residual_stages=2, hidden=16, epochs=1)
    else:   # lesson 7 calls codebook_rate_distortion with its defaults: 1, 2, 4 vectors, hidden 64, 20 epochs
        settings, lambdas = dict(latent_channels=16, hidden=128, epochs=20), (3, 10, 30, 100, 300)
        codebooks = dict(kmeans_sizes=(2, 4, 8, 16, 32, 64, 128, 256, 512), vectors_per_image=(2, 4, 8),
                         residual_vectors=2, residual_stages=4, hidden=128, epochs=20)
    runs = {(proxy, lam, seed): train_compression_autoencoder(proxy, lam, **settings, seed=seed)
            for proxy in proxies for lam in lambdas for seed in seeds}
    numbers, curves = {}, {}
    for proxy in proxies:
        for lam in lambdas:
            chosen = [runs[proxy, lam, seed] for seed in seeds]
            numbers[f"{proxy}, lambda={lam}: bits"] = float(np.mean([r.test_bits for r in chosen]))
            numbers[f"{proxy}, lambda={lam}: test MSE"] = float(np.mean([r.test_mse for r in chosen]))
            numbers[f"{proxy}, lambda={lam}: objective"] = float(np.mean([objective(r) for r in chosen]))
        curves[f'proxy "{proxy}"'] = ([numbers[f"{proxy}, lambda={lam}: bits"] for lam in lambdas],
                                      [numbers[f"{proxy}, lambda={lam}: test MSE"] for lam in lambdas])
    for proxy in proxies:   # how often each proxy had the lowest test objective, over (lambda, seed)
        numbers[f"{proxy}: wins"] = sum(min(proxies, key=lambda p: objective(runs[p, lam, seed])) == proxy
                                        for lam in lambdas for seed in seeds)
    numbers["runs compared"] = len(lambdas) * len(seeds)
    caption_says(numbers, "the proxy with the lowest test objective changes with lambda",
                 len({min(proxies, key=lambda p: numbers[f"{p}, lambda={lam}: objective"]) for lam in lambdas}) > 1)
    # Straight-through rounding: clearly the worst at the smallest lambda; at the largest, where its mean has
    # come out below the others' in some runs and above in others, no longer clearly worse than either.
    for lam, chosen_lambda in (("smallest", lambdas[0]), ("largest", lambdas[-1])):
        objectives = {p: [objective(runs[p, chosen_lambda, seed]) for seed in seeds] for p in proxies}
        for other in ("noise", "mixed"):
            difference = compare.across_seeds(objectives["round"], objectives[other])
            if lam == "smallest":
                caption_says(numbers, f"at the smallest lambda, straight-through rounding's test objective is clearly "
                                      f"higher than {other}'s", difference.is_clearly("higher"), difference)
            else:
                caption_says(numbers, f"at the largest lambda, straight-through rounding's test objective is not "
                                      f"clearly higher than {other}'s", difference.z < compare.CLEARLY, difference)
    numbers.update({"epochs": settings["epochs"], "lesson VQ epochs": 20})   # settings the caption states
    codebook_curves = codebook_rate_distortion(**codebooks, seed=SEED)
    curves.update(codebook_curves)
    numbers.update({f"{label}, {b:g} bits: test MSE": m for label, (bits, mse) in codebook_curves.items()
                    for b, m in zip(bits, mse)})
    kmeans_curve = codebook_curves["k-means (log2 K bits)"]
    caption_says(numbers, "k-means has a lower test MSE than the VQ, FSQ and residual-VQ autoencoders at every rate "
                          "it reaches", all(mse > np.interp(b, *kmeans_curve) for label, (bits, mses) in
                                            codebook_curves.items() if not label.startswith("k-means")
                                            for b, mse in zip(bits, mses) if b <= max(kmeans_curve[0])))
    # The real bitstream of one model against its estimate.
    chosen = runs["mixed", lambdas[len(lambdas) // 2], seeds[0]]
    test_images = Tensor(load_digits("test")[0])
    numbers["bitstream: estimated bits"] = chosen.test_bits * len(test_images.data)
    numbers["bitstream: written bits"] = 8 * len(chosen.model.compress(test_images))
    title = ("Learned compression of the test digits, true rounding" +
             (f" ({settings['latent_channels']} latents, {settings['epochs']} epochs, mean of {len(seeds)} seeds)"))
    return viz.plot_rate_distortion(curves, title), numbers


GLIMPSE_SEEDS = {2: (0, 1, 2, 3, 4), 3: (0, 1, 2)}   # canvas grid -> seeds of the full run
GLIMPSE_EPOCHS = 20                                 # of every glimpse model in the full run
GLIMPSE_CLUTTER = {2: 6, 3: 5}                        # canvas grid -> side of the clutter crops


@lru_cache(maxsize=None)
def _glimpse_runs(quick, grid):
    """Every way of choosing a glimpse, every seed, on a grid x grid canvas (trained once per process)."""
    settings = dict(epochs=1, hidden=8, batch_size=QUICK_BATCH) if quick else dict(epochs=GLIMPSE_EPOCHS)
    seeds = GLIMPSE_SEEDS[grid][:1] if quick else GLIMPSE_SEEDS[grid]
    return compare_glimpse_choices(glimpse.CHOICES, seeds, grid=grid, crop_size=GLIMPSE_CLUTTER[grid], **settings)


@figure
def glimpse_choices(quick):
    """Test canvases, the cell a straight-through glimpse model chose on each, and what it read there."""
    result = _glimpse_runs(quick, 2)["straight_through"][0]   # seed 0 of glimpse_accuracy's run
    canvases, labels, digit_cells = cluttered_digits("test", grid=2, crop_size=GLIMPSE_CLUTTER[2])
    thumbs, cells = glimpse.thumbnails(canvases), glimpse.cells_of(canvases)
    chosen, predictions = result.model.predict(thumbs, cells)
    misses = np.flatnonzero(chosen != digit_cells)[:3]
    shown = np.concatenate([np.flatnonzero(chosen == digit_cells)[:10 - len(misses)], misses])
    found, right = chosen[shown] == digit_cells[shown], predictions[shown] == labels[shown]
    read_found, read_missed = result.test_correct[result.test_found].mean(), result.test_correct[~result.test_found].mean()
    numbers = {"straight-through, seed 0: pick rate": result.pick_rate,
               "straight-through, seed 0: test accuracy": result.test_accuracy,
               "straight-through, seed 0: accuracy where it found the digit": float(read_found),
               "straight-through, seed 0: accuracy where it chose a crop": float(read_missed),
               "shown: digit's cell chosen": int(found.sum()), "shown: correct": int(right.sum()),
               "shown: correct where the digit's cell was chosen": int((right & found).sum()),
               # settings the caption states
               "hidden units": result.options["hidden"],
               "epochs": result.options["epochs"], "shown": len(shown), "shown where it chose a crop": len(misses)}
    # Two groups of different canvases, so not paired: binomial standard errors, each floored at that of a 10%
    # guess, so that an accuracy near 0 or 1 on the few misses does not make its standard error look tiny.
    counts = result.test_found.sum(), (~result.test_found).sum()
    se = np.hypot(*(np.sqrt(max(p * (1 - p), 0.1 * 0.9) / n) for p, n in zip((read_found, read_missed), counts)))
    caption_says(numbers, "it reads the canvases where it found the digit clearly more often correctly than those "
                          "where it chose a crop (3 SE)", read_found - read_missed >= compare.CLEARLY * se,
                 gap=read_found - read_missed, standard_error=se)
    return viz.show_glimpses(canvases[shown], thumbs[shown], chosen[shown], digit_cells[shown], predictions[shown],
                             labels[shown], title=f"Hard attention on cluttered test canvases (straight-through): the first "
                                                  f"{int(found.sum())} where it found the digit, the first "
                                                  f"{len(misses)} where it did not"), \
        numbers


@figure
def glimpse_accuracy(quick):
    """Test accuracy with a hard choice, per way of training the choice, against the references, on two canvases."""
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    numbers = {}
    for ax, grid in zip(axes, (2, 3)):
        summary = glimpse.summarize_glimpse_runs(_glimpse_runs(quick, grid))
        seeds = len(next(iter(_glimpse_runs(quick, grid).values())))
        rows = {glimpse.LABELS[choice]: {"hard choice at test": (s["accuracy"], s["accuracy sd"]),
                                         "choice as trained": (s["as trained"], s["as trained sd"])}
                for choice, s in summary.items() if choice in glimpse.LEARNED_CHOICES}
        references = {glimpse.LABELS[choice]: summary[choice]["accuracy"] for choice in glimpse.REFERENCE_CHOICES}
        viz.plot_accuracy_bars(rows, references, ax=ax,
                               title=f"{8 * grid}x{8 * grid} canvas, {grid * grid} cells, clutter "
                                     f"{GLIMPSE_CLUTTER[grid]}x{GLIMPSE_CLUTTER[grid]}: mean and sd over {seeds} seeds")
        numbers.update({f"{grid * grid} cells, {glimpse.LABELS[choice]}: {statistic}": value
                        for choice, s in summary.items() for statistic, value in s.items()})
    fig.suptitle("Glimpse models: test accuracy when forced to choose one cell, by how the choice was trained")
    fig.tight_layout()
    numbers.update({"seeds, 4 cells": len(GLIMPSE_SEEDS[2]), "seeds, 9 cells": len(GLIMPSE_SEEDS[3]), "hidden units": 64,
                    "epochs": GLIMPSE_EPOCHS, "lesson hidden units": 32, "lesson seeds": 3,
                    "test canvases": len(load_digits("test")[0])})   # settings the caption states
    # Every model is scored on the same test canvases: compare them canvas by canvas, over the seeds.
    correct = {grid: {choice: _test_correct(results) for choice, results in _glimpse_runs(quick, grid).items()}
               for grid in (2, 3)}
    _glimpse_statements(numbers, correct, {choice: _test_correct(results, "test_correct_as_trained")
                                           for choice, results in _glimpse_runs(quick, 2).items()})
    return fig, numbers


def _glimpse_statements(numbers, correct, as_trained):
    """What glimpse_accuracy's caption says of its runs, paired over the test canvases and the seeds:
    ``correct[grid][choice]`` and ``as_trained[choice]`` (4 cells) are (seeds, canvases) scores."""
    four, nine = correct[2], correct[3]
    learned = glimpse.LEARNED_CHOICES
    above_fixed = {choice: compare.paired(four[choice], four["fixed"]) for choice in learned}
    weakest = min(above_fixed, key=lambda choice: above_fixed[choice].z)
    caption_says(numbers, f"4 cells: every learned chooser is clearly above the best fixed cell (least: {weakest})",
                 all(d.is_clearly("higher") for d in above_fixed.values()), above_fixed[weakest])
    pairs = {(a, b): compare.paired(four[a], four[b]) for i, a in enumerate(learned) for b in learned[i + 1:]}
    largest = max(pairs, key=lambda pair: abs(pairs[pair].z))
    caption_says(numbers, f"4 cells: no two learned choosers are clearly apart (the largest: {largest[0]} - {largest[1]})",
                 all(abs(d.z) < compare.CLEARLY for d in pairs.values()), pairs[largest])
    for a, b in (("straight_through", "gumbel"), ("straight_through", "soft")):
        numbers[f"4 cells, {a} - {b}: paired difference"] = compare.paired(four[a], four[b]).mean
        numbers[f"4 cells, {a} - {b}: standard error"] = compare.paired(four[a], four[b]).se
    for choice in ("soft", "gumbel"):   # trained on mixtures: does a hard choice cost them anything?
        forced = compare.paired(four[choice], as_trained[choice])
        caption_says(numbers, f"4 cells, {choice}: the hard choice and the choice as trained are not clearly apart",
                     abs(forced.z) < compare.CLEARLY, forced)
    sampled = [choice for choice in learned if choice not in ("soft", "gumbel")]
    gains = {choice: compare.paired(four[choice], as_trained[choice]).mean for choice in sampled}
    numbers["4 cells, sampled estimators: least gain of the most likely cell"] = min(gains.values())
    numbers["4 cells, sampled estimators: largest gain of the most likely cell"] = max(gains.values())
    pooled = compare.paired(np.concatenate([four[choice] for choice in sampled]),   # every run of every one of them
                            np.concatenate([as_trained[choice] for choice in sampled]))
    caption_says(numbers, "4 cells: the sampled estimators read the most likely cell clearly better than a sampled one "
                          "(paired over all their runs)", pooled.is_clearly("higher"), pooled)
    behind = {(a, b): compare.paired(nine[a], nine[b]) for a in ("reinmax", "reinforce")
              for b in ("soft", "straight_through", "gumbel", "straight_through_gumbel")}
    weakest = max(behind, key=lambda pair: behind[pair].z)
    caption_says(numbers, "9 cells: ReinMax and REINFORCE are below each of the other four, by 2 standard errors or more "
                          f"(the least: {weakest[0]} - {weakest[1]})",
                 all(d.z <= -compare.TIED for d in behind.values()), behind[weakest])


# ------------------------------------------------------------------ lesson 9: reparameterization and the dVAE

NORMAL_RUNS = {"reparameterization": ("reparameterization", None), "REINFORCE": ("reinforce", None),
               "REINFORCE, leave-one-out": ("reinforce", "leave_one_out")}


@figure
def normal_estimator_variance(quick):
    """Variance of the reparameterization and score-function estimates of d/d(mean, log_std) E[(z - 2)^2],
    against the mean, the standard deviation and the number of draws per estimate: lesson 9's sweeps,
    wider and finer, with more estimates per point."""
    n_estimates = 200 if quick else 10000
    sweeps = {"mean": (np.linspace(-2, 6, 5 if quick else 17), dict(sigma=1.0, n_samples=4)),
              "sigma": (2.0 ** np.arange(-4, 3), dict(mean=0.0, n_samples=4)),
              "n_samples": (np.array([2, 4, 8, 16, 32, 64]), dict(mean=0.0, sigma=1.0))}
    variances = normal_variance_sweep(lambda z: (z - 2.0) ** 2, sweeps, NORMAL_RUNS, n_estimates,
                                      np.random.default_rng(SEED))
    fig = viz.plot_variance_sweeps(sweeps, variances, "z ~ N(mean, sigma^2), cost (z - 2)^2: variance of two unbiased "
                                                      f"gradient estimators ({n_estimates:,} estimates per point)")
    at_4_draws = list(sweeps["n_samples"][0]).index(4)   # mean 0, sigma 1, 4 draws
    numbers = {f"{label}: variance at mean 0, sigma 1, 4 draws": variances["n_samples", label][0, at_4_draws]
               for label in NORMAL_RUNS}
    pathwise = {swept: variances[swept, "reparameterization"][0] for swept in sweeps}
    numbers["smallest variance ratio, REINFORCE / reparameterization, over the sweeps"] = float(min(
        (variances[swept, label][0] / pathwise[swept]).min() for swept in sweeps for label in NORMAL_RUNS
        if label != "reparameterization"))
    point = {label: variances["n_samples", label][:, at_4_draws] for label in NORMAL_RUNS}   # (variance, se)

    def above(high, low):   # how many standard errors variance `high` exceeds `low` (independent estimates)
        return (high[0] - low[0]) / np.hypot(high[1], low[1])

    for high, low in (("REINFORCE", "REINFORCE, leave-one-out"), ("REINFORCE, leave-one-out", "reparameterization")):
        z = above(point[high], point[low])
        caption_says(numbers, f"at mean 0, sigma 1, 4 draws: {high}'s variance is clearly higher than {low}'s (3 SE)",
                     z >= compare.CLEARLY, z=z)
    least = min(above(variances[swept, label], variances[swept, "reparameterization"]).min()
                for swept in sweeps for label in NORMAL_RUNS if label != "reparameterization")
    caption_says(numbers, "REINFORCE's variance, with or without a baseline, is clearly higher than the pathwise one "
                          "at every point of the sweeps (3 SE)", least >= compare.CLEARLY, least_z=least)
    numbers.update({"estimates per point": n_estimates, "target": 2.0, "lesson estimates per point": 4000,
                    **{f"{swept} from": float(values.min()) for swept, (values, _) in sweeps.items()},
                    **{f"{swept} to": float(values.max()) for swept, (values, _) in sweeps.items()}})   # settings
    return fig, numbers


@figure
def gaussian_vae_elbo(quick):
    """Test ELBO per epoch of the Gaussian VAE trained with the reparameterization trick and with REINFORCE
    (mean over the seeds), compared pair by pair over the test images and the seeds."""
    settings = dict(epochs=2, hidden=16, batch_size=QUICK_BATCH) if quick else dict(epochs=30)
    runs = {label: [train_gaussian_vae(estimator, latent_dim=16, baseline=baseline, **settings, seed=seed)
                    for seed in SEEDS] for label, (estimator, baseline) in NORMAL_RUNS.items()}
    elbos = {label: np.stack([r.test_elbos for r in results]) for label, results in runs.items()}
    kl = {label: np.array([r.history["kl"][-1] for r in results]) for label, results in runs.items()}
    epochs = np.arange(1, settings["epochs"] + 1)
    fig = viz.plot_curves(epochs, {f"{label}: final {elbos[label].mean():.2f}":
                                   np.mean([r.history["test_elbo"] for r in results], axis=0)
                                   for label, results in runs.items()}, "epoch", "test ELBO per image (nats)",
                          f"VAE of the black-and-white digits, 16 normal latents, 4 draws per image (mean of "
                          f"{len(SEEDS)} seeds)", markers=False)
    numbers = {"latents": 16, "epochs": settings["epochs"], "lesson epochs": 12, "seeds": len(SEEDS),
               **{f"{label}: test ELBO": float(elbos[label].mean()) for label in runs},
               **{f"{label}: KL": float(kl[label].mean()) for label in runs}}
    for higher, lower in (("reparameterization", "REINFORCE, leave-one-out"), ("REINFORCE, leave-one-out", "REINFORCE")):
        difference = compare.paired(elbos[higher], elbos[lower])
        caption_says(numbers, f"{higher}: a clearly higher test ELBO than {lower}", difference.is_clearly("higher"),
                     difference)
    caption_says(numbers, "without a baseline, REINFORCE ends with a lower KL than the other two in every seed",
                 bool(np.all(kl["REINFORCE"] < np.minimum(kl["reparameterization"], kl["REINFORCE, leave-one-out"]))))
    return fig, numbers


@figure
def dvae_soft_hard_gap(quick):
    """The dVAE's test error with Gumbel-softmax mixtures and with hard codes as tau anneals (mean over the seeds),
    against lesson 5's VQ autoencoder with the same codes, positions and seeds (the runs of ``vq_training``)."""
    vq = _vq_runs(quick)["straight-through + restart"]
    options = vq[0].options
    settings = dict(num_codes=options["num_codes"], positions=options["codes_per_image"], code_dim=options["code_dim"],
                    hidden=options["hidden"], epochs=options["epochs"])
    dvae = [train_dvae(**settings, seed=seed) for seed in SEEDS]
    history = {key: np.mean([r.history[key] for r in dvae], axis=0) for key in ("test_mse_soft", "test_mse_hard", "tau")}
    hard, vq_errors = _test_errors(dvae), _test_errors(vq)
    epochs = np.arange(1, settings["epochs"] + 1)
    fig, (ax, tau_ax) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    viz.plot_curves(epochs, {"dVAE, soft: Gumbel-softmax mixture at tau (as trained)": history["test_mse_soft"],
                             "dVAE, hard: argmax codes (as used)": history["test_mse_hard"]},
                    "", "test reconstruction MSE",
                    f"dVAE, {settings['positions']} positions x {settings['num_codes']} codes: soft against hard "
                    f"(mean of {len(SEEDS)} seeds)", logy=True, markers=False, ax=ax,
                    reference=(f"VQ autoencoder, same codes and positions (test {vq_errors.mean():.4f})",
                               vq_errors.mean()))
    viz.plot_curves(epochs, {"temperature tau": history["tau"]}, "epoch", "tau", "", logy=True, markers=False,
                    ax=tau_ax)
    fig.tight_layout()
    first = compare.across_seeds([r.history["test_mse_hard"][0] for r in dvae],
                                 [r.history["test_mse_soft"][0] for r in dvae])
    last = compare.paired(hard, _test_errors(dvae, "test_errors_soft"))
    numbers = {"positions": settings["positions"], "codes": settings["num_codes"],
               "tau at the start": dvae[0].options["tau_start"], "dVAE: final tau": history["tau"][-1],
               "epochs": settings["epochs"], "seeds": len(SEEDS),
               "dVAE: hard - soft, first epoch": first.mean, "dVAE: hard - soft, last epoch": last.mean,
               "dVAE: test MSE, hard codes": float(hard.mean()), "VQ autoencoder: test MSE": float(vq_errors.mean()),
               "dVAE: perplexity": float(np.mean([r.perplexity for r in dvae])),
               "lesson codes": 32, "lesson epochs": 20}   # settings the caption states
    caption_says(numbers, "in the first epoch the hard codes' test MSE is clearly higher than the mixtures' (paired "
                          "by seed)", first.is_clearly("higher"), first)
    caption_says(numbers, "in the last epoch the hard codes' test MSE is clearly lower than the mixtures'",
                 last.is_clearly("lower"), last)
    versus_vq = compare.paired(hard, vq_errors)
    caption_says(numbers, "the dVAE's hard codes: a clearly higher test MSE than the VQ autoencoder's",
                 versus_vq.is_clearly("higher"), versus_vq)
    return fig, numbers


# ------------------------------------------------------------------ lesson 10: generating digits from codes

def _lesson_10_settings(quick):
    """Lesson 10's models over three seeds, the VQ-VAEs and the priors trained for twice the lesson's
    epochs (8 in batches of 64; the lesson trains 4 in batches of 32, and draws fewer samples): the
    conv VQ-VAE, the prior, VQ-VAE-2, the dVAE, the classifier that judges samples, and samples drawn per seed."""
    if quick:
        quick_training = dict(epochs=1, batch_size=QUICK_BATCH)
        return dict(seeds=(0, 1), samples=40, conv=dict(num_codes=16, hidden=8, **quick_training),
                    prior=dict(hidden=8, **quick_training),
                    vqvae2=dict(top_codes=16, bottom_codes=16, hidden=8, **quick_training),
                    dvae=dict(num_codes=16, positions=16, hidden=16, **quick_training),
                    classifier=dict(rule=None, hidden=16, **quick_training), mlp_epochs=(1, 2))
    return dict(seeds=SEEDS, samples=1000, conv=dict(num_codes=16, hidden=16, epochs=8),
                prior=dict(hidden=32, epochs=8), vqvae2=dict(top_codes=16, bottom_codes=16, hidden=16, epochs=8),
                dvae=dict(num_codes=16, positions=16, hidden=64, epochs=10),
                classifier=dict(rule=None, hidden=128, epochs=10), mlp_epochs=(8, 40))


@lru_cache(maxsize=None)
def _generation_runs(quick):
    """Lesson 10's conv VQ-VAE and the prior over its codes, one of each per seed, the samples each pair
    draws at temperature 1, and the classifier of real digits that judges them (trained once per process)."""
    settings = _lesson_10_settings(quick)
    conv = [train_conv_vqvae(**settings["conv"], seed=s) for s in settings["seeds"]]
    num_codes = settings["conv"]["num_codes"]
    priors = [train_code_prior(r.train_codes, r.test_codes, num_codes, **settings["prior"], seed=s)
              for r, s in zip(conv, settings["seeds"])]
    with no_grad():
        samples = [r.model.decode(p.model.sample(settings["samples"], rng=np.random.default_rng(s))).data
                   for r, p, s in zip(conv, priors, settings["seeds"])]
    classifier = train_binary_network(**settings["classifier"], seed=SEED)
    return dict(settings=settings, conv=conv, priors=priors, samples=samples, classifier=classifier)


def _judge_samples(samples, classifier):
    """The classifier's verdict on each seed's samples and on the real test digits: (per seed, real)."""
    train_images, test_images = load_digits("train")[0], load_digits("test")[0]
    return ([sample_quality(images, classifier.model, train_images) for images in samples],
            sample_quality(test_images, classifier.model, train_images))


def _against_real(per_seed, real, statistic):
    """Samples against real test digits, paired by seed: the real digits' mean ``statistic`` minus each
    seed's samples' mean (the same real digits every seed; the spread is the seeds')."""
    sample_means = np.array([q[statistic].mean() for q in per_seed])
    return compare.across_seeds(np.full(len(sample_means), real[statistic].mean()), sample_means)


@figure
def generated_digits(quick):
    """New digits drawn from the prior over the conv VQ-VAE's codes, and the bits per test image of three priors."""
    runs = _generation_runs(quick)
    settings, conv, priors = runs["settings"], runs["conv"], runs["priors"]
    learned = np.stack([p.test_bits for p in priors])            # (seeds, test digits)
    independent = np.stack([p.independent_bits for p in priors])
    uniform = np.full_like(learned, priors[0].uniform_bits)
    quality, real = _judge_samples(runs["samples"], runs["classifier"])

    fig = plt.figure(figsize=(13, 4.4), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[2.2, 1])
    shown = runs["samples"][0][:40].clip(0, 1)
    viz.show_images({"": shown[:10], " ": shown[10:20], "  ": shown[20:30], "   ": shown[30:]},
                    f"New digits: codes drawn from the prior, decoded (seed {SEED}, temperature 1)", fig=left)
    viz.plot_bars({"uniform": uniform.mean(), "independent\nper position": independent.mean(),
                   "learned\n(masked conv)": learned.mean()}, "bits per test image",
                  f"Priors over the 4x4 code grid (mean of {len(priors)} seeds)", fmt="{:.1f}", ax=right.subplots())
    numbers = {"codes": settings["conv"]["num_codes"], "bits per image": conv[0].model.bits,
               "epochs": settings["conv"]["epochs"], "seeds": len(priors), "shown seed": SEED,
               "uniform prior: bits per test image": priors[0].uniform_bits,
               "independent prior: bits per test image": float(independent.mean()),
               "learned prior: bits per test image": float(learned.mean()),
               "samples per seed": settings["samples"], "classifier: test accuracy": runs["classifier"].test_accuracy,
               "samples: classifier confidence": float(np.mean([q["confidence"].mean() for q in quality])),
               "real test digits: classifier confidence": float(real["confidence"].mean()),
               "samples: total variation of the classes from even": float(np.mean([q["total_variation"]
                                                                                   for q in quality])),
               "samples: distance to the nearest training digit": float(np.mean([q["nearest_distance"].mean()
                                                                                  for q in quality])),
               "real test digits: distance to the nearest training digit": float(real["nearest_distance"].mean()),
               "test digits": learned.shape[1]}
    caption_says(numbers, "the learned prior's bits are clearly fewer than the independent prior's",
                 compare.paired(learned, independent).is_clearly("lower"), compare.paired(learned, independent))
    caption_says(numbers, "the independent prior's bits are clearly fewer than the uniform prior's",
                 compare.paired(independent, uniform).is_clearly("lower"), compare.paired(independent, uniform))
    confidence = _against_real(quality, real, "confidence")
    caption_says(numbers, "the classifier is clearly less sure of the samples than of real test digits",
                 confidence.is_clearly("higher"), confidence)
    distance = _against_real(quality, real, "nearest_distance")
    caption_says(numbers, "the samples are clearly further from their nearest training digit than real test digits",
                 distance.is_clearly("lower"), distance)
    return fig, numbers


@figure
def conv_vs_mlp_vq(quick):
    """Lesson 10's conv VQ-VAE against lesson 5's MLP VQ autoencoder at equal bits: 16 codes of 16 per image."""
    runs = _generation_runs(quick)
    settings, conv = runs["settings"], runs["conv"]
    short, long = settings["mlp_epochs"]
    mlp_options = dict(num_codes=settings["conv"]["num_codes"], codes_per_image=conv[0].model.grid ** 2, code_dim=8,
                       hidden=64)   # lesson 5's encoder and decoder, with the conv model's codes and positions
    mlp = {epochs: [train_vq_autoencoder(**mlp_options, epochs=epochs, seed=s) for s in settings["seeds"]]
           for epochs in (short, long)}
    errors = {f"conv VQ-VAE, {settings['conv']['epochs']} epochs": _test_errors(conv),
              **{f"MLP VQ autoencoder, {epochs} epochs": _test_errors(mlp[epochs]) for epochs in mlp}}
    fig = viz.plot_bars({label: e.mean() for label, e in errors.items()}, "test MSE",
                        f"{conv[0].model.bits:.0f} bits per image: {conv[0].model.grid ** 2} positions, "
                        f"{settings['conv']['num_codes']} codes each (mean of {len(conv)} seeds)", fmt="{:.4f}")
    conv_errors, short_errors, long_errors = errors.values()
    numbers = {"bits per image": conv[0].model.bits, "codes": settings["conv"]["num_codes"], "seeds": len(conv),
               "conv epochs": settings["conv"]["epochs"], "conv VQ-VAE: test MSE": float(conv_errors.mean()),
               "MLP, short: epochs": short, "MLP, short: test MSE": float(short_errors.mean()),
               "MLP, long: epochs": long, "MLP, long: test MSE": float(long_errors.mean()),
               "MLP hidden units": mlp_options["hidden"], "test digits": conv_errors.shape[1]}
    equal_epochs, longer = compare.paired(conv_errors, short_errors), compare.paired(long_errors, conv_errors)
    caption_says(numbers, "at equal epochs the conv VQ-VAE's test MSE is clearly lower than the MLP's",
                 equal_epochs.is_clearly("lower"), equal_epochs)
    caption_says(numbers, "the MLP trained 5 times longer has a clearly lower test MSE than the conv VQ-VAE",
                 longer.is_clearly("lower"), longer)
    conv_seconds, mlp_seconds = np.mean([r.seconds for r in conv]), np.mean([r.seconds for r in mlp[long]])
    caption_says(numbers, "and its training still takes less CPU time", mlp_seconds < conv_seconds,
                 conv_cpu_seconds=conv_seconds, mlp_cpu_seconds=mlp_seconds)
    return fig, numbers


@figure
def vqvae2_levels(quick):
    """What VQ-VAE-2's top and bottom codes each encode, and the bits of a prior over each level."""
    settings = _lesson_10_settings(quick)
    seeds, test_images = settings["seeds"], load_digits("test")[0]
    runs = [train_vqvae2(**settings["vqvae2"], seed=s) for s in seeds]
    other = np.roll(np.arange(len(test_images)), 1)   # digit i gets the top codes of digit i - 1
    decoded = [decode_levels(r, r.test_top, r.test_bottom, other) for r in runs]
    errors = {way: np.stack([((d[way] - test_images) ** 2).mean(axis=1) for d in decoded]) for way in decoded[0]}
    top_codes, bottom_codes = settings["vqvae2"]["top_codes"], settings["vqvae2"]["bottom_codes"]
    top_priors = [train_code_prior(r.train_top, r.test_top, top_codes, **settings["prior"], seed=s)
                  for r, s in zip(runs, seeds)]
    bottom_priors = [train_code_prior(r.train_bottom, r.test_bottom, bottom_codes, r.train_top, r.test_top,
                                      condition_codes=top_codes, **settings["prior"], seed=s)
                     for r, s in zip(runs, seeds)]
    shown = 10
    rows = {"test digits": test_images[:shown],
            **{f"{way}\n(test MSE {errors[way].mean():.3f})": decoded[0][way][:shown].clip(0, 1) for way in decoded[0]}}
    fig = viz.show_images(rows, f"VQ-VAE-2 (seed {SEED}): a 2x2 top grid and a 4x4 bottom grid of codes; "
                                f"test MSE to the digit, mean of {len(seeds)} seeds")
    numbers = {"seeds": len(seeds), "epochs": settings["vqvae2"]["epochs"], "codes per level": top_codes,
               "test digits": len(test_images),
               **{f"{way}: test MSE": float(e.mean()) for way, e in errors.items()}}
    bits = {}
    for level, priors in (("top", top_priors), ("bottom given top", bottom_priors)):
        numbers.update({f"{level}: learned prior bits": float(np.mean([p.test_bits.mean() for p in priors])),
                        f"{level}: independent prior bits": float(np.mean([p.independent_bits.mean()
                                                                           for p in priors])),
                        f"{level}: uniform prior bits": priors[0].uniform_bits})
        bits[level] = compare.paired(np.stack([p.test_bits for p in priors]),
                                     np.stack([p.independent_bits for p in priors]))
    # Only "on average": at 2.8 standard errors on this machine, a regeneration elsewhere may call it clear or not.
    caption_says(numbers, "top: the learned prior's bits are fewer than the independent prior's on average",
                 bits["top"].mean < 0, bits["top"])
    caption_says(numbers, "bottom given top: the learned prior's bits are clearly fewer than the independent prior's",
                 bits["bottom given top"].is_clearly("lower"), bits["bottom given top"])
    bottom_alone = compare.paired(errors["bottom alone"], errors["top alone"])
    caption_says(numbers, "the bottom codes alone are clearly closer to the digit than the top codes alone",
                 bottom_alone.is_clearly("lower"), bottom_alone)
    top_adds = compare.paired(errors["both levels"], errors["bottom alone"])
    caption_says(numbers, "both levels are closer to the digit than the bottom codes alone on average, but not clearly",
                 top_adds.mean < 0 and not top_adds.is_clearly("lower"), top_adds)
    swapped = compare.paired(errors["swapped top"], errors["both levels"])
    caption_says(numbers, "another digit's top codes do not clearly move a digit away from its own",
                 not swapped.is_clearly("higher"), swapped)
    return fig, numbers


@figure
def dvae_prior_samples(quick):
    """The same prior trained on the dVAE's tokens (lesson 9's model, 16 tokens of 16): its samples beside
    the conv VQ-VAE's, the bits it needs, and the classifier's verdict on both."""
    runs = _generation_runs(quick)
    settings = runs["settings"]
    seeds, train_images, test_images = settings["seeds"], load_digits("train")[0], load_digits("test")[0]
    num_codes, side = settings["dvae"]["num_codes"], int(np.sqrt(settings["dvae"]["positions"]))
    dvaes = [train_dvae(**settings["dvae"], seed=s) for s in seeds]
    with no_grad():
        tokens = [(d.model.hard_codes(Tensor(train_images)).reshape(-1, side, side),
                   d.model.hard_codes(Tensor(test_images)).reshape(-1, side, side)) for d in dvaes]
        dvae_errors = np.stack([((d.model.reconstruct(Tensor(test_images)).data - test_images) ** 2).mean(axis=1)
                                for d in dvaes])
    priors = [train_code_prior(train, test, num_codes, **settings["prior"], seed=s)
              for (train, test), s in zip(tokens, seeds)]
    with no_grad():
        samples = [d.model.decode_codes(p.model.sample(settings["samples"], rng=np.random.default_rng(s))).data
                   for d, p, s in zip(dvaes, priors, seeds)]
    dvae_quality, real = _judge_samples(samples, runs["classifier"])
    conv_quality, _ = _judge_samples(runs["samples"], runs["classifier"])
    fig = viz.show_images({"conv VQ-VAE\n(4x4 grid)": runs["samples"][0][:12].clip(0, 1),
                           "dVAE tokens\n(16, laid out 4x4)": samples[0][:12].clip(0, 1)},
                          f"Samples of the same prior over two kinds of codes (seed {SEED}, temperature 1)")
    learned = np.stack([p.test_bits for p in priors])
    conv_bits = np.stack([p.test_bits for p in runs["priors"]])
    numbers = {"tokens": settings["dvae"]["positions"], "codes": num_codes, "seeds": len(seeds),
               "dVAE: test MSE": float(dvae_errors.mean()),
               "conv VQ-VAE: test MSE": float(_test_errors(runs["conv"]).mean()),
               "dVAE tokens: learned prior bits": float(learned.mean()),
               "dVAE tokens: independent prior bits": float(np.mean([p.independent_bits for p in priors])),
               "conv VQ-VAE codes: learned prior bits": float(conv_bits.mean()),
               "dVAE samples: classifier confidence": float(np.mean([q["confidence"].mean() for q in dvae_quality])),
               "conv VQ-VAE samples: classifier confidence": float(np.mean([q["confidence"].mean()
                                                                            for q in conv_quality])),
               "dVAE samples: total variation of the classes from even": float(np.mean([q["total_variation"]
                                                                                        for q in dvae_quality]))}
    difference = compare.paired(learned, np.stack([p.independent_bits for p in priors]))
    caption_says(numbers, "dVAE tokens: the learned prior's bits are clearly fewer than the independent prior's",
                 difference.is_clearly("lower"), difference)
    difference = compare.paired(learned, conv_bits)
    caption_says(numbers, "the learned prior needs clearly fewer bits for the dVAE's tokens than for the conv "
                          "VQ-VAE's codes", difference.is_clearly("lower"), difference)
    difference = compare.paired(dvae_errors, _test_errors(runs["conv"]))
    caption_says(numbers, "the dVAE's test MSE is not clearly different from the conv VQ-VAE's",
                 abs(difference.z) < compare.CLEARLY, difference)
    confidence = compare.across_seeds([q["confidence"].mean() for q in dvae_quality],
                                      [q["confidence"].mean() for q in conv_quality])
    caption_says(numbers, "the classifier is clearly surer of the dVAE's samples than of the conv VQ-VAE's",
                 confidence.is_clearly("higher"), confidence)
    return fig, numbers


def _taken_together(runs_by_model):
    """Several models taken together: their per-item scores averaged over the models, (seeds, test images)."""
    return np.mean([_test_correct(runs) for runs in runs_by_model], axis=0)


COLLAPSED = 0.1   # bits: a load entropy under this means (nearly) every test image went to one expert


@figure
def moe_routing(quick):
    """Mixture of experts on the digits: accuracy and load of each router, with and without load balancing:
    lesson 11's study with 5 seeds instead of 3 and 6 epochs instead of 4."""
    seeds, training = ((0, 1), dict(epochs=1, batch_size=QUICK_BATCH)) if quick else ((0, 1, 2, 3, 4), dict(epochs=6))
    epochs = training["epochs"]
    balanced = {router: [train_mixture_of_experts(router, balance=1.0, **training, seed=s) for s in seeds]
                for router in ROUTERS}
    unbalanced = {router: [train_mixture_of_experts(router, balance=0.0, **training, seed=s) for s in seeds]
                  for router in ROUTERS[1:]}
    fig, (accuracy_ax, entropy_ax) = plt.subplots(1, 2, figsize=(12, 4))
    labels = [ROUTER_LABELS[r].replace(", ", "\n").replace(" (", "\n(") for r in ROUTERS]
    positions = np.arange(len(ROUTERS))
    for offset, runs, name in ((-0.2, balanced, "load balancing on"), (0.2, unbalanced, "off")):
        present = [i for i, r in enumerate(ROUTERS) if r in runs]
        accuracy_ax.bar(positions[present] + offset, [np.mean([x.test_accuracy for x in runs[ROUTERS[i]]])
                                                      for i in present], width=0.4, label=name)
        entropy_ax.bar(positions[present] + offset, [np.mean([x.load_entropy for x in runs[ROUTERS[i]]])
                                                     for i in present], width=0.4, label=name)
    accuracy_ax.set(xticks=positions, xticklabels=labels, ylim=(0.8, 1), ylabel="test accuracy",
                    title=f"4 experts, mean of {len(seeds)} seeds")
    entropy_ax.set(xticks=positions, xticklabels=labels, ylabel="load entropy (bits; even load: 2)",
                   title="How evenly the test images are spread over the experts")
    accuracy_ax.legend()
    fig.tight_layout()
    soft = _test_correct(balanced["soft"])
    versus_soft = {router: compare.paired(_test_correct(balanced[router]), soft) for router in ROUTERS[1:]}
    straight_through_family = ("straight_through", "straight_through_gumbel", "reinmax")
    family = compare.paired(_taken_together(balanced[r] for r in straight_through_family), soft)
    unbalanced_runs = [run for runs in unbalanced.values() for run in runs]
    collapsed = np.mean([run.load_entropy < COLLAPSED for run in unbalanced_runs])
    numbers = {"seeds": len(seeds), "epochs": epochs, "lesson seeds": 3,
               "soft accuracy": float(np.mean([x.test_accuracy for x in balanced["soft"]])),
               "unbalanced runs": len(unbalanced_runs), "collapsed share": float(collapsed),
               "collapse: load entropy under (bits)": COLLAPSED}
    caption_says(numbers, "the straight-through routers taken together are clearly less accurate than the soft "
                          "mixture", family.is_clearly("lower"), family)
    for router in straight_through_family:
        caption_says(numbers, f"{ROUTER_LABELS[router]} is less accurate than the soft mixture on average",
                     versus_soft[router].z < -1, versus_soft[router])
    caption_says(numbers, "REINFORCE comes closest to the soft mixture", all(
        versus_soft["reinforce"].mean > versus_soft[router].mean for router in straight_through_family),
                 versus_soft["reinforce"])
    caption_says(numbers, "without balancing, most runs collapse onto one expert", collapsed > 0.5,
                 collapsed=collapsed)
    for router in ROUTERS[1:]:
        spread = compare.across_seeds([x.load_entropy for x in balanced[router]],
                                      [x.load_entropy for x in unbalanced[router]])
        caption_says(numbers, f"{ROUTER_LABELS[router]}: balancing makes the load entropy clearly higher",
                     spread.is_clearly("higher"), spread)
    return fig, numbers


NEGLIGIBLE_ARCHITECTURE_GAP = 0.03   # lesson 11: a gap under 3 points between found architectures would not matter


@figure
def architecture_search(quick):
    """The three searches against random search: architecture-logit trajectories and retrained accuracy:
    lesson 11's study with 5 seeds instead of 3, 300 search steps instead of 200 and 10 epochs of retraining
    instead of 6."""
    seeds, steps, training = ((0,), 40, dict(epochs=2, batch_size=QUICK_BATCH)) if quick else \
        ((0, 1, 2, 3, 4), 300, dict(epochs=10))
    found = {m: [search_architecture(m, steps=steps, seed=s) for s in seeds] for m in SEARCHES}
    retrained = {m: [train_architecture(r.architecture, **training, seed=s) for s, r in zip(seeds, found[m])]
                 for m in SEARCHES}
    fig = viz.plot_architecture_trajectories({SEARCH_LABELS[m]: found[m][0].trajectory for m in SEARCHES[:3]},
                                             EDGES, OPERATIONS, "softmax(alpha) during the search, seed 0 "
                                             f"(retrained test accuracy, mean of {len(seeds)} seeds: " + ", ".join(
                                                 f"{SEARCH_LABELS[m].split(' ')[0]} "
                                                 f"{np.mean([r.test_accuracy for r in retrained[m]]):.1%}"
                                                 for m in SEARCHES) + ")", steps_per_record=10)
    random = _test_correct(retrained["random"])
    differences = {m: compare.paired(_test_correct(retrained[m]), random) for m in SEARCHES[:3]}
    numbers = {"steps": steps, "seeds": len(seeds), "lesson seeds": 3,
               "largest difference detectable": max(d.detectable for d in differences.values())}
    for method, difference in differences.items():
        caption_says(numbers, f"{SEARCH_LABELS[method]} and random search cannot be told apart",
                     difference.is_tie(NEGLIGIBLE_ARCHITECTURE_GAP), difference, negligible=NEGLIGIBLE_ARCHITECTURE_GAP)
    return fig, numbers


@figure
def bandit_curves(quick):
    """Learning to classify from a reward alone: test accuracy against rewards (or labels) seen; lesson 11's
    study with 10 seeds instead of 3 and 15 passes instead of 8."""
    seeds, training = ((0, 1), dict(epochs=2, batch_size=QUICK_BATCH)) if quick else (tuple(range(10)), dict(epochs=15))
    epochs = training["epochs"]
    runs = {learner: [train_bandit(learner, **training, seed=s) for s in seeds] for learner in LEARNERS}
    curves = {LEARNER_LABELS[learner]: (r[0].feedback_seen, np.mean([x.test_accuracy for x in r], axis=0))
              for learner, r in runs.items()}
    fig = viz.plot_xy(curves, "rewards (or labels) seen", "test accuracy",
                      f"A contextual bandit on the digits (mean of {len(seeds)} seeds)")
    reinforce = LEARNERS[1:]
    first_pass_gap = min(s.test_accuracy[1] - r.test_accuracy[1] for learner in reinforce
                         for s, r in zip(runs["supervised"], runs[learner]))
    supervised = _test_correct(runs["supervised"])
    together = compare.paired(supervised, _taken_together(runs[learner] for learner in reinforce))
    numbers = {"seeds": len(seeds), "epochs": epochs, "lesson seeds": 3,
               "supervised": float(np.mean([x.test_accuracy[-1] for x in runs["supervised"]])),
               "first pass: smallest lead": float(first_pass_gap), "first pass: lead at least": 0.2}
    caption_says(numbers, "after one pass, supervised learning leads every REINFORCE learner by more than 20 points "
                          "in every seed", first_pass_gap > 0.2, smallest=first_pass_gap)
    caption_says(numbers, "at the end, supervised learning is clearly ahead of the REINFORCE learners taken together",
                 together.is_clearly("higher"), together)
    for learner in reinforce:
        behind = compare.paired(supervised, _test_correct(runs[learner]))
        caption_says(numbers, f"at the end, {LEARNER_LABELS[learner]} is behind supervised learning on average",
                     behind.z > 1, behind)
    for learner in ("moving_average", "leave_one_out"):
        versus_none = compare.paired(_test_correct(runs[learner]), _test_correct(runs["no_baseline"]))
        caption_says(numbers, f"{LEARNER_LABELS[learner]} is neither clearly better nor clearly worse than no baseline",
                     abs(versus_none.z) < compare.CLEARLY, versus_none)
    return fig, numbers


@figure
def bernoulli_vae_benchmark(quick):
    """Lesson 12's discrete-VAE benchmark, trained longer than the lesson: every estimator, 3 seeds x 5 epochs.

    A larger run is ``run_benchmark(seeds=range(5), epochs=20, variance_every=20)`` (about five
    times the CPU); its statements are not this figure's.
    """
    settings = dict(latents=8, hidden=16, epochs=1, seeds=(0, 1), batch_size=QUICK_BATCH) if quick else \
        dict(epochs=5, seeds=(0, 1, 2))
    table = benchmark_table(run_benchmark(variance_every=settings["epochs"], **settings))
    log_likelihood = {name: float(table[name][1].mean()) for name in table}
    fig = viz.plot_likelihood_and_variance(
        {VAE_ESTIMATORS[name]: value for name, value in log_likelihood.items()},
        {VAE_ESTIMATORS[name]: float(table[name][2].mean()) for name in table},
        f"{settings.get('latents', 32)} Bernoulli latents, 6 decoder evaluations per image and step, "
        f"{len(settings['seeds'])} seeds x {settings['epochs']} epochs")
    log_variance = {pair: compare.across_seeds(np.log(table[pair[0]][2]), np.log(table[pair[1]][2]))
                    for pair in [("gumbel_rao", "straight_through_gumbel"), ("rebar", "reinforce_loo"),
                                 ("disarm", "reinforce_loo")]}
    variance_ratio = {pair: float(np.exp(difference.mean)) for pair, difference in log_variance.items()}
    vimco = compare.paired(table["vimco"][1], table["reinforce_loo"][1])
    # in the caption's order, settings included
    numbers = {"latents": settings.get("latents", 32), "evaluations": 6, "seeds": len(settings["seeds"]),
               "epochs": settings["epochs"], "importance samples": 100,
               "Gumbel-Rao / straight-through Gumbel variance": variance_ratio["gumbel_rao", "straight_through_gumbel"],
               "REBAR / REINFORCE variance": variance_ratio["rebar", "reinforce_loo"],
               "DisARM / REINFORCE variance": variance_ratio["disarm", "reinforce_loo"],
               "VIMCO samples": 6, "VIMCO - REINFORCE log p(x)": vimco.mean, "VIMCO - REINFORCE SE": vimco.se,
               "spread of log p(x)": max(log_likelihood.values()) - min(log_likelihood.values()),
               "worst log p(x)": min(log_likelihood.values()), "best log p(x)": max(log_likelihood.values()),
               "larger run seeds": 5, "larger run epochs": 20}
    for (a, b), direction, sentence in [
            (("gumbel_rao", "straight_through_gumbel"), "lower",
             "Gumbel-Rao's variance is clearly lower than straight-through Gumbel's"),
            (("rebar", "reinforce_loo"), "lower", "REBAR's variance is clearly lower than leave-one-out's"),
            (("disarm", "reinforce_loo"), "higher", "DisARM's variance is clearly higher than leave-one-out's")]:
        caption_says(numbers, sentence, log_variance[a, b].is_clearly(direction), difference=log_variance[a, b])
    caption_says(numbers, "VIMCO's log-likelihood is clearly higher than leave-one-out's", vimco.is_clearly("higher"),
                 difference=vimco)
    caption_says(numbers, "every estimator's log-likelihood is within half a nat of the others'",
                 numbers["spread of log p(x)"] < 0.5, spread=numbers["spread of log p(x)"])
    return fig, numbers


# Figures that share trained runs (cached per process: ``_binary_runs``, ``_vq_runs``, ``_glimpse_runs``,
# ``_generation_runs``) are made in one process; every other figure is a job of its own.
MADE_TOGETHER = [("binary_network", "ternary_xnor"),
                 ("vq_training", "vq_codebook_usage", "vq_reconstructions", "dvae_soft_hard_gap"),
                 ("glimpse_choices", "glimpse_accuracy"),
                 ("generated_digits", "conv_vs_mlp_vq", "dvae_prior_samples")]
# The longest jobs start first, so that none of them starts last and leaves the other processes
# idle, by the CPU seconds of a full run with one BLAS thread (README, "Benchmarks"): the glimpse
# models, rate_distortion, estimator_training, mse_vs_bits, lesson 10's generation runs and lesson
# 5's VQ runs; every other job takes less.
LONGEST_FIRST = ("glimpse_accuracy", "rate_distortion", "estimator_training", "mse_vs_bits", "generated_digits",
                 "vq_training")


def _jobs(names):
    """``names`` split into the groups that must share a process; the longest jobs first, then
    the registry's order."""
    jobs = []
    for name in names:
        together = next((group for group in MADE_TOGETHER if name in group), (name,))
        job = next((job for job in jobs if job[0] in together), None)
        if job is None:
            jobs.append([name])
        else:
            job.append(name)
    return sorted(jobs, key=lambda job: min((LONGEST_FIRST.index(name) for name in job if name in LONGEST_FIRST),
                                            default=len(LONGEST_FIRST)))


def _make(names, quick, out):
    """Draw and save the figures ``names`` in this process; returns [(name, numbers, wall s, CPU s)]."""
    made = []
    for name in names:
        stopwatch = Stopwatch()
        drawn, numbers = FIGURES[name](quick)
        drawn.savefig(out / f"{name}.png", dpi=110, bbox_inches="tight")
        plt.close(drawn)
        made.append((name, numbers, *stopwatch.read()))
    return made


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_ste.figures", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name", help=f"figures to make (default: all): {', '.join(FIGURES)}")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output directory (default: figures/)")
    parser.add_argument("--quick", action="store_true", help="tiny settings, for tests")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="figures made at once, each in a process of its own (default: one per core)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    args.out.mkdir(parents=True, exist_ok=True)
    numbers_path = args.out / "numbers.json"
    jobs = _jobs(args.names or list(FIGURES))
    processes = min(args.jobs, len(jobs))
    total, done, failures, stopwatch = sum(map(len, jobs)), 0, [], Stopwatch()

    def finished(made):
        nonlocal done
        for name, measured, wall, cpu in made:
            done += 1
            print(f"wrote {args.out / name}.png  [{done}/{total}]  wall {wall:.1f} s, CPU {cpu:.1f} s", flush=True)
            # Written after every figure, so a long run that is stopped keeps what it measured; read again just
            # before, so that two runs making different figures into one directory keep each other's numbers.
            numbers = json.loads(numbers_path.read_text()) if numbers_path.exists() else {}
            numbers[name] = measured
            numbers_path.write_text(json.dumps({key: numbers[key] for key in FIGURES if key in numbers},
                                               indent=1, default=float) + "\n")
            failures.extend(f"{name}: {sentence}: {measured[STATEMENTS][sentence]}"
                            for sentence in failed_statements(measured))

    if processes == 1:
        for job in jobs:
            finished(_make(job, args.quick, args.out))
    else:   # fresh processes ("spawn"): each imports the package, which sets its BLAS threads
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            for made in as_completed([pool.submit(_make, job, args.quick, args.out) for job in jobs]):
                finished(made.result())
    print(f"{total} figure(s) in {processes} process(es): {stopwatch}")
    if failures and not args.quick:
        sys.exit("these caption statements no longer hold on this run (see numbers.json); "
                 "reword the captions to what the run shows:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
