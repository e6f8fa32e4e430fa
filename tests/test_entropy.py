import math
import sys
from decimal import Decimal, getcontext

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_ste as tg
from tinygrad_ste import Tensor, gradcheck, nn
from tinygrad_ste.entropy import EntropyBottleneck, fit_entropy_model, interval_probability, rate_bits

settings.register_profile("entropy", max_examples=10, deadline=None)
settings.load_profile("entropy")


def empirical_entropy_bits(integers):
    """Plug-in entropy in bits of each column's empirical distribution, summed over columns."""
    total = 0.0
    for column in integers.T:
        _, counts = np.unique(column, return_counts=True)
        p = counts / counts.sum()
        total -= (p * np.log2(p)).sum()
    return total


def samples(n, rng):
    """Three channels: a Gaussian, a two-bump mixture (not logistic-shaped) and a narrow Laplace."""
    bimodal = np.where(rng.random(n) < 0.5, rng.normal(-4, 1, n), rng.normal(5, 2, n))
    return np.stack([rng.normal(0, 3, n), bimodal, rng.laplace(0, 0.3, n)], axis=1)


# ------------------------------------------------------------------ the probability of an interval

def exact_interval_probability(a, b):
    """sigmoid(b) - sigmoid(a) with 50 significant digits (Decimal), as a float."""
    getcontext().prec = 50
    sigmoid = lambda x: 1 / (1 + (-Decimal(x)).exp())   # noqa: E731
    return float(sigmoid(b) - sigmoid(a))


@pytest.mark.parametrize("a, b", [(40.0, 41.0), (-41.0, -40.0), (30.0, 30.001), (-0.5, 0.5), (15.0, 60.0),
                                  (-60.0, -15.0)])
def test_interval_probability_keeps_full_precision_in_both_tails(a, b):
    expected = exact_interval_probability(a, b)
    got = interval_probability(Tensor([a]), Tensor([b]), floor=1e-300).item()
    assert got == pytest.approx(expected, rel=1e-12)


def test_interval_probability_is_floored_and_the_floor_lets_a_rising_gradient_through():
    a, b = Tensor([40.0, 40.0], requires_grad=True), Tensor([41.0, 41.0], requires_grad=True)
    p = interval_probability(a, b, floor=1e-9)
    np.testing.assert_array_equal(p.data, [1e-9, 1e-9])
    (p * Tensor([-1.0, 1.0])).sum().backward()   # the first entry's loss wants a larger P, the second's a smaller
    assert b.grad[0] < 0 < a.grad[0]   # descending it widens the interval
    assert b.grad[1] == 0 and a.grad[1] == 0


@given(shape=st.sampled_from([(3,), (2, 3), (4, 1)]), seed=st.integers(0, 2 ** 16))
def test_interval_probability_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 3, shape)
    b = a + rng.uniform(0.1, 2, shape)
    gradcheck(lambda a, b: interval_probability(a, b, floor=1e-12),
              [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)])


# ------------------------------------------------------------------ the learned distribution

@pytest.mark.parametrize("cdf", ["logistic", "monotone"])
def test_likelihoods_of_the_integers_sum_to_one(cdf):
    eb = EntropyBottleneck(2, cdf=cdf, init_scale=2.0)
    ks = np.arange(-200, 201, dtype=np.float64)[:, None].repeat(2, axis=1)
    p = eb.likelihood(Tensor(ks)).data
    assert ((p >= 1e-9) & (p <= 1)).all()
    floored = p == 1e-9   # far tails, whose true mass (< 1e-9 each) the floor raises
    np.testing.assert_allclose(np.where(floored, 0, p).sum(axis=0), 1, atol=1e-9 * floored.sum())


def with_parameters(eb, tensors):
    """Point eb's CDF at ``tensors`` (in ``parameters()`` order), so gradcheck's copies are the ones used."""
    cdf = eb.cdf
    if isinstance(cdf, nn.Module) and hasattr(cdf, "loc"):
        cdf.loc, cdf.log_scale = tensors
    else:
        count = len(cdf.matrices)
        cdf.matrices, cdf.biases, cdf.factors = (list(tensors[:count]), list(tensors[count:2 * count]),
                                                 list(tensors[2 * count:]))


