"""The checkers of lessons 4–6 accept right answers and name each classic mistake.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy calls);
expected facts come from closed forms, finite differences and COURSE.md.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gdcourse import grading
from gdcourse.exercises import (CheckFailed, Incorrect, _core, available_lessons, get,
                                lesson04, lesson05, lesson06, lesson_exercises)

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import submissions as subs  # noqa: E402

ALL = lesson04.EXERCISES + lesson05.EXERCISES + lesson06.EXERCISES


def _verdict(exercise, fn, fragment):
    result = exercise.evaluate(fn)
    if fragment is None:
        assert result.passed, result
    else:
        assert result.status == "incorrect" and fragment in result.message, result
    return result


def test_discovery_for_grade_and_check():
    assert {"lesson04", "lesson05", "lesson06"} <= set(available_lessons())
    assert [e.name for e in lesson_exercises("lesson04")] == [
        "minibatch_indices", "minibatch_epoch", "updates_per_epoch"]
    assert [e.name for e in lesson_exercises("lesson05")] == [
        "sigmoid_derivative", "xavier_init", "he_init", "clip_by_norm"]
    assert [e.name for e in lesson_exercises("lesson06")] == [
        "momentum_step", "rmsprop_step", "adam_step"]
    assert get("lesson06.adam_step") is lesson06.adam_step
    for lesson in ("lesson04", "lesson05", "lesson06"):
        assert _core.preamble(lesson) == "import numpy as np\n"


def test_self_check_report_line(capsys):
    """`gdcourse check` evaluates by id in the learner's kernel and reads one JSON line."""
    _core._report("lesson04.updates_per_epoch", {"updates_per_epoch": lambda m, bs: -(-m // bs)})
    _core._report("lesson05.he_init", {})
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith(_core.REPORT_PREFIX) for line in lines)
    assert '"status": "correct"' in lines[0] and '"status": "not_attempted"' in lines[1]


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


def test_fact_sigmoid_derivative():
    z = np.array([-30.0, -4.0, -0.3, 0.0, 0.7, 5.0])
    h = 1e-6
    sig = lambda x: 0.5 * (1 + np.tanh(x / 2))  # noqa: E731
    numeric = (sig(z + h) - sig(z - h)) / (2 * h)
    np.testing.assert_allclose(lesson05._sigmoid_derivative(z), numeric, rtol=1e-6, atol=1e-12)
    assert lesson05._sigmoid_derivative(np.array([0.0]))[0] == 0.25          # the maximum, 1/4
    assert np.all(lesson05._sigmoid_derivative(np.linspace(-1e4, 1e4, 101)) <= 0.25)


def test_fact_initialiser_spreads():
    W = lesson05._xavier_init(600, 400, 3)
    assert W.shape == (600, 400)
    assert np.std(W) == pytest.approx(math.sqrt(2 / 1000), rel=0.01)
    assert abs(np.mean(W)) < 0.01 * math.sqrt(2 / 1000) * 10
    H = lesson05._he_init(250, 800, 4)
    assert H.shape == (250, 800) and np.std(H) == pytest.approx(math.sqrt(2 / 250), rel=0.01)
    np.testing.assert_array_equal(lesson05._he_init(5, 3, 9), lesson05._he_init(5, 3, 9))


def test_fact_clip_by_norm():
    out = lesson05._clip_by_norm([np.array([3.0, 4.0]), np.array([[12.0]])], 6.5)
    np.testing.assert_allclose(out[0], [1.5, 2.0])
    np.testing.assert_allclose(out[1], [[6.0]])
    small = [np.array([0.3, 0.4])]
    np.testing.assert_array_equal(lesson05._clip_by_norm(small, 1.0)[0], small[0])


def test_fact_momentum_from_course_md():
    # f = 0.1·x1² + 2·x2² from (−5, −2), α = 0.6, μ = 0.5, 20 steps → ≈ (0.007188, 0.002553)
    theta, velocity = np.array([-5.0, -2.0]), np.zeros(2)
    for _ in range(20):
        grad = np.array([0.2 * theta[0], 4.0 * theta[1]])
        theta, velocity = lesson06._momentum_step(theta, grad, velocity, 0.6, 0.5)
    np.testing.assert_allclose(theta, [0.007188, 0.002553], atol=5e-7)


def test_fact_first_steps_of_rmsprop_and_adam():
    # from s = 0: s = (1 − ρ)g², so the step is α·g/√((1 − ρ)g²) = α/√(1 − ρ) in each coordinate
    theta, s = lesson06._rmsprop_step(np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.zeros(2),
                                      0.1, 0.9, 0.0)
    np.testing.assert_allclose(theta, [1 - 0.1 / math.sqrt(0.1), -2 + 0.1 / math.sqrt(0.1)])
    np.testing.assert_allclose(s, [0.025, 0.1])
    # Adam's first step after bias correction: m̂ = g, v̂ = g², so Δθ = −α·g/|g|
    theta, m, v, t = lesson06._adam_step(np.array([1.0, -1.0]), np.array([0.1, -0.2]),
                                         np.zeros(2), np.zeros(2), 0, 0.1, 0.9, 0.999, 0.0)
    np.testing.assert_allclose(theta, [0.9, -0.9], rtol=1e-12)
    np.testing.assert_allclose(m, [0.01, -0.02])
    np.testing.assert_allclose(v, [1e-5, 4e-5])
    assert t == 1


# --- lesson 4 -------------------------------------------------------------------------

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


# --- lesson 5 -------------------------------------------------------------------------

def sigmoid_derivative_tanh(z):
    return 0.25 * (1 - np.tanh(z / 2) ** 2)


def sigmoid_derivative_masks(z):
    out = np.empty_like(z, dtype=float)
    pos = z >= 0
    e = np.exp(-z[pos])
    out[pos] = e / (1 + e) ** 2
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e) ** 2
    return out


def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_derivative_naive(z):
    s = naive_sigmoid(z)
    return s * (1 - s)


def sigmoid_derivative_nan(z):
    return np.exp(-z) / (1 + np.exp(-z)) ** 2


def xavier_standard_normal(fan_in, fan_out, seed):
    return np.random.default_rng(seed).standard_normal((fan_in, fan_out)) * math.sqrt(
        2 / (fan_in + fan_out))


def xavier_other_layout(fan_in, fan_out, seed):
    std = (2 / (fan_in + fan_out)) ** 0.5
    return np.random.default_rng(seed).normal(size=(fan_out, fan_in)).T * std


def scaled_normal(std_of, transpose=False):
    def init(fan_in, fan_out, seed):
        shape = (fan_out, fan_in) if transpose else (fan_in, fan_out)
        return np.random.default_rng(seed).standard_normal(shape) * std_of(fan_in, fan_out)
    return init


def xavier_uniform_narrow(fan_in, fan_out, seed):
    a = math.sqrt(2 / (fan_in + fan_out))
    return np.random.default_rng(seed).uniform(-a, a, (fan_in, fan_out))


def clip_flat(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    scale = min(1.0, max_norm / total)
    return [scale * g for g in grads]


def clip_elementwise(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def clip_each(grads, max_norm):
    out = []
    for g in grads:
        n = np.sqrt(np.sum(g * g))
        out.append(g * max_norm / n if n > max_norm else g)
    return out


def clip_always(grads, max_norm):
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    return [g * (max_norm / total) for g in grads]


def clip_in_place(grads, max_norm):
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        for g in grads:
            g *= max_norm / total
    return grads


def clip_with_epsilon(grads, max_norm):
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    return [g * (max_norm / (total + 1e-6)) if total > max_norm else g for g in grads]


def clip_flattened(grads, max_norm):
    return [g.ravel() for g in clip_flat(grads, max_norm)]


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson05.sigmoid_derivative, sigmoid_derivative_tanh, None),
    (lesson05.sigmoid_derivative, sigmoid_derivative_masks, None),
    (lesson05.sigmoid_derivative, naive_sigmoid, "you returned σ(z) itself"),
    (lesson05.sigmoid_derivative, lambda z: z * (1 - z), "z(1 − z)"),
    (lesson05.sigmoid_derivative, sigmoid_derivative_nan, "np.exp(±z) overflows"),
    (lesson05.sigmoid_derivative, sigmoid_derivative_naive, "overflows"),
    (lesson05.sigmoid_derivative, lambda z: np.sum(sigmoid_derivative_tanh(z)), "shape"),
    (lesson05.xavier_init, xavier_standard_normal, None),
    (lesson05.xavier_init, xavier_other_layout, None),
    (lesson05.xavier_init, scaled_normal(lambda fi, fo: math.sqrt(2 / fi)), "a wrong fan"),
    (lesson05.xavier_init, scaled_normal(lambda fi, fo: math.sqrt(2 / fo)), "a wrong fan"),
    (lesson05.xavier_init, scaled_normal(lambda fi, fo: 2 / (fi + fo)),
     "variance as the standard deviation"),
    (lesson05.xavier_init, scaled_normal(lambda fi, fo: math.sqrt(2 / (fi + fo)), True),
     "transposed"),
    (lesson05.xavier_init, xavier_uniform_narrow, "uniform with the wrong bound"),
    (lesson05.xavier_init, scaled_normal(lambda fi, fo: 1.0), "unit standard deviation"),
    (lesson05.xavier_init, scaled_normal(lambda fi, fo: math.sqrt(4 / (fi + fo))),
     "standard deviation is 1.41 times"),
    (lesson05.he_init, scaled_normal(lambda fi, fo: math.sqrt(2 / fi)), None),
    (lesson05.he_init, scaled_normal(lambda fi, fo: math.sqrt(2 / fo)), "used fan_out"),
    (lesson05.he_init, scaled_normal(lambda fi, fo: math.sqrt(2 / (fi + fo))), "Xavier's formula"),
    (lesson05.he_init, scaled_normal(lambda fi, fo: 2 / fi), "variance as the standard deviation"),
    (lesson05.he_init, scaled_normal(lambda fi, fo: math.sqrt(2 / fi), True), "transposed"),
    (lesson05.clip_by_norm, clip_flat, None),
    (lesson05.clip_by_norm, clip_with_epsilon, None),
    (lesson05.clip_by_norm, clip_elementwise, "per element"),
    (lesson05.clip_by_norm, clip_each, "by its own norm"),
    (lesson05.clip_by_norm, clip_always, "always rescale"),
    (lesson05.clip_by_norm, clip_in_place, "changed grads in place"),
    (lesson05.clip_by_norm, clip_flattened, "should have shape"),
])
def test_lesson05_independent_answers(exercise, fn, fragment):
    _verdict(exercise, fn, fragment)


