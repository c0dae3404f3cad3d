r"""Lesson 7: train a digit classifier end to end (softmax regression and a small MLP).

Symbols follow the lessons: ``X`` is the (m, n) feature matrix (one row per
image), ``y`` the (m,) integer labels 0 … k − 1, ``Y`` their (m, k) one-hot
matrix, ``Z`` the (m, k) scores (logits) and ``P = softmax(Z)`` the predicted
probabilities, row by row.

Softmax and its cross-entropy
-----------------------------
.. math::  P_{ic} = \frac{e^{Z_{ic}}}{\sum_j e^{Z_{ij}}}, \qquad
           J = -\frac{1}{m}\sum_i \log P_{i y_i}
             = \frac{1}{m}\sum_i \Big(\operatorname{logsumexp}(Z_i) - Z_{i y_i}\Big)

``logsumexp`` subtracts the row maximum first, log Σ e^{z_j} = M + log Σ e^{z_j − M},
so no exponential overflows, whatever the size of the logits.  The gradient
with respect to the logits is (P − Y)/m; for a linear model Z = X_b W (X_b is X
with a column of ones in front, W holds the bias in its first row) it is

.. math::  \nabla_W J = \frac{1}{m} X_b^\top (P - Y).

Models
------
:class:`SoftmaxRegression` and :class:`MLP` (one or more hidden layers, built
on :mod:`gdcourse.deepnet`) keep all their weights in one flat vector θ, so any
optimiser step ``step(theta, grad, state) -> (theta, state)`` can train them:
the package's optimisers through :func:`optimizer_step`, or the learner's own
lesson-6 functions through :func:`adam_step_fn`, :func:`momentum_step_fn` and
:func:`rmsprop_step_fn`.  ``state`` is ``None`` before the first step.

Training
--------
:func:`fit` makes one step per shuffled mini-batch (:func:`gdcourse.batching.minibatch_indices`),
records the loss and accuracy on the training and validation sets after every
epoch and stops early when the validation loss has not improved for
``patience`` epochs, returning the weights of the best epoch.
:class:`Trainer` is the same loop one epoch at a time (the training panel uses it).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from . import deepnet
from ._validation import (as_rng, check_array, check_callable, check_choice, check_int,
                          check_matrix, check_nonnegative, check_positive, describe)
from .batching import minibatch_indices
from .optim import Optimizer, get_optimizer

__all__ = [
    "Digits", "load_digits", "Split", "split_indices", "Standardizer",
    "add_bias", "one_hot", "logsumexp", "softmax", "log_softmax",
    "softmax_cross_entropy", "softmax_cross_entropy_grad",
    "SoftmaxRegression", "MLP",
    "optimizer_step", "adam_step_fn", "momentum_step_fn", "rmsprop_step_fn",
    "LearnerSteps", "learner_steps",
    "Trainer", "FitResult", "fit",
    "predict", "accuracy", "confusion_matrix",
    "LRRangeResult", "lr_range_test",
    "sklearn_reference",
]

_DATA = Path(__file__).resolve().parent / "_data" / "digits.npz"


# --- data --------------------------------------------------------------------

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


# --- softmax and cross-entropy --------------------------------------------------

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


# --- models -------------------------------------------------------------------------

class _Model:
    """Shared by the classifiers: θ is one flat vector; subclasses give scores and gradients."""

    n_features: int
    n_classes: int
    weight_decay: float

    def _check_theta(self, theta):
        theta = check_array(theta, "theta", ndim=1)
        if theta.size != self.n_params:
            raise ValueError(f"theta must have {self.n_params} entries for {self!r}, but got {theta.size}.")
        return theta

    def _check_data(self, X, y=None):
        X = check_matrix(X, "X", n_cols=self.n_features)
        if y is None:
            return X
        y = _check_labels(y, "y", self.n_classes)
        if y.size != X.shape[0]:
            raise ValueError(f"X and y must have the same number of samples, but X has {X.shape[0]} rows "
                             f"and y has {y.size} labels.")
        return X, y

    def loss(self, theta, X, y) -> float:
        """The mean cross-entropy plus the weight-decay term (λ/2)‖weights‖² (biases are not decayed)."""
        return self.loss_and_grad(theta, X, y)[0]

    def loss_and_grad(self, theta, X, y):
        """``(J, ∇J)`` at θ on (X, y), checked."""
        theta = self._check_theta(theta)
        X, y = self._check_data(X, y)
        return self._loss_and_grad(theta, X, y)

    def scores(self, theta, X) -> np.ndarray:
        """The (m, k) logits Z."""
        return self._scores(self._check_theta(theta), self._check_data(X))

    def predict(self, theta, X) -> np.ndarray:
        """The predicted class of each row: argmax over the k scores."""
        return self.scores(theta, X).argmax(axis=1)


class SoftmaxRegression(_Model):
    r"""Softmax (multinomial logistic) regression, Z = X_b W with W of shape (n + 1, k).

    θ is W flattened (row 0 of W is the bias).  The gradient is
    (1/m)·X_bᵀ(softmax(X_b W) − Y) + λ·W (with the bias row of the λ-term set to 0).

    >>> model = SoftmaxRegression(64, 10)
    >>> theta = model.init()
    >>> round(model.loss(theta, np.ones((3, 64)), [0, 1, 2]), 6)   # W = 0: every class 1/10
    2.302585
    """

    def __init__(self, n_features: int, n_classes: int = 10, *, weight_decay: float = 0.0):
        self.n_features = check_int(n_features, "n_features", minimum=1)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")
        self.n_params = (self.n_features + 1) * self.n_classes

    def __repr__(self):
        wd = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"SoftmaxRegression({self.n_features}, {self.n_classes}{wd})"

    def init(self, random_state=None) -> np.ndarray:
        """W = 0: every class gets probability 1/k, so the first loss is exactly log k."""
        return np.zeros(self.n_params)

    def weights(self, theta) -> np.ndarray:
        """θ as the (n + 1, k) matrix W (a view)."""
        return self._check_theta(theta).reshape(self.n_features + 1, self.n_classes)

    def _scores(self, theta, X):
        W = theta.reshape(self.n_features + 1, self.n_classes)
        return X @ W[1:] + W[0]

    def _penalty(self, theta):
        if not self.weight_decay:
            return 0.0
        W = theta[self.n_classes:]          # every row of W but the bias row
        return 0.5 * self.weight_decay * float(W @ W)

    def _loss_and_grad(self, theta, X, y):
        W = theta.reshape(self.n_features + 1, self.n_classes)
        value, D = _ce_and_delta(X @ W[1:] + W[0], y)
        grad = np.empty_like(W)
        grad[0] = D.sum(axis=0)
        np.matmul(X.T, D, out=grad[1:])
        if self.weight_decay:
            lam = self.weight_decay
            grad[1:] += lam * W[1:]
            value += 0.5 * lam * float(np.vdot(W[1:], W[1:]))
        return value, grad.reshape(-1)


class MLP(_Model):
    r"""A ReLU network from :mod:`gdcourse.deepnet` with a softmax cross-entropy on its k outputs.

    ``hidden`` lists the hidden widths, e.g. ``(64,)``.  The forward and backward
    passes are :func:`gdcourse.deepnet.forward` and :func:`gdcourse.deepnet.backward`;
    the backward pass is started from ∂J/∂Z = (P − Y)/m (deepnet's MSE output
    delta is (Z − T)/m, so the target T = Z − (P − Y) gives exactly that delta).
    θ holds [W¹, b¹, W², b², …] flattened; He initialisation by default (lesson 5).
    """

    def __init__(self, n_features: int, hidden=(64,), n_classes: int = 10, *, weight_decay: float = 0.0,
                 init: str = "he", activation: str = "relu"):
        self.n_features = check_int(n_features, "n_features", minimum=1)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        if isinstance(hidden, (int, np.integer)):
            hidden = (int(hidden),)
        self.hidden = tuple(check_int(h, f"hidden[{i}]", minimum=1) for i, h in enumerate(hidden))
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")
        self.init_scheme = check_choice(init, "init", deepnet.INITS)
        self.activation = check_choice(activation, "activation", ("relu", "tanh", "sigmoid"))
        self.layer_sizes = [self.n_features, *self.hidden, self.n_classes]
        self.shapes = [((a, b), (b,)) for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:])]
        self.n_params = sum(a * b + b for (a, b), _ in self.shapes)

    def __repr__(self):
        wd = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"MLP({self.n_features}, hidden={self.hidden}, n_classes={self.n_classes}{wd})"

    def init(self, random_state=None) -> np.ndarray:
        """Weights from :func:`gdcourse.deepnet.init_weights` (He by default), biases 0, flattened."""
        params = deepnet.init_weights(self.layer_sizes, scheme=self.init_scheme, random_state=random_state)
        return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in params])

    def params(self, theta):
        """θ as the list of (W, b) pairs deepnet uses (views into θ)."""
        return self._params(self._check_theta(theta))

    def _params(self, theta):
        out, pos = [], 0
        for (a, b), _ in self.shapes:
            W = theta[pos:pos + a * b].reshape(a, b)
            pos += a * b
            out.append((W, theta[pos:pos + b]))
            pos += b
        return out

    def _scores(self, theta, X):
        return deepnet.forward(self._params(theta), X, self.activation).output

    def _penalty(self, theta):
        if not self.weight_decay:
            return 0.0
        return 0.5 * self.weight_decay * sum(float(np.vdot(W, W)) for W, _ in self._params(theta))

    def grads(self, theta, X, y):
        """The gradient as deepnet's list of (dW, db), for :func:`gdcourse.deepnet.layer_grad_norms`."""
        theta = self._check_theta(theta)
        X, y = self._check_data(X, y)
        return self._params(self._loss_and_grad(theta, X, y)[1])

    def _loss_and_grad(self, theta, X, y):
        params = self._params(theta)
        cache = deepnet.forward(params, X, self.activation)
        Z = cache.output
        value, D = _ce_and_delta(Z, y)
        # deepnet's MSE output delta is (Z − T)/m; the target T = Z − m·D makes it D = (P − Y)/m
        grads = deepnet.backward(params, cache, Z - y.size * D, "mse")
        flat = np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])
        if self.weight_decay:
            lam = self.weight_decay
            pos = 0
            for (a, b), _ in self.shapes:
                W = theta[pos:pos + a * b]
                flat[pos:pos + a * b] += lam * W
                value += 0.5 * lam * float(W @ W)
                pos += a * b + b
        return value, flat


