"""Tests for gdcourse.curvature: feature scaling, Newton's step and the saddle surface."""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse import curvature, data, descent, gradcheck, surfaces


def test_standardise_gives_an_identity_hessian_and_keeps_the_bias():
    d = data.make_regression(300, n_features=3, random_state=0)
    X = d.X.copy()
    X[:, 2] = 40 * X[:, 2] + 7
    Xs, mean, std = curvature.standardise(X)
    assert np.all(Xs[:, 0] == 1) and mean[0] == 0 and std[0] == 1
    np.testing.assert_allclose(Xs[:, 1:].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xs[:, 1:].std(axis=0), 1)
    np.testing.assert_allclose((X - mean) / std, Xs)
    assert curvature.condition_number(X) > 100 * curvature.condition_number(Xs)


def test_five_points_condition_numbers():
    d = data.five_points()
    Xs, _, _ = curvature.standardise(d.X)
    assert np.isclose(curvature.condition_number(d.X), 69.9857, atol=1e-4)
    assert np.isclose(curvature.condition_number(Xs), 1.0)
    # κ = 1 and α = 1/L: gradient descent lands on the minimum in one step
    one = descent.linear_regression_gd(Xs, d.y, lr=1.0, num_iters=1)
    np.testing.assert_allclose(one.theta, np.linalg.lstsq(Xs, d.y, rcond=None)[0])


def test_standardise_refuses_a_constant_feature_and_a_missing_bias():
    X = np.column_stack([np.ones(4), [1.0, 2.0, 3.0, 4.0], np.full(4, 2.0)])
    with pytest.raises(ValueError, match=r"column\(s\) \[2\] are constant"):
        curvature.standardise(X)
    with pytest.raises(ValueError, match="bias column of ones"):
        curvature.standardise(X[:, 1:])
    Xs, _, _ = curvature.standardise(X[:, 1:2] * 3, bias_column=False)
    np.testing.assert_allclose(Xs.std(axis=0), 1)


def test_condition_number_of_a_singular_hessian_is_inf():
    X = np.column_stack([np.ones(3), [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    assert curvature.condition_number(X) == np.inf


def test_newton_lands_on_the_minimiser_of_a_quadratic_from_anywhere():
    H = np.array([[3.0, 1.0], [1.0, 0.5]])
    q = surfaces.quadratic(H, center=(1.0, -2.0))
    for start in ([0.0, 0.0], [10.0, 7.0], [-3.0, 1e3]):
        np.testing.assert_allclose(curvature.newton_step(q.grad, q.hessian, start), [1.0, -2.0], atol=1e-10)


def test_newton_refuses_a_singular_hessian_and_bad_shapes():
    with pytest.raises(ValueError, match="singular"):
        curvature.newton_step(lambda t: t, lambda t: np.zeros((2, 2)), [1.0, 2.0])
    with pytest.raises(ValueError, match="must have shape"):
        curvature.newton_step(lambda t: t, lambda t: np.eye(3), [1.0, 2.0])


def test_saddle_gradient_hessian_and_critical_points():
    s = curvature.saddle()
    for p in ([0.3, -0.7], [1.1, 1.4], [-0.2, 0.05]):
        p = np.array(p)
        assert gradcheck.gradient_check(s.value, s.grad, p) < 1e-7
        num_h = np.column_stack([(s.grad(p + e) - s.grad(p - e)) / 2e-6 for e in np.eye(2) * 1e-6])
        np.testing.assert_allclose(s.hessian(p), num_h, rtol=1e-5, atol=1e-6)
    for m in s.minimisers:
        assert np.allclose(s.grad(m), 0) and np.all(np.linalg.eigvalsh(s.hessian(m)) > 0)
    eig = np.linalg.eigvalsh(s.hessian(s.saddles[0]))
    assert np.allclose(s.grad(s.saddles[0]), 0) and eig[0] < 0 < eig[1]


def test_gradient_descent_waits_longer_the_closer_it_starts_to_the_ridge():
    s = curvature.saddle()
    waits = []
    for t2 in (1e-2, 1e-4, 1e-6):
        h = descent.gradient_descent(s.value, s.grad, np.array([1.8, t2]), lr=0.02, num_iters=400)
        np.testing.assert_allclose(h.theta, [0, 1], atol=1e-3)
        waits.append(int(np.sum(np.abs(h.costs - 1) < 0.05)))
    assert waits[0] < waits[1] < waits[2]