def test_sigmoid_check_names_the_overflow_without_leaking_the_warning():
    # pytest turns warnings into errors: the check must raise its own one-line failure
    with pytest.raises(Incorrect, match="overflows"):
        lesson05.sigmoid_derivative.check(sigmoid_derivative_naive)
    with np.errstate(all="ignore"):
        assert np.all(sigmoid_derivative_naive(np.array([-1000.0, 1000.0])) >= 0)


# --- lesson 6 -------------------------------------------------------------------------

def momentum_loop(theta, grad, velocity, lr, mu):
    new_v = np.array([mu * b + g for b, g in zip(velocity, grad)])
    return np.array([t - lr * b for t, b in zip(theta, new_v)]), new_v


def momentum_ema(theta, grad, velocity, lr, mu):
    velocity = mu * velocity + (1 - mu) * grad
    return theta - lr * velocity, velocity


def momentum_stale(theta, grad, velocity, lr, mu):
    return theta - lr * (mu * velocity + grad), velocity


def momentum_uphill(theta, grad, velocity, lr, mu):
    velocity = mu * velocity + grad
    return theta + lr * velocity, velocity


def momentum_old_velocity(theta, grad, velocity, lr, mu):
    theta = theta - lr * velocity
    return theta, mu * velocity + grad


def momentum_theta_only(theta, grad, velocity, lr, mu):
    return theta - lr * (mu * velocity + grad)


