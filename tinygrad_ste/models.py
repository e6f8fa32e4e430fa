"""Small models trained on the 8x8 digits, the ones the lessons and figures use.

Each ``train_*`` function builds a model, trains it with Adam and returns a result
object holding the trained model, per-epoch histories, the final test metrics and the
training time.  Every random choice comes from ``numpy.random.default_rng(seed)``, so a
seed reproduces a run exactly; ``verbose=True`` prints one line per epoch.

* :func:`train_vq_autoencoder` -- an MLP autoencoder whose bottleneck is several code
  vectors from one shared :class:`~tinygrad_ste.vq.VectorQuantizer` codebook, measured
  against :func:`kmeans_reconstruction_mse`, the best one code per image can do.
* :func:`train_binary_network` -- BinaryConnect (Courbariaux et al. 2015): a classifier
  whose weights are +/-1 in the forward pass, trained through ``sign`` with a
  straight-through rule.
* :func:`train_categorical_autoencoder` -- an autoencoder whose code is a few categorical
  variables *sampled* from the encoder's logits, trained with any estimator of
  :mod:`tinygrad_ste.stochastic`, so their training curves can be compared on one task.

``python -m tinygrad_ste.models`` trains each in the variants the lessons compare and
prints the measurements (:func:`print_measurements`).
"""
import time
from dataclasses import dataclass, field

import numpy as np

from . import functional as F
from .data import iterate_minibatches, load_digits
from .discrete import nearest_code, sign
from .function import no_grad
from .kmeans import kmeans
from .module import Module
from .nn import MLP, VectorQuantizer
from .optim import Adam
from .stochastic import ESTIMATORS, make_baseline, reinforce_loss, sample_categorical
from .tensor import Tensor
from .vq import codebook_usage

__all__ = ["train_epochs", "kmeans_reconstruction_mse",
           "VQAutoencoder", "VQAutoencoderResult", "train_vq_autoencoder",
           "BinaryLinear", "BinaryNetwork", "BinaryNetworkResult", "train_binary_network",
           "CategoricalAutoencoder", "CategoricalAutoencoderResult", "train_categorical_autoencoder",
           "print_measurements"]

PIXELS = 64


def train_epochs(step, optimizer, arrays, epochs, batch_size, rng, verbose=False, name="train", after_step=None,
                 after_epoch=None):
    """The training loop shared by every model here; returns the per-epoch history.

    Each epoch shuffles ``arrays`` (aligned data arrays) into minibatches; for each batch,
    ``step(*batch)`` returns ``(objective, metrics)``: the scalar Tensor to differentiate and
    a dict of floats to record.  Then ``objective.backward()``, ``optimizer.step()`` and
    ``after_step()`` (if given, e.g. to clip weights).  The history maps each metric name
    to its list of per-epoch means, weighted by batch size, plus whatever dict of floats
    ``after_epoch()`` returns at the end of each epoch (e.g. a test error).
    """
    history = {}
    for epoch in range(1, epochs + 1):
        sums, count = {}, 0
        for batch in iterate_minibatches(arrays, batch_size, rng):
            optimizer.zero_grad()
            objective, metrics = step(*batch)
            objective.backward()
            optimizer.step()
            if after_step is not None:
                after_step()
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value * len(batch[0])
            count += len(batch[0])
        epoch_metrics = {key: total / count for key, total in sums.items()}
        epoch_metrics.update(after_epoch() if after_epoch is not None else {})
        for key, value in epoch_metrics.items():
            history.setdefault(key, []).append(value)
        if verbose:
            print(f"{name} epoch {epoch:3d}/{epochs}: " + "  ".join(f"{k} {v[-1]:.4f}" for k, v in history.items()))
    return history


def kmeans_reconstruction_mse(num_codes, seed=0):
    """Test MSE of k-means on the raw training pixels: the bar a VQ autoencoder must clear.

    Replacing each test image by its nearest of ``num_codes`` centres is the best a
    one-code-per-image compressor with that codebook size can do on squared error (up to
    k-means finding a local optimum).  Returns the mean over test images and pixels.
    """
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    centres, _ = kmeans(train_images, num_codes, np.random.default_rng(seed))
    return float(((test_images - centres[nearest_code(test_images, centres)]) ** 2).mean())


