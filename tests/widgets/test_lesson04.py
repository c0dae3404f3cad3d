"""Lesson 4's panels (batch size and escaping a shallow minimum): what they draw equals what is computed independently.
"""

import math
import warnings

import ipywidgets
import numpy as np
import pytest

from gdcourse import batching, data, descent, optim, surfaces, widgets
from gdcourse.widgets import batch_size_panel, sgd_escape_panel
from .panelkit import count_full_draws

pytestmark = pytest.mark.filterwarnings("error")


# --- lesson 4: batch size ---------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, lr, num_epochs", [(1, 0.01, 2), (32, 0.1, 5), (4000, 0.5, 20),
                                                         (64, 0.05, 1), (1024, 1.0, 3)])
def test_batch_size_panel_is_the_training_loop(regression, batch_size, lr, num_epochs):
    panel = batch_size_panel(random_state=0).set(batch_size=batch_size, lr=lr, num_epochs=num_epochs)
    h = batching.train(regression.X, regression.y, optim.sgd(lr=panel.values["lr"]), batch_size=batch_size,
                       num_epochs=num_epochs, random_state=0, record_path=True)
    assert h.stop_reason == "num_epochs" and not panel.diverged
    assert panel.updates_per_epoch == math.ceil(4000 / batch_size) == h.updates_per_epoch
    np.testing.assert_allclose(panel.path, h.path, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(panel.update_losses, h.loss_per_update, rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(panel.epoch_losses, h.loss_per_epoch, rtol=1e-9)
    # the bold curve: one point per epoch, at x = 0 … E
    np.testing.assert_array_equal(panel.artists["epoch_loss"].get_xdata(), np.arange(num_epochs + 1))
    assert panel.artists["end"].get_xydata().tolist() == [panel.path[-1].tolist()]
    assert panel.message == ""


def test_batch_size_panel_spans_1_to_m_and_takes_any_whole_size():
    panel = batch_size_panel()
    control = panel.controls["batch_size"]
    assert isinstance(control, ipywidgets.FloatLogSlider) and control.base == 2
    assert control.base ** control.min == 1 and round(control.base ** control.max) == 4000
    # a size typed into the readout (37) is used as it is; fractional slider positions round
    assert panel.batch_size_of(37.0) == 37 and panel.batch_size_of(2 ** 5.25) == 38
    assert panel.batch_size_of(4000.4) == 4000 and panel.batch_size_of(0.6) == 1
    a = panel.set(batch_size=37, lr=0.05, num_epochs=1).path.copy()
    b = panel.set(batch_size=38).path.copy()
    assert len(a) == 1 + 109 and len(b) == 1 + 106  # ceil(4000/37) and ceil(4000/38) updates
    assert panel.set(batch_size=37.3).path.shape == a.shape


def test_batch_size_panel_divergence_is_the_training_loops_stop(regression):
    panel = batch_size_panel()
    lr = widgets.batch_size_panel().controls["lr"]
    top = lr.base ** lr.max
    for b in (1, 4000):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            panel.set(batch_size=b, lr=top, num_epochs=20)
        h = batching.train(regression.X, regression.y, optim.sgd(lr=panel.values["lr"]), batch_size=b,
                           num_epochs=20, random_state=0, record_path=True)
        assert h.diverged and panel.diverged
        assert panel.message.startswith("diverged in epoch")
        assert len(panel.path) == len(h.path)
        np.testing.assert_allclose(panel.update_losses, h.loss_per_update, rtol=1e-7)
        assert panel.artists["message"].get_visible()


def test_batch_size_panel_warns_of_growth_before_divergence():
    # batch GD with α = 2.5: |1 − αλ| > 1 for H ≈ I, J grows but stays below the divergence limit
    panel = batch_size_panel().set(batch_size=4000, lr=2.5, num_epochs=3)
    assert not panel.diverged
    assert panel.epoch_losses[-1] > panel.epoch_losses[0]
    assert "grows" in panel.message


@pytest.mark.parametrize("kwargs, error, words", [
    ({"data": "rows"}, TypeError, "data must be a Dataset"),
    ({"data": (np.ones((5, 3)), np.ones(5))}, ValueError, "2 columns"),
    ({"random_state": "seed"}, TypeError, "random_state"),
    ({"max_epochs": 0}, ValueError, "max_epochs must be >= 1"),
    ({"max_epochs": 2.5}, TypeError, "max_epochs must be an integer"),
])
def test_batch_size_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        batch_size_panel(**kwargs)


def test_batch_size_panel_trains_on_the_lessons_data(regression):
    panel = batch_size_panel()
    np.testing.assert_array_equal(panel.X, regression.X)
    np.testing.assert_array_equal(panel.y, regression.y)
    # not the panel's old default (2000 rows, noise 0.5): a wrong data set fails here
    assert panel.m == 4000 and not np.array_equal(panel.y[:2000], data.make_regression(2000, 1, random_state=0).y)


def test_batch_size_panel_takes_a_small_data_set():
    d = data.five_points()
    panel = batch_size_panel(d, max_epochs=3).set(batch_size=5, lr=0.01, num_epochs=1)
    # one batch-GD step from 0: θ = 0 + α·(1/m)·Xᵀy = 0.01·(4, 13.2)
    np.testing.assert_allclose(panel.path, [[0, 0], [0.04, 0.132]])
    assert round(2 ** panel.controls["batch_size"].max) == 5


# --- lesson 4: escaping a shallow minimum ---------------------------------------------------


def test_sgd_escape_without_noise_is_plain_gradient_descent():
    panel = sgd_escape_panel().set(noise=0.0, lr=0.05)
    s = surfaces.non_convex()
    h = descent.gradient_descent(s.value, s.grad, np.array([1.5, 0.8]), panel.values["lr"], num_iters=300)
    np.testing.assert_allclose(panel.gd_path, h.thetas, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(panel.noisy_path, h.thetas, rtol=1e-12, atol=1e-14)
    assert panel.gd_outcome == "local" and panel.n_global == 0
    np.testing.assert_allclose(panel.gd_path[-1], s.minimisers[1], atol=1e-6)


def test_sgd_escape_noisy_updates_follow_the_formula_and_can_reach_the_global_minimum():
    panel = sgd_escape_panel().set(noise=6.0, lr=0.05)
    s = surfaces.non_convex()
    lr, sigma, T = panel.values["lr"], 6.0, 300
    theta = np.array([1.5, 0.8])
    path = [theta]
    for t in range(T):
        x, y = theta
        grad = np.array([4 * x * (x * x - 1) + 0.5, 2 * y])       # ∇f by hand
        theta = theta - lr * (grad + sigma * (1 - t / T) * panel.xi[t, 0])
        path.append(theta)
    np.testing.assert_allclose(panel.noisy_path, path, rtol=1e-9, atol=1e-12)
    assert panel.gd_outcome == "local"
    assert panel.n_global > panel.num_runs // 2
    assert f"{panel.n_global}/{panel.num_runs}" in panel.readouts["path"]
    ends = panel.artists["ends"].get_xydata()
    assert len(ends) == panel.num_runs
    assert np.sum(ends[:, 0] < s.saddles[0, 0]) == panel.n_global


def test_sgd_escape_large_steps_give_a_divergence_message():
    panel = sgd_escape_panel()
    lr = panel.controls["lr"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.set(noise=panel.controls["noise"].max, lr=lr.base ** lr.max)
    assert "diverged" in panel.message
    assert np.all(np.isfinite(panel.noisy_path))


@pytest.mark.parametrize("kwargs, error, words", [
    ({"random_state": -1}, ValueError, "random_state"),
    ({"num_steps": 0}, ValueError, "num_steps must be >= 1"),
    ({"num_runs": 2.5}, TypeError, "num_runs must be an integer"),
])
def test_sgd_escape_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        sgd_escape_panel(**kwargs)


# --- batch size and learning rate ------------------------------------------------------------


@pytest.fixture(scope="module")
def lr_panel():
    return widgets.batch_lr_panel()


def _excess_by_train(X, y, b, lr, j_star, seeds=(0, 1, 2), epochs=2, theta0=(-1.0, -0.3)):
    gaps = [batching.train(X, y, optim.sgd(lr=lr), batch_size=b, num_epochs=epochs, theta0=np.array(theta0),
                           random_state=s) for s in seeds]
    return float(np.median([np.inf if h.diverged else h.loss_per_epoch[-1] - j_star for h in gaps]))


def test_batch_lr_panel_scores_runs_as_the_training_loop_does(lr_panel, regression):
    X, y = regression.X, regression.y
    j_star = surfaces.mse_surface(X, y).minimum
    for b, scaled in ((16, True), (16, False), (5, True)):
        lr_panel.set(batch_size=b, scaled=scaled)
        lr = 0.002 * b if scaled else 0.002
        assert lr_panel.batch == b and lr_panel.lr == pytest.approx(lr)
        assert lr_panel.excess == pytest.approx(_excess_by_train(X, y, b, lr, j_star), rel=1e-7)
        np.testing.assert_allclose(lr_panel.artists["cost_marker"].get_xydata(), [[b, lr_panel.excess]])
    # the static curves are the same scores over the grid (the lesson's figure): scaled ≈ flat up to 16
    i = {int(b): k for k, b in enumerate(lr_panel.grid)}
    assert lr_panel.curve_scaled[i[16]] == pytest.approx(_excess_by_train(X, y, 16, 0.032, j_star), rel=1e-7)
    small = lr_panel.curve_scaled[[i[1], i[4], i[16]]]
    assert small.max() < 1.5 * small.min()
    assert lr_panel.curve_fixed[i[256]] > 100 * lr_panel.curve_scaled[i[256]]


def test_batch_lr_panel_noise_falls_as_one_over_b(lr_panel, regression):
    m = len(regression.y)
    X, y, theta = regression.X, regression.y, np.array([-1.0, -0.3])
    # σ² by hand: the mean squared deviation of the per-sample gradients from the full gradient
    per_sample = (X @ theta - y)[:, None] * X
    full = per_sample.mean(axis=0)
    sigma2 = np.mean(np.sum((per_sample - full) ** 2, axis=1))
    law = sigma2 / lr_panel.noise_sizes * (m - lr_panel.noise_sizes) / (m - 1)
    # the measured dots follow the law (200 batches each: sampling error only)
    np.testing.assert_allclose(lr_panel.noise_measured, law, rtol=0.3)
    assert lr_panel.sigma2 == pytest.approx(sigma2, rel=0.3)
    for b in (4, 64, 512):
        lr_panel.set(batch_size=b)
        assert lr_panel.noise == pytest.approx(lr_panel.sigma2 / b * (m - b) / (m - 1), rel=1e-12)
        np.testing.assert_allclose(lr_panel.artists["noise_marker"].get_xydata(), [[b, lr_panel.noise]])
    lr_panel.set(batch_size=m)                       # the whole data set: no noise, no "× less"
    assert lr_panel.noise == 0.0 and "less" not in lr_panel.readouts["noise"]


def test_batch_lr_panel_warns_past_the_stability_limit_and_the_picture_changes(lr_panel, regression):
    X = regression.X
    lam_max = np.linalg.eigvalsh(X.T @ X / len(X)).max()
    lr_panel.set(batch_size=256, scaled=True)
    assert lr_panel.message == ""
    before = lr_panel.render_png()
    lr_panel.set(batch_size=2048)
    assert 0.002 * 2048 * lam_max > 2 and "limit" in lr_panel.message
    assert lr_panel.render_png() != before
    lr_panel.set(scaled=False)                      # the same b at α = 0.002 is stable
    assert lr_panel.message == "" and np.isfinite(lr_panel.excess)
    assert lr_panel.b_limit == pytest.approx(2 / (0.002 * lam_max))


@pytest.mark.parametrize("kwargs, error, words", [
    ({"base_lr": 0.0}, ValueError, "base_lr"),
    ({"seeds": []}, ValueError, "seeds must be"),
    ({"theta0": (1.0, 2.0, 3.0)}, ValueError, "theta0 must have shape"),
    ({"num_epochs": 0}, ValueError, "num_epochs"),
    ({"data": "lesson 4"}, TypeError, "data must be"),
])
def test_batch_lr_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        widgets.batch_lr_panel(**kwargs)


def test_batch_size_panel_epochs_slider_never_draws_the_whole_figure():
    panel = widgets.batch_size_panel()
    draws = count_full_draws(panel)
    for n in (1, 2, 3, 7, 12, 20, 4, 1):        # every epoch window, each drawn while the panel was built
        panel.set(num_epochs=n)
        assert panel.ax_cost.get_xlim()[1] == panel._epoch_window(n)
    assert draws == []


def test_sgd_escape_gd_run_is_computed_once_per_alpha():
    panel = sgd_escape_panel(num_steps=80, num_runs=4)
    panel.set(lr=0.05)
    gd = panel.gd_path
    calls = panel._gd_run.cache_info().misses
    for sigma in (1.0, 3.0, 6.0):
        panel.set(noise=sigma)
        assert panel.gd_path is gd                     # the same run, not a new one
    assert panel._gd_run.cache_info().misses == calls
    s = surfaces.non_convex()
    h = descent.gradient_descent(s.value, s.grad, np.array([1.5, 0.8]), panel.values["lr"], num_iters=80)
    np.testing.assert_allclose(panel.gd_path, h.thetas, rtol=1e-12, atol=1e-14)
