"""A mixture of experts with hard routing: conditional computation as a categorical choice.

A router scores the E experts for each example, logits = x W_r + b_r (N, E), with
probabilities p = softmax(logits).  With **hard** (top-1) routing one expert k is chosen per
example and only that expert runs, so an example costs one expert evaluation however many
experts there are (Shazeer et al. 2017, "Outrageously Large Neural Networks"; Fedus et al.
2022, "Switch Transformers").  The choice is discrete, so the router learns through one of
the estimators of :mod:`tinygrad_ste.stochastic`, chosen by name with ``router=``:

========================= ================================= ========================================
router                    forward (training), y =           gradient reaching the router's logits
========================= ================================= ========================================
"soft"                    sum_e p_e f_e(x): all E run       exact (the dense reference)
"straight_through"        p_k f_k(x), k ~ p                 exact derivative of p_k: Switch's form
"straight_through_gumbel" b_k f_k(x), b ~ ST Gumbel-softmax the rule of b, from the expert that ran
"reinmax"                 b_k f_k(x), b ~ ReinMax sample    the rule of b, from the expert that ran
"reinforce"               f_k(x) for n_samples draws k ~ p  :meth:`MixtureOfExperts.reinforce_loss`
========================= ================================= ========================================

b is the one-hot sample of ``sample_categorical`` and b_k = 1 its entry at the chosen expert,
so "straight_through_gumbel" and "reinmax" output exactly f_k(x); "straight_through" scales
it by the router probability p_k, as the Switch Transformer does, which lets the router's
gradient flow through p_k.  In both cases only f_k is known: the gradient a straight-through
rule wants for b, dL/db_e = <dL/dy, f_e(x)>, is known only for e = k, and the others are
taken as 0 (:func:`chosen_gate`).  For "straight_through" that makes the router's gradient
(dL/dy . f_k) dp_k/dlogits, which is exactly what the straight-through rule gives for a
gradient at b_k alone: Switch's scaling *is* straight-through, told about one expert.  It is
the pathwise part of the gradient of E_k[L(p_k f_k(x))]; the part it leaves out, from k's
own dependence on the logits, is what REINFORCE estimates.

In evaluation mode (``eval()``) every hard router takes the most likely expert, k = argmax
p, with the same scale as in training (p_k for "straight_through", 1 otherwise).

Shapes: x (N, in_features) -> y (N, out_features); with ``router="reinforce"`` in training
mode, y (n_samples, N, out_features), one routed output per draw.  After each call
``last_routing`` holds the :class:`Routing` (logits, probabilities, chosen experts) that
:meth:`~MixtureOfExperts.load_balancing_loss` and :meth:`~MixtureOfExperts.reinforce_loss` read.
"""
from dataclasses import dataclass

import numpy as np

from . import functional as F
from .module import Module
from .nn import MLP, Linear
from .random import generator
from .stochastic import reinforce_loss, sample_categorical
from .tensor import Tensor, as_tensor

__all__ = ["ROUTERS", "Routing", "MixtureOfExperts", "chosen_gate", "load_share", "load_entropy"]

ROUTERS = ("soft", "straight_through", "straight_through_gumbel", "reinmax", "reinforce")


def chosen_gate(sample):
    """g = b_k, the entry of a one-hot ``sample`` b at its chosen class, over the last axis.

    Its value is 1; its gradient reaches b only at k (dg/db = one_hot(k)), so the sample's
    backward rule (straight-through, ReinMax, ...) sees dL/db_e = 0 for every class that was
    not chosen -- what is known when only the chosen expert (or operation) ran.
    sample (..., K) Tensor -> (...) Tensor.
    """
    return (sample * Tensor(sample.data)).sum(axis=-1)


def load_share(chosen, num_experts):
    """The share of the choices that went to each expert: chosen (any shape, ints) -> (E,), sums to 1."""
    return np.bincount(np.ravel(chosen), minlength=num_experts) / np.size(chosen)


def load_entropy(chosen, num_experts):
    """The entropy of :func:`load_share` in bits: log2(E) for a perfectly even load, 0 if one expert takes all."""
    share = load_share(chosen, num_experts)
    share = share[share > 0]
    return float(-(share * np.log2(share)).sum()) + 0.0   # + 0.0: no "-0.0" for a single expert


@dataclass
class Routing:
    """What one call of a :class:`MixtureOfExperts` decided.

    logits, probabilities: Tensors (N, E), the router's scores and their softmax.
    chosen: int array (N,) -- or (n_samples, N) for "reinforce" in training -- the expert
    each example went to (for "soft": the most likely one, though all of them ran).
    sample: the one-hot choice as drawn, (..., N, E), which ``reinforce_loss`` scores.
    expert_evaluations: expert evaluations per example in this call (1, n_samples or E).
    """
    logits: Tensor
    probabilities: Tensor
    chosen: np.ndarray
    sample: Tensor
    expert_evaluations: float


