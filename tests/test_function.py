"""Function: custom ops, named backward rules, rule registration and block-wide overrides."""
import numpy as np
import pytest

import tinygrad_ste as tg
from tinygrad_ste import Function, Tensor, backward_rules, gradcheck
from tinygrad_ste.discrete import Round


class Cube(Function):
    """y = x^3, dL/dx = 3 x^2 g: a user-written op, as a learner would write it."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * x ** 2 * g


def test_user_function_is_differentiable():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    assert gradcheck(lambda x: Cube.apply(x), [x])
    assert Cube.name == "cube"


def test_custom_backward_returning_wrong_shape_is_caught():
    def wrong_shape(ctx, g):
        return np.ones(7)
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"backward of cube.*\(7,\).*\(2,\)"):
        Cube.apply(x, backward=wrong_shape).sum().backward()


def test_rule_returning_too_many_gradients_is_caught():
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="2 gradients for 1 inputs"):
        Cube.apply(x, backward=lambda ctx, g: (g, g)).sum().backward()


@pytest.mark.parametrize("op", [tg.round, tg.sign])
def test_round_and_sign_rules(op):
    x_values = np.array([-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 1.7])
    expected = {"zero": np.zeros(7), "identity": np.ones(7), "clipped": (np.abs(x_values) <= 1).astype(float)}
    for rule, grad in expected.items():
        x = Tensor(x_values, requires_grad=True)
        op(x, backward=rule).sum().backward()
        np.testing.assert_array_equal(x.grad, grad, err_msg=rule)
    x = Tensor(x_values, requires_grad=True)
    op(x).sum().backward()   # default: the true gradient
    np.testing.assert_array_equal(x.grad, 0.0)


def test_unknown_rule_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"round: unknown backward rule 'idenity'.*'identity'"):
        tg.round(Tensor([1.0], requires_grad=True), backward="idenity")


def test_callable_rule_and_registration():
    def half(ctx, g):
        return 0.5 * g
    x = Tensor([0.2, 0.7], requires_grad=True)
    tg.round(x, backward=half).sum().backward()
    np.testing.assert_allclose(x.grad, 0.5)

    @Round.register_rule("double")
    def double(ctx, g):
        return 2 * g
    try:
        x.grad = None
        tg.round(x, backward="double").sum().backward()
        np.testing.assert_allclose(x.grad, 2.0)
        assert "double" not in tg.discrete.Sign.rules   # registering on one op never leaks to another
    finally:
        del Round.rules["double"]


def test_backward_rules_block_and_precedence():
    x = Tensor([0.2, 3.0], requires_grad=True)
    with backward_rules(round="clipped"):
        y = tg.round(x)                          # block choice
        z = tg.round(x, backward="identity")     # the call's own choice wins
        with backward_rules(round="zero"):
            w = tg.round(x)                      # innermost block wins
    v = tg.round(x)                              # outside: the default again
    grads = {}
    for name, out in dict(y=y, z=z, w=w, v=v).items():
        x.grad = None
        out.sum().backward()   # after the block closed: the rule was fixed when the op ran
        grads[name] = x.grad
    np.testing.assert_array_equal(grads["y"], [1, 0])
    np.testing.assert_array_equal(grads["z"], [1, 1])
    np.testing.assert_array_equal(grads["w"], [0, 0])
    np.testing.assert_array_equal(grads["v"], [0, 0])


def test_needs_input_grad_skips_unrequested_gradients():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None

    a = Tensor([1.0], requires_grad=True)
    Probe.apply(a, Tensor([2.0])).sum().backward()
    assert seen["needs"] == (True, False)
    np.testing.assert_array_equal(a.grad, [1.0])


def test_backward_rules_block_rejects_typos():
    with pytest.raises(ValueError, match="no op is named 'rond'.*round"):
        with backward_rules(rond="identity"):
            pass
    with pytest.raises(ValueError, match="sign: unknown backward rule 'clip'"):
        with backward_rules(sign="clip"):
            pass
