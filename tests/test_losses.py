"""The loss modules: each is its functional loss with the reduction it was made with."""
import numpy as np
import pytest

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck, nn

RNG = np.random.default_rng(0)
PREDICTION, TARGET = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
PROBABILITIES, BINARY = RNG.uniform(0.05, 0.95, (4, 3)), (RNG.random((4, 3)) < 0.5).astype(float)
LOGITS, CLASSES = RNG.standard_normal((4, 5)), np.array([0, 4, 2, 2])


@pytest.mark.parametrize("module, function, inputs", [
    (nn.MSELoss, F.mse_loss, (PREDICTION, TARGET)),
    (nn.L1Loss, F.l1_loss, (PREDICTION, TARGET)),
    (nn.CrossEntropyLoss, F.cross_entropy, (LOGITS, CLASSES)),
    (nn.NLLLoss, F.nll_loss, (F.log_softmax(Tensor(LOGITS)).data, CLASSES)),
    (nn.BCELoss, F.binary_cross_entropy, (PROBABILITIES, BINARY)),
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, (PREDICTION, BINARY)),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_each_module_is_its_function(module, function, inputs, reduction):
    first, second = inputs
    x = Tensor(first, requires_grad=True)
    loss = module(reduction=reduction)(x, second)
    np.testing.assert_allclose(loss.data, function(x, second, reduction=reduction).data)
    assert gradcheck(lambda t: module(reduction=reduction)(t, second), [x])


def test_mse_loss_reductions_follow_the_formula():
    costs = (PREDICTION - TARGET) ** 2
    assert nn.MSELoss()(Tensor(PREDICTION), Tensor(TARGET)).item() == pytest.approx(costs.mean())
    assert nn.MSELoss(reduction="sum")(Tensor(PREDICTION), Tensor(TARGET)).item() == pytest.approx(costs.sum())
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(Tensor(PREDICTION), Tensor(TARGET)).data, costs)


def test_a_bad_reduction_is_a_value_error_naming_the_module():
    with pytest.raises(ValueError, match=r"L1Loss: reduction must be 'mean', 'sum' or 'none', got 'max'"):
        nn.L1Loss(reduction="max")
    assert repr(nn.BCELoss(reduction="sum")) == "BCELoss(reduction='sum')"
