"""The benchmark workloads at tiny size, so benchmarks/ cannot rot.  Nothing is timed here.

Each workload runs with our engine; when the optional peers (PyTorch, HIPS autograd)
are installed, their first step must also give the same loss and gradients as ours.
"""
import sys
import types

import numpy as np
import pytest

import tinygrad_ste
import tinygrad_ste.functional as F
from benchmarks import workloads

ENGINE = types.SimpleNamespace(Tensor=tinygrad_ste.Tensor, functional=F, quantize=tinygrad_ste.quantize)
TINY = {
    "mlp float64": ("mlp", dict(batch=8, dtype=np.float64), 1e-9),
    "mlp float32": ("mlp", dict(batch=8, dtype=np.float32), 1e-4),
    "vq": ("vq", dict(batch=8), 1e-9),
    "conv_vq": ("conv_vq", dict(batch=4), 1e-9),
    "chain": ("chain", dict(chain_length=40), 1e-9),
    "scalar_chain": ("scalar_chain", dict(chain_length=40), 1e-9),
}
PARAMETER_SHAPES = {
    "mlp": [(64, 128), (128,), (128, 10), (10,)],
    "vq": [(64, 128), (128,), (128, 16), (16,), (64, 16), (16, 128), (128,), (128, 64), (64,)],
    "conv_vq": [(32, 1, 3, 3), (32,), (32, 32, 4, 4), (32,), (8, 32, 1, 1), (8,), (16, 8),
                (32, 8, 3, 3), (32,), (32, 32, 3, 3), (32,), (1, 32, 3, 3), (1,)],
    "chain": [(4,), (4,), (4,)],
    "scalar_chain": [(4,)],
}


@pytest.mark.parametrize("case", TINY)
def test_ours_gives_finite_loss_and_a_gradient_for_every_parameter(case):
    workload, options, _ = TINY[case]
    loss, grads = workloads.make_step(workload, "ours", ENGINE, **options)()
    assert np.isfinite(loss)
    assert [g.shape for g in grads] == PARAMETER_SHAPES[workload]
    dtype = options.get("dtype", np.float64)
    for grad in grads:
        assert grad.dtype == dtype and np.isfinite(grad).all() and np.abs(grad).sum() > 0


@pytest.mark.parametrize("workload", ["mlp", "vq", "conv_vq"])
def test_training_steps_lower_the_loss(workload):
    step = workloads.make_step(workload, "ours", ENGINE, batch=8)
    losses = [step()[0] for _ in range(20)]
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize("case", TINY)
def test_installed_peers_agree_with_ours(case):
    workload, options, tolerance = TINY[case]
    ours = workloads.make_step(workload, "ours", ENGINE, **options)()
    for peer in workloads.available_peers(workload):
        theirs = workloads.make_step(workload, peer, None, **options)()
        workloads.check_agreement(f"{case} vs {peer}", ours, theirs, rtol=tolerance, atol=tolerance * 1e-3)


def test_agreement_check_catches_a_wrong_gradient():
    loss, grads = workloads.make_step("mlp", "ours", ENGINE, batch=8)()
    wrong = [g.copy() for g in grads]
    wrong[1][3] *= 1 + 1e-6
    with pytest.raises(AssertionError, match="gradient 1 differs"):
        workloads.check_agreement("mlp", (loss, grads), (loss, wrong), rtol=1e-9, atol=1e-12)
    with pytest.raises(AssertionError, match="losses differ"):
        workloads.check_agreement("mlp", (loss, grads), (loss * (1 + 1e-6), grads), rtol=1e-9, atol=1e-12)


def test_a_peer_is_asked_only_for_the_workloads_written_for_it(monkeypatch):
    for peer in ("torch", "autograd"):   # both "installed", whether they are or not
        monkeypatch.setitem(sys.modules, peer, sys.modules.get(peer, types.ModuleType(peer)))
    assert workloads.available_peers("vq") == ["torch", "autograd"]
    assert workloads.available_peers("conv_vq") == ["torch"]   # HIPS autograd has no convolution


def test_unknown_workload_is_a_value_error():
    with pytest.raises(ValueError, match="unknown workload 'gan'"):
        workloads.make_step("gan", "ours", ENGINE)
