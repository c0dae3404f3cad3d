"""Lesson 3's checkers (gdcourse.exercises.lesson03) accept right answers and name each
classic mistake.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy spellings).
"""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse.exercises import lesson03

from .kit import X5, Y5, cost_loop, gradient_loop, verdict


# --- independent facts (COURSE.md) ---------------------------------------------

def test_facts_of_gradient_descent_on_the_running_example():
    theta, costs = lesson03._gradient_descent(np.zeros(2), X5, Y5, 0.01, 1000)
    np.testing.assert_allclose(theta, [1.852128, 0.696355], atol=1e-6)
    assert costs[-1] == pytest.approx(0.251013, abs=1e-6) and len(costs) == 1001
    assert lesson03._max_stable_lr(X5.T @ X5 / 5) == pytest.approx(2 / 11.83, rel=1e-3)


# --- right and wrong answers -----------------------------------------------------


def step_good(theta, X, y, lr):
    g = gradient_loop(theta, X, y)
    return np.array([theta[j] - lr * g[j] for j in range(len(theta))])


def step_sequential(theta, X, y, lr):
    new = theta.astype(float)                              # a copy
    for j in range(len(new)):
        new[j] -= lr * gradient_loop(new, X, y)[j]         # uses the fresh θ0 for θ1
    return new


def step_in_place(theta, X, y, lr):
    theta -= lr * X.T @ (X @ theta - y) / len(y)
    return theta


def gd_good(theta0, X, y, lr, num_iters, tol=None):
    theta = theta0.copy()
    costs = [cost_loop(theta, X, y)]
    for _ in range(num_iters):
        theta = step_good(theta, X, y, lr)
        costs.append(cost_loop(theta, X, y))
        if tol is not None and abs(costs[-1] - costs[-2]) < tol:
            break
    return theta, np.array(costs)


def gd_no_initial(theta0, X, y, lr, num_iters, tol=None):
    theta, costs = gd_good(theta0, X, y, lr, num_iters, tol)
    return theta, costs[1:]


def gd_ignores_tol(theta0, X, y, lr, num_iters, tol=None):
    return gd_good(theta0, X, y, lr, num_iters, None)


def gd_in_place(theta0, X, y, lr, num_iters, tol=None):
    theta = theta0
    costs = [cost_loop(theta, X, y)]
    for _ in range(num_iters):
        theta -= lr * X.T @ (X @ theta - y) / len(y)
        costs.append(cost_loop(theta, X, y))
        if tol is not None and abs(costs[-1] - costs[-2]) < tol:
            break
    return theta, costs


def lr_power_iteration(H):
    v = np.ones(len(H))
    for _ in range(2000):
        v = H @ v
        v /= np.linalg.norm(v)
    return 2 / (v @ H @ v)


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson03.gd_step, step_good, None),
    (lesson03.gd_step, lambda t, X, y, lr: t + lr * gradient_loop(t, X, y), "sign is flipped"),
    (lesson03.gd_step, step_sequential, "not updated simultaneously"),
    (lesson03.gd_step, step_in_place, "changed theta in place"),
    (lesson03.gradient_descent, gd_good, None),
    (lesson03.gradient_descent, gd_no_initial, "missing J(θ0)"),
    (lesson03.gradient_descent, gd_ignores_tol, "tol is ignored"),
    (lesson03.gradient_descent, gd_in_place, "changed theta0 in place"),
    (lesson03.max_stable_lr, lr_power_iteration, None),
    (lesson03.max_stable_lr, lambda H: 1 / np.max(np.linalg.eigvals(H).real), "1/λ_max"),
    (lesson03.max_stable_lr, lambda H: 2 / np.min(np.linalg.eigvalsh(H)), "smallest eigenvalue"),
    (lesson03.max_stable_lr, lambda H: 2 / np.trace(H), "trace"),
])
def test_lesson03_independent_answers(exercise, fn, fragment):
    verdict(exercise, fn, fragment)
