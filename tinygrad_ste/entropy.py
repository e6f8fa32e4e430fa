"""The entropy bottleneck of learned compression (Ballé et al. 2017, 2018; CompressAI).

A learned compressor maps an image to a latent y (N, C), rounds it to integers and
entropy-codes the integers.  The number of bits an integer k costs is -log2 P(k), with P
a *learned* discrete distribution, one per channel c:

    P_c(k) = F_c(k + 1/2) - F_c(k - 1/2),          F_c a learned monotone CDF,

so P_c(k) > 0, and it sums to 1 over the integers.  The loss is rate + lambda * distortion,
with rate = -sum log2 P(y_hat) (:func:`rate_bits`).  Two CDFs are offered:

* ``cdf="logistic"``: F(x) = sigmoid((x - loc) / scale), a learned location and scale per channel;
* ``cdf="monotone"`` (the default, as in CompressAI): F(x) = sigmoid(f(x)), f a small
  network per channel that is increasing by construction (Ballé et al. 2018, appendix 6.1):
  its matrices pass through softplus (> 0) and each hidden layer adds
  tanh(a) * tanh(h) with |tanh(a)| < 1, whose slope 1 + tanh(a) (1 - tanh(h)^2) stays > 0.

Rounding has a zero gradient, so *training* replaces it by a proxy (``proxy=``):

========= ==================================== ==================================== ===========================
proxy     y_hat given to the decoder           rate measured on                     source
========= ==================================== ==================================== ===========================
"noise"   y + u,  u ~ U(-1/2, 1/2)             y + u                                Ballé et al. 2017
"round"   round(y), straight-through backward  round(y)                             Theis et al. 2017
"mixed"   round(y), straight-through backward  y + u                                Minnen & Singh 2020
eval mode round(y)                             round(y)                             (what is really coded)
========= ==================================== ==================================== ===========================

Why the noise works for the rate: read at a real v, P(v) = F(v + 1/2) - F(v - 1/2) is the
density of z + u for z ~ F, and it equals P(k) at every integer k; so -log2 P(y + u) is a fair
price for y + u, and its mean over the noise is a smooth function of y.  Why noise is not the
decoder's input at test time: the decoder then sees only integers -- a train/test mismatch.

``compress(y)`` writes round(y) with a range coder (the ``constriction`` package), in
about -sum log2 P(round(y)) bits; ``decompress(data, shape)`` gives round(y) back exactly.

    >>> import numpy as np
    >>> eb = EntropyBottleneck(2, proxy="noise", rng=np.random.default_rng(0))
    >>> y = Tensor(np.random.default_rng(1).normal(0, 3, (5, 2)), requires_grad=True)
    >>> y_hat, likelihoods = eb(y)        # training mode: y + noise, P(y + noise)
    >>> rate_bits(likelihoods).backward()  # the rate trains y and the CDF's parameters
    >>> y.grad.shape, likelihoods.shape
    ((5, 2), (5, 2))
"""
import math

import numpy as np

from . import functional as F
from .arrays import sigmoid_array
from .discrete import round
from .function import Function, no_grad
from .module import Module
from .optim import Adam
from .random import generator
from .tensor import Tensor, as_tensor

__all__ = ["EntropyBottleneck", "LogisticCDF", "MonotoneCDF", "IntervalProbability", "interval_probability",
           "rate_bits", "fit_entropy_model", "PROXIES", "CDFS"]

PROXIES = ("noise", "round", "mixed")