# ------------------------------------------------------------------ VQ autoencoder


class VQAutoencoder(Module):
    """64 pixels -> encoder MLP -> ``codes_per_image`` vectors of ``code_dim`` -> quantized -> decoder MLP -> 64.

    x: (N, 64) -> (reconstruction (N, 64), indices (N, codes_per_image), vq loss).
    All code vectors of all images share one codebook of ``num_codes`` rows, so an image
    is described by codes_per_image choices among num_codes: num_codes ** codes_per_image
    possible reconstructions instead of num_codes for one code per image.
    ``vq_options`` go to :class:`~tinygrad_ste.vq.VectorQuantizer`.
    """

    def __init__(self, num_codes, codes_per_image, code_dim, hidden, *, rng, **vq_options):
        self.codes_per_image, self.code_dim = codes_per_image, code_dim
        self.encoder = MLP([PIXELS, hidden, codes_per_image * code_dim], rng=rng)
        self.quantizer = VectorQuantizer(num_codes, code_dim, rng=rng, **vq_options)
        self.decoder = MLP([codes_per_image * code_dim, hidden, PIXELS], rng=rng)

    def forward(self, x):
        batch = x.shape[0]
        z_e = self.encoder(x).reshape(batch * self.codes_per_image, self.code_dim)
        z_q, indices, vq_loss = self.quantizer(z_e)
        reconstruction = self.decoder(z_q.reshape(batch, self.codes_per_image * self.code_dim))
        return reconstruction, indices.reshape(batch, self.codes_per_image), vq_loss


@dataclass
class VQAutoencoderResult:
    """What :func:`train_vq_autoencoder` measured.

    history: per-epoch training means of "loss" (reconstruction + vq loss),
    "reconstruction" (MSE), "perplexity" and "usage" (per batch).  test_mse: test
    reconstruction MSE; kmeans_mse: :func:`kmeans_reconstruction_mse` with the same
    number of codes.  perplexity, usage: over all test code vectors.  dead_fraction:
    share of codes no training image uses.  restarts: dead codes restarted in training.
    """
    model: VQAutoencoder
    history: dict
    test_mse: float
    kmeans_mse: float
    perplexity: float
    usage: float
    dead_fraction: float
    restarts: int
    seconds: float
    options: dict = field(default_factory=dict)


def train_vq_autoencoder(num_codes=256, codes_per_image=8, code_dim=8, hidden=128, rule="identity", ema=False,
                         restart_after=100, kmeans_init=False, beta=0.25, epochs=60, batch_size=64, lr=2e-3,
                         seed=0, verbose=False):
    """Train a :class:`VQAutoencoder` on the digits; returns a :class:`VQAutoencoderResult`.

    Minimises MSE(decoder(z_q), x) + the quantizer's loss with Adam(lr).  ``rule``
    ("identity" straight-through, "rotation" trick, "zero"), ``ema``, ``restart_after``
    (None: no dead-code restart), ``kmeans_init`` and ``beta`` are the quantizer's options.
    """
    options = dict(num_codes=num_codes, codes_per_image=codes_per_image, code_dim=code_dim, hidden=hidden,
                   rule=rule, ema=ema, restart_after=restart_after, kmeans_init=kmeans_init, beta=beta,
                   epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    model = VQAutoencoder(num_codes, codes_per_image, code_dim, hidden, rng=rng, beta=beta, backward=rule, ema=ema,
                          restart_after=restart_after, kmeans_init=kmeans_init)
    quantizer = model.quantizer

    def step(images):
        images = Tensor(images)
        reconstruction, _, vq_loss = model(images)
        reconstruction_loss = F.mse_loss(reconstruction, images)
        loss = reconstruction_loss + vq_loss
        return loss, {"loss": loss.item(), "reconstruction": reconstruction_loss.item(),
                      "perplexity": quantizer.perplexity, "usage": quantizer.usage}

    start = time.perf_counter()
    history = train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size, rng,
                           verbose, name="vq-autoencoder")
    seconds = time.perf_counter() - start

    model.eval()
    with no_grad():
        reconstruction, test_indices, _ = model(Tensor(test_images))
        _, train_indices, _ = model(Tensor(train_images))
    perplexity, usage = codebook_usage(test_indices, num_codes)
    result = VQAutoencoderResult(
        model=model, history=history, test_mse=float(((reconstruction.data - test_images) ** 2).mean()),
        kmeans_mse=kmeans_reconstruction_mse(num_codes, seed), perplexity=perplexity, usage=usage,
        dead_fraction=1 - codebook_usage(train_indices, num_codes)[1], restarts=quantizer.restarts,
        seconds=seconds, options=options)
    if verbose:
        print(f"vq-autoencoder: test MSE {result.test_mse:.4f} (k-means with {num_codes} codes: "
              f"{result.kmeans_mse:.4f}), perplexity {perplexity:.1f}, usage {usage:.2f}, "
              f"dead {result.dead_fraction:.2f}, {seconds:.1f} s")
    return result


