"""Lesson 1's checkers (gdcourse.exercises.lesson01) accept right answers and name each
classic mistake.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy spellings).
"""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse.exercises import lesson01

from .kit import X5, Y5, cost_loop, verdict


# --- independent facts (COURSE.md) ---------------------------------------------

def test_facts_of_the_running_example():
    theta_star = np.linalg.lstsq(X5, Y5, rcond=None)[0]
    np.testing.assert_allclose(theta_star, [2.2, 0.6], atol=1e-12)
    assert lesson01._compute_cost(theta_star, X5, Y5) == pytest.approx(0.24)


# --- right and wrong answers -----------------------------------------------------


def predict_loop(theta, X):
    return np.array([sum(X[i, j] * theta[j] for j in range(X.shape[1])) for i in range(len(X))])


def cost_no_half(theta, X, y):
    return np.mean((X @ theta - y) ** 2)


def cost_sum_half(theta, X, y):
    return np.sum((X @ theta - y) ** 2) / 2


def cost_column(theta, X, y):
    h = (X @ theta)[:, np.newaxis]
    return np.sum((h - y) ** 2) / (2 * len(y))


def grid_meshgrid(X, y, t0, t1):
    T0, T1 = np.meshgrid(t0, t1)
    thetas = np.stack([T0.ravel(), T1.ravel()])           # (2, k)
    J = (((X @ thetas) - y[:, None]) ** 2).sum(axis=0).reshape(T0.shape) / (2 * len(y))
    k = np.argmin(J)
    return J, np.array([T0.flat[k], T1.flat[k]])


def grid_ij(X, y, t0, t1):
    J, best = grid_meshgrid(X, y, t0, t1)
    return J.T.copy(), best


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson01.predict, predict_loop, None),
    (lesson01.predict, lambda theta, X: (X @ theta)[:, None], "(m, 1)"),
    (lesson01.compute_cost, cost_loop, None),
    (lesson01.compute_cost, cost_no_half, "½ is missing"),
    (lesson01.compute_cost, cost_sum_half, "1/m is missing"),
    (lesson01.compute_cost, lambda t, X, y: np.sum((X @ t - y) ** 2), "sum instead of mean"),
    (lesson01.compute_cost, cost_column, "(m, 1) broadcasting"),
    (lesson01.compute_cost, lambda t, X, y: np.sum((X @ t - y) ** 2) / (4 * len(y)), "extra ½"),
    (lesson01.cost_grid, grid_meshgrid, None),
    (lesson01.cost_grid, grid_ij, "transposed ('ij' indexing)"),
])
def test_lesson01_independent_answers(exercise, fn, fragment):
    verdict(exercise, fn, fragment)


def test_predict_with_transposed_product_reports_the_exception():
    result = lesson01.predict.evaluate(lambda theta, X: theta @ X)
    assert result.status == "error" and "ValueError" in result.message
    assert "X=array of shape (5, 2)" in result.message
