"""Lesson 7's checkers (gdcourse.exercises.lesson07) accept right answers and name each
classic mistake.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, scipy-free numpy,
one-hot matrices); expected facts come from closed forms (log k), central
differences and gdcourse.classify (a separate implementation).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gdcourse import classify, gradcheck
from gdcourse.exercises import CheckFailed, _core, available_lessons, get, lesson07, lesson_exercises

from .kit import round_trip, verdict as _verdict


def test_discovery():
    assert "lesson07" in available_lessons()
    assert [e.name for e in lesson_exercises("lesson07")] == [
        "softmax_cross_entropy", "softmax_gradient", "train_early_stopping", "accuracy", "confusion_matrix"]
    assert get("lesson07.accuracy") is lesson07.accuracy
    assert _core.preamble("lesson07") == "import numpy as np\n"
    source = Path(lesson07.__file__).read_text(encoding="utf-8")
    assert "from .lesson0" not in source                      # no other lesson's module


def test_fact_references_agree_with_the_engine():
    rng = np.random.default_rng(5)
    Z, y = rng.normal(scale=30, size=(6, 4)), rng.integers(0, 4, size=6)
    assert math.isclose(lesson07._softmax_cross_entropy(Z, y), classify.softmax_cross_entropy(Z, y), rel_tol=1e-12)
    W, X = rng.normal(size=(3, 4)), rng.normal(size=(6, 3))
    num = gradcheck.numerical_gradient(lambda w: classify.softmax_cross_entropy(X @ w, y), W)
    assert gradcheck.relative_error(lesson07._softmax_gradient(W, X, y), num) < 1e-8
    assert np.array_equal(lesson07._confusion_matrix(y, Z.argmax(1), 4), classify.confusion_matrix(y, Z.argmax(1), 4))
    assert lesson07._accuracy(Z, y) == classify.accuracy(Z, y)
    assert math.isclose(lesson07._softmax_cross_entropy(np.zeros((3, 10)), np.array([0, 5, 9])), math.log(10))


# --- right answers, written as learners write them --------------------------------------


def ce_loop(Z, y):
    total = 0.0
    for z, label in zip(Z, y):
        top = max(z)
        total += top + math.log(sum(math.exp(v - top) for v in z)) - z[label]
    return total / len(y)


def ce_one_hot(Z, y):
    Y = np.eye(Z.shape[1])[y]
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -(Y * log_p).sum() / len(y)


def ce_naive(Z, y):
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    return -np.mean(np.log(P[np.arange(len(y)), y]))


def ce_log_p(Z, y):
    shifted = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return -np.mean(np.log(P[np.arange(len(y)), y]))


def ce_block(Z, y):
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.mean(log_p[:, y])


def grad_one_hot(W, X, y):
    Z = X @ W
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    return X.T @ (P - np.eye(W.shape[1])[y]) / X.shape[0]


def grad_loop(W, X, y):
    g = np.zeros_like(W)
    for x, label in zip(X, y):
        z = x @ W
        p = np.exp(z - z.max())
        p /= p.sum()
        p[label] -= 1.0
        g += np.outer(x, p)
    return g / len(y)


def grad_variant(kind):
    def fn(W, X, y):
        Z = X @ W
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        Y = np.eye(W.shape[1])[y]
        return {"sum": X.T @ (P - Y), "sign": X.T @ (Y - P) / len(y), "T": (P - Y).T @ X / len(y)}[kind]
    return fn


def loop_good(theta0, grad_fn, val_loss_fn, step, num_epochs, patience):
    theta = theta0.astype(float)
    state = None
    losses = [float(val_loss_fn(theta))]
    best, since = theta.copy(), 0
    for epoch in range(num_epochs):
        theta, state = step(theta, grad_fn(theta), state)
        losses.append(float(val_loss_fn(theta)))
        if losses[-1] < min(losses[:-1]):
            best, since = np.copy(theta), 0
        else:
            since += 1
        if since == patience:
            break
    return best, losses


def loop_variant(kind):
    def fn(theta0, grad_fn, val_loss_fn, step, num_epochs, patience):
        theta, state = theta0.astype(float), None
        losses = [val_loss_fn(theta)]
        best, since = theta.copy(), 0
        for epoch in range(num_epochs):
            theta, state = step(theta, grad_fn(theta), state)
            losses.append(val_loss_fn(theta))
            if losses[-1] < min(losses[:-1]):
                best, since = (theta if kind == "alias" else theta.copy()), 0
            else:
                since += 1
            if since == patience:
                break
        return (theta if kind == "last" else best), losses
    return fn


def acc_loop(scores, y):
    right = 0
    for row, label in zip(scores, y):
        right += int(list(row).index(max(row)) == label)
    return right / len(y)


def cm_loop(y_true, y_pred, n_classes):
    return np.array([[sum(1 for t, p in zip(y_true, y_pred) if t == i and p == j) for j in range(n_classes)]
                     for i in range(n_classes)])


def cm_swapped(y_true, y_pred, n_classes):
    C = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        C[p, t] += 1
    return C


def cm_bincount_guess(y_true, y_pred, n_classes):
    k = max(max(y_true), max(y_pred)) + 1
    return np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k).reshape(k, k)


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson07.softmax_cross_entropy, ce_loop, None),
    (lesson07.softmax_cross_entropy, ce_one_hot, None),
    (lesson07.softmax_cross_entropy, ce_naive, "no max-subtraction"),
    (lesson07.softmax_cross_entropy, ce_log_p, "log of the softmax"),
    (lesson07.softmax_cross_entropy, ce_block, "m×m block"),
    (lesson07.softmax_gradient, grad_one_hot, None),
    (lesson07.softmax_gradient, grad_loop, None),
    (lesson07.softmax_gradient, grad_variant("sum"), "1/m is missing"),
    (lesson07.softmax_gradient, grad_variant("sign"), "sign is flipped"),
    (lesson07.softmax_gradient, grad_variant("T"), "transposed"),
    (lesson07.train_early_stopping, loop_good, None),
    (lesson07.train_early_stopping, loop_variant("alias"), "store a copy"),
    (lesson07.train_early_stopping, loop_variant("last"), "returned the last θ"),
    (lesson07.accuracy, acc_loop, None),
    (lesson07.accuracy, lambda s, y: np.mean(s.argmax(0) == y), "wrong axis"),
    (lesson07.accuracy, lambda s, y: (s.argmax(1) == y).sum(), "number of correct"),
    (lesson07.confusion_matrix, cm_loop, None),
    (lesson07.confusion_matrix, cm_swapped, "rows and columns are swapped"),
    (lesson07.confusion_matrix, cm_bincount_guess, "never appears"),
])
def test_lesson07_independent_answers(exercise, fn, fragment):
    _verdict(exercise, fn, fragment)


def test_overflowing_answer_is_named_not_reported_as_nan():
    result = lesson07.softmax_cross_entropy.evaluate(ce_naive)
    assert "M + log Σ e^(Z − M)" in result.message and "800" not in result.message


def test_check_raises_one_line():
    with pytest.raises(CheckFailed) as info:
        lesson07.confusion_matrix.check(cm_swapped)
    assert "\n" not in info.value.line() and "swapped" in info.value.line()


def test_the_learners_loop_trains_the_digits():
    """The exercise's loop, with the package's Adam, on the real data (as the exercise notebook does)."""
    d = classify.load_digits()
    s = classify.split_indices(d.y, random_state=0)
    st = classify.Standardizer().fit(d.X[s.train])
    model = classify.SoftmaxRegression(64)
    Xtr, Xva = st.transform(d.X[s.train]), st.transform(d.X[s.val])
    best, history = loop_good(model.init(), lambda th: model.loss_and_grad(th, Xtr, d.y[s.train])[1],
                              lambda th: model.loss(th, Xva, d.y[s.val]),
                              classify.optimizer_step("adam", lr=0.05), 300, 5)
    assert math.isclose(history[0], math.log(10)) and min(history) < 0.35
    assert classify.accuracy(model.scores(best, Xva), d.y[s.val]) > 0.93


# --- the grader's path: data on the wire ---------------------------------------------


@pytest.mark.parametrize("exercise, right, wrong, fragment", [
    (lesson07.softmax_cross_entropy, ce_loop, ce_naive, "max-subtraction"),
    (lesson07.softmax_gradient, grad_loop, grad_variant("sign"), "sign"),
    (lesson07.train_early_stopping, loop_good, loop_variant("alias"), "copy"),
    (lesson07.accuracy, acc_loop, lambda s, y: 100 * np.mean(s.argmax(1) == y), "percentage"),
    (lesson07.confusion_matrix, cm_loop, cm_swapped, "swapped"),
])
def test_round_trip_through_the_wire(exercise, right, wrong, fragment):
    round_trip(exercise, right, wrong, fragment)
