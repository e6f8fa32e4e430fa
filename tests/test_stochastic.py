"""Sampling ops and the rules of each estimator (statistical checks against exact gradients
are in test_estimators.py)."""
import numpy as np
import pytest

import tinygrad_ste.functional as F
from tinygrad_ste import Tensor, gradcheck, manual_seed
from tinygrad_ste.stochastic import (BASELINES, BERNOULLI_ONLY, COST_ESTIMATORS, ESTIMATORS, NORMAL_ESTIMATORS,
                                     Bernoulli, Categorical, EMABaseline, Normal, NormalSample, RelaxedSample, Sample,
                                     antithetic_loss, gumbel_noise, leave_one_out_baseline, log_prob, logistic_noise,
                                     make_baseline, rebar_loss, reinforce_loss, sample_bernoulli, sample_categorical,
                                     sample_normal, vimco_loss)
from tinygrad_ste.learned_baseline import LearnedBaseline
from rule_checks import forward_as, grad_of

SAMPLERS = {"bernoulli": sample_bernoulli, "categorical": sample_categorical}
DISTRIBUTION = {"bernoulli": Bernoulli, "categorical": Categorical}
LOGIT_SHAPES = [(4,), (3, 4), (2, 3, 5)]
# every (kind, estimator) pair a sampler accepts: "arm" and "disarm" are for Bernoulli variables
KIND_ESTIMATORS = [(kind, estimator) for kind in ("bernoulli", "categorical") for estimator in ESTIMATORS
                   if kind == "bernoulli" or estimator not in BERNOULLI_ONLY]


def estimator_loss(estimator, logits, sample, cost, kind, rng):
    """What a learner adds to the mean cost for ``estimator``: its loss term, if it learns from costs."""
    if estimator == "reinforce":
        return reinforce_loss(logits, sample, cost, kind=kind, baseline="leave_one_out")
    if estimator in ("arm", "disarm"):
        return antithetic_loss(logits, sample, cost, estimator, rng)
    if estimator == "rebar":
        return rebar_loss(logits, sample, cost, kind)
    return cost.mean()


def link(kind, logits):
    """The probabilities as Tensor ops: sigmoid or softmax over the last axis."""
    return logits.sigmoid() if kind == "bernoulli" else F.softmax(logits, axis=-1)


# ------------------------------------------------------------------ samples