def rmsprop_good(theta, grad, s, lr, rho, eps):
    s = s * rho + grad * grad * (1 - rho)
    return theta - lr * grad / (s ** 0.5 + eps), s


def rmsprop_variant(kind):
    def step(theta, grad, s, lr, rho, eps):
        new_s = s * rho + grad * grad * (1 - rho)
        if kind == "inside":
            return theta - lr * grad / (new_s + eps) ** 0.5, new_s
        if kind == "no_root":
            return theta - lr * grad / (new_s + eps), new_s
        if kind == "stale":
            return theta - lr * grad / (new_s ** 0.5 + eps), s
        if kind == "swapped":
            new_s = s * (1 - rho) + grad * grad * rho
            return theta - lr * grad / (new_s ** 0.5 + eps), new_s
        raise ValueError(kind)
    return step


def adam_good(theta, grad, m, v, t, lr, beta1, beta2, eps):
    t += 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.square(grad)
    step = lr * m / (1 - beta1 ** t) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return theta - step, m, v, t


def adam_variant(kind):
    def step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m2 = beta1 * m + (1 - beta1) * grad
        v2 = beta2 * v + (1 - beta2) * np.square(grad)
        k = t if kind == "t" else t + 1
        m_hat, v_hat = m2 / (1 - beta1 ** k), v2 / (1 - beta2 ** k)
        if kind == "no_correction":
            m_hat, v_hat = m2, v2
        if kind == "inside":
            return theta - lr * m_hat / np.sqrt(v_hat + eps), m2, v2, t + 1
        new_theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        if kind == "uphill":
            new_theta = theta + lr * m_hat / (np.sqrt(v_hat) + eps)
        if kind == "counter":
            return new_theta, m2, v2, t
        if kind == "not_carried":
            return new_theta, m, v, t + 1
        return new_theta, m2, v2, t + 1
    return step


