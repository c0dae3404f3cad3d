"""Exercises for lesson 7, the capstone: a digit classifier trained end to end.

``softmax_cross_entropy(Z, y)``
    the mean of logsumexp(Z_i) − Z_{i, y_i} over the rows, stable for large logits.
``softmax_gradient(W, X, y)``
    (1/m)·Xᵀ(softmax(XW) − Y), shape (n, k), with Y the one-hot labels.
``train_early_stopping(theta0, grad_fn, val_loss_fn, step, num_epochs, patience)``
    ``(best_theta, history)``: one ``step`` per epoch, the validation loss after
    each (``history[0]`` is the loss at θ0), stopping once it has not improved
    for ``patience`` epochs; ``best_theta`` is θ at the lowest validation loss.
``accuracy(scores, y)``
    the fraction of rows whose largest score is at the true label.
``confusion_matrix(y_true, y_pred, n_classes)``
    C[i, j] = how many samples of true class i were predicted as j.
"""

from __future__ import annotations

import math

import numpy as np

from ._calls import MomentumLoop
from ._core import Exercise, Fn, Mistake, compare_values
from ._shared import design as _design

__all__ = ["softmax_cross_entropy", "softmax_gradient", "train_early_stopping", "accuracy",
           "confusion_matrix", "EXERCISES"]

PREAMBLE = "import numpy as np\n"


def _stable_lse(Z, axis=1):
    M = Z.max(axis=axis, keepdims=True)
    return M + np.log(np.exp(Z - M).sum(axis=axis, keepdims=True))


def _compare_finite(overflow, rtol=1e-7, atol=1e-9):
    """compare_values, with the line ``overflow`` for an answer that is NaN or inf where the truth is finite.

    On these exercises the truth is finite on every case, and only the large
    logits of the cases can make an answer overflow, so that line says what
    went wrong and the fix.  No mistake is named from a NaN (it matches
    nothing); this is a statement about the answer's own values.
    """
    def compare(got, expected):
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if (arr is not None and np.all(np.isfinite(expected)) and np.shape(expected) == arr.shape
                and not np.all(np.isfinite(arr))):
            bad = "nan" if np.isnan(arr).any() else "inf"
            return f"{overflow} (your result holds {bad} where the true value is finite)"
        return compare_values(got, expected, rtol=rtol, atol=atol)
    return compare


_NO_MAX_CE = ("no max-subtraction: e^Z overflowed to inf for a large logit; compute logsumexp as "
              "M + log Σ e^(Z − M) with M the row maximum")
_NO_MAX_GRAD = "no max-subtraction in the softmax: e^(XW) overflowed; subtract each row's maximum before the exponential"


# --- 1. softmax cross-entropy --------------------------------------------------------

def _softmax_cross_entropy(Z, y):
    M = Z.max(axis=1, keepdims=True)                       # subtract the row maximum: no overflow
    log_sum = M[:, 0] + np.log(np.exp(Z - M).sum(axis=1))  # logsumexp of each row
    return float(np.mean(log_sum - Z[np.arange(len(y)), y]))


def _labels(rng, m, k):
    return rng.integers(0, k, size=m)


def _ce_cases(rng):
    cases = [
        (np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.4, 3.0]]), np.array([0, 1, 1])),
        (np.zeros((4, 10)), np.array([3, 1, 4, 1])),
        (np.array([[800.0, 0.0, -5.0], [1.0, 2.0, 3.0]]), np.array([0, 2])),    # e^800 overflows
        (np.array([[0.0, -800.0], [0.3, -0.2], [1.0, 0.5]]), np.array([1, 0, 1])),  # e^-800 underflows
    ]
    for scale in (1.0, 8.0):
        m, k = int(rng.integers(5, 9)), int(rng.integers(3, 6))
        cases.append((rng.normal(scale=scale, size=(m, k)), _labels(rng, m, k)))
    return cases


def _ce_variant(kind):
    def variant(Z, y):
        m = len(y)
        rows = np.arange(m)
        if kind == "no_max":
            return float(np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[rows, y]))
        if kind == "log_of_softmax":
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            P = E / E.sum(axis=1, keepdims=True)
            return float(-np.mean(np.log(P[rows, y])))
        if kind == "wrong_axis":
            log_p = Z - _stable_lse(Z, axis=0)
            return float(-np.mean(log_p[rows, y]))
        if kind == "columns_by_y":
            log_p = Z - _stable_lse(Z)
            return float(-np.mean(log_p[:, y]))
        if kind == "times_labels":
            log_p = Z - _stable_lse(Z)
            return float(-np.mean((y[:, None] * log_p).sum(axis=1)))
        if kind == "sum":
            return float(np.sum(_stable_lse(Z)[:, 0] - Z[rows, y]))
        raise ValueError(kind)
    return variant


