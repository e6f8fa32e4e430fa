"""Stochastic ops: draw Bernoulli or categorical samples, and get gradients through the draw.

A sample b ~ p(b | logits) is a discrete choice.  What training wants is the gradient of
an expected cost, d/dlogits E_b[f(b)]; the sample itself has no useful derivative.  An
*estimator* stands in for it.  Choose one by name, ``estimator=``:

========================= ========================== ================================ ====================
estimator                 forward                    backward, dL/dlogits             source
========================= ========================== ================================ ====================
"straight_through"        hard sample b              as if b were P(logits / tau)     Bengio et al. 2013
"gumbel"                  soft P((logits + G) / tau) its exact gradient               Jang et al. 2017;
                                                                                      Maddison et al. 2017
"straight_through_gumbel" hard sample b              as if b were P((logits+G) / tau) Jang et al. 2017
"reinmax"                 hard sample b              2 J(p1)^T g - J(p0)^T g / 2      Liu et al. 2023
"reinforce"               hard sample b, no gradient from :func:`reinforce_loss`      Williams 1992
"gumbel_rao"              hard sample b              straight_through_gumbel averaged Paulus, Maddison &
                                                     over K noises G ~ p(G | b)       Krause 2021
"arm"                     antithetic pairs (b, b~),  from :func:`antithetic_loss`:    Yin & Zhou 2019
                          no gradient                (c(b) - c(b~)) (U - 1/2)
"disarm"                  antithetic pairs (b, b~),  from :func:`antithetic_loss`:    Dong, Mnih &
                          no gradient                (c(b) - c(b~)) (b - b~)          Tucker 2020
                                                     sigmoid(|logits|) / 2
"rebar"                   hard b, relaxed s and      from :func:`rebar_loss`:         Tucker et al. 2017
                          conditional relaxed s~     REINFORCE with the control
                          (s = P(z / tau), z =       variate eta c(s~), plus
                          logits + noise; z~ ~       eta (dc(s) - dc(s~))
                          p(z | b))
========================= ========================== ================================ ====================

Beside them, as loss terms: :func:`vimco_loss` (Mnih & Rezende 2016), the K-sample bound
with a leave-one-out learning signal per sample, and baselines for REINFORCE: the EMA and
leave-one-out ones here, the learned, input-dependent one of NVIL (Mnih & Gregor 2014) in
:mod:`tinygrad_ste.learned_baseline`.  "arm" and "disarm" are for Bernoulli variables,
"rebar" for both kinds; their ``n_samples`` counts cost evaluations (an antithetic pair is
two, a REBAR sample three), so estimators compare at equal cost when given the same ``n_samples``.

P is the link from logits to probabilities: softmax over the last axis for a categorical
variable, the sigmoid for a Bernoulli one (a two-class softmax); J(p)^T g is its backward
at probabilities p.  g = dL/db is the gradient arriving from above.  ReinMax (Heun's
method) takes p0 = P(logits) and p1 = (b + P(logits / tau)) / 2.
Gumbel-Rao draws its K noises from their distribution *given* the sample drawn, so the
average is a Rao-Blackwellisation of straight-through Gumbel: the same mean, less variance.

Every sample is drawn with noise added to the logits (the Gumbel-max trick): for a
categorical, b = one_hot(argmax(logits + G)) with Gumbel noise G is an exact sample of
softmax(logits); for a Bernoulli, b = 1[logits + L > 0] with logistic noise L is an exact
sample of sigmoid(logits).  The relaxed ("gumbel") sample P((logits + G) / tau) is made from
such noise too, and becomes the hard sample as tau -> 0.

Switching estimator is one word; a hard sample, ReinMax on the way back:

    >>> import numpy as np
    >>> from tinygrad_ste import Tensor
    >>> rng = np.random.default_rng(0)
    >>> logits = Tensor(np.zeros((2, 3)), requires_grad=True)          # 2 variables, 3 classes each
    >>> prices = Tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    >>> z = sample_categorical(logits, "reinmax", rng)                   # (2, 3), one-hot rows
    >>> (z * prices).sum().backward()

REINFORCE needs the cost of each sample, not the gradient from above, so it is a loss
term rather than a backward rule: one extra line.  Its value is 0; its gradient is the
score-function estimate, mean_i (cost_i - b_i) d log p(z_i) / dlogits, with a baseline b:

    >>> logits.grad = None
    >>> z = sample_categorical(logits, "reinforce", rng, n_samples=8)    # (8, 2, 3), no gradient
    >>> cost = (z * prices).sum(axis=(1, 2))                             # (8,), one cost per sample
    >>> loss = cost.mean() + reinforce_loss(logits, z, cost, kind="categorical", baseline="leave_one_out")
    >>> loss.backward()
    >>> logits.grad.shape
    (2, 3)

Shapes: logits (...,) for Bernoulli, (..., K) for categorical (one-hot over the last
axis); a sample has the logits' shape, or ``(n_samples, *logits.shape)`` with ``n_samples``.

A continuous variable, z ~ N(mean, exp(log_std)^2), has the gradient the discrete ones lack:
:func:`sample_normal` draws z = mean + exp(log_std) * eps with eps ~ N(0, 1), a smooth function
of the parameters once eps is drawn (the reparameterization trick), so backward() through it
is an unbiased estimate of d/d(mean, log_std) E_z[f(z)] with no extra term.  Its
``estimator="reinforce"`` draws the same z without a graph, for the score-function
estimate from ``reinforce_loss((mean, log_std), z, cost, kind="normal")``: side by side,
two unbiased estimators of one gradient, with different variances.

    >>> mean, log_std = Tensor(np.zeros(3), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    >>> z = sample_normal(mean, log_std, rng, estimator="reparameterization", n_samples=8)   # (8, 3)
    >>> ((z - 1.0) ** 2).sum(axis=1).mean().backward()
    >>> mean.grad.shape, log_std.grad.shape
    ((3,), (3,))
"""
import numpy as np

from .arrays import one_hot_array, sigmoid_array, softmax_array, softmax_backward
from .discrete import zero_gradient
from .function import Function
from .functional import concatenate, log_softmax, logsigmoid, logsumexp, stack, where
from .random import generator
from .tensor import Tensor, as_array, as_tensor