def adam_python_zero_division(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    alpha_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)     # t instead of t + 1
    return theta - alpha_t * m / (np.sqrt(v) + eps), m, v, t + 1


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson06.momentum_step, momentum_loop, None),
    (lesson06.momentum_step, momentum_ema, "that is the EMA form b ← μb + (1−μ)g; this course "
                                           "follows torch.optim: b ← μb + g"),
    (lesson06.momentum_step, momentum_stale, "velocity is not carried"),
    (lesson06.momentum_step, momentum_uphill, "sign is flipped"),
    (lesson06.momentum_step, momentum_old_velocity, "updated with the old velocity"),
    (lesson06.momentum_step, momentum_theta_only, "should return 2 values"),
    (lesson06.rmsprop_step, rmsprop_good, None),
    (lesson06.rmsprop_step, rmsprop_variant("inside"), "ε inside the square root"),
    (lesson06.rmsprop_step, rmsprop_variant("no_root"), "square root is missing"),
    (lesson06.rmsprop_step, rmsprop_variant("stale"), "s is not carried"),
    (lesson06.rmsprop_step, rmsprop_variant("swapped"), "ρ and 1 − ρ are swapped"),
    (lesson06.adam_step, adam_good, None),
    (lesson06.adam_step, adam_variant("no_correction"), "no bias correction"),
    (lesson06.adam_step, adam_variant("inside"), "ε inside the square root"),
    (lesson06.adam_step, adam_variant("counter"), "step counter is not incremented"),
    (lesson06.adam_step, adam_variant("not_carried"), "state is not carried"),
    (lesson06.adam_step, adam_variant("t"), "bias-correct with t + 1"),
    (lesson06.adam_step, adam_variant("uphill"), "sign is flipped"),
])
def test_lesson06_independent_answers(exercise, fn, fragment):
    _verdict(exercise, fn, fragment)


def test_adam_zero_division_at_t0_is_explained():
    result = lesson06.adam_step.evaluate(adam_python_zero_division)
    assert result.status == "error" and "ZeroDivisionError" in result.message
    assert "t + 1" in result.message and "t=0" in result.message


def test_state_bug_on_a_later_call_names_the_call():
    def breaks_on_second_call(theta, grad, m, v, t, lr, beta1, beta2, eps):
        if t > 0 and t == int(t):
            raise KeyError("no such state")
        return adam_good(theta, grad, m, v, t, lr, beta1, beta2, eps)

    result = lesson06.adam_step.evaluate(breaks_on_second_call)
    assert result.status == "incorrect" and "KeyError" in result.message
    assert "call 2 of 4" in result.message


def test_check_raises_one_line():
    with pytest.raises(CheckFailed) as info:
        lesson06.adam_step.check(adam_variant("no_correction"))
    assert "\n" not in info.value.line() and "no bias correction" in info.value.line()


# --- the grader's path: data on the wire, and real child processes -------------------

