"""The UCI 8x8 handwritten digits, bundled with the package, plus a minibatch helper.

What the data is
    1,797 grayscale images of handwritten digits 0..9. Each image is an 8x8
    grid; each pixel counts how many of the 16 pixels in a 4x4 block of the
    original 32x32 black-and-white scan were inked, so it is an integer 0..16.
    The ten classes are roughly balanced (174 to 183 images each).

Where it comes from
    The "Optical Recognition of Handwritten Digits" data set of the UCI
    Machine Learning Repository, by E. Alpaydin and C. Kaynak (1998),
    DOI 10.24432/C50P49. These 1,797 images are the UCI test file, as
    scikit-learn bundles it; we converted that CSV, unchanged, to
    ``tinygrad_ste/datasets/digits.npz``. Nothing is downloaded at run time and
    scikit-learn is not needed.

Licence
    CC BY 4.0 (as stated by UCI): free to use and adapt, with credit to the
    creators. See ``tinygrad_ste/datasets/DIGITS_LICENSE.md``.

Shapes
    The file stores ``images`` uint8 (1797, 64) and ``labels`` uint8 (1797,).
    :func:`load_digits` returns ``images`` float64 (N, 64) scaled to [0, 1]
    and ``labels`` int64 (N,). Row ``i`` of ``images`` is the 8x8 image read
    row by row; ``images[i].reshape(8, 8)`` gives it back as a picture.

Example::

    rng = np.random.default_rng(0)
    x_train, y_train = load_digits("train")
    for x_batch, y_batch in iterate_minibatches((x_train, y_train), 32, rng):
        ...  # x_batch: float64 (<=32, 64), y_batch: int64 (<=32,)
"""

from functools import lru_cache
from importlib import resources

import numpy as np

from .random import generator

NUM_CLASSES = 10
MAX_PIXEL_VALUE = 16
SPLITS = ("train", "test", "all")


def _read_bundled_digits():
    """Read the bundled file: ``images`` uint8 (1797, 64), ``labels`` uint8 (1797,)."""
    digits_file = resources.files(__package__) / "datasets" / "digits.npz"
    with digits_file.open("rb") as handle, np.load(handle) as archive:
        return archive["images"], archive["labels"]


def _stratified_test_mask(labels, test_fraction, seed):
    """Pick a test set holding ``test_fraction`` of every class.

    labels: int array (N,). Returns a bool array (N,), True for test rows.
    Within each class the rows are shuffled with ``default_rng(seed)`` and the
    first ``round(test_fraction * class_size)`` of them go to the test set, so
    the same seed always picks the same rows.
    """
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in range(NUM_CLASSES):
        rows_of_digit = rng.permutation(np.flatnonzero(labels == digit))
        test_count = round(test_fraction * len(rows_of_digit))
        is_test[rows_of_digit[:test_count]] = True
    return is_test


