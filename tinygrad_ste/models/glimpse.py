"""The glimpse model of lesson 8: hard attention as one categorical choice of where to look.

The model sees a cluttered canvas (:func:`~tinygrad_ste.data.cluttered_digits`) only as a
coarse thumbnail, picks **one** of its cells, and classifies the digit from the thumbnail
plus that cell at full resolution.  Picking is a discrete choice, so the chooser learns
through one of the estimators of :mod:`tinygrad_ste.stochastic` -- or, as the differentiable
reference, through a softmax-weighted mixture of all cells (soft attention).  Whatever the
training, the test uses a hard choice: the most likely cell.

The reference policies need no chooser: no glimpse at all (the thumbnail alone), a random
cell, the same cell for every canvas, or the cell that holds the digit (the oracle).
"""
from dataclasses import dataclass

from functools import partial

import numpy as np

from .. import functional as F
from ..data import DIGIT_SIDE, NUM_CLASSES, cluttered_digits
from ..function import no_grad
from ..module import Module
from ..nn import MLP, Linear
from ..optim import Adam
from ..stochastic import reinforce_loss, sample_categorical
from ..tensor import Tensor
from .training import PIXELS, TrainingResult, timed_train_epochs

__all__ = ["LEARNED_CHOICES", "REFERENCE_CHOICES", "CHOICES", "POOL", "thumbnails", "cells_of", "GlimpseModel",
           "GlimpseResult", "train_glimpse_model", "train_best_fixed_cell",
           "compare_glimpse_choices", "summarize_glimpse_runs", "LABELS", "REFERENCE_POLICIES", "random_cell",
           "fixed_cell", "oracle_cell", "reference_weights", "weights_as_trained", "glimpse_step", "correct_with",
           "hard_choice"]

# soft attention, then the estimators of lesson 3 for a sampled choice
LEARNED_CHOICES = ("soft", "straight_through", "gumbel", "straight_through_gumbel", "reinmax", "reinforce")
REFERENCE_CHOICES = ("thumbnail", "random", "fixed", "oracle")
CHOICES = LEARNED_CHOICES + REFERENCE_CHOICES
LABELS = {"soft": "soft attention", "straight_through": "straight-through", "gumbel": "Gumbel-softmax",
          "straight_through_gumbel": "straight-through Gumbel", "reinmax": "ReinMax",
          "reinforce": "REINFORCE, leave-one-out", "thumbnail": "thumbnail alone", "random": "random cell",
          "fixed": "best fixed cell", "oracle": "oracle: the digit's cell"}   # for tables and plots
POOL = 4   # the thumbnail averages POOL x POOL blocks of pixels


