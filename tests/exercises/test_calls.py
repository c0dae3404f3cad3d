"""Call procedures (gdcourse.exercises._calls): every exercise's can be named to the grader's
sandboxed child."""

from __future__ import annotations

import pytest

from gdcourse.exercises import available_lessons, lesson_exercises

ALL = tuple(ex for lesson in available_lessons() for ex in lesson_exercises(lesson))


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_every_exercise_can_be_sent_to_the_sandboxed_grader(exercise):
    # an exercise whose run= is plain Python code checks in the notebook but cannot be graded
    from gdcourse.exercises._calls import from_wire
    tree = exercise.run.wire()
    assert type(from_wire(tree)) is type(exercise.run)