def load_digits(split="train", test_fraction=0.2, seed=0):
    """Load the bundled digits as ``(images, labels)``.

    split: ``"train"``, ``"test"`` or ``"all"``.
    test_fraction: share of each class that goes to the test split, 0 < f < 1.
    seed: seed for ``numpy.random.default_rng`` that fixes the split.

    Returns ``images`` float64 (N, 64), pixel values divided by 16 so they lie
    in [0, 1], and ``labels`` int64 (N,) with values 0..9. N is 1,797 for
    ``"all"``; with the defaults it is 1,438 for ``"train"`` and 359 for
    ``"test"``.

    The split is stratified: every digit is divided in the same proportion,
    so both splits contain all ten classes. For a given ``test_fraction`` and
    ``seed``, train and test never share a row and together are all 1,797
    images. Rows keep the order they have in the file.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")

    raw_images, raw_labels = _read_bundled_digits()
    images = raw_images.astype(np.float64) / MAX_PIXEL_VALUE
    labels = raw_labels.astype(np.int64)
    if split == "all":
        return images, labels

    is_test = _stratified_test_mask(labels, test_fraction, seed)
    keep = is_test if split == "test" else ~is_test
    return images[keep], labels[keep]


def iterate_minibatches(arrays, batch_size, rng=None, shuffle=True):
    """Split aligned arrays into minibatches, one pass (epoch) over the rows.

    * arrays: sequence of arrays sharing the same first dimension N, e.g.
      ``(images, labels)`` with shapes (N, 64) and (N,);
    * batch_size: positive int, rows per batch;
    * rng: ``numpy.random.Generator`` that shuffles the rows when ``shuffle``; None
      uses the library-wide one (``tinygrad_ste.manual_seed``);
    * shuffle: if False, rows come in their stored order and ``rng`` is unused.

    Returns an iterator of tuples, one entry per input array, each holding the
    same rows of its array: shapes (batch_size, ...) except the last batch,
    which holds the remaining N % batch_size rows when that is not zero. Every
    row appears in exactly one batch. Bad arguments raise at call time, not at
    the first ``next()``.
    """
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError("arrays must contain at least one array")
    row_counts = {len(array) for array in arrays}
    if len(row_counts) != 1:
        raise ValueError(f"arrays must share the same first dimension, got lengths {sorted(row_counts)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    rng = generator(rng, "iterate_minibatches")

    (row_count,) = row_counts
    order = rng.permutation(row_count) if shuffle else np.arange(row_count)
    return (
        tuple(array[order[start:start + batch_size]] for array in arrays)
        for start in range(0, row_count, batch_size)
    )


DIGIT_SIDE = 8   # the digits are 8x8


def cluttered_digits(split="train", grid=2, crop_size=6, seed=0, test_fraction=0.2, split_seed=0):
    """Each digit of ``split`` placed in one cell of a larger canvas, with clutter in the others.

    The canvas is a ``grid`` x ``grid`` arrangement of 8x8 cells, (8 grid) x (8 grid) pixels
    (16x16 for the default grid=2, whose cells are the four quadrants).  The digit fills one
    cell, chosen uniformly at random; every other cell holds a ``crop_size`` x ``crop_size``
    window cut from another digit of the same split (at a random place in that digit) and
    pasted at a random place in the cell.  So every cell has ink, but only one holds a whole
    digit: a model must find that cell before it can read the label.  Lesson 8 builds a
    glimpse model on it.

    split: "train", "test" or "all", as in :func:`load_digits` (whose ``test_fraction`` and
    ``split_seed`` fix the split).  seed: seeds the ``numpy.random.Generator`` that places the
    digits and cuts the clutter, so a seed always gives the same canvases; train and test
    canvases draw from different streams.

    Returns ``canvases`` float64 (N, (8 grid)^2), each row a canvas read row by row, pixels in
    [0, 1]; ``labels`` int64 (N,), the digit's class; ``cells`` int64 (N,), the cell holding
    the digit, counted row by row from the top left (for grid=2: 0 top left, 1 top right,
    2 bottom left, 3 bottom right).
    """
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 2:
        raise ValueError(f"cluttered_digits: grid must be an int >= 2 (cells per side), got {grid!r}")
    if isinstance(crop_size, bool) or not isinstance(crop_size, (int, np.integer)) \
            or not 1 <= crop_size <= DIGIT_SIDE:
        raise ValueError(f"cluttered_digits: crop_size must be an int in 1..{DIGIT_SIDE}, got {crop_size!r}")
    # Built once per set of arguments (a Python loop over every cell), then copied, so the caller may
    # modify what it gets.
    return tuple(array.copy() for array in _make_cluttered_digits(split, grid, crop_size, seed, test_fraction,
                                                                  split_seed))


@lru_cache(maxsize=16)
def _make_cluttered_digits(split, grid, crop_size, seed, test_fraction, split_seed):
    """The canvases of :func:`cluttered_digits` for already checked arguments."""
    images, labels = load_digits(split, test_fraction=test_fraction, seed=split_seed)
    digits = images.reshape(-1, DIGIT_SIDE, DIGIT_SIDE)
    count, side = len(digits), DIGIT_SIDE * grid
    rng = np.random.default_rng((seed, SPLITS.index(split)))

    cells = rng.integers(grid * grid, size=count)
    canvases = np.zeros((count, side, side))
    for i in range(count):
        for cell in range(grid * grid):
            top, left = DIGIT_SIDE * (cell // grid), DIGIT_SIDE * (cell % grid)
            if cell == cells[i]:
                canvases[i, top:top + DIGIT_SIDE, left:left + DIGIT_SIDE] = digits[i]
                continue
            donor = (i + rng.integers(1, count)) % count          # any digit but this one
            source_row, source_column, row, column = rng.integers(DIGIT_SIDE - crop_size + 1, size=4)
            crop = digits[donor, source_row:source_row + crop_size, source_column:source_column + crop_size]
            canvases[i, top + row:top + row + crop_size, left + column:left + column + crop_size] = crop
    return canvases.reshape(count, side * side), labels, cells
