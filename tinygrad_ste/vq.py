"""The vector-quantization layer of VQ-VAE (van den Oord et al. 2017), with its training aids.

``VectorQuantizer`` replaces each encoder output z_e (a row of an (N, D) array) by its
nearest codebook vector e_k, k = argmin_j ||z_e - e_j||^2.  That lookup has no useful
derivative, so three separate mechanisms train the parts around it:

* the **encoder** gets the decoder's gradient through a backward rule of
  :func:`~tinygrad_ste.discrete.quantize`: "identity" (straight-through: dL/dz_e = dL/dz_q)
  or "rotation" (the rotation trick, Fifty et al. 2024);
* the **codebook** moves towards the encoder outputs that chose it, either by gradient
  descent on the *codebook loss* or by exponential moving averages (EMA, below);
* the *commitment loss* keeps the encoder outputs near the codes they chose.

With sg the stop-gradient (``.detach()``) and mean squared errors over all N * D
elements (``F.mse_loss``, so the loss does not grow with the batch or the code width):

    loss = ||sg(z_e) - z_q||^2  +  beta * ||z_e - sg(z_q)||^2
           codebook loss            commitment loss

With ``ema=True`` the codebook loss is dropped and, in each training forward, code k's
running count N_k and running sum m_k of the vectors assigned to it are updated, with
n_k the batch count and s_k the batch sum of those vectors (van den Oord et al. 2017,
appendix A.1; Razavi et al. 2019):

    N_k <- decay * N_k + (1 - decay) * n_k
    m_k <- decay * m_k + (1 - decay) * s_k
    e_k  = m_k / N~_k,   N~_k = (N_k + epsilon) / (n + K epsilon) * n,  n = sum_k N_k

N~ is N with Laplace smoothing, which keeps an unused code's divisor away from zero.
Each code starts as if it had been chosen once where it stands (N_k = 1, m_k = e_k), so
an unused code decays towards its old place instead of jumping to zero.

Two aids against *dead codes* (codes no encoder output ever picks, which then never move):
``kmeans_init=True`` places the codebook by k-means (k-means++ seeds and Lloyd
iterations) on the first training batch, and ``restart_after=S`` moves every code unused
for S training calls onto a randomly chosen encoder output of the current batch.

    >>> import numpy as np
    >>> from tinygrad_ste import Tensor
    >>> vq = VectorQuantizer(num_codes=16, dim=2, restart_after=50)
    >>> z_e = Tensor(np.random.default_rng(1).standard_normal((10, 2)), requires_grad=True)
    >>> z_q, indices, loss = vq(z_e)        # z_q (10, 2), indices (10,), loss a scalar
    >>> (z_q.sum() + loss).backward()       # z_e.grad: straight-through plus commitment
    >>> z_e.grad.shape, vq.codebook.grad.shape
    ((10, 2), (16, 2))
"""
import numpy as np

from . import functional as F
from .arrays import rows_added
from .discrete import Quantize, quantize
from .kmeans import kmeans
from .module import Module
from .random import generator
from .tensor import Tensor, as_tensor

__all__ = ["VectorQuantizer", "ResidualVQ", "codebook_usage"]


def codebook_usage(indices, num_codes):
    """Perplexity and used fraction of a codebook, from the code index of each vector.

    indices: ints (N,) in [0, num_codes).  With p_k = (count of k) / N:
    perplexity = exp(-sum_k p_k log p_k) (0 log 0 = 0): the number of equally used codes
    that would give the same entropy -- 1 if one code takes everything, num_codes if all
    are used equally.  usage = (number of codes with p_k > 0) / num_codes.
    """
    indices = np.asarray(indices)
    if indices.size == 0:
        raise ValueError("codebook_usage: no indices given")
    p = np.bincount(indices.ravel(), minlength=num_codes) / indices.size
    used = p > 0
    return float(np.exp(-(p[used] * np.log(p[used])).sum())), float(used.mean())


