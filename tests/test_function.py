"""Function: custom ops, named backward rules, rule registration and block-wide overrides."""
import sys

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


@pytest.mark.parametrize("context", ["no_grad", "constant input"])
def test_rule_names_are_checked_even_when_no_graph_is_recorded(context):
    x = Tensor([0.4], requires_grad=context == "no_grad")
    with pytest.raises(ValueError, match="round: unknown backward rule 'identiy'"):
        if context == "no_grad":
            with tg.no_grad():
                tg.round(x, backward="identiy")
        else:
            tg.round(x, backward="identiy")


# ------------------------------------------------------------------ errors for people who write their own ops


def op_with(forward=None, backward=None, name="myop"):
    """A Function subclass named ``name`` with the given forward and backward (either may be left out)."""
    namespace = {"name": name}
    if forward is not None:
        namespace["forward"] = staticmethod(forward)
    if backward is not None:
        namespace["backward"] = staticmethod(backward)
    return type("MyOp", (Function,), namespace)


@pytest.mark.parametrize("returned, expected", [
    (None, r"myop.forward returned None.*forget the return"),
    (Tensor([1.0]), r"myop.forward returned a Tensor.*NumPy array"),
    ([1.0, 2.0], r"myop.forward returned list.*NumPy array"),
    ("x", r"myop.forward returned str"),
])
def test_forward_returning_a_non_array_names_the_op(returned, expected):
    MyOp = op_with(forward=lambda ctx, x: returned, backward=lambda ctx, g: g)
    with pytest.raises(TypeError, match=expected):
        MyOp.apply(Tensor([1.0], requires_grad=True))


def test_forward_may_return_a_numpy_or_python_number():
    MyOp = op_with(forward=lambda ctx, x: float(x.sum()), backward=lambda ctx, g: np.ones(3) * g)
    x = Tensor(np.ones(3), requires_grad=True)
    y = MyOp.apply(x)
    assert y.shape == () and y.item() == 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad, np.ones(3))


def test_backward_forgetting_to_return_names_the_op():
    def forgetful(ctx, g):
        g * 2   # no return

    MyOp = op_with(forward=lambda ctx, x: x * 2, backward=forgetful)
    with pytest.raises(TypeError, match=r"backward of myop: the rule returned None.*1 input.*return statement"):
        MyOp.apply(Tensor([1.0], requires_grad=True)).sum().backward()


def test_backward_returning_tensors_is_accepted():
    MyOp = op_with(forward=lambda ctx, a, b: a * b, backward=lambda ctx, g: (Tensor(g * 2), Tensor(g * 3)))
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor(1.0, requires_grad=True)
    MyOp.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    assert b.grad == 6.0 and type(b.grad) is np.ndarray


def test_op_without_backward_or_forward_says_so():
    NoBackward = op_with(forward=lambda ctx, x: x * 2, name="nobackward")
    y = NoBackward.apply(Tensor([1.0], requires_grad=True)).sum()
    with pytest.raises(NotImplementedError, match=r"nobackward has no backward: define backward\(ctx, grad\)"):
        y.backward()
    with pytest.raises(NotImplementedError, match=r"noforward has no forward: define forward"):
        op_with(name="noforward").apply(Tensor([1.0]))


# ------------------------------------------------------------------ detect_anomaly


@pytest.mark.filterwarnings("ignore:divide by zero", "ignore:invalid value", "ignore:overflow")
def test_detect_anomaly_names_the_op_its_shapes_and_the_calling_line():
    x = Tensor([[0.0, 1.0]], requires_grad=True)
    assert x.log().shape == (1, 2)                        # outside the block: no check
    with tg.detect_anomaly():
        x.exp().sum()                                     # finite: fine
        with pytest.raises(ValueError) as error:
            x.log()                                       # log(0) = -inf from finite input
        Tensor([np.inf]) * 0                              # non-finite from non-finite input: not flagged
        with pytest.raises(ValueError, match=r"detect_anomaly: div produced NaN"):
            Tensor([0.0]) / Tensor([0.0])
        with pytest.raises(ValueError, match=r"detect_anomaly: exp produced inf"):
            with tg.no_grad():                            # checked whether or not a graph is recorded
                Tensor([1000.0]).exp()
    message = str(error.value)
    assert "detect_anomaly: log produced inf from finite inputs (input shapes: (1, 2))" in message
    assert f"{__file__}:" in message and "test_detect_anomaly_names_the_op" in message
    with tg.detect_anomaly():
        pass
    assert x.log().shape == (1, 2)                        # and off again after the block


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_detect_anomaly_backward_error_names_the_forward_call():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x.sqrt()                                      # finite forward; backward divides by 2 sqrt(0)
        line = sys._getframe().f_lineno - 1
        with pytest.raises(ValueError, match=rf"backward of sqrt: .*made by the forward call at .*:{line} in "):
            y.sum().backward()
    x.grad = None
    with pytest.raises(ValueError, match="backward of sqrt") as error:
        x.sqrt().sum().backward()                         # outside the block: the same error, no forward line
    assert "forward call" not in str(error.value)


def test_detect_anomaly_names_the_forward_call_of_a_failing_rule():
    def wrong_shape(ctx, g):
        return np.ones(7)
    with tg.detect_anomaly():
        y = Cube.apply(Tensor([1.0, 2.0], requires_grad=True), backward=wrong_shape)
        with pytest.raises(ValueError, match=r"backward of cube: .*\(7,\).*made by the forward call at .*test_function"):
            y.sum().backward()
