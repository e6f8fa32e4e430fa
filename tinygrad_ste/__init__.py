"""tinygrad_ste: a small NumPy autograd engine about gradients through discrete ops.

    >>> import tinygrad_ste as tg
    >>> x = tg.Tensor([0.4, 1.6], requires_grad=True)
    >>> y = tg.round(x, backward="identity")     # forward: [0., 2.]; backward: straight-through
    >>> (y * y).sum().backward()
    >>> x.grad                                   # d(y^2)/dy = 2y, passed straight to x
    array([0., 4.])

Layers.  A module imports only from its own layer and the layers above it (lessons, tests and
benchmarks import from anywhere); ``tests/test_layers.py`` reads this list and checks every
import of the package against it, so a new module must be added here, to the first layer
that comes after everything it imports.

1. arrays, random, threads, dtypes, keywords, cuda -- NumPy helpers below the engine (stable
   sigmoid, softmax, one-hot, ...), the library-wide random generator, how many threads NumPy's
   BLAS may use, the dtypes and the device under PyTorch's names, PyTorch's
   ``dim=``/``keepdim=`` spelling, and ``cuda.is_available()`` (False)
2. function, tensor, ops, convolution -- the engine, read together: ``Function`` and its graph
   ``Node``, ``Tensor`` and ``backward()``, the differentiable ops (convolution and pooling in
   a module of their own).  Its one import cycle is deliberate:
   ops are Functions, ``Function.apply`` makes Tensors, and a Tensor's operators call the ops
   (``function`` imports ``tensor`` at its end, so either may be loaded first)
3. functional, creation, tensor_functions -- compositions of ops (softmax, cross-entropy, ...),
   PyTorch's ``F``; making tensors (``tensor``, ``zeros``, ``arange``, ``randn``, ...); the Tensor
   methods as PyTorch's functions (``tg.sin(x)``, ``tg.cat``)
4. discrete -- hard ops (round, sign, one-hot argmax, quantize) and their named rules
5. stochastic -- sampling and the estimators that differentiate through it
6. estimators -- exact gradients by enumeration, and comparisons of estimators
7. gradcheck -- central differences in float64
8. module, optim, serialization -- ``nn.Module``, the optimizers, and ``save``/``load`` of state dicts
9. kmeans -- k-means(++), which initialises codebooks
10. vq -- vector quantization layers
11. fsq -- finite scalar quantization
12. entropy -- the entropy bottleneck of learned compression
13. nn, losses, moe, learned_baseline -- the layers, gathered under PyTorch's names, the loss modules
    (``nn.MSELoss``, ...), the mixture of experts (built from nn's Linear and MLP, re-exported by nn
    as ``nn.MixtureOfExperts``), and NVIL's learned baseline for REINFORCE (a small MLP trained by Adam)
14. data -- the bundled digits
15. models -- the models the lessons train, one module each
16. compare, viz, exercises -- teaching tools: paired comparisons for every comparative
    sentence, plots, exercise checks
17. tools -- the builders of the figures, the web book and the models' measurements, apart from
    the library (their ``python -m`` commands keep their short names: ``__main__.py`` files,
    run and never imported, sit on top with the lessons and are not in this list)
"""
from .function import Function, Node, backward_rules, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .random import manual_seed
from .tensor import Tensor, as_tensor
from .dtypes import (bool, device, double, float, float16, float32, float64, half, int, int8, int16, int32,  # noqa: A004
                     int64, long, short, uint8)
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand,
                       rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .tensor_functions import (abs, argmax, argmin, cat, clamp, cos, exp, flatten, log, log_softmax, matmul,  # noqa: A004
                               mean, numel, permute, pow, relu, reshape, sigmoid, sin, softmax, sqrt, squeeze, stack,
                               sum, tanh, transpose, unsqueeze, where)
from .serialization import load, save
from .arrays import nearest_code
from .discrete import ceil, floor, one_hot_argmax, quantize, round, sign, surrogate, ternarize, trunc
from .stochastic import (EMABaseline, antithetic_loss, rebar_loss, reinforce_loss, sample_bernoulli,
                         sample_categorical, vimco_loss)
from .stochastic import sample_normal
from .gradcheck import GradcheckError, gradcheck
from .functional import broadcast_to, einsum, maximum, minimum
from . import cuda, functional, nn, optim
from .threads import get_num_threads, set_num_threads, apply_default as _apply_default_num_threads

__all__ = ["Function", "Node", "backward_rules", "detect_anomaly", "enable_grad", "is_grad_enabled", "no_grad",
           "manual_seed",
           "Tensor", "as_tensor", "nearest_code", "one_hot_argmax", "quantize", "round", "floor", "ceil", "trunc",
           "sign", "surrogate", "ternarize",
           "EMABaseline", "antithetic_loss", "rebar_loss", "reinforce_loss", "sample_bernoulli", "sample_categorical",
           "vimco_loss",
           "sample_normal",
           "compare_estimators", "estimate_gradient", "exact_gradient",
           "GradcheckError", "gradcheck", "functional", "nn", "optim",
           "broadcast_to", "einsum", "maximum", "minimum", "get_num_threads", "set_num_threads",
           "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "half", "float",
           "double", "short", "int", "long", "device", "cuda",
           "tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "rand_like", "randn_like", "arange", "linspace", "eye", "rand", "randn", "randint", "randperm",
           "sin", "cos", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "pow", "clamp", "matmul", "sum",
           "mean", "argmax", "argmin", "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute", "numel",
           "cat", "stack", "where", "softmax", "log_softmax", "save", "load"]
__version__ = "0.1.0"

_apply_default_num_threads()   # one BLAS thread unless the user chose (see threads.py)

_FROM_ESTIMATORS = ("compare_estimators", "estimate_gradient", "exact_gradient")


def __getattr__(name):
    """``tg.exact_gradient`` and friends load ``estimators`` on first use, not at import, so that
    ``python -m tinygrad_ste.estimators`` runs that module once (no RuntimeWarning about it
    being imported already)."""
    if name in _FROM_ESTIMATORS:
        from . import estimators
        return getattr(estimators, name)
    raise AttributeError(f"module 'tinygrad_ste' has no attribute {name!r}")
