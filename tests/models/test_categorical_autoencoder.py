"""The categorical autoencoder of lesson 3, trained with every estimator."""
import numpy as np
import pytest

from tinygrad_ste.models import AUTOENCODER_ESTIMATORS, train_categorical_autoencoder


@pytest.mark.parametrize("estimator, options", [
    ("straight_through", {}), ("gumbel", {"tau": 0.5}), ("straight_through_gumbel", {}), ("reinmax", {}),
    ("reinforce", {"baseline": "leave_one_out"}), ("reinforce", {"baseline": "ema", "n_samples": 1})])
def test_short_categorical_autoencoder_run_reduces_its_loss(estimator, options):
    result = train_categorical_autoencoder(estimator, num_latents=8, num_categories=4, hidden=64, epochs=4, lr=5e-3,
                                           **options)
    history = result.history
    assert set(history) == {"loss", "entropy", "test_mse"} and len(history["test_mse"]) == 4
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert history["test_mse"][-1] < history["test_mse"][0]
    assert 0 <= history["entropy"][-1] <= np.log(4)
    assert result.test_mse_mode < history["test_mse"][0]
    assert result.test_errors.shape == (359,) and result.test_errors.mean() == pytest.approx(result.test_mse)


def test_categorical_autoencoder_rejects_unknown_estimators():
    with pytest.raises(ValueError, match="estimator 'magic' is not one this model trains with"):
        train_categorical_autoencoder("magic")


@pytest.mark.parametrize("estimator", ["arm", "disarm", "rebar"])
def test_categorical_autoencoder_refuses_the_estimators_that_need_their_own_loss(estimator):
    """ARM and DisARM are for Bernoulli variables, and REBAR's gradient comes from rebar_loss: trained here
    without it, its relaxed samples would reach the decoder as if they were codes."""
    with pytest.raises(ValueError, match=f"estimator '{estimator}' is not one this model trains with; choose one of"):
        train_categorical_autoencoder(estimator, epochs=1)


def test_it_trains_with_every_estimator_but_the_bernoulli_ones_and_rebar():
    assert AUTOENCODER_ESTIMATORS == ("straight_through", "gumbel", "straight_through_gumbel", "reinmax", "reinforce",
                                      "gumbel_rao")
