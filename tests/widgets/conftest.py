"""Data sets the panel tests share."""

import pytest

from gdcourse import data


@pytest.fixture(scope="module")
def d():
    return data.five_points()


@pytest.fixture(scope="module")
def regression():
    """Lesson 4's data (its first code cell), which batch_size_panel() trains on by default."""
    return data.make_regression(4000, 1, noise=1.0, random_state=0)
