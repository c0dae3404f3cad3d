"""What several exercise test files share: the running example, two learner answers later
lessons build on, tests/fixtures/submissions, and the helpers that judge an answer the way the notebook and the grader do.

Everything here is written independently of the package's reference code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from gdcourse.exercises import _core

sys.path.insert(0, str(Path(__file__).parent.parent / "fixtures"))
import submissions  # noqa: E402  (tests/fixtures: notebooks of learners' answers)

__all__ = ["X5", "Y5", "cost_loop", "gradient_loop", "verdict", "round_trip", "submissions"]

X5 = np.column_stack([np.ones(5), np.arange(1.0, 6.0)])
Y5 = np.array([2.0, 4.0, 5.0, 4.0, 5.0])


def cost_loop(theta, X, y):
    m = len(y)
    return sum((X[i] @ theta - y[i]) ** 2 for i in range(m)) / (2 * m)


def gradient_loop(theta, X, y):
    m, n = X.shape
    r = X @ theta - y
    return np.array([sum(r[i] * X[i, j] for i in range(m)) / m for j in range(n)])


def verdict(exercise, fn, fragment):
    """Evaluate ``fn`` as the notebook does: it passes (``fragment`` None) or is named."""
    result = exercise.evaluate(fn)
    assert_verdict(result, fragment)
    return result


def assert_verdict(result, fragment):
    """``result`` passed (``fragment`` None), or is "incorrect" with ``fragment`` in its message."""
    if fragment is None:
        assert result.passed, result
    else:
        assert result.status == "incorrect" and fragment in result.message, result


def round_trip(exercise, right, wrong, fragment):
    """What the grader does: hidden cases and outcomes travel as JSON + arrays."""
    cases = exercise.grading_cases(4242)
    expected = [exercise.expected(c) for c in cases]
    arrays: dict = {}
    sent = [tuple(_core.decode(_core.encode(c, arrays), arrays)) for c in cases]
    for fn, fragment_or_none in ((right, None), (wrong, fragment)):
        out_arrays: dict = {}
        trees = [_core.encode_outcome(o, out_arrays) for o in exercise.collect(fn, sent)]
        outcomes = [_core.decode_outcome(t, out_arrays) for t in trees]
        assert_verdict(exercise.judge(sent, outcomes, expected), fragment_or_none)
