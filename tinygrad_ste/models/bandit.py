"""The contextual bandit of lesson 11: learning to classify digits from a reward alone.

A policy network (an MLP from the 64 pixels to 10 logits) sees a digit, *picks* a class
a ~ softmax(logits) and is told only whether it was right: reward 1, or 0.  It never sees
the label.  That is the simplest reinforcement-learning problem (a contextual bandit: one
step, no state carried over), and REINFORCE is its policy gradient (Williams 1992): with cost
c = -reward, d/dlogits E_a[c] = E_a[(c - b) (one_hot(a) - p)].  It is trained here with no
baseline, with a moving-average baseline, and with leave-one-out over two picks per digit,
against supervised cross-entropy on the same network (the label told outright).  The curves
are test accuracy (the most likely class) against the number of rewards (or labels) seen.
"""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import NUM_CLASSES, load_digits
from ..function import no_grad
from ..nn import MLP
from ..optim import Adam
from ..stochastic import EMABaseline, reinforce_loss, sample_categorical
from ..tensor import Tensor
from .training import PIXELS, TrainingResult, timed_train_epochs

__all__ = ["LEARNERS", "LEARNER_LABELS", "BanditResult", "train_bandit"]

LEARNERS = ("supervised", "no_baseline", "moving_average", "leave_one_out")
LEARNER_LABELS = {"supervised": "supervised cross-entropy", "no_baseline": "REINFORCE, no baseline",
                  "moving_average": "REINFORCE, moving-average baseline",
                  "leave_one_out": "REINFORCE, leave-one-out (2 picks)"}


@dataclass
class BanditResult(TrainingResult):
    """What :func:`train_bandit` measured.

    feedback_seen: (epochs + 1,) the number of rewards (labels, for "supervised") seen at each
    point of the curve, starting at 0; test_accuracy: (epochs + 1,) test accuracy of the most
    likely class there.  test_correct: bool (test images,), after training (for paired
    comparisons).  model: the policy MLP.  history: per-epoch "reward" (mean reward of the picks in training; for
    "supervised", of the most likely class).  seconds: training time in CPU seconds.
    """
    feedback_seen: np.ndarray
    test_accuracy: np.ndarray
    test_correct: np.ndarray


def train_bandit(learner="leave_one_out", hidden=32, epochs=10, batch_size=32, lr=3e-3, decay=0.9, seed=0,
                 verbose=False):
    """Train the policy MLP([64, hidden, 10]) with ``learner`` (one of ``LEARNERS``); returns a
    :class:`BanditResult`.

    Each epoch passes once over the training digits in minibatches.  "supervised": cross-entropy
    with the label (one label per digit).  The REINFORCE learners pick classes with
    ``sample_categorical(logits, "reinforce")`` and pass cost = -reward to ``reinforce_loss``:
    "no_baseline" (one pick per digit), "moving_average" (one pick, an :class:`EMABaseline`
    with ``decay`` kept across steps) and "leave_one_out" (two picks per digit, each compared with
    the other: two rewards per digit).
    """
    if learner not in LEARNERS:
        raise ValueError(f"train_bandit: unknown learner {learner!r}; choose one of {', '.join(LEARNERS)}")
    options = dict(learner=learner, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, decay=decay, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    policy = MLP([PIXELS, hidden, NUM_CLASSES], rng=rng)
    picks = 2 if learner == "leave_one_out" else 1
    baseline = {"no_baseline": None, "moving_average": EMABaseline(decay), "leave_one_out": "leave_one_out"}.get(learner)

    def step(images, labels):
        logits = policy(Tensor(images))
        if learner == "supervised":
            reward = float((logits.data.argmax(axis=-1) == labels).mean())
            return F.cross_entropy(logits, labels), {"reward": reward}
        actions = sample_categorical(logits, "reinforce", rng, n_samples=picks)    # (picks, N, 10), one-hot
        rewards = (actions.data.argmax(axis=-1) == labels).astype(float)           # (picks, N): 1 if right
        return reinforce_loss(logits, actions, -rewards, kind="categorical", baseline=baseline), \
            {"reward": float(rewards.mean())}

    def test_correct():
        with no_grad():
            return policy(Tensor(test_images)).data.argmax(axis=-1) == test_labels

    first = float(test_correct().mean())
    history, seconds = timed_train_epochs(step, Adam(policy.parameters(), lr=lr), (train_images, train_labels), epochs,
                                          batch_size, rng, verbose, name=f"bandit ({learner})",
                                          after_epoch=lambda: {"test_accuracy": float(test_correct().mean())})
    feedback_seen = np.arange(epochs + 1) * len(train_labels) * picks
    return BanditResult(model=policy, feedback_seen=feedback_seen,
                        test_accuracy=np.array([first] + history["test_accuracy"]), test_correct=test_correct(),
                        history=history, seconds=seconds, options=options)
