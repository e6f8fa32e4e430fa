import numpy as np
import pytest

from tinygrad_ste import Tensor, gradcheck
from tinygrad_ste.kmeans import kmeans, kmeans_plus_plus
from tinygrad_ste.nn import VectorQuantizer
from tinygrad_ste.vq import codebook_usage


def quantizer(codebook, **options):
    """A VectorQuantizer with a given codebook."""
    codebook = np.asarray(codebook, dtype=np.float64)
    vq = VectorQuantizer(*codebook.shape, rng=np.random.default_rng(0), **options)
    vq.codebook.data[...] = codebook
    if vq.ema:
        vq.ema_sum.data[...] = codebook
    return vq


def test_losses_and_gradients_match_hand_computation():
    vq = quantizer([[0.0, 0.0], [1.0, 1.0]], beta=0.25)
    z_e = Tensor([[0.2, -0.1], [0.9, 1.3]], requires_grad=True)
    z_q, indices, loss = vq(z_e)
    np.testing.assert_array_equal(indices, [0, 1])
    np.testing.assert_array_equal(z_q.data, [[0.0, 0.0], [1.0, 1.0]])
    # squared errors 0.04 + 0.01 + 0.01 + 0.09 = 0.15 over 4 elements: mse 0.0375,
    # codebook loss 0.0375 + 0.25 * commitment loss 0.0375
    assert loss.item() == pytest.approx(0.0375 * 1.25, rel=1e-12)
    (loss + z_q.sum()).backward()
    difference = np.array([[0.2, -0.1], [-0.1, 0.3]])            # z_e - z_q
    # straight-through: z_q.sum() sends ones to z_e; the commitment loss adds beta * 2 (z_e - z_q) / 4
    np.testing.assert_allclose(z_e.grad, 1 + 0.25 * 2 * difference / 4, rtol=1e-12)
    # only the codebook loss reaches the codes: 2 (e_k - z_e) / 4 for the rows that chose them
    np.testing.assert_allclose(vq.codebook.grad, [[-0.1, 0.05], [0.05, -0.15]], rtol=1e-12)


def test_rotation_rule_passes_through():
    # z_e points the same way as its code at half the length, so the rotation is the
    # identity and the rotation trick scales the gradient by ||z_q|| / ||z_e|| = 2.
    vq = quantizer([[2.0, 0.0], [0.0, 2.0]], backward="rotation")
    z_e = Tensor([[1.0, 0.0]], requires_grad=True)
    z_q, _, _ = vq(z_e)
    (z_q * Tensor([[3.0, 5.0]])).sum().backward()
    np.testing.assert_allclose(z_e.grad, [[6.0, 10.0]], rtol=1e-12)
    with pytest.raises(ValueError, match="unknown backward rule 'nope'"):
        VectorQuantizer(2, 2, rng=np.random.default_rng(0), backward="nope")


def test_ema_update_matches_hand_computation():
    vq = quantizer([[0.0], [1.0]], ema=True, decay=0.9, epsilon=0.1, beta=0.25)
    assert vq.parameters() == [], "with EMA the codebook is a buffer, not trained by gradients"
    z_e = Tensor([[0.2], [0.4], [1.5]], requires_grad=True)
    _, indices, loss = vq(z_e)
    np.testing.assert_array_equal(indices, [0, 0, 1])
    # commitment only: 0.25 * (0.04 + 0.16 + 0.25) / 3
    assert loss.item() == pytest.approx(0.25 * 0.45 / 3, rel=1e-12)
    # batch counts (2, 1), batch sums (0.6, 1.5); every code starts with N = 1, m = e
    count = [0.9 * 1 + 0.1 * 2, 0.9 * 1 + 0.1 * 1]         # 1.1, 1.0
    total = [0.9 * 0.0 + 0.1 * 0.6, 0.9 * 1.0 + 0.1 * 1.5]  # 0.06, 1.05
    n = 2.1
    smoothed = [(count[k] + 0.1) / (n + 2 * 0.1) * n for k in range(2)]
    np.testing.assert_allclose(vq.ema_count.data, count, rtol=1e-12)
    np.testing.assert_allclose(vq.ema_sum.data[:, 0], total, rtol=1e-12)
    np.testing.assert_allclose(vq.codebook.data[:, 0], [total[0] / smoothed[0], total[1] / smoothed[1]], rtol=1e-12)


def test_eval_mode_changes_nothing():
    vq = quantizer([[0.0], [1.0]], ema=True, restart_after=1)
    before = vq.state_dict()
    vq.eval()
    for _ in range(3):
        vq(Tensor([[0.1], [0.2]]))
    for name, array in vq.state_dict().items():
        np.testing.assert_array_equal(array, before[name])
    assert vq.restarts == 0


