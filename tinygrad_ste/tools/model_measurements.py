"""``python -m tinygrad_ste.models``: train every lesson model in the variants the lessons
compare and print one table per model, each followed by its wall-clock and CPU time."""
from contextlib import contextmanager

from ..moe import ROUTERS
from ..models import (AUTOENCODER_ESTIMATORS, Stopwatch, compare_glimpse_choices, kmeans_baseline,
                      summarize_glimpse_runs, train_at_equal_bits, train_binary_network, train_categorical_autoencoder, train_compression_autoencoder, train_dvae,
                      train_gaussian_vae, train_vq_autoencoder)
from ..models.architecture_search import (SEARCH_LABELS, SEARCHES, architecture_name, search_architecture,
                                          train_architecture)
from ..models.bandit import LEARNER_LABELS, LEARNERS, train_bandit
from ..models.glimpse import CHOICES, LABELS
from ..models.mixture_of_experts import ROUTER_LABELS, train_mixture_of_experts


@contextmanager
def section(title):
    """Print ``title``, run the block, then print how long it took."""
    print(title, flush=True)
    stopwatch = Stopwatch()
    yield
    print(f"  ({stopwatch})", flush=True)


def print_measurements(seed=0):
    """Train every model in its compared variants and print one table per model, with its time."""
    total = Stopwatch()
    with section("VQ autoencoder (test MSE; k-means baseline with the same number of codes)"):
        for options in ({}, {"restart_after": None}, {"rule": "rotation"},
                        {"rule": "rotation", "restart_after": None}, {"ema": True},
                        {"ema": True, "restart_after": None}, {"kmeans_init": True}):
            r = train_vq_autoencoder(seed=seed, **options)
            print(f"  {str(options or 'defaults'):45s} test MSE {r.test_mse:.4f}  k-means {r.kmeans_mse:.4f}  "
                  f"perplexity {r.perplexity:6.1f}  usage {r.usage:.2f}  dead {r.dead_fraction:.2f}  {r.seconds:5.1f} s")
    with section("VQ, FSQ and residual VQ autoencoders at equal bits (test MSE; k-means baseline at the same bits)"):
        for bits, runs in train_at_equal_bits(seed=seed).items():
            for kind, r in runs.items():
                print(f"  {bits} bits {kind:4s} ({r.bits:4.1f}): test MSE {r.test_mse:.4f}  "
                      f"k-means {kmeans_baseline(bits)[0]:.4f}  perplexity {r.perplexity:6.1f}  usage {r.usage:.2f}  restarts {r.restarts:5d}  {r.seconds:5.1f} s")
    with section("Binary network (test accuracy)"):
        for rule, binarize_activations, weights in ((None, False, "sign"), ("identity", False, "sign"),
                                                    ("clipped", False, "sign"), ("identity", True, "sign"),
                                                    ("clipped", True, "sign"), ("identity", False, "xnor"),
                                                    ("identity", False, "ternary"), ("clipped", True, "xnor")):
            r = train_binary_network(rule, binarize_activations, seed=seed, weights=weights)
            print(f"  weights {'real' if rule is None else weights:7s}, rule {str(rule):8s}, binary activations "
                  f"{str(binarize_activations):5s}: accuracy {r.test_accuracy:.3f}  {r.seconds:4.1f} s")
    with section("Categorical autoencoder (final training loss, test MSE of a sample and of the mode)"):
        for estimator in AUTOENCODER_ESTIMATORS:
            r = train_categorical_autoencoder(estimator, seed=seed)
            print(f"  {estimator:24s} loss {r.history['loss'][-1]:.4f}  test MSE {r.test_mse:.4f}  "
                  f"mode {r.test_mse_mode:.4f}  entropy {r.history['entropy'][-1]:.3f}  {r.seconds:4.1f} s")
    with section("Compression autoencoder (test split, true rounding: bits per image, MSE, and MSE with the "
                 "training proxy)"):
        for proxy in ("noise", "round", "mixed"):
            for lam in (3, 30):
                r = train_compression_autoencoder(proxy, lam, seed=seed)
                print(f"  proxy {proxy:5s} lambda {lam:3d}: {r.test_bits:6.2f} bits  test MSE {r.test_mse:.4f}  "
                      f"with the proxy {r.test_mse_proxy:.4f}  {r.seconds:4.1f} s")
    with section("Glimpse model on 16x16 cluttered canvases (test accuracy with a hard choice; how often it picks "
                 "the digit's cell)"):
        for choice, s in summarize_glimpse_runs(compare_glimpse_choices(CHOICES, seeds=(seed,))).items():
            print(f"  {LABELS[choice]:26s} accuracy {s['accuracy']:.3f}  as trained {s['as trained']:.3f}  "
                  f"pick rate {s['pick rate']:.3f}  {s['seconds']:4.1f} s")
    with section("Gaussian VAE, 16 latents (test ELBO per image, nats; higher is better)"):
        for estimator, baseline in (("reparameterization", None), ("reinforce", "leave_one_out"), ("reinforce", "none")):
            r = train_gaussian_vae(estimator, latent_dim=16, baseline=baseline, seed=seed)
            print(f"  {estimator:18s} baseline {str(baseline):13s} ELBO {r.test_elbo:7.2f}  KL {r.history['kl'][-1]:5.2f}  "
                  f"{r.seconds:4.1f} s")
    with section("dVAE against the VQ autoencoder, 8 positions, 128 codes (test MSE, hard codes)"):
        dvae, vq = train_dvae(seed=seed), train_vq_autoencoder(num_codes=128, hidden=64, epochs=40, seed=seed)
        print(f"  dVAE {dvae.test_mse:.4f} (perplexity {dvae.perplexity:.1f}, {dvae.seconds:.1f} s)  "
              f"VQ autoencoder {vq.test_mse:.4f} ({vq.seconds:.1f} s)")
    with section("Mixture of experts, 4 experts, 6 epochs as in the figures (test accuracy; expert evaluations "
                 "per image in training and at test; load entropy in bits, 2 when even)"):
        for balance in (1.0, 0.0):
            for router in ROUTERS if balance else ROUTERS[1:]:
                r = train_mixture_of_experts(router, balance=balance, epochs=6, seed=seed)
                print(f"  {ROUTER_LABELS[router]:26s} balancing {'on ' if balance else 'off'}: accuracy "
                      f"{r.test_accuracy:.3f}  evaluations {r.train_evaluations:.0f}/{r.test_evaluations:.0f}  "
                      f"load entropy {r.load_entropy:.2f}  {r.seconds:4.1f} s")
    with section("Architecture search, 300 steps, then the found architecture retrained from scratch (test accuracy)"):
        for method in SEARCHES:
            found = search_architecture(method, steps=300, seed=seed)
            r = train_architecture(found.architecture, seed=seed)
            print(f"  {SEARCH_LABELS[method]:31s} {architecture_name(found.architecture):26s} accuracy "
                  f"{r.test_accuracy:.3f}  search {found.seconds:4.1f} s  retraining {r.seconds:4.1f} s")
    with section("Contextual bandit: learning the digits from a reward alone (test accuracy after one and after "
                 "15 passes)"):
        for learner in LEARNERS:
            r = train_bandit(learner, epochs=15, seed=seed)
            print(f"  {LEARNER_LABELS[learner]:36s} {r.test_accuracy[1]:.3f}  {r.test_accuracy[-1]:.3f}  "
                  f"{r.seconds:4.1f} s")
    print(f"All models: {total}")


if __name__ == "__main__":
    print_measurements()
