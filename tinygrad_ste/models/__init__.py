"""Small models trained on the 8x8 digits: the ones the lessons, figures and tests train.

One module per lesson model.  Each ``train_*`` function builds a model, trains it with
Adam and returns a result object (a :class:`TrainingResult`) holding the trained model,
per-epoch histories, the final test metrics, the training time in CPU seconds and the
options.  Every random choice comes from ``numpy.random.default_rng(seed)``, so a seed
reproduces a run exactly; ``verbose=True`` prints one line per epoch.

* :mod:`.training` -- :func:`train_epochs`, the loop every model shares (timed by
  :func:`timed_train_epochs`); :class:`TrainingResult`, the model, history, seconds and options
  every result holds; and :func:`kmeans_reconstruction_mse`, the one-code-per-image k-means baseline.
* :mod:`.categorical_autoencoder` (lesson 3) -- an autoencoder whose code is a few
  categorical variables *sampled* from the encoder's logits, trained with any estimator
  of :mod:`tinygrad_ste.stochastic`, so their training curves can be compared on one task.
* :mod:`.binary_network` (lesson 4) -- BinaryConnect (Courbariaux et al. 2015): a
  classifier whose weights are +/-1 in the forward pass, trained through ``sign`` with a
  straight-through rule; XNOR-Net scales and ternary (TWN) weights as options.
* :mod:`.vq_autoencoder` (lesson 5) -- an MLP autoencoder whose bottleneck is several code
  vectors from one shared :class:`~tinygrad_ste.vq.VectorQuantizer` codebook; (lesson 6) the
  same autoencoder with an :class:`~tinygrad_ste.fsq.FSQ` or
  :class:`~tinygrad_ste.vq.ResidualVQ` bottleneck, compared at equal bits per image.
* :mod:`.compression_autoencoder` (lesson 7) -- learned compression: an MLP autoencoder
  whose latent is rounded and entropy-coded by an
  :class:`~tinygrad_ste.entropy.EntropyBottleneck`, trained on rate + lambda * distortion;
  :func:`codebook_rate_distortion`, the codebook compressors (k-means, VQ, FSQ, residual VQ)
  on the same rate-distortion axes.
* :mod:`.glimpse` (lesson 8) -- hard attention: a model that sees a thumbnail of a cluttered
  canvas, chooses one cell to look at in full (a categorical choice trained with any
  estimator, or soft attention), and classifies the digit.
* :mod:`.gaussian_vae` (lesson 9) -- a VAE with normal latents and a Bernoulli decoder of
  black-and-white digits, trained with the reparameterization trick or with REINFORCE.
* :mod:`.bernoulli_vae` (lesson 12) -- the discrete-VAE benchmark of the estimator papers: 32
  Bernoulli latents on the binarized digits, its encoder trained with each estimator (REINFORCE with
  leave-one-out or learned baselines, VIMCO, ARM, DisARM, REBAR, straight-through Gumbel, Gumbel-Rao)
  at an equal number of decoder evaluations per step.
* :mod:`.dvae` (lesson 9) -- a DALL-E-1-style discrete VAE: a categorical choice among K code
  embeddings per position, trained through Gumbel-softmax with an annealed temperature.
* :mod:`.conv_vqvae` (lesson 10) -- a convolutional VQ-VAE: an 8x8 digit as a 4x4 (or 2x2) grid
  of nearest codes, and a decoder of any code grid.
* :mod:`.vqvae2` (lesson 10) -- VQ-VAE-2: a coarse 2x2 top grid of codes and a 4x4 bottom grid
  encoded and decoded given the top.
* :mod:`.code_prior` (lesson 10) -- a PixelCNN-style autoregressive prior over a code grid
  (optionally given another grid), sampled with a temperature; the uniform and per-position
  baselines; the quality of generated digits judged by a classifier of real ones.
* :mod:`.mixture_of_experts` (lesson 11) -- conditional computation: a classifier that routes each
  digit to one of several experts (:class:`~tinygrad_ste.moe.MixtureOfExperts`), the router trained
  by any estimator, with or without the load-balancing loss.
* :mod:`.architecture_search` (lesson 11) -- one operation per edge of a small network, searched by
  DARTS, GDAS (straight-through Gumbel), an ENAS-style REINFORCE controller and random search.
* :mod:`.bandit` (lesson 11) -- a contextual bandit on the digits: REINFORCE, the policy gradient,
  with and without baselines, against supervised cross-entropy.

``python -m tinygrad_ste.models`` trains each in the variants the lessons compare and
prints the measurements.
"""
from .training import (PIXELS, Stopwatch, TrainingResult, kmeans_baseline, kmeans_reconstruction_mse,
                       kmeans_test_errors, timed_train_epochs, train_epochs)