class VectorQuantizer(Module):
    """``z_q, indices, loss = vq(z_e)``: nearest-code quantization with its VQ-VAE loss.

    num_codes K, dim D: the codebook is a (K, D) Tensor ``codebook``, initialised uniform
    in [-1/K, 1/K] (as common VQ-VAE code does) unless ``kmeans_init``.
    z_e: (N, D) -> z_q: (N, D) Tensor, indices: int array (N,), loss: scalar Tensor.

    Options: ``beta`` (commitment weight, 0.25 in the paper); ``backward`` ("identity",
    "rotation" or "zero": the rule of :func:`~tinygrad_ste.discrete.quantize`); ``ema``
    (EMA codebook updates with ``decay`` and Laplace ``epsilon``; the codebook then has
    requires_grad=False and is a buffer, not a parameter); ``kmeans_init`` (with
    ``kmeans_iterations`` Lloyd rounds; 0 keeps the k-means++ seeds, which are batch
    rows); ``restart_after`` (None: never restart dead codes).  ``rng`` (a NumPy
    Generator) makes the random choices; None uses the library-wide generator
    (:func:`tinygrad_ste.manual_seed`).

    Codebook updates, k-means initialisation and restarts happen only in training mode.
    After every call, ``perplexity`` and ``usage`` describe that call's indices (see
    :func:`codebook_usage`) and ``restarts`` counts the codes restarted so far.
    """

    def __init__(self, num_codes, dim, beta=0.25, *, rng=None, backward="identity", ema=False, decay=0.99,
                 epsilon=1e-5, kmeans_init=False, kmeans_iterations=10, restart_after=None):
        if num_codes < 1 or dim < 1:
            raise ValueError(f"VectorQuantizer: num_codes and dim must be positive, got {num_codes} and {dim}")
        if beta < 0 or not 0 < decay < 1 or epsilon <= 0:
            raise ValueError(f"VectorQuantizer: need beta >= 0, 0 < decay < 1, epsilon > 0; "
                             f"got beta={beta}, decay={decay}, epsilon={epsilon}")
        if restart_after is not None and restart_after < 1:
            raise ValueError(f"VectorQuantizer: restart_after must be None or >= 1, got {restart_after}")
        Quantize.resolve_rule(backward)   # an unknown rule name fails here, not at the first batch
        rng = generator(rng, "VectorQuantizer")
        self.num_codes, self.dim, self.beta, self.backward = num_codes, dim, beta, backward
        self.ema, self.decay, self.epsilon = ema, decay, epsilon
        self.kmeans_iterations, self.restart_after, self.rng = kmeans_iterations, restart_after, rng
        bound = 1 / num_codes
        self.codebook = Tensor(rng.uniform(-bound, bound, (num_codes, dim)), requires_grad=not ema)
        if ema:
            self.ema_count = Tensor(np.ones(num_codes))
            self.ema_sum = Tensor(self.codebook.data.copy())
        # A buffer, not a plain flag, so a saved and reloaded model is not re-initialised (1.0 = done).
        self.initialized = Tensor(0.0 if kmeans_init else 1.0)
        self.steps_since_used = np.zeros(num_codes, dtype=np.int64)
        self.perplexity = self.usage = float("nan")
        self.restarts = 0

    def forward(self, z_e):
        z_e = as_tensor(z_e)
        if z_e.ndim != 2 or z_e.shape[1] != self.dim:
            raise ValueError(f"VectorQuantizer(num_codes={self.num_codes}, dim={self.dim}): expected z_e of shape "
                             f"(N, {self.dim}), got {z_e.shape}")
        if self.training and not self.initialized.item():
            if z_e.shape[0] < self.num_codes:
                raise ValueError(f"VectorQuantizer: k-means initialisation needs a first batch of at least "
                                 f"num_codes={self.num_codes} vectors, got z_e of shape {z_e.shape}")
            self._set_codes(np.arange(self.num_codes),
                            kmeans(z_e.data, self.num_codes, self.rng, iterations=self.kmeans_iterations)[0])
            self.initialized.data[...] = 1.0

        z_q, indices = quantize(z_e, self.codebook, backward=self.backward)
        loss = self.beta * F.mse_loss(z_e, z_q.detach())   # commitment
        if not self.ema:
            # The code rows themselves (not z_q, whose straight-through rule sends the
            # codebook nothing) pulled towards the frozen encoder outputs.
            loss = loss + F.mse_loss(self.codebook[indices], z_e.detach())

        self.perplexity, self.usage = codebook_usage(indices, self.num_codes)
        if self.training:
            # Plain NumPy on .data: these updates are not part of any graph.
            if self.ema:
                self._ema_update(z_e.data, indices)
            self._track_usage(z_e.data, indices)
        return z_q, indices, loss

    def _ema_update(self, z, indices):
        """Move each code to the running mean of the vectors assigned to it (module docstring)."""
        batch_counts = np.bincount(indices, minlength=self.num_codes)
        batch_sums = rows_added(self.codebook.shape, indices, z, dtype=self.codebook.dtype)
        count, total = self.ema_count.data, self.ema_sum.data
        count[...] = self.decay * count + (1 - self.decay) * batch_counts
        total[...] = self.decay * total + (1 - self.decay) * batch_sums
        n = count.sum()
        smoothed = (count + self.epsilon) / (n + self.num_codes * self.epsilon) * n
        self.codebook.data[...] = total / smoothed[:, None]

    def _track_usage(self, z, indices):
        """Count calls since each code was last used; restart those unused for ``restart_after`` calls."""
        self.steps_since_used += 1
        self.steps_since_used[indices] = 0
        if self.restart_after is None:
            return
        dead = np.flatnonzero(self.steps_since_used >= self.restart_after)
        if dead.size:
            rows = self.rng.choice(len(z), size=dead.size, replace=dead.size > len(z))
            self._set_codes(dead, z[rows])
            self.restarts += dead.size

    def _set_codes(self, which, vectors):
        """Put codes ``which`` at ``vectors``, as fresh codes (unused count and EMA history reset)."""
        self.codebook.data[which] = vectors
        self.steps_since_used[which] = 0
        if self.ema:
            self.ema_count.data[which] = 1.0
            self.ema_sum.data[which] = vectors

    def __repr__(self):
        return (f"VectorQuantizer(num_codes={self.num_codes}, dim={self.dim}, beta={self.beta}, "
                f"backward={self.backward!r}, ema={self.ema})")


