import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import Tensor, no_grad
from tinygrad_ste.data import load_digits
from tinygrad_ste.models import (CompressionAutoencoder, codebook_rate_distortion, kmeans_reconstruction_mse,
                                 train_compression_autoencoder, train_vq_autoencoder)


@pytest.mark.parametrize("proxy", ["noise", "round", "mixed"])
def test_short_run_reduces_its_loss_and_its_file_decodes_to_the_same_reconstructions(proxy):
    result = train_compression_autoencoder(proxy, lam=30, latent_channels=4, hidden=32, epochs=4)
    history = result.history
    assert set(history) == {"loss", "bits", "mse"} and all(len(values) == 4 for values in history.values())
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert result.test_mse < 0.06   # the variance of the pixels is 0.074: it learned something
    model = result.model
    assert not model.training and not model.bottleneck.training   # evaluated with true rounding
    images = Tensor(load_digits("test")[0][:100])
    data = model.compress(images)
    with no_grad():
        reconstruction, y_hat, likelihoods = model(images)
    np.testing.assert_array_equal(model.decompress(data, 100).data, reconstruction.data)
    estimated = -np.log2(likelihoods.data).sum()
    assert estimated <= 8 * len(data) <= 1.01 * estimated + 64


def test_a_larger_lambda_buys_more_bits_and_less_error():
    cheap, costly = (train_compression_autoencoder("mixed", lam=lam, latent_channels=4, hidden=32, epochs=4)
                     for lam in (1, 300))
    assert costly.test_bits > cheap.test_bits + 5
    assert costly.test_mse < cheap.test_mse


def test_runs_reproduce():
    first, second = (train_compression_autoencoder("noise", latent_channels=2, hidden=8, epochs=1, seed=3)
                     for _ in range(2))
    assert first.history == second.history and first.test_bits == second.test_bits


def test_the_model_works_without_rng_and_follows_manual_seed():
    outputs = []
    for _ in range(2):
        tg.manual_seed(0)
        model = CompressionAutoencoder(3, 8, proxy="noise")
        outputs.append(model(Tensor(load_digits("test")[0][:5]))[0].data)   # noise drawn in training mode too
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_codebook_rate_distortion_gives_each_compressor_its_bits_and_its_test_error():
    settings = dict(hidden=8, epochs=1, seed=2)
    curves = codebook_rate_distortion(kmeans_sizes=(2, 8), vectors_per_image=(1, 3), residual_vectors=2,
                                      residual_stages=3, **settings)
    assert list(curves) == ["k-means (log2 K bits)", "VQ, 16 codes (lesson 5)", "FSQ, 4 x 4 levels (lesson 6)",
                            "residual VQ, first q of 3 stages (lesson 6)"]
    assert curves["k-means (log2 K bits)"] == ([1.0, 3.0], [kmeans_reconstruction_mse(k, 2) for k in (2, 8)])
    assert curves["VQ, 16 codes (lesson 5)"][0] == curves["FSQ, 4 x 4 levels (lesson 6)"][0] == [4.0, 12.0]
    assert curves["residual VQ, first q of 3 stages (lesson 6)"][0] == [8.0, 16.0, 24.0]   # 2 vectors x 4 bits x q
    # Each point is the test error of the very run train_vq_autoencoder makes with these settings.
    fsq = train_vq_autoencoder(levels=[4, 4], codes_per_image=3, **settings)
    assert curves["FSQ, 4 x 4 levels (lesson 6)"][1][1] == fsq.test_mse
