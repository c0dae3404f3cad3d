"""Tests for gdcourse.schedules: values by hand, composition, validation, use inside optimisers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse.optim import adam, run, sgd
from gdcourse.schedules import (SCHEDULES, Schedule, as_schedule, constant, cosine, exponential,
                                linear_warmup, step_decay)


def test_constant():
    s = constant(0.3)
    assert [s(t) for t in (0, 1, 10**6)] == [0.3, 0.3, 0.3]


def test_step_decay_by_hand():
    s = step_decay(0.8, step_size=3, gamma=0.5)
    assert s.values(8).tolist() == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2]


def test_exponential_by_hand():
    s = exponential(2.0, gamma=0.5)
    np.testing.assert_allclose(s.values(4), [2.0, 1.0, 0.5, 0.25], rtol=1e-15)


def test_cosine_by_hand():
    s = cosine(1.0, num_steps=4, min_lr=0.2)
    # 0.2 + 0.4·(1 + cos(πt/4)) for t = 0..4, then held at 0.2
    expected = [1.0, 0.2 + 0.4 * (1 + math.sqrt(0.5)), 0.6, 0.2 + 0.4 * (1 - math.sqrt(0.5)), 0.2, 0.2]
    np.testing.assert_allclose(s.values(6), expected, rtol=0, atol=1e-15)
    assert np.all(np.diff(s.values(5)) < 0)


def test_linear_warmup_to_a_constant():
    s = linear_warmup(0.1, warmup_steps=5, start_factor=0.2)
    # 0.1·(0.2 + 0.8·t/5) for t < 5, then 0.1
    np.testing.assert_allclose(s.values(8), [0.02, 0.036, 0.052, 0.068, 0.084, 0.1, 0.1, 0.1],
                               rtol=0, atol=1e-15)


def test_linear_warmup_composes_with_another_schedule():
    after = step_decay(1.0, step_size=2, gamma=0.1)
    s = linear_warmup(after, warmup_steps=2, start_factor=0.5)
    # warm-up 0.5, 0.75; then step_decay from its own t = 0: 1, 1, 0.1, 0.1, 0.01
    np.testing.assert_allclose(s.values(7), [0.5, 0.75, 1.0, 1.0, 0.1, 0.1, 0.01], rtol=1e-14)
    # continuous at the end of the warm-up: the last warm-up value is below the peak, the next is the peak
    w = linear_warmup(cosine(0.4, 100), warmup_steps=10)
    assert w(9) < w(10) == 0.4


def test_schedules_are_used_with_a_zero_based_count_by_the_optimisers():
    # constant gradient 1 with plain SGD: θ_k − θ_{k−1} = −lr(k − 1)
    for sched in (step_decay(0.5, 2, 0.5), cosine(0.5, 6), linear_warmup(0.5, 3)):
        traj = run(sgd(lr=sched), lambda th: np.ones_like(th), [0.0], 8)
        np.testing.assert_allclose(-np.diff(traj.thetas[:, 0]), [sched(t) for t in range(8)],
                                   rtol=1e-12, atol=1e-15)


def test_adam_with_a_schedule_takes_steps_of_the_scheduled_size():
    # with a constant gradient Adam's normalised step m̂/(√v̂+ε) ≈ 1, so the step ≈ lr(t)
    sched = exponential(0.1, 0.5)
    traj = run(adam(lr=sched), lambda th: np.ones_like(th), [0.0], 5)
    np.testing.assert_allclose(-np.diff(traj.thetas[:, 0]), [0.1, 0.05, 0.025, 0.0125, 0.00625], rtol=1e-6)


def test_registry_and_repr():
    assert set(SCHEDULES) == {"constant", "step", "exponential", "cosine", "linear_warmup"}
    assert repr(step_decay(0.1, 5)) == "step_decay(lr=0.1, step_size=5, gamma=0.1)"
    assert isinstance(as_schedule(0.1), constant)
    s = cosine(0.1, 10)
    assert as_schedule(s) is s and isinstance(s, Schedule)


@pytest.mark.parametrize("make, match", [
    (lambda: constant(0.0), "lr must be > 0"),
    (lambda: constant(-1), "lr must be > 0"),
    (lambda: step_decay(0.1, 0), "step_size must be >= 1"),
    (lambda: step_decay(0.1, 2.0), "step_size must be an integer"),
    (lambda: step_decay(0.1, 2, gamma=0.0), r"gamma must be in \(0, 1\]"),
    (lambda: exponential(0.1, gamma=1.5), r"gamma must be in \(0, 1\]"),
    (lambda: cosine(0.1, 0), "num_steps must be >= 1"),
    (lambda: cosine(0.1, 10, min_lr=-0.1), "min_lr must be >= 0"),
    (lambda: cosine(0.1, 10, min_lr=0.5), "min_lr must be <= lr"),
    (lambda: linear_warmup(0.1, 0), "warmup_steps must be >= 1"),
    (lambda: linear_warmup(0.1, 5, start_factor=0.0), r"start_factor must be in \(0, 1\]"),
    (lambda: linear_warmup(-0.1, 5), "after must be > 0"),
    (lambda: linear_warmup(lambda t: 0.0, 5), r"after\(0\) must be > 0"),
])
def test_bad_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_user_function_that_fails_is_reported_with_its_name():
    def bad(t):
        raise ZeroDivisionError("oops")
    with pytest.raises(TypeError, match=r"lr\(0\) raised ZeroDivisionError"):
        sgd(lr=bad)