@pytest.mark.parametrize("kind,estimator", KIND_ESTIMATORS)
@pytest.mark.parametrize("shape", LOGIT_SHAPES)
def test_sample_shapes_and_values(kind, estimator, shape):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=shape)
    counts = [6] if estimator in COST_ESTIMATORS and COST_ESTIMATORS[estimator] > 1 else [None, 6]
    for n_samples in counts:
        expected = shape if n_samples is None else (n_samples,) + shape
        sample = SAMPLERS[kind](logits, estimator, rng, n_samples=n_samples).data
        assert sample.shape == expected
        if estimator == "rebar":   # hard, then two relaxed groups
            assert set(np.unique(sample[:2])) <= {0.0, 1.0} and ((sample[2:] > 0) & (sample[2:] < 1)).all()
            # the conditional relaxed sample leans towards the hard one: the same side of 1/2, the same argmax
            if kind == "bernoulli":
                assert np.array_equal(sample[4:] > 0.5, sample[:2] > 0.5)
            else:
                assert np.array_equal(sample[4:].argmax(axis=-1), sample[:2].argmax(axis=-1))
                assert np.allclose(sample[2:].sum(axis=-1), 1)
        elif estimator == "gumbel":   # soft: probabilities
            assert ((sample >= 0) & (sample <= 1)).all()
            if kind == "categorical":
                assert np.allclose(sample.sum(axis=-1), 1)
        else:
            assert set(np.unique(sample)) <= {0.0, 1.0}
            if kind == "categorical":
                assert np.array_equal(sample.sum(axis=-1), np.ones(expected[:-1]))


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_float32_is_kept(kind):
    logits = Tensor(np.zeros((2, 3), dtype=np.float32), requires_grad=True)
    sample = SAMPLERS[kind](logits, "straight_through", np.random.default_rng(0))
    assert sample.dtype == np.float32


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_samples_follow_the_probabilities(kind):
    """The Gumbel-max (and logistic) trick draws exact samples: frequencies within 4 SE of p."""
    rng = np.random.default_rng(1)
    logits = np.array([[-1.0, 0.5, 2.0], [0.0, 0.0, -3.0]])
    n = 20000
    frequency = sample_categorical(logits, "reinforce", rng, n_samples=n).data.mean(axis=0) if kind == "categorical" \
        else sample_bernoulli(logits, "reinforce", rng, n_samples=n).data.mean(axis=0)
    p = link(kind, Tensor(logits)).data
    assert (np.abs(frequency - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12).all()


class ExtremeUniform:
    """A stand-in Generator whose uniforms are the worst cases: exactly 0, or the largest float below 1."""

    def __init__(self, value):
        self.value = value

    def random(self, shape):
        return np.full(shape, self.value)


@pytest.mark.parametrize("value", [0.0, np.nextafter(1.0, 0.0)])
def test_noise_is_always_finite(value):
    assert np.isfinite(gumbel_noise(ExtremeUniform(value), (3,))).all()
    assert np.isfinite(logistic_noise(ExtremeUniform(value), (3,))).all()


def test_noise_distributions():
    rng = np.random.default_rng(2)
    gumbel, logistic = gumbel_noise(rng, 100000), logistic_noise(rng, 100000)
    # Gumbel: mean = Euler's gamma, variance pi^2/6; logistic: mean 0, variance pi^2/3.
    assert abs(gumbel.mean() - np.euler_gamma) < 4 * np.sqrt(np.pi ** 2 / 6 / 100000)
    assert abs(logistic.mean()) < 4 * np.sqrt(np.pi ** 2 / 3 / 100000)
    assert abs(gumbel.var() - np.pi ** 2 / 6) < 0.05 and abs(logistic.var() - np.pi ** 2 / 3) < 0.1


@pytest.mark.parametrize("kind,estimator", KIND_ESTIMATORS)
@pytest.mark.parametrize("tau", [0.1, 1.0])
def test_huge_logits_stay_finite(kind, estimator, tau):
    rng = np.random.default_rng(3)
    logits = Tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], requires_grad=True)
    sample = SAMPLERS[kind](logits, estimator, rng, tau=tau, n_samples=6)
    assert np.isfinite(sample.data).all()
    weights = Tensor(rng.normal(size=(2, 3)))
    cost = (sample * weights).sum(axis=(1, 2))
    estimator_loss(estimator, logits, sample, cost, kind, rng).backward()   # the engine raises on any inf/NaN in backward
    assert np.isfinite(logits.grad).all()


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_huge_logits_give_the_certain_outcome(kind):
    logits = np.array([[1e4, -1e4, -1e4]])
    sample = SAMPLERS[kind](logits, "straight_through", np.random.default_rng(4), n_samples=50).data
    assert (sample == [[1, 0, 0]]).all()


# ------------------------------------------------------------------ each estimator's rule


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
@pytest.mark.parametrize("shape", LOGIT_SHAPES)
@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_gumbel_is_the_exact_gradient_of_the_relaxed_sample(kind, shape, tau):
    """Gradchecked with the noise held fixed, and with logits broadcast over the samples."""
    rng = np.random.default_rng(5)
    noise = DISTRIBUTION[kind].noise(rng, (3,) + shape)
    logits = Tensor(rng.normal(size=shape), requires_grad=True)
    assert gradcheck(lambda t: RelaxedSample.apply(t, noise=noise, distribution=DISTRIBUTION[kind], tau=tau), [logits])
    # ... and it is P((logits + G) / tau) in value.
    expected = link(kind, (Tensor(logits.data) + Tensor(noise)) / tau).data
    relaxed = RelaxedSample.apply(logits, noise=noise, distribution=DISTRIBUTION[kind], tau=tau)
    assert np.allclose(relaxed.data, expected)


