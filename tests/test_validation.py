"""Every bad-input rule gives an error that names the argument, the expectation and what arrived."""

import numpy as np
import pytest

from gdcourse import _validation as v
from gdcourse import data, descent, gradcheck, losses, surfaces


def test_column_y_is_refused_with_the_fix():
    X = np.c_[np.ones(4), np.arange(4.0)]
    y = np.arange(4.0).reshape(-1, 1)
    with pytest.raises(ValueError, match=r"y must be a 1-D array of shape \(m,\), but got shape \(4, 1\).*y.ravel\(\)"):
        losses.mse_cost(np.zeros(2), X, y)
    with pytest.raises(ValueError, match=r"\(m, m\)"):
        losses.mse_gradient(np.zeros(2), X, y)


def test_column_y_would_really_broadcast_to_m_by_m():
    # the reason for the rule: without it numpy silently builds an (m, m) matrix
    X = np.c_[np.ones(4), np.arange(4.0)]
    y = np.arange(4.0).reshape(-1, 1)
    assert (X @ np.zeros(2) - y).shape == (4, 4)


@pytest.mark.parametrize("X, y, message", [
    (np.arange(4.0), np.arange(4.0), r"X must be a 2-D array of shape \(m, n\), but got 1-D shape \(4,\).*reshape\(-1, 1\)"),
    (np.ones((2, 2, 2)), np.arange(2.0), r"X must be a 2-D array, but got 3-D"),
    (np.ones((4, 2)), np.arange(3.0), r"same number of rows.*X has 4 rows.*y has 3"),
    (np.ones((4, 2)), np.array([1.0, np.nan, 2.0, 3.0]), r"y must contain only finite numbers.*NaN or inf.*index \(1,\)"),
    (np.array([[1.0, np.inf]] * 3), np.arange(3.0), r"X must contain only finite numbers"),
    (np.ones((0, 2)), np.ones(0), r"X must not be empty"),
    ("abc", np.arange(3.0), r"X must be an array of numbers, but got the string"),
    (None, np.arange(3.0), r"X must be an array of numbers, but got None"),
])
def test_bad_data_is_refused(X, y, message):
    with pytest.raises((ValueError, TypeError), match=message):
        losses.mse_cost(np.zeros(2), X, y)


def test_theta_of_wrong_length_mentions_the_bias():
    d = data.five_points()
    with pytest.raises(ValueError, match=r"theta must have one entry per column of X, shape \(2,\), but got shape \(3,\).*bias"):
        losses.mse_cost(np.zeros(3), d.X, d.y)
    with pytest.raises(ValueError, match=r"theta must be a 1-D array of shape \(2,\), but got shape \(2, 1\)"):
        losses.mse_gradient(np.zeros((2, 1)), d.X, d.y)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
def test_learning_rate_must_be_positive_and_finite(lr):
    d = data.five_points()
    with pytest.raises(ValueError, match=r"lr must be (> 0|a finite number), but got"):
        descent.linear_regression_gd(d.X, d.y, lr)


def test_learning_rate_of_the_wrong_type():
    d = data.five_points()
    with pytest.raises(TypeError, match=r"lr must be a real number, but got '0.1' \(str\)"):
        descent.linear_regression_gd(d.X, d.y, "0.1")


@pytest.mark.parametrize("num_iters, exc, message", [
    (10.0, TypeError, r"num_iters must be an integer, but got 10.0 \(float\).*int\(10.0\)"),
    (2.5, TypeError, r"num_iters must be an integer, but got 2.5"),
    (-1, ValueError, r"num_iters must be >= 0, but got -1"),
    (True, TypeError, r"num_iters must be an integer, but got the bool True"),
])
def test_iteration_count_must_be_a_whole_number(num_iters, exc, message):
    d = data.five_points()
    with pytest.raises(exc, match=message):
        descent.linear_regression_gd(d.X, d.y, 0.01, num_iters=num_iters)


def test_numpy_integers_are_accepted():
    d = data.five_points()
    h = descent.linear_regression_gd(d.X, d.y, 0.01, num_iters=np.int64(3))
    assert h.n_iter == 3


def test_random_state_kinds():
    assert isinstance(v.as_rng(0), np.random.Generator)
    g = np.random.default_rng(1)
    assert v.as_rng(g) is g
    assert v.as_rng(5).random() == np.random.default_rng(5).random()
    with pytest.raises(TypeError, match=r"random_state must be None, an int or a numpy.random.Generator.*random_state=0"):
        v.as_rng("seed")
    with pytest.raises(ValueError, match=r"random_state must be a non-negative int, but got -3"):
        v.as_rng(-3)
    with pytest.raises(TypeError, match="random_state"):
        v.as_rng(True)