def thumbnails(canvases, grid=2):
    """The coarse view: each POOL x POOL block of a canvas replaced by its mean.

    canvases: (N, (8 grid)^2) -> (N, (8 grid / POOL)^2), a 4x4 thumbnail of a 16x16 canvas.
    """
    side = DIGIT_SIDE * grid
    blocks = np.asarray(canvases).reshape(-1, side // POOL, POOL, side // POOL, POOL)
    return blocks.mean(axis=(2, 4)).reshape(len(blocks), -1)


def cells_of(canvases, grid=2):
    """The full-resolution glimpses: every 8x8 cell of every canvas.

    canvases: (N, (8 grid)^2) -> (N, grid^2, 64); cell c is row c // grid, column c % grid.
    """
    cells = np.asarray(canvases).reshape(-1, grid, DIGIT_SIDE, grid, DIGIT_SIDE).transpose(0, 1, 3, 2, 4)
    return cells.reshape(len(cells), grid * grid, PIXELS)


class GlimpseModel(Module):
    """Look at a thumbnail, choose one cell, classify from the thumbnail and that cell.

    ``choice_logits(thumbnail)``: (N, T) -> (N, P), scores of the P = grid^2 cells (a small
    MLP: the chooser).  ``classify(thumbnail, cells, weights)``: thumbnail (N, T), cells
    (N, P, 64) and weights (..., N, P) -> class logits (..., N, 10).  The glimpse is
    sum_p weights_p * cell_p: the chosen cell for one-hot weights, a mixture for soft ones,
    nothing for zeros (the thumbnail-alone reference).  The classifier is one hidden layer on
    the thumbnail and the glimpse side by side: h = relu(thumbnail W_t + glimpse W_g + b),
    which is [thumbnail, glimpse] @ [W_t; W_g] written so that it broadcasts over a leading
    sample axis of the weights.  ``rng`` draws the initial weights (None: the library-wide
    generator, see :func:`tinygrad_ste.manual_seed`).  ``predict(thumbnail, cells)``: the hard choice and the class
    read there, for test time.
    """

    def __init__(self, thumbnail_pixels, num_cells, hidden, *, rng=None):
        self.chooser = MLP([thumbnail_pixels, hidden, num_cells], rng=rng)
        self.from_thumbnail = Linear(thumbnail_pixels, hidden, bias=False, rng=rng)
        self.from_glimpse = Linear(PIXELS, hidden, rng=rng)
        self.head = Linear(hidden, NUM_CLASSES, rng=rng)

    def choice_logits(self, thumbnail):
        return self.chooser(thumbnail)

    def classify(self, thumbnail, cells, weights):
        glimpse = (weights.reshape(*weights.shape, 1) * cells).sum(axis=-2)     # (..., N, 64)
        return self.head((self.from_thumbnail(thumbnail) + self.from_glimpse(glimpse)).relu())

    def predict(self, thumbnail, cells):
        """The test-time pass with a hard choice: thumbnail (N, T) and cells (N, P, 64) arrays ->
        (the most likely cell (N,), the class read there (N,)), integer arrays."""
        with no_grad():
            chosen = self.choice_logits(Tensor(thumbnail)).data.argmax(axis=-1)
            class_logits = self.classify(Tensor(thumbnail), cells, F.one_hot(chosen, cells.shape[-2]))
        return chosen, class_logits.data.argmax(axis=-1)


@dataclass
class GlimpseResult(TrainingResult):
    """What :func:`train_glimpse_model` measured.

    history: per epoch, "loss" (mean cross-entropy of the training glimpses), "accuracy"
    (training batches, with the choice as trained) and "test_accuracy" (hard choice).
    test_accuracy: test accuracy with a hard choice, the most likely cell (the references:
    their own cell; "random" draws one), after the last epoch.  pick_rate: how often that
    cell holds the digit.
    test_accuracy_as_trained: test accuracy with the choice made as in training -- the
    softmax mixture ("soft"), a relaxed sample ("gumbel"), a sampled cell (the other
    estimators); for the references the same policy again ("random": a fresh draw).
    test_count: the number of test canvases.  test_correct, test_found: per test canvas (N,) booleans
    of that hard choice, the class read correctly and the cell holding the digit, and
    test_correct_as_trained those of the choice as trained, so that two models (or two ways of
    choosing) scored on the same canvases can be compared canvas by canvas
    (:func:`tinygrad_ste.compare.paired`).
    seconds: training time, in CPU seconds of this process: the time it ran on a core, which
    leaves out waiting for one but still grows on a loaded machine (shared caches, a lower clock).
    """
    test_accuracy: float
    pick_rate: float
    test_accuracy_as_trained: float
    test_count: int
    test_correct: np.ndarray
    test_found: np.ndarray
    test_correct_as_trained: np.ndarray


# The reference policies: which cell each canvas looks at, (N,), with no chooser to train.
def random_cell(digit_cells, num_cells, cell, rng):
    """A uniformly random cell for each canvas."""
    return rng.integers(num_cells, size=len(digit_cells))


def fixed_cell(digit_cells, num_cells, cell, rng):
    """The same cell, ``cell``, for every canvas."""
    return np.full(len(digit_cells), cell)


def oracle_cell(digit_cells, num_cells, cell, rng):
    """The cell that holds the digit."""
    return digit_cells


REFERENCE_POLICIES = {"random": random_cell, "fixed": fixed_cell, "oracle": oracle_cell}


def reference_weights(choice, digit_cells, num_cells, cell, rng):
    """The glimpse weights of a reference ``choice``, (N, P): one-hot at its cell, zeros for "thumbnail"."""
    if choice == "thumbnail":
        return Tensor(np.zeros((len(digit_cells), num_cells)))
    return F.one_hot(REFERENCE_POLICIES[choice](digit_cells, num_cells, cell, rng), num_cells)


def weights_as_trained(choice, logits, digit_cells, rng, cell=0, tau=1.0, n_samples=None):
    """The choice as made in training, from the chooser's ``logits`` (N, P): the softmax for "soft",
    the reference policy's one-hot cells, both (N, P); else ``n_samples`` choices drawn by the
    estimator ``choice`` at temperature ``tau``, (n_samples, N, P) (or (N, P) for None)."""
    if choice in REFERENCE_CHOICES:
        return reference_weights(choice, digit_cells, logits.shape[-1], cell, rng)
    if choice == "soft":
        return F.softmax(logits, axis=-1)
    return sample_categorical(logits, choice, rng, tau=tau, n_samples=n_samples)


def glimpse_step(model, choice, thumbnail, cells, labels, digit_cells, *, rng, cell, tau, n_samples):
    """One training step on a batch: ``(objective, {"loss", "accuracy"})`` for :func:`train_epochs`.

    The loss is the mean cross-entropy over the sampled choices; for "reinforce" the objective
    adds :func:`~tinygrad_ste.stochastic.reinforce_loss` with each choice's cross-entropy as its
    cost and the leave-one-out baseline."""
    thumbnail = Tensor(thumbnail)
    logits = model.choice_logits(thumbnail)
    weights = weights_as_trained(choice, logits, digit_cells, rng, cell=cell, tau=tau, n_samples=n_samples)
    class_logits = model.classify(thumbnail, cells, weights)
    # one cost per sampled choice, (n_samples, N) or (N,): REINFORCE needs them unreduced
    cost = F.cross_entropy(class_logits, np.broadcast_to(labels, class_logits.shape[:-1]), reduction="none")
    loss = cost.mean()
    objective = loss
    if choice == "reinforce":
        objective = loss + reinforce_loss(logits, weights, cost, kind="categorical", baseline="leave_one_out")
    accuracy = float((class_logits.data.argmax(axis=-1) == labels).mean())
    return objective, {"loss": loss.item(), "accuracy": accuracy}


def correct_with(model, thumbnails, cells, labels, weights):
    """(N,) booleans: the class ``model`` reads through the glimpse ``weights`` is the label."""
    class_logits = model.classify(Tensor(thumbnails), cells, weights)
    return class_logits.data.argmax(axis=-1) == labels


def hard_choice(model, choice, thumbnails, cells, labels, digit_cells, rng, cell=0):
    """The test-time measurement with a hard choice, the most likely cell (a reference: its own
    cell): ``(correct, found)``, (N,) booleans, the class read there is the label and the cell
    holds the digit (never, for "thumbnail", which looks at no cell)."""
    with no_grad():
        logits = model.choice_logits(Tensor(thumbnails))
        if choice in REFERENCE_CHOICES:
            weights = reference_weights(choice, digit_cells, logits.shape[-1], cell, rng)
        else:
            weights = F.one_hot(logits.data.argmax(axis=-1), logits.shape[-1])
        found = (weights.data.argmax(axis=-1) == digit_cells) & (choice != "thumbnail")
        return correct_with(model, thumbnails, cells, labels, weights), found


def train_glimpse_model(choice="straight_through", grid=2, crop_size=6, hidden=64, n_samples=4, tau=1.0, cell=0,
                        epochs=20, batch_size=32, lr=3e-3, seed=0, data_seed=0, verbose=False):
    """Train a :class:`GlimpseModel` on cluttered digits with one way of choosing; returns a
    :class:`GlimpseResult`.

    ``choice`` is one of ``CHOICES``:

    * "soft": soft attention, the glimpse is the softmax(logits)-weighted mixture of all
      cells (training and ``test_accuracy_as_trained``); fully differentiable.
    * an estimator of lesson 3 (``LEARNED_CHOICES``): ``n_samples`` cells are drawn per canvas
      with :func:`~tinygrad_ste.stochastic.sample_categorical` (temperature ``tau``); the
      loss is the mean cross-entropy over them.  "gumbel" trains on the relaxed sample, a
      soft mixture; "reinforce" adds :func:`~tinygrad_ste.stochastic.reinforce_loss` with
      each sample's cross-entropy as its cost and the leave-one-out baseline.
    * references, no chooser trained: "thumbnail" (no glimpse), "random" (a uniformly random
      cell), "fixed" (always cell ``cell``), "oracle" (the cell holding the digit).

    The canvases come from ``cluttered_digits(split, grid, crop_size, seed=data_seed)``; every
    other random choice from ``numpy.random.default_rng(seed)``.
    """
    if choice not in CHOICES:
        raise ValueError(f"train_glimpse_model: unknown choice {choice!r}; choose one of "
                         f"{', '.join(map(repr, CHOICES))}")
    num_cells = grid * grid
    if choice == "fixed" and not 0 <= cell < num_cells:
        raise ValueError(f"train_glimpse_model: cell must lie in [0, {num_cells}) for grid={grid}, got {cell!r}")
    options = dict(choice=choice, grid=grid, crop_size=crop_size, hidden=hidden, n_samples=n_samples, tau=tau,
                   cell=cell, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, data_seed=data_seed)
    rng = np.random.default_rng(seed)
    evaluation_rng = np.random.default_rng(seed + 1)   # the same test noise whatever the choice
    train_canvases, train_labels, train_digit_cells = cluttered_digits("train", grid, crop_size, seed=data_seed)
    test_canvases, test_labels, test_digit_cells = cluttered_digits("test", grid, crop_size, seed=data_seed)
    train_arrays = (thumbnails(train_canvases, grid), cells_of(train_canvases, grid), train_labels, train_digit_cells)
    test_thumbnails, test_cells = thumbnails(test_canvases, grid), cells_of(test_canvases, grid)
    model = GlimpseModel(test_thumbnails.shape[1], num_cells, hidden, rng=rng)

    step = partial(glimpse_step, model, choice, rng=rng, cell=cell, tau=tau, n_samples=n_samples)
    test = (test_thumbnails, test_cells, test_labels, test_digit_cells)

    def evaluate():
        return {"test_accuracy": float(hard_choice(model, choice, *test, evaluation_rng, cell=cell)[0].mean())}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), train_arrays, epochs, batch_size, rng,
                                          verbose, name=f"glimpse model ({choice})", after_epoch=evaluate)
    # the final measurements: one hard choice per test canvas, the same for accuracy and picks
    correct, found = hard_choice(model, choice, *test, evaluation_rng, cell=cell)
    with no_grad():
        weights = weights_as_trained(choice, model.choice_logits(Tensor(test_thumbnails)), test_digit_cells,
                                     evaluation_rng, cell=cell, tau=tau)
        correct_as_trained = correct_with(model, test_thumbnails, test_cells, test_labels, weights)
    return GlimpseResult(model=model, history=history, test_accuracy=float(correct.mean()),
                         pick_rate=float(found.mean()), test_accuracy_as_trained=float(correct_as_trained.mean()),
                         test_count=len(test_labels), test_correct=correct, test_found=found,
                         test_correct_as_trained=correct_as_trained, seconds=seconds, options=options)