def relaxed_value(kind, rule, logits, noise, tau, hard, base):
    """The smooth function whose derivative each straight-through rule is, written with Tensor ops."""
    if rule == "straight_through":   # the same probabilities for every sample
        return link(kind, logits / tau) + Tensor(np.zeros(hard.shape))
    if rule == "straight_through_gumbel":
        return link(kind, (logits + Tensor(noise)) / tau)
    # reinmax: 2 P(logits + c) - P(logits) / 2, with c a constant such that P(base + c) = p1 at the
    # point of the check: Heun's second slope, taken at p1 = (b + P(base / tau)) / 2.
    p1 = (hard.data + link(kind, Tensor(base) / tau).data) / 2
    logit_p1 = np.log(p1) - np.log1p(-p1) if kind == "bernoulli" else np.log(p1)
    return 2 * link(kind, logits + Tensor(logit_p1 - base)) - link(kind, logits) / 2


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
@pytest.mark.parametrize("rule", ["straight_through", "straight_through_gumbel", "reinmax"])
@pytest.mark.parametrize("shape", LOGIT_SHAPES)
@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_straight_through_rules_are_gradients_of_their_relaxations(kind, rule, shape, tau):
    rng = np.random.default_rng(6)
    distribution = DISTRIBUTION[kind]
    noise = distribution.noise(rng, (3,) + shape)
    logits = rng.normal(size=shape)
    hard = Sample.apply(logits, noise=noise, distribution=distribution)

    def fn(t):
        sample = Sample.apply(t, noise=noise, distribution=distribution, tau=tau, backward=rule)
        return forward_as(relaxed_value(kind, rule, t, noise, tau, hard, logits), sample)

    assert gradcheck(fn, [Tensor(logits, requires_grad=True)])
    # The same rule through the public sampler, and against the engine's gradient of the relaxation.
    g = rng.normal(size=(3,) + shape)
    rule_grad = grad_of(lambda t: Sample.apply(t, noise=noise, distribution=distribution, tau=tau, backward=rule),
                        logits, g)
    assert np.allclose(rule_grad, grad_of(lambda t: relaxed_value(kind, rule, t, noise, tau, hard, logits), logits, g))


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_straight_through_backward_is_the_gradient_of_the_probabilities(kind):
    rng = np.random.default_rng(7)
    logits, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    sampled = grad_of(lambda t: SAMPLERS[kind](t, "straight_through", rng), logits, g)
    assert np.allclose(sampled, grad_of(lambda t: link(kind, t), logits, g))


def test_reinmax_bernoulli_formula():
    """ReinMax for one Bernoulli: g * (2 p1 (1 - p1) - p0 (1 - p0) / 2), p1 = (b + sigmoid(logit / tau)) / 2."""
    logits, tau = np.array([0.3, -1.2, 2.0]), 1.5
    noise = np.array([5.0, -5.0, -3.0])   # makes b = [1, 0, 0]
    grad = grad_of(lambda t: Sample.apply(t, noise=noise, distribution=Bernoulli, tau=tau, backward="reinmax"),
                   logits, np.ones(3))
    sigmoid = 1 / (1 + np.exp(-logits))
    p1 = (np.array([1.0, 0.0, 0.0]) + 1 / (1 + np.exp(-logits / tau))) / 2
    assert np.allclose(grad, 2 * p1 * (1 - p1) - sigmoid * (1 - sigmoid) / 2)


def test_sample_default_rule_is_the_true_gradient_zero():
    logits = np.random.default_rng(8).normal(size=(2, 3))
    grad = grad_of(lambda t: Sample.apply(t, noise=np.zeros((2, 3)), distribution=Categorical), logits, np.ones((2, 3)))
    assert np.array_equal(grad, np.zeros((2, 3)))


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_reinforce_sample_carries_no_gradient(kind):
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    sample = SAMPLERS[kind](logits, "reinforce", np.random.default_rng(9), n_samples=4)
    assert not sample.requires_grad and sample.node is None


@pytest.mark.parametrize("kind,estimator", KIND_ESTIMATORS)
def test_fixed_seed_reproduces_exactly(kind, estimator):
    def run(seed):
        rng = np.random.default_rng(seed)
        logits = Tensor(np.linspace(-2, 2, 12).reshape(3, 4), requires_grad=True)
        sample = SAMPLERS[kind](logits, estimator, rng, n_samples=6)
        cost = (sample * Tensor(np.arange(12.0).reshape(3, 4))).sum(axis=(1, 2))
        estimator_loss(estimator, logits, sample, cost, kind, rng).backward()
        return sample.data, logits.grad

    (sample_a, grad_a), (sample_b, grad_b), (sample_c, _) = run(11), run(11), run(12)
    assert np.array_equal(sample_a, sample_b) and np.array_equal(grad_a, grad_b)
    assert not np.array_equal(sample_a, sample_c)


