r"""The plain gradient-descent loop, its stopping rules and divergence detection.

One update is

.. math::  \theta \leftarrow \theta - \alpha \nabla J(\theta)

and every parameter is updated from the same, old θ (a simultaneous update).
The loop stops at the first of:

* ``num_iters`` updates (always);
* ``tol``: the cost changed by less than ``tol`` in one update;
* ``grad_tol``: the gradient norm ‖∇J(θ)‖ fell below ``grad_tol``;
* divergence: the cost or gradient became inf or NaN, or the cost grew past
  ``divergence_factor`` times its starting value, or it was still climbing
  above its starting value when the iterations ran out.

The loop computes and returns a :class:`History`; it never prints and never
lets numpy's overflow warnings through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import (check_X_y, check_array, check_callable, check_int,
                          check_nonnegative, check_positive, check_theta)
from ._stopping import DIVERGENCE_FACTOR, cut_at_divergence, divergence_limit, still_climbing
from .losses import get_loss

__all__ = ["History", "gradient_descent", "linear_regression_gd", "STOP_REASONS"]

STOP_REASONS = ("num_iters", "tol", "grad_tol", "diverged")


@dataclass(frozen=True)
class History:
    """What a descent run did, step by step.

    Attributes
    ----------
    thetas : ndarray, shape (k + 1, n)
        θ before the first update and after each of the k updates.
    costs : ndarray, shape (k + 1,)
        J at each of those θ.
    grad_norms : ndarray, shape (k + 1,)
        ‖∇J‖ at each of those θ.
    stop_reason : str
        One of ``"num_iters"``, ``"tol"``, ``"grad_tol"``, ``"diverged"``.
    message : str
        One sentence saying why the loop stopped, for a learner to read.
    lr : float
        The learning rate α used.
    """

    thetas: np.ndarray
    costs: np.ndarray
    grad_norms: np.ndarray
    stop_reason: str
    message: str
    lr: float = field(default=float("nan"))

    @property
    def theta(self) -> np.ndarray:
        """The last θ (the last finite one if the run diverged)."""
        finite = np.all(np.isfinite(self.thetas), axis=1)
        last = np.flatnonzero(finite)
        return self.thetas[last[-1] if len(last) else 0].copy()

    @property
    def cost(self) -> float:
        """The last cost."""
        return float(self.costs[-1])

    @property
    def n_iter(self) -> int:
        """How many updates were made."""
        return len(self.costs) - 1

    @property
    def diverged(self) -> bool:
        """True when the loop stopped because the cost blew up."""
        return self.stop_reason == "diverged"

    @property
    def converged(self) -> bool:
        """True when a tolerance (``tol`` or ``grad_tol``) was met."""
        return self.stop_reason in ("tol", "grad_tol")

    def __repr__(self) -> str:
        return (f"History(n_iter={self.n_iter}, stop_reason={self.stop_reason!r}, "
                f"theta={np.array2string(self.theta, precision=6)}, cost={self.cost:.6g})")


def _check_options(lr, num_iters, tol, grad_tol, divergence_factor):
    lr = check_positive(lr, "lr")
    num_iters = check_int(num_iters, "num_iters", minimum=0)
    tol = None if tol is None else check_nonnegative(tol, "tol")
    grad_tol = None if grad_tol is None else check_nonnegative(grad_tol, "grad_tol")
    divergence_factor = check_positive(divergence_factor, "divergence_factor")
    return lr, num_iters, tol, grad_tol, divergence_factor


def _as_cost(value) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.size != 1:
        raise ValueError(
            f"loss_fn must return a single number, but it returned shape {arr.shape}. "
            "If y has shape (m, 1), the residuals broadcast to (m, m): pass y.ravel()."
        )
    return float(arr.reshape(()))


def _run(cost_of, grad_of, theta, lr, num_iters, tol, grad_tol, divergence_factor) -> History:
    """The loop itself, on already-validated arguments."""
    n = theta.shape[0]
    thetas = np.empty((num_iters + 1, n))
    costs = np.empty(num_iters + 1)
    gnorms = np.empty(num_iters + 1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        cost = cost_of(theta)
        grad = grad_of(theta)
        if not np.isfinite(cost) or not np.all(np.isfinite(grad)):
            raise ValueError(
                f"theta0 gives a non-finite cost or gradient (cost={cost}); "
                "start from finite, moderate values."
            )
        thetas[0], costs[0], gnorms[0] = theta, cost, np.sqrt(grad @ grad)
        limit = divergence_limit(cost, divergence_factor)
        reason, last = "num_iters", 0
        if grad_tol is not None and gnorms[0] < grad_tol:
            reason = "grad_tol"
        else:
            for k in range(1, num_iters + 1):
                theta = theta - lr * grad
                try:
                    new_cost = cost_of(theta)
                    grad = grad_of(theta)
                except (OverflowError, FloatingPointError):
                    new_cost, grad = np.inf, np.full(n, np.nan)
                thetas[k], costs[k] = theta, new_cost
                gnorms[k] = np.sqrt(grad @ grad)
                last = k
                if not (np.isfinite(new_cost) and np.isfinite(gnorms[k])) or new_cost > limit:
                    reason = "diverged"
                    break
                if tol is not None and abs(cost - new_cost) < tol:
                    reason = "tol"
                    break
                if grad_tol is not None and gnorms[k] < grad_tol:
                    reason = "grad_tol"
                    break
                cost = new_cost
        thetas, costs, gnorms = thetas[:last + 1], costs[:last + 1], gnorms[:last + 1]
        if reason == "num_iters" and still_climbing(costs):
            reason = "diverged"
    return History(thetas, costs, gnorms, reason, _message(reason, costs, gnorms, lr, tol, grad_tol), lr)


def _message(reason, costs, gnorms, lr, tol, grad_tol) -> str:
    k = len(costs) - 1
    if reason == "diverged":
        what = ("became inf or NaN" if not np.isfinite(costs[-1])
                else f"grew from {costs[0]:.4g} to {costs[-1]:.4g}")
        return (f"Diverged after {k} iterations: the cost {what}. The learning rate lr={lr:g} is too "
                "large for this problem; try a smaller one (on a quadratic, lr must stay below "
                "2/λ_max of the Hessian).")
    if reason == "tol":
        return f"Converged after {k} iterations: the cost changed by less than tol={tol:g}."
    if reason == "grad_tol":
        return (f"Converged after {k} iterations: the gradient norm {gnorms[-1]:.3g} is below "
                f"grad_tol={grad_tol:g}.")
    return (f"Stopped after {k} iterations (the iteration limit); cost {costs[-1]:.6g}, "
            f"gradient norm {gnorms[-1]:.3g}.")


def gradient_descent(loss_fn, grad_fn, theta0, lr: float, *, num_iters: int = 1000,
                     tol: float | None = None, grad_tol: float | None = None,
                     divergence_factor: float = DIVERGENCE_FACTOR) -> History:
    """Minimise ``loss_fn`` by plain gradient descent from ``theta0``.

    Parameters
    ----------
    loss_fn : callable θ → float
        The cost J(θ).
    grad_fn : callable θ → array shaped like θ
        Its gradient ∇J(θ).
    theta0 : array, shape (n,)
        Where to start.  It is copied, never modified.
    lr : float > 0
        The learning rate α.
    num_iters : int >= 0
        The most updates to make.
    tol : float >= 0, optional
        Stop when |J(θ_k) − J(θ_{k+1})| < tol.
    grad_tol : float >= 0, optional
        Stop when ‖∇J(θ)‖ < grad_tol.
    divergence_factor : float
        Call the run diverged when J exceeds this multiple of max(|J(θ0)|, 1).

    Returns
    -------
    History

    Examples
    --------
    >>> h = gradient_descent(lambda t: float(t @ t), lambda t: 2 * t, np.array([10.0]), 0.2,
    ...                      num_iters=10)
    >>> round(float(h.theta[0]), 6), h.stop_reason
    (0.060466, 'num_iters')
    """
    check_callable(loss_fn, "loss_fn")
    check_callable(grad_fn, "grad_fn")
    theta = check_array(theta0, "theta0", ndim=1).copy()
    lr, num_iters, tol, grad_tol, divergence_factor = _check_options(
        lr, num_iters, tol, grad_tol, divergence_factor)
    g0 = np.asarray(grad_fn(theta.copy()), dtype=float)
    if g0.shape != theta.shape:
        raise ValueError(
            f"grad_fn must return an array shaped like theta0, {theta.shape}, but it returned "
            f"shape {g0.shape}. A column vector (n, 1) usually means y or theta was 2-D: use .ravel()."
        )
    _as_cost(loss_fn(theta.copy()))

    def cost_of(t):
        return _as_cost(loss_fn(t))

    def grad_of(t):
        return np.asarray(grad_fn(t), dtype=float)

    return _run(cost_of, grad_of, theta, lr, num_iters, tol, grad_tol, divergence_factor)


def linear_regression_gd(X, y, lr: float, *, theta0=None, num_iters: int = 1000,
                         tol: float | None = None, grad_tol: float | None = None,
                         loss: str = "mse", divergence_factor: float = DIVERGENCE_FACTOR) -> History:
    """Gradient descent on a linear model's loss (MSE by default) over data ``X, y``.

    The data are checked once; the loop then calls the fast, unchecked loss
    kernels.  ``theta0`` defaults to zeros.

    >>> from gdcourse.data import five_points
    >>> d = five_points()
    >>> h = linear_regression_gd(d.X, d.y, 0.01, num_iters=1000)
    >>> np.round(h.theta, 6)
    array([1.852128, 0.696355])
    """
    X, y = check_X_y(X, y)
    theta = np.zeros(X.shape[1]) if theta0 is None else check_theta(theta0, X.shape[1], name="theta0").copy()
    lr, num_iters, tol, grad_tol, divergence_factor = _check_options(
        lr, num_iters, tol, grad_tol, divergence_factor)
    spec = get_loss(loss)
    value, gradient = spec.fast_value, spec.fast_gradient
    return _run(lambda t: value(t, X, y), lambda t: gradient(t, X, y), theta, lr, num_iters, tol,
                grad_tol, divergence_factor)


# --- fast paths the panels draw, each held equal to the loop above by tests/test_descent.py -------

def _quadratic_gd(hessian, theta_star, j_star, theta0, lr, num_iters,
                  divergence_factor=DIVERGENCE_FACTOR):
    """Gradient descent on J(θ) = ½(θ − θ*)ᵀH(θ − θ*) + J*, all steps at once.

    For this J the update θ ← θ − αH(θ − θ*) gives, with H = V diag(λ) Vᵀ,

        θ_k = θ* + V diag((1 − αλ)^k) Vᵀ (θ_0 − θ*),

    the same numbers as the loop of :func:`linear_regression_gd` (up to
    rounding) in a fraction of the time, and it stops by the same rule
    (:mod:`gdcourse._stopping`).  Returns ``(thetas, costs, diverged)``.
    """
    lam, V = np.linalg.eigh(hessian)
    d0 = V.T @ (theta0 - theta_star)
    k = np.arange(num_iters + 1, dtype=float)[:, None]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        # (k+1, 2) in the eigenbasis; a component that starts at 0 stays 0 (no 0·inf)
        coeff = np.where(d0 == 0.0, 0.0, (1.0 - lr * lam)[None, :] ** k * d0[None, :])
        costs = 0.5 * np.sum(lam[None, :] * coeff * coeff, axis=1) + j_star
    coeff, costs, diverged = cut_at_divergence(coeff, costs, divergence_factor)
    thetas = theta_star[None, :] + coeff @ V.T
    thetas[0] = theta0  # exactly the start, not its rounded reconstruction
    return thetas, costs, diverged


def _gd_loop(grad, value, theta0, lr, num_iters, divergence_factor=DIVERGENCE_FACTOR):
    """Plain θ ← θ − α∇f(θ) with unchecked surface kernels; returns ``(thetas, costs, diverged)``.

    The loop only takes steps; the costs are evaluated afterwards on all
    iterates at once, and the run is cut where :func:`gradient_descent` would
    have stopped it (:mod:`gdcourse._stopping`).
    """
    thetas = np.empty((num_iters + 1, 2))
    theta = np.array(theta0, dtype=float)
    thetas[0] = theta
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for k in range(1, num_iters + 1):
            theta = theta - lr * grad(theta)
            thetas[k] = theta
            if not (np.isfinite(theta[0]) and np.isfinite(theta[1])):
                thetas = thetas[:k + 1]
                break
        costs = value(thetas)
    return cut_at_divergence(thetas, costs, divergence_factor)
