"""Lesson 7's data: the shipped 8×8 digits, a seeded stratified split, feature scaling,
the bias column, one-hot labels, and the one check of class labels every part uses."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._validation import as_rng, check_int, check_matrix, check_positive, describe

# gdcourse/_data/, the package's data folder, one level above this sub-package
_DATA = Path(__file__).resolve().parent.parent / "_data" / "digits.npz"


class Digits(NamedTuple):
    """The 8×8 digits: ``images`` (1797, 8, 8) and ``X`` (1797, 64) as floats 0 … 16, ``y`` labels."""

    images: np.ndarray
    X: np.ndarray
    y: np.ndarray

    @property
    def n_classes(self) -> int:
        return 10


def load_digits() -> Digits:
    """The 1,797 handwritten digits shipped in the package (UCI, CC BY 4.0; see ``_data/DIGITS-LICENSE.txt``).

    The same numbers as ``sklearn.datasets.load_digits()``; nothing is downloaded.

    >>> d = load_digits()
    >>> d.X.shape, d.images.shape, np.bincount(d.y).tolist()[:3]
    ((1797, 64), (1797, 8, 8), [178, 182, 177])
    """
    with np.load(_DATA, allow_pickle=False) as z:
        pixels = z["pixels"].astype(float)
        labels = z["labels"].astype(np.int64)
    return Digits(pixels.reshape(-1, 8, 8), pixels, labels)


class Split(NamedTuple):
    """Index arrays of a train / validation / test split."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_indices(y, fractions=(0.6, 0.2, 0.2), *, random_state=None) -> Split:
    """A seeded, stratified split: each class is shuffled and cut in the given fractions.

    Every index 0 … m − 1 lands in exactly one part, and each part holds about
    the same share of every class.  The same ``random_state`` gives the same split.

    >>> s = split_indices(np.repeat(np.arange(3), 10), random_state=0)
    >>> [len(part) for part in s]
    [18, 6, 6]
    """
    y = _check_labels(y, "y")
    if not isinstance(fractions, (tuple, list)) or len(fractions) != 3:
        raise TypeError(f"fractions must be three numbers (train, val, test), but got {describe(fractions)}.")
    fr = np.array([check_positive(f, f"fractions[{i}]") for i, f in enumerate(fractions)])
    if not math.isclose(fr.sum(), 1.0, abs_tol=1e-9):
        raise ValueError(f"fractions must add up to 1, but {list(fractions)} add up to {fr.sum():g}.")
    rng = as_rng(random_state)
    parts = ([], [], [])
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        cuts = np.round(np.cumsum(fr)[:2] * len(idx)).astype(int)
        for part, chunk in zip(parts, np.split(idx, cuts)):
            part.append(chunk)
    return Split(*(np.sort(np.concatenate(p)) for p in parts))


class Standardizer:
    """Feature scaling (lesson 3): subtract the training mean, divide by the training spread.

    Fit on the training set only, then apply the same shift and scale to the
    validation and test sets.  A feature that never varies in training (a
    pixel that is always 0) keeps scale 1, so it stays 0 instead of 0/0.

    >>> s = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> s.transform(np.array([[1.0, 5.0], [3.0, 6.0]]))
    array([[0., 0.],
           [2., 1.]])
    """

    def __init__(self):
        self.mean = None
        self.scale = None

    def fit(self, X):
        X = check_matrix(X, "X")
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        if self.mean is None:
            raise ValueError("this Standardizer is not fitted yet: call .fit(X_train) first.")
        X = check_matrix(X, "X", n_cols=self.mean.size)
        return (X - self.mean) / self.scale

    def fit_transform(self, X):
        return self.fit(X).transform(X)


def add_bias(X) -> np.ndarray:
    """X with a column of ones in front, X_b = [1, X] (the bias column of lesson 1)."""
    X = check_matrix(X, "X")
    return np.hstack([np.ones((X.shape[0], 1)), X])


def _check_labels(y, name, n_classes=None):
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of integer class labels, but got "
                         f"{describe(y) if not isinstance(y, np.ndarray) else f'shape {arr.shape}'}.")
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer class labels 0, 1, …, but got values of dtype "
                             f"{arr.dtype} such as {arr[:3].tolist()}.")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or (n_classes is not None and arr.max() >= n_classes):
        top = "" if n_classes is None else f" … {n_classes - 1}"
        raise ValueError(f"{name} must hold class labels 0{top}, but got values from {arr.min()} to {arr.max()}.")
    return arr


def one_hot(y, n_classes: int) -> np.ndarray:
    """The (m, k) matrix Y with Y[i, y_i] = 1 and zeros elsewhere.

    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    y = _check_labels(y, "y", n_classes)
    Y = np.zeros((y.size, n_classes))
    Y[np.arange(y.size), y] = 1.0
    return Y
