"""Each row of the README's "Differences from PyTorch" table, pinned: if a behaviour changes, the
table must change with it."""
import numpy as np
import pytest

import tinygrad_ste as tg
import tinygrad_ste.functional as F
from tinygrad_ste import Tensor


def test_python_floats_are_float64():
    assert Tensor([0.5]).dtype == np.float64 and Tensor([1]).dtype == np.int64 and Tensor([True]).dtype == bool


def test_non_finite_gradient_raises_at_the_op_that_made_it():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(ValueError, match="backward of log: the gradient became non-finite"), np.errstate(divide="ignore"):
        F.where(x.data > 0, x.log(), 0.0).sum().backward()   # PyTorch: a NaN in x.grad, silently
    safe = F.where(x.data > 0, x, 1.0)                        # the fix, in both libraries: a safe input
    F.where(x.data > 0, safe.log(), 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_var_and_std_default_to_numpys_ddof_0():
    x = Tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == 1.25 and x.var(ddof=1).item() == pytest.approx(5 / 3)


def test_var_and_std_with_no_degrees_of_freedom_left_raise():
    with pytest.raises(ValueError, match="var: needs more than ddof=1 elements"):
        Tensor([1.0]).var(ddof=1)                  # PyTorch: nan, with a warning
    with pytest.raises(ValueError, match="std: needs more than ddof=0"):
        Tensor(np.zeros((0, 2))).std(axis=0)


def test_clip_with_lo_above_hi_raises():
    with pytest.raises(ValueError, match="clip: clip needs lo <= hi"):
        Tensor([0.5]).clip(1.0, 0.0)             # PyTorch: hi everywhere


def test_sign_of_zero_is_plus_one():
    assert tg.sign([0.0, -0.0]).data.tolist() == [1.0, 1.0]   # torch.sign(0) = 0


def test_einsum_is_numpys():
    with pytest.raises(ValueError, match="the output needs '...' too"):
        F.einsum("...ij->ij", np.ones((2, 3, 4)))


def test_errors_are_value_and_type_errors():
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):   # PyTorch: IndexError
        Tensor(np.ones((2, 3))).sum(2)
    with pytest.raises(ValueError, match="matmul: shapes"):                # PyTorch: RuntimeError
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match="getitem: tensors used as indices"):   # as PyTorch
        Tensor(np.ones(3))[Tensor(1.0)]


def test_mixed_advanced_indexing_places_axes_as_numpy():
    x = Tensor(np.zeros((2, 3, 12, 4, 5)))
    d = Tensor(np.array([[0, 1], [3, 2]]))
    assert x[1, :, 3:11:2, d, 0:2].shape == (2, 2, 3, 4, 2)   # PyTorch: (3, 4, 2, 2, 2)


def test_tied_maxima_share_the_gradient():
    x = Tensor([2.0, 2.0, 1.0], requires_grad=True)
    x.max().backward()                            # torch.max(x, dim) gives all of it to one index
    np.testing.assert_array_equal(x.grad, [0.5, 0.5, 0.0])


def test_class_scores_are_on_the_last_axis():
    logits, target = np.zeros((2, 5, 3)), np.zeros((2, 5), dtype=int)   # PyTorch: (2, 3, 5) and (2, 5)
    assert F.cross_entropy(logits, target, reduction="none").shape == (2, 5)
    assert F.nll_loss(logits, target, reduction="none").shape == (2, 5)


def test_one_hot_is_float64():
    assert F.one_hot([1, 0], 2).dtype == np.float64    # PyTorch: int64


def test_cumsum_without_axis_flattens():
    assert Tensor(np.ones((2, 3))).cumsum().shape == (6,)   # PyTorch needs dim


def test_pad_widths_are_numpys():
    assert F.pad(np.ones((2, 3)), ((1, 0), (2, 2))).shape == (3, 7)   # PyTorch: (left, right, top, bottom)


def test_linear_weight_is_in_by_out():
    layer = tg.nn.Linear(3, 2)
    assert layer.weight.shape == (3, 2)   # PyTorch: (2, 3)
    x = tg.randn(4, 3)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy() + layer.bias.numpy())


def test_max_with_a_dim_gives_the_values():
    x = tg.tensor([[1.0, 5.0], [7.0, 2.0]])
    np.testing.assert_array_equal(x.max(dim=1).numpy(), [5.0, 7.0])   # PyTorch: (values, indices)
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), [1, 0])


def test_grad_is_a_numpy_array():
    w = tg.ones(2, requires_grad=True)
    (w * 3).sum().backward()
    assert type(w.grad) is np.ndarray and not hasattr(w.grad, "zero_")


def test_in_place_on_a_tensor_in_a_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    other_name = y
    y += 1
    assert y is not other_name and other_name.numpy().tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="exp_: in-place ops are not recorded in a graph"):
        y.exp_()


def test_creation_defaults_to_float64():
    for made in (tg.zeros(2), tg.randn(2), tg.linspace(0, 1, 3), tg.arange(0.5, 2), tg.tensor([0.5])):
        assert made.dtype == tg.float64
    mixed = tg.ones(2, dtype=tg.float32) * tg.tensor([2, 3])
    assert mixed.dtype == tg.float64   # PyTorch: float32


def test_random_numbers_are_numpys():
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.randn(3).numpy(), np.random.default_rng(0).standard_normal(3))


def test_from_numpy_copies_and_empty_is_zeros():
    array = np.zeros(2)
    tensor = tg.from_numpy(array)
    array += 1
    assert tensor.numpy().tolist() == [0.0, 0.0] and tg.empty(3).numpy().tolist() == [0.0, 0.0, 0.0]


def test_save_takes_dicts_of_arrays_only(tmp_path):
    with pytest.raises(TypeError, match="save: expects a dict of arrays"):
        tg.save(tg.nn.Linear(2, 2), tmp_path / "model.pt")   # PyTorch pickles the whole module


def test_optimizers_have_no_state_dict():
    optimizer = tg.optim.Adam(tg.nn.Linear(2, 2).parameters())
    assert not hasattr(optimizer, "state_dict")


def test_every_row_of_the_readme_table_names_a_test_here():
    import pathlib
    import re
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    table = readme.split("### Differences from PyTorch", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"\| `(test_\w+)` \|", table)
    here = {name for name in globals() if name.startswith("test_") and name != "test_every_row_of_the_readme_table_names_a_test_here"}
    assert named and set(named) == here
