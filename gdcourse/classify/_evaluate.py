"""Evaluation and tuning: predictions, accuracy, the confusion matrix, the learning-rate range
test, and scikit-learn's ``LogisticRegression`` on the same split as a reference."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._validation import as_rng, check_callable, check_int, check_matrix, check_positive
from ..batching import minibatch_indices
from ._data import _check_labels
from ._softmax import _scores


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