from .categorical_autoencoder import (AUTOENCODER_ESTIMATORS, CategoricalAutoencoder, CategoricalAutoencoderResult,
                                      train_categorical_autoencoder)
from .binary_network import BinaryLinear, BinaryNetwork, BinaryNetworkResult, train_binary_network
from .vq_autoencoder import EQUAL_BITS, VQAutoencoder, VQAutoencoderResult, train_at_equal_bits, train_vq_autoencoder
from .compression_autoencoder import (CompressionAutoencoder, CompressionAutoencoderResult, codebook_rate_distortion,
                                      train_compression_autoencoder)
from .glimpse import (GlimpseModel, GlimpseResult, compare_glimpse_choices, summarize_glimpse_runs,
                      train_best_fixed_cell, train_glimpse_model)
from .gaussian_vae import GaussianVAE, GaussianVAEResult, binarized_digits, train_gaussian_vae
from .dvae import DiscreteVAE, DiscreteVAEResult, annealed_temperature, train_dvae
from .bernoulli_vae import (VAE_ESTIMATORS, BernoulliVAE, BernoulliVAEResult, benchmark_table,
                            logit_gradient_variance, run_benchmark, train_bernoulli_vae)
from .conv_vqvae import ConvVQVAE, ConvVQVAEResult, train_conv_vqvae
from .vqvae2 import VQVAE2, VQVAE2Result, decode_levels, train_vqvae2
from .code_prior import (CodePrior, CodePriorResult, MaskedConv2d, independent_prior_bits, sample_quality,
                         train_code_prior, uniform_bits)
from .mixture_of_experts import MixtureOfExpertsResult, train_mixture_of_experts
from .architecture_search import (ArchitectureResult, SearchResult, SearchSpace, search_architecture,
                                  train_architecture)
from .bandit import BanditResult, train_bandit

__all__ = ["PIXELS", "Stopwatch", "TrainingResult", "train_epochs", "timed_train_epochs", "kmeans_test_errors",
           "kmeans_reconstruction_mse", "kmeans_baseline",
           "AUTOENCODER_ESTIMATORS", "CategoricalAutoencoder", "CategoricalAutoencoderResult",
           "train_categorical_autoencoder",
           "BinaryLinear", "BinaryNetwork", "BinaryNetworkResult", "train_binary_network",
           "VQAutoencoder", "VQAutoencoderResult", "train_vq_autoencoder", "EQUAL_BITS", "train_at_equal_bits",
           "CompressionAutoencoder", "CompressionAutoencoderResult", "train_compression_autoencoder",
           "codebook_rate_distortion",
           "GlimpseModel", "GlimpseResult", "train_glimpse_model", "train_best_fixed_cell",
           "compare_glimpse_choices", "summarize_glimpse_runs",
           "GaussianVAE", "GaussianVAEResult", "binarized_digits", "train_gaussian_vae",
           "DiscreteVAE", "DiscreteVAEResult", "annealed_temperature", "train_dvae",
           "VAE_ESTIMATORS", "BernoulliVAE", "BernoulliVAEResult", "logit_gradient_variance", "train_bernoulli_vae",
           "run_benchmark", "benchmark_table",
           "ConvVQVAE", "ConvVQVAEResult", "train_conv_vqvae", "VQVAE2", "VQVAE2Result", "train_vqvae2",
           "decode_levels",
           "CodePrior", "CodePriorResult", "MaskedConv2d", "train_code_prior", "uniform_bits", "independent_prior_bits",
           "sample_quality",
           "MixtureOfExpertsResult", "train_mixture_of_experts",
           "SearchSpace", "SearchResult", "search_architecture", "ArchitectureResult", "train_architecture",
           "BanditResult", "train_bandit"]