class MixtureOfExperts(Module):
    """E experts and a router that sends each example to one of them (see the module docstring).

    ``MixtureOfExperts(num_experts, in_features, out_features, hidden=None, router=...)``:
    each expert is ``Linear(in_features, out_features)``, or with ``hidden`` an
    ``MLP([in_features, hidden, out_features])``; the router is ``Linear(in_features,
    num_experts)``.  ``router`` is one of ``ROUTERS``; ``tau`` the temperature of the
    sampled routers; ``n_samples`` (>= 2) the draws per example of "reinforce", for its
    leave-one-out baseline.  ``rng`` draws the initial weights and, kept, the routing
    samples (None: the library-wide generator, see :func:`tinygrad_ste.manual_seed`).
    """

    def __init__(self, num_experts, in_features, out_features, hidden=None, router="straight_through", tau=1.0,
                 n_samples=2, *, rng=None):
        if router not in ROUTERS:
            raise ValueError(f"MixtureOfExperts: unknown router {router!r}; choose one of {', '.join(map(repr, ROUTERS))}")
        if not isinstance(num_experts, (int, np.integer)) or num_experts < 1:
            raise ValueError(f"MixtureOfExperts: num_experts must be a positive integer, got {num_experts!r}")
        if router == "reinforce" and not (isinstance(n_samples, (int, np.integer)) and n_samples >= 2):
            raise ValueError(f"MixtureOfExperts: router 'reinforce' needs n_samples >= 2 draws per example for its "
                             f"leave-one-out baseline, got {n_samples!r}")
        self.rng = generator(rng, "MixtureOfExperts")
        self.num_experts, self.in_features, self.out_features = num_experts, in_features, out_features
        self.router, self.tau, self.n_samples = router, tau, n_samples
        self.gate = Linear(in_features, num_experts, rng=self.rng)
        self.experts = [Linear(in_features, out_features, rng=self.rng) if hidden is None
                        else MLP([in_features, hidden, out_features], rng=self.rng) for _ in range(num_experts)]
        self.last_routing = None

    def forward(self, x):
        x = as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"MixtureOfExperts({self.num_experts}, {self.in_features}, {self.out_features}): input "
                             f"has shape {x.shape}, expected (N, {self.in_features})")
        logits = self.gate(x)
        probabilities = F.softmax(logits, axis=-1)
        if self.router == "soft":
            outputs = F.stack([expert(x) for expert in self.experts], axis=1)               # (N, E, out)
            y = (probabilities.reshape(*probabilities.shape, 1) * outputs).sum(axis=1)
            self._remember(logits, probabilities, probabilities.data.argmax(axis=-1), probabilities,
                           self.num_experts)
            return y
        if not self.training:
            sample = F.one_hot(logits.data.argmax(axis=-1), self.num_experts)
            gate = (sample * probabilities).sum(axis=-1) if self.router == "straight_through" else None
        elif self.router == "reinforce":   # n_samples draws per example, no gradient: reinforce_loss brings it
            sample = sample_categorical(logits, "reinforce", self.rng, n_samples=self.n_samples)
            gate = None
        elif self.router == "straight_through":   # Switch: the draw picks p_k, whose gradient is exact
            sample = sample_categorical(logits, "reinforce", self.rng)
            gate = (sample * probabilities).sum(axis=-1)
        else:
            sample = sample_categorical(logits, self.router, self.rng, tau=self.tau)
            gate = chosen_gate(sample)
        chosen = sample.data.argmax(axis=-1)                                               # (N,) or (S, N)
        y = self._run_chosen(x, chosen)
        if gate is not None:
            y = y * gate.reshape(*gate.shape, 1)
        self._remember(logits, probabilities, chosen, sample, chosen.size / len(x))
        return y

    def _run_chosen(self, x, chosen):
        """Each expert on the examples routed to it, and only on those: chosen (..., N) -> (..., N, out)."""
        rows = np.broadcast_to(np.arange(len(x)), chosen.shape).ravel()
        flat = chosen.ravel()
        groups = [np.flatnonzero(flat == e) for e in range(self.num_experts)]
        outputs = [self.experts[e](x[rows[group]]) for e, group in enumerate(groups) if len(group)]
        order = np.concatenate([group for group in groups if len(group)])
        return F.concatenate(outputs)[np.argsort(order)].reshape(*chosen.shape, self.out_features)

    def _remember(self, logits, probabilities, chosen, sample, evaluations):
        self.last_routing = Routing(logits=logits, probabilities=probabilities, chosen=chosen, sample=sample,
                                    expert_evaluations=float(evaluations))

    def _routing(self, op):
        if self.last_routing is None:
            raise ValueError(f"MixtureOfExperts.{op}: call the layer on a batch first")
        return self.last_routing

    def load_balancing_loss(self):
        """The Switch Transformer's auxiliary loss on the last batch: E * sum_e f_e P_e.

        f_e = the share of the batch's choices that went to expert e (:func:`load_share`, a
        constant); P_e = the mean router probability of expert e over the batch (differentiable).
        It is 1 when both are uniform, E when one expert takes every example with certainty;
        its gradient pushes probability away from the experts that get more than their share.
        Add it times a small weight (Switch uses 0.01) to the task loss.  Fedus et al. 2022, eq. 4.
        Returns a scalar Tensor.
        """
        routing = self._routing("load_balancing_loss")
        share = load_share(routing.chosen, self.num_experts)
        return self.num_experts * (routing.probabilities.mean(axis=0) * Tensor(share)).sum()

    def reinforce_loss(self, cost, baseline="leave_one_out"):
        """The REINFORCE term for the router (router "reinforce"): value 0, gradient the
        score-function estimate mean (cost - baseline) d log p(k) / dlogits.

        cost: (n_samples, N), one cost per draw and example (e.g. the per-example loss of each
        routed output).  ``baseline`` as in :func:`tinygrad_ste.stochastic.reinforce_loss`;
        the default compares each draw with the other draws of the same example.
        """
        routing = self._routing("reinforce_loss")
        if self.router != "reinforce":
            raise ValueError(f"MixtureOfExperts.reinforce_loss: the router is {self.router!r}; only 'reinforce' "
                             f"learns from a cost")
        return reinforce_loss(routing.logits, routing.sample, cost, kind="categorical", baseline=baseline)

    def __repr__(self):
        return (f"MixtureOfExperts({self.num_experts}, {self.in_features}, {self.out_features}, "
                f"router={self.router!r})")