# ------------------------------------------------------------------ REINFORCE: the loss term and baselines


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
@pytest.mark.parametrize("shape", LOGIT_SHAPES)
@pytest.mark.parametrize("baseline", [None, "leave_one_out"])
def test_reinforce_loss_is_the_score_function(kind, shape, baseline):
    rng = np.random.default_rng(10)
    logits = rng.normal(size=shape)
    samples = SAMPLERS[kind](logits, "reinforce", rng, n_samples=5)
    cost = rng.normal(size=5)
    theta = Tensor(logits, requires_grad=True)
    loss = reinforce_loss(theta, samples, cost, kind=kind, baseline=baseline)
    assert loss.item() == 0.0
    loss.backward()
    advantage = cost - make_baseline(baseline)(cost)
    # Independently: the engine's gradient of mean_i a_i log p(x_i), gradchecked itself.

    def surrogate(t):
        joint = log_prob(t, samples, kind).reshape(5, -1).sum(axis=1)
        return (Tensor(advantage) * joint).mean()

    assert gradcheck(surrogate, [Tensor(logits, requires_grad=True)])
    assert np.allclose(theta.grad, grad_of(surrogate, logits, np.ones(())))
    # ... which is mean_i a_i (x_i - p).
    p = link(kind, Tensor(logits)).data
    expected = (advantage.reshape((5,) + (1,) * len(shape)) * (samples.data - p)).mean(axis=0)
    assert np.allclose(theta.grad, expected)


def test_reinforce_loss_with_a_cost_per_sample_and_batch_row():
    """cost (n, batch): each entry is the cost of one variable's sample; the gradient averages over both."""
    rng = np.random.default_rng(11)
    logits = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    samples = sample_categorical(logits, "reinforce", rng, n_samples=6)
    cost = rng.normal(size=(6, 3))
    reinforce_loss(logits, samples, cost, kind="categorical").backward()
    p = F.softmax(Tensor(logits.data)).data
    assert np.allclose(logits.grad, (cost[..., None] * (samples.data - p)).mean(axis=0) / 3)


def test_ema_baseline_uses_only_earlier_batches():
    baseline = EMABaseline(decay=0.5)
    first = baseline(np.array([2.0, 4.0]))
    assert np.array_equal(first, [0.0, 0.0]) and baseline.value == 3.0          # nothing known before batch 1
    second = baseline(np.array([10.0, 10.0, 10.0]))
    assert np.array_equal(second, [3.0, 3.0, 3.0])                              # batch 2 sees only batch 1
    assert baseline.value == 0.5 * 3.0 + 0.5 * 10.0
    assert isinstance(make_baseline("ema"), EMABaseline) and make_baseline("ema") is not make_baseline("ema")
    assert make_baseline(baseline) is baseline
    with pytest.raises(ValueError, match="EMABaseline: decay"):
        EMABaseline(decay=1.0)


def test_leave_one_out_baseline():
    cost = np.array([[1.0, 0.0], [2.0, 3.0], [6.0, 6.0]])
    assert np.allclose(leave_one_out_baseline(cost), [[4.0, 4.5], [3.5, 3.0], [1.5, 1.5]])
    with pytest.raises(ValueError, match="leave_one_out_baseline: needs at least 2"):
        leave_one_out_baseline(np.array([1.0]))
    assert np.array_equal(make_baseline(None)(cost), np.zeros_like(cost))
    assert np.array_equal(make_baseline("none")(cost), np.zeros_like(cost))


def test_one_shot_ema_string_is_refused_and_an_ema_object_keeps_its_state():
    rng = np.random.default_rng(12)
    logits = Tensor(np.zeros(3), requires_grad=True)
    samples = sample_bernoulli(logits, "reinforce", rng, n_samples=4)
    with pytest.raises(ValueError, match=r"reinforce_loss: baseline='ema'.*EMABaseline\(\).*every step"):
        reinforce_loss(logits, samples, np.ones(4), kind="bernoulli", baseline="ema")
    ema = EMABaseline(decay=0.5)
    for step in range(2):
        reinforce_loss(logits, samples, np.full(4, 2.0), kind="bernoulli", baseline=ema)
    assert ema.value == 2.0      # the same object saw both steps


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_leave_one_out_needs_a_sample_axis(kind):
    rng = np.random.default_rng(13)
    shape = (5, 3) if kind == "bernoulli" else (5, 3, 4)
    logits = Tensor(rng.normal(size=shape), requires_grad=True)   # 5 different items, one sample each
    samples = SAMPLERS[kind](logits, "reinforce", rng)
    with pytest.raises(ValueError, match=r"reinforce_loss: baseline='leave_one_out' .* no sample axis.*n_samples=n"):
        reinforce_loss(logits, samples, rng.normal(size=5), kind=kind, baseline="leave_one_out")
    reinforce_loss(logits, samples, rng.normal(size=5), kind=kind)                # without it: a batch mean, fine
    # A sample axis: drawn with n_samples, or logits of length 1 along axis 0 (shared by the samples).
    for theta, n_samples in [(logits[0], 6), (logits[:1], 6)]:
        drawn = SAMPLERS[kind](theta.detach(), "reinforce", rng, n_samples=n_samples)
        drawn = drawn.reshape(6, *shape[1:]) if theta.ndim == len(shape) else drawn
        reinforce_loss(theta, drawn, rng.normal(size=6), kind=kind, baseline="leave_one_out").backward()


