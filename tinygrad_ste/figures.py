"""Regenerate the key plots in ``figures/`` with the project's own code: no notebook server.

    python -m tinygrad_ste.figures              # every figure, into figures/
    python -m tinygrad_ste.figures --out /tmp/f --quick staircase

Every figure uses a fixed seed, so rerunning gives the same pictures.  ``--quick`` runs
with tiny settings (for the tests): same code path, rougher numbers.

Each figure is a function registered with ``@figure`` that returns ``(matplotlib figure,
numbers)``: ``numbers`` maps a name to each value the figure shows that the README quotes.
The command writes them, per figure, to ``numbers.json`` beside the PNGs, so every number
in the README's captions can be traced to the run that drew the picture.
"""
import argparse
import json
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")   # files only: never open a window

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from . import discrete, viz  # noqa: E402
from .data import load_digits  # noqa: E402
from .estimators import compare_estimators, demo_problems  # noqa: E402
from .function import no_grad  # noqa: E402
from .kmeans import kmeans  # noqa: E402
from .models import train_binary_network, train_categorical_autoencoder, train_vq_autoencoder  # noqa: E402
from .tensor import Tensor  # noqa: E402

SEED = 0
FIGURES = {}   # name -> function(quick) -> (figure, numbers), in the order the lessons meet them


def figure(make):
    """Register ``make(quick) -> (figure, numbers)`` under its function name."""
    FIGURES[make.__name__] = make
    return make


@figure
def staircase(quick):
    """round(x) and the gradient of each of its rules ("zero", "identity", "clipped")."""
    grid = np.linspace(-2.5, 2.5, 101 if quick else 1001)
    gradients = {}
    for rule in discrete.Round.rules:
        x = Tensor(grid, requires_grad=True)
        discrete.round(x, backward=rule).sum().backward()
        gradients[rule] = x.grad
    return viz.plot_staircase(grid, np.round(grid), gradients), {}


def _categorical_demo(rng):
    """The small categorical problem of ``estimators.demo_problems``: (cost_fn, logits)."""
    (_, cost_fn, logits, kind), = [problem for problem in demo_problems(rng) if problem[3] == "categorical"]
    return cost_fn, logits


@figure
def estimator_histograms(quick):
    """Many independent estimates of one gradient entry, one histogram per estimator."""
    rng = np.random.default_rng(SEED)
    cost_fn, logits = _categorical_demo(rng)
    comparison = compare_estimators(cost_fn, logits, "categorical", rng, n_samples=4,
                                    n_estimates=20 if quick else 1000)
    largest = np.unravel_index(np.abs(comparison.exact).argmax(), comparison.exact.shape)   # where bias shows most
    numbers = {"exact": float(comparison.exact[largest])}
    numbers.update({f"{row.label}: mean": float(row.estimates[(slice(None),) + largest].mean()) for row in comparison})
    return viz.plot_estimates(comparison, index=largest), numbers


@figure
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
    numbers = {f"{name}, tau={tau}: {statistic}": values[name][i] for name in swept for i, tau in enumerate(temperatures)
               for statistic, values in (("bias", bias), ("variance", variance), ("noise floor", noise_floor))}
    return viz.plot_bias_variance(temperatures, bias, variance, "temperature tau", noise_floor=noise_floor,
                                  title="Gradient estimators with a temperature: the bias-variance trade-off "
                                        "(3 categorical variables, 4 classes, 4 samples per estimate)"), numbers


@figure
def estimator_training(quick):
    """Test reconstruction error of the categorical-latent autoencoder trained with each estimator."""
    settings = dict(epochs=2, hidden=16) if quick else dict(epochs=20)
    runs = {"straight_through": {}, "gumbel, tau=1": dict(estimator="gumbel"),
            "straight_through_gumbel": dict(estimator="straight_through_gumbel"), "reinmax": dict(estimator="reinmax"),
            "reinforce, leave_one_out": dict(estimator="reinforce", baseline="leave_one_out"),
            "reinforce, no baseline": dict(estimator="reinforce", baseline="none")}
    results = {label: train_categorical_autoencoder(**options, **settings, seed=SEED) for label, options in runs.items()}
    epochs = np.arange(1, settings["epochs"] + 1)
    return viz.plot_curves(epochs, {f"{label}: final {r.test_mse:.4f}": r.history["test_mse"]
                                    for label, r in results.items()},
                           "epoch", "test reconstruction MSE", "Digits autoencoder with 8 categorical latents: "
                           "one estimator per curve", logy=True), \
        {f"{label}: test MSE": r.test_mse for label, r in results.items()}


