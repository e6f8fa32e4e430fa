"""The binary networks of lesson 4: BinaryConnect (Courbariaux et al. 2015) and BinaryNet
(Hubara et al. 2016), +/-1 weights (and activations) trained through ``sign``."""
import time
from dataclasses import dataclass, field

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..discrete import sign
from ..function import no_grad
from ..module import Module
from ..optim import Adam
from ..random import generator
from ..tensor import Tensor
from .training import PIXELS, train_epochs

__all__ = ["BinaryLinear", "BinaryNetwork", "BinaryNetworkResult", "train_binary_network"]


class BinaryLinear(Module):
    """y = (x @ sign(W)) * gain / sqrt(in_features) + b, with +/-1 weights in the forward pass.

    ``weight`` W (in_features, out_features) holds the real-valued *latent* weights, in
    [-1, 1] (start uniform there, and :func:`train_binary_network` clips them back after
    every step); only their signs are used.  ``rule`` is the backward rule of ``sign``:
    "identity" (dL/dW = dL/dsign(W)) or "clipped" (the same times 1[|W| <= 1]).
    ``rule=None`` uses W itself: the same layer with real weights.  The factor
    1 / sqrt(in_features) keeps outputs of order one at the start, and the real-valued
    per-output ``gain`` (starting at 1) lets training set their scale: the role of batch
    normalisation's learned scale in the paper, which +/-1 weights cannot play.  Real
    weights then start as :class:`~tinygrad_ste.nn.Linear` does.  ``rng`` draws W (None:
    the library-wide generator, see :func:`tinygrad_ste.manual_seed`).
    """

    def __init__(self, in_features, out_features, rule, *, rng=None):
        rng = generator(rng, "BinaryLinear")
        self.rule, self.scale = rule, 1 / np.sqrt(in_features)
        self.weight = Tensor(rng.uniform(-1, 1, (in_features, out_features)), requires_grad=True)
        self.gain = Tensor(np.ones(out_features), requires_grad=True)
        self.bias = Tensor(np.zeros(out_features), requires_grad=True)

    def forward(self, x):
        weight = self.weight if self.rule is None else sign(self.weight, backward=self.rule)
        return (x @ weight) * (self.gain * self.scale) + self.bias


class BinaryNetwork(Module):
    """64 -> hidden -> 10 classifier of :class:`BinaryLinear` layers (logits out).

    The hidden activation is tanh, or with ``binarize_activations`` sign itself, trained
    with the same ``rule`` (BinaryNet, Hubara et al. 2016): activations are +/-1 too.
    """

    def __init__(self, hidden, rule, binarize_activations=False, *, rng=None):
        self.rule, self.binarize_activations = rule, binarize_activations
        self.hidden = BinaryLinear(PIXELS, hidden, rule, rng=rng)
        self.output = BinaryLinear(hidden, 10, rule, rng=rng)

    def forward(self, x):
        h = self.hidden(x)
        h = sign(h, backward=self.rule) if self.binarize_activations else h.tanh()
        return self.output(h)


@dataclass
class BinaryNetworkResult:
    """What :func:`train_binary_network` measured: per-epoch "loss" and "accuracy"
    (training batches), test_accuracy and the training time."""
    model: BinaryNetwork
    history: dict
    test_accuracy: float
    seconds: float
    options: dict = field(default_factory=dict)


def train_binary_network(rule="identity", binarize_activations=False, hidden=128, epochs=20, batch_size=32,
                         lr=0.01, seed=0, verbose=False):
    """Train a :class:`BinaryNetwork` on the digits with cross-entropy and Adam; returns a
    :class:`BinaryNetworkResult`.

    ``rule``: "identity" or "clipped" for binary weights (latent weights clipped to
    [-1, 1] after every step, as BinaryConnect does: a latent weight far past the
    threshold would need as many steps to come back), None for the real-valued baseline
    (no sign, no clipping).  Note: since the latent weights never leave [-1, 1], the
    clipped rule's 1[|W| <= 1] is always 1 on the weights, so "identity" and "clipped"
    differ only where ``binarize_activations`` applies sign to activations, which are not
    clipped.
    """
    options = dict(rule=rule, binarize_activations=binarize_activations, hidden=hidden, epochs=epochs,
                   batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    model = BinaryNetwork(hidden, rule, binarize_activations, rng=rng)
    latent_weights = [model.hidden.weight, model.output.weight]

    def step(images, labels):
        logits = model(Tensor(images))
        loss = F.cross_entropy(logits, labels)
        return loss, {"loss": loss.item(), "accuracy": float((logits.data.argmax(axis=1) == labels).mean())}

    def clip_latent_weights():
        for weight in latent_weights:
            np.clip(weight.data, -1, 1, out=weight.data)

    start = time.perf_counter()
    history = train_epochs(step, Adam(model.parameters(), lr=lr), (train_images, train_labels), epochs, batch_size,
                           rng, verbose, name=f"binary network ({rule})",
                           after_step=None if rule is None else clip_latent_weights)
    seconds = time.perf_counter() - start
    with no_grad():
        test_accuracy = float((model(Tensor(test_images)).data.argmax(axis=1) == test_labels).mean())
    if verbose:
        print(f"binary network ({rule}): test accuracy {test_accuracy:.3f}, {seconds:.1f} s")
    return BinaryNetworkResult(model=model, history=history, test_accuracy=test_accuracy, seconds=seconds,
                               options=options)