@given(cdf=st.sampled_from(["logistic", "monotone"]), n=st.integers(1, 4), channels=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
def test_likelihood_gradcheck_in_the_values_and_the_cdf_parameters(cdf, n, channels, seed):
    rng = np.random.default_rng(seed)
    eb = EntropyBottleneck(channels, cdf=cdf, init_scale=2.0)
    for parameter in eb.parameters():   # move off the symmetric start
        parameter.data += rng.normal(0, 0.3, parameter.shape)
    # parameters() lists the logistic's (loc, log_scale) and the network's matrices, biases, factors in order
    names = [name for name, _ in eb.named_parameters()]
    if cdf == "monotone":
        assert names[0].startswith("cdf.matrices") and names[-1].startswith("cdf.factors")
    values = Tensor(rng.normal(0, 2, (n, channels)), requires_grad=True)

    def likelihood(values, *parameters):
        with_parameters(eb, parameters)
        return eb.likelihood(values)

    gradcheck(likelihood, [values] + [Tensor(p.data, requires_grad=True) for p in eb.parameters()])


def test_monotone_cdf_is_increasing_for_any_parameters():
    rng = np.random.default_rng(1)
    eb = EntropyBottleneck(3, cdf="monotone")
    for parameter in eb.parameters():
        parameter.data[...] = rng.normal(0, 2, parameter.shape)
    grid = np.linspace(-50, 50, 2001)[:, None].repeat(3, axis=1)
    logits = eb.cdf.logits(Tensor(grid)).data
    assert (np.diff(logits, axis=0) > 0).all()


@pytest.mark.parametrize("cdf, margin", [("monotone", 0.03), ("logistic", None)])
def test_fitted_rate_lies_just_above_the_empirical_entropy(cdf, margin):
    rng = np.random.default_rng(0)
    data = samples(1000, rng)
    entropy = empirical_entropy_bits(np.round(data))
    eb = EntropyBottleneck(3, cdf=cdf)
    fit_entropy_model(eb, data, steps=200, lr=0.1)
    rate = rate_bits(eb.eval()(Tensor(data))[1]).item() / len(data)
    # No model of the integers beats the empirical distribution on its own samples (Gibbs' inequality).
    assert rate >= entropy
    if margin is not None:
        assert rate <= entropy + margin
    else:   # one logistic bump cannot fit two: the flexible model's margin is out of its reach
        assert rate > entropy + 0.5


# ------------------------------------------------------------------ the proxies

def test_eval_mode_rounds_and_gives_the_likelihood_of_the_rounded_values():
    eb = EntropyBottleneck(2, proxy="noise", rng=np.random.default_rng(0)).eval()
    y = Tensor(np.random.default_rng(1).normal(0, 3, (50, 2)), requires_grad=True)
    y_hat, likelihoods = eb(y)
    np.testing.assert_array_equal(y_hat.data, np.round(y.data))
    np.testing.assert_array_equal(likelihoods.data, eb.likelihood(Tensor(np.round(y.data))).data)
    y_hat.sum().backward()
    np.testing.assert_array_equal(y.grad, 0)   # the true gradient of rounding
    assert eb.train().training


def test_noise_is_uniform_with_variance_one_twelfth():
    n = 20000
    eb = EntropyBottleneck(1, proxy="noise", rng=np.random.default_rng(0))
    y = np.random.default_rng(1).normal(0, 3, (n, 1))
    y_hat, likelihoods = eb(Tensor(y))
    noise = (y_hat.data - y).ravel()
    assert (np.abs(noise) < 0.5).all()
    # standard errors: of the mean sqrt(1/12 / n); of the variance sqrt((E u^4 - (1/12)^2) / n), E u^4 = 1/80
    assert abs(noise.mean()) < 4 * math.sqrt(1 / 12 / n)
    assert abs(noise.var() - 1 / 12) < 4 * math.sqrt((1 / 80 - 1 / 144) / n)
    np.testing.assert_array_equal(likelihoods.data, eb.likelihood(y_hat).data)


@pytest.mark.parametrize("proxy", ["noise", "round", "mixed"])
def test_every_proxy_passes_the_decoder_gradient_with_slope_one(proxy):
    eb = EntropyBottleneck(2, proxy=proxy, rng=np.random.default_rng(0))
    y = Tensor(np.random.default_rng(1).normal(0, 3, (20, 2)), requires_grad=True)
    y_hat, _ = eb(y)
    y_hat.sum().backward()
    np.testing.assert_array_equal(y.grad, 1)
    if proxy != "noise":
        np.testing.assert_array_equal(y_hat.data, np.round(y.data))


def test_round_and_mixed_measure_the_rate_on_different_values():
    y = np.random.default_rng(1).normal(0, 3, (30, 2))
    _, round_likelihoods = EntropyBottleneck(2, proxy="round", rng=np.random.default_rng(0))(Tensor(y))
    mixed = EntropyBottleneck(2, proxy="mixed", rng=np.random.default_rng(0))
    _, mixed_likelihoods = mixed(Tensor(y))
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, y.shape)   # the draw the mixed bottleneck made
    np.testing.assert_array_equal(round_likelihoods.data, mixed.likelihood(Tensor(np.round(y))).data)
    np.testing.assert_array_equal(mixed_likelihoods.data, mixed.likelihood(Tensor(y + noise)).data)


