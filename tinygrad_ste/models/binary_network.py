"""The binary networks of lesson 4: BinaryConnect (Courbariaux et al. 2015) and BinaryNet
(Hubara et al. 2016), +/-1 weights (and activations) trained through ``sign``; with XNOR-Net
scaling (Rastegari et al. 2016) and ternary weights (TWN, Li et al. 2016) as options."""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..discrete import sign, ternarize
from ..function import no_grad
from ..module import Module
from ..optim import Adam
from ..random import generator
from ..tensor import Tensor
from .training import PIXELS, TrainingResult, timed_train_epochs

__all__ = ["BinaryLinear", "BinaryNetwork", "BinaryNetworkResult", "train_binary_network", "WEIGHT_KINDS"]

WEIGHT_KINDS = ("sign", "xnor", "ternary")


class BinaryLinear(Module):
    """y = (x @ Q(W)) * gain / sqrt(in_features) + b, with quantized weights Q(W) in the forward pass.

    ``weight`` W (in_features, out_features) holds the real-valued *latent* weights, in
    [-1, 1] (start uniform there, and :func:`train_binary_network` clips them back after
    every step); the forward pass uses Q(W), chosen by ``weights``:

    * "sign" (BinaryConnect): Q(W) = sign(W), +/-1;
    * "xnor" (XNOR-Net, Rastegari et al. 2016): Q(W) = alpha_j sign(W), alpha_j = mean_i |W_ij|,
      one scale per output unit j, the best scale for column j of W in squared error.  alpha is an
      ordinary differentiable function of W, so its gradient is exact;
    * "ternary" (TWN, Li et al. 2016): Q(W) = :func:`~tinygrad_ste.discrete.ternarize` (W),
      alpha * {-1, 0, +1} with threshold 0.7 mean |W| and one alpha for the layer.

    ``rule`` is the backward rule of sign or ternarize: "identity" (dL/dW = dL/dQ(W)) or
    "clipped" (the same times 1[|W| <= 1]).  ``rule=None`` uses W itself: the same layer
    with real weights (``weights`` is then ignored).  The factor 1 / sqrt(in_features)
    keeps outputs of order one at the start, and the real-valued per-output ``gain``
    (starting at 1) lets training set their scale: the role of batch normalisation's
    learned scale in the paper, which +/-1 weights cannot play.  (A per-output gain can
    absorb XNOR's alpha_j too: what alpha changes is how the gradient reaches W.)  Real
    weights then start as :class:`~tinygrad_ste.nn.Linear` does.  ``rng`` draws W (None:
    the library-wide generator, see :func:`tinygrad_ste.manual_seed`).
    """

    def __init__(self, in_features, out_features, rule, *, rng=None, weights="sign"):
        if weights not in WEIGHT_KINDS:
            raise ValueError(f"BinaryLinear: weights must be one of {WEIGHT_KINDS}, got {weights!r}")
        rng = generator(rng, "BinaryLinear")
        self.rule, self.weights, self.scale = rule, weights, 1 / np.sqrt(in_features)
        self.weight = Tensor(rng.uniform(-1, 1, (in_features, out_features)), requires_grad=True)
        self.gain = Tensor(np.ones(out_features), requires_grad=True)
        self.bias = Tensor(np.zeros(out_features), requires_grad=True)

    def forward(self, x):
        weight = self.weight                                             # real weights (rule None)
        if self.rule is not None and self.weights == "ternary":
            weight = ternarize(self.weight, backward=self.rule)          # alpha * {-1, 0, +1}
        elif self.rule is not None:
            weight = sign(self.weight, backward=self.rule)               # +/-1
            if self.weights == "xnor":
                weight = weight * self.weight.abs().mean(axis=0)         # alpha_j * +/-1
        return (x @ weight) * (self.gain * self.scale) + self.bias


class BinaryNetwork(Module):
    """64 -> hidden -> 10 classifier of :class:`BinaryLinear` layers (logits out).

    The hidden activation is tanh, or with ``binarize_activations`` sign itself, trained
    with the same ``rule`` (BinaryNet, Hubara et al. 2016): activations are +/-1 too.
    With ``weights="xnor"`` binary activations get XNOR-Net's own scale as well,
    beta * sign(h) with beta = mean_j |h_j| per image (differentiable, like alpha).
    """

    def __init__(self, hidden, rule, binarize_activations=False, *, rng=None, weights="sign"):
        self.rule, self.binarize_activations, self.weights = rule, binarize_activations, weights
        self.hidden = BinaryLinear(PIXELS, hidden, rule, rng=rng, weights=weights)
        self.output = BinaryLinear(hidden, 10, rule, rng=rng, weights=weights)

    def forward(self, x):
        h = self.hidden(x)
        if not self.binarize_activations:
            return self.output(h.tanh())
        binary = sign(h, backward=self.rule)
        if self.weights == "xnor":
            binary = binary * h.abs().mean(axis=1, keepdims=True)
        return self.output(binary)


@dataclass
class BinaryNetworkResult(TrainingResult):
    """What :func:`train_binary_network` measured: per-epoch "loss" and "accuracy"
    (training batches), test_accuracy, the training time, and test_correct: per test image,
    1.0 where the prediction is right (test images,), to pair this network with another
    scored on the same images."""
    test_accuracy: float
    test_correct: np.ndarray = None


def train_binary_network(rule="identity", binarize_activations=False, hidden=128, epochs=20, batch_size=32,
                         lr=0.01, seed=0, verbose=False, weights="sign"):
    """Train a :class:`BinaryNetwork` on the digits with cross-entropy and Adam; returns a
    :class:`BinaryNetworkResult`.

    ``weights``: "sign" (BinaryConnect), "xnor" or "ternary" (see :class:`BinaryLinear`).
    ``rule``: "identity" or "clipped" for quantized weights (latent weights clipped to
    [-1, 1] after every step, as BinaryConnect does: a latent weight far past the
    threshold would need as many steps to come back), None for the real-valued baseline
    (no sign, no clipping).  Note: since the latent weights never leave [-1, 1], the
    clipped rule's 1[|W| <= 1] is always 1 on the weights, so "identity" and "clipped"
    differ only where ``binarize_activations`` applies sign to activations, which are not
    clipped.
    """
    options = dict(rule=rule, binarize_activations=binarize_activations, hidden=hidden, epochs=epochs,
                   batch_size=batch_size, lr=lr, seed=seed, weights=weights)
    rng = np.random.default_rng(seed)
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    model = BinaryNetwork(hidden, rule, binarize_activations, rng=rng, weights=weights)
    latent_weights = [model.hidden.weight, model.output.weight]

    def step(images, labels):
        logits = model(Tensor(images))
        loss = F.cross_entropy(logits, labels)
        return loss, {"loss": loss.item(), "accuracy": float((logits.data.argmax(axis=1) == labels).mean())}

    def clip_latent_weights():
        for weight in latent_weights:
            np.clip(weight.data, -1, 1, out=weight.data)

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images, train_labels), epochs,
                                          batch_size, rng, verbose, name=f"binary network ({weights}, {rule})",
                                          after_step=None if rule is None else clip_latent_weights)
    with no_grad():
        test_correct = (model(Tensor(test_images)).data.argmax(axis=1) == test_labels).astype(np.float64)
    test_accuracy = float(test_correct.mean())
    if verbose:
        print(f"binary network ({weights}, {rule}): test accuracy {test_accuracy:.3f}, {seconds:.1f} s")
    return BinaryNetworkResult(model=model, history=history, test_accuracy=test_accuracy, seconds=seconds,
                               options=options, test_correct=test_correct)
