"""The benchmark workloads, each written once per framework.

Every workload is a function ``make_<workload>_<framework>(...)`` that takes the same
NumPy inputs (initial weights, data) and returns ``step()``: one training step (or one
forward + backward) that returns ``(loss, grads)`` in the framework's own types, the
gradients taken *before* any update.  ``run.py`` times the steps and first checks that
every framework returns the same loss and gradients from the same inputs.

Frameworks:
* ``ours``     -- tinygrad_ste (or an older copy of it, passed in as ``engine``);
* ``torch``    -- PyTorch on the CPU, the optional ``bench`` extra;
* ``autograd`` -- HIPS autograd, the optional ``bench`` extra.

The workloads (issue 6):
* W1 MLP training step: 64 -> 128 (tanh) -> 10, softmax cross-entropy, SGD update.
* W2 VQ autoencoder training step: encoder 64 -> 128 (relu) -> 16, codebook 64 x 16,
  straight-through, decoder 16 -> 128 (relu) -> 64, reconstruction + codebook +
  0.25 commitment loss (van den Oord et al. 2017), SGD update.
* W2c the convolutional VQ-VAE of lesson 10 (``tinygrad_ste/models/conv_vqvae.py``): 8x8
  digits -> conv 3x3 (1 -> 32, relu) -> conv 4x4 stride 2 (32 -> 32, relu) -> conv 1x1
  (32 -> 8): a 4x4 grid of 8-vectors, each replaced by its nearest of 16 codes
  (straight-through) -> conv 3x3 (8 -> 32, relu) -> nearest upsampling x2 -> conv 3x3
  (32 -> 32, relu) -> conv 3x3 (32 -> 1); the losses and the update of W2.  PyTorch is its
  only peer (HIPS autograd has no convolution without SciPy).
* W3/W4 a chain of elementwise ops on a (4,) tensor, forward and backward: the cycle
  x -> tanh(x * w + b) * 0.9 repeated, four ops per cycle.
* W3s the same length of chain where every op has a Python-number operand: the cycle
  x -> x * 1.0001 + 0.001, two ops per cycle (issue 14).
"""
import numpy as np

LEARNING_RATE = 0.1
COMMITMENT = 0.25   # beta of the VQ-VAE commitment loss
CHAIN_CYCLE = 4     # ops per cycle of the W3/W4 chain: mul, add, tanh, mul by a constant
SCALAR_CYCLE = 2    # ops per cycle of the W3s chain: mul by a number, add a number


# --------------------------------------------------------------------------- inputs


def mlp_inputs(batch, dtype, rng, sizes=(64, 128, 10)):
    """Digits images (batch, 64) and labels, and weights [W1, b1, W2, b2] scaled 1/sqrt(fan_in)."""
    from tinygrad_ste.data import load_digits
    images, labels = load_digits("train")
    rows = rng.choice(len(labels), size=batch, replace=batch > len(labels))
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append(rng.normal(0, fan_in ** -0.5, (fan_in, fan_out)))
        weights.append(rng.normal(0, 0.1, fan_out))
    return images[rows].astype(dtype), labels[rows], [w.astype(dtype) for w in weights]


def vq_inputs(batch, rng, codes=64, code_dim=16, hidden=128, features=64):
    """Digits images (batch, 64) and weights [We1, be1, We2, be2, codebook, Wd1, bd1, Wd2, bd2]."""
    from tinygrad_ste.data import load_digits
    images, _ = load_digits("train")
    x = images[rng.choice(len(images), size=batch, replace=batch > len(images))]

    def layer(fan_in, fan_out):
        return [rng.normal(0, fan_in ** -0.5, (fan_in, fan_out)), rng.normal(0, 0.1, fan_out)]

    weights = layer(features, hidden) + layer(hidden, code_dim)
    weights.append(rng.normal(0, 1.0, (codes, code_dim)))
    weights += layer(code_dim, hidden) + layer(hidden, features)
    return x, weights


def conv_vq_inputs(batch, rng, codes=16, code_dim=8, hidden=32):
    """Digits as images (batch, 1, 8, 8) and weights [conv1 W, b, conv2 W, b, conv3 W, b, codebook,
    deconv1 W, b, deconv2 W, b, deconv3 W, b], each conv weight (C_out, C_in, kH, kW) scaled 1/sqrt(fan_in)."""
    from tinygrad_ste.data import load_digits
    images, _ = load_digits("train")
    x = images[rng.choice(len(images), size=batch, replace=batch > len(images))].reshape(batch, 1, 8, 8)

    def conv(c_in, c_out, kernel):
        return [rng.normal(0, (c_in * kernel * kernel) ** -0.5, (c_out, c_in, kernel, kernel)), rng.normal(0, 0.1, c_out)]

    weights = conv(1, hidden, 3) + conv(hidden, hidden, 4) + conv(hidden, code_dim, 1)
    weights.append(rng.normal(0, 1.0, (codes, code_dim)))
    weights += conv(code_dim, hidden, 3) + conv(hidden, hidden, 3) + conv(hidden, 1, 3)
    return x, weights


