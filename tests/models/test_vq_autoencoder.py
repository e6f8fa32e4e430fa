"""The VQ, FSQ and residual VQ autoencoders of lessons 5 and 6, and their equal bit budgets."""
import pytest

from tinygrad_ste.models import EQUAL_BITS, kmeans_reconstruction_mse, train_vq_autoencoder


@pytest.mark.parametrize("options", [dict(), dict(rule="rotation", ema=True, kmeans_init=True)])
def test_short_vq_autoencoder_run_reduces_its_loss(options):
    result = train_vq_autoencoder(num_codes=32, codes_per_image=4, code_dim=4, hidden=64, epochs=8, **options)
    history = result.history
    assert set(history) == {"loss", "reconstruction", "perplexity", "usage"}
    assert all(len(values) == 8 for values in history.values())
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert history["reconstruction"][-1] < history["reconstruction"][0]
    assert 1 <= result.perplexity <= 32 and 0 < result.usage <= 1
    assert result.test_mse < 0.055   # the variance of the pixels is 0.074: it learned something


def test_vq_autoencoder_runs_reproduce():
    first, second = (train_vq_autoencoder(num_codes=16, codes_per_image=2, code_dim=4, hidden=16, epochs=2, seed=5)
                     for _ in range(2))
    assert first.history == second.history and first.test_mse == second.test_mse


def test_default_vq_autoencoder_beats_the_kmeans_baseline_with_few_dead_codes():
    result = train_vq_autoencoder()
    assert result.test_mse < 0.8 * result.kmeans_mse
    assert result.dead_fraction <= 0.1
    assert result.perplexity > 0.5 * result.options["num_codes"]


def test_equal_bit_budgets_hold_the_bits_they_say():
    for budget, configs in EQUAL_BITS.items():
        for kind, config in configs.items():
            result = train_vq_autoencoder(**config, hidden=8, epochs=1)
            assert abs(result.bits - budget) < 0.5, f"{kind} at {budget} bits has {result.bits:.2f}"
            assert result.model.bits == result.bits


def test_fsq_autoencoder_with_about_40_bits_beats_64_kmeans_centres_clearly():
    result = train_vq_autoencoder(**EQUAL_BITS[40]["FSQ"], hidden=128, epochs=20)
    assert result.kmeans_mse is None and result.restarts == 0
    assert result.test_mse < 0.75 * kmeans_reconstruction_mse(64)


def test_residual_vq_autoencoder_test_error_falls_with_each_stage():
    result = train_vq_autoencoder(**EQUAL_BITS[40]["RVQ"], hidden=64, epochs=10)
    stage_mse = result.stage_mse
    assert len(stage_mse) == 5 and stage_mse[-1] == result.test_mse
    assert all(coarse > fine for coarse, fine in zip(stage_mse, stage_mse[1:])), stage_mse
    dropout = train_vq_autoencoder(**EQUAL_BITS[24]["RVQ"], hidden=16, epochs=2, quantizer_dropout=True)
    assert dropout.history["reconstruction"][-1] < dropout.history["reconstruction"][0]
