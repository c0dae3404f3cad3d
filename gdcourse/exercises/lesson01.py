"""Exercises for lesson 1, the cost function J(θ).

``predict(theta, X)``
    h_θ = Xθ for every sample, shape (m,).
``compute_cost(theta, X, y)``
    J(θ) = 1/(2m)·Σ(Xθ − y)², a float.
``cost_grid(X, y, theta0_values, theta1_values)``
    J on a grid: shape (len(theta1_values), len(theta0_values)) (rows follow θ1,
    columns θ0, like ``np.meshgrid``'s default 'xy' indexing, ready for
    ``plt.contour(theta0_values, theta1_values, J)``), and the grid's arg-min
    θ as ``np.array([θ0, θ1])``.
"""

from __future__ import annotations

import numpy as np

from .._messages import N_, _t
from ._compare import compare_values
from ._core import Exercise, Mistake
from ._shared import five_points as _five_points
from ._shared import random_problem as _random_problem

__all__ = ["predict", "compute_cost", "cost_grid", "EXERCISES"]

PREAMBLE = "import numpy as np\n"


# --- predict ---------------------------------------------------------------

def _predict(theta, X):
    return X @ theta


def _predict_cases(rng):
    X5, _ = _five_points()
    cases = [(np.array([2.2, 0.6]), X5), (np.array([-1.0, 0.5]), X5)]
    for _ in range(3):
        X, _ = _random_problem(rng)
        cases.append((rng.normal(size=X.shape[1]), X))
    return cases


predict = Exercise(
    "lesson01.predict",
    _predict,
    cases=_predict_cases,
    mistakes=[
        Mistake(N_("you return a column of shape (m, 1): keep theta 1-D, X @ theta is already (m,)"),
                lambda theta, X: X @ theta.reshape(-1, 1)),
        Mistake(N_("you multiplied element-wise (X * theta) without summing each row: "
                "use the matrix product X @ theta"),
                lambda theta, X: X * theta),
        Mistake(N_("you summed everything into one number: each sample needs its own "
                "prediction, X @ theta"),
                lambda theta, X: np.sum(X * theta)),
        Mistake(N_("θ0 (the intercept, with the column of ones) is left out"),
                lambda theta, X: X[:, 1:] @ theta[1:]),
    ],
    hints=[
        N_("Each row of `X` is one sample `[1, x_i]`; its prediction is the dot product of the row "
        "with `theta`."),
        N_("All rows at once: the matrix-vector product `X @ theta` has shape `(m,)`."),
    ],
)


# --- compute_cost ----------------------------------------------------------

def _compute_cost(theta, X, y):
    m = len(y)
    residuals = X @ theta - y
    return float(residuals @ residuals) / (2 * m)


def _cost_cases(rng):
    X5, y5 = _five_points()
    cases = [(np.array([0.0, 0.0]), X5, y5), (np.array([2.2, 0.6]), X5, y5),
             (np.array([1.0, 1.5]), X5, y5)]
    for _ in range(3):
        X, y = _random_problem(rng)
        cases.append((rng.normal(size=X.shape[1]), X, y))
    return cases


def _col(theta, X, y):
    """The (m, 1) − (m,) broadcast: an (m, m) matrix of 'residuals'."""
    return (X @ theta).reshape(-1, 1) - y


compute_cost = Exercise(
    "lesson01.compute_cost",
    _compute_cost,
    cases=_cost_cases,
    mistakes=[
        Mistake(N_("the ½ is missing: J = 1/(2m)·Σ(Xθ − y)², you computed the plain mean of the "
                "squares"),
                lambda theta, X, y: float(np.mean((X @ theta - y) ** 2))),
        Mistake(N_("the 1/m is missing: you summed over the samples instead of averaging "
                "(J = 1/(2m)·Σ(Xθ − y)²)"),
                lambda theta, X, y: 0.5 * float(np.sum((X @ theta - y) ** 2))),
        Mistake(N_("sum instead of mean: neither the ½ nor the 1/m is applied"),
                lambda theta, X, y: float(np.sum((X @ theta - y) ** 2))),
        Mistake(N_("an extra ½: you divided by 4m instead of 2m"),
                lambda theta, X, y: float(np.sum((X @ theta - y) ** 2)) / (4 * len(y))),
        Mistake(N_("shape (m, 1) broadcasting: an (m, 1) column minus an (m,) vector is an (m, m) "
                "matrix, so you summed m² 'residuals'; keep both 1-D"),
                lambda theta, X, y: float(np.sum(_col(theta, X, y) ** 2)) / (2 * len(y))),
        Mistake(N_("shape (m, 1) broadcasting: an (m, 1) column minus an (m,) vector is an (m, m) "
                "matrix; keep both 1-D"),
                lambda theta, X, y: float(np.mean(_col(theta, X, y) ** 2)) / 2),
        Mistake(N_("you took a square root: J is the halved mean of the squares, not an RMSE"),
                lambda theta, X, y: float(np.sqrt(np.sum((X @ theta - y) ** 2) / (2 * len(y))))),
        Mistake(N_("you used |Xθ − y| instead of the square (Xθ − y)²"),
                lambda theta, X, y: float(np.sum(np.abs(X @ theta - y))) / (2 * len(y))),
        Mistake(N_("you squared the sum of the residuals; square each residual first, then sum"),
                lambda theta, X, y: float(np.sum(X @ theta - y)) ** 2 / (2 * len(y))),
    ],
    hints=[
        N_("Compute the residuals `r = X @ theta - y` (shape `(m,)`), then "
        "J = Σ r² / (2m) with `m = len(y)`."),
        N_("`r @ r` (or `np.sum(r ** 2)`) is the sum of squares; divide by `2 * m`. "
        "Return a number, e.g. `float(...)`."),
    ],
)


