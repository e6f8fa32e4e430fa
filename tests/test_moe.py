"""The mixture of experts: hard routing in the forward, every router's gradient against the exact one."""
import numpy as np
import pytest

from tinygrad_ste import Tensor, nn
from tinygrad_ste.estimators import estimate_gradient, exact_gradient
from tinygrad_ste.moe import ROUTERS, chosen_gate, load_entropy, load_share

HARD_ROUTERS = [router for router in ROUTERS if router != "soft"]


def layer(router, num_experts=3, in_features=4, out_features=2, seed=0, **options):
    return nn.MixtureOfExperts(num_experts, in_features, out_features, hidden=5, router=router,
                               rng=np.random.default_rng(seed), **options)


def count_rows(moe):
    """Wrap every expert so that it counts the examples it is run on; returns the list of counts."""
    counts = [0] * moe.num_experts
    for e, expert in enumerate(moe.experts):
        def counted(x, e=e, run=expert.forward):
            counts[e] += len(x)
            return run(x)
        expert.forward = counted
    return counts


def expert_outputs(moe, x):
    """Every expert on every example: (N, E, out), as plain arrays."""
    return np.stack([expert(Tensor(x)).data for expert in moe.experts], axis=1)


# ------------------------------------------------------------------ the forward: hard, one expert per example


@pytest.mark.parametrize("router", HARD_ROUTERS)
@pytest.mark.parametrize("training", [True, False])
def test_exactly_one_expert_runs_per_example_and_the_output_is_its_output_times_the_scale(router, training):
    moe = layer(router, num_experts=4, seed=1).train(training)
    x = np.random.default_rng(2).normal(size=(9, 4))
    every = expert_outputs(moe, x)
    counts = count_rows(moe)
    y = moe(Tensor(x)).data
    routing = moe.last_routing
    draws = moe.n_samples if router == "reinforce" and training else 1
    assert sum(counts) == draws * len(x) and routing.expert_evaluations == draws
    chosen = routing.chosen.reshape(draws, len(x))
    assert np.array_equal(np.bincount(chosen.ravel(), minlength=4), counts)
    if not training:
        assert np.array_equal(chosen[0], routing.logits.data.argmax(axis=1))
    p = routing.probabilities.data
    rows = np.arange(len(x))
    for d in range(draws):
        scale = p[rows, chosen[d]] if router == "straight_through" else np.ones(len(x))   # the documented scale
        expected = scale[:, None] * every[rows, chosen[d]]
        np.testing.assert_allclose(y.reshape(draws, len(x), -1)[d], expected, rtol=1e-12, atol=1e-12)
        assert np.array_equal(routing.sample.data.reshape(draws, len(x), -1)[d], np.eye(4)[chosen[d]])


def test_the_soft_router_runs_every_expert_and_mixes_them_by_the_router_probabilities():
    moe = layer("soft", num_experts=3)
    x = np.random.default_rng(3).normal(size=(5, 4))
    every = expert_outputs(moe, x)
    counts = count_rows(moe)
    y = moe(Tensor(x)).data
    p = moe.last_routing.probabilities.data
    np.testing.assert_allclose(y, (p[:, :, None] * every).sum(axis=1), rtol=1e-12)
    assert counts == [5, 5, 5] and moe.last_routing.expert_evaluations == 3


def test_chosen_gate_is_one_with_a_gradient_only_at_the_chosen_class():
    sample = Tensor(np.eye(3)[[2, 0]], requires_grad=True)
    gate = chosen_gate(sample)
    assert np.array_equal(gate.data, [1.0, 1.0])
    (gate * Tensor([2.0, 3.0])).sum().backward()
    assert np.array_equal(sample.grad, [[0, 0, 2.0], [3.0, 0, 0]])


def test_the_expert_parameters_get_gradients_only_from_the_examples_they_ran_on():
    moe = layer("straight_through_gumbel", num_experts=4, seed=5)
    x = np.random.default_rng(6).normal(size=(3, 4))
    moe(Tensor(x)).sum().backward()
    used = set(moe.last_routing.chosen.tolist())
    for e, expert in enumerate(moe.experts):
        grads = [parameter.grad for parameter in expert.parameters()]
        assert all(g is not None and np.abs(g).sum() > 0 for g in grads) if e in used else all(g is None for g in grads)


# ------------------------------------------------------------------ the router's gradient against the truth
# One example, three experts, fixed weights; the loss of an output is L(y) = ||y - t||^2.

TARGET = np.array([0.5, -1.0])


def tiny_case(router, seed=7):
    moe = layer(router, seed=seed)
    x = np.random.default_rng(seed + 1).normal(size=(1, 4))
    return moe, x, expert_outputs(moe, x)[0]          # outputs f_e(x): (E, out)


def route_loss(moe, x):
    """Run the layer on x; the per-example losses L(y) (draws, N) and their sum."""
    y = moe(Tensor(x))
    per_example = ((y - Tensor(TARGET)) ** 2).sum(axis=-1)
    return per_example, per_example.sum()