__all__ = ["sample_bernoulli", "sample_categorical", "reinforce_loss", "antithetic_loss", "rebar_loss", "vimco_loss",
           "log_prob",
           "EMABaseline", "leave_one_out_baseline", "make_baseline", "gumbel_noise", "logistic_noise",
           "Bernoulli", "Categorical", "DISTRIBUTIONS", "distribution_of",
           "Sample", "RelaxedSample", "ScoreFunction", "ESTIMATORS", "BERNOULLI_ONLY", "COST_ESTIMATORS", "BASELINES",
           "sample_normal", "normal_noise", "Normal", "NormalSample", "NORMAL_ESTIMATORS"]

ESTIMATORS = ("straight_through", "gumbel", "straight_through_gumbel", "reinmax", "reinforce",
              "gumbel_rao", "arm", "disarm", "rebar")
BERNOULLI_ONLY = ("arm", "disarm")   # the estimators sample_categorical refuses
COST_ESTIMATORS = {"reinforce": 1, "arm": 2, "disarm": 2, "rebar": 3}   # gradient from costs: evaluations per draw
BASELINES = ("none", "ema", "leave_one_out")
NORMAL_ESTIMATORS = ("reparameterization", "reinforce")   # the estimators of sample_normal


# ------------------------------------------------------------------ noise


def _open_uniform(rng, shape):
    """U ~ Uniform(0, 1) kept inside [tiny, 1 - eps], so log(U) and log(1 - U) are finite."""
    return np.clip(rng.random(shape), np.finfo(np.float64).tiny, 1 - np.finfo(np.float64).eps)


def gumbel_noise(rng, shape):
    """G = -log(-log U): standard Gumbel noise, float64 of ``shape``, always finite (about -6.6 to 36.7).

    argmax(logits + G) is an exact sample of softmax(logits) (the Gumbel-max trick).
    """
    return -np.log(-np.log(_open_uniform(rng, shape)))


def logistic_noise(rng, shape):
    """L = log U - log(1 - U): standard logistic noise, float64 of ``shape``, always finite.

    P(logits + L > 0) = sigmoid(logits), so 1[logits + L > 0] is an exact Bernoulli sample.
    """
    u = _open_uniform(rng, shape)
    return np.log(u) - np.log1p(-u)


def normal_noise(rng, shape):
    """eps ~ N(0, 1): standard normal noise, float64 of ``shape``; mean + sigma * eps ~ N(mean, sigma^2)."""
    return rng.standard_normal(shape)


# ------------------------------------------------------------------ the distributions: two discrete, one normal


class _Discrete:
    """What the two discrete distributions share: one parameter, the logits, and their score."""
    parameter_names = ("logits",)

    @classmethod
    def score(cls, logits, samples):
        """(d log p(b) / dlogits,) = (b - P(logits),), for a Bernoulli and a categorical alike (NumPy)."""
        return (samples - cls.probabilities(logits),)

    @classmethod
    def conditional_noise(cls, rng, logits, samples):
        """The noise (logistic L or Gumbel G) drawn given the sample it made (NumPy, shape of ``samples``):
        ``conditional_perturbed`` with fresh uniforms, minus the logits."""
        uniform = _open_uniform(rng, samples.shape)
        return cls.conditional_perturbed(Tensor(logits), samples, uniform).data - logits


class Bernoulli(_Discrete):
    """b in {0, 1} elementwise with P(b = 1) = sigmoid(logits); logits of any shape."""
    name = "bernoulli"
    noise = staticmethod(logistic_noise)
    probabilities = staticmethod(sigmoid_array)

    @staticmethod
    def probabilities_backward(p, g):
        """dL/dlogits for p = sigmoid(logits), given g = dL/dp: g * p * (1 - p)."""
        return g * p * (1 - p)

    @staticmethod
    def hard(perturbed):
        """The sample from noisy logits: 1 where logits + L > 0."""
        return (perturbed > 0).astype(perturbed.dtype)

    @staticmethod
    def log_prob(logits, samples):
        """log p(b) = log sigmoid((2b - 1) * logits), elementwise (a Tensor, shape of ``samples``).

        The same as b * logits - log(1 + e^logits), but one ``logsigmoid``, accurate in both
        tails: at logits = 50, log p(1) = -1.9e-22 where the difference form rounds to 0.
        """
        return logsigmoid((2 * samples - 1) * logits)

    @staticmethod
    def conditional_perturbed(logits, samples, uniform):
        """z~ = logits + L drawn from L given the sample b = 1[logits + L > 0], as Tensor ops (differentiable).

        L = log U - log(1 - U) with U ~ Uniform(0, 1) gives b = 1 exactly when U > 1 - p, p = sigmoid(logits);
        so given b, U is uniform on (1 - p, 1) or on (0, 1 - p):  U = (1 - p) + p v  or  U = (1 - p) v,
        v = ``uniform``.  Written out (log p = logsigmoid(logits), log(1 - p) = logsigmoid(-logits)):

            b = 1:  z~ = log((1 - p) + p v) - logsigmoid(-logits) - log(1 - v)
            b = 0:  z~ = log v + logsigmoid(logits) - log(p + (1 - p)(1 - v))

        With v held fixed, z~ is a smooth function of the logits: REBAR's conditional
        reparameterization (Tucker et al. 2017, appendix).  logits (S) broadcast against
        samples and uniform ``(n, *S)`` -> z~ of the samples' shape.
        """
        logits, p = as_tensor(logits), as_tensor(logits).sigmoid()
        one = (1 - p + p * uniform).log() - logsigmoid(-logits) - np.log1p(-uniform)
        zero = np.log(uniform) + logsigmoid(logits) - (p + (1 - p) * (1 - uniform)).log()
        return where(samples > 0.5, one, zero)