def test_unknown_baseline_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown baseline 'mean'") as error:
        make_baseline("mean")
    assert all(repr(name) in str(error.value) for name in BASELINES)


def test_reinforce_loss_bad_input():
    logits = Tensor(np.zeros((3, 4)), requires_grad=True)
    samples = sample_categorical(logits, "reinforce", np.random.default_rng(0), n_samples=5)
    with pytest.raises(ValueError, match=r"reinforce_loss: cost of shape \(4,\).*\(5, 3, 4\)"):
        reinforce_loss(logits, samples, np.zeros(4), kind="categorical")
    # The one-hot axis belongs to one sample: no cost per class.
    with pytest.raises(ValueError, match=r"reinforce_loss: cost of shape \(5, 3, 4\)"):
        reinforce_loss(logits, samples, np.zeros((5, 3, 4)), kind="categorical")
    with pytest.raises(ValueError, match=r"reinforce_loss: logits of shape \(2, 4\)"):
        reinforce_loss(np.zeros((2, 4)), samples, np.zeros(5), kind="categorical")
    soft = sample_categorical(logits, "gumbel", np.random.default_rng(0), n_samples=5)
    with pytest.raises(ValueError, match=r"reinforce_loss: samples of shape \(5, 3, 4\) must be hard categorical"):
        reinforce_loss(logits, soft, np.zeros(5), kind="categorical")
    with pytest.raises(ValueError, match="reinforce_loss: samples .* must be hard bernoulli"):
        reinforce_loss(logits, np.full((5, 3, 4), 0.5), np.zeros(5), kind="bernoulli")
    with pytest.raises(ValueError, match="reinforce_loss: unknown kind 'gaussian'"):
        reinforce_loss(logits, samples, np.zeros(5), kind="gaussian")


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_bad_input_raises_clear_errors(kind):
    op = f"sample_{kind}"
    sample, logits, rng = SAMPLERS[kind], np.zeros((2, 3)), np.random.default_rng(0)
    with pytest.raises(TypeError, match=f"{op}: rng must be a numpy.random.Generator.*RandomState"):
        sample(logits, "gumbel", np.random.RandomState(0))
    with pytest.raises(TypeError, match=f"{op}: rng must be"):
        sample(logits, "gumbel", 42)
    with pytest.raises(ValueError, match=f"{op}: unknown estimator 'gumble'") as error:
        sample(logits, "gumble", rng)
    assert all(repr(name) in str(error.value) for name in ESTIMATORS)
    for tau in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=f"{op}: the temperature tau must be positive"):
            sample(logits, "gumbel", rng, tau=tau)
    with pytest.raises(ValueError, match=f"{op}: n_samples must be a positive integer"):
        sample(logits, "reinmax", rng, n_samples=0)
    with pytest.raises(ValueError, match=f"{op}: logits of shape \\(2, 3\\) contain inf or NaN"):
        sample(np.array([[0.0, np.nan, 1.0], [0, 0, 0]]), "reinmax", rng)


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_samplers_draw_from_the_library_generator_without_rng(kind):
    sample, logits = SAMPLERS[kind], np.zeros((50, 3))
    manual_seed(3)
    first = sample(logits, "straight_through").data
    second = sample(logits, "straight_through").data
    manual_seed(3)
    np.testing.assert_array_equal(sample(logits, "straight_through").data, first)   # reset: the same stream
    assert not np.array_equal(first, second)                                        # and it moves on
    np.testing.assert_array_equal(sample(logits, "straight_through", np.random.default_rng(3)).data,
                                  sample(logits, "straight_through", np.random.default_rng(3)).data)