# ------------------------------------------------------------------ BinaryConnect


class BinaryLinear(Module):
    """y = (x @ sign(W)) * gain / sqrt(in_features) + b, with +/-1 weights in the forward pass.

    ``weight`` W (in_features, out_features) holds the real-valued *latent* weights, in
    [-1, 1] (start uniform there, and :func:`train_binary_network` clips them back after
    every step); only their signs are used.  ``rule`` is the backward rule of ``sign``:
    "identity" (dL/dW = dL/dsign(W)) or "clipped" (the same times 1[|W| <= 1]).
    ``rule=None`` uses W itself: the same layer with real weights.  The factor
    1 / sqrt(in_features) keeps outputs of order one at the start, and the real-valued
    per-output ``gain`` (starting at 1) lets training set their scale: the role of batch
    normalisation's learned scale in the paper, which +/-1 weights cannot play.  Real
    weights then start as :class:`~tinygrad_ste.nn.Linear` does.
    """

    def __init__(self, in_features, out_features, rule, *, rng):
        self.rule, self.scale = rule, 1 / np.sqrt(in_features)
        self.weight = Tensor(rng.uniform(-1, 1, (in_features, out_features)), requires_grad=True)
        self.gain = Tensor(np.ones(out_features), requires_grad=True)
        self.bias = Tensor(np.zeros(out_features), requires_grad=True)

    def forward(self, x):
        weight = self.weight if self.rule is None else sign(self.weight, backward=self.rule)
        return (x @ weight) * (self.gain * self.scale) + self.bias


class BinaryNetwork(Module):
    """64 -> hidden -> 10 classifier of :class:`BinaryLinear` layers (logits out).

    The hidden activation is tanh, or with ``binarize_activations`` sign itself, trained
    with the same ``rule`` (BinaryNet, Hubara et al. 2016): activations are +/-1 too.
    """

    def __init__(self, hidden, rule, binarize_activations=False, *, rng):
        self.rule, self.binarize_activations = rule, binarize_activations
        self.hidden = BinaryLinear(PIXELS, hidden, rule, rng=rng)
        self.output = BinaryLinear(hidden, 10, rule, rng=rng)

    def forward(self, x):
        h = self.hidden(x)
        h = sign(h, backward=self.rule) if self.binarize_activations else h.tanh()
        return self.output(h)


@dataclass
class BinaryNetworkResult:
    """What :func:`train_binary_network` measured: per-epoch "loss" and "accuracy"
    (training batches), test_accuracy and the training time."""
    model: BinaryNetwork
    history: dict
    test_accuracy: float
    seconds: float
    options: dict = field(default_factory=dict)