def train_best_fixed_cell(**settings):
    """The "best fixed position" reference: train one "fixed" model per cell and return the
    :class:`GlimpseResult` with the highest test accuracy (picked on the test set, so if
    anything it flatters the reference).  ``settings``: keyword arguments of
    :func:`train_glimpse_model` other than ``choice`` and ``cell``."""
    grid = settings.get("grid", 2)
    runs = [train_glimpse_model("fixed", cell=cell, **settings) for cell in range(grid * grid)]
    return max(runs, key=lambda run: run.test_accuracy)


def compare_glimpse_choices(choices=CHOICES, seeds=(0, 1, 2), **settings):
    """Train a glimpse model for every choice and seed; returns ``{choice: [GlimpseResult per seed]}``.

    ``choices``: names from ``CHOICES``; "fixed" stands for the best fixed cell
    (:func:`train_best_fixed_cell`).  ``settings``: keyword arguments of
    :func:`train_glimpse_model` shared by every run.  The lesson and the figures measure
    their tables with it; :func:`summarize_glimpse_runs` turns the result into numbers.
    """
    def train(choice, seed):
        if choice == "fixed":
            return train_best_fixed_cell(**settings, seed=seed)
        return train_glimpse_model(choice, **settings, seed=seed)
    return {choice: [train(choice, seed) for seed in seeds] for choice in choices}