class Categorical(_Discrete):
    """b one-hot over the last axis with P(b_k = 1) = softmax(logits)_k; logits (..., K)."""
    name = "categorical"
    noise = staticmethod(gumbel_noise)
    probabilities = staticmethod(softmax_array)
    probabilities_backward = staticmethod(softmax_backward)

    @staticmethod
    def hard(perturbed):
        """The sample from noisy logits: one_hot(argmax(logits + G)) over the last axis."""
        return one_hot_array(perturbed.argmax(axis=-1), perturbed.shape[-1], dtype=perturbed.dtype)

    @staticmethod
    def log_prob(logits, samples):
        """log p(b) = sum_k b_k log softmax(logits)_k (a Tensor, shape of ``samples`` without the last axis)."""
        return (samples * log_softmax(logits, axis=-1)).sum(axis=-1)

    @staticmethod
    def conditional_perturbed(logits, samples, uniform):
        """z~ = logits + G drawn from G given the sample b = one_hot(argmax(logits + G)), as Tensor ops
        (differentiable).

        The top-down construction (Maddison et al. 2014, "A* Sampling"; Tucker et al. 2017, appendix):
        the maximum of logits + G is Gumbel with location logsumexp(logits) and does not depend on
        which class won; every other entry is a Gumbel of location logits_i truncated below that
        maximum.  With E = -log V exponential (V = ``uniform``):

            z~_k = logsumexp(logits) - log E_k                          (k the sampled class)
            z~_i = -log(exp(-z~_k) + exp(-logits_i) E_i)                (i != k)

        With V held fixed, z~ is a smooth function of the logits: REBAR's conditional
        reparameterization.  logits (S, K) broadcast against samples and uniform ``(n, *S, K)`` -> z~ of
        the samples' shape.
        """
        logits = as_tensor(logits)
        log_exponential = np.log(-np.log(uniform))
        top = logsumexp(logits, axis=-1, keepdims=True) - (log_exponential * samples).sum(axis=-1, keepdims=True)
        others = -logsumexp(stack([-top.broadcast_to(samples.shape), log_exponential - logits]), axis=0)
        return where(samples > 0.5, top, others)


class Normal:
    """z ~ N(mean, sigma^2) elementwise, sigma = exp(log_std); mean and log_std broadcast together.

    Its parameters are the pair (mean, log_std): the log keeps sigma positive whatever a
    network outputs.  No Gumbel-max here: a sample is the smooth z = mean + sigma * eps.
    """
    name = "normal"
    parameter_names = ("mean", "log_std")
    noise = staticmethod(normal_noise)

    @staticmethod
    def log_prob(mean, log_std, samples):
        """log p(z) = -(z - mean)^2 / (2 sigma^2) - log_std - log(2 pi) / 2, elementwise (a Tensor)."""
        return -0.5 * ((samples - mean) / log_std.exp()) ** 2 - log_std - 0.5 * np.log(2 * np.pi)

    @staticmethod
    def score(mean, log_std, samples):
        """(d log p / dmean, d log p / dlog_std) = ((z - mean) / sigma^2, ((z - mean) / sigma)^2 - 1) (NumPy)."""
        sigma = np.exp(log_std)
        standardized = (samples - mean) / sigma
        return standardized / sigma, standardized ** 2 - 1


DISTRIBUTIONS = {"bernoulli": Bernoulli, "categorical": Categorical, "normal": Normal}


def distribution_of(kind, op, discrete=False):
    """The distribution class for ``kind`` ("bernoulli", "categorical" or "normal"); a ValueError
    naming ``op`` otherwise, or for "normal" when ``discrete`` (``op`` enumerates outcomes)."""
    valid = [name for name in DISTRIBUTIONS if not (discrete and name == "normal")]
    if not isinstance(kind, str) or kind not in valid:
        raise ValueError(f"{op}: unknown kind {kind!r}; choose {' or '.join(map(repr, valid))}")
    return DISTRIBUTIONS[kind]


def _parameters(distribution, parameters, op):
    """The distribution's parameters as a tuple of Tensors: (logits,) or (mean, log_std)."""
    if len(distribution.parameter_names) == 1:
        return (as_tensor(parameters),)
    if not isinstance(parameters, (tuple, list)) or len(parameters) != len(distribution.parameter_names):
        raise ValueError(f"{op}: a {distribution.name} takes the pair ({', '.join(distribution.parameter_names)}), "
                         f"got {type(parameters).__name__}")
    return tuple(as_tensor(parameter) for parameter in parameters)


def log_prob(logits, samples, kind):
    """log p(samples | logits) per variable, as a Tensor differentiable in the logits.

    kind "bernoulli": shape of ``samples``; kind "categorical": ``samples`` without its
    last (one-hot) axis; kind "normal": ``logits`` is the pair (mean, log_std), the result
    has the shape of ``samples``.  Sum over the variables for the log-probability of a joint sample.
    """
    distribution = distribution_of(kind, "log_prob")
    return distribution.log_prob(*_parameters(distribution, logits, "log_prob"), as_tensor(samples))


# ------------------------------------------------------------------ the hard sample and its rules
# Rules run on NumPy arrays: saved = (logits, noise, sample); g has the sample's shape.


def _straight_through(ctx, g):
    """Straight-through (Bengio et al. 2013): backward as if the forward had returned the
    probabilities p = P(logits / tau) instead of the sample:  dL/dlogits = J_P(logits / tau)^T g / tau."""
    logits, _, _ = ctx.saved_tensors
    distribution = ctx.distribution
    return distribution.probabilities_backward(distribution.probabilities(logits / ctx.tau), g) / ctx.tau


def _straight_through_gumbel(ctx, g):
    """Straight-through Gumbel-softmax (Jang et al. 2017): backward as if the forward had returned
    the relaxed sample s = P((logits + G) / tau) made from the same noise:  dL/dlogits = J_P^T g / tau."""
    logits, noise, _ = ctx.saved_tensors
    distribution = ctx.distribution
    return distribution.probabilities_backward(distribution.probabilities((logits + noise) / ctx.tau), g) / ctx.tau


def _reinmax(ctx, g):
    """ReinMax (Liu et al. 2023, "Bridging Discrete and Backpropagation: Straight-Through and
    Beyond", NeurIPS 2023, arXiv:2304.08612): Heun's second-order method where straight-through
    is Euler's first-order one.

        p0 = P(logits),   p1 = (b + P(logits / tau)) / 2,
        dL/dlogits = 2 J(p1)^T g - J(p0)^T g / 2,

    where J(p)^T g is the softmax (sigmoid) backward evaluated at probabilities p:
    p * (g - sum(g * p)) for a categorical, g * p * (1 - p) for a Bernoulli.  The authors
    recommend tau >= 1.
    """
    logits, _, sample = ctx.saved_tensors
    distribution = ctx.distribution
    p0 = distribution.probabilities(logits)
    p1 = (sample + distribution.probabilities(logits / ctx.tau)) / 2
    return 2 * distribution.probabilities_backward(p1, g) - distribution.probabilities_backward(p0, g) / 2