softmax_cross_entropy = Exercise(
    "lesson07.softmax_cross_entropy",
    _softmax_cross_entropy,
    cases=_ce_cases,
    compare=_compare_finite(_NO_MAX_CE),
    mistakes=[
        Mistake(_NO_MAX_CE, _ce_variant("no_max")),
        Mistake("you took the log of the softmax probabilities: P underflows to 0 for a very unlikely "
                "true class and log 0 = −inf; use log P = Z − logsumexp(Z)", _ce_variant("log_of_softmax")),
        Mistake("the normalisation runs over the wrong axis: each row (sample) is normalised over its "
                "k classes, so logsumexp goes along axis=1, not over the samples (axis=0)",
                _ce_variant("wrong_axis")),
        Mistake("log P[:, y] picks an m×m block, not one entry per row: index with rows "
                "np.arange(m) and columns y (or multiply by a one-hot Y and sum)", _ce_variant("columns_by_y")),
        Mistake("the labels are not one-hot: multiplying log P by the integer labels y is wrong; "
                "turn y into a one-hot Y (or index log P[np.arange(m), y])", _ce_variant("times_labels")),
        Mistake("that is the sum over the samples: the cost is the mean, (1/m)·Σ", _ce_variant("sum")),
    ],
    hints=[
        "Per row i the loss is logsumexp(Z_i) − Z[i, y_i]. Subtract the row maximum first: "
        "`M = Z.max(axis=1, keepdims=True)`.",
        "`log_sum = M[:, 0] + np.log(np.exp(Z - M).sum(axis=1))`, then "
        "`return float(np.mean(log_sum - Z[np.arange(len(y)), y]))`.",
    ],
)


# --- 2. its gradient with respect to the weights ------------------------------------------

def _softmax_gradient(W, X, y):
    Z = X @ W
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)                   # softmax, row by row
    Y = np.zeros_like(P)
    Y[np.arange(len(y)), y] = 1.0                          # one-hot labels
    return X.T @ (P - Y) / len(y)


def _grad_cases(rng):
    cases = [
        (np.array([[0.1, -0.2, 0.3], [0.5, 0.1, -0.4]]), np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5], [1.0, 0.0]]),
         np.array([0, 2, 1, 2])),
        (np.zeros((3, 4)), np.array([[1.0, 0.2, -0.3], [1.0, -1.0, 0.4], [1.0, 0.7, 0.9]]), np.array([3, 0, 1])),
        (np.array([[400.0, 0.0], [0.0, 400.0]]), np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]),   # logits 800
         np.array([1, 1, 0])),
    ]
    for _ in range(2):
        m, n, k = int(rng.integers(5, 9)), int(rng.integers(2, 5)), int(rng.integers(3, 6))
        X = _design(rng, m, n)                    # drawn before W: the cases stay as they were
        cases.append((rng.normal(scale=0.5, size=(n, k)), X, _labels(rng, m, k)))
    return cases


def _grad_variant(kind):
    def variant(W, X, y):
        m = len(y)
        Z = X @ W
        if kind == "no_max":
            E = np.exp(Z)
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        if kind == "wrong_axis":
            E = np.exp(Z - Z.max(axis=0, keepdims=True))
            P = E / E.sum(axis=0, keepdims=True)
        Y = np.zeros_like(P)
        Y[np.arange(m), y] = 1.0
        if kind == "no_mean":
            return X.T @ (P - Y)
        if kind == "sign":
            return X.T @ (Y - P) / m
        if kind == "transposed":
            return (P - Y).T @ X / m
        if kind == "no_softmax":
            return X.T @ (Z - Y) / m
        if kind == "not_one_hot":
            return X.T @ (P - y[:, None]) / m
        return X.T @ (P - Y) / m
    return variant


