"""Seeded data sets for the lessons.

Nothing here downloads anything: the 5-point set is written out, and the
synthetic sets are drawn from a ``numpy.random.Generator`` built from
``random_state``.  The same ``random_state`` always gives the same data.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_rng, check_int, check_nonnegative, check_positive
from .losses import sigmoid

__all__ = ["Dataset", "five_points", "add_bias", "make_regression", "make_classification"]


class Dataset(NamedTuple):
    """A data set: design matrix, targets, raw inputs and, for synthetic data, the true θ.

    ``X`` has shape (m, n) and includes the bias column of ones when the data
    set has one; ``x`` holds the raw inputs without it; ``y`` has shape (m,).
    """

    X: np.ndarray
    y: np.ndarray
    x: np.ndarray
    theta_true: np.ndarray | None = None


def add_bias(x) -> np.ndarray:
    """Prepend a column of ones: (m,) or (m, k) inputs → (m, k + 1) design matrix."""
    from ._validation import check_array

    x = check_array(x, "x")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"x must be 1-D (m,) or 2-D (m, k), but got shape {x.shape}.")
    return np.column_stack([np.ones(x.shape[0]), x])


def five_points() -> Dataset:
    """The running example of lessons 1–3: x = 1..5, y = [2, 4, 5, 4, 5].

    ``X`` is (5, 2) with a bias column, so h_θ(x) = θ0 + θ1·x is ``X @ theta``.
    Its least-squares fit is θ* = [2.2, 0.6] with J(θ*) = 0.24.
    """
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 4.0, 5.0, 4.0, 5.0])
    return Dataset(add_bias(x), y, x)


def make_regression(m: int = 1000, n_features: int = 3, noise: float = 0.5, *,
                    bias: bool = True, random_state=None) -> Dataset:
    """Synthetic linear regression: y = Xθ_true + noise·N(0, 1).

    Features are standard normal; θ_true is drawn from N(0, 2²) (the bias,
    when present, is its first entry).  Returns a :class:`Dataset` whose ``X``
    includes the bias column when ``bias=True``.

    >>> d = make_regression(200, 2, random_state=0)
    >>> d.X.shape, d.y.shape, d.theta_true.shape
    ((200, 3), (200,), (3,))
    """
    m = check_int(m, "m", minimum=1)
    n_features = check_int(n_features, "n_features", minimum=1)
    noise = check_nonnegative(noise, "noise")
    rng = as_rng(random_state)
    x = rng.standard_normal((m, n_features))
    X = add_bias(x) if bias else x
    theta_true = rng.normal(0.0, 2.0, size=X.shape[1])
    y = X @ theta_true + noise * rng.standard_normal(m)
    return Dataset(X, y, x, theta_true)


def make_classification(m: int = 500, n_features: int = 2, *, separation: float = 2.0,
                        random_state=None) -> Dataset:
    """Synthetic binary classification with labels 0/1 from a logistic model.

    A true θ is drawn with norm ``separation`` (the bias first); labels are
    Bernoulli(σ(Xθ_true)), so larger ``separation`` gives cleaner classes.
    """
    m = check_int(m, "m", minimum=2)
    n_features = check_int(n_features, "n_features", minimum=1)
    separation = check_positive(separation, "separation")
    rng = as_rng(random_state)
    x = rng.standard_normal((m, n_features))
    X = add_bias(x)
    direction = rng.standard_normal(n_features + 1)
    theta_true = separation * direction / np.linalg.norm(direction)
    theta_true[0] *= 0.5  # a modest bias keeps both classes present
    z = X @ theta_true
    p = sigmoid(z)
    y = (rng.random(m) < p).astype(float)
    return Dataset(X, y, x, theta_true)
