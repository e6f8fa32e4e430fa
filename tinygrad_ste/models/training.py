"""What every lesson model shares: the training loop, the result it returns, and the
one-code-per-image baseline.

* :func:`train_epochs` -- minibatches, backward, optimizer step, per-epoch history;
  :func:`timed_train_epochs` -- the same, timed in CPU seconds;
* :class:`TrainingResult` -- what every ``train_*`` function returns (the trained model, its
  history, the time, the options), which each model's result extends with its measurements;
* :func:`kmeans_test_errors`, :func:`kmeans_reconstruction_mse` -- the test error of
  k-means (per image, and its mean), the strong one-code-per-image baseline every
  quantizing autoencoder is measured against;
* :func:`kmeans_baseline` -- the same baseline for a budget of bits per image;
* :class:`Stopwatch` -- wall-clock and CPU seconds: the training times above, and the progress lines of the
  figures and models commands.
"""
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..data import iterate_minibatches, load_digits
from ..discrete import nearest_code
from ..kmeans import kmeans

__all__ = ["PIXELS", "TrainingResult", "train_epochs", "timed_train_epochs", "kmeans_test_errors",
           "kmeans_reconstruction_mse", "kmeans_baseline", "Stopwatch"]

PIXELS = 64   # an 8x8 digit, flattened


def train_epochs(step, optimizer, arrays, epochs, batch_size, rng, verbose=False, name="train", after_step=None,
                 after_epoch=None):
    """The training loop shared by every model here; returns the per-epoch history.

    Each epoch shuffles ``arrays`` (aligned data arrays) into minibatches; for each batch,
    ``step(*batch)`` returns ``(objective, metrics)``: the scalar Tensor to differentiate and
    a dict of floats to record.  Then ``objective.backward()``, ``optimizer.step()`` and
    ``after_step()`` (if given, e.g. to clip weights).  The history maps each metric name
    to its list of per-epoch means, weighted by batch size, plus whatever dict of floats
    ``after_epoch()`` returns at the end of each epoch (e.g. a test error).
    """
    history = {}
    for epoch in range(1, epochs + 1):
        sums, count = {}, 0
        for batch in iterate_minibatches(arrays, batch_size, rng):
            optimizer.zero_grad()
            objective, metrics = step(*batch)
            objective.backward()
            optimizer.step()
            if after_step is not None:
                after_step()
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value * len(batch[0])
            count += len(batch[0])
        epoch_metrics = {key: total / count for key, total in sums.items()}
        epoch_metrics.update(after_epoch() if after_epoch is not None else {})
        for key, value in epoch_metrics.items():
            history.setdefault(key, []).append(value)
        if verbose:
            print(f"{name} epoch {epoch:3d}/{epochs}: " + "  ".join(f"{k} {v[-1]:.4f}" for k, v in history.items()))
    return history


def timed_train_epochs(*args, **kwargs):
    """:func:`train_epochs`, timed: returns ``(history, seconds)``.

    Seconds of CPU time (:class:`Stopwatch`), not of the wall clock, which on a shared machine
    would measure the neighbours too; with one BLAS thread it is what a quiet machine would take.
    """
    stopwatch = Stopwatch()
    history = train_epochs(*args, **kwargs)
    return history, stopwatch.cpu_seconds()


@dataclass(kw_only=True)
class TrainingResult:
    """What every ``train_*`` function of the models returns; each model's result (a subclass)
    adds its own measurements.

    model: the trained model.  history: ``{metric: per-epoch values}`` from :func:`train_epochs`.
    seconds: the training time (:func:`timed_train_epochs`).  options: the arguments of the run,
    by name, so that a result says how it was made.
    """
    model: object
    history: dict
    seconds: float
    options: dict = field(default_factory=dict)


@lru_cache(maxsize=None)   # deterministic, and several lessons and figures ask for the same baseline
def kmeans_test_errors(num_codes, seed=0):
    """Per-image test MSE of k-means on the raw training pixels: shape (test images,).

    Lloyd's k-means (k-means++ seeds) with ``num_codes`` centres is fitted on the training
    split; each test image is replaced by its nearest centre, and its error is the mean
    over its 64 pixels.  Per image, so that a model scored on the same test images can be
    compared with it pair by pair (:func:`tinygrad_ste.compare.paired`).  A strong
    one-code-per-image *baseline*, not a bound: k-means finds a local optimum of the
    training error, and nothing stops another one-code compressor from doing better on test.
    """
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    centres, _ = kmeans(train_images, num_codes, np.random.default_rng(seed))
    errors = ((test_images - centres[nearest_code(test_images, centres)]) ** 2).mean(axis=1)
    errors.flags.writeable = False   # cached: shared by every caller
    return errors


def kmeans_reconstruction_mse(num_codes, seed=0):
    """Test MSE of k-means on the raw training pixels: the baseline a VQ autoencoder must beat.

    The mean over test images of :func:`kmeans_test_errors`.
    """
    return float(kmeans_test_errors(num_codes, seed).mean())


def kmeans_baseline(bits, seed=0):
    """The one-code-per-image k-means baseline at a budget of ``bits`` per image: ``(test MSE, centres)``.

    One code of ``bits`` bits picks one of 2**bits centres, but k-means cannot place more
    centres than there are training images (1,438): beyond log2(1438) = 10.5 bits every
    training image is already a centre, and the baseline is the nearest training image.  So
    it is k-means with min(floor(2**bits), number of training images) centres.
    """
    centres = min(int(2.0 ** bits + 1e-9), len(load_digits("train")[0]))   # 1e-9: 2 ** log2(1438) is 1437.99...
    return kmeans_reconstruction_mse(centres, seed), centres


class Stopwatch:
    """Seconds since it was made: wall-clock, and CPU (this process, every thread of it, and the
    child processes it has waited for).  On a shared machine the CPU seconds are the steadier
    measure of the work; the wall-clock seconds include the time spent waiting for a core.  The
    one timer of the package: the models' training times and the progress lines of the figures
    and models commands."""

    def __init__(self):
        self.started = self._clocks()

    @staticmethod
    def _clocks():
        children = os.times()
        return time.perf_counter(), time.process_time() + children.children_user + children.children_system

    def read(self):
        """(wall seconds, CPU seconds) so far."""
        now = self._clocks()
        return now[0] - self.started[0], now[1] - self.started[1]

    def cpu_seconds(self):
        """CPU seconds so far."""
        return self.read()[1]

    def __str__(self):
        wall, cpu = self.read()
        return f"wall {wall:.1f} s, CPU {cpu:.1f} s"
