"""Exercises for lesson 2, deriving the gradient.

``gradient(theta, X, y)``
    ∇J(θ) = (1/m)·Xᵀ(Xθ − y), shape (n,).
``numerical_gradient(f, theta, h=1e-5)``
    central differences (f(θ + h·e_i) − f(θ − h·e_i)) / (2h) for every entry of
    θ, same shape as θ; θ itself must not change.
``gradient_check(f, grad_fn, theta, h=1e-5)``
    relative error ‖g_a − g_n‖ / max(‖g_a‖ + ‖g_n‖, tiny) between the analytic
    gradient g_a = grad_fn(θ) and the numerical one g_n.
"""

from __future__ import annotations

import numpy as np

from ._compare import compare_values
from ._core import Exercise, Fn, Mistake
from ._shared import five_points as _five_points
from ._shared import random_problem as _random_problem

__all__ = ["gradient", "numerical_gradient", "gradient_check", "EXERCISES"]

PREAMBLE = "import numpy as np\n"


# --- gradient --------------------------------------------------------------

def _gradient(theta, X, y):
    m = len(y)
    return X.T @ (X @ theta - y) / m


def _gradient_cases(rng):
    X5, y5 = _five_points()
    cases = [(np.array([0.0, 0.0]), X5, y5), (np.array([1.0, 1.5]), X5, y5)]
    for _ in range(3):
        X, y = _random_problem(rng)
        cases.append((rng.normal(size=X.shape[1]), X, y))
    return cases


gradient = Exercise(
    "lesson02.gradient",
    _gradient,
    cases=_gradient_cases,
    mistakes=[
        Mistake("looks like the sign is flipped: ∇J = (1/m)·Xᵀ(Xθ − y), you computed "
                "Xᵀ(y − Xθ)/m, which points downhill",
                lambda theta, X, y: X.T @ (y - X @ theta) / len(y)),
        Mistake("the 1/m is missing (sum instead of mean over the samples)",
                lambda theta, X, y: X.T @ (X @ theta - y)),
        Mistake("you divided by 2m: the ½ in J cancels the 2 from differentiating the square, "
                "so ∇J = (1/m)·Xᵀ(Xθ − y)",
                lambda theta, X, y: X.T @ (X @ theta - y) / (2 * len(y))),
        Mistake("a factor 2 too many: with the ½ in J, ∇J = (1/m)·Xᵀ(Xθ − y)",
                lambda theta, X, y: 2 * X.T @ (X @ theta - y) / len(y)),
        Mistake("shape (m, 1) broadcasting: an (m, 1) column minus an (m,) vector is an (m, m) "
                "matrix, so the gradient has the wrong shape; keep both 1-D",
                lambda theta, X, y: X.T @ ((X @ theta).reshape(-1, 1) - y) / len(y)),
        Mistake("shape (m, 1) broadcasting: an (m,) vector minus an (m, 1) column is an (m, m) "
                "matrix, so the gradient has the wrong shape; keep y 1-D",
                lambda theta, X, y: X.T @ (X @ theta - y.reshape(-1, 1)) / len(y)),
    ],
    hints=[
        "Chain rule on J = 1/(2m)·Σ r_i² with r = Xθ − y: ∂J/∂θ_j = (1/m)·Σ r_i·X_ij.",
        "All j at once: `X.T @ (X @ theta - y) / m`, shape `(n,)`.",
    ],
)


# --- test functions (data, so the grader can send them to a child process) ---

_F_EXPR = "np.sum(a * np.sin(theta)) + np.sum(b * theta ** 3) / 3 + 0.5 * np.sum(theta) ** 2"
_G_EXPR = "a * np.cos(theta) + b * theta ** 2 + np.sum(theta)"
# a wrong analytic gradient: the last term is dropped
_G_WRONG_EXPR = "a * np.cos(theta) + b * theta ** 2"


