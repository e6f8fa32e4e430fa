import numpy as np
import pytest

from tinygrad_ste import Tensor
from tinygrad_ste.exercises import check


def verdict(capsys, *args, **kwargs):
    """What check(*args, **kwargs) printed; it never raises on an answer."""
    assert check(*args, **kwargs) is None
    return capsys.readouterr().out


@pytest.mark.parametrize("placeholder", [..., None])
def test_a_placeholder_is_not_answered(placeholder, capsys):
    printed = verdict(capsys, "Exercise 9.9", placeholder, expected=1.0)
    assert printed.startswith("Exercise 9.9: not answered yet.") and printed.count("\n") == 1


def test_a_function_still_raising_not_implemented_is_not_answered(capsys):
    def rule(x):
        raise NotImplementedError("write me")

    assert "Exercise 9.9: not answered yet." in verdict(capsys, "Exercise 9.9", rule, test=lambda f: f(1.0))


def test_a_right_answer_prints_correct(capsys):
    check("Exercise 9.9", np.array([1.0, 2.0]), expected=[1.0, 2.0 + 1e-9])
    check("Exercise 9.9", Tensor([3.0]), expected=[3.0])   # Tensors are compared by data
    check("Exercise 9.9", 7, test=lambda answer: None)
    assert capsys.readouterr().out == "Exercise 9.9: correct.\n" * 3


def test_a_wrong_value_names_the_first_wrong_entry_and_gives_the_hint(capsys):
    printed = verdict(capsys, "Exercise 9.9", [1.0, 2.0, 5.0], expected=[1.0, 2.0, 3.0], hint="look again")
    assert printed.startswith("Exercise 9.9: not quite. 1 of 3 entries differ")
    assert "index (2,): you have 5\nHint: look again\n" in printed
    assert "not answered" not in printed


def test_a_wrong_scalar_and_a_wrong_shape_are_explained(capsys):
    assert "not quite. your answer is 2" in verdict(capsys, "Exercise 9.9", 2.0, expected=3.0)
    assert "shape (2,), expected shape (3,)" in verdict(capsys, "Exercise 9.9", [1.0, 2.0], expected=[1.0, 2.0, 3.0])
    assert "numeric" in verdict(capsys, "Exercise 9.9", "three", expected=3.0)


def test_a_test_reports_its_sentence_an_assertion_or_the_learners_crash(capsys):
    assert "not quite. the sign is flipped" in verdict(capsys, "Exercise 9.9", 1,
                                                       test=lambda answer: "the sign is flipped")

    def failing_assertion(answer):
        assert answer > 2, "the answer should exceed 2"

    assert "not quite. the answer should exceed 2" in verdict(capsys, "Exercise 9.9", 1, test=failing_assertion)
    assert "not quite. your code raised ZeroDivisionError" in verdict(capsys, "Exercise 9.9", lambda: 1 / 0,
                                                                      test=lambda f: f())


def test_exactly_one_of_expected_and_test():
    with pytest.raises(TypeError, match="exactly one"):
        check("Exercise 9.9", 1.0)
    with pytest.raises(TypeError, match="exactly one"):
        check("Exercise 9.9", 1.0, expected=1.0, test=lambda answer: None)
