"""Learning-rate schedules, PyTorch's ``optim.lr_scheduler``: each sets ``group["lr"]`` of every
parameter group of its optimizer, once per ``scheduler.step()`` (call it once per epoch, after
the epoch's ``optimizer.step()`` calls).

    >>> import tinygrad_ste as tg
    >>> w = tg.zeros(2, requires_grad=True)
    >>> optimizer = tg.optim.SGD([w], lr=1.0)
    >>> scheduler = tg.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(optimizer.param_groups[0]["lr"])
    ...     scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
"""
import math

__all__ = ["StepLR", "CosineAnnealingLR"]


class _Schedule:
    """What the schedules share: the optimizer, each group's starting lr, the epoch count."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0

    def step(self):
        """One epoch more: set every group's lr to the schedule's value for the new epoch."""
        self.last_epoch += 1
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base_lr, self.last_epoch)

    def get_last_lr(self):
        """The lr of every group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError


class StepLR(_Schedule):
    """lr = base_lr * gamma ** floor(epoch / step_size): divided by 1 / gamma every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(_Schedule):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2: from base_lr down to
    ``eta_min`` along half a cosine in ``T_max`` epochs (Loshchilov and Hutter 2017, without restarts)."""

    def __init__(self, optimizer, T_max, eta_min=0.0):   # noqa: N803 -- PyTorch's keyword
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