# --- optimiser steps ------------------------------------------------------------

def optimizer_step(optimizer, **kwargs) -> Callable:
    """A step function ``step(theta, grad, state) -> (theta, state)`` from a package optimiser.

    ``optimizer`` is an :class:`~gdcourse.optim.Optimizer` or a name with its
    hyper-parameters, e.g. ``optimizer_step("adam", lr=1e-3)``.  ``state=None``
    starts from ``optimizer.init(theta)``.  The step is the fast in-place one:
    it overwrites ``theta``.
    """
    opt = get_optimizer(optimizer, **kwargs)

    def step(theta, grad, state):
        if state is None:
            state = opt.init(theta)
        return opt.update_inplace(theta, np.ascontiguousarray(grad, dtype=float), state)

    step.optimizer = opt
    step.__name__ = f"{opt.name}_step"
    return step


def _lr_of(lr, t):
    return float(lr(t)) if callable(lr) else lr


def _check_lr(lr):
    return lr if callable(lr) else check_positive(lr, "lr")


def adam_step_fn(adam_step, lr=1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Callable:
    """Wrap a lesson-6 ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)`` as ``step(theta, grad, state)``.

    The state is ``(m, v, t)``, zeros and 0 at the start.  ``lr`` may be a
    function of the step count t (0-based), as for the learning-rate range test.
    """
    check_callable(adam_step, "adam_step")
    lr = _check_lr(lr)

    def step(theta, grad, state):
        m, v, t = state if state is not None else (np.zeros_like(theta), np.zeros_like(theta), 0)
        theta, m, v, t = adam_step(theta, grad, m, v, t, _lr_of(lr, t), beta1, beta2, eps)
        return np.asarray(theta, dtype=float), (m, v, t)

    step.__name__ = "adam"
    return step


def momentum_step_fn(momentum_step, lr=1e-2, mu: float = 0.9) -> Callable:
    """Wrap a lesson-6 ``momentum_step(theta, grad, velocity, lr, mu)``; the state is ``(velocity, t)``."""
    check_callable(momentum_step, "momentum_step")
    lr = _check_lr(lr)

    def step(theta, grad, state):
        velocity, t = state if state is not None else (np.zeros_like(theta), 0)
        theta, velocity = momentum_step(theta, grad, velocity, _lr_of(lr, t), mu)
        return np.asarray(theta, dtype=float), (velocity, t + 1)

    step.__name__ = "momentum"
    return step


def rmsprop_step_fn(rmsprop_step, lr=1e-3, rho: float = 0.99, eps: float = 1e-8) -> Callable:
    """Wrap a lesson-6 ``rmsprop_step(theta, grad, s, lr, rho, eps)``; the state is ``(s, t)``."""
    check_callable(rmsprop_step, "rmsprop_step")
    lr = _check_lr(lr)

    def step(theta, grad, state):
        s, t = state if state is not None else (np.zeros_like(theta), 0)
        theta, s = rmsprop_step(theta, grad, s, _lr_of(lr, t), rho, eps)
        return np.asarray(theta, dtype=float), (s, t + 1)

    step.__name__ = "rmsprop"
    return step


# --- the learner's own lesson-6 steps ------------------------------------------------

_STEP_NAMES = ("momentum_step", "rmsprop_step", "adam_step")


@dataclass
class LearnerSteps:
    """The lesson-6 step functions to train with: the learner's where they pass their check.

    ``functions[name]`` is the function used; ``origin[name]`` is ``"yours"`` or
    ``"reference"``; ``note`` is one line saying which, and why.
    """

    functions: dict
    origin: dict
    note: str
    notebook: Path | None = None

    def __getattr__(self, name):
        if name in _STEP_NAMES:
            return self.functions[name]
        raise AttributeError(name)

    def _repr_markdown_(self):
        return self.note

    def __repr__(self):
        return self.note


def _default_lesson6_notebook() -> Path | None:
    cwd = Path.cwd()
    for folder in (cwd / "exercises", cwd.parent / "exercises"):
        if (folder / "06_adam.ipynb").is_file():
            return folder / "06_adam.ipynb"
    try:
        from .course import find_course
        path = find_course(allow_packaged=False) / "exercises" / "06_adam.ipynb"
    except (OSError, ValueError):
        return None
    return path if path.is_file() else None


def learner_steps(notebook=None) -> LearnerSteps:
    """Find the learner's ``momentum_step``, ``rmsprop_step`` and ``adam_step`` from lesson 6.

    Reads the answer cells of ``exercises/06_adam.ipynb`` (by default the one
    next to the current folder or in it, as the course is laid out), runs each
    answer in a fresh namespace and keeps it only if it passes its lesson-6
    check; otherwise the package's reference step is used.  The note says which.
    """
    from .authoring import answer_id
    from .exercises import get

    path = Path(notebook) if notebook is not None else _default_lesson6_notebook()
    found, why = {}, {}
    if path is not None and path.is_file():
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            cells = []
        for cell in cells:
            ex_id = answer_id(cell)
            if not ex_id or not ex_id.startswith("lesson06.") or ex_id.split(".")[1] not in _STEP_NAMES:
                continue
            name = ex_id.split(".")[1]
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            namespace = {"np": np, "__name__": "__lesson06__"}
            try:
                exec(compile(source, f"<{path.name}: {ex_id}>", "exec"), namespace)  # the learner's own answer
            except NotImplementedError:
                why[name] = "not done yet"
                continue
            except Exception as exc:
                why[name] = f"its cell raised {type(exc).__name__}"
                continue
            fn = namespace.get(name)
            result = get(ex_id).evaluate(fn)
            if result.passed:
                found[name] = fn
            else:
                why[name] = "not done yet" if result.status == "not_attempted" else "it does not pass its check yet"
    functions, origin = {}, {}
    for name in _STEP_NAMES:
        if name in found:
            functions[name], origin[name] = found[name], "yours"
        else:
            functions[name], origin[name] = get(f"lesson06.{name}").reference, "reference"
    mine = [n for n in _STEP_NAMES if origin[n] == "yours"]
    if len(mine) == len(_STEP_NAMES):
        note = f"Training with your own {', '.join(mine)} from {path.name}."
    elif not mine:
        where = path.name if path is not None else "exercises/06_adam.ipynb (not found)"
        note = (f"Your lesson-6 steps are not done yet ({where}): the package's reference steps are used; "
                f"finish exercises/06_adam.ipynb, save it, and rerun this cell to train with yours.")
    else:
        others = [f"{n} ({why.get(n, 'not found')})" for n in _STEP_NAMES if origin[n] != "yours"]
        note = (f"Training with your own {', '.join(mine)}; the package's reference is used for "
                f"{', '.join(others)}.")
    return LearnerSteps(functions, origin, note, path)


# --- training -----------------------------------------------------------------------

@dataclass
class FitResult:
    """What :func:`fit` did, epoch by epoch (index 0 is before training).

    ``theta`` holds the weights of the epoch with the lowest validation loss
    (``best_epoch``); ``last_theta`` those at the end.  ``stop_reason`` is
    ``"num_epochs"``, ``"early_stopping"`` or ``"diverged"``.
    """

    theta: np.ndarray
    best_epoch: int
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    stop_reason: str
    message: str
    n_updates: int
    seconds: float
    last_theta: np.ndarray = field(repr=False, default=None)

    @property
    def n_epochs(self) -> int:
        return len(self.train_loss) - 1


def _as_step(step):
    if isinstance(step, Optimizer):
        return optimizer_step(step)
    check_callable(step, "step")
    return step


class Trainer:
    """The training loop of :func:`fit`, one epoch per :meth:`epoch` call (for the live panel)."""

    def __init__(self, model, X_train, y_train, X_val, y_val, step, *, theta0=None, batch_size: int = 64,
                 patience: int | None = 10, random_state=None, divergence_factor: float = 100.0):
        if not isinstance(model, _Model):
            raise TypeError(f"model must be a SoftmaxRegression or an MLP, but got {describe(model)}.")
        self.model = model
        self.X, self.y = model._check_data(X_train, y_train)
        self.X_val, self.y_val = model._check_data(X_val, y_val)
        self.step = _as_step(step)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=self.X.shape[0],
                                    max_name="the number of training samples")
        self.patience = None if patience is None else check_int(patience, "patience", minimum=1)
        self.rng = as_rng(random_state)
        self.divergence_factor = check_positive(divergence_factor, "divergence_factor")
        theta = model.init(self.rng) if theta0 is None else model._check_theta(theta0)
        self.theta = np.array(theta, dtype=float, order="C", copy=True)
        self.state = None
        self.history = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
        self.best_theta = self.theta.copy()
        self.best_epoch = 0
        self.bad_epochs = 0
        self.n_updates = 0
        self.seconds = 0.0
        self.stop_reason = ""
        self.message = ""
        first, _ = self._record()
        if not math.isfinite(first):
            raise ValueError(f"the initial weights give a non-finite training loss ({first}); check X and theta0.")
        self.limit = self.divergence_factor * max(first, 1.0)

    @property
    def epoch_count(self) -> int:
        return len(self.history["train_loss"]) - 1

    @property
    def done(self) -> bool:
        return bool(self.stop_reason)

    def _record(self):
        model, theta = self.model, self.theta
        with np.errstate(all="ignore"):
            Z_tr = model._scores(theta, self.X)
            Z_val = model._scores(theta, self.X_val)
            penalty = model._penalty(theta)
            tr = _ce_and_delta(Z_tr, self.y)[0] + penalty
            va = _ce_and_delta(Z_val, self.y_val)[0] + penalty
            tr_acc = float(np.mean(Z_tr.argmax(axis=1) == self.y))
            va_acc = float(np.mean(Z_val.argmax(axis=1) == self.y_val))
        h = self.history
        h["train_loss"].append(tr)
        h["val_loss"].append(va)
        h["train_acc"].append(tr_acc)
        h["val_acc"].append(va_acc)
        return tr, va

    def epoch(self) -> bool:
        """Train one epoch (one step per shuffled mini-batch); False once training has stopped."""
        if self.done:
            return False
        t0 = time.perf_counter()
        model, step = self.model, self.step
        for idx in minibatch_indices(self.X.shape[0], self.batch_size, random_state=self.rng):
            with np.errstate(all="ignore"):
                value, grad = model._loss_and_grad(self.theta, self.X[idx], self.y[idx])
            if not (math.isfinite(value) and value <= self.limit and np.all(np.isfinite(grad))):
                self.stop_reason = "diverged"
                self.message = (f"diverged in epoch {self.epoch_count + 1}: the batch loss became {value:.3g} "
                                f"(or the gradient inf/NaN); lower the learning rate.")
                self.seconds += time.perf_counter() - t0
                return False
            theta, self.state = step(self.theta, grad, self.state)
            self.theta = np.ascontiguousarray(theta, dtype=float)
            self.n_updates += 1
        _, va = self._record()
        self.seconds += time.perf_counter() - t0
        if not (math.isfinite(va) and va <= self.limit):
            self.stop_reason = "diverged"
            self.message = (f"diverged in epoch {self.epoch_count}: the validation loss became {va:.3g}; "
                            f"lower the learning rate.")
            return False
        if va < self.history["val_loss"][self.best_epoch]:
            self.best_epoch, self.best_theta, self.bad_epochs = self.epoch_count, self.theta.copy(), 0
        else:
            self.bad_epochs += 1
            if self.patience is not None and self.bad_epochs >= self.patience:
                self.stop_reason = "early_stopping"
                self.message = (f"stopped early after epoch {self.epoch_count}: the validation loss has not "
                                f"improved for {self.patience} epochs; best epoch {self.best_epoch}.")
                return False
        return True

    def result(self) -> FitResult:
        h = {k: np.array(v) for k, v in self.history.items()}
        reason = self.stop_reason or "num_epochs"
        message = self.message or (f"trained {self.epoch_count} epochs; best validation loss "
                                   f"{h['val_loss'][self.best_epoch]:.4g} at epoch {self.best_epoch}.")
        return FitResult(self.best_theta.copy(), self.best_epoch, h["train_loss"], h["val_loss"],
                         h["train_acc"], h["val_acc"], reason, message, self.n_updates, self.seconds,
                         self.theta.copy())


