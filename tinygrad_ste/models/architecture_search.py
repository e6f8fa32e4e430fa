"""The architecture search of lesson 11: one operation per edge, chosen four ways.

The search space is a small network on the digits.  A fixed stem h0 = relu(x W_s) (64 -> H
units) feeds three edges, each of which applies one candidate operation of ``OPERATIONS``:

    h1 = op_1(h0),    h2 = op_2(h1) + op_3(h0),    class logits = h2 W_out + b_out

The candidates are "zero" (no connection), "identity" (a skip), and three learned H x H layers,
"linear", "relu" (relu(h W + b)) and "tanh" (tanh(h W + b)): 5^3 = 125 architectures.  Each
edge has its own logits over the candidates, the *architecture logits* alpha (3, 5).

Searches, at the same budget of weight-training steps (each on one minibatch):

* "darts" (Liu et al. 2019, "DARTS"): every edge is the softmax(alpha)-weighted sum of all five
  candidates; the weights train on training batches and alpha on validation batches (the
  first-order variant); the architecture is the argmax of alpha.
* "gdas" (Dong & Yang 2019, "Searching for a Robust Neural Architecture in Four GPU Hours"):
  each step samples one candidate per edge with straight-through Gumbel-softmax and runs only
  those (:func:`~tinygrad_ste.moe.chosen_gate`, as the hard mixture of experts does); alpha
  learns through the sample's rule.
* "enas" (Pham et al. 2018, "Efficient Neural Architecture Search via Parameter Sharing"): a
  controller samples an architecture; the shared weights train on it; the controller learns by
  REINFORCE from the sampled architecture's accuracy on a validation batch, with a moving-average
  baseline.  (ENAS's controller is an LSTM; here it is the independent per-edge logits alpha.)
* "random": random search (Li & Talwalkar 2019, "Random Search and Reproducibility for Neural
  Architecture Search"): ``candidates`` architectures drawn uniformly, each trained from scratch
  for an equal share of the budget; the best on the validation split wins.

The validation split is a quarter of the training digits; the found architecture is then
retrained from scratch on all of them (:func:`train_architecture`) and tested on the test split.
"""
from dataclasses import dataclass, field

import numpy as np

from .. import functional as F
from ..data import NUM_CLASSES, iterate_minibatches, load_digits
from ..function import no_grad
from ..module import Module
from ..moe import chosen_gate
from ..nn import Linear
from ..optim import Adam
from ..stochastic import EMABaseline, reinforce_loss, sample_categorical
from ..tensor import Tensor
from .training import PIXELS, Stopwatch, TrainingResult, timed_train_epochs

__all__ = ["OPERATIONS", "EDGES", "SEARCHES", "SEARCH_LABELS", "SearchSpace", "SearchResult", "search_architecture",
           "ArchitectureResult", "train_architecture", "architecture_name", "validation_split"]

OPERATIONS = ("zero", "identity", "linear", "relu", "tanh")
EDGES = ("h0 -> h1", "h1 -> h2", "h0 -> h2")
SEARCHES = ("darts", "gdas", "enas", "random")
SEARCH_LABELS = {"darts": "DARTS", "gdas": "GDAS (straight-through Gumbel)", "enas": "ENAS (REINFORCE)",
                 "random": "random search"}


def architecture_name(architecture):
    """A readable name: (3, 0, 1) -> 'relu | zero | identity' (edge h0->h1 | h1->h2 | h0->h2)."""
    return " | ".join(OPERATIONS[op] for op in architecture)


class _Candidate(Module):
    """One candidate operation on one edge: h (N, H) -> (N, H)."""

    def __init__(self, name, hidden, rng):
        self.name = name
        self.layer = Linear(hidden, hidden, rng=rng) if name in ("linear", "relu", "tanh") else None

    def forward(self, h):
        if self.name == "zero":
            return h * 0.0
        if self.name == "identity":
            return h
        y = self.layer(h)
        return y.relu() if self.name == "relu" else y.tanh() if self.name == "tanh" else y


