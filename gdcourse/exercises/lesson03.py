"""Exercises for lesson 3, the update rule.

``gd_step(theta, X, y, lr)``
    one step θ − α∇J(θ), with ∇J(θ) = (1/m)·Xᵀ(Xθ − y); a new array (θ unchanged).
``gradient_descent(theta0, X, y, lr, num_iters, tol=None)``
    ``(theta, costs)``: costs[0] = J(θ0) and one entry is appended after each
    update; stops early when |J_prev − J_new| < tol.  θ0 is left unchanged.
``max_stable_lr(H)``
    2/λ_max(H) for a symmetric positive-definite Hessian H: GD on a quadratic
    with this Hessian diverges for any larger α.
"""

from __future__ import annotations

import numpy as np

from ._compare import compare_values
from ._core import Exercise, Mistake
from ._shared import five_points as _five_points
from ._shared import random_problem as _random_problem

__all__ = ["gd_step", "gradient_descent", "max_stable_lr", "EXERCISES"]

PREAMBLE = "import numpy as np\n"


# --- gd_step ---------------------------------------------------------------

def _gd_step(theta, X, y, lr):
    m = len(y)
    grad = X.T @ (X @ theta - y) / m
    return theta - lr * grad


def _step_cases(rng):
    X5, y5 = _five_points()
    cases = [(np.array([0.0, 0.0]), X5, y5, 0.01), (np.array([1.0, 1.0]), X5, y5, 0.05)]
    for _ in range(3):
        X, y = _random_problem(rng)
        cases.append((rng.normal(size=X.shape[1]), X, y, float(rng.uniform(0.05, 0.3))))
    return cases


def _sequential_step(theta, X, y, lr):
    # θ0 updated first, then the *new* θ0 used when updating θ1, ...
    theta = np.array(theta, dtype=float)
    m = len(y)
    for j in range(len(theta)):
        theta[j] = theta[j] - lr * (X[:, j] @ (X @ theta - y)) / m
    return theta


def _grad(theta, X, y):
    return X.T @ (X @ theta - y) / len(y)


gd_step = Exercise(
    "lesson03.gd_step",
    _gd_step,
    cases=_step_cases,
    compare=lambda got, ref: compare_values(got, ref, rtol=1e-7, atol=1e-10,
                                            name="your new theta"),
    mistakes=[
        Mistake("looks like the sign is flipped: you step uphill (θ + α∇J); the update is "
                "θ − α∇J", lambda theta, X, y, lr: theta + lr * _grad(theta, X, y)),
        Mistake("parameters not updated simultaneously: θ0 was updated first and the new θ0 "
                "used for θ1; compute the whole gradient first, then update all of θ",
                _sequential_step),
        Mistake("the 1/m is missing from the gradient (sum instead of mean)",
                lambda theta, X, y, lr: theta - lr * X.T @ (X @ theta - y)),
        Mistake("the learning rate α is missing: θ − α∇J",
                lambda theta, X, y, lr: theta - _grad(theta, X, y)),
        Mistake("you returned the step α∇J, not the new θ = θ − α∇J",
                lambda theta, X, y, lr: lr * _grad(theta, X, y)),
        Mistake("you returned the step −α∇J, not the new θ = θ − α∇J",
                lambda theta, X, y, lr: -lr * _grad(theta, X, y)),
        Mistake("the gradient is twice too big: with the ½ in J, ∇J = (1/m)·Xᵀ(Xθ − y)",
                lambda theta, X, y, lr: theta - 2 * lr * _grad(theta, X, y)),
    ],
    hints=[
        "First the whole gradient, `grad = X.T @ (X @ theta - y) / m`; then one update.",
        "`return theta - lr * grad` builds a new array and leaves `theta` as it was.",
    ],
)


# --- gradient_descent ------------------------------------------------------

def _gradient_descent(theta0, X, y, lr, num_iters, tol=None):
    m = len(y)
    theta = np.array(theta0, dtype=float)              # a copy: theta0 stays as it was
    r = X @ theta - y
    costs = [float(r @ r) / (2 * m)]                   # J(θ0)
    for _ in range(num_iters):
        theta = theta - lr * X.T @ (X @ theta - y) / m  # all of θ at once
        r = X @ theta - y
        costs.append(float(r @ r) / (2 * m))
        if tol is not None and abs(costs[-2] - costs[-1]) < tol:
            break
    return theta, costs


def _gd_cases(rng):
    X5, y5 = _five_points()
    cases = [(np.zeros(2), X5, y5, 0.01, 1000),
             (np.zeros(2), X5, y5, 0.1, 5000, 1e-9),
             (np.array([1.0, 1.0]), X5, y5, 0.05, 30, None)]
    for _ in range(2):
        X, y = _random_problem(rng)
        cases.append((rng.normal(size=X.shape[1]), X, y, float(rng.uniform(0.02, 0.1)),
                      int(rng.integers(20, 60))))
    X, y = _random_problem(rng)
    cases.append((rng.normal(size=X.shape[1]), X, y, 0.1, 10_000, float(rng.uniform(1e-8, 1e-6))))
    return cases