softmax_gradient = Exercise(
    "lesson07.softmax_gradient",
    _softmax_gradient,
    cases=_grad_cases,
    compare=_compare_finite(_NO_MAX_GRAD, rtol=1e-6, atol=1e-10),
    mistakes=[
        Mistake("the 1/m is missing: average the gradient over the m samples, Xᵀ(P − Y)/m",
                _grad_variant("no_mean")),
        Mistake("the sign is flipped: the gradient is Xᵀ(P − Y)/m; Y − P points uphill for the "
                "loss's negative", _grad_variant("sign")),
        Mistake("the result is transposed: (P − Y)ᵀX has shape (k, n); the gradient has W's shape "
                "(n, k), Xᵀ(P − Y)", _grad_variant("transposed")),
        Mistake("no softmax: Xᵀ(XW − Y)/m is the MSE gradient; use P = softmax(XW)",
                _grad_variant("no_softmax")),
        Mistake("the softmax runs over the wrong axis: each row of XW (one sample) must sum to 1 "
                "over the k classes (axis=1)", _grad_variant("wrong_axis")),
        Mistake("the labels are not one-hot: P − y subtracts the label number from every column; "
                "build Y with Y[np.arange(m), y] = 1", _grad_variant("not_one_hot")),
        Mistake(_NO_MAX_GRAD, _grad_variant("no_max")),
    ],
    hints=[
        "First P: `Z = X @ W`, `E = np.exp(Z - Z.max(axis=1, keepdims=True))`, "
        "`P = E / E.sum(axis=1, keepdims=True)`.",
        "Then the one-hot Y (`Y = np.zeros_like(P); Y[np.arange(len(y)), y] = 1`) and "
        "`return X.T @ (P - Y) / len(y)`.",
    ],
)


# --- 3. a training loop with early stopping ---------------------------------------------------

def _train_early_stopping(theta0, grad_fn, val_loss_fn, step, num_epochs, patience):
    theta, state = np.array(theta0, dtype=float), None
    history = [val_loss_fn(theta)]
    best_theta, best_loss, bad = theta.copy(), history[0], 0
    for _ in range(num_epochs):
        theta, state = step(theta, grad_fn(theta), state)
        loss = val_loss_fn(theta)
        history.append(loss)
        if loss < best_loss:
            best_theta, best_loss, bad = theta.copy(), loss, 0   # a copy: step may change theta in place
        else:
            bad += 1
            if bad >= patience:
                break
    return best_theta, np.array(history)


def _loop_compare(got, expected):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "train_early_stopping should return two values, (best_theta, history)."
    best, history = got
    want_best, want_history = expected
    if history.shape != want_history.shape:
        if history.ndim == 1 and want_history.ndim == 1:
            return (f"history has {history.size} entries where {want_history.size} were expected: "
                    f"history[0] is the loss at theta0, then one per epoch until the stop.")
        return f"history should be a flat list of losses, but got shape {history.shape}."
    problem = compare_values(history, want_history, rtol=1e-9, atol=1e-12, name="history")
    if problem:
        return problem
    return compare_values(best, want_best, rtol=1e-9, atol=1e-12, name="best_theta")


def _loop_cases(rng):
    def problem(a, A, c):
        return (Fn("A * (theta - a)", output="array", A=A, a=a),
                Fn("0.5 * np.sum((theta - c) ** 2)", c=c))

    cases = []
    g, v = problem(np.array([2.0, -1.0]), np.array([1.0, 3.0]), np.array([1.2, -0.4]))
    cases.append((np.zeros(2), g, v, {"lr": 0.1, "mu": 0.0, "in_place": False}, 60, 3))
    g, v = problem(np.array([2.0, 1.0]), np.array([1.0, 2.0]), np.array([1.0, 0.6]))
    cases.append((np.zeros(2), g, v, {"lr": 0.1, "mu": 0.8, "in_place": False}, 80, 4))
    g, v = problem(np.array([3.0, -2.0, 1.0]), np.array([0.5, 1.0, 2.0]), np.array([1.5, -1.0, 0.5]))
    cases.append((np.zeros(3), g, v, {"lr": 0.2, "mu": 0.5, "in_place": True}, 60, 2))
    bumpy = Fn("np.sum(np.sin(w * theta)) + 0.3 * np.sum((theta - c) ** 2)", w=np.array(6.0), c=np.array([3.0]))
    cases.append((np.zeros(1), Fn("A * (theta - a)", output="array", A=np.array([1.0]), a=np.array([4.0])),
                  bumpy, {"lr": 0.1, "mu": 0.0, "in_place": False}, 60, 3))   # improves again after 2 bad epochs
    g, v = problem(np.array([1.0, 1.0]), np.array([1.0, 1.0]), np.array([2.0, 2.0]))   # never worse
    cases.append((np.zeros(2), g, v, {"lr": 0.1, "mu": 0.0, "in_place": False}, 12, 3))
    for _ in range(2):
        n = int(rng.integers(2, 5))
        a = rng.normal(scale=2.0, size=n)
        g, v = problem(a, rng.uniform(0.5, 2.0, size=n), 0.6 * a + rng.normal(scale=0.2, size=n))
        cases.append((rng.normal(scale=0.3, size=n), g, v,
                      {"lr": float(rng.uniform(0.05, 0.2)), "mu": float(rng.uniform(0.5, 0.85)),
                       "in_place": bool(rng.integers(0, 2))}, 80, int(rng.integers(2, 6))))
    return cases


