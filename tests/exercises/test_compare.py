"""Comparing a learner's value with the expected one (gdcourse.exercises._compare)."""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse.exercises import compare_values


@pytest.mark.parametrize("got, expected, fragment", [
    ((1.0,), (1.0, 2.0), "2 values"),
    (np.zeros((3, 2)), np.zeros((2, 3)), "transposed"),
    (np.zeros((4, 4)), np.zeros(4), "(m, m)"),
    (np.zeros((4, 1)), np.zeros(4), "flat"),
    (np.array([1.0, np.nan]), np.array([1.0, 2.0]), "NaN"),
    (np.array([1, 2]), np.array([1.5, 2.5]), "integer dtype"),
    (2.0, 1.0, "2 times"),
    (np.ones((2, 2)), 1.0, "single number"),
    ([1.0, 2.0], [1.0, 2.0, 3.0], "3 entries"),
])
def test_compare_values_messages(got, expected, fragment):
    message = compare_values(got, expected)
    assert message is not None and fragment in message


def test_compare_values_accepts_equivalent_answers():
    assert compare_values(np.float64(0.1 + 0.2), 0.3) is None
    assert compare_values(np.array(0.5), 0.5) is None
    assert compare_values([1.0, 2.0], [1.0, 2.0]) is None
    assert compare_values(np.array([1.0, 2.0]), [1.0, 2.0]) is None
    assert compare_values((np.ones(2), 1.0), (np.ones(2), 1.0)) is None