def summarize_glimpse_runs(runs):
    """``{choice: [GlimpseResult]}`` -> ``{choice: {statistic: value}}``, over the seeds:
    "accuracy" and "accuracy sd" (hard choice at test; sd with ddof=1, 0 for one seed),
    "accuracy se", the standard error of that mean as an estimate of the accuracy on new
    canvases: sqrt(sd^2 / seeds + p (1 - p) / test_count) -- the seeds' spread averages out
    over the seeds, the luck of one shared test set does not;
    "pick rate", "as trained" and "as trained sd" (test accuracy with the choice made as in
    training) and "seconds" (mean training time)."""
    def sd(values):
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    def statistics(results):
        accuracy = [r.test_accuracy for r in results]
        as_trained = [r.test_accuracy_as_trained for r in results]
        mean = float(np.mean(accuracy))
        standard_error = np.sqrt(sd(accuracy) ** 2 / len(accuracy) + mean * (1 - mean) / results[0].test_count)
        return {"accuracy": mean, "accuracy sd": sd(accuracy), "accuracy se": float(standard_error),
                "pick rate": float(np.mean([r.pick_rate for r in results])),
                "as trained": float(np.mean(as_trained)), "as trained sd": sd(as_trained),
                "seconds": float(np.mean([r.seconds for r in results]))}
    return {choice: statistics(results) for choice, results in runs.items()}