class IntervalProbability(Function):
    """P = max(sigmoid(b) - sigmoid(a), floor): the mass a CDF sigmoid(logit) puts on an
    interval whose ends have logits a <= b (any equal shapes).

    Forward.  As a difference, P loses its digits in the upper tail: for a = 40, b = 41 both
    sigmoids are 1 - 4e-18, which is 1.0 in float64, so P = 0 instead of 2.7e-18.  CompressAI
    avoids it with a sign trick (flip both logits when a + b > 0, so the difference is taken
    in the lower tail, where the sigmoids are small and exact).  The same algebra in one line:

        sigmoid(b) - sigmoid(a) = sigmoid(b) * sigmoid(-a) * (1 - e^(a - b))

    (both sides equal (e^b - e^a) / ((1 + e^a)(1 + e^b))).  It is a product of positive
    factors, each computed to full relative precision (1 - e^(a-b) by ``np.expm1`` even when
    a is close to b): no cancellation in either tail, no branch.

    Backward: dP/db = sigmoid(b) sigmoid(-b),  dP/da = -sigmoid(a) sigmoid(-a).
    Where P was floored, the true gradient is 0, and a probability stuck at the floor (a
    value the model calls impossible) could never be pulled back up by the rate.  So there
    the gradient passes when it asks for a *larger* P (g < 0 for a loss that falls as P
    rises, as -log P does) and is 0 otherwise: the rule of CompressAI's ``LowerBound``.
    """
    name = "interval_probability"

    @staticmethod
    def forward(ctx, a, b, floor):
        if a.shape != b.shape:
            raise ValueError(f"the lower logits {a.shape} and the upper logits {b.shape} must have one shape")
        if not 0 < floor < 1:
            raise ValueError(f"floor must lie in (0, 1), got {floor}")
        raw = sigmoid_array(b) * sigmoid_array(-a) * -np.expm1(a - b)
        ctx.save_for_backward(a, b)
        ctx.floored = raw < floor
        return np.maximum(raw, floor)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        g = np.where(ctx.floored & (g > 0), 0, g)
        return (-g * sigmoid_array(a) * sigmoid_array(-a) if ctx.needs_input_grad[0] else None,
                g * sigmoid_array(b) * sigmoid_array(-b) if ctx.needs_input_grad[1] else None)


def interval_probability(lower_logits, upper_logits, floor=1e-9):
    """sigmoid(upper) - sigmoid(lower), computed without cancellation, floored at ``floor``
    (see :class:`IntervalProbability`)."""
    return IntervalProbability.apply(lower_logits, upper_logits, floor=floor)


def rate_bits(likelihoods):
    """The rate in bits of symbols with these likelihoods: -sum log2 P = -sum ln P / ln 2 (a scalar Tensor)."""
    return -as_tensor(likelihoods).log().sum() / math.log(2)


class LogisticCDF(Module):
    """F_c(x) = sigmoid((x - loc_c) / scale_c): one logistic per channel, learned ``loc`` (C,)
    and ``log_scale`` (C,) (scale = e^log_scale > 0).  Starts at loc 0, scale ``init_scale``.

    ``logits(x)``: x (N, C) -> logit F(x) (N, C).
    """

    def __init__(self, channels, init_scale=10.0):
        self.loc = Tensor(np.zeros(channels), requires_grad=True)
        self.log_scale = Tensor(np.full(channels, math.log(init_scale)), requires_grad=True)

    def logits(self, x):
        return (x - self.loc) * (-self.log_scale).exp()


