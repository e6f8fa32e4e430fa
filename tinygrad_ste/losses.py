"""Loss modules, PyTorch's ``nn.MSELoss()``, ``nn.CrossEntropyLoss()``, ...: each holds its
``reduction`` and calls the loss of the same name in :mod:`tinygrad_ste.functional`, where the
formula, the shapes and the gradient are.

``reduction`` is "mean" (the default: the mean over all the costs), "sum", or "none" (the costs
themselves, one per item or element).

    >>> import tinygrad_ste as tg
    >>> loss_fn = tg.nn.MSELoss(reduction="sum")
    >>> loss_fn(tg.tensor([1.0, 2.0]), tg.tensor([0.0, 0.0])).item()
    5.0
"""
from . import functional as F
from .module import Module

__all__ = ["MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]


class _Loss(Module):
    """What the loss modules share: ``reduction``, checked when the module is made."""

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class MSELoss(_Loss):
    """(input - target)^2 per element, reduced: :func:`~tinygrad_ste.functional.mse_loss`."""
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|input - target| per element, reduced: :func:`~tinygrad_ste.functional.l1_loss`."""
    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """-log softmax(logits)[target] per item, reduced: :func:`~tinygrad_ste.functional.cross_entropy`
    (logits (..., C) with the classes last, integer targets (...))."""
    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """-log_probs[target] per item, reduced: :func:`~tinygrad_ste.functional.nll_loss`."""
    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """-(t log p + (1 - t) log(1 - p)) per element, p a probability, reduced:
    :func:`~tinygrad_ste.functional.binary_cross_entropy`."""
    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """The binary cross-entropy of sigmoid(x), computed stably from the logits x, reduced:
    :func:`~tinygrad_ste.functional.binary_cross_entropy_with_logits`."""
    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