def _loop_variant(kind):
    def variant(theta0, grad_fn, val_loss_fn, step, num_epochs, patience):
        theta, state = np.array(theta0, dtype=float), None
        history = [val_loss_fn(theta)]
        best_theta, best_loss, bad = theta.copy(), history[0], 0
        for _ in range(num_epochs):
            theta, new_state = step(theta, grad_fn(theta), None if kind == "stateless" else state)
            state = new_state
            loss = val_loss_fn(theta)
            history.append(loss)
            if loss < best_loss:
                best_theta = theta if kind == "no_copy" else theta.copy()
                best_loss = loss
                if kind != "no_reset":
                    bad = 0
            else:
                bad += 1
                limit = patience + 1 if kind == "late" else patience
                if kind != "never" and bad >= limit:
                    break
        if kind == "last":
            best_theta = theta
        if kind == "no_start":
            history = history[1:]
        return best_theta, np.array(history)
    return variant


train_early_stopping = Exercise(
    "lesson07.train_early_stopping",
    _train_early_stopping,
    cases=_loop_cases,
    run=MomentumLoop(),
    compare=_loop_compare,
    mistakes=[
        # the aliasing mistake first: on in-place steps it gives the same θ as returning the
        # last one, and only the aliasing mistake is right on every other case too
        Mistake("the best θ changed after you saved it: the step updates θ in place, so store a copy "
                "(best_theta = theta.copy())", _loop_variant("no_copy")),
        Mistake("you returned the last θ: return the θ of the epoch with the lowest validation loss",
                _loop_variant("last")),
        Mistake("the optimiser state is not carried: pass back the state the previous step returned "
                "(theta, state = step(theta, g, state)); you passed None every time",
                _loop_variant("stateless")),
        Mistake("patience is off by one: stop as soon as the loss has not improved for `patience` "
                "epochs in a row, not one epoch later", _loop_variant("late")),
        Mistake("the counter of epochs without improvement is not reset when the loss improves",
                _loop_variant("no_reset")),
        Mistake("history must start with the validation loss at theta0, before the first step",
                _loop_variant("no_start")),
        Mistake("training never stops early: count the epochs without improvement and stop at `patience`",
                _loop_variant("never")),
    ],
    hints=[
        "Start with `theta, state = np.array(theta0, dtype=float), None` and "
        "`history = [val_loss_fn(theta)]`; keep `best_theta = theta.copy()`, `best_loss` and a counter `bad = 0`.",
        "Each epoch: `theta, state = step(theta, grad_fn(theta), state)`, append `val_loss_fn(theta)`; "
        "if it is below `best_loss` save `theta.copy()` and reset `bad`, else `bad += 1` and `break` "
        "once `bad >= patience`.",
        "`return best_theta, np.array(history)`.",
    ],
)


# --- 4. accuracy ----------------------------------------------------------------------------------

def _accuracy(scores, y):
    return float(np.mean(np.argmax(scores, axis=1) == y))


def _acc_cases(rng):
    cases = [
        (np.array([[0.1, 0.7, 0.1, 0.1], [0.6, 0.2, 0.1, 0.1], [0.2, 0.2, 0.5, 0.1], [0.25, 0.3, 0.2, 0.25]]),
         np.array([1, 2, 0, 3])),
        (np.array([[2.0, -1.0, 0.0], [0.0, 3.0, 1.0], [0.5, 0.2, 0.1], [-1.0, -2.0, 0.0], [1.0, 0.0, 2.0],
                   [0.0, 0.1, 0.2]]), np.array([0, 1, 2, 2, 2, 1])),
    ]
    for _ in range(3):
        k = int(rng.integers(3, 6))
        m = int(rng.integers(k + 2, 15))
        cases.append((rng.normal(size=(m, k)), _labels(rng, m, k)))
    return cases