def fit(model, X_train, y_train, X_val, y_val, step, *, theta0=None, batch_size: int = 64,
        num_epochs: int = 100, patience: int | None = 10, random_state=None,
        divergence_factor: float = 100.0) -> FitResult:
    """Train ``model`` with any optimiser ``step``, stopping early on the validation loss.

    ``step`` is ``step(theta, grad, state) -> (theta, state)`` (``state`` is
    ``None`` at the first call), or a package :class:`~gdcourse.optim.Optimizer`.
    Each epoch shuffles the training set (``random_state``), makes one step per
    mini-batch of ``batch_size`` and then records the training and validation
    loss and accuracy.  When the validation loss has not improved for
    ``patience`` epochs (``None``: never stop early) training stops; the result's
    ``theta`` is the best epoch's.  A loss that becomes inf/NaN or exceeds
    ``divergence_factor``·max(J₀, 1) stops training with ``"diverged"``.

    >>> d = load_digits(); X = Standardizer().fit_transform(d.X)
    >>> r = fit(SoftmaxRegression(64), X[:1000], d.y[:1000], X[1000:], d.y[1000:],
    ...         optimizer_step("adam", lr=0.01), num_epochs=5, random_state=0)
    >>> r.n_epochs, bool(r.val_acc[-1] > 0.85)
    (5, True)
    """
    num_epochs = check_int(num_epochs, "num_epochs", minimum=1)
    trainer = Trainer(model, X_train, y_train, X_val, y_val, step, theta0=theta0, batch_size=batch_size,
                      patience=patience, random_state=random_state, divergence_factor=divergence_factor)
    for _ in range(num_epochs):
        if not trainer.epoch():
            break
    return trainer.result()