def _gumbel_rao(ctx, g):
    """Gumbel-Rao (Paulus, Maddison & Krause 2021, "Rao-Blackwellizing the Straight-Through
    Gumbel-Softmax Gradient Estimator", ICLR 2021): the straight-through Gumbel backward,
    averaged over K noises drawn from their distribution given the sample b:

        dL/dlogits = (1 / K) sum_k J_P((logits + G_k) / tau)^T g / tau,   G_k ~ p(G | b).

    Its mean is straight-through Gumbel's (the same estimator, conditioned on b); its variance
    is lower, and falls with K.  Only the backward draws these K noises (``ctx.rng``).
    """
    logits, _, sample = ctx.saved_tensors
    distribution = ctx.distribution
    draws = np.broadcast_to(sample, (ctx.K,) + sample.shape)
    noise = distribution.conditional_noise(ctx.rng, np.broadcast_to(logits, sample.shape), draws)
    soft = distribution.probabilities((logits + noise) / ctx.tau)
    return distribution.probabilities_backward(soft, g).mean(axis=0) / ctx.tau


class Sample(Function):
    """b = the hard sample drawn from ``logits`` with ``noise`` (Gumbel-max; see the module docstring).

    logits (S) broadcast against noise ``(n, *S)`` or (S) -> b of the noise's shape.
    Rules: "zero" (the true gradient with the noise held fixed; the default),
    "straight_through", "straight_through_gumbel", "reinmax", "gumbel_rao" (which draws its
    ``K`` conditional noises from ``rng`` in the backward pass).
    """
    name = "sample"
    rules = {"zero": zero_gradient, "straight_through": _straight_through,
             "straight_through_gumbel": _straight_through_gumbel, "reinmax": _reinmax, "gumbel_rao": _gumbel_rao}
    backward = staticmethod(zero_gradient)

    @staticmethod
    def forward(ctx, logits, noise, distribution, tau=1.0, rng=None, K=1):
        sample = distribution.hard(logits + noise)
        ctx.save_for_backward(logits, noise, sample)
        ctx.distribution, ctx.tau, ctx.rng, ctx.K = distribution, tau, rng, K
        return sample


class RelaxedSample(Function):
    """s = P((logits + noise) / tau): the Gumbel-softmax / Concrete relaxation (the "gumbel" estimator).

    Jang et al. 2017, "Categorical Reparameterization with Gumbel-Softmax"; Maddison et al.
    2017, "The Concrete Distribution" (for a Bernoulli: the binary Concrete,
    sigmoid((logits + L) / tau) with logistic noise L).  A smooth function of the logits, so
    its backward is its exact derivative:  dL/dlogits = J_P(s)^T g / tau.  Biased for the
    hard sample's expectation; the bias shrinks as tau -> 0, while the variance grows.
    """
    name = "relaxed_sample"

    @staticmethod
    def forward(ctx, logits, noise, distribution, tau=1.0):
        soft = distribution.probabilities((logits + noise) / tau)
        ctx.save_for_backward(soft)
        ctx.distribution, ctx.tau = distribution, tau
        return soft

    @staticmethod
    def backward(ctx, g):
        soft, = ctx.saved_tensors
        return ctx.distribution.probabilities_backward(soft, g) / ctx.tau


def _sample_shape(op, shape, n_samples):
    """``shape``, or (n_samples, *shape): the shape of the noise to draw."""
    if n_samples is None:
        return shape
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"{op}: n_samples must be a positive integer or None, got {n_samples!r}")
    return (int(n_samples),) + shape


def _sample(distribution, op, logits, estimator, rng, tau, n_samples, K):
    logits = as_tensor(logits)
    if estimator not in ESTIMATORS:
        raise ValueError(f"{op}: unknown estimator {estimator!r}; choose one of {', '.join(map(repr, ESTIMATORS))}")
    if estimator in BERNOULLI_ONLY and distribution is not Bernoulli:
        raise ValueError(f"{op}: {estimator!r} is an estimator for Bernoulli variables; use sample_bernoulli")
    if K is not None and (estimator != "gumbel_rao" or not isinstance(K, (int, np.integer)) or K < 1):
        raise ValueError(f"{op}: K, the number of conditional noises, is a positive integer for 'gumbel_rao' only; "
                         f"got K={K!r} with estimator {estimator!r}")
    evaluations = COST_ESTIMATORS.get(estimator, 1)
    if evaluations > 1:
        if not isinstance(n_samples, (int, np.integer)) or n_samples < evaluations or n_samples % evaluations:
            raise ValueError(f"{op}: {estimator!r} draws groups of {evaluations} samples (n_samples counts cost "
                             f"evaluations), so n_samples must be a multiple of {evaluations}, got {n_samples!r}")
        n_samples //= evaluations
    rng = generator(rng, op)
    if not tau > 0:
        raise ValueError(f"{op}: the temperature tau must be positive, got {tau}")
    if distribution is Categorical and logits.ndim == 0:
        raise ValueError(f"{op}: logits must have a class axis (..., K), got shape {logits.shape}")
    if not np.isfinite(logits.data).all():
        raise ValueError(f"{op}: logits of shape {logits.shape} contain inf or NaN")
    noise = distribution.noise(rng, _sample_shape(op, logits.shape, n_samples)).astype(logits.dtype)
    if estimator == "gumbel":
        return RelaxedSample.apply(logits, noise=noise, distribution=distribution, tau=tau)
    if estimator == "reinforce":   # the sample carries no gradient: reinforce_loss does
        return Sample.apply(logits.detach(), noise=noise, distribution=distribution)
    if estimator in ("arm", "disarm"):   # U -> 1 - U turns L into -L: the antithetic half
        return Sample.apply(logits.detach(), noise=np.concatenate([noise, -noise]), distribution=distribution)
    if estimator == "rebar":   # the relaxation of z = logits + noise, and of z~ drawn given the hard sample
        hard = Sample.apply(logits.detach(), noise=noise, distribution=distribution)
        relaxed = RelaxedSample.apply(logits, noise=noise, distribution=distribution, tau=tau)
        uniform = _open_uniform(rng, hard.shape).astype(logits.dtype)
        conditional = RelaxedSample.apply(distribution.conditional_perturbed(logits, hard.data, uniform),
                                          noise=np.zeros((), logits.dtype), distribution=distribution, tau=tau)
        return concatenate([hard, relaxed, conditional])
    return Sample.apply(logits, noise=noise, distribution=distribution, tau=tau, backward=estimator, rng=rng,
                        K=10 if K is None else int(K))


