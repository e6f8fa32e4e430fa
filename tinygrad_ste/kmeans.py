"""k-means clustering in NumPy: k-means++ seeding and Lloyd's iterations.

k-means looks for k centres c_1..c_k minimising the distortion

    D = (1/N) sum_n min_k ||x_n - c_k||^2,

the squared error of replacing every point by its nearest centre.  That is exactly what
a vector quantizer does to its inputs, so k-means serves twice in this package: to seed
a :class:`~tinygrad_ste.vq.VectorQuantizer`'s codebook from data, and as the yardstick for
the VQ autoencoder -- k-means on raw pixels is the best reconstruction one code per image
can give.  Nearest centres come from :func:`tinygrad_ste.discrete.nearest_code`, the same
search the quantizer uses.
"""
import numpy as np

from .arrays import nearest_code, rows_added
from .random import generator

__all__ = ["kmeans_plus_plus", "kmeans"]


def _check(points, k, name):
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"{name}: points must have shape (N, D), got {points.shape}")
    if not 1 <= k <= len(points):
        raise ValueError(f"{name}: need 1 <= k <= N to pick k distinct points, got k={k} for points {points.shape}")
    return points


def kmeans_plus_plus(points, k, rng=None):
    """k-means++ seeding (Arthur and Vassilvitskii 2007): k rows of ``points`` as initial centres.

    points: (N, D), k <= N, rng: numpy Generator (None: the library-wide one) -> centres
    (k, D), each a copy of a data row.
    The first centre is a uniformly random point; each next one is point n with probability
    d_n^2 / sum_m d_m^2, d_n the distance from x_n to its nearest centre so far.  Far-away
    points are likely picks, so the centres spread over the data; the expected distortion
    is within O(log k) of the optimum before any Lloyd iteration.
    """
    points = _check(points, k, "kmeans_plus_plus")
    rng = generator(rng, "kmeans_plus_plus")
    chosen = [rng.integers(len(points))]
    nearest_sq = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = nearest_sq.sum()
        if total > 0:
            pick = rng.choice(len(points), p=nearest_sq / total)
        else:   # every point coincides with a centre already: any unused row will do
            pick = rng.choice(np.setdiff1d(np.arange(len(points)), chosen))
        chosen.append(pick)
        nearest_sq = np.minimum(nearest_sq, ((points - points[pick]) ** 2).sum(axis=1))
    return points[chosen].copy()


def kmeans(points, k, rng=None, iterations=100):
    """Lloyd's algorithm from k-means++ seeds.  Returns ``(centres (k, D), assignments (N,))``.

    Each iteration assigns every point to its nearest centre, then moves every centre to
    the mean of its points; neither step can raise the distortion, so it stops at a local
    minimum (when the assignments stop changing) or after ``iterations`` rounds.  A centre
    that loses all its points stays where it is.  ``rng`` picks the seeds (None: the
    library-wide generator).
    """
    points = _check(points, k, "kmeans")
    centres = kmeans_plus_plus(points, k, rng)
    assignments = nearest_code(points, centres)
    for _ in range(iterations):
        counts = np.bincount(assignments, minlength=k)
        sums = rows_added(centres.shape, assignments, points)
        has_points = counts > 0
        centres[has_points] = sums[has_points] / counts[has_points, None]
        new_assignments = nearest_code(points, centres)
        if np.array_equal(new_assignments, assignments):
            break
        assignments = new_assignments
    return centres, assignments
