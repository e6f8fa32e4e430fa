import numpy as np
import pytest

from tinygrad_ste.data import cluttered_digits, iterate_minibatches, load_digits

TOTAL_IMAGES = 1797
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def row_keys(images, labels):
    """One hashable key per row, so rows can be compared as sets."""
    return [image.tobytes() + bytes([label]) for image, label in zip(images, labels)]


@pytest.mark.parametrize("split", ["train", "test", "all"])
def test_shapes_dtypes_and_value_range(split):
    images, labels = load_digits(split)
    assert images.ndim == 2 and images.shape[1] == 64
    assert labels.shape == (images.shape[0],)
    assert images.dtype == np.float64
    assert labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.allclose(images * 16, np.round(images * 16)), "pixels are k/16 for integer k"
    assert set(np.unique(labels)) == set(range(10))


def test_all_split_is_the_whole_data_set():
    images, labels = load_digits("all")
    assert images.shape == (TOTAL_IMAGES, 64)
    assert np.bincount(labels).tolist() == CLASS_COUNTS


def test_default_split_sizes():
    assert len(load_digits("train")[1]) == 1438
    assert len(load_digits("test")[1]) == 359


@pytest.mark.parametrize("test_fraction, seed", [(0.2, 0), (0.2, 1), (0.5, 7), (0.1, 123)])
def test_train_and_test_are_disjoint_and_cover_everything(test_fraction, seed):
    all_images, all_labels = load_digits("all")
    train = load_digits("train", test_fraction=test_fraction, seed=seed)
    test = load_digits("test", test_fraction=test_fraction, seed=seed)
    train_rows, test_rows = set(row_keys(*train)), set(row_keys(*test))
    all_rows = set(row_keys(all_images, all_labels))
    assert len(all_rows) == TOTAL_IMAGES, "every row of the data set is distinct"
    assert len(train_rows) == len(train[1]) and len(test_rows) == len(test[1])
    assert not train_rows & test_rows
    assert train_rows | test_rows == all_rows


def test_split_is_reproducible_and_depends_on_seed():
    first = load_digits("test", seed=3)
    second = load_digits("test", seed=3)
    other_seed = load_digits("test", seed=4)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert not np.array_equal(first[0], other_seed[0])


@pytest.mark.parametrize("test_fraction", [0.1, 0.2, 0.5])
def test_every_class_is_split_in_proportion(test_fraction):
    train_counts = np.bincount(load_digits("train", test_fraction=test_fraction)[1], minlength=10)
    test_counts = np.bincount(load_digits("test", test_fraction=test_fraction)[1], minlength=10)
    assert (train_counts > 0).all() and (test_counts > 0).all()
    assert (train_counts + test_counts).tolist() == CLASS_COUNTS
    expected_test_counts = np.round(test_fraction * np.array(CLASS_COUNTS))
    assert np.abs(test_counts - expected_test_counts).max() <= 1


def test_load_returns_fresh_arrays():
    images, _ = load_digits("all")
    images[:] = -1.0
    assert load_digits("all")[0].min() == 0.0


@pytest.mark.parametrize("split", ["validation", "TRAIN", "", None])
def test_bad_split_names_the_allowed_values(split):
    with pytest.raises(ValueError, match="train.*test.*all"):
        load_digits(split)


