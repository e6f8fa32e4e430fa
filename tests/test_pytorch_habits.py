"""Training code in PyTorch's idiom runs here with only the import changed.

Each loop below is written the way a PyTorch user writes it, against ``import tinygrad_ste as
torch``, and the numbers it reaches are checked against the same computation written out in
plain NumPy (PyTorch is not a test dependency): the same draws from the same seeded generator,
the same gradients by hand, the same updates.
"""
from pathlib import Path

import numpy as np
import pytest

import tinygrad_ste as torch
from tinygrad_ste.data import load_digits

SEED = 11
GRID = (-1.5, 1.5, 400)   # the points the cubic is fitted at


def target_curve(xs):
    """What the cubic fits: a logistic bump, in NumPy."""
    return 1 / (1 + np.exp(-3 * xs))


def cubic_fit_in_numpy(coefficients, steps, learning_rate):
    """Gradient descent on the summed squared error of c0 + c1 x + c2 x^2 + c3 x^3, by hand."""
    xs = np.linspace(*GRID)
    ys, powers = target_curve(xs), np.stack([xs ** k for k in range(4)])
    coefficients = np.array(coefficients, dtype=np.float64)
    for _ in range(steps):
        residual = coefficients @ powers - ys
        coefficients -= learning_rate * 2 * powers @ residual   # d/dc_k sum r^2 = 2 sum r x^k
    return coefficients, float(((coefficients @ powers - ys) ** 2).sum())


