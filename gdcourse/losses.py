r"""Losses for linear models: value and analytic gradient.

Symbols follow the lessons: ``X`` is the (m, n) design matrix (first column of
ones when there is a bias), ``theta`` the (n,) parameters, ``y`` the (m,)
targets.

Mean squared error (lesson 1)

.. math::  J(\theta) = \frac{1}{2m}\sum_i (x_i^\top\theta - y_i)^2, \qquad
           \nabla J(\theta) = \frac{1}{m} X^\top (X\theta - y)

The ½ cancels the 2 from differentiating the square; the 1/m makes the cost an
average, so it does not grow with the size of the data set.

Binary cross-entropy with a logistic output, for labels y in {0, 1}

.. math::  J(\theta) = \frac{1}{m}\sum_i \big[\log(1 + e^{z_i}) - y_i z_i\big], \quad z = X\theta,
           \qquad \nabla J(\theta) = \frac{1}{m} X^\top(\sigma(z) - y)

Written with ``log(1 + e^z)`` (``np.logaddexp(0, z)``) rather than
``-y log σ(z) - (1-y) log(1-σ(z))``, it never takes the log of 0, so it stays
finite for logits of any size.

Each public function checks its arguments.  :data:`LOSSES` also holds the
unchecked kernels, for loops that validate once and then call the kernel on
thousands of mini-batches.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._validation import check_X_y, check_theta

__all__ = [
    "sigmoid",
    "mse_cost",
    "mse_gradient",
    "cross_entropy_cost",
    "cross_entropy_gradient",
    "Loss",
    "LOSSES",
    "get_loss",
    "residuals",
]


def sigmoid(z):
    """The logistic function 1 / (1 + e^(-z)), without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    # exp(-|z|) lies in (0, 1], so neither branch can overflow
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _checked(theta, X, y):
    X, y = check_X_y(X, y)
    theta = check_theta(theta, X.shape[1])
    return theta, X, y


# --- unchecked kernels ---------------------------------------------------

def _mse_value(theta, X, y):
    r = X @ theta - y
    return float(r @ r) / (2 * X.shape[0])


def _mse_gradient(theta, X, y):
    return X.T @ (X @ theta - y) / X.shape[0]


def _ce_terms(z, y):
    """log(1 + e^z) − y·z for each logit z = Xθ: cross-entropy's terms, before the mean.

    The one place the cross-entropy value is written; ``deepnet`` and lesson 1's
    panel take their means of it.
    """
    return np.logaddexp(0.0, z) - y * z


def _ce_value(theta, X, y):
    return float(np.mean(_ce_terms(X @ theta, y)))


def _ce_gradient(theta, X, y):
    return X.T @ (sigmoid(X @ theta) - y) / X.shape[0]


# --- public, checked -----------------------------------------------------

def mse_cost(theta, X, y) -> float:
    """J(θ) = 1/(2m)·Σ(Xθ − y)², the halved mean squared error.

    >>> import numpy as np
    >>> X = np.array([[1.0, 1.0], [1.0, 2.0]]); y = np.array([1.0, 2.0])
    >>> mse_cost(np.array([0.0, 1.0]), X, y)
    0.0
    """
    return _mse_value(*_checked(theta, X, y))


def mse_gradient(theta, X, y) -> np.ndarray:
    """∇J(θ) = (1/m)·Xᵀ(Xθ − y), shape (n,)."""
    return _mse_gradient(*_checked(theta, X, y))


def _check_labels(y):
    if not np.all((y == 0) | (y == 1)):
        bad = np.unique(y[(y != 0) & (y != 1)])[:5]
        raise ValueError(
            f"y must hold class labels 0 or 1 for cross-entropy, but got values such as {bad.tolist()}."
        )


def cross_entropy_cost(theta, X, y) -> float:
    """Mean binary cross-entropy of σ(Xθ) against labels y ∈ {0, 1}; stable for any logit."""
    theta, X, y = _checked(theta, X, y)
    _check_labels(y)
    return _ce_value(theta, X, y)


def cross_entropy_gradient(theta, X, y) -> np.ndarray:
    """(1/m)·Xᵀ(σ(Xθ) − y), shape (n,)."""
    theta, X, y = _checked(theta, X, y)
    _check_labels(y)
    return _ce_gradient(theta, X, y)


class Loss(NamedTuple):
    """A loss with its checked functions and its unchecked kernels.

    ``value``/``gradient`` validate their arguments; ``fast_value`` and
    ``fast_gradient`` assume ``theta, X, y`` have already been checked.
    """

    name: str
    value: Callable
    gradient: Callable
    fast_value: Callable
    fast_gradient: Callable


LOSSES = {
    "mse": Loss("mse", mse_cost, mse_gradient, _mse_value, _mse_gradient),
    "cross_entropy": Loss("cross_entropy", cross_entropy_cost, cross_entropy_gradient,
                          _ce_value, _ce_gradient),
}


def get_loss(loss) -> Loss:
    """Look a loss up by name, or pass a :class:`Loss` through."""
    if isinstance(loss, Loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)} or a Loss, but got {loss!r}.")
    return LOSSES[loss]


def residuals(theta, X, y) -> np.ndarray:
    """h_θ(x_i) − y_i for every sample, shape (m,)."""
    theta, X, y = _checked(theta, X, y)
    return X @ theta - y

