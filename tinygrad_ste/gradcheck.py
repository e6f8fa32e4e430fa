"""gradcheck: compare every analytic gradient with central differences, in float64.

For a function f of tensors x_1..x_n with any output shape, pick a fixed random
weighting w of the output and check the gradient of the scalar L = sum(w * f(x)):

    analytic:   dL/dx from ``backward()``
    numerical:  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps),  for every element i

Central differences are accurate to O(eps^2), and the random w makes every output
element count (a plain sum could hide errors that cancel).  The check passes when
|analytic - numerical| <= atol + rtol * |numerical| everywhere.
"""
import numpy as np

from .function import no_grad
from .tensor import Tensor, as_tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn(*inputs)``'s gradients for every input with ``requires_grad=True``.

    ``inputs``: a sequence of Tensors (arrays are taken as constants).  They are copied
    to float64 first, so float32 inputs are checked at float64 precision.  Returns True,
    or raises :class:`GradcheckError` naming the input, the element index and both
    values of the worst mismatch.
    """
    inputs = [Tensor(x.data.astype(np.float64), requires_grad=x.requires_grad) if isinstance(x, Tensor)
              else as_tensor(np.asarray(x, dtype=np.float64)) for x in inputs]
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")

    output = fn(*inputs)
    weights = np.random.default_rng(seed).standard_normal(output.shape)

    def loss():
        with no_grad():
            return float((fn(*inputs).data * weights).sum())

    output.backward(weights)
    worst = None   # (excess over tolerance, input, index, analytic, numerical)
    for i in checked:
        x = inputs[i]
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        for index in np.ndindex(*x.shape):
            original = x.data[index]
            x.data[index] = original + eps
            upper = loss()
            x.data[index] = original - eps
            lower = loss()
            x.data[index] = original
            numerical = (upper - lower) / (2 * eps)
            excess = abs(analytic[index] - numerical) - (atol + rtol * abs(numerical))
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, i, index, analytic[index], numerical)
    if worst is not None:
        _, i, index, analytic_value, numerical_value = worst
        raise GradcheckError(f"gradcheck: input {i} (shape {inputs[i].shape}) at index {index}: "
                             f"analytic gradient {analytic_value:.6g}, numerical {numerical_value:.6g} "
                             f"(atol={atol}, rtol={rtol})")
    return True
