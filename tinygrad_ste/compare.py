"""Comparing two models honestly: paired differences, seeds, and the words we may use.

Every comparative sentence in the lessons, the figures' captions and the README rests on
this module.  Two rules do most of the work.

**Pair what is shared.**  When models A and B are scored on the *same* test items (the same
images, the same canvases), most of the spread of each model's score comes from the items:
some digits are hard for every model.  That spread cancels in the per-item difference
d_i = a_i - b_i, so the standard error of the mean difference is computed from the d_i,

    SE_paired = sd(d_1, ..., d_n) / sqrt(n),

not from each model's own error, sqrt(SE_a^2 + SE_b^2), which counts the item spread twice
and can hide a real difference (or, with few items, invent one).

**Span seeds.**  Training is random: the same recipe run with another seed lands elsewhere.
With S seeds, each scored on the same n items, write d_si for seed s and item i.  The mean
difference is the mean of all d_si, and its standard error combines the two sources:

    SE^2 = sd_i(dbar_i)^2 / n  +  sd_s(dbar_s)^2 / S,

where dbar_i is item i's difference averaged over seeds (item-to-item variation) and
dbar_s is seed s's mean difference (seed-to-seed variation).  The two terms share the
residual noise, so this is slightly conservative: it never understates the error.  With one
seed only the first term exists, and the result says so (``n_seeds == 1``).

**Words, stated once** (``PairedDifference.verdict``):

* "clearly higher/lower": the difference is at least ``CLEARLY`` = 3 standard errors;
* "cannot tell apart": under ``TIED`` = 2 standard errors *and* the comparison could have
  detected a difference that matters (3 SE, the difference it would call clear, is no larger
  than the ``negligible`` difference the caller names); the sentence says what it could detect;
* anything else is "not clear": a difference of 2-3 SE, or a tie the comparison was too
  noisy to establish.

    >>> import numpy as np
    >>> a = np.array([0.9, 0.8, 0.7, 0.95]); b = a - np.array([0.1, 0.12, 0.09, 0.11])
    >>> d = paired(a, b)
    >>> round(d.mean, 3), d.n_items, d.n_seeds
    (0.105, 4, 1)
    >>> d.verdict("A", "B")
    'A is clearly higher than B: +0.105 ± 0.0065 (16 SE; paired over 4 items, 1 seed)'
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["CLEARLY", "TIED", "PairedDifference", "paired", "across_seeds"]

CLEARLY = 3.0   # standard errors for "clearly higher/lower"
TIED = 2.0      # under this many standard errors a difference may be called a tie (if the SE is small)


@dataclass(frozen=True)
class PairedDifference:
    """The mean of a - b over paired items (and seeds), with its standard error.

    ``mean`` -- the mean difference; ``se`` -- its standard error (see the module docstring);
    ``n_items``, ``n_seeds`` -- how much evidence it rests on; ``z`` -- mean / se.
    """
    mean: float
    se: float
    n_items: int
    n_seeds: int

    @property
    def z(self):
        """The difference in standard errors (inf where the SE is zero and the mean is not)."""
        if self.se == 0:
            return 0.0 if self.mean == 0 else float(np.copysign(np.inf, self.mean))
        return self.mean / self.se

    @property
    def detectable(self):
        """The smallest difference this comparison would call clear: ``CLEARLY`` standard errors."""
        return CLEARLY * self.se

    def is_clearly(self, direction):
        """True when a - b is at least 3 SE in ``direction``: "higher" (a > b) or "lower" (a < b)."""
        if direction not in ("higher", "lower"):
            raise ValueError(f"is_clearly: direction must be 'higher' or 'lower', got {direction!r}")
        return self.z >= CLEARLY if direction == "higher" else self.z <= -CLEARLY

    def is_tie(self, negligible):
        """True when a and b may be called the same: under 2 SE apart, and a difference of
        ``negligible`` (the smallest that would matter) would have been detected (3 SE <= it)."""
        return abs(self.z) < TIED and self.detectable <= negligible

    def summary(self):
        """'+0.105 ± 0.0065 (16 SE; paired over 4 items, 1 seed)'."""
        seeds = f"{self.n_seeds} seed" + ("s" if self.n_seeds != 1 else "")
        z = f"{abs(self.z):.2g}" if np.isfinite(self.z) else "inf"
        return f"{self.mean:+.3g} ± {self.se:.2g} ({z} SE; paired over {self.n_items} items, {seeds})"

    def verdict(self, name_a="A", name_b="B", negligible=None):
        """A sentence using the module's wording rules; ``negligible`` enables "cannot tell apart"."""
        if self.is_clearly("higher"):
            words = f"{name_a} is clearly higher than {name_b}"
        elif self.is_clearly("lower"):
            words = f"{name_a} is clearly lower than {name_b}"
        elif negligible is not None and self.is_tie(negligible):
            words = (f"{name_a} and {name_b} cannot be told apart (a difference of "
                     f"{self.detectable:.2g} or more would have been detected)")
        else:
            words = f"it is not clear whether {name_a} differs from {name_b}"
        return f"{words}: {self.summary()}"


def paired(a, b):
    """The paired difference a - b of two models scored on the same items.

    ``a``, ``b`` -- per-item scores (accuracy 0/1, squared error, log-likelihood ...), of shape
    (items,) for one seed or (seeds, items) for several seeds, item i the same test item in
    every row.  Seed s of ``a`` is paired with seed s of ``b`` (the same data order, the same
    initialisation where the recipes allow it).  Returns a :class:`PairedDifference`.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[-1] < 2:
        raise ValueError(f"paired: a and b must have the same shape, (items,) or (seeds, items) with at least "
                         f"2 items; got {a.shape} and {b.shape}")
    d = (a - b).reshape(-1, a.shape[-1])   # (seeds, items)
    seeds, items = d.shape
    item_term = d.mean(axis=0).var(ddof=1) / items
    seed_term = d.mean(axis=1).var(ddof=1) / seeds if seeds > 1 else 0.0
    return PairedDifference(float(d.mean()), float(np.sqrt(item_term + seed_term)), items, seeds)


def across_seeds(a, b):
    """The difference of one scalar result per seed, paired by seed: ``a[s] - b[s]``.

    For results with no per-item scores (a final training loss, a bound over the whole test
    set).  The standard error is sd(a - b) / sqrt(S), from the seeds alone, so at least
    2 seeds are needed; ``n_items`` is 1.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"across_seeds: a and b must be 1-d, one value per seed, at least 2 seeds; "
                         f"got {a.shape} and {b.shape}")
    d = a - b
    return PairedDifference(float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))), 1, len(d))