def sample_bernoulli(logits, estimator, rng=None, tau=1.0, n_samples=None, K=None):
    """Draw b in {0, 1} with P(b = 1) = sigmoid(logits), differentiable by ``estimator``.

    logits: any shape S -> a Tensor of shape S, or ``(n_samples, *S)``.  ``estimator`` is one
    of ``ESTIMATORS`` (see the module docstring); ``rng`` a ``numpy.random.Generator``
    (None: the library-wide one, see :func:`tinygrad_ste.manual_seed`);
    ``tau`` > 0 the temperature of "straight_through", "gumbel", "straight_through_gumbel",
    "reinmax", "gumbel_rao" and "rebar" (its relaxation's); ``K`` the number of conditional
    noises of "gumbel_rao" (default 10).  With "gumbel" the result is the soft sample in (0, 1).

    The estimators that learn from costs draw groups, and ``n_samples`` (required) counts
    cost evaluations; none of their hard samples carries a gradient:

    * "arm", "disarm": n_samples = 2m; rows i and m + i are an antithetic pair, b = 1[logits + L > 0]
      and b~ = 1[logits - L > 0] from one logistic L; the gradient comes from :func:`antithetic_loss`.
    * "rebar": n_samples = 3m; rows [0, m) the hard samples b = 1[z > 0], z = logits + L; rows [m, 2m)
      the relaxed s = sigmoid(z / tau) and rows [2m, 3m) the conditional relaxed s~ = sigmoid(z~ / tau),
      z~ ~ p(z | b) (:meth:`Bernoulli.conditional_perturbed`), both differentiable in the logits;
      the gradient comes from :func:`rebar_loss` with ``kind="bernoulli"``.
    """
    return _sample(Bernoulli, "sample_bernoulli", logits, estimator, rng, tau, n_samples, K)


def sample_categorical(logits, estimator, rng=None, tau=1.0, n_samples=None, K=None):
    """Draw one-hot b over the last axis with P(b_k = 1) = softmax(logits)_k, differentiable by ``estimator``.

    logits: (..., K) -> a Tensor of shape (..., K), or (n_samples, ..., K).  ``estimator``,
    ``rng``, ``tau`` and ``K`` as in :func:`sample_bernoulli` ("arm" and "disarm" are for
    Bernoulli variables only).  With "gumbel" the result is the soft sample, a probability
    vector over the last axis.

    "rebar": n_samples = 3m; rows [0, m) the one-hot samples b = one_hot(argmax z), z = logits + G;
    rows [m, 2m) the relaxed s = softmax(z / tau); rows [2m, 3m) the conditional relaxed
    s~ = softmax(z~ / tau), z~ ~ p(z | b) (:meth:`Categorical.conditional_perturbed`); the
    gradient comes from :func:`rebar_loss` with ``kind="categorical"``.
    """
    return _sample(Categorical, "sample_categorical", logits, estimator, rng, tau, n_samples, K)


# ------------------------------------------------------------------ the normal sample: reparameterization


class NormalSample(Function):
    """z = mean + exp(log_std) * noise: a draw from N(mean, sigma^2) as a smooth function of its parameters.

    The reparameterization trick (Kingma & Welling 2014, "Auto-Encoding Variational Bayes";
    Rezende et al. 2014): draw eps ~ N(0, 1) first and hold it fixed; then z moves smoothly
    with the parameters, and its exact derivative is

        dL/dmean = g,    dL/dlog_std = g * sigma * eps = g * (z - mean).

    Averaged over eps this is exactly d/d(mean, log_std) E_z[L]: the pathwise estimator.
    mean, log_std (S) broadcast against noise ``(n, *S)`` or (S) -> z of the noise's shape.
    """
    name = "normal_sample"

    @staticmethod
    def forward(ctx, mean, log_std, noise):
        scaled_noise = np.exp(log_std) * noise
        ctx.save_for_backward(scaled_noise)
        return mean + scaled_noise

    @staticmethod
    def backward(ctx, g):
        scaled_noise, = ctx.saved_tensors
        return g, g * scaled_noise


def sample_normal(mean, log_std, rng=None, estimator="reparameterization", n_samples=None):
    """Draw z ~ N(mean, exp(log_std)^2) elementwise, differentiable by ``estimator``.

    mean, log_std: shapes that broadcast to S -> a Tensor of shape S, or ``(n_samples, *S)``.
    ``estimator``: "reparameterization" (z = mean + sigma * eps with the gradient of
    :class:`NormalSample`) or "reinforce" (the same z, without a graph: the gradient comes
    from ``reinforce_loss((mean, log_std), z, cost, kind="normal", baseline=...)``).
    ``rng``: a ``numpy.random.Generator``, or None for the library-wide one.
    """
    op = "sample_normal"
    if estimator not in NORMAL_ESTIMATORS:
        raise ValueError(f"{op}: unknown estimator {estimator!r}; choose one of "
                         f"{', '.join(map(repr, NORMAL_ESTIMATORS))}")
    rng = generator(rng, op)
    mean, log_std = as_tensor(mean), as_tensor(log_std)
    try:
        shape = np.broadcast_shapes(mean.shape, log_std.shape)
    except ValueError:
        raise ValueError(f"{op}: mean of shape {mean.shape} and log_std of shape {log_std.shape} "
                         f"do not broadcast") from None
    for name, parameter in (("mean", mean), ("log_std", log_std)):
        if not np.isfinite(parameter.data).all():
            raise ValueError(f"{op}: {name} of shape {parameter.shape} contains inf or NaN")
    noise = normal_noise(rng, _sample_shape(op, shape, n_samples)).astype(np.result_type(mean.dtype, log_std.dtype))
    if estimator == "reinforce":   # the sample carries no gradient: reinforce_loss does
        return NormalSample.apply(mean.detach(), log_std.detach(), noise=noise)
    return NormalSample.apply(mean, log_std, noise=noise)