class MonotoneCDF(Module):
    """F_c(x) = sigmoid(f_c(x)), f_c a small increasing network, one per channel (Ballé et al. 2018).

    Layers of widths 1 -> hidden... -> 1.  Layer i, on h (C, d_in, N):

        h <- softplus(H_i) @ h + b_i                      H_i (C, d_out, d_in), b_i (C, d_out, 1)
        h <- h + tanh(a_i) * tanh(h)   (not after the last layer)          a_i (C, d_out, 1)

    softplus(H_i) > 0 and |tanh(a_i)| < 1 make every layer increasing, so f is; and since
    tanh saturates, f grows linearly in both tails, so F runs from 0 to 1: a proper CDF.
    Starts as the logistic of slope 1 / ``init_scale`` (each softplus(H_i) = 1 / (s d_in)
    with s^layers = init_scale, factors 0), biases spread evenly over [-1/2, 1/2] so that
    the units of a layer start different (CompressAI draws them at random instead).

    ``logits(x)``: x (N, C) -> f(x) (N, C).
    """

    def __init__(self, channels, hidden=(3, 3, 3), init_scale=10.0):
        widths = (1, *hidden, 1)
        layer_scale = init_scale ** (1 / (len(widths) - 1))
        self.matrices, self.biases, self.factors = [], [], []
        for i, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
            inverse_softplus = math.log(math.expm1(1 / (layer_scale * d_in)))
            self.matrices.append(Tensor(np.full((channels, d_out, d_in), inverse_softplus), requires_grad=True))
            spread = np.linspace(-0.5, 0.5, d_out) if d_out > 1 else np.zeros(1)
            self.biases.append(Tensor(np.tile(spread[:, None], (channels, 1, 1)), requires_grad=True))
            if i < len(widths) - 2:
                self.factors.append(Tensor(np.zeros((channels, d_out, 1)), requires_grad=True))

    def logits(self, x):
        n, channels = x.shape
        h = x.transpose().reshape(channels, 1, n)
        for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases)):
            h = F.softplus(matrix) @ h + bias
            if i < len(self.factors):
                h = h + self.factors[i].tanh() * h.tanh()
        return h.reshape(channels, n).transpose()


CDFS = {"logistic": LogisticCDF, "monotone": MonotoneCDF}