@pytest.mark.parametrize("exercise, right, wrong, fragment", [
    (lesson04.minibatch_indices, indices_shuffle_loop, indices_drop_last, "partial batch"),
    (lesson04.minibatch_epoch, epoch_loops, epoch_sum, "sum instead of mean"),
    (lesson04.updates_per_epoch, lambda m, bs: -(-m // bs), lambda m, bs: m // bs, "partial"),
    (lesson05.sigmoid_derivative, sigmoid_derivative_tanh, sigmoid_derivative_naive, "overflows"),
    (lesson05.xavier_init, xavier_standard_normal,
     scaled_normal(lambda fi, fo: math.sqrt(2 / fi)), "a wrong fan"),
    (lesson05.he_init, scaled_normal(lambda fi, fo: math.sqrt(2 / fi)),
     scaled_normal(lambda fi, fo: math.sqrt(2 / (fi + fo))), "Xavier's formula"),
    (lesson05.clip_by_norm, clip_flat, clip_elementwise, "per element"),
    (lesson06.momentum_step, momentum_loop, momentum_ema, "EMA form"),
    (lesson06.rmsprop_step, rmsprop_good, rmsprop_variant("inside"), "ε inside"),
    (lesson06.adam_step, adam_good, adam_variant("counter"), "not incremented"),
])
def test_round_trip_through_the_wire(exercise, right, wrong, fragment):
    """What the grader does: hidden cases and outcomes travel as JSON + arrays."""
    cases = exercise.grading_cases(4242)
    expected = [exercise.expected(c) for c in cases]
    arrays: dict = {}
    sent = [tuple(_core.decode(_core.encode(c, arrays), arrays)) for c in cases]
    for fn, fragment_or_none in ((right, None), (wrong, fragment)):
        out_arrays: dict = {}
        trees = [_core.encode_outcome(o, out_arrays) for o in exercise.collect(fn, sent)]
        outcomes = [_core.decode_outcome(t, out_arrays) for t in trees]
        result = exercise.judge(sent, outcomes, expected)
        if fragment_or_none is None:
            assert result.passed, result
        else:
            assert result.status == "incorrect" and fragment_or_none in result.message, result


_GOOD_SOURCES = {
    "lesson04.minibatch_indices": (
        "def minibatch_indices(m, batch_size, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    idx = np.arange(m)\n"
        "    rng.shuffle(idx)\n"
        "    return [idx[i:i + batch_size] for i in range(0, m, batch_size)]\n"),
    "lesson05.clip_by_norm": (
        "def clip_by_norm(grads, max_norm):\n"
        "    total = np.sqrt(sum((g ** 2).sum() for g in grads))\n"
        "    if total <= max_norm:\n"
        "        return [g.copy() for g in grads]\n"
        "    return [g * max_norm / total for g in grads]\n"),
    "lesson06.adam_step": (
        "def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):\n"
        "    t = t + 1\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    m_hat = m / (1 - beta1 ** t)\n"
        "    v_hat = v / (1 - beta2 ** t)\n"
        "    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t\n"),
}
_BAD_SOURCES = {
    "lesson04.minibatch_indices": (
        "def minibatch_indices(m, batch_size, seed):\n"
        "    order = np.random.default_rng(seed).permutation(m)\n"
        "    k = m // batch_size\n"
        "    return [order[i * batch_size:(i + 1) * batch_size] for i in range(k)]\n"),
    "lesson05.clip_by_norm": (
        "def clip_by_norm(grads, max_norm):\n"
        "    return [np.clip(g, -max_norm, max_norm) for g in grads]\n"),
    "lesson06.adam_step": (
        "def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    return theta - lr * m / (np.sqrt(v) + eps), m, v, t + 1\n"),
}


def test_grader_runs_lessons_4_to_6_in_child_processes(tmp_path):
    folder = tmp_path / "submissions"
    for student, sources in (("good", _GOOD_SOURCES), ("bad", _BAD_SOURCES)):
        cells = [new_code_cell("import numpy as np")]
        cells += [subs.answer_cell(ex_id, src) for ex_id, src in sources.items()]
        subs.write(new_notebook(cells=cells), folder / f"{student}.ipynb")
    stub = ("def updates_per_epoch(m, batch_size):\n    # your code here\n"
            "    raise NotImplementedError\n")
    subs.write(new_notebook(cells=[subs.answer_cell("lesson04.updates_per_epoch", stub)]),
               folder / "stub.ipynb")
    rows = grading.grade(folder, seed=99, timeout=20, jobs=2)
    by = {(r.student, r.exercise): r for r in rows}
    assert {r.exercise for r in rows} == {e.id for e in ALL}
    for ex_id in _GOOD_SOURCES:
        assert by[("good", ex_id)].status == "correct", by[("good", ex_id)]
        assert by[("bad", ex_id)].status == "incorrect", by[("bad", ex_id)]
    assert "partial batch is dropped" in by[("bad", "lesson04.minibatch_indices")].message
    assert "per element" in by[("bad", "lesson05.clip_by_norm")].message
    assert "no bias correction" in by[("bad", "lesson06.adam_step")].message
    assert by[("stub", "lesson04.updates_per_epoch")].status == "not_attempted"
    assert by[("good", "lesson05.he_init")].status == "missing"
