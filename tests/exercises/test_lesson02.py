"""Lesson 2's checkers (gdcourse.exercises.lesson02) accept right answers and name each
classic mistake.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy spellings).
"""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse.exercises import lesson01, lesson02

from .kit import X5, Y5, assert_verdict, gradient_loop, verdict


# --- independent facts (COURSE.md) ---------------------------------------------

def test_fact_the_gradient_is_the_central_difference_of_the_cost():
    h = 1e-6
    f = lambda t: lesson01._compute_cost(t, X5, Y5)  # noqa: E731
    numeric = [(f(np.eye(2)[i] * h + 1) - f(1 - np.eye(2)[i] * h)) / (2 * h) for i in range(2)]
    np.testing.assert_allclose(lesson02._gradient(np.ones(2), X5, Y5), numeric, rtol=1e-6)


# --- right and wrong answers -----------------------------------------------------


def numgrad_good(f, theta, h=1e-5):
    grad = np.empty(theta.shape)
    flat = theta.reshape(-1)
    for k in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[k] += h
        minus[k] -= h
        grad.reshape(-1)[k] = (f(plus.reshape(theta.shape)) - f(minus.reshape(theta.shape))) / (2 * h)
    return grad


def numgrad_in_place(f, theta, h=1e-5):
    grad = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        theta[idx] += h
        up = f(theta)
        theta[idx] -= 2 * h
        down = f(theta)
        theta[idx] += h                                    # "restored"... up to round-off
        grad[idx] = (up - down) / (2 * h)
    theta += 1.0                                            # and a real change, to be sure
    return grad


def numgrad_forward(f, theta, h=1e-5):
    grad = np.zeros_like(theta)
    base = f(theta)
    for idx in np.ndindex(theta.shape):
        t = theta.copy()
        t[idx] += h
        grad[idx] = (f(t) - base) / h
    return grad


def numgrad_over_h(f, theta, h=1e-5):
    return numgrad_good(f, theta, h) * 2


def numgrad_flat_only(f, theta, h=1e-5):
    grad = np.zeros(len(theta))
    for i in range(len(theta)):
        e = np.zeros(len(theta))
        e[i] = h
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return grad


def check_good(f, grad_fn, theta, h=1e-5):
    a, n = grad_fn(theta), numgrad_good(f, theta, h)
    return np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)


def check_absolute(f, grad_fn, theta, h=1e-5):
    return float(np.sqrt(np.sum((grad_fn(theta) - numgrad_good(f, theta, h)) ** 2)))


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson02.gradient, gradient_loop, None),
    (lesson02.gradient, lambda t, X, y: X.T @ (y - X @ t) / len(y), "sign is flipped"),
    (lesson02.gradient, lambda t, X, y: X.T @ (X @ t - y), "1/m is missing"),
    (lesson02.gradient, lambda t, X, y: X.T @ (X @ t - y[:, None]) / len(y), "(m, 1)"),
    (lesson02.numerical_gradient, numgrad_good, None),
    (lesson02.numerical_gradient, numgrad_in_place, "changed theta in place"),
    (lesson02.numerical_gradient, numgrad_forward, "forward difference"),
    (lesson02.numerical_gradient, numgrad_over_h, "instead of 2h"),
    (lesson02.gradient_check, check_good, None),
    (lesson02.gradient_check, check_absolute, "absolute error"),
])
def test_lesson02_independent_answers(exercise, fn, fragment):
    verdict(exercise, fn, fragment)


def test_numerical_gradient_of_matrix_theta_needs_every_index():
    result = lesson02.numerical_gradient.evaluate(numgrad_flat_only)
    assert not result.passed
    assert "(2, 3)" in result.message


# --- feedback gaps of section 3 of the lesson review ------------------------------


def check_max_denominator(f, grad_fn, theta, h=1e-5):
    theta = np.asarray(theta, dtype=float)
    g_a = np.asarray(grad_fn(theta), dtype=float)
    g_n = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    return float(np.linalg.norm(g_a - g_n) / max(np.linalg.norm(g_a), np.linalg.norm(g_n)))


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson02.gradient_check, check_max_denominator, "max(‖g_a‖, ‖g_n‖)"),
])
def test_section_3_feedback_gaps_are_named(exercise, fn, fragment):
    for seed in range(6):
        assert_verdict(exercise.evaluate(fn, np.random.default_rng([seed, 5])), fragment)