class EntropyBottleneck(Module):
    """``y_hat, likelihoods = eb(y)``: quantize a latent and give each value its probability.

    channels C; y: (N, C) -> y_hat (N, C), likelihoods (N, C) in [floor, 1] (module docstring).
    ``proxy``: "noise", "round" or "mixed", how training mode stands in for rounding; eval
    mode (``eb.eval()``) always rounds.  ``cdf``: "monotone" or "logistic", the model of each
    channel, starting with scale ``init_scale``.  ``likelihood_floor`` keeps log P finite.
    ``tail_mass``: the coder's table of channel c covers the integers lo_c..hi_c outside
    which the model puts at most tail_mass / 2 on each side; the rarer values beyond go
    through an escape (see :meth:`compress`).  ``rng`` (a ``numpy.random.Generator``)
    draws the noise; without one, the library-wide generator (``tinygrad_ste.manual_seed``).
    """

    def __init__(self, channels, proxy="noise", cdf="monotone", *, init_scale=10.0, likelihood_floor=1e-9,
                 tail_mass=1e-9, rng=None):
        if proxy not in PROXIES:
            raise ValueError(f"EntropyBottleneck: unknown proxy {proxy!r}; choose one of {', '.join(map(repr, PROXIES))}")
        if cdf not in CDFS:
            raise ValueError(f"EntropyBottleneck: unknown cdf {cdf!r}; choose one of {', '.join(map(repr, CDFS))}")
        if channels < 1 or init_scale <= 0 or not 0 < likelihood_floor < 1 or not 0 < tail_mass < 1:
            raise ValueError(f"EntropyBottleneck: need channels >= 1, init_scale > 0 and likelihood_floor, tail_mass "
                             f"in (0, 1); got {channels}, {init_scale}, {likelihood_floor}, {tail_mass}")
        self.channels, self.proxy, self.cdf_name = channels, proxy, cdf
        self.likelihood_floor, self.tail_mass = likelihood_floor, tail_mass
        self.cdf = CDFS[cdf](channels, init_scale=init_scale)
        self.rng = generator(rng, "EntropyBottleneck")

    def forward(self, y):
        y = self._check(as_tensor(y), "forward")
        if not self.training:
            y_hat = round(y)
            return y_hat, self.likelihood(y_hat)
        if self.proxy == "round":
            y_hat = round(y, backward="identity")
            return y_hat, self.likelihood(y_hat)
        noisy = y + self.rng.uniform(-0.5, 0.5, y.shape).astype(y.data.dtype)
        if self.proxy == "noise":
            return noisy, self.likelihood(noisy)
        return round(y, backward="identity"), self.likelihood(noisy)   # "mixed"

    def likelihood(self, values):
        """P_c(v) = F_c(v + 1/2) - F_c(v - 1/2) for every value v (N, C), floored; a Tensor
        differentiable in ``values`` and in the CDF's parameters (equals P_c(k) at integers k)."""
        values = self._check(as_tensor(values), "likelihood")
        n = values.shape[0]
        logits = self.cdf.logits(F.concatenate([values - 0.5, values + 0.5], axis=0))   # one pass for both ends
        return interval_probability(logits[:n], logits[n:], floor=self.likelihood_floor)

    def _check(self, y, method):
        if y.ndim != 2 or y.shape[1] != self.channels:
            raise ValueError(f"EntropyBottleneck({self.channels}).{method}: expected shape (N, {self.channels}), "
                             f"got {y.shape}")
        return y

    # ------------------------------------------------------------- the real bitstream
    def coding_tables(self):
        """Per channel c: (lo_c, table_c), the model the coder uses.

        table_c (hi_c - lo_c + 3,) holds P_c(lo_c), ..., P_c(hi_c), then the two escapes'
        probabilities F_c(lo_c - 1/2) (below the range) and 1 - F_c(hi_c + 1/2) (above).
        lo_c is the largest integer with F_c(lo_c - 1/2) <= tail_mass / 2 and hi_c the
        smallest with 1 - F_c(hi_c + 1/2) <= tail_mass / 2, searched on integer grids
        -R..R with R doubling up to 2^15 (the escapes cover whatever lies beyond).  The
        table sums to 1 exactly in exact arithmetic: the escapes cost no probability the
        integers inside the range would have had.
        """
        threshold = math.log(self.tail_mass / 2) - math.log1p(-self.tail_mass / 2)   # logit(tail_mass / 2)
        with no_grad():
            radius = 8
            while True:
                ks = np.arange(-radius, radius + 1)
                boundaries = (ks - 0.5)[:, None].repeat(self.channels, axis=1)            # k - 1/2 for every k
                logits = self.cdf.logits(Tensor(np.concatenate([boundaries, boundaries[-1:] + 1]))).data
                if (logits[0] <= threshold).all() and (logits[-1] >= -threshold).all() or radius >= 2 ** 15:
                    break
                radius *= 2
        tables = []
        for c in range(self.channels):
            lower, upper = logits[:-1, c], logits[1:, c]                  # logits of F(k - 1/2), F(k + 1/2)
            lo = ks[np.flatnonzero(lower <= threshold).max(initial=0)]
            hi_candidates = np.flatnonzero(upper >= -threshold)
            hi = ks[hi_candidates.min() if hi_candidates.size else len(ks) - 1]
            inside = slice(lo + radius, hi + radius + 1)
            pmf = sigmoid_array(upper[inside]) * sigmoid_array(-lower[inside]) * -np.expm1(lower[inside] - upper[inside])
            escapes = [sigmoid_array(lower[lo + radius]), sigmoid_array(-upper[hi + radius])]
            tables.append((int(lo), np.concatenate([pmf, escapes])))
        return tables

    def compress(self, y):
        """Entropy-code round(y) (N, C) into bytes with a range coder; :meth:`decompress` inverts it.

        Channel by channel, each integer k is coded as symbol k - lo_c of channel c's table
        (:meth:`coding_tables`); ``constriction`` quantizes the table to fixed point (24-bit
        probabilities, every entry at least one unit), so a symbol costs -log2 P_c(k) bits up to that
        rounding, plus a few bytes to end the stream.  A k outside lo_c..hi_c is coded as an
        escape symbol (costing -log2 of the model's tail mass on that side) and, after all
        channels, its distance beyond the range as 32 raw bits.  Needs the package
        ``constriction`` (in the ``lessons`` and ``test`` extras).
        """
        constriction = _constriction("compress")
        y = self._check(as_tensor(y), "compress").data
        if not np.isfinite(y).all():
            raise ValueError(f"EntropyBottleneck.compress: y of shape {y.shape} holds inf or NaN")
        integers = np.round(y).astype(np.int64)
        encoder = constriction.stream.queue.RangeEncoder()
        overflows = []
        for c, (lo, table) in enumerate(self.coding_tables()):
            hi = lo + len(table) - 3
            k = integers[:, c]
            symbols = np.where(k < lo, len(table) - 2, np.where(k > hi, len(table) - 1, k - lo))
            encoder.encode(symbols.astype(np.int32), constriction.stream.model.Categorical(table, perfect=False))
            overflows.append(np.where(k < lo, lo - 1 - k, k - hi - 1)[(k < lo) | (k > hi)])
        overflows = np.concatenate(overflows)
        if overflows.size and overflows.max() >= 2 ** 32:
            raise ValueError(f"EntropyBottleneck.compress: a value lies {overflows.max()} beyond its channel's "
                             "range; at most 2^32 - 1 can be coded")
        if overflows.size:   # two 16-bit halves under a uniform model: 32 raw bits each
            half = constriction.stream.model.Uniform(2 ** 16)
            encoder.encode((overflows >> 16).astype(np.int32), half)
            encoder.encode((overflows & 0xFFFF).astype(np.int32), half)
        return encoder.get_compressed().astype("<u4").tobytes()

    def decompress(self, data, shape):
        """The Tensor round(y) (``shape`` = (N, C)) from the bytes :meth:`compress` wrote, exactly."""
        constriction = _constriction("decompress")
        n, channels = shape
        if channels != self.channels:
            raise ValueError(f"EntropyBottleneck({self.channels}).decompress: shape {shape} has {channels} channels")
        decoder = constriction.stream.queue.RangeDecoder(np.frombuffer(data, dtype="<u4").astype(np.uint32))
        columns, escapes = [], []
        for lo, table in self.coding_tables():
            symbols = decoder.decode(constriction.stream.model.Categorical(table, perfect=False), n).astype(np.int64)
            columns.append(symbols + lo)
            escapes.append((symbols >= len(table) - 2, symbols == len(table) - 2, lo, lo + len(table) - 3))
        count = sum(int(escaped.sum()) for escaped, *_ in escapes)
        overflows = np.zeros(0, dtype=np.int64)
        if count:
            half = constriction.stream.model.Uniform(2 ** 16)
            high = decoder.decode(half, count).astype(np.int64)
            overflows = high << 16 | decoder.decode(half, count).astype(np.int64)
        start = 0
        for column, (escaped, below, lo, hi) in zip(columns, escapes):
            distance = overflows[start:start + escaped.sum()]
            start += escaped.sum()
            column[escaped] = np.where(below[escaped], lo - 1 - distance, hi + 1 + distance)
        return Tensor(np.stack(columns, axis=1).astype(np.float64))

    def __repr__(self):
        return f"EntropyBottleneck({self.channels}, proxy={self.proxy!r}, cdf={self.cdf_name!r})"


def _constriction(method):
    """Import the entropy coder only when it is used: the package itself needs only NumPy."""
    try:
        import constriction
    except ImportError:
        raise ImportError(f"EntropyBottleneck.{method} needs the 'constriction' package (an entropy coder): "
                          "pip install constriction, or install this package with its 'lessons' or "
                          "'test' extras") from None
    return constriction


def fit_entropy_model(bottleneck, samples, steps=200, lr=0.1):
    """Fit ``bottleneck``'s CDFs alone to fixed ``samples`` (N, C): Adam on the rate of the
    rounded samples, -sum log2 P(round(samples)) / N.  Returns the bits per sample row after
    each step (a list).  The best any model can do is the empirical entropy of the rounded
    samples; a flexible CDF gets close to it, the logistic only if the samples look logistic.
    """
    integers = Tensor(np.round(np.asarray(samples, dtype=np.float64)))
    optimizer = Adam(bottleneck.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        bits = rate_bits(bottleneck.likelihood(integers)) / integers.shape[0]
        bits.backward()
        optimizer.step()
        history.append(bits.item())
    return history
