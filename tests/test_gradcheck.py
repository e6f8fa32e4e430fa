"""gradcheck itself: it passes correct gradients and catches a deliberately wrong backward."""
import numpy as np
import pytest

from tinygrad_ste import Function, GradcheckError, Tensor, gradcheck


class WrongSquare(Function):
    """y = x^2 with a wrong backward (2 g instead of 2 x g) -- gradcheck must notice."""
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        return 2 * g


def test_catches_a_wrong_backward_and_names_input_index_and_values():
    x = Tensor([[0.5, 2.0], [1.0, -3.0]], requires_grad=True)
    c = Tensor([1.0, 1.0], requires_grad=True)
    with pytest.raises(GradcheckError) as error:
        gradcheck(lambda c, x: WrongSquare.apply(x) * c, [c, x])
    message = str(error.value)
    assert "input 1" in message and "(2, 2)" in message
    assert "index (1, 1)" in message          # the worst element: x = -3, analytic 2w vs numerical -6w
    assert "analytic" in message and "numerical" in message


def test_passes_a_correct_gradient_and_checks_in_float64():
    x = Tensor(np.array([0.3, -1.2], dtype=np.float32), requires_grad=True)
    assert gradcheck(lambda x: (x * x).exp(), [x])


def test_needs_something_to_check():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2, [Tensor([1.0])])