def test_kmeans_plus_plus_init_picks_distinct_batch_rows():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((40, 3))
    vq = VectorQuantizer(8, 3, rng=np.random.default_rng(2), kmeans_init=True, kmeans_iterations=0)
    vq(Tensor(z))
    rows = [np.flatnonzero((z == code).all(axis=1)) for code in vq.codebook.data]
    assert all(len(r) == 1 for r in rows), "every code is exactly one data row"
    assert len({r[0] for r in rows}) == 8, "no row is picked twice"
    before = vq.codebook.data.copy()
    vq(Tensor(rng.standard_normal((40, 3))))
    assert vq.initialized.item() == 1.0
    np.testing.assert_array_equal(vq.codebook.data, before)   # initialised once, on the first batch only


def test_kmeans_init_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(3)
    trained = VectorQuantizer(4, 2, rng=rng, kmeans_init=True)
    trained(Tensor(rng.standard_normal((20, 2))))
    trained.save(tmp_path / "vq.npz")
    fresh = VectorQuantizer(4, 2, rng=np.random.default_rng(9), kmeans_init=True).load(tmp_path / "vq.npz")
    fresh(Tensor(rng.standard_normal((20, 2))))
    np.testing.assert_array_equal(fresh.codebook.data, trained.codebook.data)


