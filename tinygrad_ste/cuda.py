"""``tg.cuda.is_available()``: False, always -- this engine computes with NumPy on the CPU.

It is here so that PyTorch's usual first line runs unchanged and picks the CPU:

    >>> import tinygrad_ste as torch
    >>> torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device(type='cpu')
"""

__all__ = ["is_available", "device_count"]


def is_available():
    """Whether a GPU can be used: never, here."""
    return False


def device_count():
    """The number of GPUs that can be used: 0."""
    return 0