def test_categorical_needs_a_class_axis():
    with pytest.raises(ValueError, match=r"sample_categorical: logits must have a class axis .* \(\)"):
        sample_categorical(1.0, "reinforce", np.random.default_rng(0))
    assert sample_bernoulli(1.0, "reinforce", np.random.default_rng(0)).shape == ()


# ------------------------------------------------------------------ the normal sample


@pytest.mark.parametrize("estimator", NORMAL_ESTIMATORS)
@pytest.mark.parametrize("mean_shape, log_std_shape", [((4,), (4,)), ((3, 4), (4,)), ((2, 1, 5), (3, 1)), ((), ())])
def test_sample_normal_shapes_and_moments(estimator, mean_shape, log_std_shape):
    rng = np.random.default_rng(30)
    mean, log_std = rng.normal(size=mean_shape), rng.normal(size=log_std_shape) * 0.5
    shape = np.broadcast_shapes(mean_shape, log_std_shape)
    assert sample_normal(mean, log_std, rng, estimator=estimator).shape == shape
    n = 20000
    z = sample_normal(mean, log_std, rng, estimator=estimator, n_samples=n).data
    assert z.shape == (n,) + shape
    sigma = np.broadcast_to(np.exp(log_std), shape)
    # The sample mean is within 4 SE (sigma / sqrt(n)) of the mean; the sample sd within 4 SE (sigma / sqrt(2n)).
    assert (np.abs(z.mean(axis=0) - mean) < 4 * sigma / np.sqrt(n)).all()
    assert (np.abs(z.std(axis=0) - sigma) < 4 * sigma / np.sqrt(2 * n)).all()


@pytest.mark.parametrize("shapes", [((3,), (3,), (3,)), ((2, 3), (3,), (5, 2, 3)), ((1, 3), (2, 1), (4, 2, 3))])
def test_normal_sample_backward_is_its_exact_derivative(shapes):
    """With the noise fixed, z = mean + exp(log_std) * eps is smooth: gradcheck both inputs, with broadcasting."""
    mean_shape, log_std_shape, noise_shape = shapes
    rng = np.random.default_rng(31)
    noise = rng.standard_normal(noise_shape)
    inputs = [Tensor(rng.normal(size=mean_shape), requires_grad=True),
              Tensor(rng.normal(size=log_std_shape) * 0.5, requires_grad=True)]
    assert gradcheck(lambda m, s: NormalSample.apply(m, s, noise=noise), inputs)


def test_reinforce_normal_sample_carries_no_gradient():
    mean = Tensor(np.zeros(3), requires_grad=True)
    z = sample_normal(mean, np.zeros(3), np.random.default_rng(0), estimator="reinforce")
    assert not z.requires_grad


@pytest.mark.parametrize("shape", [(4,), (3, 2)])
@pytest.mark.parametrize("baseline", [None, "leave_one_out"])
def test_normal_reinforce_loss_is_the_score_function(shape, baseline):
    """Its gradient is that of the surrogate mean_i a_i log p(z_i) with the draws z_i held fixed
    (log_prob gradchecked itself), i.e. a_i (z - mean) / sigma^2 and a_i (((z - mean) / sigma)^2 - 1)."""
    rng = np.random.default_rng(32)
    mean, log_std = rng.normal(size=shape), rng.normal(size=shape[-1:]) * 0.5   # log_std broadcasts
    z = sample_normal(mean, log_std, rng, estimator="reinforce", n_samples=5)
    cost = rng.normal(size=5)
    parameters = Tensor(mean, requires_grad=True), Tensor(log_std, requires_grad=True)
    loss = reinforce_loss(parameters, z, cost, kind="normal", baseline=baseline)
    assert loss.item() == 0.0
    loss.backward()
    advantage = cost - make_baseline(baseline)(cost)

    def surrogate(m, s):
        joint = log_prob((m, s), z, "normal").reshape(5, -1).sum(axis=1)
        return (Tensor(advantage) * joint).mean()

    assert gradcheck(surrogate, [Tensor(mean, requires_grad=True), Tensor(log_std, requires_grad=True)])
    m, s = Tensor(mean, requires_grad=True), Tensor(log_std, requires_grad=True)
    surrogate(m, s).backward()
    assert np.allclose(parameters[0].grad, m.grad) and np.allclose(parameters[1].grad, s.grad)
    a = advantage.reshape((5,) + (1,) * len(shape))
    standardized = (z.data - mean) / np.exp(log_std)
    assert np.allclose(parameters[0].grad, (a * standardized / np.exp(log_std)).mean(axis=0))


