"""``tg.save(model.state_dict(), path)`` and ``model.load_state_dict(tg.load(path))``, as in PyTorch.

A state dict -- ``{name: array}`` -- is written as a NumPy ``.npz`` archive, one array per name,
to exactly the path given (``"model.pt"`` stays ``"model.pt"``; a file object works too).
Reading it back never unpickles: only plain numeric arrays come out, so a file from elsewhere
cannot run code.  Unlike ``torch.save``, only dicts of arrays (or tensors) can be saved.

    >>> import io
    >>> import tinygrad_ste as tg
    >>> model = tg.nn.Linear(3, 2)
    >>> buffer = io.BytesIO()
    >>> tg.save(model.state_dict(), buffer)
    >>> _ = buffer.seek(0)
    >>> state = tg.load(buffer)
    >>> sorted(state), bool((state["weight"] == model.weight.data).all())
    (['bias', 'weight'], True)
"""
import numpy as np

from .tensor import Tensor, as_array

__all__ = ["save", "load"]


def save(state, path):
    """Write the dict ``state`` ({name: NumPy array or Tensor}) to ``path`` (a path or a file object)."""
    if not isinstance(state, dict):
        raise TypeError(f"save: expects a dict of arrays such as model.state_dict(), got {type(state).__name__}")
    arrays = {}
    for name, value in state.items():
        if not isinstance(value, (np.ndarray, Tensor, np.generic)) or as_array(value).dtype.kind not in "biuf":
            raise TypeError(f"save: the value of {name!r} is {type(value).__name__}; only numeric arrays and "
                            "tensors can be saved (an .npz file, read back without pickle)")
        arrays[str(name)] = as_array(value)
    if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__"):
        with open(path, "wb") as file:   # np.savez given a name would append ".npz" to it
            np.savez(file, **arrays)
    else:
        np.savez(path, **arrays)


def load(path):
    """The dict {name: NumPy array} written by :func:`save` (or ``Module.save``) at ``path``."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
