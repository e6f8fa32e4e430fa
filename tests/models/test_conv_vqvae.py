"""The convolutional VQ-VAE and VQ-VAE-2: shapes, decoding code grids, and the quantizer's rules."""
import types

import numpy as np
import pytest

from tinygrad_ste import Tensor, no_grad
from tinygrad_ste.data import load_digits
from tinygrad_ste.models.conv_vqvae import ConvVQVAE, train_conv_vqvae
from tinygrad_ste.models.vqvae2 import VQVAE2, decode_levels, train_vqvae2

DIGITS = load_digits("test")[0][:6]


@pytest.mark.parametrize("grid", [4, 2])
def test_conv_vqvae_shapes_and_decode(grid):
    model = ConvVQVAE(num_codes=8, code_dim=4, hidden=6, grid=grid, rng=np.random.default_rng(0)).eval()
    with no_grad():
        reconstruction, codes, loss = model(Tensor(DIGITS))
        assert reconstruction.shape == (6, 64) and codes.shape == (6, grid, grid) and loss.shape == ()
        np.testing.assert_allclose(model.decode(codes).data, reconstruction.data)
    assert model.bits == grid * grid * 3


@pytest.mark.parametrize("rule, reaches_encoder", [("identity", True), ("rotation", True), ("zero", False)])
def test_the_quantizers_rule_decides_whether_the_encoder_learns_from_the_decoder(rule, reaches_encoder):
    model = ConvVQVAE(num_codes=8, code_dim=4, hidden=6, rng=np.random.default_rng(0), backward=rule, beta=0.0)
    reconstruction, _, _ = model(Tensor(DIGITS))
    ((reconstruction - Tensor(DIGITS)) ** 2).mean().backward()
    assert (np.abs(model.encoder.layers[0].weight.grad).max() > 0) == reaches_encoder


def test_bad_grid():
    with pytest.raises(ValueError, match="grid"):
        ConvVQVAE(grid=3)


def test_vqvae2_shapes_decode_and_bits():
    model = VQVAE2(top_codes=4, bottom_codes=8, code_dim=4, hidden=6, rng=np.random.default_rng(0)).eval()
    with no_grad():
        reconstruction, top, bottom, loss = model(Tensor(DIGITS))
        assert reconstruction.shape == (6, 64) and top.shape == (6, 2, 2) and bottom.shape == (6, 4, 4)
        np.testing.assert_allclose(model.decode(top, bottom).data, reconstruction.data)
    assert model.bits == 4 * 2 + 16 * 3


def test_decode_levels_holds_one_level_at_its_most_frequent_code_or_swaps_the_top():
    model = VQVAE2(top_codes=4, bottom_codes=8, code_dim=4, hidden=6, rng=np.random.default_rng(0)).eval()
    rng = np.random.default_rng(1)
    top, bottom = rng.integers(0, 4, (3, 2, 2)), rng.integers(0, 8, (3, 4, 4))
    trained = types.SimpleNamespace(model=model, train_top=np.array([[[1, 2], [2, 2]]]),
                                    train_bottom=np.full((1, 4, 4), 5))   # most frequent: top 2, bottom 5
    levels = decode_levels(trained, top, bottom, other=[2, 0, 1])
    with no_grad():
        assert np.allclose(levels["both levels"], model.decode(top, bottom).data)
        assert np.allclose(levels["top alone"], model.decode(top, np.full_like(bottom, 5)).data)
        assert np.allclose(levels["bottom alone"], model.decode(np.full_like(top, 2), bottom).data)
        assert np.allclose(levels["swapped top"][0], model.decode(top[2:], bottom[:1]).data[0])


def test_training_improves_on_the_mean_digit():
    train = load_digits("train")[0]
    mean_digit_mse = ((load_digits("test")[0] - train.mean(axis=0)) ** 2).mean()
    single = train_conv_vqvae(hidden=16, epochs=6, seed=0)
    assert single.test_mse < mean_digit_mse
    assert single.train_codes.shape == (len(train), 4, 4) and single.test_errors.shape == (359,)
    two_level = train_vqvae2(hidden=16, epochs=6, seed=0)
    assert two_level.test_mse < mean_digit_mse
    assert two_level.train_top.shape == (len(train), 2, 2) and two_level.test_bottom.shape == (359, 4, 4)
