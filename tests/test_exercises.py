import numpy as np
import pytest

from tinygrad_ste import Tensor
from tinygrad_ste.exercises import ExerciseError, NotAnswered, check


@pytest.mark.parametrize("placeholder", [..., None])
def test_a_placeholder_is_not_answered(placeholder):
    with pytest.raises(NotAnswered, match="Exercise 9.9 is not answered yet"):
        check("Exercise 9.9", placeholder, expected=1.0)


def test_a_function_still_raising_not_implemented_is_not_answered():
    def rule(x):
        raise NotImplementedError("write me")

    with pytest.raises(NotAnswered, match="not answered yet"):
        check("Exercise 9.9", rule, test=lambda f: f(1.0))


def test_a_right_answer_prints_correct(capsys):
    check("Exercise 9.9", np.array([1.0, 2.0]), expected=[1.0, 2.0 + 1e-9])
    check("Exercise 9.9", Tensor([3.0]), expected=[3.0])   # Tensors are compared by data
    check("Exercise 9.9", 7, test=lambda answer: None)
    assert capsys.readouterr().out == "Exercise 9.9: correct.\n" * 3


def test_a_wrong_value_names_the_first_wrong_entry_and_gives_the_hint():
    with pytest.raises(ExerciseError, match=r"1 of 3 entries differ.*index \(2,\).*you have 5\n"
                                            r"Hint: look again") as failure:
        check("Exercise 9.9", [1.0, 2.0, 5.0], expected=[1.0, 2.0, 3.0], hint="look again")
    assert not isinstance(failure.value, NotAnswered)


def test_a_wrong_scalar_and_a_wrong_shape_are_explained():
    with pytest.raises(ExerciseError, match="your answer is 2"):
        check("Exercise 9.9", 2.0, expected=3.0)
    with pytest.raises(ExerciseError, match=r"shape \(2,\), expected shape \(3,\)"):
        check("Exercise 9.9", [1.0, 2.0], expected=[1.0, 2.0, 3.0])
    with pytest.raises(ExerciseError, match="numeric"):
        check("Exercise 9.9", "three", expected=3.0)


def test_a_test_reports_its_sentence_an_assertion_or_the_learners_crash():
    with pytest.raises(ExerciseError, match="not quite. the sign is flipped"):
        check("Exercise 9.9", 1, test=lambda answer: "the sign is flipped")

    def failing_assertion(answer):
        assert answer > 2, "the answer should exceed 2"

    with pytest.raises(ExerciseError, match="the answer should exceed 2"):
        check("Exercise 9.9", 1, test=failing_assertion)
    with pytest.raises(ExerciseError, match="your code raised ZeroDivisionError"):
        check("Exercise 9.9", lambda: 1 / 0, test=lambda f: f())


def test_exactly_one_of_expected_and_test():
    with pytest.raises(TypeError, match="exactly one"):
        check("Exercise 9.9", 1.0)
    with pytest.raises(TypeError, match="exactly one"):
        check("Exercise 9.9", 1.0, expected=1.0, test=lambda answer: None)
