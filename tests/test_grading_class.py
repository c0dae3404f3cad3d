"""The generated class of every lesson (tests/fixtures/learners.py) grades the same on both paths.

The benchmark (benchmarks/bench_grading.py --class 300) times the same two paths
on a large class; this test only checks the grades, never a time.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

import learners  # noqa: E402

from gdcourse import grading  # noqa: E402
from gdcourse.exercises import _core  # noqa: E402


def test_every_mistake_written_out_is_graded_incorrect_by_the_exercise_itself():
    # the generator's mistakes are real mistakes: the exercise's own judge names them
    for lesson in _core.available_lessons():
        for ex in _core.lesson_exercises(lesson):
            written = learners.mistake_sources(ex)
            assert len(written) >= len(ex.mistakes) // 2, ex.id
            for message, source in written[:2]:
                namespace: dict = {}
                exec(compile(source, "<mistake>", "exec"), namespace)
                assert ex.evaluate(namespace[ex.name]).status == "incorrect", (ex.id, message)


def test_the_class_plan_is_deterministic_and_spans_every_lesson():
    a, b = learners.ClassPlan(6, seed=4), learners.ClassPlan(6, seed=4)
    assert a.plan == b.plan
    assert learners.ClassPlan(6, seed=5).plan != a.plan
    assert a.lessons == _core.available_lessons()
    assert set(a.kinds()) >= {"right", "mistake", "crash", "stub", "loop"}
    assert learners.sample(a.learners, 3) == ["learner000", "learner002", "learner004"]


@pytest.mark.slow
def test_a_small_class_over_every_lesson_grades_identically_on_both_paths(tmp_path):
    plan = learners.ClassPlan(2, seed=3, loops=1)
    folder = plan.write(tmp_path / "class")
    warm = grading.grade(folder, seed=2, timeout=2, jobs=2)
    fresh = grading.grade(folder, seed=2, timeout=2, jobs=2, fresh_interpreters=True)
    assert warm == fresh
    statuses = Counter(r.status for r in warm)
    assert len(warm) == plan.n_answers() == 2 * sum(len(e) for e in plan.exercises.values())
    assert {"correct", "incorrect", "timeout"} <= set(statuses)
    # each row's status follows from what the learner handed in
    expected = {"right": {"correct"}, "mistake": {"incorrect"}, "stub": {"not_attempted"},
                "loop": {"timeout"}, "crash": {"error", "crashed"}}
    for row in warm:
        kind = plan.plan[row.student][row.exercise][0]
        assert row.status in expected[kind], (row, kind)
