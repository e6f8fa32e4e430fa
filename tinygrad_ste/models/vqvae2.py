"""VQ-VAE-2 at the scale of the 8x8 digits (Razavi, van den Oord and Vinyals 2019, "Generating
Diverse High-Fidelity Images with VQ-VAE-2"): a coarse top grid of codes for the whole digit and a
4x4 bottom grid for the local detail, the bottom one encoded and decoded given the top one."""
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..data import load_digits
from ..function import no_grad
from ..module import Module
from ..nn import Conv2d, ReLU, Sequential, Upsample, VectorQuantizer
from ..optim import Adam
from ..tensor import Tensor
from .conv_vqvae import SIDE, as_images, downsampler, from_code_vectors, to_code_vectors, upsampler
from .training import TrainingResult, timed_train_epochs

__all__ = ["VQVAE2", "VQVAE2Result", "train_vqvae2", "decode_levels"]

BOTTOM, TOP = 4, 2   # grid sides: 8x8 digit -> 4x4 bottom codes -> 2x2 top codes


class VQVAE2(Module):
    """Two levels of codes, as in VQ-VAE-2's figure 2a, for 8x8 digits:

    * bottom features h (N, hidden, 4, 4) = downsample(x);
    * top: z_top = conv(downsample(h)) (N, D, 2, 2) -> nearest of ``top_codes`` codes -> q_top;
    * the top, decoded to the bottom's grid: t = upsample(conv(q_top)) (N, hidden, 4, 4);
    * bottom: z_bottom = conv([h, t]) (N, D, 4, 4) -> nearest of ``bottom_codes`` codes -> q_bottom,
      so the bottom codes only need to say what the top did not;
    * decoder: [q_bottom, upsample(q_top)] (N, 2D, 4, 4) -> upsample and convs -> x_hat (N, 64).

    ``forward(x)``: x (N, 64) -> reconstruction (N, 64), top codes (N, 2, 2), bottom codes
    (N, 4, 4), the two quantizers' summed loss.  ``decode(top, bottom)`` draws the digit of any
    pair of code grids: the step after sampling, and the way to see what each level encodes
    (fix one level, vary the other).  ``vq_options`` go to both
    :class:`~tinygrad_ste.vq.VectorQuantizer` (backward rule, commitment ``beta``, ``ema`` ...).
    """

    def __init__(self, top_codes=16, bottom_codes=16, code_dim=8, hidden=32, *, rng=None, **vq_options):
        self.top_codes, self.bottom_codes, self.code_dim = top_codes, bottom_codes, code_dim
        self.bottom_encoder = Sequential(*downsampler(1, hidden, 1, rng))
        self.top_encoder = Sequential(Conv2d(hidden, hidden, 4, stride=2, padding=1, rng=rng), ReLU(),
                                      Conv2d(hidden, code_dim, 1, rng=rng))
        self.top_quantizer = VectorQuantizer(top_codes, code_dim, rng=rng, **vq_options)
        self.top_to_bottom = Sequential(Conv2d(code_dim, hidden, 3, padding=1, rng=rng), ReLU(), Upsample(2))
        self.bottom_mixer = Conv2d(2 * hidden, code_dim, 1, rng=rng)
        self.bottom_quantizer = VectorQuantizer(bottom_codes, code_dim, rng=rng, **vq_options)
        self.decoder = upsampler(2 * code_dim, hidden, 1, rng)

    @property
    def bits(self):
        """Bits per image: 4 top codes of log2(top_codes) bits and 16 bottom codes of log2(bottom_codes)."""
        return TOP ** 2 * float(np.log2(self.top_codes)) + BOTTOM ** 2 * float(np.log2(self.bottom_codes))

    def forward(self, x):
        h = self.bottom_encoder(as_images(x))
        n = h.shape[0]
        z_top = self.top_encoder(h)
        q_top, top_indices, top_loss = self.top_quantizer(to_code_vectors(z_top))
        q_top = from_code_vectors(q_top, n, TOP, TOP)
        z_bottom = self.bottom_mixer(F.concatenate([h, self.top_to_bottom(q_top)], axis=1))
        q_bottom, bottom_indices, bottom_loss = self.bottom_quantizer(to_code_vectors(z_bottom))
        reconstruction = self._decode(q_top, from_code_vectors(q_bottom, n, BOTTOM, BOTTOM))
        return (reconstruction, top_indices.reshape(n, TOP, TOP), bottom_indices.reshape(n, BOTTOM, BOTTOM),
                top_loss + bottom_loss)

    def _decode(self, q_top, q_bottom):
        both = F.concatenate([q_bottom, F.upsample(q_top, BOTTOM // TOP)], axis=1)
        return self.decoder(both).reshape(q_top.shape[0], SIDE * SIDE)

    def decode(self, top, bottom):
        """Code grids top (N, 2, 2) and bottom (N, 4, 4), ints -> digits (N, 64)."""
        top, bottom = np.asarray(top), np.asarray(bottom)
        n = top.shape[0]
        q_top = from_code_vectors(self.top_quantizer.codebook[top.reshape(-1)], n, TOP, TOP)
        q_bottom = from_code_vectors(self.bottom_quantizer.codebook[bottom.reshape(-1)], n, BOTTOM, BOTTOM)
        return self._decode(q_top, q_bottom)


@dataclass
class VQVAE2Result(TrainingResult):
    """What :func:`train_vqvae2` measured: per-epoch "loss" and "reconstruction"; test_mse and the
    per-image test_errors; the code grids of every training and test digit (train_top (N, 2, 2),
    train_bottom (N, 4, 4), test_top, test_bottom)."""
    test_mse: float
    test_errors: np.ndarray
    train_top: np.ndarray
    train_bottom: np.ndarray
    test_top: np.ndarray
    test_bottom: np.ndarray


def train_vqvae2(top_codes=16, bottom_codes=16, code_dim=8, hidden=32, rule="identity", ema=False, restart_after=100,
                 beta=0.25, epochs=20, batch_size=64, lr=2e-3, seed=0, verbose=False):
    """Train a :class:`VQVAE2` end to end on MSE + both quantizers' losses with Adam, through both
    quantizers with the same ``rule`` (straight-through by default); returns a :class:`VQVAE2Result`."""
    options = dict(top_codes=top_codes, bottom_codes=bottom_codes, code_dim=code_dim, hidden=hidden, rule=rule,
                   ema=ema, restart_after=restart_after, beta=beta, epochs=epochs, batch_size=batch_size, lr=lr,
                   seed=seed)
    rng = np.random.default_rng(seed)
    train_images, test_images = load_digits("train")[0], load_digits("test")[0]
    model = VQVAE2(top_codes, bottom_codes, code_dim, hidden, rng=rng, beta=beta, backward=rule, ema=ema,
                   restart_after=restart_after)

    def step(images):
        images = Tensor(images)
        reconstruction, _, _, quantizer_loss = model(images)
        reconstruction_loss = F.mse_loss(reconstruction, images)
        loss = reconstruction_loss + quantizer_loss
        return loss, {"loss": loss.item(), "reconstruction": reconstruction_loss.item()}

    history, seconds = timed_train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size,
                                          rng, verbose, name="vqvae2")
    model.eval()
    with no_grad():
        reconstruction, test_top, test_bottom, _ = model(Tensor(test_images))
        _, train_top, train_bottom, _ = model(Tensor(train_images))
    test_errors = ((reconstruction.data - test_images) ** 2).mean(axis=1)
    return VQVAE2Result(model=model, history=history, test_mse=float(test_errors.mean()), test_errors=test_errors,
                        train_top=train_top, train_bottom=train_bottom, test_top=test_top, test_bottom=test_bottom,
                        seconds=seconds, options=options)


def decode_levels(result, top, bottom, other):
    """What each level of a trained VQ-VAE-2 encodes: its digits decoded four ways.

    ``result``: a :class:`VQVAE2Result`; ``top`` (N, 2, 2) and ``bottom`` (N, 4, 4): the code
    grids of N digits; ``other`` (N,) ints: whose top codes each digit gets in the swap.
    Returns ``{"both levels", "top alone", "bottom alone", "swapped top": (N, 64) digits}``:
    "top alone" sets every bottom code to the bottom code most frequent in training, "bottom
    alone" every top code to the most frequent top code, and "swapped top" decodes digit i's
    bottom codes with the top codes of digit ``other[i]``.
    """
    top, bottom = np.asarray(top), np.asarray(bottom)
    common_top = np.bincount(result.train_top.ravel()).argmax()
    common_bottom = np.bincount(result.train_bottom.ravel()).argmax()
    with no_grad():
        return {"both levels": result.model.decode(top, bottom).data,
                "top alone": result.model.decode(top, np.full_like(bottom, common_bottom)).data,
                "bottom alone": result.model.decode(np.full_like(top, common_top), bottom).data,
                "swapped top": result.model.decode(top[np.asarray(other)], bottom).data}