class ResidualVQ(Module):
    """``z_q, indices, loss = rvq(z)``: residual vector quantization (SoundStream, Zeghidour et al.
    2021; EnCodec, Defossez et al. 2022).

    ``num_quantizers`` stages, each a :class:`VectorQuantizer` of ``num_codes`` codes of
    ``dim`` (``vq_options`` go to every stage; ``rng``, None for the library-wide generator,
    draws their codebooks and the quantizer dropout).  Stage 1 quantizes z,
    each later stage quantizes what the stages before it left over:

        r_1 = z,   q_s = VQ_s(r_s),   r_{s+1} = r_s - sg(q_s),   z_q = q_1 + ... + q_Q

    so a vector costs Q * log2(num_codes) bits and the reachable points number
    num_codes ** Q, from only Q * num_codes stored codes.  The next residual subtracts
    the hard code sg(q_s) (``.detach()``), so every r_s moves one-for-one with z and
    stage s's commitment loss beta * ||r_s - sg(q_s)||^2 pulls the encoder output:
    dL/dz = 2 beta (r_s - q_s) / (N * dim) from each stage.  (Subtracting the
    straight-through q_s instead makes r_{s+1} constant in z, so the commitment losses of
    stages 2 and later would train nothing: the bug reported in EnCodec's and
    vector-quantize-pytorch's trackers, whose fix this is.)  The decoder's gradient
    reaches z once through every stage: with straight-through stages
    dL/dz = Q * dL/dz_q, as in vector-quantize-pytorch.
    z: (N, dim) -> z_q: (N, dim) Tensor, indices: int array (N, q), loss: the sum of the
    stages' losses (scalar Tensor).

    ``rvq(z, n_quantizers=q)`` uses only the first q stages: a coarser code from the same
    model (SoundStream's bitrate scalability).  With ``quantizer_dropout=True`` each
    training call (a batch; SoundStream draws per example) uses the first q stages, q
    uniform in 1..num_quantizers, so that every prefix of the stack learns to stand alone.
    ``perplexity`` and ``usage`` after a call: their means over the stages used.
    """

    def __init__(self, num_quantizers, num_codes, dim, *, rng=None, quantizer_dropout=False, **vq_options):
        if num_quantizers < 1:
            raise ValueError(f"ResidualVQ: num_quantizers must be >= 1, got {num_quantizers}")
        rng = generator(rng, "ResidualVQ")
        self.num_quantizers, self.num_codes, self.dim = num_quantizers, num_codes, dim
        self.quantizer_dropout, self.rng = quantizer_dropout, rng
        self.stages = [VectorQuantizer(num_codes, dim, rng=rng, **vq_options) for _ in range(num_quantizers)]
        self.perplexity = self.usage = float("nan")

    def forward(self, z, n_quantizers=None):
        if n_quantizers is None:
            n_quantizers = self.num_quantizers
            if self.training and self.quantizer_dropout:
                n_quantizers = int(self.rng.integers(1, self.num_quantizers + 1))
        if not 1 <= n_quantizers <= self.num_quantizers:
            raise ValueError(f"ResidualVQ: n_quantizers must be in 1..{self.num_quantizers}, got {n_quantizers}")
        residual = as_tensor(z)
        z_q, indices, loss = None, [], None
        for stage in self.stages[:n_quantizers]:
            stage_q, stage_indices, stage_loss = stage(residual)
            z_q = stage_q if z_q is None else z_q + stage_q
            loss = stage_loss if loss is None else loss + stage_loss
            residual = residual - stage_q.detach()   # the hard code: the next commitment pulls z too
            indices.append(stage_indices)
        used = self.stages[:n_quantizers]
        self.perplexity = float(np.mean([stage.perplexity for stage in used]))
        self.usage = float(np.mean([stage.usage for stage in used]))
        return z_q, np.stack(indices, axis=1), loss

    @property
    def restarts(self):
        """Dead codes restarted so far, over all stages."""
        return sum(stage.restarts for stage in self.stages)

    def __repr__(self):
        return (f"ResidualVQ(num_quantizers={self.num_quantizers}, num_codes={self.num_codes}, dim={self.dim}, "
                f"quantizer_dropout={self.quantizer_dropout})")
