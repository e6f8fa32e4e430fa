"""The library-wide generator: manual_seed, and every layer and sampler drawing from it without rng=."""
import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import nn
from tinygrad_ste.data import iterate_minibatches
from tinygrad_ste.kmeans import kmeans
from tinygrad_ste.random import default_generator, generator


def weights(module):
    return [p.data.copy() for p in module.parameters()]


def test_manual_seed_resets_the_one_generator_in_place():
    assert tg.manual_seed(5) is default_generator
    first = default_generator.random(4)
    tg.manual_seed(5)
    np.testing.assert_array_equal(default_generator.random(4), first)
    np.testing.assert_array_equal(first, np.random.default_rng(5).random(4))   # the stream of default_rng(seed)


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(64, 128),
    lambda: nn.MLP([8, 16, 4]),
    lambda: nn.VectorQuantizer(16, 4),
], ids=["Linear", "MLP", "VectorQuantizer"])
def test_layers_work_without_rng_and_follow_manual_seed(make):
    tg.manual_seed(0)
    first = weights(make())
    second = weights(make())
    tg.manual_seed(0)
    again = weights(make())
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))


def test_rng_still_gives_full_control():
    tg.manual_seed(1)
    a = nn.Linear(3, 2, rng=np.random.default_rng(7))
    tg.manual_seed(2)
    b = nn.Linear(3, 2, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / np.sqrt(3)
    np.testing.assert_array_equal(a.weight.data, np.random.default_rng(7).uniform(-bound, bound, (3, 2)))


def test_a_kept_default_generator_follows_a_later_reset():
    """The quantizer keeps its generator for restarts; manual_seed reaches it because it resets in place."""
    vq = nn.VectorQuantizer(4, 2, restart_after=1)
    z = tg.Tensor(np.random.default_rng(0).normal(size=(8, 2)))
    restarted = []
    for _ in range(2):
        tg.manual_seed(9)
        vq.codebook.data[...] = 100.0        # every code dead: all restart from rows the generator picks
        vq.steps_since_used[...] = 0
        vq(z)
        restarted.append(vq.codebook.data.copy())
    np.testing.assert_array_equal(restarted[0], restarted[1])


def test_kmeans_and_minibatches_without_rng():
    points = np.random.default_rng(0).normal(size=(30, 2))
    tg.manual_seed(4)
    centres, _ = kmeans(points, 3)
    order = np.concatenate([batch for batch, in iterate_minibatches([np.arange(10)], 4)])
    tg.manual_seed(4)
    np.testing.assert_array_equal(kmeans(points, 3)[0], centres)
    np.testing.assert_array_equal(np.concatenate([batch for batch, in iterate_minibatches([np.arange(10)], 4)]), order)


def test_a_non_generator_rng_is_named():
    with pytest.raises(TypeError, match=r"Linear: rng must be a numpy.random.Generator.*int"):
        nn.Linear(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"VectorQuantizer: rng must be.*RandomState"):
        nn.VectorQuantizer(2, 2, rng=np.random.RandomState(0))
    assert generator(None, "op") is default_generator