def train_binary_network(rule="identity", binarize_activations=False, hidden=128, epochs=20, batch_size=32,
                         lr=0.01, seed=0, verbose=False):
    """Train a :class:`BinaryNetwork` on the digits with cross-entropy and Adam; returns a
    :class:`BinaryNetworkResult`.

    ``rule``: "identity" or "clipped" for binary weights (latent weights clipped to
    [-1, 1] after every step, as BinaryConnect does: a latent weight far past the
    threshold would need as many steps to come back), None for the real-valued baseline
    (no sign, no clipping).  Note: since the latent weights never leave [-1, 1], the
    clipped rule's 1[|W| <= 1] is always 1 on the weights, so "identity" and "clipped"
    differ only where ``binarize_activations`` applies sign to activations, which are not
    clipped.
    """
    options = dict(rule=rule, binarize_activations=binarize_activations, hidden=hidden, epochs=epochs,
                   batch_size=batch_size, lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    model = BinaryNetwork(hidden, rule, binarize_activations, rng=rng)
    latent_weights = [model.hidden.weight, model.output.weight]

    def step(images, labels):
        logits = model(Tensor(images))
        loss = F.cross_entropy(logits, labels)
        return loss, {"loss": loss.item(), "accuracy": float((logits.data.argmax(axis=1) == labels).mean())}

    def clip_latent_weights():
        for weight in latent_weights:
            np.clip(weight.data, -1, 1, out=weight.data)

    start = time.perf_counter()
    history = train_epochs(step, Adam(model.parameters(), lr=lr), (train_images, train_labels), epochs, batch_size,
                           rng, verbose, name=f"binary network ({rule})",
                           after_step=None if rule is None else clip_latent_weights)
    seconds = time.perf_counter() - start
    with no_grad():
        test_accuracy = float((model(Tensor(test_images)).data.argmax(axis=1) == test_labels).mean())
    if verbose:
        print(f"binary network ({rule}): test accuracy {test_accuracy:.3f}, {seconds:.1f} s")
    return BinaryNetworkResult(model=model, history=history, test_accuracy=test_accuracy, seconds=seconds,
                               options=options)


# ------------------------------------------------------------------ categorical latent autoencoder


class CategoricalAutoencoder(Module):
    """64 pixels -> encoder MLP -> logits of ``num_latents`` categorical variables over
    ``num_categories`` -> (a one-hot sample) -> decoder MLP -> 64 pixels.

    ``logits(x)``: (N, 64) -> (N, L, K).  ``decode(z)``: one-hot or relaxed samples
    (..., N, L, K) -> reconstructions (..., N, 64).  The code of an image is L choices
    among K: K ** L possible codes (log2 K bits each).
    """

    def __init__(self, num_latents, num_categories, hidden, *, rng):
        self.num_latents, self.num_categories = num_latents, num_categories
        self.encoder = MLP([PIXELS, hidden, num_latents * num_categories], rng=rng)
        self.decoder = MLP([num_latents * num_categories, hidden, PIXELS], rng=rng)

    def logits(self, x):
        return self.encoder(x).reshape(x.shape[0], self.num_latents, self.num_categories)

    def decode(self, z):
        return self.decoder(z.reshape(*z.shape[:-2], self.num_latents * self.num_categories))


@dataclass
class CategoricalAutoencoderResult:
    """What :func:`train_categorical_autoencoder` measured.

    history: per epoch, "loss" (the training objective: mean squared error of the
    reconstructions from the training samples; for "gumbel" those are relaxed samples),
    "entropy" (mean entropy of one latent's distribution, in nats; log K is uniform, 0 is
    deterministic) and "test_mse" (test reconstruction MSE from one hard sample per image).
    test_mse: the last of those; test_mse_mode: reconstruction from the most likely
    category of every latent instead of a sample.
    """
    model: CategoricalAutoencoder
    history: dict
    test_mse: float
    test_mse_mode: float
    seconds: float
    options: dict = field(default_factory=dict)


def train_categorical_autoencoder(estimator="straight_through", num_latents=8, num_categories=8, hidden=128,
                                  n_samples=4, tau=1.0, baseline="leave_one_out", epochs=20, batch_size=64,
                                  lr=2e-3, seed=0, verbose=False):
    """Train a :class:`CategoricalAutoencoder` with one gradient ``estimator``; returns a
    :class:`CategoricalAutoencoderResult`.

    For each image x, ``n_samples`` codes z ~ softmax(logits(x)) are drawn with
    :func:`~tinygrad_ste.stochastic.sample_categorical`, and the objective is the mean
    over samples and images of cost(z) = MSE(decode(z), x): a Monte Carlo estimate of
    E_z[cost(z)].  The decoder gets its exact gradient; the encoder gets the estimator's.
    ``estimator`` is any of ``stochastic.ESTIMATORS``; ``tau`` the temperature of the
    relaxed ones; "reinforce" adds ``reinforce_loss`` with ``baseline`` ("none", "ema"
    -- one average kept across all steps -- or "leave_one_out", which needs n_samples >= 2).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"train_categorical_autoencoder: unknown estimator {estimator!r}; "
                         f"choose one of {', '.join(map(repr, ESTIMATORS))}")
    options = dict(estimator=estimator, num_latents=num_latents, num_categories=num_categories, hidden=hidden,
                   n_samples=n_samples, tau=tau, baseline=baseline, epochs=epochs, batch_size=batch_size,
                   lr=lr, seed=seed)
    rng = np.random.default_rng(seed)
    evaluation_rng = np.random.default_rng(seed + 1)   # the same test noise whatever the estimator
    train_images, _ = load_digits("train")
    test_images = Tensor(load_digits("test")[0])
    model = CategoricalAutoencoder(num_latents, num_categories, hidden, rng=rng)
    baseline_fn = make_baseline(baseline) if estimator == "reinforce" else None   # one EMA for the whole run

    def step(images):
        images = Tensor(images)
        logits = model.logits(images)                                               # (N, L, K)
        z = sample_categorical(logits, estimator, rng, tau=tau, n_samples=n_samples)  # (n, N, L, K)
        cost = ((model.decode(z) - images) ** 2).mean(axis=-1)                      # (n, N)
        loss = cost.mean()
        objective = loss
        if estimator == "reinforce":
            objective = loss + reinforce_loss(logits, z, cost, kind="categorical", baseline=baseline_fn)
        log_p = F.log_softmax(logits.detach()).data
        entropy = -(np.exp(log_p) * log_p).sum(axis=-1).mean()
        return objective, {"loss": loss.item(), "entropy": float(entropy)}

    def test_mse(z):
        return float(((model.decode(z).data - test_images.data) ** 2).mean())

    def evaluate():
        with no_grad():   # no graph, so the estimator named here plays no part: a plain hard sample
            return {"test_mse": test_mse(sample_categorical(model.logits(test_images), "straight_through",
                                                            evaluation_rng))}

    start = time.perf_counter()
    history = train_epochs(step, Adam(model.parameters(), lr=lr), (train_images,), epochs, batch_size, rng, verbose,
                           name=f"categorical autoencoder ({estimator})", after_epoch=evaluate)
    seconds = time.perf_counter() - start
    with no_grad():
        test_mse_mode = test_mse(F.one_hot(model.logits(test_images).data.argmax(axis=-1), num_categories))
    return CategoricalAutoencoderResult(model=model, history=history, test_mse=history["test_mse"][-1],
                                        test_mse_mode=test_mse_mode, seconds=seconds, options=options)


def print_measurements(seed=0):
    """Train every model in its compared variants and print one table per model (about a minute)."""
    print("VQ autoencoder (test MSE; k-means bound with the same number of codes)")
    for options in ({}, {"restart_after": None}, {"rule": "rotation"}, {"rule": "rotation", "restart_after": None},
                    {"ema": True}, {"ema": True, "restart_after": None}, {"kmeans_init": True}):
        r = train_vq_autoencoder(seed=seed, **options)
        print(f"  {str(options or 'defaults'):45s} test MSE {r.test_mse:.4f}  k-means {r.kmeans_mse:.4f}  "
              f"perplexity {r.perplexity:6.1f}  usage {r.usage:.2f}  dead {r.dead_fraction:.2f}  {r.seconds:5.1f} s")
    print("Binary network (test accuracy)")
    for rule, binarize_activations in ((None, False), ("identity", False), ("clipped", False),
                                       ("identity", True), ("clipped", True)):
        r = train_binary_network(rule, binarize_activations, seed=seed)
        print(f"  weights {'real' if rule is None else 'binary'}, rule {str(rule):8s}, binary activations "
              f"{str(binarize_activations):5s}: accuracy {r.test_accuracy:.3f}  {r.seconds:4.1f} s")
    print("Categorical autoencoder (final training loss, test MSE of a sample and of the mode)")
    for estimator in ESTIMATORS:
        r = train_categorical_autoencoder(estimator, seed=seed)
        print(f"  {estimator:24s} loss {r.history['loss'][-1]:.4f}  test MSE {r.test_mse:.4f}  "
              f"mode {r.test_mse_mode:.4f}  entropy {r.history['entropy'][-1]:.3f}  {r.seconds:4.1f} s")


if __name__ == "__main__":
    print_measurements()
