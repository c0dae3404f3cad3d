r"""Curvature in practice: feature scaling, Newton's step, and a saddle.

Lesson 3 shows that the Hessian H = XᵀX/m of the MSE sets how fast gradient
descent can go: the condition number κ = λ_max/λ_min caps α by the steep
direction while the shallow one needs many steps.  This module holds the three
remedies and obstacles that lessons 3 and 6 draw next to it:

* :func:`standardise` — z-score the feature columns (the bias column of ones is
  kept), the data-side fix that turns κ ≈ 70 into κ = 1 on the five points;
* :func:`newton_step` — θ − H⁻¹∇J(θ), one step to θ* on any quadratic, the
  method that Adam and RMSProp imitate cheaply with a *diagonal* H;
* :func:`saddle` — a surface with two minima and a saddle between them, on
  which gradient descent slows to a crawl near the saddle.

Descent itself goes through :mod:`gdcourse.descent` and :mod:`gdcourse.optim`.

>>> import numpy as np
>>> from gdcourse import data
>>> d = data.five_points()
>>> Xs, mean, std = standardise(d.X)
>>> round(condition_number(d.X), 2), round(condition_number(Xs), 2)
(69.99, 1.0)
"""

from __future__ import annotations

import numpy as np

from ._validation import check_matrix, check_vector, describe
from .surfaces import Surface

__all__ = ["standardise", "condition_number", "newton_step", "saddle"]


def standardise(X, *, bias_column: bool = True):
    """Z-score every feature column of ``X``: subtract its mean, divide by its standard deviation.

    With ``bias_column=True`` the first column must be all ones and is kept
    as it is.  Returns ``(X_scaled, mean, std)``, where ``mean`` and ``std``
    hold one entry per column (0 and 1 for the bias), so that new data is
    scaled the same way: ``(X_new - mean) / std``.  A constant feature
    cannot be scaled and raises.
    """
    X = check_matrix(X, "X")
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    first = 0
    if bias_column:
        if not np.all(X[:, 0] == 1.0):
            raise ValueError(f"X's first column must be the bias column of ones when bias_column=True, but it "
                             f"holds {describe(X[:, 0])}. Pass bias_column=False if X has no bias column.")
        mean[0], std[0] = 0.0, 1.0
        first = 1
    flat = [j for j in range(first, X.shape[1]) if std[j] == 0]
    if flat:
        raise ValueError(f"X's column(s) {flat} are constant, so they cannot be standardised (their standard "
                         f"deviation is 0). Drop them, or keep bias_column=True for a column of ones.")
    return (X - mean) / std, mean, std


def condition_number(X) -> float:
    """κ = λ_max / λ_min of the MSE Hessian XᵀX/m (inf when XᵀX is singular)."""
    X = check_matrix(X, "X")
    eig = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    return float(eig[-1] / eig[0]) if eig[0] > 1e-12 * eig[-1] else float("inf")


def newton_step(grad, hessian, theta) -> np.ndarray:
    """One Newton step θ − H(θ)⁻¹ ∇f(θ), with ``grad`` and ``hessian`` functions of θ.

    On a quadratic, H is constant and the step lands exactly on the minimiser,
    from anywhere.  Raises when H is singular (no unique Newton step).
    """
    theta = check_vector(theta, "theta")
    g = np.asarray(grad(theta), dtype=float)
    H = np.asarray(hessian(theta), dtype=float)
    if H.shape != (theta.size, theta.size) or g.shape != theta.shape:
        raise ValueError(f"hessian(theta) must have shape {(theta.size, theta.size)} and grad(theta) shape "
                         f"{theta.shape}, but got {H.shape} and {g.shape}.")
    try:
        return theta - np.linalg.solve(H, g)
    except np.linalg.LinAlgError:
        raise ValueError(f"the Hessian at theta={theta.tolist()} is singular, so the Newton step is not "
                         f"defined there; take a gradient step instead.") from None


def saddle() -> Surface:
    r"""f(θ) = θ1² + (θ2² − 1)²: minima at (0, ±1), a saddle at (0, 0).

    Along θ1 the saddle is a valley floor; along θ2 it is a ridge top, where
    the gradient is 0 but the curvature is negative.  A start close to the
    line θ2 = 0 slides into the saddle and waits there, on a plateau, before
    the small θ2 grows enough to escape.
    """
    def value(t):
        t1, t2 = t[..., 0], t[..., 1]
        return t1 ** 2 + (t2 ** 2 - 1) ** 2

    def grad(t):
        t1, t2 = t[..., 0], t[..., 1]
        return np.stack([2 * t1, 4 * t2 * (t2 ** 2 - 1)], axis=-1)

    def hessian(t):
        return np.array([[2.0, 0.0], [0.0, 12 * t[1] ** 2 - 4]])

    return Surface("saddle", value, grad, hessian, [[0.0, 1.0], [0.0, -1.0]], [[0.0, 0.0]],
                   xlim=(-2.0, 2.0), ylim=(-1.6, 1.6), start=np.array([1.8, 1e-3]),
                   formula="θ₁² + (θ₂² − 1)²")