def test_small_checks():
    assert v.check_fraction(0.9, "beta") == 0.9
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), but got 1.0"):
        v.check_fraction(1.0, "beta")
    with pytest.raises(ValueError, match=r"weight_decay must be >= 0, but got -1.0"):
        v.check_nonnegative(-1, "weight_decay")
    with pytest.raises(ValueError, match=r"batch_size must be <= 10 \(the number of samples m\), but got 11"):
        v.check_int(11, "batch_size", maximum=10, max_name="the number of samples m")
    with pytest.raises(ValueError, match=r"grad must have the same shape as theta, \(2,\), but got shape \(3,\)"):
        v.check_same_shape(np.zeros(3), np.zeros(2), "grad", "theta")
    with pytest.raises(ValueError, match=r"activation must be one of 'relu', 'tanh', but got 'soft'"):
        v.check_choice("soft", "activation", ("relu", "tanh"))
    with pytest.raises(TypeError, match=r"loss_fn must be a function, but got 3 \(int\)"):
        v.check_callable(3, "loss_fn")
    with pytest.raises(ValueError, match=r"y must have length 5 \(one per row of X\), but got length 4"):
        v.check_vector(np.zeros(4), "y", length=5, length_name="one per row of X")
    assert "array of shape (2, 3)" in v.describe(np.zeros((2, 3)))
    assert "list of length 2" in v.describe([1, 2])
    assert v.describe("x" * 100).endswith("(str)")


def test_gradcheck_and_surfaces_validate():
    with pytest.raises(TypeError, match="f must be a function"):
        gradcheck.numerical_gradient(None, np.zeros(2))
    with pytest.raises(ValueError, match=r"h must be > 0, but got 0.0"):
        gradcheck.numerical_gradient(lambda t: 0.0, np.zeros(2), h=0)
    with pytest.raises(ValueError, match=r"f must return a single number.*shape \(3,\)"):
        gradcheck.numerical_gradient(lambda t: np.ones(3), np.zeros(2))
    s = surfaces.rosenbrock()
    with pytest.raises(ValueError, match=r"theta must have shape \(2,\) for one point or \(\.\.\., 2\).*got shape \(3,\)"):
        s.grad(np.zeros(3))
    with pytest.raises(ValueError, match=r"theta must contain only finite numbers"):
        s.value(np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match=r"H must be positive definite"):
        surfaces.quadratic([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match=r"H must be symmetric"):
        surfaces.quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"H must be a 2x2 matrix"):
        surfaces.quadratic(np.eye(3)[:, :2])
    with pytest.raises(ValueError, match=r"surface must be one of"):
        surfaces.get_surface("saddle")
    with pytest.raises(ValueError, match=r"tilt must be small enough"):
        surfaces.non_convex(tilt=5.0)
    with pytest.raises(ValueError, match=r"X must have exactly 2 columns"):
        surfaces.mse_surface(np.ones((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"collinear"):
        surfaces.mse_surface(np.ones((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"one point of shape \(2,\)"):
        s.hessian(np.zeros((3, 2)))


def test_descent_validates_its_functions():
    with pytest.raises(TypeError, match="grad_fn must be a function"):
        descent.gradient_descent(lambda t: 0.0, "grad", np.zeros(2), 0.1)
    with pytest.raises(ValueError, match=r"grad_fn must return an array shaped like theta0, \(2,\), but it returned shape \(2, 1\)"):
        descent.gradient_descent(lambda t: 0.0, lambda t: t.reshape(-1, 1), np.zeros(2), 0.1)
    with pytest.raises(ValueError, match=r"loss_fn must return a single number.*\(m, m\)"):
        descent.gradient_descent(lambda t: np.ones((3, 3)), lambda t: t, np.zeros(2), 0.1)
    with pytest.raises(ValueError, match=r"theta0 must be a 1-D array"):
        descent.gradient_descent(lambda t: 0.0, lambda t: t, np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match=r"tol must be >= 0"):
        descent.gradient_descent(lambda t: 0.0, lambda t: t, np.zeros(2), 0.1, tol=-1)
    with pytest.raises(ValueError, match=r"theta0 gives a non-finite cost"):
        descent.gradient_descent(lambda t: float("inf"), lambda t: t, np.zeros(2), 0.1)


def test_data_generators_validate():
    with pytest.raises(ValueError, match=r"m must be >= 1, but got 0"):
        data.make_regression(0)
    with pytest.raises(TypeError, match=r"n_features must be an integer"):
        data.make_regression(10, 2.5)
    with pytest.raises(ValueError, match=r"noise must be >= 0"):
        data.make_regression(10, noise=-1)
    with pytest.raises(ValueError, match=r"separation must be > 0"):
        data.make_classification(10, separation=0)
    with pytest.raises(ValueError, match=r"x must be 1-D \(m,\) or 2-D"):
        data.add_bias(np.ones((2, 2, 2)))


def test_cross_entropy_labels_must_be_binary():
    X = np.c_[np.ones(3), np.arange(3.0)]
    with pytest.raises(ValueError, match=r"y must hold class labels 0 or 1.*\[2.0\]"):
        losses.cross_entropy_cost(np.zeros(2), X, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"loss must be one of"):
        losses.get_loss("hinge")
