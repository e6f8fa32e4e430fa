import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import Tensor, functional as F
from tinygrad_ste.data import cluttered_digits
from tinygrad_ste.models.glimpse import LEARNED_CHOICES, GlimpseModel, cells_of, thumbnails, train_glimpse_model

SMALL = dict(hidden=32, epochs=6)   # a few seconds per run: enough for the chooser to find the digit


def binomial_standard_error(accuracy, count):
    return np.sqrt(accuracy * (1 - accuracy) / count)


def test_thumbnail_averages_blocks_and_cells_are_read_row_by_row():
    canvas = np.arange(256.0).reshape(1, 256)
    thumb = thumbnails(canvas)
    assert thumb.shape == (1, 16)
    assert thumb[0, 0] == canvas.reshape(16, 16)[:4, :4].mean()
    assert thumb[0, 5] == canvas.reshape(16, 16)[4:8, 4:8].mean()
    cells = cells_of(canvas)
    assert cells.shape == (1, 4, 64)
    picture = canvas.reshape(16, 16)
    for cell, (rows, columns) in enumerate([(slice(0, 8), slice(0, 8)), (slice(0, 8), slice(8, 16)),
                                            (slice(8, 16), slice(0, 8)), (slice(8, 16), slice(8, 16))]):
        assert np.array_equal(cells[0, cell], picture[rows, columns].ravel())
    assert thumbnails(np.zeros((2, 576)), grid=3).shape == (2, 36)
    assert cells_of(np.zeros((2, 576)), grid=3).shape == (2, 9, 64)


def test_glimpse_model_shapes_and_what_the_weights_select():
    rng = np.random.default_rng(0)
    canvases, _, _ = cluttered_digits("test")
    thumb, cells = Tensor(thumbnails(canvases[:5])), cells_of(canvases[:5])
    model = GlimpseModel(16, 4, 8, rng=rng)
    assert model.choice_logits(thumb).shape == (5, 4)
    one_hot = F.one_hot(np.array([0, 1, 2, 3, 1]), 4)
    hard = model.classify(thumb, cells, one_hot)
    assert hard.shape == (5, 10)
    sampled = model.classify(thumb, cells, Tensor(np.stack([one_hot.data, one_hot.data[::-1]])))   # a leading sample axis
    assert sampled.shape == (2, 5, 10)
    assert np.allclose(sampled.data[0], hard.data)
    # A one-hot weight row looks at exactly that cell: put the chosen cell first and weight only it.
    chosen = cells[np.arange(5), [0, 1, 2, 3, 1]]
    only_first = np.zeros((5, 4, 64))
    only_first[:, 0] = chosen
    assert np.allclose(model.classify(thumb, only_first, F.one_hot(np.zeros(5, int), 4)).data, hard.data)
    # predict: the most likely cell, and the class read there.
    chosen, predicted = model.predict(thumb.data, cells)
    assert np.array_equal(chosen, model.choice_logits(thumb).data.argmax(axis=1))
    assert np.array_equal(predicted, model.classify(thumb, cells, F.one_hot(chosen, 4)).data.argmax(axis=1))
    # Soft weights look at the weighted mixture of the cells.
    soft = F.softmax(Tensor(rng.normal(size=(5, 4))))
    mixture = np.einsum("np,npd->nd", soft.data, cells)
    mixed_first = np.zeros((5, 4, 64))
    mixed_first[:, 0] = mixture
    assert np.allclose(model.classify(thumb, cells, soft).data,
                       model.classify(thumb, mixed_first, F.one_hot(np.zeros(5, int), 4)).data)


def test_learned_choice_beats_the_best_fixed_cell_clearly():
    learned = train_glimpse_model("straight_through", **SMALL)
    fixed = [train_glimpse_model("fixed", cell=cell, **SMALL).test_accuracy for cell in range(4)]
    best_fixed = max(fixed)
    test_count = len(cluttered_digits("test")[1])
    standard_error = np.hypot(binomial_standard_error(learned.test_accuracy, test_count),
                              binomial_standard_error(best_fixed, test_count))
    assert learned.test_accuracy - best_fixed > 4 * standard_error + 0.2, (learned.test_accuracy, fixed)
    assert learned.pick_rate > 0.75


@pytest.mark.parametrize("choice", LEARNED_CHOICES)
def test_every_way_of_choosing_learns_to_find_the_digit(choice):
    result = train_glimpse_model(choice, hidden=32, epochs=4, lr=5e-3)
    history = result.history
    assert set(history) == {"loss", "accuracy", "test_accuracy"} and len(history["loss"]) == 4
    assert history["loss"][-1] < history["loss"][0]
    assert result.pick_rate > 0.4, "a random pick finds the digit's cell one time in four"
    assert 0 <= result.test_accuracy_as_trained <= 1 and result.seconds > 0


def test_references_pick_as_they_say():
    oracle = train_glimpse_model("oracle", hidden=16, epochs=1)
    assert oracle.pick_rate == 1 and oracle.test_accuracy == oracle.test_accuracy_as_trained
    fixed = train_glimpse_model("fixed", cell=2, hidden=16, epochs=1)
    assert fixed.pick_rate == pytest.approx(np.mean(cluttered_digits("test")[2] == 2))
    thumbnail = train_glimpse_model("thumbnail", hidden=16, epochs=1)
    assert thumbnail.pick_rate == 0


def test_per_canvas_scores_are_those_of_the_hard_choice():
    result = train_glimpse_model("straight_through", hidden=8, epochs=1)
    canvases, labels, digit_cells = cluttered_digits("test")
    chosen, predictions = result.model.predict(thumbnails(canvases), cells_of(canvases))
    assert np.array_equal(result.test_correct, predictions == labels)
    assert np.array_equal(result.test_found, chosen == digit_cells)
    assert result.test_correct.mean() == result.test_accuracy and result.test_found.mean() == result.pick_rate
    assert result.test_correct_as_trained.shape == labels.shape
    assert result.test_correct_as_trained.mean() == result.test_accuracy_as_trained
    fixed = train_glimpse_model("fixed", cell=1, hidden=8, epochs=1)
    assert np.array_equal(fixed.test_found, digit_cells == 1)


def test_glimpse_runs_reproduce_and_reject_bad_choices():
    first, second = (train_glimpse_model("reinforce", hidden=8, epochs=1, seed=3) for _ in range(2))
    assert first.history == second.history
    with pytest.raises(ValueError, match="unknown choice 'magic'"):
        train_glimpse_model("magic")
    with pytest.raises(ValueError, match=r"cell must lie in \[0, 4\)"):
        train_glimpse_model("fixed", cell=4)


def test_glimpse_model_works_without_rng_and_follows_manual_seed():
    tg.manual_seed(0)
    first = [p.data.copy() for p in GlimpseModel(16, 4, 8).parameters()]
    tg.manual_seed(0)
    for a, b in zip(first, [p.data for p in GlimpseModel(16, 4, 8).parameters()]):
        np.testing.assert_array_equal(a, b)
