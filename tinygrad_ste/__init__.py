"""tinygrad_ste: a small NumPy autograd engine about gradients through discrete ops.

    >>> import tinygrad_ste as tg
    >>> x = tg.Tensor([0.4, 1.6], requires_grad=True)
    >>> y = tg.round(x, backward="identity")     # forward: [0., 2.]; backward: straight-through
    >>> (y * y).sum().backward()
    >>> x.grad                                   # d(y^2)/dy = 2y, passed straight to x
    array([0., 4.])

Where things live (each module builds only on those listed before it):
function.py (Function, rules, no_grad, detect_anomaly) and random.py (manual_seed, the
library-wide generator) -> tensor.py (Tensor, backward) -> ops.py,
functional.py (differentiable ops) -> discrete.py (hard ops and their rules) ->
stochastic.py (sampling and its estimators) -> estimators.py (exact gradients, comparisons)
-> gradcheck.py (central differences) -> module.py, nn.py, vq.py, fsq.py, kmeans.py, optim.py
(layers, the quantizers, optimizers) -> learned_baseline.py (NVIL's baseline, a small network)
-> data.py, models/ (the digits and the lesson
models, one module each).
"""
from .function import Function, Node, backward_rules, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .random import manual_seed
from .tensor import Tensor, as_tensor
from .arrays import nearest_code
from .discrete import one_hot_argmax, quantize, round, sign, surrogate, ternarize
from .stochastic import (EMABaseline, antithetic_loss, rebar_loss, reinforce_loss, sample_bernoulli,
                         sample_categorical, vimco_loss)
from .stochastic import sample_normal
from .gradcheck import GradcheckError, gradcheck
from .functional import broadcast_to, einsum, maximum, minimum
from . import functional, nn, optim

__all__ = ["Function", "Node", "backward_rules", "detect_anomaly", "enable_grad", "is_grad_enabled", "no_grad",
           "manual_seed",
           "Tensor", "as_tensor", "nearest_code", "one_hot_argmax", "quantize", "round", "sign", "surrogate",
           "ternarize",
           "EMABaseline", "antithetic_loss", "rebar_loss", "reinforce_loss", "sample_bernoulli", "sample_categorical",
           "vimco_loss",
           "sample_normal",
           "compare_estimators", "estimate_gradient", "exact_gradient",
           "GradcheckError", "gradcheck", "functional", "nn", "optim",
           "broadcast_to", "einsum", "maximum", "minimum"]
__version__ = "0.1.0"

_FROM_ESTIMATORS = ("compare_estimators", "estimate_gradient", "exact_gradient")


def __getattr__(name):
    """``tg.exact_gradient`` and friends load ``estimators`` on first use, not at import, so that
    ``python -m tinygrad_ste.estimators`` runs that module once (no RuntimeWarning about it
    being imported already)."""
    if name in _FROM_ESTIMATORS:
        from . import estimators
        return getattr(estimators, name)
    raise AttributeError(f"module 'tinygrad_ste' has no attribute {name!r}")
