import sys

import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import threads
from tinygrad_ste.models import train_vq_autoencoder


@pytest.fixture
def restore_threads():
    before = tg.get_num_threads()
    yield
    tg.set_num_threads(before)


def test_set_num_threads_changes_the_blas_pool(restore_threads):
    tg.set_num_threads(2)
    assert tg.get_num_threads() == 2
    tg.set_num_threads(1)
    assert tg.get_num_threads() == 1


def test_a_lesson_model_trains_to_the_same_numbers_with_one_and_two_threads(restore_threads):
    runs = []
    for n in (1, 2):
        tg.set_num_threads(n)
        runs.append(train_vq_autoencoder(num_codes=32, codes_per_image=8, code_dim=8, hidden=64, epochs=2, seed=0))
    one, two = runs
    assert one.test_mse == two.test_mse
    assert one.history["reconstruction"] == two.history["reconstruction"]
    for a, b in zip(one.model.parameters(), two.model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_bad_thread_counts_are_errors_naming_the_function():
    with pytest.raises(ValueError, match="set_num_threads: n must be at least 1, got 0"):
        tg.set_num_threads(0)
    with pytest.raises(TypeError, match="set_num_threads: n must be an int, got float"):
        tg.set_num_threads(2.0)


def test_without_threadpoolctl_the_functions_say_how_to_get_it_and_import_leaves_blas_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)   # makes "import threadpoolctl" fail
    with pytest.raises(ImportError, match="set_num_threads needs threadpoolctl.*pip install threadpoolctl"):
        tg.set_num_threads(1)
    with pytest.raises(ImportError, match="get_num_threads needs threadpoolctl"):
        tg.get_num_threads()
    for variable in threads.THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    threads.apply_default()   # no error: the package still imports


def test_the_default_applies_only_when_no_thread_variable_is_set(monkeypatch, restore_threads):
    tg.set_num_threads(2)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    threads.apply_default()
    assert tg.get_num_threads() == 2   # the user's choice stands
    for variable in threads.THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    threads.apply_default()
    assert tg.get_num_threads() == threads.DEFAULT_NUM_THREADS
