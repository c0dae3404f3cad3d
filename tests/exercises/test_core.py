"""The exercise core (gdcourse.exercises._core): outcomes, feedback lines, the Exercise
object and the registry."""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse.exercises import (CheckFailed, CodeRaised, Exercise, Incorrect, Mistake,
                                NotAttempted, available_lessons, get, lesson01, lesson06,
                                lesson_exercises)
from gdcourse.exercises import _core


def _toy():
    """y = 3·x, with one named mistake; inputs are fixed plus random."""
    def reference(x):
        return 3.0 * x

    return Exercise(
        "lesson99.triple", reference,
        cases=lambda rng: [(np.array([1.0, 2.0]),), (rng.normal(size=4),)],
        mistakes=[Mistake("you doubled instead of tripling", lambda x: 2.0 * x)],
        hints=["Multiply by three.", "`3 * x`"],
    )


def test_failures_are_assertion_errors_with_one_rendered_line():
    for cls in (NotAttempted, Incorrect, CodeRaised):
        assert issubclass(cls, CheckFailed) and issubclass(cls, AssertionError)
        exc = cls("lesson01.predict", "some feedback")
        rendered = exc._render_traceback_()
        assert len(rendered) == 1 and "\n" not in rendered[0]
        assert "lesson01.predict" in rendered[0] and "some feedback" in rendered[0]


def test_ipython_shows_one_line_not_a_traceback(capsys):
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    try:
        shell.user_ns["ex"] = lesson01
        shell.run_cell("def predict(theta, X):\n    raise NotImplementedError\n")
        result = shell.run_cell("ex.predict.check(predict)")
        assert isinstance(result.error_in_exec, NotAttempted)
        shown = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
        assert len(shown) == 1, shown
        assert "not attempted" in shown[0] and "Traceback" not in shown[0]
    finally:
        InteractiveShell.clear_instance()


def test_passing_check_prints_one_friendly_line(capsys):
    assert _toy().check(lambda x: x * 3) is None
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("✓") and "lesson99.triple" in out[0]


def test_stub_is_not_attempted():
    def stub(x):
        # your code here
        raise NotImplementedError

    with pytest.raises(NotAttempted, match="not attempted"):
        _toy().check(stub)


def test_exception_names_type_message_and_input_shapes():
    def broken(x):
        raise ValueError("boom")

    with pytest.raises(CodeRaised) as info:
        _toy().check(broken)
    text = str(info.value)
    assert "ValueError: boom" in text and "x=array of shape (2,)" in text


def test_none_returned_asks_about_return():
    with pytest.raises(Incorrect, match="forget a `return`"):
        _toy().check(lambda x: None)


def test_wrong_shape_type_and_values():
    toy = _toy()
    assert "shape (2,)" in toy.evaluate(lambda x: (3 * x).reshape(-1, 1)).message
    assert "NumPy array" in toy.evaluate(lambda x: "nine").message
    wrong = toy.evaluate(lambda x: 3 * x + 0.5)
    assert wrong.status == "incorrect" and "wrong values" in wrong.message


def test_named_mistake_and_expected_values_stay_hidden():
    result = _toy().evaluate(lambda x: x + x)
    assert result.message.startswith("you doubled instead of tripling")
    # the expected output on the fixed input is [3, 6]; neither appears
    assert "3." not in result.message and "6." not in result.message


def test_mistake_that_matches_more_cases_wins():
    # on x = 0 both mistakes coincide; only "plus one" matches everywhere
    ex = Exercise(
        "lesson99.square", lambda x: x * x,
        cases=lambda rng: [(0.0,), (2.0,), (3.0,)],
        mistakes=[Mistake("doubled", lambda x: 2 * x + 1), Mistake("plus one", lambda x: x + 1)])
    assert ex.evaluate(lambda x: x + 1).message.startswith("plus one")


def test_not_callable_is_explained():
    result = _toy().evaluate(np.array([1.0]))
    assert result.status == "incorrect" and "without parentheses" in result.message
    assert _toy().evaluate(None).status == "not_attempted"


def test_check_uses_several_fixed_and_random_cases():
    toy = _toy()
    a, b = toy.cases(0), toy.cases(1)
    np.testing.assert_array_equal(a[0][0], b[0][0])          # fixed
    assert not np.allclose(a[1][0], b[1][0])                  # random
    # right on the fixed input only: still rejected
    fixed_only = lambda x: np.array([3.0, 6.0]) if len(x) == 2 else x  # noqa: E731
    assert toy.evaluate(fixed_only).status == "incorrect"


def test_hint_and_solution():
    toy = _toy()
    assert "Multiply by three" in str(toy.hint()) and "`3 * x`" in str(toy.hint(2))
    solution = lesson01.predict.solution()
    assert "def predict(theta, X):" in solution._repr_markdown_()
    assert "X @ theta" in str(solution)


def test_assert_check_failed_helper():
    toy = _toy()
    toy._assert_check_failed(lambda x: 2 * x, contains="doubled", status="incorrect")
    with pytest.raises(AssertionError, match="passed"):
        toy._assert_check_failed(lambda x: 3 * x)
    with pytest.raises(AssertionError, match="mention"):
        toy._assert_check_failed(lambda x: 2 * x, contains="halved")


def test_registry():
    assert get("lesson01.predict") is lesson01.predict
    assert [e.name for e in lesson_exercises("lesson01")] == ["predict", "compute_cost",
                                                              "cost_grid"]
    assert {"lesson01", "lesson02", "lesson03"} <= set(_core.available_lessons())
    with pytest.raises(KeyError):
        get("lesson01.nope")
    with pytest.raises(ValueError):
        Exercise("Predict", lambda: None, cases=lambda rng: [()])


def test_discovery_for_grade_and_check():
    assert {"lesson04", "lesson05", "lesson06"} <= set(available_lessons())
    assert [e.name for e in lesson_exercises("lesson04")] == [
        "minibatch_indices", "minibatch_epoch", "updates_per_epoch", "train_epochs"]
    assert [e.name for e in lesson_exercises("lesson05")] == [
        "sigmoid_derivative", "xavier_init", "he_init", "clip_by_norm", "backward_pass"]
    assert [e.name for e in lesson_exercises("lesson06")] == [
        "momentum_step", "rmsprop_step", "adam_step"]
    assert get("lesson06.adam_step") is lesson06.adam_step
    for lesson in ("lesson04", "lesson05", "lesson06"):
        assert _core.preamble(lesson) == "import numpy as np\n"


def test_check_does_not_leak_numpy_warnings():
    # a learner's overflow must not escape as a RuntimeWarning (pytest turns those into errors)
    result = _toy().evaluate(lambda x: np.exp(np.full_like(x, 1000.0)))
    assert result.status == "incorrect"