def test_cubic_fit_with_manual_updates_under_no_grad():
    torch.manual_seed(SEED)
    x = torch.linspace(*GRID, dtype=torch.float64)
    y = 1 / (1 + torch.exp(-3 * x))
    c0, c1, c2, c3 = [torch.randn((), dtype=torch.float64, requires_grad=True) for _ in range(4)]
    first_leaf = c1
    learning_rate, steps = 2e-4, 500
    for step in range(steps):
        y_hat = c0 + c1 * x + c2 * x ** 2 + c3 * x.pow(3)
        loss = (y_hat - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for c in (c0, c1, c2, c3):
                c -= learning_rate * c.grad
                c.grad = None
    assert c1 is first_leaf and c1.is_leaf and c1.requires_grad   # updated in place, still a parameter

    start = np.random.default_rng(SEED).standard_normal(4)   # the four draws of torch.randn(()), in order
    expected, expected_loss = cubic_fit_in_numpy(start, steps, learning_rate)
    np.testing.assert_allclose([c.item() for c in (c0, c1, c2, c3)], expected, rtol=1e-10, atol=1e-12)
    final = ((c0 + c1 * x + c2 * x ** 2 + c3 * x ** 3 - y) ** 2).sum().item()
    assert final == pytest.approx(expected_loss, rel=1e-10)
    assert final < 0.5, "the cubic fits the bump"


def test_cubic_fit_with_modules_a_loss_module_and_an_optimizer():
    torch.manual_seed(SEED)
    x = torch.linspace(*GRID, dtype=torch.float32)
    y = torch.sigmoid(3 * x)
    features = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))   # (400, 3): x, x^2, x^3
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(torch.float32)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate, steps = 2e-4, 300

    # First the parameters updated by hand, then an optimizer taking over from there.
    for step in range(steps):
        loss = loss_fn(model(features), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter -= learning_rate * parameter.grad
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.5)
    for step in range(steps):
        loss = loss_fn(model(features), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    linear = model[0]
    assert len(model) == 2 and linear.weight.dtype == torch.float32

    rng = np.random.default_rng(SEED)   # nn.Linear(3, 1)'s draws: weight (3, 1), then bias (1,)
    bound = 1 / np.sqrt(3)
    weight, bias = rng.uniform(-bound, bound, (3, 1))[:, 0], rng.uniform(-bound, bound, 1)
    xs = np.linspace(*GRID)
    powers, ys = np.stack([xs, xs ** 2, xs ** 3]), target_curve(xs)
    velocity = None
    for step in range(2 * steps):
        residual = weight @ powers + bias - ys
        grad = 2 * np.concatenate([powers @ residual, [residual.sum()]])
        if step >= steps:   # SGD with momentum: v <- 0.5 v + g (v starts as g)
            grad = velocity = grad if velocity is None else 0.5 * velocity + grad
        weight, bias = weight - learning_rate * grad[:3], bias - learning_rate * grad[3:]
    np.testing.assert_allclose(linear.weight.data[:, 0], weight, rtol=2e-3, atol=1e-4)   # float32 against float64
    np.testing.assert_allclose(linear.bias.data, bias, rtol=2e-3, atol=1e-4)
    assert loss.item() == pytest.approx(((weight @ powers + bias - ys) ** 2).sum(), rel=1e-2)


def train_digit_classifier(path, epochs=4, batch_size=64, dropout=0.1):
    """A classifier loop as written for PyTorch; returns the trained model's test predictions
    and those of a fresh model loaded from the saved state dict."""
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")

    torch.manual_seed(SEED)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    X = torch.tensor(train_images, dtype=torch.float64, device=device)
    Y = torch.tensor(train_labels, dtype=torch.long).to(device)
    X_test, Y_test = torch.tensor(test_images).double(), torch.from_numpy(test_labels).long()

    def make_model():
        return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                   torch.nn.Linear(32, 10)).to(device)

    model = make_model()
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    for epoch in range(epochs):
        model.train()
        permutation = torch.randperm(X.size(0))
        for start in range(0, len(X), batch_size):
            rows = permutation[start:start + batch_size]
            loss = loss_fn(model(X[rows]), Y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()

    model.eval()
    with torch.no_grad():
        predicted = model(X_test).argmax(dim=1)
        accuracy = (predicted == Y_test).float().mean().item()
    torch.save(model.state_dict(), path)
    reloaded = make_model()
    reloaded.load_state_dict(torch.load(path))
    reloaded.eval()
    with torch.no_grad():
        reloaded_predicted = reloaded(X_test).argmax(dim=1)
    return model, accuracy, predicted.numpy(), reloaded_predicted.numpy()


def digit_classifier_in_numpy(epochs=4, batch_size=64, dropout=0.1):
    """The same training, by hand: the same draws from the generator, in the same order."""
    (x, y), (x_test, y_test) = load_digits("train"), load_digits("test")
    rng = np.random.default_rng(SEED)
    weights = []
    for fan_in, fan_out in ((64, 32), (32, 10)):
        bound = 1 / np.sqrt(fan_in)
        weights += [rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)]
    velocities = [None] * 4
    for epoch in range(epochs):
        lr = 0.2 * 0.5 ** (epoch // 2)
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            w1, b1, w2, b2 = weights
            h = x[rows] @ w1 + b1
            scale = (rng.random(h.shape) >= dropout) / (1 - dropout)
            a = np.maximum(h, 0) * scale
            z = a @ w2 + b2
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            dz = (p - np.eye(10)[y[rows]]) / len(rows)
            dh = (dz @ w2.T) * scale * (h > 0)
            grads = [x[rows].T @ dh, dh.sum(axis=0), a.T @ dz, dz.sum(axis=0)]
            for i, g in enumerate(grads):
                velocities[i] = g if velocities[i] is None else 0.9 * velocities[i] + g
                weights[i] = weights[i] - lr * velocities[i]
    w1, b1, w2, b2 = weights
    predicted = (np.maximum(x_test @ w1 + b1, 0) @ w2 + b2).argmax(axis=1)
    return weights, float((predicted == y_test).mean()), predicted


def test_digit_classifier_loop_with_minibatches_eval_and_a_saved_state_dict(tmp_path):
    model, accuracy, predicted, reloaded_predicted = train_digit_classifier(tmp_path / "digits.pt")
    weights, expected_accuracy, expected_predicted = digit_classifier_in_numpy()
    trained = [model[0].weight, model[0].bias, model[3].weight, model[3].bias]
    for ours, expected in zip(trained, weights):
        np.testing.assert_allclose(ours.data, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(predicted, expected_predicted)
    assert accuracy == pytest.approx(expected_accuracy, rel=1e-6) and accuracy > 0.9   # .float(): float32
    np.testing.assert_array_equal(reloaded_predicted, predicted)   # the saved state dict round-trips exactly
    assert (tmp_path / "digits.pt").exists() and not (tmp_path / "digits.pt.npz").exists()


def test_the_readme_loop_runs_as_written(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Coming from PyTorch", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert code.startswith("import tinygrad_ste as torch")
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    final = namespace["loss"].item()
    spread = ((namespace["y"] - namespace["y"].mean()) ** 2).mean().item()
    assert final < 0.1 * spread, "the loop fits the curve"
    assert capsys.readouterr().out == f"mean squared error {final:.4f}\n"