class SearchSpace(Module):
    """The network of the module docstring with every candidate of every edge (the "supernet").

    ``forward(x, architecture, gates=None)``: x (N, 64) -> class logits (N, 10) with one
    candidate per edge, ``architecture`` a tuple of 3 indices into ``OPERATIONS``; only those
    candidates run.  ``gates`` (a Tensor (3,), optional) multiplies each edge's output (GDAS
    passes b_k, value 1, to carry the sample's gradient).  ``mixture(x, weights)``: every
    candidate runs, edge e outputs sum_k weights[e, k] op_k(h) (DARTS); weights (3, 5).
    """

    def __init__(self, hidden=32, *, rng=None):
        self.stem = Linear(PIXELS, hidden, rng=rng)
        self.edges = [[_Candidate(name, hidden, rng) for name in OPERATIONS] for _ in EDGES]
        self.head = Linear(hidden, NUM_CLASSES, rng=rng)

    def _network(self, x, edge):
        h0 = self.stem(x).relu()
        h1 = edge(0, h0)
        return self.head(edge(1, h1) + edge(2, h0))

    def forward(self, x, architecture, gates=None):
        def edge(e, h):
            y = self.edges[e][architecture[e]](h)
            return y if gates is None else y * gates[e]
        return self._network(x, edge)

    def mixture(self, x, weights):
        def edge(e, h):
            return sum(self.edges[e][k](h) * weights[e, k] for k in range(len(OPERATIONS)))
        return self._network(x, edge)


def validation_split(seed=0, fraction=0.25):
    """The training digits split for the search: ((images, labels) to train weights on, (images, labels)
    to choose by), a random ``fraction`` of them held out for validation."""
    images, labels = load_digits("train")
    order = np.random.default_rng(seed).permutation(len(labels))
    held_out = int(round(fraction * len(labels)))
    return (images[order[held_out:]], labels[order[held_out:]]), (images[order[:held_out]], labels[order[:held_out]])


@dataclass
class SearchResult:
    """What :func:`search_architecture` found.

    architecture: tuple of 3 operation indices.  trajectory: (records, 3, 5) softmax(alpha)
    recorded every ``record_every`` steps (from step 0), empty for random search.
    steps: weight-training steps spent.  candidates_tried: {architecture: validation
    accuracy} (random search only).  seconds: CPU seconds of the search.
    """
    method: str
    architecture: tuple
    trajectory: np.ndarray
    steps: int
    seconds: float
    candidates_tried: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


def _batches(arrays, batch_size, rng):
    """An endless stream of minibatches, epoch after epoch."""
    while True:
        yield from iterate_minibatches(arrays, batch_size, rng)


def _accuracy(logits, labels):
    return float((logits.data.argmax(axis=-1) == labels).mean())


