"""A learned, input-dependent baseline for REINFORCE: NVIL's (Mnih & Gregor 2014).

Mnih & Gregor 2014, "Neural Variational Inference and Learning in Belief Networks", ICML 2014.
The best constant baseline is the mean cost; the best baseline that may look at the input x
is the expected cost *given x*, E_b[c(b) | x].  NVIL learns it: a small network b(x),
trained alongside the model to predict the cost by squared error.  Subtracting it keeps
REINFORCE unbiased as long as b(x) does not depend on the sample it corrects, so each call
predicts first and learns from the batch's costs only afterwards (as :class:`EMABaseline`
averages only earlier batches).

    >>> import numpy as np
    >>> from tinygrad_ste import Tensor, reinforce_loss, sample_bernoulli
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(5, 3))                        # 5 inputs with 3 features
    >>> logits = Tensor(np.zeros((5, 2)), requires_grad=True)
    >>> baseline = LearnedBaseline(3, rng=rng)             # keep one across training steps
    >>> b = sample_bernoulli(logits, "reinforce", rng, n_samples=4)      # (4, 5, 2)
    >>> cost = b.data.sum(axis=2) + x[:, 0]                               # (4, 5): one per sample and input
    >>> reinforce_loss(logits, b, cost, "bernoulli", baseline=baseline.given(x)).backward()
    >>> logits.grad.shape
    (5, 2)

NVIL also centres and scales the learning signal by running estimates of its mean and
variance; that normalisation is left out here, so the baseline alone is what is measured.
"""
import numpy as np

from .function import enable_grad, no_grad
from .nn import MLP
from .optim import Adam
from .random import generator
from .tensor import Tensor, as_array

__all__ = ["LearnedBaseline"]


class LearnedBaseline:
    """b(x) = MLP([in_features, hidden, 1])(x): a cost predictor, trained online by Adam on (c - b(x))^2.

    ``given(x)``: inputs (batch, in_features) -> a baseline ``cost -> b`` to pass as ``baseline=``
    (to :func:`~tinygrad_ste.stochastic.reinforce_loss`, or ``estimate_gradient``); costs
    (n, batch) or (batch,) get b(x) broadcast along the leading sample axis.  Calling the
    object itself, ``baseline(cost)``, is ``given`` with no features at all
    (``in_features=0``): the network reduces to one learned number, a constant baseline
    trained by gradient descent instead of averaged.
    Each call returns the prediction from *before* it takes one Adam step of rate ``lr`` on
    mean (cost - b(x))^2 over the batch's costs.
    """

    def __init__(self, in_features, hidden=16, lr=1e-2, *, rng=None):
        if not isinstance(in_features, (int, np.integer)) or in_features < 0:
            raise ValueError(f"LearnedBaseline: in_features must be a non-negative integer, got {in_features!r}")
        rng = generator(rng, "LearnedBaseline")
        self.in_features = int(in_features)
        # with no features, the network reads a constant 1: its output is then one learned number
        self.network = MLP([max(self.in_features, 1), hidden, 1], rng=rng)
        self.optimizer = Adam(self.network.parameters(), lr=lr)
        self.steps = 0

    def predict(self, inputs):
        """b(x) for inputs (batch, in_features): (batch,) NumPy, without learning."""
        with no_grad():
            return self.network(self._features(self._inputs(inputs))).data[:, 0]

    def given(self, inputs):
        """The baseline for the costs of these ``inputs`` (batch, in_features): a callable ``cost -> b``."""
        inputs = self._inputs(inputs)

        def baseline(cost):
            cost = np.asarray(cost, dtype=np.float64)
            if cost.ndim < 1 or cost.shape[-1] != len(inputs):
                raise ValueError(f"LearnedBaseline: costs of shape {cost.shape} must end in the batch of "
                                 f"{len(inputs)} inputs, (batch,) or (n, batch)")
            prediction = self.predict(inputs)
            self._learn(inputs, cost.reshape(-1, len(inputs)).mean(axis=0))
            return np.broadcast_to(prediction, cost.shape).copy()
        return baseline

    def __call__(self, cost):
        if self.in_features:
            raise ValueError(f"LearnedBaseline: this baseline reads {self.in_features} input features; "
                             "pass baseline=learned.given(inputs), not the object itself")
        cost = np.asarray(cost, dtype=np.float64)
        return self.given(np.zeros((1, 0)))(cost.reshape(cost.shape + (1,)))[..., 0]

    def _inputs(self, inputs):
        inputs = as_array(inputs, dtype=np.float64)
        if inputs.ndim != 2 or inputs.shape[1] != self.in_features:
            raise ValueError(f"LearnedBaseline: inputs must be (batch, {self.in_features}), got shape {inputs.shape}")
        return inputs

    def _features(self, inputs):
        """What the network reads: the inputs, or a constant 1 per row when there are no features."""
        return Tensor(inputs if self.in_features else np.ones((len(inputs), 1)))

    def _learn(self, inputs, target):
        """One Adam step on mean (target - b(x))^2: the mean cost of each input is what b(x) should predict."""
        with enable_grad():
            self.optimizer.zero_grad()
            error = self.network(self._features(inputs))[:, 0] - Tensor(target)
            (error * error).mean().backward()
            self.optimizer.step()
        self.steps += 1

    def __repr__(self):
        return f"LearnedBaseline(in_features={self.in_features})"