def _test_function(rng, shape):
    a = rng.uniform(2.0, 10.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    b = rng.uniform(0.5, 2.0, size=shape)
    return a, b


# --- numerical_gradient ----------------------------------------------------

def _numerical_gradient(f, theta, h=1e-5):
    theta = np.asarray(theta, dtype=float)
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[i] = h
        grad[i] = (f(theta + step) - f(theta - step)) / (2 * h)
    return grad


# fixed, hand-checkable coefficients for the first cases of lesson 2's exercises
_FIXED_A = np.array([1.0, -2.0, 0.5])
_FIXED_B = np.array([0.5, 1.0, -1.0])
_FIXED_THETA = np.array([0.3, -0.7, 1.1])


def _numgrad_cases(rng):
    f = Fn(_F_EXPR, a=_FIXED_A, b=_FIXED_B)
    # large steps first, where the h² truncation error is far above the tolerance, so an
    # answer that ignores h fails on every seed; then small steps and the default
    cases = [(f, _FIXED_THETA.copy(), 0.1), (f, -_FIXED_THETA, 0.5),
             (f, _FIXED_THETA.copy(), 1e-4), (f, -_FIXED_THETA, 1e-3)]
    for shape, h in (((3,), float(rng.uniform(0.05, 0.3))), ((2, 3), 1e-3), ((4,), 1e-4),
                     ((3,), None)):
        a, b = _test_function(rng, shape)
        f = Fn(_F_EXPR, a=a, b=b)
        theta = rng.uniform(-2.0, 2.0, size=shape)
        cases.append((f, theta) if h is None else (f, theta, h))
    return cases


def _numgrad_variant(kind):
    def variant(f, theta, h=1e-5):
        theta = np.asarray(theta, dtype=float)
        grad = np.zeros_like(theta)
        for i in np.ndindex(theta.shape):
            step = np.zeros_like(theta)
            step[i] = h
            if kind == "forward":
                grad[i] = (f(theta + step) - f(theta)) / h
            elif kind == "backward":
                grad[i] = (f(theta) - f(theta - step)) / h
            elif kind == "by_h":
                grad[i] = (f(theta + step) - f(theta - step)) / h
            elif kind == "no_division":
                grad[i] = f(theta + step) - f(theta - step)
            elif kind == "by_2":
                grad[i] = (f(theta + step) - f(theta - step)) / 2
            elif kind == "all_at_once":
                grad[i] = (f(theta + h) - f(theta - h)) / (2 * h)
        return grad
    return variant


numerical_gradient = Exercise(
    "lesson02.numerical_gradient",
    _numerical_gradient,
    cases=_numgrad_cases,
    compare=lambda got, ref: compare_values(got, ref, rtol=1e-6, atol=1e-7, name="your gradient"),
    mistakes=[
        Mistake("that is a forward difference (f(θ + h) − f(θ)) / h: use the central difference "
                "(f(θ + h·e_i) − f(θ − h·e_i)) / (2h)", _numgrad_variant("forward")),
        Mistake("that is a backward difference (f(θ) − f(θ − h)) / h: use the central "
                "difference (f(θ + h·e_i) − f(θ − h·e_i)) / (2h)", _numgrad_variant("backward")),
        Mistake("you divided by h instead of 2h: the two points are 2h apart",
                _numgrad_variant("by_h")),
        Mistake("you did not divide by 2h", _numgrad_variant("no_division")),
        Mistake("you divided by 2 but not by h: divide by 2h", _numgrad_variant("by_2")),
        Mistake("you moved every entry of θ at once: perturb one entry at a time (θ + h·e_i)",
                _numgrad_variant("all_at_once")),
    ],
    hints=[
        "For each index i of theta: copy theta, add h to entry i, evaluate f; copy again, "
        "subtract h, evaluate f; the slope is the difference over 2h.",
        "`np.ndindex(theta.shape)` walks every index of an array of any shape; "
        "`np.zeros_like(theta)` gives the result's shape.",
    ],
)


# --- gradient_check --------------------------------------------------------

def _gradient_check(f, grad_fn, theta, h=1e-5):
    theta = np.asarray(theta, dtype=float)
    g_analytic = np.asarray(grad_fn(theta), dtype=float)
    g_numeric = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[i] = h
        g_numeric[i] = (f(theta + step) - f(theta - step)) / (2 * h)
    denominator = max(np.linalg.norm(g_analytic) + np.linalg.norm(g_numeric), 1e-300)
    return float(np.linalg.norm(g_analytic - g_numeric) / denominator)


def _check_cases(rng):
    a = 5.0 * _FIXED_A
    f = Fn(_F_EXPR, a=a, b=_FIXED_B)
    g_right = Fn(_G_EXPR, output="array", a=a, b=_FIXED_B)
    # right gradients with large steps: the relative error is the h² truncation error
    # (about 1e-3), so an answer that ignores h (and gets about 1e-10) fails on every seed
    cases = [(f, Fn(_G_WRONG_EXPR, output="array", a=a, b=_FIXED_B), _FIXED_THETA.copy(), 1e-5),
             (f, g_right, _FIXED_THETA.copy()),
             (f, g_right, _FIXED_THETA.copy(), 0.1), (f, g_right, -_FIXED_THETA, 0.3)]
    for shape, expr, h in (((3,), _G_WRONG_EXPR, 1e-5), ((4,), _G_WRONG_EXPR, 1e-4),
                           ((3,), _G_EXPR, None)):
        a, b = _test_function(rng, shape)
        a = a * 5.0  # large gradients, so absolute and relative errors differ clearly
        f = Fn(_F_EXPR, a=a, b=b)
        grad_fn = Fn(expr, output="array", a=a, b=b)
        theta = rng.uniform(-2.0, 2.0, size=shape)
        cases.append((f, grad_fn, theta) if h is None else (f, grad_fn, theta, h))
    return cases


def _check_variant(kind):
    def variant(f, grad_fn, theta, h=1e-5):
        theta = np.asarray(theta, dtype=float)
        g_a = np.asarray(grad_fn(theta), dtype=float)
        g_n = _numerical_gradient(f, theta, h)
        diff = np.linalg.norm(g_a - g_n)
        if kind == "absolute":
            return float(diff)
        if kind == "by_numeric":
            return float(diff / np.linalg.norm(g_n))
        if kind == "by_analytic":
            return float(diff / np.linalg.norm(g_a))
        if kind == "elementwise":
            return float(np.max(np.abs(g_a - g_n) / (np.abs(g_a) + np.abs(g_n))))
        raise ValueError(kind)
    return variant


gradient_check = Exercise(
    "lesson02.gradient_check",
    _gradient_check,
    cases=_check_cases,
    rtol=1e-3,
    atol=1e-13,
    mistakes=[
        Mistake("that is the absolute error ‖g_a − g_n‖: divide by ‖g_a‖ + ‖g_n‖ to get the "
                "relative error", _check_variant("absolute")),
        Mistake("you divided by ‖g_n‖ only: use ‖g_a‖ + ‖g_n‖ (symmetric, and safe when one "
                "of them is zero)", _check_variant("by_numeric")),
        Mistake("you divided by ‖g_a‖ only: use ‖g_a‖ + ‖g_n‖ (symmetric, and safe when one "
                "of them is zero)", _check_variant("by_analytic")),
        Mistake("you compared entry by entry: use norms of the whole vectors, "
                "‖g_a − g_n‖ / (‖g_a‖ + ‖g_n‖)", _check_variant("elementwise")),
    ],
    hints=[
        "g_a = grad_fn(theta); g_n = your numerical gradient of f at theta; "
        "`np.linalg.norm` gives ‖·‖.",
        "Guard the division: `max(norm(g_a) + norm(g_n), 1e-300)`, so two zero gradients give 0.",
    ],
)

EXERCISES = (gradient, numerical_gradient, gradient_check)