def test_normal_log_prob_is_the_density():
    z, mean, log_std = np.array([0.3, -1.0]), np.array([0.0, 1.0]), np.array([0.0, np.log(2.0)])
    sigma = np.exp(log_std)
    density = np.exp(-((z - mean) / sigma) ** 2 / 2) / (sigma * np.sqrt(2 * np.pi))
    assert np.allclose(log_prob((mean, log_std), z, "normal").data, np.log(density))
    assert np.allclose(Normal.score(mean, log_std, z)[0], (z - mean) / sigma ** 2)


def test_sample_normal_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="sample_normal: unknown estimator 'gumbel'") as error:
        sample_normal(0.0, 0.0, rng, estimator="gumbel")
    assert all(repr(name) in str(error.value) for name in NORMAL_ESTIMATORS)
    with pytest.raises(TypeError, match="sample_normal: rng must be a numpy.random.Generator"):
        sample_normal(0.0, 0.0, 0)
    with pytest.raises(ValueError, match=r"sample_normal: mean of shape \(2,\) and log_std of shape \(3,\)"):
        sample_normal(np.zeros(2), np.zeros(3), rng)
    with pytest.raises(ValueError, match=r"sample_normal: log_std of shape \(2,\) contains inf or NaN"):
        sample_normal(np.zeros(2), np.array([0.0, np.inf]), rng)
    with pytest.raises(ValueError, match="sample_normal: n_samples must be a positive integer"):
        sample_normal(0.0, 0.0, rng, n_samples=0)
    z = sample_normal(np.zeros(2), np.zeros(2), rng, estimator="reinforce", n_samples=3)
    with pytest.raises(ValueError, match=r"reinforce_loss: a normal takes the pair \(mean, log_std\)"):
        reinforce_loss(np.zeros(2), z, np.zeros(3), kind="normal")
    with pytest.raises(ValueError, match=r"reinforce_loss: log_std of shape \(3,\) does not broadcast"):
        reinforce_loss((np.zeros(2), np.zeros(3)), z, np.zeros(3), kind="normal")
    with pytest.raises(ValueError, match=r"reinforce_loss: samples of shape \(3, 2\) contain inf or NaN"):
        reinforce_loss((np.zeros(2), np.zeros(2)), np.full((3, 2), np.nan), np.zeros(3), kind="normal")
    # leave-one-out needs a sample axis: here the means vary along axis 0
    with pytest.raises(ValueError, match=r"leave_one_out.*mean of shape \(3, 2\) and log_std of shape \(2,\) vary"):
        reinforce_loss((np.zeros((3, 2)), np.zeros(2)), z, np.zeros(3), kind="normal", baseline="leave_one_out")


def test_sample_normal_without_rng_follows_manual_seed():
    manual_seed(0)
    first = sample_normal(np.zeros(3), np.zeros(3), n_samples=2).data
    manual_seed(0)
    assert np.array_equal(sample_normal(np.zeros(3), np.zeros(3), n_samples=2).data, first)


# ------------------------------------------------------------------ noise given the sample (Gumbel-Rao, REBAR)


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_conditional_noise_reproduces_the_sample_and_the_noise_distribution(kind):
    """Noise drawn given b makes b again; and b ~ p, then noise ~ p(noise | b), is the noise's own distribution."""
    rng, distribution = np.random.default_rng(40), DISTRIBUTION[kind]
    logits = np.array([[1.5, -0.5, 0.2], [-2.0, 0.0, 3.0]])
    n = 40000
    samples = SAMPLERS[kind](logits, "reinforce", rng, n_samples=n).data
    noise = distribution.conditional_noise(rng, np.broadcast_to(logits, samples.shape), samples)
    assert np.array_equal(distribution.hard(logits + noise), samples)
    mean, variance = (np.euler_gamma, np.pi ** 2 / 6) if kind == "categorical" else (0.0, np.pi ** 2 / 3)
    assert (np.abs(noise.mean(axis=0) - mean) < 4 * np.sqrt(variance / n)).all()
    # the variance of a sample variance is about (m4 - sigma^4) / n; m4 = 5.4 sigma^4 (Gumbel), 4.2 sigma^4 (logistic)
    assert (np.abs(noise.var(axis=0) - variance) < 4 * variance * np.sqrt(4.4 / n)).all()


