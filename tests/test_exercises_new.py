"""The whole training loop (lesson 4), the backward pass (lesson 5) and the feedback gaps of
section 3 of the lesson review, each proven on answers written here, independently of the
mistakes the checks carry."""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse import batching, deepnet, optim
from gdcourse.exercises import available_lessons, lesson02, lesson04, lesson05, lesson06, \
    lesson_exercises


def test_at_least_21_graded_exercises():
    assert sum(len(lesson_exercises(lesson)) for lesson in available_lessons()) >= 21


# --- lesson04.train_epochs ---------------------------------------------------------

def train_loop(theta, X, y, lr, batch_size, num_epochs, seed, *, reshuffle=True, first=True,
               half=True):
    rng = np.random.default_rng(seed)
    theta = theta.astype(float)
    m = len(y)
    cost = lambda t: np.mean((X @ t - y) ** 2) / (2 if half else 1)  # noqa: E731
    history = [cost(theta)] if first else []
    order = rng.permutation(m)
    for epoch in range(num_epochs):
        if epoch and reshuffle:
            order = rng.permutation(m)
        for chunk in np.array_split(order, range(batch_size, m, batch_size)):
            theta = theta - lr * X[chunk].T @ (X[chunk] @ theta - y[chunk]) / chunk.size
        history.append(cost(theta))
    return theta, np.array(history)


def test_train_epochs_agrees_with_the_package_trainer():
    for case in lesson04.train_epochs.cases(5):
        theta, X, y, lr, batch_size, num_epochs, seed = case
        h = batching.train(X, y, optim.sgd(lr=lr), theta0=theta, batch_size=batch_size,
                           num_epochs=num_epochs, random_state=seed)
        got_theta, got_losses = lesson04._train_epochs(*case)
        np.testing.assert_allclose(got_theta, h.theta, rtol=1e-10)
        np.testing.assert_allclose(got_losses, h.loss_per_epoch, rtol=1e-10)


def _in_place(theta, X, y, lr, batch_size, num_epochs, seed):
    out, losses = train_loop(theta, X, y, lr, batch_size, num_epochs, seed)
    theta[:] = out
    return out, losses


@pytest.mark.parametrize("fn, fragment", [
    (train_loop, None),
    (lambda *a: train_loop(*a, reshuffle=False), "same order"),
    (lambda *a: train_loop(*a, first=False), "no J(θ0)"),
    (lambda *a: train_loop(*a, half=False), "½ is missing"),
    (lambda *a: train_loop(*a)[0], "two values"),
    (_in_place, "changed theta in place"),
])
def test_train_epochs_independent_answers(fn, fragment):
    for seed in range(4):
        result = lesson04.train_epochs.evaluate(fn, seed)
        if fragment is None:
            assert result.passed, result
        else:
            assert result.status == "incorrect" and fragment in result.message, result


# --- lesson05.backward_pass ----------------------------------------------------------

def backprop_by_hand(params, X, y):
    a = [X]
    for W, b in params[:-1]:
        a.append(deepnet.sigmoid(a[-1] @ W + b))
    W, b = params[-1]
    out = a[-1] @ W + b
    delta = (out - y) / len(X)
    grads = [None] * len(params)
    for l in reversed(range(len(params))):
        grads[l] = (np.einsum("mi,mj->ij", a[l], delta), np.einsum("mj->j", delta))
        if l:
            delta = np.einsum("mj,ij->mi", delta, params[l][0]) * a[l] * (1 - a[l])
    return grads