def test_rate_bits_is_minus_log2_of_the_likelihoods():
    assert rate_bits(Tensor([0.5, 0.25, 1.0])).item() == pytest.approx(3.0)


def test_without_a_generator_the_noise_comes_from_the_library_wide_one():
    draws = []
    for _ in range(2):
        tg.manual_seed(0)
        draws.append(EntropyBottleneck(1)(Tensor(np.zeros((100, 1))))[0].data)
    assert np.abs(draws[0]).max() > 0
    np.testing.assert_array_equal(draws[0], draws[1])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"interval_probability: the lower logits \(2,\) and the upper logits \(3,\)"):
        interval_probability(Tensor([0.0, 1.0]), Tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="floor must lie in"):
        interval_probability(Tensor([0.0]), Tensor([1.0]), floor=0)
    with pytest.raises(ValueError, match="unknown proxy 'ste'"):
        EntropyBottleneck(2, proxy="ste")
    with pytest.raises(ValueError, match="unknown cdf 'gauss'"):
        EntropyBottleneck(2, cdf="gauss")
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        EntropyBottleneck(2, rng=0)
    with pytest.raises(ValueError, match=r"EntropyBottleneck\(2\).forward: expected shape \(N, 2\), got \(5, 3\)"):
        EntropyBottleneck(2)(Tensor(np.zeros((5, 3))))
    with pytest.raises(ValueError, match=r"decompress: shape \(5, 3\) has 3 channels"):
        EntropyBottleneck(2).decompress(b"", (5, 3))


# ------------------------------------------------------------------ the bitstream

@pytest.mark.parametrize("cdf", ["logistic", "monotone"])
def test_compress_round_trips_in_the_estimated_size(cdf):
    rng = np.random.default_rng(0)
    data = samples(3000, rng)
    eb = EntropyBottleneck(3, cdf=cdf)
    fit_entropy_model(eb, data[:500], steps=60, lr=0.05)
    estimated = rate_bits(eb.eval()(Tensor(data))[1]).item()
    compressed = eb.compress(Tensor(data))
    np.testing.assert_array_equal(eb.decompress(compressed, data.shape).data, np.round(data))
    # 24-bit probabilities cost a tiny fraction; ending the stream costs at most two 32-bit words
    assert estimated <= 8 * len(compressed) <= 1.01 * estimated + 64


def test_values_far_outside_the_table_escape_and_come_back():
    eb = EntropyBottleneck(2, cdf="logistic", init_scale=1.0)
    (lo0, table0), _ = eb.coding_tables()
    y = np.zeros((6, 2))
    y[:, 0] = [lo0 - 1, lo0, lo0 + len(table0) - 3, lo0 + len(table0) - 2, -(2 ** 31), 3e9]
    compressed = eb.compress(Tensor(y))
    np.testing.assert_array_equal(eb.decompress(compressed, y.shape).data, y)
    with pytest.raises(ValueError, match="beyond its channel's range"):
        eb.compress(Tensor(np.full((1, 2), 1e12)))


def test_coding_tables_are_distributions_with_small_tails():
    eb = EntropyBottleneck(2, cdf="monotone", tail_mass=1e-6)
    for lo, table in eb.coding_tables():
        assert table.sum() == pytest.approx(1, abs=1e-12)
        assert table[-2] <= 0.5e-6 and table[-1] <= 0.5e-6


def test_a_missing_entropy_coder_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "constriction", None)
    with pytest.raises(ImportError, match="needs the 'constriction' package"):
        EntropyBottleneck(1).compress(Tensor(np.zeros((2, 1))))