@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_rebar_conditional_perturbation_is_differentiable_and_gradchecks(kind):
    """z~ ~ p(z | b) as a smooth function of the logits (the uniforms held fixed): it makes b again,
    and its gradient matches central differences, with the logits broadcast over the samples."""
    rng = np.random.default_rng(41)
    logits = Tensor(rng.normal(size=(2, 4)), requires_grad=True)
    samples = DISTRIBUTION[kind].hard(logits.data + DISTRIBUTION[kind].noise(rng, (3, 2, 4)))
    uniform = rng.random((3, 2, 4))
    perturbed = DISTRIBUTION[kind].conditional_perturbed(logits, samples, uniform)
    assert perturbed.shape == samples.shape and np.array_equal(DISTRIBUTION[kind].hard(perturbed.data), samples)
    assert gradcheck(lambda theta: DISTRIBUTION[kind].conditional_perturbed(theta, samples, uniform), [logits])


def test_gumbel_rao_rule_averages_K_conditional_straight_through_gumbel_gradients():
    """With K noises from p(G | b), the rule is the mean of straight-through Gumbel's backward at each."""
    logits = Tensor(np.array([[0.3, -1.0, 0.8]]), requires_grad=True)
    g = np.array([[1.0, -2.0, 0.5]])
    sample = sample_categorical(logits, "gumbel_rao", np.random.default_rng(42), tau=0.7, K=4)
    sample.backward(g)
    replay = np.random.default_rng(42)
    Categorical.noise(replay, (1, 3))   # the forward's draw
    noise = Categorical.conditional_noise(replay, np.broadcast_to(logits.data, (4, 1, 3)),
                                          np.broadcast_to(sample.data, (4, 1, 3)))
    soft = Categorical.probabilities((logits.data + noise) / 0.7)
    expected = np.mean([Categorical.probabilities_backward(s, g) / 0.7 for s in soft], axis=0)
    np.testing.assert_allclose(logits.grad, expected)


def test_antithetic_pairs_share_one_noise():
    rng = np.random.default_rng(43)
    logits = np.array([2.0, -2.0, 0.0])
    pairs = sample_bernoulli(logits, "disarm", rng, n_samples=20000).data
    first, second = pairs[:10000], pairs[10000:]
    p = 1 / (1 + np.exp(-logits))
    for half in (first, second):   # each half is an exact sample
        assert (np.abs(half.mean(axis=0) - p) < 4 * np.sqrt(p * (1 - p) / 10000)).all()
    # b = 1[U > 1 - p] and b~ = 1[U < p]: with p > 1/2 never both 0, with p < 1/2 never both 1
    assert not ((first[:, 0] == 0) & (second[:, 0] == 0)).any() and not ((first[:, 1] == 1) & (second[:, 1] == 1)).any()


def test_learned_baseline_predicts_the_cost_given_the_input_and_never_sees_its_own_batch():
    rng = np.random.default_rng(44)
    baseline = LearnedBaseline(2, hidden=16, lr=3e-2, rng=rng)
    for _ in range(600):
        x = rng.normal(size=(32, 2))
        cost = 3 * x[:, 0] - x[:, 1] + rng.normal(size=(4, 32)) * 0.1   # (n, batch): E[c | x] = 3 x0 - x1
        before = baseline.predict(x)
        assert np.array_equal(baseline.given(x)(cost), np.broadcast_to(before, cost.shape))
    x = rng.normal(size=(200, 2))
    assert np.abs(baseline.predict(x) - (3 * x[:, 0] - x[:, 1])).mean() < 0.3
    with pytest.raises(ValueError, match=r"LearnedBaseline: inputs must be \(batch, 2\), got shape \(3,\)"):
        baseline.given(np.zeros(3))
    with pytest.raises(ValueError, match="LearnedBaseline: costs of shape \\(4, 5\\) must end in the batch of 3"):
        baseline.given(np.zeros((3, 2)))(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="pass baseline=learned.given\\(inputs\\)"):
        baseline(np.zeros(4))
