"""The gradient-descent loop: the running example's facts, stopping rules and divergence."""

import warnings

import numpy as np
import pytest

from gdcourse import data, descent, losses, surfaces


@pytest.fixture
def d():
    return data.five_points()


def no_warnings(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


def test_thousand_steps_at_001_stop_short_of_least_squares(d):
    h = descent.linear_regression_gd(d.X, d.y, 0.01, num_iters=1000)
    np.testing.assert_allclose(h.theta, [1.852128, 0.696355], atol=5e-7)
    assert h.cost == pytest.approx(0.251013, abs=5e-7)
    assert h.n_iter == 1000 and h.stop_reason == "num_iters" and not h.diverged
    assert not np.allclose(h.theta, [2.2, 0.6], atol=0.1)
    assert h.thetas.shape == (1001, 2) and h.costs.shape == h.grad_norms.shape == (1001,)
    assert h.costs[0] == pytest.approx(8.6)
    assert np.all(np.diff(h.costs) <= 0)  # stable step: the cost never rises


def test_the_generic_loop_agrees_with_the_fast_one(d):
    slow = descent.gradient_descent(lambda t: losses.mse_cost(t, d.X, d.y),
                                    lambda t: losses.mse_gradient(t, d.X, d.y), np.zeros(2), 0.01,
                                    num_iters=200)
    fast = descent.linear_regression_gd(d.X, d.y, 0.01, num_iters=200)
    np.testing.assert_allclose(slow.thetas, fast.thetas, rtol=0, atol=1e-14)
    np.testing.assert_allclose(slow.costs, fast.costs, rtol=1e-14)


def test_the_loop_matches_a_hand_written_update(d):
    theta = np.zeros(2)
    for _ in range(25):
        theta = theta - 0.05 * d.X.T @ (d.X @ theta - d.y) / 5
    h = descent.linear_regression_gd(d.X, d.y, 0.05, num_iters=25)
    np.testing.assert_allclose(h.theta, theta, rtol=1e-13)


def test_stability_limit_is_two_over_largest_eigenvalue(d):
    lam = np.linalg.eigvalsh(d.X.T @ d.X / 5)
    limit = 2 / lam[-1]
    assert limit == pytest.approx(0.169, abs=5e-4)
    below = no_warnings(descent.linear_regression_gd, d.X, d.y, 0.98 * limit, num_iters=3000)
    assert not below.diverged and below.cost == pytest.approx(0.24, abs=1e-6)


@pytest.mark.parametrize("lr", [0.17, 0.2, 0.5, 1.0, 10.0, 1e6])
def test_divergence_above_the_limit_is_reported_without_warnings(d, lr):
    h = no_warnings(descent.linear_regression_gd, d.X, d.y, lr, num_iters=1000)
    assert h.diverged and h.stop_reason == "diverged"
    assert "Diverged" in h.message and f"lr={lr:g}" in h.message and "2/λ_max" in h.message
    assert np.all(np.isfinite(h.theta))
    assert h.n_iter < 1000 or h.costs[-1] > h.costs[0]


def test_slow_divergence_just_above_the_limit_is_still_caught(d):
    h = no_warnings(descent.linear_regression_gd, d.X, d.y, 0.1695, num_iters=1000)
    assert h.diverged and "grew from 8.6" in h.message


def test_overflow_to_inf_is_a_divergence_not_a_warning():
    f = lambda t: float(np.exp(t[0]))
    g = lambda t: np.exp(t)
    h = no_warnings(descent.gradient_descent, f, g, np.array([-0.1]), 1.0, num_iters=50,
                    divergence_factor=1e300)
    # steps go left: exp shrinks; starting on the other side of a maximum is what blows up
    assert not h.diverged
    h = no_warnings(descent.gradient_descent, lambda t: float(-np.exp(t[0])),
                    lambda t: -np.exp(t), np.array([1.0]), 1.0, num_iters=50, divergence_factor=1e300)
    assert h.diverged and "inf or NaN" in h.message


def test_tol_stops_when_the_cost_settles(d):
    h = descent.linear_regression_gd(d.X, d.y, 0.1, num_iters=100_000, tol=1e-12)
    assert h.stop_reason == "tol" and h.converged and h.n_iter < 100_000
    assert abs(h.costs[-2] - h.costs[-1]) < 1e-12
    assert np.all(np.abs(np.diff(h.costs[:-1])) >= 1e-12)
    assert "tol=1e-12" in h.message


def test_grad_tol_stops_on_a_small_gradient(d):
    h = descent.linear_regression_gd(d.X, d.y, 0.1, num_iters=100_000, grad_tol=1e-8)
    assert h.stop_reason == "grad_tol" and h.grad_norms[-1] < 1e-8 <= h.grad_norms[-2]
    np.testing.assert_allclose(h.theta, [2.2, 0.6], atol=1e-7)
    at_min = descent.linear_regression_gd(d.X, d.y, 0.1, theta0=[2.2, 0.6], grad_tol=1e-6)
    assert at_min.n_iter == 0 and at_min.stop_reason == "grad_tol"


def test_zero_and_one_iteration(d):
    assert descent.linear_regression_gd(d.X, d.y, 0.1, num_iters=0).n_iter == 0
    one = descent.linear_regression_gd(d.X, d.y, 0.1, num_iters=1)
    np.testing.assert_allclose(one.theta, 0.1 * np.array([4.0, 13.2]))


def test_course_public_figures_for_gd():
    x2 = lambda t: float(t @ t)
    h = descent.gradient_descent(x2, lambda t: 2 * t, np.array([10.0]), 0.2, num_iters=10)
    np.testing.assert_allclose(h.thetas[:, 0], 10 * 0.6 ** np.arange(11))
    assert h.theta[0] == pytest.approx(0.060466, abs=1e-6)
    h = no_warnings(descent.gradient_descent, x2, lambda t: 2 * t, np.array([10.0]), 1.1, num_iters=10)
    assert h.thetas[-1, 0] == pytest.approx(61.917364, abs=1e-6) and h.diverged
    bowl = surfaces.get_surface("bowl")  # x1² + 2 x2²
    h = descent.gradient_descent(bowl.value, bowl.grad, np.array([-5.0, -2.0]), 0.1, num_iters=20)
    np.testing.assert_allclose(h.theta, [-0.057646, -0.000073], atol=1e-6)
    s = surfaces.ill_conditioned()
    h = descent.gradient_descent(s.value, s.grad, np.array([-5.0, -2.0]), 0.4, num_iters=20)
    np.testing.assert_allclose(h.theta, [-0.943467, -0.000073], atol=1e-6)
    h = no_warnings(descent.gradient_descent, s.value, s.grad, np.array([-5.0, -2.0]), 0.6, num_iters=20)
    assert h.diverged and abs(h.thetas[-1, 1]) > 2 and abs(h.thetas[-1, 0]) < 5


def test_cross_entropy_descent_learns_a_separable_problem():
    dd = data.make_classification(400, 2, separation=5.0, random_state=2)
    h = descent.linear_regression_gd(dd.X, dd.y, 0.5, num_iters=500, loss="cross_entropy")
    assert h.costs[-1] < 0.5 * h.costs[0]
    assert np.mean((dd.X @ h.theta > 0) == (dd.y == 1)) > 0.85


def test_history_repr_and_theta0_is_not_modified(d):
    theta0 = np.array([1.0, 1.0])
    h = descent.gradient_descent(lambda t: losses.mse_cost(t, d.X, d.y),
                                 lambda t: losses.mse_gradient(t, d.X, d.y), theta0, 0.01, num_iters=5)
    np.testing.assert_array_equal(theta0, [1.0, 1.0])
    assert "n_iter=5" in repr(h) and h.lr == 0.01


# --- the panels' fast paths, held to the loop they stand for -----------------------------------

@pytest.mark.parametrize("lr, n, start", [(0.01, 1000, (0.0, 0.0)), (0.05, 300, (4.0, -0.3)),
                                          (0.15, 50, (-1.0, 1.5)), (0.3, 2000, (0.0, 0.0)),
                                          (0.2, 1000, (0.0, 0.0)), (0.11, 1, (2.0, 2.0))])
def test_closed_form_quadratic_gd_is_the_loop(lr, n, start):
    d = data.five_points()
    s = surfaces.mse_surface(d.X, d.y)
    thetas, costs, diverged = descent._quadratic_gd(s.hessian(s.minimiser), s.minimiser, s.minimum,
                                                    np.array(start), lr, n)
    h = descent.linear_regression_gd(d.X, d.y, lr, theta0=np.array(start), num_iters=n)
    assert len(costs) == len(h.costs) and diverged == h.diverged
    np.testing.assert_allclose(thetas, h.thetas, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(costs, h.costs, rtol=1e-7, atol=1e-10)


def test_closed_form_quadratic_gd_stops_where_the_loop_diverges():
    d = data.five_points()
    s = surfaces.mse_surface(d.X, d.y)
    thetas, costs, diverged = descent._quadratic_gd(s.hessian(s.minimiser), s.minimiser, s.minimum,
                                                    np.zeros(2), 0.2, 1000)
    h = descent.linear_regression_gd(d.X, d.y, 0.2, num_iters=1000)
    assert diverged and h.diverged and len(costs) == len(h.costs) < 1001


@pytest.mark.parametrize("lr, n, start", [(0.05, 120, (1.2, -0.8)), (0.05, 200, (-1.5, 1.0)),
                                          (0.6, 200, (1.5, 0.8))])
def test_surface_gd_loop_is_the_library_descent(lr, n, start):
    s = surfaces.non_convex()
    thetas, costs, diverged = descent._gd_loop(s._grad, s._value, np.array(start), lr, n)
    h = descent.gradient_descent(s.value, s.grad, np.array(start), lr, num_iters=n)
    assert diverged == h.diverged and len(thetas) == len(h.thetas)
    finite = np.isfinite(h.costs)
    np.testing.assert_allclose(thetas[finite], h.thetas[finite], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(costs[finite], h.costs[finite], rtol=1e-12, atol=1e-14)