# --- evaluation ------------------------------------------------------------------------

def predict(model, theta, X) -> np.ndarray:
    """The predicted labels, argmax of each row of the scores."""
    return model.predict(theta, X)


def accuracy(scores, y) -> float:
    """The fraction of rows whose largest score is at the true label (or of equal labels, for 1-D input).

    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), [1, 0, 0])
    0.6666666666666666
    """
    y = _check_labels(y, "y")
    pred = np.asarray(scores)
    if pred.ndim == 2:
        pred = _scores(pred, "scores").argmax(axis=1)
    else:
        pred = _check_labels(pred, "scores")
    if pred.size != y.size:
        raise ValueError(f"scores and y must describe the same samples, but got {pred.size} and {y.size}.")
    return float(np.mean(pred == y))


def confusion_matrix(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """C[i, j] = how many samples of true class i were predicted as j (rows: truth, columns: prediction).

    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2)
    array([[1, 0],
           [1, 1]])
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    y_true = _check_labels(y_true, "y_true", n_classes)
    y_pred = _check_labels(y_pred, "y_pred", n_classes)
    if y_true.size != y_pred.size:
        raise ValueError(f"y_true and y_pred must have the same length, but got {y_true.size} and {y_pred.size}.")
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C


# --- learning-rate range test ------------------------------------------------------------

class LRRangeResult(NamedTuple):
    """``lrs`` and the batch ``losses`` at each, ``smoothed`` losses, the ``suggestion``
    (where the smoothed loss falls fastest) and ``lr_at_min`` (where it is lowest)."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    lr_at_min: float


def lr_range_test(model, X, y, make_step, *, lr_min: float = 1e-5, lr_max: float = 1.0,
                  num_updates: int = 100, batch_size: int = 64, random_state=None,
                  stop_factor: float = 4.0) -> LRRangeResult:
    """The learning-rate range test (L. Smith, 2017): raise α geometrically, one mini-batch per value.

    ``make_step(lr)`` returns a step function for a learning rate ``lr`` given as a
    function of the step count t, e.g. ``lambda lr: optimizer_step("adam", lr=lr)``
    or ``lambda lr: adam_step_fn(my_adam_step, lr)``.  Update t uses
    α_t = lr_min·(lr_max/lr_min)^(t/(num_updates − 1)).  The run stops once the
    smoothed loss (an exponential average, weight 0.2 on the newest batch) exceeds
    ``stop_factor`` times its lowest value.  The suggestion is the α where the
    smoothed loss falls fastest against log α (its steepest descent); the α at
    the lowest loss is already at the edge of blowing up.
    """
    check_callable(make_step, "make_step")
    lr_min = check_positive(lr_min, "lr_min")
    lr_max = check_positive(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must be larger than lr_min, but got lr_min={lr_min:g}, lr_max={lr_max:g}.")
    num_updates = check_int(num_updates, "num_updates", minimum=2)
    X, y = model._check_data(X, y)
    rng = as_rng(random_state)
    ratio = lr_max / lr_min
    schedule = lambda t: lr_min * ratio ** (min(t, num_updates - 1) / (num_updates - 1))  # noqa: E731
    step = make_step(schedule)
    check_callable(step, "make_step(lr)")
    theta = np.array(model.init(rng), dtype=float)
    state = None
    lrs, losses, smooth = [], [], []
    avg, best = None, math.inf
    batches = []
    with np.errstate(all="ignore"):
        for t in range(num_updates):
            if not batches:
                batches = list(minibatch_indices(X.shape[0], batch_size, random_state=rng))
            idx = batches.pop(0)
            value, grad = model._loss_and_grad(theta, X[idx], y[idx])
            if not math.isfinite(value):
                break
            avg = value if avg is None else 0.8 * avg + 0.2 * value
            lrs.append(schedule(t))
            losses.append(value)
            smooth.append(avg)
            best = min(best, avg)
            if avg > stop_factor * best:
                break
            theta, state = step(theta, grad, state)
            theta = np.asarray(theta, dtype=float)
    smooth_arr, lr_arr = np.array(smooth), np.array(lrs)
    if lr_arr.size < 3:
        raise ValueError(f"the loss blew up after {lr_arr.size} updates: lower lr_min (now {lr_min:g}).")
    slope = np.gradient(smooth_arr, np.log(lr_arr))
    suggestion = float(lr_arr[int(np.argmin(slope))])
    return LRRangeResult(lr_arr, np.array(losses), smooth_arr, suggestion, float(lr_arr[int(np.argmin(smooth_arr))]))


# --- the scikit-learn reference -------------------------------------------------------

def sklearn_reference(X_train, y_train, X_test, y_test, *, weight_decay: float = 1e-3):
    """Test accuracy of scikit-learn's ``LogisticRegression`` on the same split, or None without scikit-learn.

    scikit-learn minimises ½‖W‖² + C·Σ_i loss_i; dividing by C·m gives the mean
    loss + (1/(2Cm))‖W‖², our weight decay λ with C = 1/(λm).
    """
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return None
    X_train = check_matrix(X_train, "X_train")
    lam = check_positive(weight_decay, "weight_decay")
    clf = LogisticRegression(C=1.0 / (lam * X_train.shape[0]), max_iter=5000, tol=1e-8)
    clf.fit(X_train, np.asarray(y_train))
    return float(clf.score(check_matrix(X_test, "X_test"), np.asarray(y_test)))
