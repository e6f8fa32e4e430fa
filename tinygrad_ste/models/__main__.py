"""``python -m tinygrad_ste.models``: train every lesson model in the variants the lessons
compare and print one table per model (about a minute on a quiet machine)."""
from ..stochastic import ESTIMATORS
from . import train_binary_network, train_categorical_autoencoder, train_vq_autoencoder


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