def search_architecture(method, steps=300, hidden=32, batch_size=32, lr=3e-3, alpha_lr=3e-2, tau=1.0, candidates=6,
                        record_every=10, seed=0, data_seed=0):
    """Search the space of :class:`SearchSpace` with ``method`` (one of ``SEARCHES``) for ``steps``
    weight-training steps; returns a :class:`SearchResult`.

    Weights train with Adam (``lr``), the architecture logits alpha with Adam (``alpha_lr``) on
    batches of the validation split (:func:`validation_split` with ``data_seed``).  ``tau``: the
    Gumbel temperature of "gdas"; ``candidates``: the architectures random search trains, each
    for steps // candidates steps.
    """
    if method not in SEARCHES:
        raise ValueError(f"search_architecture: unknown method {method!r}; choose one of {', '.join(SEARCHES)}")
    options = dict(method=method, steps=steps, hidden=hidden, batch_size=batch_size, lr=lr, alpha_lr=alpha_lr,
                   tau=tau, candidates=candidates, seed=seed, data_seed=data_seed)
    rng = np.random.default_rng(seed)
    train, validation = validation_split(data_seed)
    stopwatch = Stopwatch()
    if method == "random":
        tried = {}
        for _ in range(candidates):
            architecture = tuple(int(op) for op in rng.integers(len(OPERATIONS), size=len(EDGES)))
            model = SearchSpace(hidden, rng=rng)
            optimizer = Adam(model.parameters(), lr=lr)
            for _, (images, labels) in zip(range(steps // candidates), _batches(train, batch_size, rng)):
                optimizer.zero_grad()
                F.cross_entropy(model(Tensor(images), architecture), labels).backward()
                optimizer.step()
            with no_grad():
                tried[architecture] = _accuracy(model(Tensor(validation[0]), architecture), validation[1])
        return SearchResult(method, max(tried, key=tried.get), np.zeros((0, len(EDGES), len(OPERATIONS))),
                            steps=candidates * (steps // candidates), seconds=stopwatch.cpu_seconds(),
                            candidates_tried=tried, options=options)

    model = SearchSpace(hidden, rng=rng)
    alpha = Tensor(np.zeros((len(EDGES), len(OPERATIONS))), requires_grad=True)
    weight_optimizer, alpha_optimizer = Adam(model.parameters(), lr=lr), Adam([alpha], lr=alpha_lr)
    baseline = EMABaseline(0.9)
    trajectory = []

    def loss_on(images, labels):
        """The loss the method trains on, for a batch (its gradient reaches weights and alpha)."""
        if method == "darts":
            return F.cross_entropy(model.mixture(Tensor(images), F.softmax(alpha, axis=-1)), labels)
        if method == "gdas":
            sample = sample_categorical(alpha, "straight_through_gumbel", rng, tau=tau)     # (3, 5), one-hot rows
            return F.cross_entropy(model(Tensor(images), sample.data.argmax(axis=-1), chosen_gate(sample)), labels)
        sample = sample_categorical(alpha, "reinforce", rng)                                # enas: no gradient
        return F.cross_entropy(model(Tensor(images), sample.data.argmax(axis=-1)), labels)

    def controller_loss(images, labels):
        """ENAS: REINFORCE on a sampled architecture's validation-batch accuracy (cost = -accuracy)."""
        sample = sample_categorical(alpha, "reinforce", rng, n_samples=1)                 # (1, 3, 5)
        with no_grad():
            accuracy = _accuracy(model(Tensor(images), sample.data[0].argmax(axis=-1)), labels)
        return reinforce_loss(alpha, sample, np.array([-accuracy]), kind="categorical", baseline=baseline)

    training, validating = _batches(train, batch_size, rng), _batches(validation, batch_size, rng)
    for step in range(steps):
        if step % record_every == 0:
            trajectory.append(F.softmax(alpha, axis=-1).data.copy())
        weight_optimizer.zero_grad()
        loss_on(*next(training)).backward()            # alpha's gradient from this step is discarded below
        weight_optimizer.step()
        alpha_optimizer.zero_grad()
        (controller_loss if method == "enas" else loss_on)(*next(validating)).backward()
        alpha_optimizer.step()
    trajectory.append(F.softmax(alpha, axis=-1).data.copy())
    architecture = tuple(int(op) for op in alpha.data.argmax(axis=-1))
    return SearchResult(method, architecture, np.array(trajectory), steps=steps, seconds=stopwatch.cpu_seconds(),
                        options=options)


@dataclass
class ArchitectureResult(TrainingResult):
    """A found architecture retrained from scratch: test_correct, bool (test images,); test_accuracy
    its mean; history per epoch ("loss", "accuracy"); seconds of CPU time."""
    architecture: tuple
    test_correct: np.ndarray
    test_accuracy: float


def train_architecture(architecture, hidden=32, epochs=10, batch_size=32, lr=3e-3, seed=0):
    """Train the network with one fixed ``architecture`` from scratch on all training digits and test it;
    returns an :class:`ArchitectureResult`."""
    rng = np.random.default_rng(seed)
    images, labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    model = SearchSpace(hidden, rng=rng)

    def step(images, labels):
        logits = model(Tensor(images), architecture)
        loss = F.cross_entropy(logits, labels)
        return loss, {"loss": loss.item(), "accuracy": _accuracy(logits, labels)}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (images, labels), epochs, batch_size,
                                          rng)
    with no_grad():
        correct = model(Tensor(test_images), architecture).data.argmax(axis=-1) == test_labels
    return ArchitectureResult(model=model, architecture=tuple(architecture), test_correct=correct,
                              test_accuracy=float(correct.mean()), history=history, seconds=seconds,
                              options=dict(architecture=tuple(architecture), hidden=hidden, epochs=epochs,
                                           batch_size=batch_size, lr=lr, seed=seed))