def _acc_variant(kind):
    def variant(scores, y):
        if kind == "axis0":
            return float(np.mean(np.argmax(scores, axis=0) == y))
        if kind == "percent":
            return 100.0 * float(np.mean(np.argmax(scores, axis=1) == y))
        if kind == "count":
            return int(np.sum(np.argmax(scores, axis=1) == y))
        if kind == "argmin":
            return float(np.mean(np.argmin(scores, axis=1) == y))
        if kind == "error_rate":
            return float(np.mean(np.argmax(scores, axis=1) != y))
        raise ValueError(kind)
    return variant


accuracy = Exercise(
    "lesson07.accuracy",
    _accuracy,
    cases=_acc_cases,
    mistakes=[
        Mistake("argmax over the wrong axis: each row is one sample, so take np.argmax(scores, axis=1)",
                _acc_variant("axis0")),
        Mistake("that is a percentage: return the fraction between 0 and 1", _acc_variant("percent")),
        Mistake("that is the number of correct predictions: divide by the number of samples",
                _acc_variant("count")),
        Mistake("argmin picks the least likely class: the prediction is the class with the largest score",
                _acc_variant("argmin")),
        Mistake("that is the error rate (the fraction wrong): accuracy is the fraction right",
                _acc_variant("error_rate")),
    ],
    hints=[
        "The prediction of row i is `np.argmax(scores, axis=1)[i]`.",
        "`return float(np.mean(np.argmax(scores, axis=1) == y))`.",
    ],
)


# --- 5. the confusion matrix -------------------------------------------------------------------------

def _confusion_matrix(y_true, y_pred, n_classes):
    C = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        C[t, p] += 1                          # row: the truth, column: the prediction
    return C


def _cm_cases(rng):
    cases = [
        (np.array([0, 1, 1, 2, 2, 2]), np.array([0, 2, 1, 1, 2, 2]), 3),
        (np.array([0, 0, 1, 3, 3]), np.array([1, 0, 1, 3, 0]), 4),
        (np.array([1, 0, 1, 0]), np.array([1, 1, 0, 0]), 3),         # class 2 never appears
    ]
    for _ in range(2):
        k = int(rng.integers(3, 7))
        m = int(rng.integers(8, 30))
        y_true = _labels(rng, m, k)
        y_pred = np.where(rng.random(m) < 0.6, y_true, _labels(rng, m, k))
        y_true[0], y_pred[0] = 0, k - 1                  # at least one off-diagonal entry
        cases.append((y_true, y_pred, k))
    return cases


def _cm_variant(kind):
    def variant(y_true, y_pred, n_classes):
        C = np.zeros((n_classes, n_classes))
        np.add.at(C, (y_true, y_pred), 1)
        if kind == "transposed":
            return C.T
        if kind == "normalised":
            sums = C.sum(axis=1, keepdims=True)
            return np.divide(C, sums, out=np.zeros_like(C), where=sums > 0)
        if kind == "inferred_k":
            k = int(max(y_true.max(), y_pred.max())) + 1
            return C[:k, :k]
        if kind == "fraction":
            return C / len(y_true)
        raise ValueError(kind)
    return variant


confusion_matrix = Exercise(
    "lesson07.confusion_matrix",
    _confusion_matrix,
    cases=_cm_cases,
    mistakes=[
        Mistake("rows and columns are swapped: row i is the true class, column j the prediction, "
                "C[y_true, y_pred] += 1", _cm_variant("transposed")),
        Mistake("the rows are normalised to fractions: the confusion matrix holds counts",
                _cm_variant("normalised")),
        Mistake("the matrix is divided by the number of samples: it holds counts",
                _cm_variant("fraction")),
        Mistake("the size comes from the labels you saw: a class that never appears still needs its "
                "row and column, so make it n_classes × n_classes", _cm_variant("inferred_k")),
    ],
    hints=[
        "Start from `C = np.zeros((n_classes, n_classes), dtype=int)`.",
        "For each pair `for t, p in zip(y_true, y_pred): C[t, p] += 1`, then `return C`.",
    ],
)

EXERCISES = (softmax_cross_entropy, softmax_gradient, train_early_stopping, accuracy, confusion_matrix)
