"""Every lesson checker accepts right answers and rejects each classic mistake by name.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy spellings).
"""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse.exercises import lesson01, lesson02, lesson03

ALL = lesson01.EXERCISES + lesson02.EXERCISES + lesson03.EXERCISES
X5 = np.column_stack([np.ones(5), np.arange(1.0, 6.0)])
Y5 = np.array([2.0, 4.0, 5.0, 4.0, 5.0])


# --- independent facts (COURSE.md) ---------------------------------------------

def test_facts_of_the_running_example():
    theta_star = np.linalg.lstsq(X5, Y5, rcond=None)[0]
    np.testing.assert_allclose(theta_star, [2.2, 0.6], atol=1e-12)
    assert lesson01._compute_cost(theta_star, X5, Y5) == pytest.approx(0.24)
    theta, costs = lesson03._gradient_descent(np.zeros(2), X5, Y5, 0.01, 1000)
    np.testing.assert_allclose(theta, [1.852128, 0.696355], atol=1e-6)
    assert costs[-1] == pytest.approx(0.251013, abs=1e-6) and len(costs) == 1001
    assert lesson03._max_stable_lr(X5.T @ X5 / 5) == pytest.approx(2 / 11.83, rel=1e-3)
    h = 1e-6
    f = lambda t: lesson01._compute_cost(t, X5, Y5)  # noqa: E731
    numeric = [(f(np.eye(2)[i] * h + 1) - f(1 - np.eye(2)[i] * h)) / (2 * h) for i in range(2)]
    np.testing.assert_allclose(lesson02._gradient(np.ones(2), X5, Y5), numeric, rtol=1e-6)


# --- lesson 1 --------------------------------------------------------------------

def predict_loop(theta, X):
    return np.array([sum(X[i, j] * theta[j] for j in range(X.shape[1])) for i in range(len(X))])


def cost_loop(theta, X, y):
    m = len(y)
    return sum((X[i] @ theta - y[i]) ** 2 for i in range(m)) / (2 * m)


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
    result = exercise.evaluate(fn)
    if fragment is None:
        assert result.passed, result
    else:
        assert result.status == "incorrect" and fragment in result.message, result


def test_predict_with_transposed_product_reports_the_exception():
    result = lesson01.predict.evaluate(lambda theta, X: theta @ X)
    assert result.status == "error" and "ValueError" in result.message
    assert "X=array of shape (5, 2)" in result.message


# --- lesson 2 --------------------------------------------------------------------

def gradient_loop(theta, X, y):
    m, n = X.shape
    r = X @ theta - y
    return np.array([sum(r[i] * X[i, j] for i in range(m)) / m for j in range(n)])


def numgrad_good(f, theta, h=1e-5):
    grad = np.empty(theta.shape)
    flat = theta.reshape(-1)
    for k in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[k] += h
        minus[k] -= h
        grad.reshape(-1)[k] = (f(plus.reshape(theta.shape)) - f(minus.reshape(theta.shape))) / (2 * h)
    return grad


def numgrad_in_place(f, theta, h=1e-5):
    grad = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        theta[idx] += h
        up = f(theta)
        theta[idx] -= 2 * h
        down = f(theta)
        theta[idx] += h                                    # "restored"... up to round-off
        grad[idx] = (up - down) / (2 * h)
    theta += 1.0                                            # and a real change, to be sure
    return grad


def numgrad_forward(f, theta, h=1e-5):
    grad = np.zeros_like(theta)
    base = f(theta)
    for idx in np.ndindex(theta.shape):
        t = theta.copy()
        t[idx] += h
        grad[idx] = (f(t) - base) / h
    return grad


def numgrad_over_h(f, theta, h=1e-5):
    return numgrad_good(f, theta, h) * 2


def numgrad_flat_only(f, theta, h=1e-5):
    grad = np.zeros(len(theta))
    for i in range(len(theta)):
        e = np.zeros(len(theta))
        e[i] = h
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return grad


def check_good(f, grad_fn, theta, h=1e-5):
    a, n = grad_fn(theta), numgrad_good(f, theta, h)
    return np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)


def check_absolute(f, grad_fn, theta, h=1e-5):
    return float(np.sqrt(np.sum((grad_fn(theta) - numgrad_good(f, theta, h)) ** 2)))


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson02.gradient, gradient_loop, None),
    (lesson02.gradient, lambda t, X, y: X.T @ (y - X @ t) / len(y), "sign is flipped"),
    (lesson02.gradient, lambda t, X, y: X.T @ (X @ t - y), "1/m is missing"),
    (lesson02.gradient, lambda t, X, y: X.T @ (X @ t - y[:, None]) / len(y), "(m, 1)"),
    (lesson02.numerical_gradient, numgrad_good, None),
    (lesson02.numerical_gradient, numgrad_in_place, "changed theta in place"),
    (lesson02.numerical_gradient, numgrad_forward, "forward difference"),
    (lesson02.numerical_gradient, numgrad_over_h, "instead of 2h"),
    (lesson02.gradient_check, check_good, None),
    (lesson02.gradient_check, check_absolute, "absolute error"),
])
def test_lesson02_independent_answers(exercise, fn, fragment):
    result = exercise.evaluate(fn)
    if fragment is None:
        assert result.passed, result
    else:
        assert result.status == "incorrect" and fragment in result.message, result


def test_numerical_gradient_of_matrix_theta_needs_every_index():
    result = lesson02.numerical_gradient.evaluate(numgrad_flat_only)
    assert not result.passed
    assert "(2, 3)" in result.message


# --- lesson 3 --------------------------------------------------------------------

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
    result = exercise.evaluate(fn)
    if fragment is None:
        assert result.passed, result
    else:
        assert result.status == "incorrect" and fragment in result.message, result