def chain_inputs(rng, size=4):
    """x0, w, b of shape (size,): the start of the chain and the weights every cycle reuses."""
    return [rng.normal(0, 1, size), rng.uniform(0.5, 1.5, size), rng.normal(0, 0.1, size)]


# --------------------------------------------------------------------------- ours


def backward_ours(loss, params, learning_rate=None):
    """``loss.backward()``, then (given a learning rate) the SGD update p -= lr * dL/dp.

    Returns the loss and the gradients from before the update, and clears ``.grad``.
    """
    loss.backward()
    grads = [p.grad for p in params]
    for p in params:
        if learning_rate is not None:
            p.data -= learning_rate * p.grad
        p.grad = None
    return loss.item(), grads


def make_mlp_ours(engine, x, labels, weights):
    Tensor, F = engine.Tensor, engine.functional
    params = [Tensor(w, requires_grad=True) for w in weights]
    x = Tensor(x)

    def step():
        W1, b1, W2, b2 = params
        loss = F.cross_entropy((x @ W1 + b1).tanh() @ W2 + b2, labels)
        return backward_ours(loss, params, LEARNING_RATE)
    return step


def make_vq_ours(engine, x, weights):
    Tensor, F, quantize = engine.Tensor, engine.functional, engine.quantize
    params = [Tensor(w, requires_grad=True) for w in weights]
    x = Tensor(x)

    def step():
        We1, be1, We2, be2, codebook, Wd1, bd1, Wd2, bd2 = params
        z = (x @ We1 + be1).relu() @ We2 + be2
        z_q, indices = quantize(z, codebook, backward="identity")
        reconstruction = (z_q @ Wd1 + bd1).relu() @ Wd2 + bd2
        loss = (F.mse_loss(reconstruction, x)
                + F.mse_loss(codebook[indices], z.detach())        # codebook loss: codes move to z
                + COMMITMENT * F.mse_loss(z, z_q.detach()))         # commitment: z stays near its code
        return backward_ours(loss, params, LEARNING_RATE)
    return step


def make_conv_vq_ours(engine, x, weights):
    Tensor, F, quantize = engine.Tensor, engine.functional, engine.quantize
    params = [Tensor(w, requires_grad=True) for w in weights]
    x = Tensor(x)

    def step():
        W1, b1, W2, b2, W3, b3, codebook, V1, c1, V2, c2, V3, c3 = params
        h = F.conv2d(F.conv2d(x, W1, b1, padding=1).relu(), W2, b2, stride=2, padding=1).relu()
        z = F.conv2d(h, W3, b3)                                            # (N, D, 4, 4)
        n, d, side = z.shape[0], z.shape[1], z.shape[2]
        rows = z.transpose(0, 2, 3, 1).reshape(n * side * side, d)         # one row per grid position
        z_q, indices = quantize(rows, codebook, backward="identity")
        grid = z_q.reshape(n, side, side, d).transpose(0, 3, 1, 2)
        h = F.conv2d(F.upsample(F.conv2d(grid, V1, c1, padding=1).relu(), 2), V2, c2, padding=1).relu()
        reconstruction = F.conv2d(h, V3, c3, padding=1)
        loss = (F.mse_loss(reconstruction, x)
                + F.mse_loss(codebook[indices], rows.detach())
                + COMMITMENT * F.mse_loss(rows, z_q.detach()))
        return backward_ours(loss, params, LEARNING_RATE)
    return step


