"""The contextual bandit: REINFORCE as the policy gradient, against supervised learning."""
import numpy as np
import pytest

from tinygrad_ste import Tensor
from tinygrad_ste.estimators import exact_gradient
from tinygrad_ste.models.bandit import LEARNERS, train_bandit
from tinygrad_ste.stochastic import EMABaseline, reinforce_loss, sample_categorical


@pytest.mark.parametrize("baseline", [None, "ema", "leave_one_out"])
def test_the_bandit_policy_gradient_is_unbiased_for_the_expected_reward(baseline):
    """One digit, three classes, the right one is class 1: the expected cost -p_1 has the exact gradient
    -p_1 (e_1 - p), which each REINFORCE variant of the bandit estimates without bias."""
    logits = np.array([[0.3, -0.2, 0.5]])
    label = 1
    exact = exact_gradient(lambda a: -a.data[:, 0, label], logits, "categorical")
    p = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(exact, -p[0, label] * (np.eye(3)[label] - p))
    rng, picks = np.random.default_rng(0), 2 if baseline == "leave_one_out" else 1
    kept = EMABaseline(0.9) if baseline == "ema" else baseline
    estimates = []
    for _ in range(4000):
        theta = Tensor(logits, requires_grad=True)
        actions = sample_categorical(theta, "reinforce", rng, n_samples=picks)
        rewards = (actions.data.argmax(axis=-1) == label).astype(float)
        reinforce_loss(theta, actions, -rewards, kind="categorical", baseline=kept).backward()
        estimates.append(theta.grad)
    estimates = np.array(estimates)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    assert (np.abs(estimates.mean(axis=0) - exact) <= 4 * standard_error).all()


@pytest.mark.parametrize("learner", LEARNERS)
def test_every_learner_beats_chance_and_counts_its_feedback(learner):
    result = train_bandit(learner, hidden=16, epochs=3, seed=1)
    picks = 2 if learner == "leave_one_out" else 1
    assert np.array_equal(result.feedback_seen, np.arange(4) * 1438 * picks)
    assert result.test_accuracy.shape == (4,) and result.test_accuracy[-1] == result.test_correct.mean()
    assert result.test_accuracy[-1] > 0.3      # ten classes: chance is 0.1
    assert np.array_equal(train_bandit(learner, hidden=16, epochs=3, seed=1).test_correct, result.test_correct)


def test_bad_learner():
    with pytest.raises(ValueError, match="train_bandit: unknown learner 'q_learning'"):
        train_bandit("q_learning")