def _gd_variant(kind):
    def variant(theta0, X, y, lr, num_iters, tol=None):
        m = len(y)
        theta = np.array(theta0, dtype=float)

        def cost(t):
            r = X @ t - y
            return float(r @ r) / (2 * m)

        costs = [cost(theta)]
        for _ in range(num_iters):
            if kind == "sign":
                theta = theta + lr * _grad(theta, X, y)
            elif kind == "sequential":
                theta = _sequential_step(theta, X, y, lr)
            else:
                theta = theta - lr * _grad(theta, X, y)
            costs.append(cost(theta))
            if kind != "ignore_tol" and tol is not None and abs(costs[-2] - costs[-1]) < tol:
                break
        if kind == "no_initial":        # only the costs after each update
            costs = costs[1:]
        elif kind == "before_update":   # the cost before each update: the last one is lost
            costs = costs[:-1]
        return theta, costs
    return variant


def _compare_gd(got, ref):
    if got is None:
        return "your function returned None: did you forget a `return`?"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "gradient_descent should return two values, (theta, costs)."
    theta, costs = got
    msg = compare_values(theta, ref[0], rtol=1e-6, atol=1e-9, name="theta")
    if msg:
        return msg
    arr = np.asarray(costs) if isinstance(costs, (list, tuple, np.ndarray)) else None
    if arr is None or arr.ndim != 1:
        return "costs should be a list (or 1-D array) of numbers, one per update plus J(θ0)."
    return compare_values(costs, ref[1], rtol=1e-6, atol=1e-12, name="costs")


gradient_descent = Exercise(
    "lesson03.gradient_descent",
    _gradient_descent,
    cases=_gd_cases,
    compare=_compare_gd,
    rtol=1e-6,
    mistakes=[
        Mistake("costs is missing J(θ0): start the list with the cost before any update, then "
                "append one entry after each update (num_iters + 1 in all)",
                _gd_variant("no_initial")),
        Mistake("costs is off by one: append the cost after each update, so the last entry is "
                "J of the final θ", _gd_variant("before_update")),
        Mistake("tol is ignored: stop as soon as |J_prev − J_new| < tol", _gd_variant("ignore_tol")),
        Mistake("looks like the sign is flipped: you step uphill and the cost grows; the update "
                "is θ − α∇J", _gd_variant("sign")),
        Mistake("parameters not updated simultaneously: θ0 was updated first and the new θ0 "
                "used for θ1; compute the whole gradient first", _gd_variant("sequential")),
    ],
    hints=[
        "Start with `theta = theta0.copy()` and `costs = [J(theta)]`; in the loop, update theta, "
        "append the new cost, then test the stopping rule.",
        "Stopping rule: `if tol is not None and abs(costs[-2] - costs[-1]) < tol: break`.",
    ],
)


# --- max_stable_lr -----------------------------------------------------------

def _max_stable_lr(H):
    eigenvalues = np.linalg.eigvalsh(H)    # ascending, for a symmetric matrix
    return float(2.0 / eigenvalues[-1])


def _spd(rng, n):
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.sort(rng.uniform(0.2, 20.0, size=n))
    lam[-1] = lam[-1] + 1.0  # a clear largest eigenvalue
    return (q * lam) @ q.T


def _lr_cases(rng):
    X5, _ = _five_points()
    cases = [(X5.T @ X5 / 5,), (np.array([[3.0, 1.0], [1.0, 2.0]]),)]
    for n in (2, 3, 4):
        cases.append((_spd(rng, n),))
    return cases


max_stable_lr = Exercise(
    "lesson03.max_stable_lr",
    _max_stable_lr,
    cases=_lr_cases,
    rtol=1e-7,
    mistakes=[
        Mistake("you returned 1/λ_max: GD on a quadratic is stable for 0 < α·λ < 2, so the "
                "bound is 2/λ_max", lambda H: float(1 / np.linalg.eigvalsh(H)[-1])),
        Mistake("you used the smallest eigenvalue: the steepest direction (largest λ) is the "
                "first to diverge, so the bound is 2/λ_max",
                lambda H: float(2 / np.linalg.eigvalsh(H)[0])),
        Mistake("you used 1/λ_min: the bound is 2/λ_max",
                lambda H: float(1 / np.linalg.eigvalsh(H)[0])),
        Mistake("you used the trace (the sum of the eigenvalues): the bound is 2/λ_max",
                lambda H: float(2 / np.trace(H))),
        Mistake("you used the largest diagonal entry: it is not the largest eigenvalue unless "
                "H is diagonal", lambda H: float(2 / np.max(np.diag(H)))),
        Mistake("you returned λ_max/2: the bound is 2/λ_max",
                lambda H: float(np.linalg.eigvalsh(H)[-1] / 2)),
    ],
    hints=[
        "Along each eigenvector, GD multiplies the error by (1 − αλ) per step; it shrinks only "
        "if |1 − αλ| < 1.",
        "`np.linalg.eigvalsh(H)` returns the eigenvalues of a symmetric matrix in ascending "
        "order; use the largest.",
    ],
)

EXERCISES = (gd_step, gradient_descent, max_stable_lr)