@figure
def binary_network(quick):
    """Training accuracy of BinaryConnect / BinaryNet against the same network with real weights."""
    settings = dict(epochs=2, hidden=16) if quick else dict(epochs=20)
    runs = {"real weights": dict(rule=None),
            "binary weights (identity = clipped)": dict(rule="identity"),
            "binary weights + activations, identity": dict(rule="identity", binarize_activations=True),
            "binary weights + activations, clipped": dict(rule="clipped", binarize_activations=True)}
    results = {label: train_binary_network(**options, **settings, seed=SEED) for label, options in runs.items()}
    epochs = np.arange(1, settings["epochs"] + 1)
    return viz.plot_curves(epochs, {f"{label}: test {r.test_accuracy:.1%}": r.history["accuracy"]
                                    for label, r in results.items()},
                           "epoch", "training accuracy", "Binary networks on the 8x8 digits (64-128-10, Adam)"), \
        {f"{label}: test accuracy": r.test_accuracy for label, r in results.items()}


@lru_cache(maxsize=None)
def _vq_runs(quick):
    """The three VQ autoencoders the VQ figures share (trained once per process)."""
    settings = dict(epochs=1, num_codes=16, hidden=16) if quick else {}   # quick, or the models' defaults
    return {"straight-through + restart": train_vq_autoencoder(rule="identity", **settings, seed=SEED),
            "straight-through, no restart": train_vq_autoencoder(rule="identity", restart_after=None, **settings,
                                                                 seed=SEED),
            "rotation trick + restart": train_vq_autoencoder(rule="rotation", **settings, seed=SEED)}


@figure
def vq_training(quick):
    """Reconstruction error per epoch of the three VQ autoencoders, against the k-means bound."""
    runs = _vq_runs(quick)
    first = next(iter(runs.values()))
    epochs = np.arange(1, first.options["epochs"] + 1)
    return viz.plot_curves(epochs, {f"{label} (test {r.test_mse:.4f})": r.history["reconstruction"]
                                    for label, r in runs.items()},
                           "epoch", "reconstruction MSE (training batches)",
                           f"VQ autoencoder, {first.options['codes_per_image']} codes per image from "
                           f"{first.options['num_codes']}, against one code per image", logy=True, markers=False,
                           reference=(f"k-means, {first.options['num_codes']} centres (test {first.kmeans_mse:.4f})",
                                      first.kmeans_mse)), \
        {"k-means: test MSE": first.kmeans_mse, **{f"{label}: test MSE": r.test_mse for label, r in runs.items()}}


@figure
def vq_codebook_usage(quick):
    """How often each code is chosen on the training set, without and with dead-code restart."""
    images = load_digits("train")[0]
    counts, numbers = {}, {}
    for label in ["straight-through, no restart", "straight-through + restart"]:
        result = _vq_runs(quick)[label]
        with no_grad():
            _, indices, _ = result.model(Tensor(images))
        usage = np.bincount(indices.ravel(), minlength=result.options["num_codes"])
        counts[f"{label}, perplexity {result.perplexity:.0f}"] = usage
        numbers.update({f"{label}: perplexity": result.perplexity, f"{label}: unused codes": int((usage == 0).sum()),
                        f"{label}: codes": result.options["num_codes"]})
    return viz.plot_code_usage(counts, title="VQ autoencoder: code usage on the training set, "
                                             "without and with dead-code restart"), numbers


@figure
def vq_reconstructions(quick):
    """Test digits, two VQ autoencoders' reconstructions and the k-means one."""
    runs = _vq_runs(quick)
    originals = load_digits("test")[0][:12]
    rows = {"original": originals}
    for label in ["straight-through + restart", "rotation trick + restart"]:
        with no_grad():
            rows[f"{label}"] = runs[label].model(Tensor(originals))[0].data.clip(0, 1)
    num_codes = runs["rotation trick + restart"].options["num_codes"]
    centres, _ = kmeans(load_digits("train")[0], num_codes, np.random.default_rng(SEED))
    rows[f"k-means ({num_codes})"] = centres[discrete.nearest_code(originals, centres)]
    return viz.show_images(rows, title="Test digits and their reconstructions"), {}


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
    numbers_path = args.out / "numbers.json"
    numbers = json.loads(numbers_path.read_text()) if numbers_path.exists() else {}
    for name in args.names or FIGURES:
        drawn, numbers[name] = FIGURES[name](args.quick)
        path = args.out / f"{name}.png"
        drawn.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(drawn)
        print(f"wrote {path}")
        # Written after every figure, so a long run that is stopped keeps what it measured.
        numbers_path.write_text(json.dumps({key: numbers[key] for key in FIGURES if key in numbers},
                                           indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
