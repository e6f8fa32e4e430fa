"""tg.save(model.state_dict(), path) and model.load_state_dict(tg.load(path)): exact, and no pickle."""
import io

import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import nn


def test_a_state_dict_round_trips_exactly_at_the_path_given(tmp_path):
    source = nn.MLP([4, 8, 3], rng=np.random.default_rng(0)).to(tg.float32)
    target = nn.MLP([4, 8, 3], rng=np.random.default_rng(1)).to(tg.float32)
    path = tmp_path / "model.pt"
    tg.save(source.state_dict(), path)
    assert path.exists() and not (tmp_path / "model.pt.npz").exists()
    target.load_state_dict(tg.load(str(path)))
    for (name, ours), (_, theirs) in zip(source.state_dict().items(), target.state_dict().items()):
        assert ours.dtype == theirs.dtype == np.float32
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
    x = tg.randn(5, 4, dtype=tg.float32)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


def test_tensors_and_file_objects_work_too():
    buffer = io.BytesIO()
    tg.save({"w": tg.tensor([1.0, 2.0]), "steps": np.int64(3)}, buffer)
    buffer.seek(0)
    state = tg.load(buffer)
    np.testing.assert_array_equal(state["w"], [1.0, 2.0])
    assert state["steps"] == 3


def test_only_numeric_arrays_are_saved_and_nothing_is_unpickled(tmp_path):
    with pytest.raises(TypeError, match=r"save: expects a dict of arrays"):
        tg.save([np.ones(2)], tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"save: the value of 'note' is str"):
        tg.save({"note": "hello"}, tmp_path / "x.npz")
    path = tmp_path / "pickled.npz"
    np.savez(path, payload=np.array([{"a": 1}], dtype=object))   # an object array needs pickle to read
    with pytest.raises(ValueError, match="allow_pickle"):
        tg.load(path)
