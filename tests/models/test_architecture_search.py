"""The architecture search space and the four searches."""
import numpy as np
import pytest

from tinygrad_ste import Tensor
from tinygrad_ste import functional as F
from tinygrad_ste.data import load_digits
from tinygrad_ste.models.architecture_search import (EDGES, OPERATIONS, SEARCHES, SearchSpace, architecture_name,
                                                     search_architecture, train_architecture, validation_split)
from tinygrad_ste.moe import chosen_gate
from tinygrad_ste.stochastic import sample_categorical


def space(seed=0):
    return SearchSpace(hidden=6, rng=np.random.default_rng(seed))


def count_calls(model):
    """Wrap every candidate so that it counts its calls: {(edge, operation): calls}."""
    calls = {}
    for e, candidates in enumerate(model.edges):
        for k, candidate in enumerate(candidates):
            def counted(h, key=(e, k), run=candidate.forward):
                calls[key] = calls.get(key, 0) + 1
                return run(h)
            candidate.forward = counted
    return calls


def test_a_fixed_architecture_runs_one_candidate_per_edge_and_equals_the_one_hot_mixture():
    model, x = space(), Tensor(np.random.default_rng(1).normal(size=(4, 64)))
    architecture = (3, 0, 4)
    calls = count_calls(model)
    y = model(x, architecture).data
    assert calls == {(0, 3): 1, (1, 0): 1, (2, 4): 1}
    one_hot = F.one_hot(list(architecture), len(OPERATIONS))
    np.testing.assert_allclose(model.mixture(x, one_hot).data, y, rtol=1e-12)
    assert all(calls[e, k] >= 1 for e in range(len(EDGES)) for k in range(len(OPERATIONS)))


def test_the_zero_edge_cuts_its_path_and_identity_passes_it_on():
    model, x = space(), Tensor(np.random.default_rng(2).normal(size=(3, 64)))
    h0 = model.stem(x).relu().data
    # edges 1 and 2 zero: the logits are the head's bias alone; h1 = identity(h0) and h2 = identity(h0) + 0
    np.testing.assert_allclose(model(x, (2, 0, 0)).data, np.broadcast_to(model.head.bias.data, (3, 10)))
    np.testing.assert_allclose(model(x, (0, 0, 1)).data, h0 @ model.head.weight.data + model.head.bias.data)
    np.testing.assert_allclose(model(x, (1, 1, 0)).data, h0 @ model.head.weight.data + model.head.bias.data)


def test_gdas_gates_carry_the_gradient_to_the_chosen_candidates_only():
    model, x = space(), Tensor(np.random.default_rng(3).normal(size=(5, 64)))
    alpha = Tensor(np.zeros((3, len(OPERATIONS))), requires_grad=True)
    sample = sample_categorical(alpha, "straight_through_gumbel", np.random.default_rng(4))
    architecture = sample.data.argmax(axis=-1)
    F.cross_entropy(model(x, architecture, chosen_gate(sample)), np.arange(5)).backward()
    assert alpha.grad.shape == (3, len(OPERATIONS)) and np.abs(alpha.grad).sum() > 0
    for e, k in enumerate(architecture):   # the other candidates did not run: no weight gradient
        for j, candidate in enumerate(model.edges[e]):
            if candidate.layer is not None:
                assert (candidate.layer.weight.grad is not None) == (j == k)


@pytest.mark.parametrize("method", SEARCHES)
def test_every_search_returns_an_architecture_and_its_trajectory(method):
    result = search_architecture(method, steps=24, hidden=6, candidates=3, record_every=8, seed=1)
    assert len(result.architecture) == 3 and all(0 <= op < len(OPERATIONS) for op in result.architecture)
    if method == "random":
        assert len(result.candidates_tried) <= 3 and result.steps == 24
        assert result.candidates_tried[result.architecture] == max(result.candidates_tried.values())
    else:
        assert result.trajectory.shape == (4, 3, len(OPERATIONS))
        np.testing.assert_allclose(result.trajectory.sum(axis=-1), 1.0)
        np.testing.assert_allclose(result.trajectory[0], 1 / len(OPERATIONS))   # alpha starts at zero: uniform
        assert tuple(result.trajectory[-1].argmax(axis=-1)) == result.architecture
    again = search_architecture(method, steps=24, hidden=6, candidates=3, record_every=8, seed=1)
    assert again.architecture == result.architecture


def test_the_validation_split_holds_out_a_quarter_of_the_training_digits():
    (train_images, train_labels), (validation_images, validation_labels) = validation_split()
    assert len(validation_images) == 360 and len(train_images) == 1438 - 360
    images, labels = load_digits("train")
    together = np.concatenate([np.column_stack([train_images, train_labels]),
                               np.column_stack([validation_images, validation_labels])])
    every = np.column_stack([images, labels])
    assert np.array_equal(np.unique(together, axis=0, return_counts=True)[1], np.unique(every, axis=0, return_counts=True)[1])


def test_a_retrained_architecture_learns_the_digits_and_reproduces():
    first, second = (train_architecture((3, 0, 1), hidden=16, epochs=3, seed=2) for _ in range(2))
    assert first.test_accuracy > 0.8 and np.array_equal(first.test_correct, second.test_correct)
    assert architecture_name((3, 0, 1)) == "relu | zero | identity"


def test_bad_method():
    with pytest.raises(ValueError, match="search_architecture: unknown method 'evolution'"):
        search_architecture("evolution")