def router_gradient(moe, x, rng_seed):
    """One estimate of the gradient reaching the router's logits (the gate's bias, for one example)."""
    moe.rng = np.random.default_rng(rng_seed)
    moe.zero_grad()
    per_example, total = route_loss(moe, x)
    objective = moe.reinforce_loss(per_example) if moe.router == "reinforce" else total
    objective.backward()
    return moe.gate.bias.grad.copy(), int(moe.last_routing.chosen.ravel()[0])


def logits_of(moe, x):
    return moe.gate(Tensor(x)).data      # (1, E)


def per_choice(moe, x, count):
    """{chosen expert: its router gradient} for routers whose estimate depends on the choice alone."""
    seen = {}
    for seed in range(count):
        gradient, chosen = router_gradient(moe, x, seed)
        seen.setdefault(chosen, gradient)
        np.testing.assert_allclose(seen[chosen], gradient, rtol=1e-12, atol=1e-15)   # the same choice, the same estimate
    assert len(seen) == moe.num_experts
    return seen


def test_reinforce_router_is_unbiased_for_the_expected_loss():
    moe, x, outputs = tiny_case("reinforce")
    moe.n_samples = 4
    exact = exact_gradient(lambda b: (((b.data @ outputs) - TARGET) ** 2).sum(axis=-1)[:, 0], logits_of(moe, x),
                           "categorical")[0]
    estimates = np.stack([router_gradient(moe, x, seed)[0] for seed in range(1500)])
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    assert (np.abs(estimates.mean(axis=0) - exact) <= 4 * standard_error).all(), (estimates.mean(axis=0), exact)


def test_switch_router_is_the_pathwise_part_of_the_exact_gradient():
    """For J = E_k[L(p_k f_k)], the exact gradient is sum_k L(p_k f_k) dp_k (the choice moves: the score part,
    exact_gradient with the losses as constants) plus sum_k p_k dL(p_k f_k) (the pathwise part).  Switch's
    estimate, averaged over k exactly, is the pathwise part."""
    moe, x, outputs = tiny_case("straight_through")
    logits = logits_of(moe, x)[0]

    def scaled_losses(logits):
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return p, (((p[:, None] * outputs) - TARGET) ** 2).sum(axis=1)     # L(p_k f_k) for every k

    def objective(logits):
        p, losses = scaled_losses(logits)
        return p @ losses

    step = 1e-6
    total = np.array([(objective(logits + step * e) - objective(logits - step * e)) / (2 * step) for e in np.eye(3)])
    losses = scaled_losses(logits)[1]
    score_part = exact_gradient(lambda b: b.data[:, 0] @ losses, logits[None], "categorical")[0]
    p = scaled_losses(logits)[0]
    mean_estimate = sum(p[k] * gradient for k, gradient in per_choice(moe, x, 60).items())
    np.testing.assert_allclose(mean_estimate, total - score_part, atol=1e-8)
    assert np.abs(score_part).max() > 1e-3     # so the estimate is biased for J by exactly the part it leaves out


def visible_gradients(outputs):
    """G_e = dL/dy . f_e at y = f_e: the gradient the router's sample gets when expert e is the one that ran."""
    return (2 * (outputs - TARGET) * outputs).sum(axis=1)


def test_reinmax_router_is_exact_for_what_it_can_see_and_biased_for_the_loss():
    """Only the chosen expert ran, so the sample's rule gets dL/db = G_k e_k: the gradient of the quadratic
    cost c(b) = sum_e G_e b_e^2 / 2 at b = e_k.  ReinMax (tau = 1) is exact in expectation for quadratic costs,
    so its mean is exactly the gradient of E_b[c(b)] -- which is not the gradient of E[L]."""
    moe, x, outputs = tiny_case("reinmax")
    logits = logits_of(moe, x)
    p = np.exp(logits[0] - logits.max())
    p /= p.sum()
    mean_estimate = sum(p[k] * gradient for k, gradient in per_choice(moe, x, 60).items())
    visible = visible_gradients(outputs)
    seen = exact_gradient(lambda b: ((b * b).sum(axis=1) @ (visible / 2)), logits, "categorical")[0]
    np.testing.assert_allclose(mean_estimate, seen, atol=1e-12)
    loss = exact_gradient(lambda b: (((b.data @ outputs) - TARGET) ** 2).sum(axis=-1)[:, 0], logits, "categorical")[0]
    assert np.abs(mean_estimate - loss).max() > 1e-3