# ------------------------------------------------------------------ REINFORCE and its baselines


class EMABaseline:
    """b = an exponential moving average of the mean cost of earlier batches.

    Keep one object across training steps and pass it as ``baseline=``.  Each call returns
    the average from *before* this batch (0 before the first) and only then folds the
    batch in: b_t = decay * b_{t-1} + (1 - decay) * mean(cost_t).  So a sample's own cost
    never enters its own baseline, and REINFORCE stays unbiased.
    """

    def __init__(self, decay=0.9):
        if not 0 <= decay < 1:
            raise ValueError(f"EMABaseline: decay must lie in [0, 1), got {decay}")
        self.decay, self.value = decay, None

    def __call__(self, cost):
        baseline = np.full_like(cost, 0.0 if self.value is None else self.value)
        batch_mean = float(np.mean(cost))
        self.value = batch_mean if self.value is None else self.decay * self.value + (1 - self.decay) * batch_mean
        return baseline

    def __repr__(self):
        return f"EMABaseline(decay={self.decay}, value={self.value})"


def leave_one_out_baseline(cost):
    """b_i = the mean cost of the *other* samples, (sum_j c_j - c_i) / (n - 1), along axis 0.

    Independent of sample i, so unbiased; needs n >= 2 samples (Kool et al. 2019, "Buy 4
    REINFORCE Samples, Get a Baseline for Free!").
    """
    n = cost.shape[0]
    if n < 2:
        raise ValueError(f"leave_one_out_baseline: needs at least 2 samples along axis 0, "
                         f"got cost of shape {cost.shape}")
    return (cost.sum(axis=0, keepdims=True) - cost) / (n - 1)


def _no_baseline(cost):
    return np.zeros_like(cost)


def make_baseline(baseline):
    """The baseline function for ``baseline``: None or "none" (b = 0), "ema" (a fresh
    :class:`EMABaseline`, to keep across training steps), "leave_one_out", or any callable
    ``cost -> b`` (such as an EMABaseline you keep across steps), returned unchanged."""
    if baseline is None or baseline == "none":
        return _no_baseline
    if baseline == "ema":
        return EMABaseline()
    if baseline == "leave_one_out":
        return leave_one_out_baseline
    if callable(baseline):
        return baseline
    raise ValueError(f"make_baseline: unknown baseline {baseline!r}; choose one of "
                     f"{', '.join(map(repr, BASELINES))}, None or a callable cost -> baseline")


class ScoreFunction(Function):
    """REINFORCE (Williams 1992), the score-function estimator, as a loss term.

    d/dlogits E_b[c(b)] = E_b[(c(b) - baseline) d log p(b)/dlogits], and for both discrete
    distributions d log p(b)/dlogits = b - p with p = P(logits).  So, over the samples i:

        forward:  0  (adding it leaves the value of the loss unchanged)
        backward: dL/dlogits = g * mean_i a_i * d_i,   a_i = c_i - b_i,   d_i = x_i - p

    The directions d_i are given, one array per parameter: the score (``distribution.score``;
    for a normal the pair ((x - mean) / sigma^2, ((x - mean) / sigma)^2 - 1)), or another
    weight with the same role (ARM and DisARM's, see :func:`antithetic_loss`).
    directions: (n, ...) broadcast against the parameters; advantage a: (n, ...), a prefix of
    the directions' shape (each entry is the cost of the sample that fills the remaining axes).
    """
    name = "reinforce"

    @staticmethod
    def forward(ctx, *parameters, directions, advantage):
        ctx.save_for_backward(advantage, *directions)
        return np.zeros((), dtype=parameters[0].dtype)

    @staticmethod
    def backward(ctx, g):
        advantage, *directions = ctx.saved_tensors
        per_sample = advantage.reshape(advantage.shape + (1,) * (directions[0].ndim - advantage.ndim))
        return tuple(g * per_sample * direction / advantage.size for direction in directions)


def _samples_and_costs(op, distribution, parameters, samples, cost, cost_name="cost"):
    """``samples`` and ``cost`` as arrays of the parameters' dtype, checked: hard samples (finite
    for a normal) to which the parameters broadcast, one cost per sample (a prefix of the samples' shape)."""
    dtype = parameters[0].dtype
    samples = as_array(samples, dtype=dtype)
    cost = as_array(cost, dtype=dtype)
    event_axes = 1 if distribution is Categorical else 0
    if cost.ndim < 1 or cost.ndim > samples.ndim - event_axes or cost.shape != samples.shape[:cost.ndim]:
        raise ValueError(f"{op}: {cost_name} of shape {cost.shape} must be one {cost_name} per sample, a leading "
                         f"part of the samples' shape {samples.shape} (e.g. {samples.shape[:1]})")
    if distribution is Normal:
        if not np.isfinite(samples).all():
            raise ValueError(f"{op}: samples of shape {samples.shape} contain inf or NaN")
    elif not (np.isin(samples, (0, 1)).all() and (distribution is Bernoulli or (samples.sum(axis=-1) == 1).all())):
        # a soft "gumbel" sample has no log-probability under p: its score would be meaningless
        raise ValueError(f"{op}: samples of shape {samples.shape} must be hard {distribution.name} samples "
                         f"(0/1{', one-hot over the last axis' if distribution is Categorical else ''})")
    for name, parameter in zip(distribution.parameter_names, parameters):
        try:
            broadcast = np.broadcast_shapes(parameter.shape, samples.shape)
        except ValueError:
            broadcast = None
        if broadcast != samples.shape:
            raise ValueError(f"{op}: {name} of shape {parameter.shape} does not broadcast to the samples' "
                             f"shape {samples.shape}")
    return samples, cost


def _has_sample_axis(parameters, samples):
    """Whether axis 0 of the samples is a sample axis: the parameters do not vary along it."""
    return all(samples.ndim > parameter.ndim or parameter.shape[0] == 1 for parameter in parameters)


