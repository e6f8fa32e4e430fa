"""The mixture-of-experts classifier of lesson 11: conditional computation on the digits.

One :class:`~tinygrad_ste.moe.MixtureOfExperts` layer maps the 64 pixels of a digit to 10
class logits: a linear router picks one of E small MLP experts per image and only that expert
runs (hard, top-1 routing), or all of them run, mixed by the router's probabilities (the soft,
dense reference).  The router learns through any of the routers of :mod:`tinygrad_ste.moe`;
the Switch Transformer's load-balancing loss can be added.  At test every hard router takes
the most likely expert.  Measured: test accuracy, expert evaluations per image, the load
(each expert's share of the test images and its entropy) and which digits each expert got.
"""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import NUM_CLASSES, load_digits
from ..function import no_grad
from ..moe import ROUTERS, MixtureOfExperts, load_entropy, load_share
from ..optim import Adam
from ..tensor import Tensor
from .training import PIXELS, TrainingResult, timed_train_epochs

__all__ = ["ROUTER_LABELS", "MixtureOfExpertsResult", "train_mixture_of_experts"]

ROUTER_LABELS = {"soft": "soft mixture", "straight_through": "straight-through (Switch)",
                 "straight_through_gumbel": "straight-through Gumbel", "reinmax": "ReinMax",
                 "reinforce": "REINFORCE, leave-one-out"}   # for tables and plots


@dataclass
class MixtureOfExpertsResult(TrainingResult):
    """What :func:`train_mixture_of_experts` measured.

    history: per epoch, "loss" (training cross-entropy), "accuracy" (training batches, routing as
    trained) and "test_accuracy".  test_correct: bool (test images,), whether each test image
    was classified right (for paired comparisons).  test_accuracy: its mean.
    train_evaluations: expert evaluations per training image (1 for hard routing, n_samples for
    REINFORCE, E for soft); test_evaluations: the same at test (1, or E for soft).
    load: (E,) the share of the test images routed to each expert (for soft: to its most
    likely expert); load_entropy: its entropy in bits (log2 E when even).
    classes_per_expert: (E, 10) counts of test images of each digit routed to each expert.
    seconds: training time in CPU seconds of this process.
    """
    test_correct: np.ndarray
    test_accuracy: float
    train_evaluations: float
    test_evaluations: float
    load: np.ndarray
    load_entropy: float
    classes_per_expert: np.ndarray


def train_mixture_of_experts(router="straight_through", num_experts=4, hidden=16, balance=0.01, tau=1.0,
                             n_samples=2, epochs=10, batch_size=32, lr=5e-3, seed=0, verbose=False):
    """Train a mixture-of-experts classifier of the digits; returns a :class:`MixtureOfExpertsResult`.

    ``router``: one of ``moe.ROUTERS``.  Experts are ``MLP([64, hidden, 10])``.  The loss is the
    mean cross-entropy plus ``balance`` times the load-balancing loss (0 turns it off); for
    "reinforce" each image is routed ``n_samples`` times, each route's cross-entropy is its cost,
    and the router learns from the layer's ``reinforce_loss`` with the leave-one-out baseline.
    Adam with learning rate ``lr``; ``seed`` fixes the weights, the batches and the routing draws.
    """
    options = dict(router=router, num_experts=num_experts, hidden=hidden, balance=balance, tau=tau,
                   n_samples=n_samples, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    if router not in ROUTERS:
        raise ValueError(f"train_mixture_of_experts: unknown router {router!r}; choose one of {', '.join(ROUTERS)}")
    rng = np.random.default_rng(seed)
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    model = MixtureOfExperts(num_experts, PIXELS, NUM_CLASSES, hidden=hidden, router=router, tau=tau,
                             n_samples=n_samples, rng=rng)
    evaluations = []

    def step(images, labels):
        class_logits = model(Tensor(images))
        # one cost per routed copy of each image, (n_samples, N) or (N,): REINFORCE needs them unreduced
        cost = F.cross_entropy(class_logits, np.broadcast_to(labels, class_logits.shape[:-1]), reduction="none")
        loss = cost.mean()
        objective = loss + balance * model.load_balancing_loss() if balance else loss
        if router == "reinforce":
            objective = objective + model.reinforce_loss(cost)
        evaluations.append(model.last_routing.expert_evaluations)
        accuracy = float((class_logits.data.argmax(axis=-1) == labels).mean())
        return objective, {"loss": loss.item(), "accuracy": accuracy}

    def predict():
        model.eval()
        with no_grad():
            class_logits = model(Tensor(test_images))
        model.train()
        return class_logits.data.argmax(axis=-1) == test_labels, model.last_routing

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images, train_labels), epochs,
                                          batch_size, rng, verbose, name=f"mixture of experts ({router})",
                                          after_epoch=lambda: {"test_accuracy": float(predict()[0].mean())})
    correct, routing = predict()
    classes_per_expert = np.zeros((num_experts, NUM_CLASSES), dtype=int)
    np.add.at(classes_per_expert, (routing.chosen, test_labels), 1)
    return MixtureOfExpertsResult(model=model.eval(), history=history, test_correct=correct,
                                  test_accuracy=float(correct.mean()), train_evaluations=float(np.mean(evaluations)),
                                  test_evaluations=routing.expert_evaluations,
                                  load=load_share(routing.chosen, num_experts),
                                  load_entropy=load_entropy(routing.chosen, num_experts),
                                  classes_per_expert=classes_per_expert, seconds=seconds, options=options)