def test_straight_through_gumbel_router_is_its_estimator_on_what_it_can_see():
    """Its mean matches the library's straight-through Gumbel estimator on the same visible cost (two Monte
    Carlo means, within 4 standard errors of their difference), and differs from the exact gradient of E[L]."""
    moe, x, outputs = tiny_case("straight_through_gumbel")
    logits = logits_of(moe, x)
    visible = visible_gradients(outputs)
    count = 3000
    layer_estimates = np.stack([router_gradient(moe, x, seed)[0] for seed in range(count)])
    rng = np.random.default_rng(99)
    visible_cost = lambda b: (b * b).sum(axis=1) @ (visible / 2)  # noqa: E731
    library_estimates = estimate_gradient(visible_cost, logits, "straight_through_gumbel", 1, rng, "categorical",
                                          n_estimates=count)[:, 0]   # count independent estimates, one batch
    difference = layer_estimates.mean(axis=0) - library_estimates.mean(axis=0)
    standard_error = np.hypot(layer_estimates.std(axis=0, ddof=1), library_estimates.std(axis=0, ddof=1)) / np.sqrt(count)
    assert (np.abs(difference) <= 4 * standard_error).all(), (difference, standard_error)
    loss = exact_gradient(lambda b: (((b.data @ outputs) - TARGET) ** 2).sum(axis=-1)[:, 0], logits, "categorical")[0]
    assert (np.abs(layer_estimates.mean(axis=0) - loss) > 4 * layer_estimates.std(axis=0, ddof=1) / np.sqrt(count)).any()


# ------------------------------------------------------------------ load balancing and load statistics


def test_load_balancing_loss_by_hand():
    """Router probabilities fixed at p for every example (zero weights, bias log p): in eval mode all
    examples go to the argmax, so f = (1, 0, 0) and the loss is E * sum_e f_e P_e = 3 p_0, with gradient
    3 p_0 (e_0 - p) with respect to the bias."""
    moe = layer("straight_through")
    p = np.array([0.5, 0.3, 0.2])
    moe.gate.weight.data[...] = 0.0
    moe.gate.bias.data[...] = np.log(p)
    moe.eval()(Tensor(np.random.default_rng(0).normal(size=(6, 4))))
    loss = moe.load_balancing_loss()
    np.testing.assert_allclose(loss.item(), 3 * 0.5, rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(moe.gate.bias.grad, 3 * 0.5 * (np.eye(3)[0] - p), rtol=1e-12)


def test_load_balancing_loss_is_one_for_an_even_load_and_matches_its_formula():
    moe = layer("straight_through_gumbel", num_experts=4, seed=3)
    moe(Tensor(np.random.default_rng(4).normal(size=(10, 4))))
    routing = moe.last_routing
    f = np.bincount(routing.chosen, minlength=4) / 10
    np.testing.assert_allclose(moe.load_balancing_loss().item(), 4 * f @ routing.probabilities.data.mean(axis=0))
    moe.gate.weight.data[...] = 0.0
    moe.gate.bias.data[...] = 0.0
    moe.eval()(Tensor(np.zeros((8, 4))))
    moe.last_routing.chosen = np.arange(8) % 4      # an even load with uniform probabilities
    np.testing.assert_allclose(moe.load_balancing_loss().item(), 1.0)


def test_load_share_and_entropy():
    assert np.array_equal(load_share([0, 0, 1, 3], 4), [0.5, 0.25, 0, 0.25])
    assert load_entropy([0, 1, 2, 3], 4) == 2.0 and load_entropy([2, 2, 2], 4) == 0.0
    np.testing.assert_allclose(load_entropy([0, 0, 1, 3], 4), 1.5)


# ------------------------------------------------------------------ bad input


def test_bad_input_names_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match="MixtureOfExperts: unknown router 'top2'"):
        layer("top2")
    with pytest.raises(ValueError, match="needs n_samples >= 2"):
        layer("reinforce", n_samples=1)
    with pytest.raises(ValueError, match=r"MixtureOfExperts\(3, 4, 2\): input has shape \(2, 5\), expected \(N, 4\)"):
        layer("soft")(Tensor(np.zeros((2, 5))))
    with pytest.raises(ValueError, match="load_balancing_loss: call the layer on a batch first"):
        layer("soft").load_balancing_loss()
    moe = layer("reinmax")
    moe(Tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="only 'reinforce' learns from a cost"):
        moe.reinforce_loss(np.zeros((2, 2)))


def test_the_layer_is_reproducible_from_its_rng():
    outputs = [layer("straight_through_gumbel", seed=4)(Tensor(np.ones((5, 4)))).data for _ in range(2)]
    assert np.array_equal(*outputs)


# ------------------------------------------------------------------ the classifier of lesson 11


@pytest.mark.parametrize("router", ROUTERS)
def test_the_mixture_of_experts_classifier_learns_and_reports_its_compute_and_load(router):
    from tinygrad_ste.models.mixture_of_experts import train_mixture_of_experts
    result = train_mixture_of_experts(router, num_experts=3, hidden=8, epochs=2, balance=1.0, seed=0)
    assert result.test_accuracy > 0.5 and result.test_correct.shape == (359,)
    assert result.test_evaluations == (3 if router == "soft" else 1)
    assert result.train_evaluations == {"soft": 3, "reinforce": 2}.get(router, 1)
    np.testing.assert_allclose(result.load.sum(), 1.0)
    assert result.classes_per_expert.sum() == 359 and np.array_equal(result.classes_per_expert.sum(axis=1) / 359,
                                                                      result.load)
    assert 0 <= result.load_entropy <= np.log2(3) + 1e-12
