"""Lesson 5's checkers (gdcourse.exercises.lesson05) accept right answers and name each
classic mistake; the backward pass agrees with gdcourse.deepnet.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy calls);
expected facts come from closed forms, finite differences and COURSE.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse import deepnet
from gdcourse.exercises import Incorrect, lesson05

from .kit import assert_verdict, round_trip, verdict as _verdict


# --- independent facts ---------------------------------------------------------------


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


# --- right and wrong answers --------------------------------------------------------


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


# --- backward_pass ------------------------------------------------------------------


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
        assert_verdict(result, fragment)


# --- feedback gaps of section 3 of the lesson review ------------------------------


def clip_like_deepnet(grads, max_norm):
    total = float(np.sqrt(sum((g * g).sum() for g in grads)))
    scale = min(1.0, max_norm / total)
    return [g * scale for g in grads], total


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson05.clip_by_norm, clip_like_deepnet, "return only the list"),
])
def test_section_3_feedback_gaps_are_named(exercise, fn, fragment):
    for seed in range(6):
        assert_verdict(exercise.evaluate(fn, np.random.default_rng([seed, 5])), fragment)


# --- the grader's path: data on the wire ---------------------------------------------


@pytest.mark.parametrize("exercise, right, wrong, fragment", [
    (lesson05.sigmoid_derivative, sigmoid_derivative_tanh, sigmoid_derivative_naive, "overflows"),
    (lesson05.xavier_init, xavier_standard_normal,
     scaled_normal(lambda fi, fo: math.sqrt(2 / fi)), "a wrong fan"),
    (lesson05.he_init, scaled_normal(lambda fi, fo: math.sqrt(2 / fi)),
     scaled_normal(lambda fi, fo: math.sqrt(2 / (fi + fo))), "Xavier's formula"),
    (lesson05.clip_by_norm, clip_flat, clip_elementwise, "per element"),
    (lesson05.backward_pass, backprop_by_hand, backprop_no_fprime, "output layer first"),
    (lesson05.clip_by_norm, lesson05.clip_by_norm.reference, clip_like_deepnet, "only the list"),
])
def test_round_trip_through_the_wire(exercise, right, wrong, fragment):
    round_trip(exercise, right, wrong, fragment)