# --- cost_grid -------------------------------------------------------------

def _cost_grid(X, y, theta0_values, theta1_values):
    m = len(y)
    J = np.empty((len(theta1_values), len(theta0_values)))
    for i, t1 in enumerate(theta1_values):          # rows follow θ1
        for j, t0 in enumerate(theta0_values):      # columns follow θ0
            r = X @ np.array([t0, t1]) - y
            J[i, j] = r @ r / (2 * m)
    i, j = np.unravel_index(np.argmin(J), J.shape)
    best = np.array([theta0_values[j], theta1_values[i]], dtype=float)
    return J, best


def _grid_cases(rng):
    X5, y5 = _five_points()
    cases = [(X5, y5, np.linspace(-1.0, 5.0, 13), np.linspace(-1.0, 2.0, 9)),
             (X5, y5, np.linspace(0.0, 4.0, 7), np.linspace(0.0, 1.2, 7))]
    for _ in range(2):
        X, y = _random_problem(rng, n=2)
        n0, n1 = rng.choice(np.arange(5, 14), size=2, replace=False)
        t0 = np.sort(rng.uniform(-3.0, 3.0, size=n0))
        t1 = np.sort(rng.uniform(-3.0, 3.0, size=n1))
        cases.append((X, y, t0, t1))
    return cases


def _grid_ij(X, y, t0, t1):
    J, best = _cost_grid(X, y, t0, t1)
    return J.T, best


def _grid_swapped(X, y, t0, t1):
    J, best = _cost_grid(X, y, t0, t1)
    return J, best[::-1].copy()


def _grid_argmax(X, y, t0, t1):
    J, _ = _cost_grid(X, y, t0, t1)
    i, j = np.unravel_index(np.argmax(J), J.shape)
    return J, np.array([t0[j], t1[i]], dtype=float)


def _grid_ij_best(X, y, t0, t1):
    # 'ij' grid and best read with the indices the wrong way round
    J, _ = _cost_grid(X, y, t0, t1)
    i, j = np.unravel_index(np.argmin(J.T), J.T.shape)
    return J.T, np.array([t0[min(j, len(t0) - 1)], t1[min(i, len(t1) - 1)]], dtype=float)


def _grid_no_half(X, y, t0, t1):
    J, best = _cost_grid(X, y, t0, t1)
    return 2 * J, best


def _compare_grid(got, expected):
    if got is None:
        return _t("your function returned None: did you forget a `return`?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return _t("cost_grid should return two values, (J, best).")
    msg = compare_values(got[0], expected[0], rtol=1e-7, atol=1e-9, name="J")
    return msg or compare_values(got[1], expected[1], rtol=1e-9, atol=1e-12, name="best")


cost_grid = Exercise(
    "lesson01.cost_grid",
    _cost_grid,
    cases=_grid_cases,
    compare=_compare_grid,
    mistakes=[
        Mistake(N_("the grid is transposed ('ij' indexing): rows must follow θ1 and columns θ0, "
                "J.shape == (len(theta1_values), len(theta0_values)), as with np.meshgrid's "
                "default 'xy' indexing"), _grid_ij),
        Mistake(N_("the grid is transposed ('ij' indexing): rows must follow θ1 and columns θ0, "
                "J.shape == (len(theta1_values), len(theta0_values))"), _grid_ij_best),
        Mistake(N_("best is [θ1, θ0]: return it in the order [θ0, θ1]"), _grid_swapped),
        Mistake(N_("best is the arg-max: the best θ has the smallest cost (np.argmin)"), _grid_argmax),
        Mistake(N_("the grid's costs lack the ½: J = 1/(2m)·Σ(Xθ − y)²"), _grid_no_half),
    ],
    hints=[
        N_("Loop over θ1 for the rows and θ0 for the columns (or use "
        "`np.meshgrid(theta0_values, theta1_values)`), computing J at each pair."),
        N_("`np.unravel_index(np.argmin(J), J.shape)` gives `(row, column)`: the row picks θ1 "
        "and the column picks θ0."),
    ],
)

EXERCISES = (predict, compute_cost, cost_grid)
