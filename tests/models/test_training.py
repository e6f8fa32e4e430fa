"""What the models share: the k-means baseline, the result and timing scaffold, seeding."""
import dataclasses
import inspect

import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import Tensor, models
from tinygrad_ste.data import load_digits
from tinygrad_ste.models import (BinaryNetwork, CategoricalAutoencoder, TrainingResult, VQAutoencoder, kmeans_baseline,
                                 kmeans_reconstruction_mse, timed_train_epochs)


def test_kmeans_baseline_improves_with_more_codes_and_beats_the_mean_image():
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    mean_image_mse = ((test_images - train_images.mean(axis=0)) ** 2).mean()
    baselines = [kmeans_reconstruction_mse(k) for k in (1, 16, 64)]
    assert baselines[0] == pytest.approx(mean_image_mse, rel=1e-9), "one centre is the mean image"
    assert baselines[0] > baselines[1] > baselines[2]


def test_kmeans_baseline_is_capped_at_the_training_images():
    assert kmeans_baseline(6) == (kmeans_reconstruction_mse(64), 64)
    assert kmeans_baseline(24) == kmeans_baseline(40) == (kmeans_reconstruction_mse(1438), 1438)


@pytest.mark.parametrize("make", [lambda: BinaryNetwork(8, "identity"), lambda: CategoricalAutoencoder(2, 3, 8),
                                  lambda: VQAutoencoder(4, 2, 3, 8)], ids=["binary", "categorical", "vq"])
def test_lesson_models_work_without_rng_and_follow_manual_seed(make):
    tg.manual_seed(0)
    first = [p.data.copy() for p in make().parameters()]
    tg.manual_seed(0)
    for a, b in zip(first, [p.data for p in make().parameters()]):
        np.testing.assert_array_equal(a, b)


def test_every_result_of_the_models_is_a_training_result():
    results = [obj for name, obj in vars(models).items() if name.endswith("Result") and inspect.isclass(obj)]
    assert len(results) >= 10
    scaffold = {field.name for field in dataclasses.fields(TrainingResult)}
    assert scaffold == {"model", "history", "seconds", "options"}
    for result in results:
        if result in (models.SearchResult, TrainingResult):   # a search has no model or history of its own
            continue
        assert issubclass(result, TrainingResult), f"{result.__name__} does not build on TrainingResult"
        repeated = {field.name for field in dataclasses.fields(result) if field.name in result.__annotations__}
        assert not repeated & scaffold, f"{result.__name__} repeats the scaffold's fields {repeated & scaffold}"


def test_timed_training_returns_the_history_and_cpu_seconds():
    model = tg.nn.Linear(2, 1, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((16, 2))

    def step(batch):
        loss = (model(Tensor(batch)) ** 2).mean()
        return loss, {"loss": loss.item()}

    history, seconds = timed_train_epochs(step, tg.optim.SGD(model.parameters(), lr=0.1), (x,), 3, 4,
                                          np.random.default_rng(2))
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
    assert seconds >= 0
