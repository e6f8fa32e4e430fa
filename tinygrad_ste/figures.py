"""Regenerate the key plots in ``figures/`` with the project's own code: no notebook server.

    python -m tinygrad_ste.figures              # every figure, into figures/
    python -m tinygrad_ste.figures --out /tmp/f --quick staircase

Every figure uses a fixed seed, so rerunning gives the same pictures.  ``--quick`` runs
with tiny settings (for the tests): same code path, rougher numbers.
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")   # files only: never open a window

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from . import discrete, viz  # noqa: E402
from .estimators import compare_estimators, demo_problems  # noqa: E402
from .tensor import Tensor  # noqa: E402

SEED = 0


def staircase(quick):
    """round(x) and the gradient of each of its rules ("zero", "identity", "clipped")."""
    grid = np.linspace(-2.5, 2.5, 101 if quick else 1001)
    gradients = {}
    for rule in discrete.Round.rules:
        x = Tensor(grid, requires_grad=True)
        discrete.round(x, backward=rule).sum().backward()
        gradients[rule] = x.grad
    return viz.plot_staircase(grid, np.round(grid), gradients)


def _categorical_demo(rng):
    """The small categorical problem of ``estimators.demo_problems``: (cost_fn, logits)."""
    (_, cost_fn, logits, kind), = [problem for problem in demo_problems(rng) if problem[3] == "categorical"]
    return cost_fn, logits


def estimator_histograms(quick):
    """Many independent estimates of one gradient entry, one histogram per estimator."""
    rng = np.random.default_rng(SEED)
    cost_fn, logits = _categorical_demo(rng)
    comparison = compare_estimators(cost_fn, logits, "categorical", rng, n_samples=4,
                                    n_estimates=20 if quick else 1000)
    return viz.plot_estimates(comparison, index=(0, 0))


def estimator_temperature(quick):
    """Bias and variance of the estimators that have a temperature, against the temperature."""
    rng = np.random.default_rng(SEED)
    cost_fn, logits = _categorical_demo(rng)
    temperatures = [0.1, 1.0] if quick else [0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
    swept = ["gumbel", "straight_through_gumbel", "straight_through", "reinmax"]
    bias, variance, noise_floor = ({name: [] for name in swept} for _ in range(3))
    for tau in temperatures:
        rows = compare_estimators(cost_fn, logits, "categorical", rng, estimators=[(name, {"tau": tau}) for name in swept],
                                  n_samples=4, n_estimates=20 if quick else 1000)
        for name, row in zip(swept, rows):
            bias[name].append(row.bias)
            variance[name].append(row.variance)
            noise_floor[name].append(row.noise_floor)
    return viz.plot_bias_variance(temperatures, bias, variance, "temperature tau", noise_floor=noise_floor,
                                  title="Gradient estimators with a temperature: the bias-variance trade-off "
                                        "(3 categorical variables, 4 classes, 4 samples per estimate)")


FIGURES = {"staircase": staircase, "estimator_histograms": estimator_histograms,
           "estimator_temperature": estimator_temperature}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_ste.figures", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name", help=f"figures to make (default: all): {', '.join(FIGURES)}")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output directory (default: figures/)")
    parser.add_argument("--quick", action="store_true", help="tiny settings, for tests")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or FIGURES:
        figure = FIGURES[name](args.quick)
        path = args.out / f"{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
