"""Properties every exercise checker must have, for every lesson the package ships.

The lesson files (test_lesson01.py ... test_lesson07.py) test the right and
wrong answers of each exercise; this one holds the rules common to all:
the reference passes, each named mistake is caught and named, a stub is
"not attempted", a missing return and a crash get their own feedback, and the
inputs mix fixed cases with random ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse.exercises import available_lessons, lesson_exercises

ALL = tuple(ex for lesson in available_lessons() for ex in lesson_exercises(lesson))


def test_every_lesson_has_at_least_three_exercises():
    assert [lesson for lesson in available_lessons()] == [f"lesson0{i}" for i in range(1, 8)]
    for lesson in available_lessons():
        assert len(lesson_exercises(lesson)) >= 3, lesson


def test_at_least_21_graded_exercises():
    assert sum(len(lesson_exercises(lesson)) for lesson in available_lessons()) >= 21


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
@pytest.mark.parametrize("seed", [0, 11, 2024])
def test_reference_passes_and_every_variant_is_named(exercise, seed):
    assert exercise.evaluate(exercise.reference, seed).passed
    for mistake in exercise.mistakes:
        result = exercise.evaluate(mistake.fn, seed)
        assert result.status == "incorrect", (mistake.message, result)
        assert result.message.startswith(mistake.message), (mistake.message, result.message)


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_hints_solution_stub_none_and_exception(exercise):
    assert exercise.hints and exercise.mistakes
    assert f"def {exercise.name}(" in str(exercise.solution())
    assert len(exercise.cases(0)) >= 4

    def stub(*args, **kwargs):
        raise NotImplementedError

    def forgot_return(*args):
        _ = args

    def crashes(*args):
        raise ValueError("something odd")

    assert exercise.evaluate(stub).status == "not_attempted"
    none = exercise.evaluate(forgot_return)
    assert none.status == "incorrect" and "forget a `return`" in none.message, none
    error = exercise.evaluate(crashes)
    assert error.status == "error" and "ValueError: something odd" in error.message, error
    assert "(input: " in error.message


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_cases_mix_fixed_and_random_inputs(exercise):
    def flat(cases):
        return [a for case in cases for a in case]

    a, b = exercise.cases(1), exercise.cases(2)

    def same(x, y):
        if isinstance(x, (list, tuple)):
            return len(x) == len(y) and all(same(u, v) for u, v in zip(x, y))
        if callable(x) or callable(y):
            return x is y or repr(x) == repr(y)
        return np.shape(x) == np.shape(y) and np.array_equal(x, y)

    assert same(flat(a[:2]), flat(b[:2]))                 # the fixed ones
    assert not same(flat(a[-1:]), flat(b[-1:]))           # the random ones
