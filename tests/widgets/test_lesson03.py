"""Lesson 3's panels (descent, learning rate, local minima): what they draw equals what is computed independently.
"""

import math
import re
import warnings

import numpy as np
import pytest

from gdcourse import descent, surfaces
from gdcourse.widgets import descent_panel, feature_scaling_panel, learning_rate_panel, local_minima_panel
from .panelkit import count_full_draws, ends, hand_gd

pytestmark = pytest.mark.filterwarnings("error")


# --- lesson 3 ---------------------------------------------------------------------------------


def test_descent_panel_reproduces_the_running_example(d):
    panel = descent_panel(d)
    panel.set(lr=0.01, num_iters=1000, start_theta0=0.0, start_theta1=0.0)
    np.testing.assert_allclose(panel.thetas[-1], [1.852128, 0.696355], atol=5e-7)
    assert panel.costs[-1] == pytest.approx(0.251013, abs=5e-7)
    np.testing.assert_allclose(panel.thetas, hand_gd(d.X, d.y, [0, 0], 0.01, 1000), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(panel.artists["path"].get_xydata(), panel.thetas)
    assert panel.message == ""
    assert panel.ax_cost.get_yscale() == "log"


def test_descent_panel_divergence_is_a_message_not_an_error(d):
    panel = descent_panel(d)
    limit = 2.0 / np.linalg.eigvalsh(d.X.T @ d.X / 5)[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.set(lr=0.2, num_iters=1000)
    m = re.fullmatch(r"diverged after (\d+) steps \(α > 2/λ_max ≈ (0\.\d+)\)", panel.message)
    assert m, panel.message
    assert float(m.group(2)) == pytest.approx(limit, abs=5e-4)
    steps = int(m.group(1))
    assert steps == descent.linear_regression_gd(d.X, d.y, panel.values["lr"], num_iters=1000).n_iter
    assert steps < 1000 and panel.artists["message"].get_visible()
    # the largest α on the slider too
    panel.set(lr=ends(panel.controls["lr"])[1])
    assert panel.message.startswith("diverged after")


def test_descent_panel_one_iteration(d):
    panel = descent_panel(d).set(num_iters=1, lr=0.01, start_theta0=0.0, start_theta1=0.0)
    # ∇J(0) = −(1/m)·Xᵀy = −(4, 13.2)
    np.testing.assert_allclose(panel.thetas, [[0, 0], [0.04, 0.132]])
    assert panel.message == ""
    assert len(panel.artists["cost"].get_xdata()) == 2
    panel.set(lr=0.3)  # one step above the limit: the cost already grows
    assert "2/λ_max" in panel.message and "diverge" in panel.message


def test_descent_panel_refuses_bad_max_iters(d):
    with pytest.raises(ValueError, match="max_iters"):
        descent_panel(d, max_iters=0)


def test_descent_panel_iteration_slider_redraws_only_the_cost_axes(d):
    panel = descent_panel(d).set(num_iters=40)
    panel.set(num_iters=700)
    assert panel.ax_cost.get_xlim()[1] >= 700
    draws = count_full_draws(panel)
    for n in (720, 750, 780):      # the same axis range: pure blitting
        panel.set(num_iters=n)
    assert draws == []


def test_learning_rate_panel_iterates_follow_the_update(d):
    panel = learning_rate_panel(curvature=2.0, x0=3.0, num_steps=15)
    for lr in (0.05, 0.5, 0.8, 1.2):
        panel.set(lr=lr)
        x, xs = 3.0, [3.0]
        for _ in range(15):
            x = x - lr * 2.0 * x   # f'(x) = λx
            xs.append(x)
        np.testing.assert_allclose(panel.artists["iterates"].get_xdata(), xs, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(panel.artists["iterates"].get_ydata(), np.square(xs), rtol=1e-12)
    panel.set(lr=0.02)
    assert "too small" in panel.regime and panel.message == ""
    panel.set(lr=0.8)
    assert "oscillating" in panel.regime and panel.message == ""
    panel.set(lr=1.2)
    assert panel.message.startswith("diverging: αλ = 2.4 > 2")
    panel.set(lr=1.0)
    assert "αλ = 2" in panel.message


@pytest.mark.parametrize("kwargs, words", [
    ({"curvature": -1.0}, "curvature must be > 0"),
    ({"x0": 0.0}, "x0 must not be 0"),
    ({"num_steps": 0}, "num_steps must be >= 1"),
])
def test_learning_rate_panel_refuses_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        learning_rate_panel(**kwargs)


def test_local_minima_panel_ends_in_the_valley_it_starts_above():
    panel = local_minima_panel()
    s = surfaces.non_convex()
    panel.set(start_theta1=1.5, start_theta2=1.0)
    assert panel.outcome == "local minimum"
    np.testing.assert_allclose(panel.thetas[-1], s.minimisers[1], atol=1e-4)
    panel.set(start_theta1=-0.6, start_theta2=1.0)
    assert panel.outcome == "global minimum"
    np.testing.assert_allclose(panel.thetas[-1], s.minimisers[0], atol=1e-4)
    assert "global" in panel.readouts["path"]


def test_local_minima_path_is_the_library_descent():
    panel = local_minima_panel(lr=0.05, num_iters=120).set(start_theta1=1.2, start_theta2=-0.8)
    s = surfaces.non_convex()
    h = descent.gradient_descent(s.value, s.grad, np.array([1.2, -0.8]), 0.05, num_iters=120)
    np.testing.assert_allclose(panel.thetas, h.thetas, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(panel.artists["path"].get_xydata(), h.thetas)


def test_local_minima_panel_reports_divergence_on_a_steep_surface():
    panel = local_minima_panel(surfaces.rosenbrock(), lr=0.05, num_iters=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.set(start_theta1=-1.5, start_theta2=2.0)
    assert panel.message.startswith("diverged after")


@pytest.mark.parametrize("kwargs, error, words", [
    ({"surface": 5}, TypeError, "surface must be"),
    ({"lr": 0.0}, ValueError, "lr must be > 0"),
    ({"num_iters": 2.5}, TypeError, "num_iters must be an integer"),
])
def test_local_minima_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        local_minima_panel(**kwargs)


# --- feature scaling ---------------------------------------------------------------------------


def _kappa(X):
    eig = np.linalg.eigvalsh(X.T @ X / len(X))
    return eig[-1] / eig[0]


def test_feature_scaling_panel_kappa_goes_from_70_to_1(d):
    panel = feature_scaling_panel(d)
    panel.set(scaling=0.0)
    assert panel.kappa == pytest.approx(_kappa(d.X), rel=1e-9) == pytest.approx(69.99, abs=0.01)
    panel.set(scaling=1.0)
    z = (d.x - d.x.mean()) / d.x.std()
    assert panel.kappa == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(panel.hessian, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(panel.blended(1.0), np.column_stack([np.ones(5), z]))
    # halfway: the feature is the average of the raw and the z-scored one
    panel.set(scaling=0.5)
    assert panel.kappa == pytest.approx(_kappa(np.column_stack([np.ones(5), 0.5 * d.x + 0.5 * z])), rel=1e-9)
    assert 1.0 < panel.kappa < 69.99


def test_feature_scaling_panel_runs_gradient_descent_to_the_gradient_tolerance(d):
    panel = feature_scaling_panel(d)
    panel.set(scaling=1.0, lr_share=0.5)            # α = 1 = 1/L on a round bowl: one step
    assert panel.lr == pytest.approx(1.0) and panel.steps == 1
    panel.set(lr_share=0.25)                         # α = 0.5: the lesson's 22 steps
    assert panel.lr == pytest.approx(0.5) and panel.steps == 22
    Xs = panel.blended(1.0)
    np.testing.assert_allclose(panel.thetas, hand_gd(Xs, d.y, [0, 0], 0.5, 22), rtol=1e-9, atol=1e-12)
    h = descent.linear_regression_gd(Xs, d.y, lr=0.5, num_iters=2000, grad_tol=1e-6)
    assert h.n_iter == panel.steps
    panel.set(scaling=0.0, lr_share=0.5)             # raw x at α = 1/λ_max: hundreds of steps
    h = descent.linear_regression_gd(d.X, d.y, lr=panel.lr, num_iters=2000, grad_tol=1e-6)
    assert h.stop_reason == "grad_tol" and panel.steps == h.n_iter > 500
    assert f"after {panel.steps} steps" in panel.readouts["cost"]
    # the path is drawn relative to θ* and the gradient norm is ‖H(θ − θ*)‖
    np.testing.assert_allclose(panel.artists["path"].get_xydata(), panel.thetas - np.array([2.2, 0.6]), atol=1e-9)
    np.testing.assert_allclose(panel.artists["gnorm"].get_ydata()[-1], h.grad_norms[-1], rtol=1e-6)


def test_feature_scaling_panel_contours_turn_round_and_the_picture_changes(d):
    panel = feature_scaling_panel(d)

    def axis_ratio():
        seg = panel.artists["contours"].get_segments()[0]
        r = np.linalg.norm(seg, axis=1)
        return r.max() / r.min()

    panel.set(scaling=0.0)
    raw_png, raw_ratio = panel.render_png(), axis_ratio()
    assert raw_ratio == pytest.approx(math.sqrt(_kappa(d.X)), rel=1e-3)   # the semi-axes go as 1/√λ
    panel.set(scaling=1.0)
    assert axis_ratio() == pytest.approx(1.0, abs=1e-9)
    assert panel.render_png() != raw_png
    # each level is ½ΔᵀHΔ = c·(J(0) − J*): the same levels for every scaling
    seg = np.asarray(panel.artists["contours"].get_segments()[2])
    excess0 = 0.5 * np.mean(d.y ** 2) - 0.24
    np.testing.assert_allclose(0.5 * np.sum(seg * seg, axis=1), panel._levels[2] * excess0, rtol=1e-9)


def test_feature_scaling_panel_says_when_the_budget_runs_out(d):
    panel = feature_scaling_panel(d, max_iters=50).set(scaling=0.0, lr_share=0.5)
    assert panel.steps is None and "not yet below" in panel.readouts["cost"]


@pytest.mark.parametrize("kwargs, error, words", [
    ({"max_iters": 0}, ValueError, "max_iters"),
    ({"grad_tol": -1.0}, ValueError, "grad_tol"),
    ({"data": (np.column_stack([np.ones(4), np.full(4, 2.0)]), np.arange(4.0))}, ValueError, "constant"),
    ({"data": [1, 2, 3]}, TypeError, "data must be a Dataset"),
])
def test_feature_scaling_panel_refuses_bad_arguments(d, kwargs, error, words):
    kwargs = {"data": d, **kwargs}
    with pytest.raises(error, match=words):
        feature_scaling_panel(**kwargs)
