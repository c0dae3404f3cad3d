"""Lesson 6's checkers (gdcourse.exercises.lesson06) accept right answers and name each
classic mistake.

Right and wrong answers here are written independently of the package's
reference code, the way learners write them (loops, other numpy calls);
expected facts come from closed forms, finite differences and COURSE.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse.exercises import CheckFailed, lesson06

from .kit import assert_verdict, round_trip, verdict as _verdict


# --- independent facts ---------------------------------------------------------------


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


# --- right and wrong answers --------------------------------------------------------


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


# --- feedback gaps of section 3 of the lesson review ------------------------------


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


@pytest.mark.parametrize("exercise, fn, fragment", [
    (lesson06.adam_step, adam_keras, "ε̂ form"),
    (lesson06.adam_step, adam_off_by_one, "uses t instead of t + 1"),
    (lesson06.rmsprop_step, rmsprop_no_one_minus, "(1 − ρ) is missing"),
])
def test_section_3_feedback_gaps_are_named(exercise, fn, fragment):
    for seed in range(6):
        assert_verdict(exercise.evaluate(fn, np.random.default_rng([seed, 5])), fragment)


# --- the grader's path: data on the wire ---------------------------------------------


@pytest.mark.parametrize("exercise, right, wrong, fragment", [
    (lesson06.momentum_step, momentum_loop, momentum_ema, "EMA form"),
    (lesson06.rmsprop_step, rmsprop_good, rmsprop_variant("inside"), "ε inside"),
    (lesson06.adam_step, adam_good, adam_variant("counter"), "not incremented"),
    (lesson06.adam_step, lesson06.adam_step.reference, adam_keras, "ε̂ form"),
])
def test_round_trip_through_the_wire(exercise, right, wrong, fragment):
    round_trip(exercise, right, wrong, fragment)
