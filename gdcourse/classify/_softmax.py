"""Softmax and its cross-entropy, stable for any size of logits: logsumexp subtracts the row
maximum first.  ``_ce_and_delta`` is the unchecked value and (P − Y)/m the models train with."""

from __future__ import annotations

import numpy as np

from .._validation import check_array
from ._data import _check_labels


def _scores(Z, name="Z"):
    Z = check_array(Z, name, finite=False)
    if Z.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (m, k) array of scores, one row per sample, but got shape {Z.shape}.")
    return Z


def logsumexp(Z) -> np.ndarray:
    """log Σ_j e^{Z_ij} for every row, computed as M + log Σ_j e^{Z_ij − M} with M the row maximum.

    >>> logsumexp(np.array([[1000.0, 1000.0]]))   # the naive formula gives inf
    array([1000.69314718])
    """
    Z = _scores(Z)
    M = Z.max(axis=1, keepdims=True)
    return (M + np.log(np.exp(Z - M).sum(axis=1, keepdims=True)))[:, 0]


def log_softmax(Z) -> np.ndarray:
    """log P = Z − logsumexp(Z), row by row; finite even where P underflows to 0."""
    Z = _scores(Z)
    return Z - logsumexp(Z)[:, None]


def softmax(Z) -> np.ndarray:
    """P = e^{Z − M} / Σ e^{Z − M}, row by row (M the row maximum): rows of probabilities summing to 1.

    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(6)
    array([[0.25, 0.75]])
    """
    Z = _scores(Z)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_cross_entropy(Z, y) -> float:
    """J = (1/m) Σ_i [logsumexp(Z_i) − Z_{i,y_i}], the mean cross-entropy of softmax(Z) against labels y.

    >>> round(softmax_cross_entropy(np.zeros((4, 10)), [0, 1, 2, 3]), 6)   # log 10
    2.302585
    """
    Z = _scores(Z)
    y = _check_labels(y, "y", Z.shape[1])
    if y.size != Z.shape[0]:
        raise ValueError(f"y must have one label per row of Z ({Z.shape[0]}), but got {y.size}.")
    return float(np.mean(logsumexp(Z) - Z[np.arange(y.size), y]))


def softmax_cross_entropy_grad(Z, y) -> np.ndarray:
    """∂J/∂Z = (softmax(Z) − Y)/m, shape (m, k)."""
    Z = _scores(Z)
    y = _check_labels(y, "y", Z.shape[1])
    if y.size != Z.shape[0]:
        raise ValueError(f"y must have one label per row of Z ({Z.shape[0]}), but got {y.size}.")
    D = softmax(Z)
    D[np.arange(y.size), y] -= 1.0
    return D / y.size


def _ce_and_delta(Z, y):
    """Unchecked: the mean cross-entropy and (P − Y)/m for labels y."""
    m = y.size
    M = Z.max(axis=1, keepdims=True)
    E = np.exp(Z - M)
    s = E.sum(axis=1, keepdims=True)
    rows = np.arange(m)
    value = float(np.mean(M[:, 0] + np.log(s[:, 0]) - Z[rows, y]))
    E /= s
    E[rows, y] -= 1.0
    E /= m
    return value, E