def reinforce_loss(logits, samples, cost, kind, baseline=None):
    """A loss term whose gradient w.r.t. ``logits`` is the REINFORCE estimate; its value is 0.

    ``samples``: drawn from ``logits`` (e.g. ``sample_categorical(logits, "reinforce", rng,
    n_samples=n)``), shape (n, ...).  ``cost``: Tensor or array of shape (n,), or a prefix
    of the samples' shape such as (n, batch), one cost per sample (read as a constant).
    ``kind``: "bernoulli", "categorical" or "normal", the distribution the samples came
    from; for "normal", ``logits`` is the pair (mean, log_std) given to :func:`sample_normal`.
    ``baseline``: None or "none", "leave_one_out", or a callable ``cost -> b`` such as an
    :class:`EMABaseline` (see :func:`make_baseline`).

    * "leave_one_out" compares each sample with the *other samples of the same logits*,
      along axis 0, so axis 0 must be a sample axis: the logits must not vary along it
      (draw with ``n_samples=n``, which gives samples of shape ``(n, *logits.shape)``).
      Otherwise it is a ValueError, rather than a silent average over the items of a batch.
    * The string "ema" is refused: a baseline made inside one call would start from zero
      at every call (no baseline at all).  Make ``EMABaseline()`` once and pass that same
      object at every training step.

    gradient = mean over cost entries of (cost - baseline) * d log p(sample) / dlogits.
    """
    distribution = distribution_of(kind, "reinforce_loss")
    parameters = _parameters(distribution, logits, "reinforce_loss")
    samples, cost = _samples_and_costs("reinforce_loss", distribution, parameters, samples, cost)
    if isinstance(baseline, str) and baseline == "ema":
        raise ValueError("reinforce_loss: baseline='ema' would start a new moving average at every call, which "
                         "is no baseline at all; make one EMABaseline() before training and pass that same "
                         "object at every step: baseline=ema, with ema = EMABaseline()")
    if isinstance(baseline, str) and baseline == "leave_one_out" and not _has_sample_axis(parameters, samples):
        shapes = " and ".join(f"{name} of shape {parameter.shape}"
                              for name, parameter in zip(distribution.parameter_names, parameters))
        raise ValueError(f"reinforce_loss: baseline='leave_one_out' compares each sample with the other samples "
                         f"along axis 0, but the samples of shape {samples.shape} have no sample axis there: the "
                         f"{shapes} vary along it.  Draw several samples per logit with "
                         f"n_samples=n (samples of shape (n, *logits.shape)) and give one cost per sample, (n, ...)")
    advantage = cost - make_baseline(baseline)(cost)
    scores = distribution.score(*(parameter.data for parameter in parameters), samples)
    return ScoreFunction.apply(*parameters, directions=scores, advantage=advantage)


# ------------------------------------------------------------------ ARM and DisARM: antithetic pairs


def _arm_uniform(rng, logits, first, second):
    """U ~ p(U | b, b~): the uniform behind an antithetic pair, drawn given the pair (NumPy).

    b = 1[U > 1 - p] and b~ = 1[U < p], p = sigmoid(logits), so the pair pins U to an interval:
    (1 - p, p) or (p, 1 - p) when b = b~ (whichever is not empty), (max(p, 1 - p), 1) when
    b = 1, b~ = 0, and (0, min(p, 1 - p)) when b = 0, b~ = 1.  U is uniform on it.
    """
    p = sigmoid_array(logits)
    low, high = np.minimum(p, 1 - p), np.maximum(p, 1 - p)
    start = np.where(first == second, low, np.where(first > 0.5, high, 0.0))
    end = np.where(first == second, high, np.where(first > 0.5, 1.0, low))
    return start + (end - start) * rng.random(first.shape)


def antithetic_loss(logits, samples, cost, estimator="disarm", rng=None):
    """A loss term whose gradient w.r.t. ``logits`` is the ARM or DisARM estimate; its value is 0.

    ``samples``: antithetic pairs of Bernoulli samples from ``sample_bernoulli(logits, "arm"
    or "disarm", rng, n_samples=2m)``, shape (2m, ...): rows i and m + i are the pair
    b = 1[logits + L > 0], b~ = 1[logits - L > 0] made from one logistic L = logit(U), each
    an exact sample.  ``cost``: one cost per sample, (2m,) or a prefix of the samples' shape.
    Over the pairs (and the cost's other entries), the gradient is the mean of

    * "arm" (Yin & Zhou 2019, "ARM: Augment-REINFORCE-Merge Gradient for Stochastic Binary
      Networks", ICLR 2019):  (c(b) - c(b~)) (U - 1/2),  elementwise in U;
    * "disarm" (Dong, Mnih & Tucker 2020, "DisARM: An Antithetic Gradient Estimator for
      Binary Latent Variables", NeurIPS 2020): ARM with U integrated out given the pair,
      E[U - 1/2 | b, b~] = (b - b~) sigmoid(|logits|) / 2, so
      (c(b) - c(b~)) (b - b~) sigmoid(|logits|) / 2:  zero for every variable on which
      the two samples agree.

    Both are unbiased.  The pair shares one U, so c(b) - c(b~) is small when the cost barely
    depends on a variable, where REINFORCE's (c - baseline) is not.  ARM's U is drawn here
    from ``rng`` given the pair (:func:`_arm_uniform`): the same joint distribution of
    (U, b, b~) as drawing U first, so the same estimator.
    """
    op = "antithetic_loss"
    if estimator not in ("arm", "disarm"):
        raise ValueError(f"{op}: estimator must be 'arm' or 'disarm', got {estimator!r}")
    logits = as_tensor(logits)
    samples, cost = _samples_and_costs(op, Bernoulli, (logits,), samples, cost)
    if samples.shape[0] % 2 or not _has_sample_axis((logits,), samples):
        raise ValueError(f"{op}: samples of shape {samples.shape} must be antithetic pairs along axis 0 "
                         f"(an even number of rows, logits of shape {logits.shape} constant along it): draw them "
                         f"with sample_bernoulli(logits, {estimator!r}, rng, n_samples=2m)")
    half = samples.shape[0] // 2
    first, second = samples[:half], samples[half:]
    theta = np.broadcast_to(logits.data, first.shape)
    if estimator == "disarm":
        weight = (first - second) * sigmoid_array(np.abs(theta)) / 2
    else:
        weight = _arm_uniform(generator(rng, op), theta, first, second) - 0.5
    return ScoreFunction.apply(logits, directions=(weight,), advantage=cost[:half] - cost[half:])