@pytest.mark.parametrize("test_fraction", [0, 1, -0.1, 1.5])
def test_bad_test_fraction(test_fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits("train", test_fraction=test_fraction)


@pytest.mark.parametrize("batch_size", [1, 7, 32, 100, 1797, 5000])
@pytest.mark.parametrize("shuffle", [True, False])
def test_minibatches_cover_every_row_once_per_epoch(batch_size, shuffle):
    images, labels = load_digits("all")
    row_ids = np.arange(len(labels))
    rng = np.random.default_rng(0)
    for _ in range(2):  # two epochs
        batches = list(iterate_minibatches((images, labels, row_ids), batch_size, rng, shuffle=shuffle))
        sizes = [len(batch_ids) for _, _, batch_ids in batches]
        assert all(size == batch_size for size in sizes[:-1])
        assert 0 < sizes[-1] <= batch_size
        assert sum(sizes) == len(labels)
        seen_ids = np.concatenate([batch_ids for _, _, batch_ids in batches])
        assert np.array_equal(np.sort(seen_ids), row_ids)
        for batch_images, batch_labels, batch_ids in batches:
            assert np.array_equal(batch_images, images[batch_ids])
            assert np.array_equal(batch_labels, labels[batch_ids])
        if not shuffle:
            assert np.array_equal(seen_ids, row_ids)


def test_minibatch_last_partial_batch_and_shapes():
    features = np.arange(20.0).reshape(10, 2)
    targets = np.arange(10)
    batches = list(iterate_minibatches([features, targets], 4, np.random.default_rng(0), shuffle=False))
    assert [batch[0].shape for batch in batches] == [(4, 2), (4, 2), (2, 2)]
    assert [batch[1].shape for batch in batches] == [(4,), (4,), (2,)]
    assert all(isinstance(batch, tuple) and len(batch) == 2 for batch in batches)
    assert np.array_equal(batches[-1][1], [8, 9])


def test_minibatch_shuffle_is_reproducible_and_changes_between_epochs():
    row_ids = np.arange(50)

    def one_epoch(rng):
        return np.concatenate([ids for (ids,) in iterate_minibatches([row_ids], 8, rng)])

    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    first_epoch = one_epoch(rng_a)
    assert np.array_equal(first_epoch, one_epoch(rng_b))
    assert not np.array_equal(first_epoch, row_ids)
    assert not np.array_equal(first_epoch, one_epoch(rng_a))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8", None, True])
def test_bad_batch_size_raises_at_call_time(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        iterate_minibatches([np.arange(10)], batch_size, np.random.default_rng(0))


def test_minibatch_accepts_numpy_integer_batch_size():
    batches = list(iterate_minibatches([np.arange(10)], np.int64(5), np.random.default_rng(0)))
    assert len(batches) == 2


def test_minibatch_rejects_mismatched_or_missing_arrays():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="first dimension"):
        iterate_minibatches([np.zeros((10, 2)), np.zeros(9)], 4, rng)
    with pytest.raises(ValueError, match="at least one"):
        iterate_minibatches([], 4, rng)


def test_minibatch_rejects_non_generator_rng():
    with pytest.raises(TypeError, match="Generator"):
        iterate_minibatches([np.arange(10)], 4, 0)


@pytest.mark.parametrize("split, grid", [("train", 2), ("test", 2), ("test", 3)])
def test_cluttered_digits_put_each_digit_whole_in_its_stated_cell(split, grid):
    digits, digit_labels = load_digits(split)
    canvases, labels, cells = cluttered_digits(split, grid=grid, crop_size=5)
    side = 8 * grid
    assert canvases.shape == (len(digits), side * side) and canvases.dtype == np.float64
    assert labels.dtype == np.int64 and cells.dtype == np.int64
    assert np.array_equal(labels, digit_labels)
    assert cells.min() >= 0 and cells.max() < grid * grid
    assert set(np.unique(cells)) == set(range(grid * grid)), "every cell holds some digit"
    assert canvases.min() >= 0 and canvases.max() <= 1
    blocks = canvases.reshape(-1, grid, 8, grid, 8)
    for i in range(0, len(digits), 37):
        for cell in range(grid * grid):
            block = blocks[i, cell // grid, :, cell % grid, :]
            if cell == cells[i]:
                assert np.array_equal(block.ravel(), digits[i]), f"canvas {i}: the digit is not whole in cell {cell}"
            else:   # clutter: ink only inside one 5x5 window (which may have cut a blank corner)
                rows, columns = np.nonzero(block)
                if rows.size:
                    assert rows.max() - rows.min() < 5 and columns.max() - columns.min() < 5


def test_cluttered_digits_are_reproducible_and_depend_on_the_seed():
    first = cluttered_digits("test", seed=3)
    kept = [array.copy() for array in first]
    first[0][:] = -1   # what a caller does to its copy does not reach the next caller
    second = cluttered_digits("test", seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(kept, second))
    first = second
    other = cluttered_digits("test", seed=4)
    assert not np.array_equal(first[0], other[0]) and not np.array_equal(first[2], other[2])
    train_cells, test_cells = cluttered_digits("train")[2], cluttered_digits("test")[2]
    assert not np.array_equal(train_cells[:len(test_cells)], test_cells), "train and test draw different streams"


@pytest.mark.parametrize("options, message", [(dict(grid=1), "grid must be an int >= 2"),
                                              (dict(crop_size=9), "crop_size must be an int in 1..8"),
                                              (dict(split="valid"), "split must be one of")])
def test_cluttered_digits_reject_bad_arguments(options, message):
    with pytest.raises(ValueError, match=message):
        cluttered_digits(**options)
