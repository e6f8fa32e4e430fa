"""Finite scalar quantization (FSQ; Mentzer et al. 2023, "Finite Scalar Quantization: VQ-VAE Made Simple").

FSQ replaces the learned codebook of VQ-VAE by a fixed grid.  Each of the d dimensions
of a vector z gets its own number of levels L_i and is

1. **bounded** to L_i values' worth of range with the paper's tanh bound,

       half_i = (L_i - 1) (1 - eps) / 2,   offset_i = 0.5 if L_i is even else 0,
       shift_i = tan(offset_i / half_i),
       b_i(z) = tanh(z_i + shift_i) * half_i - offset_i          (eps = 1e-3),

   so b_i lies in (-L_i/2, L_i/2) for odd L_i and in (-L_i/2, L_i/2 - 1) for even L_i:
   the half-level offset makes an even number of integers reachable, and the shift puts
   b_i(0) near 0;
2. **rounded** with :func:`tinygrad_ste.round`, so every backward rule of round applies
   (straight-through "identity" by default: dL/dz_i = dL/dz_q_i * b_i'(z_i) / w_i);
3. **scaled** to [-1, 1] by w_i = L_i // 2:  z_q_i = round(b_i(z_i)) / w_i.

The implicit codebook is the grid of all prod(L_i) combinations of levels (8 * 5 * 5 * 5
= 1000 codes, about 10 bits, for levels [8, 5, 5, 5]).  Code index: the levels k_i =
round(b_i) + w_i in {0, ..., L_i - 1} read as a mixed-radix number, index = sum_i k_i B_i
with B_1 = 1, B_{i+1} = B_i L_i.

Why it cannot collapse: there are no code vectors to learn.  In VQ a code that no encoder
output picks gets no gradient, stays where it is, and so stays unpicked (a dead code that
only a restart revives).  FSQ's grid points are fixed: none can be left behind, a point is
used as soon as the encoder sends a vector into its cell, and the straight-through
gradient reaches every coordinate (b' > 0 everywhere).  No codebook loss, no commitment
loss, no restarts.  Grid points the encoder never visits stay unused, but nothing is stuck.

    >>> import numpy as np
    >>> from tinygrad_ste import Tensor
    >>> fsq = FSQ([8, 5, 5, 5])
    >>> z_q, indices = fsq(Tensor(np.random.default_rng(0).normal(size=(6, 4)), requires_grad=True))
    >>> fsq.codebook_size, z_q.shape, indices.shape
    (1000, (6, 4), (6,))
    >>> bool(np.allclose(fsq.indices_to_codes(indices), z_q.data))
    True
"""
import numbers

import numpy as np

from .discrete import Round, round
from .module import Module
from .tensor import as_tensor
from .vq import codebook_usage

__all__ = ["FSQ"]


class FSQ(Module):
    """``z_q, indices = fsq(z)``: finite scalar quantization with ``levels`` L_i per dimension.

    z: (..., d) with d = len(levels) -> z_q: (..., d) Tensor with entries in [-1, 1];
    indices: int array (...) in [0, codebook_size).  ``backward``: the rule of
    :func:`tinygrad_ste.round` ("identity" straight-through by default, "clipped",
    "zero" or a callable).  No parameters.  After every call, ``perplexity`` and
    ``usage`` describe that call's indices (see :func:`~tinygrad_ste.vq.codebook_usage`).
    Formula, implicit codebook, and why it cannot collapse: see the module docstring.
    """
    EPS = 1e-3

    def __init__(self, levels, backward="identity"):
        levels = list(levels) if np.ndim(levels) else levels
        if not isinstance(levels, list) or not levels:
            raise ValueError(f"FSQ: levels must be a non-empty list of integers >= 2 (one per dimension), "
                             f"got {levels!r}")
        if not all(isinstance(L, numbers.Integral) for L in levels):
            raise TypeError(f"FSQ: levels must be integers, got {levels!r}")
        if min(levels) < 2:
            raise ValueError(f"FSQ: every dimension needs at least 2 levels, got levels {levels}")
        Round.resolve_rule(backward)   # an unknown rule name fails here, not at the first batch
        self.levels, self.backward = np.array(levels, dtype=np.int64), backward
        self.dim, self.codebook_size = len(levels), int(np.prod(self.levels))
        self.half_width = self.levels // 2
        self.basis = np.concatenate(([1], np.cumprod(self.levels[:-1])))   # mixed-radix place values
        half = (self.levels - 1) * (1 - self.EPS) / 2
        offset = np.where(self.levels % 2 == 0, 0.5, 0.0)
        self._half, self._offset, self._shift = half, offset, np.tan(offset / half)
        self.perplexity = self.usage = float("nan")

    def bound(self, z):
        """b(z) = tanh(z + shift) * half - offset, elementwise along the last axis (a Tensor)."""
        return (as_tensor(z) + self._shift).tanh() * self._half - self._offset

    def forward(self, z):
        z = as_tensor(z)
        if z.ndim < 1 or z.shape[-1] != self.dim:
            raise ValueError(f"FSQ(levels={self.levels.tolist()}): expected z of shape (..., {self.dim}), "
                             f"got {z.shape}")
        z_q = round(self.bound(z), backward=self.backward) / self.half_width
        indices = self.codes_to_indices(z_q.data)
        if indices.size:
            self.perplexity, self.usage = codebook_usage(indices, self.codebook_size)
        return z_q, indices

    def codes_to_indices(self, codes):
        """Grid points (..., d) in [-1, 1] (as returned by the forward) -> their indices (...)."""
        codes = np.asarray(codes)
        if codes.ndim < 1 or codes.shape[-1] != self.dim:
            raise ValueError(f"FSQ.codes_to_indices: expected codes of shape (..., {self.dim}), got {codes.shape}")
        digits = np.rint(codes * self.half_width + self.half_width).astype(np.int64)
        return (digits * self.basis).sum(axis=-1)

    def indices_to_codes(self, indices):
        """Indices (...) in [0, codebook_size) -> grid points (..., d) in [-1, 1] (a NumPy array)."""
        indices = np.asarray(indices)
        if not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"FSQ.indices_to_codes: indices must be integers, got dtype {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= self.codebook_size):
            raise ValueError(f"FSQ.indices_to_codes: indices must lie in [0, {self.codebook_size}), "
                             f"got values from {indices.min()} to {indices.max()}")
        digits = (indices[..., None] // self.basis) % self.levels
        return (digits - self.half_width) / self.half_width

    def __repr__(self):
        return f"FSQ(levels={self.levels.tolist()}, backward={self.backward!r})"