def test_kmeans_plus_plus_prefers_far_points_and_kmeans_finds_clusters():
    rng = np.random.default_rng(4)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    labels = np.repeat(np.arange(3), 30)
    points = centres[labels] + 0.1 * rng.standard_normal((90, 2))
    for seed in range(20):   # far-apart clusters: k-means++ seeds one point in each
        seeds = kmeans_plus_plus(points, 3, np.random.default_rng(seed))
        assert len({tuple(np.round(s / 10)) for s in seeds}) == 3
    found, assignments = kmeans(points, 3, rng)
    order = np.argsort(found[:, 0] * 100 + found[:, 1])
    truth_order = np.argsort(centres[:, 0] * 100 + centres[:, 1])
    for i, j in zip(order, truth_order):
        np.testing.assert_allclose(found[i], points[labels == j].mean(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match=r"k=5.*\(3, 2\)"):
        kmeans(points[:3], 5, rng)


def test_dead_codes_are_restarted_from_encoder_outputs():
    vq = quantizer([[0.0, 0.0], [100.0, 100.0], [-100.0, 50.0]], restart_after=2)
    z = np.array([[0.1, 0.2], [-0.3, 0.1], [0.2, -0.2]])
    vq(Tensor(z))
    np.testing.assert_array_equal(vq.steps_since_used, [0, 1, 1])
    assert vq.restarts == 0
    vq(Tensor(z))   # second call without codes 1 and 2: both restart onto batch rows
    assert vq.restarts == 2
    np.testing.assert_array_equal(vq.codebook.data[0], [0.0, 0.0])
    for code in vq.codebook.data[1:]:
        assert any((code == row).all() for row in z)
    np.testing.assert_array_equal(vq.steps_since_used, [0, 0, 0])


def test_restart_resets_ema_history():
    vq = quantizer([[0.0], [100.0]], ema=True, restart_after=1)
    vq(Tensor([[0.5], [0.7]]))
    code = vq.codebook.data[1, 0]
    assert code in (0.5, 0.7)
    assert vq.ema_count.data[1] == 1.0 and vq.ema_sum.data[1, 0] == code


def test_perplexity_and_usage_formulas():
    assert codebook_usage([0, 0, 1, 1], 4) == pytest.approx((2.0, 0.5))
    p = np.array([0.75, 0.25])
    assert codebook_usage([0, 0, 0, 1], 2) == pytest.approx((np.exp(-(p * np.log(p)).sum()), 1.0))
    assert codebook_usage([3, 3, 3], 8) == pytest.approx((1.0, 1 / 8))
    assert codebook_usage(np.arange(5), 5) == pytest.approx((5.0, 1.0))
    vq = quantizer([[0.0], [1.0], [5.0]])
    vq(Tensor([[0.0], [0.1], [0.9]]))
    p = np.array([2 / 3, 1 / 3])
    assert vq.perplexity == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert vq.usage == pytest.approx(2 / 3)


def test_bad_input_is_named():
    vq = VectorQuantizer(4, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"VectorQuantizer\(num_codes=4, dim=3\).*\(N, 3\).*\(5, 2\)"):
        vq(Tensor(np.zeros((5, 2))))
    with pytest.raises(ValueError, match=r"at least num_codes=4 vectors.*\(3, 3\)"):
        VectorQuantizer(4, 3, rng=np.random.default_rng(0), kmeans_init=True)(Tensor(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="decay"):
        VectorQuantizer(4, 3, rng=np.random.default_rng(0), decay=1.0)


# ------------------------------------------------------------------ residual VQ


def residual_vq(codebooks, **options):
    """A ResidualVQ whose stages have the given codebooks, in eval mode (no restarts or updates)."""
    from tinygrad_ste.nn import ResidualVQ
    codebooks = [np.asarray(c, dtype=np.float64) for c in codebooks]
    rvq = ResidualVQ(len(codebooks), *codebooks[0].shape, rng=np.random.default_rng(0), **options)
    for stage, codebook in zip(rvq.stages, codebooks):
        stage.codebook.data[...] = codebook
    return rvq.eval()


def rvq_problem(seed=0, n=30, stages=3, codes=4, dim=2):
    rng = np.random.default_rng(seed)
    # coarse codes first, finer ones after, as a trained stack would have them
    codebooks = [rng.normal(size=(codes, dim)) * 0.5 ** s for s in range(stages)]
    return rng.normal(size=(n, dim)), codebooks


def test_residual_vq_quantizes_what_the_stages_before_left():
    from tinygrad_ste.discrete import nearest_code
    z, codebooks = rvq_problem()
    rvq = residual_vq(codebooks, beta=0.25)
    z_q, indices, loss = rvq(Tensor(z))
    assert indices.shape == (30, 3)
    residual, total, expected_loss = z, 0, 0
    for s, codebook in enumerate(codebooks):
        chosen = nearest_code(residual, codebook)
        np.testing.assert_array_equal(indices[:, s], chosen)
        # codebook loss + beta * commitment loss, both mse(r_s, q_s) in value
        expected_loss += 1.25 * ((residual - codebook[chosen]) ** 2).mean()
        total = total + codebook[chosen]
        residual = residual - codebook[chosen]
    np.testing.assert_allclose(z_q.data, total, rtol=1e-12)
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)


def test_residual_vq_prefix_uses_the_first_stages_only():
    z, codebooks = rvq_problem(1)
    rvq = residual_vq(codebooks)
    _, full, _ = rvq(Tensor(z))
    errors = []
    for q in (1, 2, 3):
        z_q, indices, _ = rvq(Tensor(z), n_quantizers=q)
        np.testing.assert_array_equal(indices, full[:, :q])
        errors.append(((z_q.data - z) ** 2).mean())
    assert errors[0] > errors[1] > errors[2], "each stage quantizes what is left: the error can only fall"
    with pytest.raises(ValueError, match=r"n_quantizers must be in 1..3, got 4"):
        rvq(Tensor(z), n_quantizers=4)


def test_residual_vq_passes_the_decoder_gradient_through_every_stage():
    """Each stage's input moves one-for-one with z (the residuals subtract hard codes), so with
    straight-through stages dL/dz = Q * dL/dz_q, as vector-quantize-pytorch's ResidualVQ gives."""
    z, codebooks = rvq_problem(2)
    g = np.random.default_rng(3).normal(size=z.shape)
    ours = Tensor(z, requires_grad=True)
    z_q, _, _ = residual_vq(codebooks)(ours)
    z_q.backward(g)
    np.testing.assert_array_equal(ours.grad, len(codebooks) * g)


def test_residual_vq_later_commitment_losses_pull_the_encoder():
    """Stage 2's loss, beta * mse(r_2, sg(q_2)) + mse(e_{i_2}, sg(r_2)) with r_2 = z - sg(q_1), sends
    z the gradient 2 beta (r_2 - q_2) / (N * dim): non-zero, and exactly that."""
    z, codebooks = rvq_problem(5, n=12, stages=2)
    beta = 0.25
    rvq = residual_vq(codebooks, beta=beta)
    grads = []
    for stages in (1, 2):   # stage 2's loss alone is the difference of the two totals
        leaf = Tensor(z, requires_grad=True)
        _, indices, loss = rvq(leaf, n_quantizers=stages)
        loss.backward()
        grads.append(leaf.grad)
    residual = z - codebooks[0][indices[:, 0]]
    expected = 2 * beta * (residual - codebooks[1][indices[:, 1]]) / z.size
    assert np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(grads[1] - grads[0], expected, rtol=1e-12, atol=1e-15)


def test_residual_vq_true_gradient_is_gradchecked():
    """With the "zero" rule (the true gradient) z_q = sum_s codebook_s[i_s]: gradchecked for every codebook."""
    z, codebooks = rvq_problem(4, n=8, codes=3)
    rvq = residual_vq(codebooks, backward="zero")

    def quantized(z, *books):
        for stage, book in zip(rvq.stages, books):
            stage.codebook = book
        return rvq(z)[0]

    assert gradcheck(quantized, [Tensor(z, requires_grad=True)] + [Tensor(c, requires_grad=True) for c in codebooks])


def test_quantizer_dropout_draws_the_number_of_stages_in_training_only():
    from tinygrad_ste.nn import ResidualVQ
    rvq = ResidualVQ(4, 8, 2, rng=np.random.default_rng(5), quantizer_dropout=True)
    z = Tensor(np.random.default_rng(6).normal(size=(20, 2)))
    assert {rvq(z)[1].shape[1] for _ in range(60)} == {1, 2, 3, 4}
    rvq.eval()
    assert {rvq(z)[1].shape[1] for _ in range(10)} == {4}
    with pytest.raises(ValueError, match="num_quantizers must be >= 1"):
        ResidualVQ(0, 8, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"VectorQuantizer\(num_codes=8, dim=2\).*\(5, 3\)"):
        ResidualVQ(2, 8, 2, rng=np.random.default_rng(0))(Tensor(np.zeros((5, 3))))