def make_chain_ours(engine, inputs, length):
    Tensor = engine.Tensor
    x0, w, b = params = [Tensor(a, requires_grad=True) for a in inputs]

    def step():
        x = x0
        for _ in range(length // CHAIN_CYCLE):
            x = (x * w + b).tanh() * 0.9
        return backward_ours(x.sum(), params)
    return step


def make_scalar_chain_ours(engine, inputs, length):
    x0 = engine.Tensor(inputs[0], requires_grad=True)

    def step():
        x = x0
        for _ in range(length // SCALAR_CYCLE):
            x = x * 1.0001 + 0.001
        return backward_ours(x.sum(), [x0])
    return step


# --------------------------------------------------------------------------- PyTorch


def backward_torch(loss, params, learning_rate=None):
    """The PyTorch twin of :func:`backward_ours`."""
    import torch
    loss.backward()
    grads = [p.grad for p in params]
    with torch.no_grad():
        for p in params:
            if learning_rate is not None:
                p -= learning_rate * p.grad
            p.grad = None
    return loss.item(), grads


def make_mlp_torch(x, labels, weights):
    import torch
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    x, labels = torch.from_numpy(x), torch.from_numpy(labels)

    def step():
        W1, b1, W2, b2 = params
        loss = torch.nn.functional.cross_entropy(torch.tanh(x @ W1 + b1) @ W2 + b2, labels)
        return backward_torch(loss, params, LEARNING_RATE)
    return step


def make_vq_torch(x, weights):
    import torch
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    x = torch.from_numpy(x)
    mse = torch.nn.functional.mse_loss

    def step():
        We1, be1, We2, be2, codebook, Wd1, bd1, Wd2, bd2 = params
        z = torch.relu(x @ We1 + be1) @ We2 + be2
        with torch.no_grad():
            indices = torch.argmin((codebook * codebook).sum(1) - 2 * z @ codebook.T, dim=1)
        code = codebook[indices]
        z_q = z + (code - z).detach()   # straight-through: forward code, backward identity
        reconstruction = torch.relu(z_q @ Wd1 + bd1) @ Wd2 + bd2
        loss = mse(reconstruction, x) + mse(code, z.detach()) + COMMITMENT * mse(z, code.detach())
        return backward_torch(loss, params, LEARNING_RATE)
    return step


def make_conv_vq_torch(x, weights):
    import torch
    conv2d, mse = torch.nn.functional.conv2d, torch.nn.functional.mse_loss
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    x = torch.from_numpy(x)

    def step():
        W1, b1, W2, b2, W3, b3, codebook, V1, c1, V2, c2, V3, c3 = params
        h = torch.relu(conv2d(torch.relu(conv2d(x, W1, b1, padding=1)), W2, b2, stride=2, padding=1))
        z = conv2d(h, W3, b3)
        n, d, side = z.shape[0], z.shape[1], z.shape[2]
        rows = z.permute(0, 2, 3, 1).reshape(n * side * side, d)
        with torch.no_grad():
            indices = torch.argmin((codebook * codebook).sum(1) - 2 * rows @ codebook.T, dim=1)
        code = codebook[indices]
        z_q = rows + (code - rows).detach()   # straight-through
        grid = z_q.reshape(n, side, side, d).permute(0, 3, 1, 2)
        h = torch.nn.functional.interpolate(torch.relu(conv2d(grid, V1, c1, padding=1)), scale_factor=2, mode="nearest")
        reconstruction = conv2d(torch.relu(conv2d(h, V2, c2, padding=1)), V3, c3, padding=1)
        loss = mse(reconstruction, x) + mse(code, rows.detach()) + COMMITMENT * mse(rows, code.detach())
        return backward_torch(loss, params, LEARNING_RATE)
    return step


def make_chain_torch(inputs, length):
    import torch
    x0, w, b = params = [torch.tensor(a, requires_grad=True) for a in inputs]

    def step():
        x = x0
        for _ in range(length // CHAIN_CYCLE):
            x = torch.tanh(x * w + b) * 0.9
        return backward_torch(x.sum(), params)
    return step


def make_scalar_chain_torch(inputs, length):
    import torch
    x0 = torch.tensor(inputs[0], requires_grad=True)

    def step():
        x = x0
        for _ in range(length // SCALAR_CYCLE):
            x = x * 1.0001 + 0.001
        return backward_torch(x.sum(), [x0])
    return step


# --------------------------------------------------------------------------- HIPS autograd


def sgd_autograd(loss_fn, weights):
    """A step for ``loss_fn(params)``: value and gradients, then the SGD update (new arrays)."""
    from autograd import value_and_grad
    loss_and_grads = value_and_grad(loss_fn)
    params = list(weights)

    def step():
        loss, grads = loss_and_grads(params)
        params[:] = [p - LEARNING_RATE * g for p, g in zip(params, grads)]
        return float(loss), grads
    return step


def make_mlp_autograd(x, labels, weights):
    import autograd.numpy as anp
    from autograd.tracer import getval
    rows = np.arange(len(labels))

    def loss_fn(params):
        W1, b1, W2, b2 = params
        logits = anp.tanh(x @ W1 + b1) @ W2 + b2
        # log-softmax written out (autograd.scipy would need SciPy, which the bench extra does not install);
        # the shift is a constant, as in every stable logsumexp
        shifted = logits - getval(logits).max(axis=1, keepdims=True)
        log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_probs[rows, labels])

    return sgd_autograd(loss_fn, weights)


def make_vq_autograd(x, weights):
    import autograd.numpy as anp
    from autograd.tracer import getval   # the raw value of a traced array: a stop-gradient
    from tinygrad_ste.discrete import nearest_code

    def mse(a, b):
        return anp.mean((a - b) ** 2)

    def loss_fn(params):
        We1, be1, We2, be2, codebook, Wd1, bd1, Wd2, bd2 = params
        z = anp.maximum(x @ We1 + be1, 0) @ We2 + be2
        code = codebook[nearest_code(getval(z), getval(codebook))]
        z_q = z + getval(code - z)   # straight-through
        reconstruction = anp.maximum(z_q @ Wd1 + bd1, 0) @ Wd2 + bd2
        return mse(reconstruction, x) + mse(code, getval(z)) + COMMITMENT * mse(z, getval(code))

    return sgd_autograd(loss_fn, weights)


def make_chain_autograd(inputs, length):
    import autograd.numpy as anp
    from autograd import value_and_grad

    def loss_fn(params):
        x, w, b = params
        for _ in range(length // CHAIN_CYCLE):
            x = anp.tanh(x * w + b) * 0.9
        return anp.sum(x)

    loss_and_grads = value_and_grad(loss_fn)

    def step():
        loss, grads = loss_and_grads(list(inputs))
        return float(loss), grads
    return step


def make_scalar_chain_autograd(inputs, length):
    import autograd.numpy as anp
    from autograd import value_and_grad

    def loss_fn(x):
        for _ in range(length // SCALAR_CYCLE):
            x = x * 1.0001 + 0.001
        return anp.sum(x)

    loss_and_grad = value_and_grad(loss_fn)

    def step():
        loss, grad = loss_and_grad(inputs[0])
        return float(loss), [grad]
    return step


# --------------------------------------------------------------------------- the registry

FRAMEWORKS = ("ours", "torch", "autograd")


def available_peers(workload=None):
    """The peers that are installed (the optional ``bench`` extra); given a ``workload``, only
    those that have it written (``make_<workload>_<peer>``)."""
    peers = []
    for name in ("torch", "autograd"):
        try:
            __import__(name)
        except ImportError:
            continue
        if workload is None or f"make_{workload}_{name}" in globals():
            peers.append(name)
    return peers


def make_step(workload, framework, engine, *, batch=256, dtype=np.float64, chain_length=1000, seed=0):
    """Build one framework's ``step()`` for a workload ("mlp", "vq", "conv_vq", "chain" or "scalar_chain") from
    seeded inputs.

    Every framework gets identical inputs for the same arguments, so their first steps
    must agree.  ``engine`` is the tinygrad_ste namespace used for "ours".
    """
    rng = np.random.default_rng(seed)
    if workload == "mlp":
        args = mlp_inputs(batch, dtype, rng)
    elif workload == "vq":
        args = vq_inputs(batch, rng)
    elif workload == "conv_vq":
        args = conv_vq_inputs(batch, rng)
    elif workload in ("chain", "scalar_chain"):
        args = (chain_inputs(rng), chain_length)
    else:
        raise ValueError(f"unknown workload {workload!r}; expected 'mlp', 'vq', 'conv_vq', 'chain' or "
                         "'scalar_chain'")
    maker = globals()[f"make_{workload}_{framework}"]
    return maker(engine, *args) if framework == "ours" else maker(*args)


def as_numpy(array):
    """A framework's gradient as a NumPy array (PyTorch tensors are converted)."""
    return array.detach().numpy() if hasattr(array, "detach") else np.asarray(array)


def check_agreement(name, reference, other, rtol, atol):
    """Raise AssertionError unless two ``(loss, grads)`` results agree within the tolerance."""
    (loss_a, grads_a), (loss_b, grads_b) = reference, other
    np.testing.assert_allclose(loss_b, loss_a, rtol=rtol, atol=atol, err_msg=f"{name}: losses differ")
    if len(grads_a) != len(grads_b):
        raise AssertionError(f"{name}: {len(grads_a)} gradients against {len(grads_b)}")
    for i, (a, b) in enumerate(zip(grads_a, grads_b)):
        a, b = as_numpy(a), as_numpy(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            raise AssertionError(f"{name}: gradient {i} is {a.dtype}{a.shape} against {b.dtype}{b.shape}")
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=f"{name}: gradient {i} differs")
