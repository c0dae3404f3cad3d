"""Graded exercises: one module of checks per lesson, on a shared core.

In a notebook::

    from gdcourse.exercises import lesson01 as ex
    ex.predict.check(predict)     # prints one ✓ line, or raises with one line of feedback
    ex.predict.hint()             # a hint (Markdown)
    ex.predict.solution()         # the reference code (Markdown)

A failed check raises :class:`NotAttempted`, :class:`Incorrect` or
:class:`CodeRaised`, all subclasses of :class:`CheckFailed` (an
``AssertionError``), so running a notebook with an unfinished exercise fails.

Adding a lesson: create ``lessonNN.py`` here with ``Exercise`` objects and a
tuple ``EXERCISES`` listing them (optionally ``PREAMBLE``, the imports its
answers may rely on when graded).  See :mod:`gdcourse.exercises._core`.
"""

from ._core import (
    STATUSES,
    CheckFailed,
    CodeRaised,
    Exercise,
    Fn,
    Incorrect,
    Mistake,
    NotAttempted,
    Result,
    available_lessons,
    compare_values,
    get,
    lesson_exercises,
)

__all__ = [
    "STATUSES",
    "CheckFailed",
    "CodeRaised",
    "Exercise",
    "Fn",
    "Incorrect",
    "Mistake",
    "NotAttempted",
    "Result",
    "available_lessons",
    "compare_values",
    "get",
    "lesson_exercises",
]