# ------------------------------------------------------------------ REBAR: a relaxation as control variate


def rebar_loss(logits, samples, cost, kind, eta=1.0):
    """A loss term whose gradient w.r.t. ``logits`` is the REBAR estimate; its value is 0.

    Tucker, Mnih, Maddison, Lawson & Sohl-Dickstein 2017, "REBAR: Low-variance, unbiased
    gradient estimates for discrete latent variable models", NeurIPS 2017.  With z = logits + noise
    (logistic L for a Bernoulli, Gumbel G for a categorical), the hard sample b = H(z) (1[z > 0], or
    one_hot(argmax z)), z~ ~ p(z | b), and the relaxation s = P(z / tau), s~ = P(z~ / tau) (the sigmoid,
    or the softmax over the last axis):

        g = (c(b) - eta c(s~)) d log p(b)/dlogits  +  eta d c(s)/dlogits  -  eta d c(s~)/dlogits

    REINFORCE with the control variate eta c(s~), whose expectation is added back through the two
    reparameterized terms (E[c(s)] = E_b E[c(s~) | b]: the same mean).  Unbiased for any eta and
    temperature; the variance is lowest near eta = 1 when the relaxation is close to c(b).
    (The paper tunes eta and tau online by the gradient of the variance; here both are arguments,
    fixed: the sampler's ``tau`` and ``eta``.)

    ``samples``: ``sample_bernoulli(logits, "rebar", rng, tau=tau, n_samples=3m)`` (``kind="bernoulli"``)
    or ``sample_categorical(...)`` (``kind="categorical"``), shape (3m, ...): the hard samples, the
    relaxed ones, the conditional relaxed ones.  ``cost``: a Tensor (3m,) or a prefix of the samples'
    shape (without the class axis), computed with Tensor ops from ``samples``, so that the relaxed
    rows differentiate.  Its pathwise part reaches every parameter the cost depends on (a
    decoder's too); its mean there is zero as well, so it only adds noise to them.
    """
    op = "rebar_loss"
    distribution = distribution_of(kind, op, discrete=True)
    logits = as_tensor(logits)
    if not isinstance(cost, Tensor) or (logits.requires_grad and not cost.requires_grad):
        raise ValueError(f"{op}: cost must be a Tensor computed with Tensor ops from the samples, so that the "
                         f"relaxed samples differentiate; got a {type(cost).__name__} without a graph")
    values = as_array(samples)
    if values.shape[0] % 3 or not _has_sample_axis((logits,), values):
        raise ValueError(f"{op}: samples of shape {values.shape} must be REBAR's three groups along axis 0 (hard, "
                         f"relaxed, conditional relaxed; logits of shape {logits.shape} constant along it): draw "
                         f"them with sample_{kind}(logits, 'rebar', rng, n_samples=3m)")
    third = values.shape[0] // 3
    hard, hard_cost = _samples_and_costs(op, distribution, (logits,), values[:third], cost.data[:third])
    control = cost[2 * third:]
    advantage = hard_cost - eta * control.data
    score = ScoreFunction.apply(logits, directions=distribution.score(logits.data, hard), advantage=advantage)
    pathwise = eta * (cost[third:2 * third] - control).mean()
    return score + pathwise - pathwise.detach()


# ------------------------------------------------------------------ VIMCO: the multi-sample bound


def vimco_loss(logits, samples, log_weights, kind):
    """-L_K, the negative K-sample bound, with VIMCO's gradient w.r.t. ``logits`` and whatever
    ``log_weights`` depends on.

    Mnih & Rezende 2016, "Variational Inference for Monte Carlo Objectives", ICML 2016.  With
    K samples h_k ~ q(h | logits) and log weights l_k = log p(x, h_k) - log q(h_k | x):

        L_K = log (1/K) sum_k exp(l_k)                      (<= log p(x); IWAE's bound)
        dL_K = sum_k (L_K - L_{-k}) d log q(h_k)  +  sum_k w~_k d l_k,   w~ = softmax(l)
        L_{-k} = log (1/K) (sum_{j != k} exp(l_j) + exp(mean_{j != k} l_j))

    The second sum flows through ``log_weights``' graph; the first is a score-function term whose
    learning signal for sample k is the bound minus the bound with l_k replaced by the mean of
    the others: a leave-one-out baseline per sample, so the term stays unbiased.

    ``samples``: (K, ...) hard samples drawn with ``estimator="reinforce"`` and ``n_samples=K``
    (K >= 2); ``log_weights``: a Tensor (K,) or (K, batch...), one per sample, differentiable;
    ``kind``: "bernoulli" or "categorical".  The loss is the mean over the batch entries.
    """
    op = "vimco_loss"
    distribution = distribution_of(kind, op, discrete=True)
    logits = as_tensor(logits)
    if not isinstance(log_weights, Tensor):
        raise ValueError(f"{op}: log_weights must be a Tensor (its graph carries the second term of the gradient), "
                         f"got {type(log_weights).__name__}")
    samples, weights = _samples_and_costs(op, distribution, (logits,), samples, log_weights, "log weight")
    count = samples.shape[0]
    if count < 2 or not _has_sample_axis((logits,), samples):
        raise ValueError(f"{op}: needs K >= 2 samples of the same logits along axis 0 (n_samples=K); got samples of "
                         f"shape {samples.shape} for logits of shape {logits.shape}")
    bound = logsumexp(log_weights, axis=0) - np.log(count)
    others_mean = (weights.sum(axis=0) - weights) / (count - 1)            # (K, ...)
    replaced = np.where(np.eye(count, dtype=bool).reshape((count, count) + (1,) * (weights.ndim - 1)),
                        others_mean[:, None], weights[None, :])         # row k: l with l_k -> others' mean
    leave_one_out = logsumexp(Tensor(replaced), axis=1).data - np.log(count)
    signal = bound.data - leave_one_out
    score = ScoreFunction.apply(logits, directions=distribution.score(logits.data, samples), advantage=-signal)
    return -bound.mean() + count * score
