"""Data sets the panel tests share."""

import pytest

from gdcourse import data


@pytest.fixture(scope="module")
def d():
    return data.five_points()


@pytest.fixture(scope="module")
def regression():
    return data.make_regression(2000, 1, random_state=0)
