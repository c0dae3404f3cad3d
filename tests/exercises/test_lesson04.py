"""Lesson 4's checkers (gdcourse.exercises.lesson04) accept right answers and name each
classic mistake; the whole training loop agrees with gdcourse.batching.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy calls);
expected facts come from closed forms, finite differences and COURSE.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse import batching, optim
from gdcourse.exercises import lesson04

from .kit import assert_verdict, round_trip, verdict as _verdict


# --- independent facts ---------------------------------------------------------------


def test_fact_updates_per_epoch_counts_the_batches():
    for m in (1, 5, 10, 12, 99, 100, 101):
        for batch_size in (1, 3, 10, 100, 150):
            count = lesson04._updates_per_epoch(m, batch_size)
            assert isinstance(count, int) and count == math.ceil(m / batch_size)
            batches = lesson04._minibatch_indices(m, batch_size, 7)
            assert len(batches) == count
            assert sorted(np.concatenate(batches).tolist()) == list(range(m))


def test_fact_one_epoch_of_single_sample_batches_is_sgd_by_hand():
    X = np.column_stack([np.ones(3), [1.0, 2.0, 3.0]])
    y = np.array([1.0, 2.0, 2.0])
    theta = np.zeros(2)
    for i in (2, 0, 1):                                  # SGD, one sample at a time
        theta = theta - 0.1 * (X[i] @ theta - y[i]) * X[i]
    got = lesson04._minibatch_epoch(np.zeros(2), X, y, 0.1, [np.array([2]), np.array([0]),
                                                             np.array([1])])
    np.testing.assert_allclose(got, theta, rtol=1e-12)
    full = lesson04._minibatch_epoch(np.zeros(2), X, y, 0.1, [np.arange(3)])
    np.testing.assert_allclose(full, -0.1 * X.T @ (-y) / 3, rtol=1e-12)  # one batch-GD step


# --- right and wrong answers --------------------------------------------------------


def indices_shuffle_loop(m, batch_size, seed):
    rng = np.random.default_rng(seed)
    idx = np.arange(m)
    rng.shuffle(idx)
    batches, start = [], 0
    while start < m:
        batches.append(idx[start:start + batch_size])
        start += batch_size
    return batches


def indices_split(m, batch_size, seed):
    order = np.random.default_rng(seed).permutation(m)
    return list(np.array_split(order, list(range(batch_size, m, batch_size))))


def indices_lists(m, batch_size, seed):
    return [list(b) for b in indices_shuffle_loop(m, batch_size, seed)]


def indices_drop_last(m, batch_size, seed):
    order = np.random.default_rng(seed).permutation(m)
    return [order[k * batch_size:(k + 1) * batch_size] for k in range(m // batch_size)]


def indices_range_m_minus_1(m, batch_size, seed):
    order = np.random.default_rng(seed).permutation(np.arange(m - 1))
    return [order[s:s + batch_size] for s in range(0, len(order), batch_size)]


def indices_with_replacement(m, batch_size, seed):
    picks = np.random.default_rng(seed).choice(m, size=m)    # replace=True is the default
    return [picks[s:s + batch_size] for s in range(0, m, batch_size)]


def indices_in_order(m, batch_size, seed):
    return [np.arange(s, min(s + batch_size, m)) for s in range(0, m, batch_size)]


def indices_one_array(m, batch_size, seed):
    return np.random.default_rng(seed).permutation(m)


def indices_too_big(m, batch_size, seed):
    order = np.random.default_rng(seed).permutation(m)
    return [order[s:s + batch_size + 1] for s in range(0, m, batch_size + 1)]


def indices_floats(m, batch_size, seed):
    return [b.astype(float) for b in indices_shuffle_loop(m, batch_size, seed)]


def indices_fixed_seed(m, batch_size, seed):
    return indices_shuffle_loop(m, batch_size, 42)


def indices_unseeded(m, batch_size, seed):
    return indices_shuffle_loop(m, batch_size, None)


def epoch_loops(theta, X, y, lr, batches):
    theta = [float(t) for t in theta]
    for b in batches:
        grad = [0.0] * len(theta)
        for i in b:
            r = sum(X[i, j] * theta[j] for j in range(len(theta))) - y[i]
            for j in range(len(theta)):
                grad[j] += r * X[i, j] / len(b)
        theta = [theta[j] - lr * grad[j] for j in range(len(theta))]
    return np.array(theta)


def epoch_by_m(theta, X, y, lr, batches):
    for b in batches:
        theta = theta - lr * X[b].T @ (X[b] @ theta - y[b]) / X.shape[0]
    return theta


def epoch_sum(theta, X, y, lr, batches):
    for b in batches:
        theta = theta - lr * X[b].T @ (X[b] @ theta - y[b])
    return theta


def epoch_batch_gd(theta, X, y, lr, batches):
    return theta - lr * X.T @ (X @ theta - y) / len(y)


def epoch_full_X(theta, X, y, lr, batches):
    for _b in batches:
        theta = theta - lr * np.mean((X @ theta - y)[:, None] * X, axis=0)
    return theta


def epoch_uphill(theta, X, y, lr, batches):
    for b in batches:
        theta = theta + lr * X[b].T @ (X[b] @ theta - y[b]) / len(b)
    return theta


def epoch_in_place(theta, X, y, lr, batches):
    for b in batches:
        theta -= lr * X[b].T @ (X[b] @ theta - y[b]) / len(b)
    return theta


def epoch_column(theta, X, y, lr, batches):
    return epoch_loops(theta, X, y, lr, batches).reshape(-1, 1)


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson04.minibatch_indices, indices_shuffle_loop, None),
    (lesson04.minibatch_indices, indices_split, None),
    (lesson04.minibatch_indices, indices_lists, None),
    (lesson04.minibatch_indices, indices_drop_last, "partial batch is dropped"),
    (lesson04.minibatch_indices, indices_range_m_minus_1, "a lost sample"),
    (lesson04.minibatch_indices, indices_with_replacement, "a duplicated sample"),
    (lesson04.minibatch_indices, indices_in_order, "no shuffle"),
    (lesson04.minibatch_indices, indices_one_array, "one array instead of a list of batches"),
    (lesson04.minibatch_indices, indices_too_big, "batches of the wrong size"),
    (lesson04.minibatch_indices, indices_floats, "indices must be integers"),
    (lesson04.minibatch_indices, indices_fixed_seed, "the seed is ignored"),
    (lesson04.minibatch_indices, indices_unseeded, "not reproducible"),
    (lesson04.minibatch_epoch, epoch_loops, None),
    (lesson04.minibatch_epoch, epoch_by_m, "divided by m instead of the batch size"),
    (lesson04.minibatch_epoch, epoch_sum, "sum instead of mean"),
    (lesson04.minibatch_epoch, epoch_batch_gd, "one update for the whole epoch"),
    (lesson04.minibatch_epoch, epoch_full_X, "full X"),
    (lesson04.minibatch_epoch, epoch_uphill, "sign is flipped"),
    (lesson04.minibatch_epoch, epoch_in_place, "changed theta in place"),
    (lesson04.minibatch_epoch, epoch_column, "should have shape"),
    (lesson04.updates_per_epoch, lambda m, bs: math.ceil(m / bs), None),
    (lesson04.updates_per_epoch, lambda m, bs: (m + bs - 1) // bs, None),
    (lesson04.updates_per_epoch, lambda m, bs: len(range(0, m, bs)), None),
    (lesson04.updates_per_epoch, lambda m, bs: int(np.ceil(m / bs)), None),
    (lesson04.updates_per_epoch, lambda m, bs: int(m / bs), "partial batch"),
    (lesson04.updates_per_epoch, lambda m, bs: m / bs, "float division"),
    (lesson04.updates_per_epoch, lambda m, bs: np.ceil(m / bs), "int(...)"),
    (lesson04.updates_per_epoch, lambda m, bs: bs // m, "swapped"),
])
def test_lesson04_independent_answers(exercise, fn, fragment):
    _verdict(exercise, fn, fragment)


def test_lesson04_feedback_keeps_the_answer_hidden():
    result = lesson04.minibatch_indices.evaluate(indices_in_order)
    reference = lesson04._minibatch_indices(10, 3, 0)
    assert str(reference[0].tolist()) not in result.message
    result = lesson04.updates_per_epoch.evaluate(lambda m, bs: 7)
    assert "4" not in result.message.split("(input")[0]


# --- train_epochs ---------------------------------------------------------------------


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
        assert_verdict(result, fragment)


# --- the grader's path: data on the wire ---------------------------------------------


@pytest.mark.parametrize("exercise, right, wrong, fragment", [
    (lesson04.minibatch_indices, indices_shuffle_loop, indices_drop_last, "partial batch"),
    (lesson04.minibatch_epoch, epoch_loops, epoch_sum, "sum instead of mean"),
    (lesson04.updates_per_epoch, lambda m, bs: -(-m // bs), lambda m, bs: m // bs, "partial"),
    (lesson04.train_epochs, train_loop, lambda *a: train_loop(*a, reshuffle=False), "same order"),
])
def test_round_trip_through_the_wire(exercise, right, wrong, fragment):
    round_trip(exercise, right, wrong, fragment)