def test_backward_pass_agrees_with_deepnet():
    for case in lesson05.backward_pass.cases(9):
        params, X, y = case
        want = deepnet.backward(params, deepnet.forward(params, X, "sigmoid"), y)
        got = lesson05._backward_pass(*case)
        for (dW, db), (rW, rb) in zip(got, want):
            np.testing.assert_allclose(dW, rW, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(db, rb, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose([np.linalg.norm(dW) for dW, _ in got],
                                   deepnet.layer_grad_norms(want), rtol=1e-10)


def backprop_no_fprime(params, X, y):
    grads = backprop_by_hand([(W, b) for W, b in params], X, y)
    return grads[::-1]


def backprop_eats_params(params, X, y):
    grads = backprop_by_hand(params, X, y)
    params[0][0][...] = 0.0
    return grads


@pytest.mark.parametrize("fn, fragment", [
    (backprop_by_hand, None),
    (backprop_no_fprime, "output layer first"),
    (lambda p, X, y: [dW for dW, _db in backprop_by_hand(p, X, y)], "pair (dW, db)"),
    (lambda p, X, y: [(2 * dW, 2 * db) for dW, db in backprop_by_hand(p, X, y)], "dW of layer"),
    (backprop_eats_params, "changed params in place"),
])
def test_backward_pass_independent_answers(fn, fragment):
    for seed in range(4):
        result = lesson05.backward_pass.evaluate(fn, seed)
        if fragment is None:
            assert result.passed, result
        else:
            assert result.status == "incorrect" and fragment in result.message, result


# --- section 3's feedback gaps -------------------------------------------------------------

def check_max_denominator(f, grad_fn, theta, h=1e-5):
    theta = np.asarray(theta, dtype=float)
    g_a = np.asarray(grad_fn(theta), dtype=float)
    g_n = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    return float(np.linalg.norm(g_a - g_n) / max(np.linalg.norm(g_a), np.linalg.norm(g_n)))


def adam_keras(theta, grad, m, v, t, lr, beta1, beta2, eps):
    t += 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return theta - lr_t * m / (np.sqrt(v) + eps), m, v, t


def adam_off_by_one(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    k = t if t > 0 else 1                    # "avoid dividing by zero"
    m_hat, v_hat = m / (1 - beta1 ** k), v / (1 - beta2 ** k)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t + 1


def rmsprop_no_one_minus(theta, grad, s, lr, rho, eps):
    s = rho * s + grad * grad
    return theta - lr * grad / (np.sqrt(s) + eps), s


def clip_like_deepnet(grads, max_norm):
    total = float(np.sqrt(sum((g * g).sum() for g in grads)))
    scale = min(1.0, max_norm / total)
    return [g * scale for g in grads], total


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson02.gradient_check, check_max_denominator, "max(‖g_a‖, ‖g_n‖)"),
    (lesson06.adam_step, adam_keras, "ε̂ form"),
    (lesson06.adam_step, adam_off_by_one, "uses t instead of t + 1"),
    (lesson06.rmsprop_step, rmsprop_no_one_minus, "(1 − ρ) is missing"),
    (lesson05.clip_by_norm, clip_like_deepnet, "return only the list"),
])
def test_section_3_feedback_gaps_are_named(exercise, fn, fragment):
    for seed in range(6):
        result = exercise.evaluate(fn, np.random.default_rng([seed, 5]))
        assert result.status == "incorrect" and fragment in result.message, result


# --- what the grader does: hidden cases and outcomes travel as JSON + arrays ---------------

@pytest.mark.parametrize("exercise, right, wrong, fragment", [
    (lesson04.train_epochs, train_loop, lambda *a: train_loop(*a, reshuffle=False), "same order"),
    (lesson05.backward_pass, backprop_by_hand, backprop_no_fprime, "output layer first"),
    (lesson05.clip_by_norm, lesson05.clip_by_norm.reference, clip_like_deepnet, "only the list"),
    (lesson06.adam_step, lesson06.adam_step.reference, adam_keras, "ε̂ form"),
])
def test_round_trip_through_the_wire(exercise, right, wrong, fragment):
    from gdcourse.exercises import _core
    cases = exercise.grading_cases(4242)
    expected = [exercise.expected(c) for c in cases]
    arrays: dict = {}
    sent = [tuple(_core.decode(_core.encode(c, arrays), arrays)) for c in cases]
    for fn, want in ((right, None), (wrong, fragment)):
        out_arrays: dict = {}
        trees = [_core.encode_outcome(o, out_arrays) for o in exercise.collect(fn, sent)]
        outcomes = [_core.decode_outcome(t, out_arrays) for t in trees]
        result = exercise.judge(sent, outcomes, expected)
        if want is None:
            assert result.passed, result
        else:
            assert result.status == "incorrect" and want in result.message, result
