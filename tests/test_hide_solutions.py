"""A marked assessment can hide ``ex.<name>.solution()`` (GDCOURSE_HIDE_SOLUTIONS)."""

from __future__ import annotations

import pytest

from gdcourse.exercises import _core

ALL = [ex for lesson in _core.available_lessons() for ex in _core.lesson_exercises(lesson)]


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_hidden_solutions_say_so_and_show_no_code(monkeypatch, value):
    monkeypatch.setenv("GDCOURSE_HIDE_SOLUTIONS", value)
    for ex in ALL:
        text = str(ex.solution())
        assert f"Solutions are hidden for this course (a marked assessment), so `{ex.id}`" in text
        assert "```" not in text and f"def {ex.name}(" not in text
        assert "Hint" in str(ex.hint())  # hints stay available


@pytest.mark.parametrize("value", [None, "", "0", "false", "no"])
def test_solutions_show_unless_hidden(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("GDCOURSE_HIDE_SOLUTIONS", raising=False)
    else:
        monkeypatch.setenv("GDCOURSE_HIDE_SOLUTIONS", value)
    for ex in ALL:
        text = str(ex.solution())
        assert f"def {ex.name}(" in text and "hidden" not in text
