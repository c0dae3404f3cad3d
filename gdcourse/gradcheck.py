r"""Central finite differences and the gradient check.

The central difference

.. math::  \frac{\partial f}{\partial \theta_j} \approx \frac{f(\theta + h e_j) - f(\theta - h e_j)}{2h}

has error O(h²) (the forward difference only O(h)), until h is so small that
round-off in f dominates.  The gradient check compares an analytic gradient
``g_a`` with the numerical one ``g_n`` by their relative error

.. math::  \frac{\lVert g_a - g_n \rVert}{\lVert g_a \rVert + \lVert g_n \rVert}

Rule of thumb (float64, h ≈ 1e-5): ≤ 1e-7 the gradient is right; around 1e-4
be suspicious; ≥ 1e-2 it is wrong.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_callable, check_positive, check_same_shape

__all__ = ["numerical_gradient", "relative_error", "gradient_check", "verdict"]


def numerical_gradient(f, theta, h: float = 1e-5) -> np.ndarray:
    """Central-difference estimate of ∇f(θ), the same shape as ``theta``.

    ``f`` maps an array shaped like ``theta`` to a scalar.  ``theta`` itself
    is never modified: each coordinate is nudged in a private copy.

    >>> numerical_gradient(lambda t: float((t ** 2).sum()), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    check_callable(f, "f")
    theta = check_array(theta, "theta").copy()
    h = check_positive(h, "h")
    grad = np.empty_like(theta)
    flat, gflat = theta.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + h
        f_plus = _scalar(f(theta))
        flat[j] = old - h
        f_minus = _scalar(f(theta))
        flat[j] = old
        gflat[j] = (f_plus - f_minus) / (2.0 * h)
    return grad


def _scalar(value) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.size != 1:
        raise ValueError(
            f"f must return a single number (a scalar loss), but it returned shape {arr.shape}. "
            f"If it returns per-sample losses, take their mean."
        )
    return float(arr.reshape(()))


def relative_error(a, b) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖); 0 when both are zero."""
    a = check_array(a, "a", allow_empty=False)
    b = check_array(b, "b", allow_empty=False)
    check_same_shape(a, b, "a", "b")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)


def gradient_check(f, grad_fn, theta, h: float = 1e-5) -> float:
    """Relative error between ``grad_fn(theta)`` and the central-difference gradient of ``f``."""
    check_callable(grad_fn, "grad_fn")
    theta = check_array(theta, "theta")
    analytic = np.asarray(grad_fn(theta.copy()), dtype=float)
    if analytic.shape != theta.shape:
        raise ValueError(
            f"grad_fn must return an array shaped like theta, {theta.shape}, but it returned "
            f"shape {analytic.shape}."
        )
    return relative_error(analytic, numerical_gradient(f, theta, h))


def verdict(rel_error: float) -> str:
    """The rule of thumb for a relative error: 'good', 'suspicious' or 'wrong'."""
    if rel_error <= 1e-7:
        return "good"
    if rel_error < 1e-2:
        return "suspicious"
    return "wrong"
