"""Lesson 6's panels (optimiser, bias correction, comparison): what they draw equals what is computed independently.
"""

import math
import warnings

import numpy as np
import pytest

from gdcourse import batching, data, optim, schedules, surfaces
from gdcourse.widgets import bias_correction_panel, compare_optimizers_panel, optimizer_panel, warmup_panel
from .panelkit import drawn, same

pytestmark = pytest.mark.filterwarnings("error")


# --- lesson 6 -----------------------------------------------------------------------------------


def _grad_ill(theta):
    return np.array([0.2 * theta[0], 4.0 * theta[1]])   # ∇(0.1θ₁² + 2θ₂²)


def test_optimizer_panel_reproduces_the_public_figures():
    panel = optimizer_panel()
    panel.set(optimizer="sgd", lr=0.4)
    # GD α = 0.4 on 0.1θ₁² + 2θ₂² from (−5, −2): after 20 steps ≈ (−0.943467, −0.000073)
    lr = panel.values["lr"]
    theta = np.array([-5.0, -2.0])
    for _ in range(20):
        theta = theta - lr * _grad_ill(theta)
    np.testing.assert_allclose(panel.thetas[20], theta, rtol=1e-12)
    np.testing.assert_allclose(panel.thetas[20], [-0.943467, -0.000073], atol=1e-6)
    # momentum: b ← μb + g, θ ← θ − αb
    panel.set(optimizer="momentum", lr=0.6, beta1=0.5)
    lr, mu = panel.values["lr"], panel.values["beta1"]
    theta, b = np.array([-5.0, -2.0]), np.zeros(2)
    for _ in range(20):
        b = mu * b + _grad_ill(theta)
        theta = theta - lr * b
    np.testing.assert_allclose(panel.thetas[20], theta, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(panel.thetas[20], [0.007188, 0.002553], atol=1e-6)   # COURSE.md


def test_optimizer_panel_adam_and_rmsprop_follow_their_formulas():
    panel = optimizer_panel().set(optimizer="adam", lr=0.1, beta1=0.8, beta2=0.95)
    lr, b1, b2 = (panel.values[k] for k in ("lr", "beta1", "beta2"))
    theta, m, v = np.array([-5.0, -2.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 101):
        g = _grad_ill(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)
    np.testing.assert_allclose(panel.thetas[-1], theta, rtol=1e-9, atol=1e-12)
    panel.set(optimizer="rmsprop", beta2=0.9)
    lr, rho = panel.values["lr"], panel.values["beta2"]
    theta, s = np.array([-5.0, -2.0]), np.zeros(2)
    for _ in range(100):
        g = _grad_ill(theta)
        s = rho * s + (1 - rho) * g * g
        theta = theta - lr * g / (np.sqrt(s) + 1e-8)
    np.testing.assert_allclose(panel.thetas[-1], theta, rtol=1e-9, atol=1e-12)
    assert "ρ = β2" in panel.readouts["path"] and "β1 not used" in panel.readouts["path"]


def test_optimizer_panel_disables_and_ignores_the_unused_sliders():
    panel = optimizer_panel().set(optimizer="sgd")
    assert panel.controls["beta1"].disabled and panel.controls["beta2"].disabled
    assert "β1 and β2 not used" in panel.readouts["path"]
    before = drawn(panel)
    misses = panel._path.cache_info().misses
    panel.set(beta1=0.3, beta2=0.85)
    assert all(same(before[k], v) for k, v in drawn(panel).items())
    assert panel._path.cache_info().misses == misses
    panel.set(optimizer="momentum")
    assert not panel.controls["beta1"].disabled and panel.controls["beta2"].disabled
    panel.set(optimizer="adam")
    assert not panel.controls["beta1"].disabled and not panel.controls["beta2"].disabled


def test_optimizer_panel_divergence_is_a_message():
    panel = optimizer_panel().set(optimizer="sgd")
    lr = panel.controls["lr"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.set(lr=lr.base ** lr.max)             # α ≫ 2/4 on the steep direction
    assert panel.diverged and "diverged after" in panel.message
    assert np.all(np.isfinite(panel.thetas))
    panel.set(surface="rosenbrock", lr=0.01)        # Rosenbrock's curvature ≈ 1900 at the start
    assert panel.diverged and panel.ax_path.get_xlim() == surfaces.rosenbrock().xlim


@pytest.mark.parametrize("kwargs, words", [
    ({"surface": "bowl"}, "surface must be one of 'ill_conditioned', 'rosenbrock'"),
    ({"surface": 3}, "surface must be one of"),
])
def test_lesson6_panels_refuse_an_unknown_surface(kwargs, words):
    for factory in (optimizer_panel, compare_optimizers_panel):
        with pytest.raises(ValueError, match=words):
            factory(**kwargs)


def _adam_1d(lr, b1, b2, theta0, lam, steps, correct):
    """The library's Adam on ½λθ² (tests/test_optim.py holds it to the hand-written formula)."""
    opt = optim.adam(lr=lr, betas=(b1, b2), bias_correction=correct)
    return optim.run(opt, lambda th: lam * th, np.array([theta0]), steps).thetas[:, 0]


@pytest.mark.parametrize("b1, b2", [(0.9, 0.999), (0.9, 0.9), (0.0, 0.99), (0.99, 0.8)])
def test_bias_correction_panel_shows_both_runs(b1, b2):
    panel = bias_correction_panel().set(beta1=b1, beta2=b2)
    b1, b2 = panel.values["beta1"], panel.values["beta2"]
    np.testing.assert_allclose(panel.corrected, _adam_1d(0.1, b1, b2, 3.0, 1.0, 30, True), rtol=0)
    np.testing.assert_allclose(panel.uncorrected, _adam_1d(0.1, b1, b2, 3.0, 1.0, 30, False), rtol=0)
    # step 1: corrected α·g/(|g| + ε) ≈ α; uncorrected α·(1 − β1)/√(1 − β2)
    assert panel.step_corrected[0] == pytest.approx(1.0, rel=1e-6)
    assert panel.step_uncorrected[0] == pytest.approx((1 - b1) / math.sqrt(1 - b2), rel=1e-6)
    t = np.arange(1, 31)
    np.testing.assert_allclose(panel.artists["step_constant"].get_ydata(),
                               (1 - b1 ** t) / np.sqrt(1 - b2 ** t), rtol=1e-12)


def test_bias_correction_panel_names_too_large_and_too_small():
    panel = bias_correction_panel().set(beta1=0.9, beta2=0.999)
    assert "3.16× too large" in panel.message
    panel.set(beta2=0.9)
    assert "3.16× too small" in panel.message
    panel.set(beta1=0.9, beta2=0.99)                 # (1 − 0.9)/√0.01 = 1: no bias at step 1
    assert panel.message == ""


@pytest.mark.parametrize("kwargs, error, words", [
    ({"theta0": 0.0}, ValueError, "theta0 must not be 0"),
    ({"lr": -0.1}, ValueError, "lr must be > 0"),
    ({"num_steps": 0}, ValueError, "num_steps must be >= 1"),
    ({"curvature": "steep"}, TypeError, "curvature must be a real number"),
])
def test_bias_correction_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        bias_correction_panel(**kwargs)


def test_compare_optimizers_draws_four_paths_with_a_static_legend():
    panel = compare_optimizers_panel()
    legend = panel.ax_cost.get_legend()   # on the loss axes, off the paths
    assert [t.get_text() for t in legend.get_texts()] == ["sgd", "momentum", "rmsprop", "adam"]
    assert not legend.get_animated()
    colors = {panel.artists[f"path_{n}"].get_color() for n in ("sgd", "momentum", "rmsprop", "adam")}
    assert len(colors) == 4
    # the SGD path by hand: θ ← θ − α∇f with the tuned α times the scale
    panel.set(lr_scale=2.0)
    lr = 0.1 * panel.values["lr_scale"]
    theta = np.array([-5.0, -2.0])
    path = [theta]
    for _ in range(100):
        theta = theta - lr * _grad_ill(theta)
        path.append(theta)
    np.testing.assert_allclose(panel.artists["path_sgd"].get_xydata(), path, rtol=1e-12, atol=1e-15)


def test_compare_optimizers_names_the_one_that_diverges():
    panel = compare_optimizers_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.set(lr_scale=10.0)
    # SGD: α = 1 and curvature 4 give |1 − 4α| = 3 > 1; momentum with μ = 0.9 needs 4α < 3.8: α = 0.2 is fine
    assert panel.runs["sgd"][2] and not panel.runs["momentum"][2]
    assert panel.message.startswith("diverged: sgd")
    panel.set(surface="rosenbrock", lr_scale=1.0)
    assert panel.ax_path.get_xlim() == surfaces.rosenbrock().xlim
    assert panel.artists["cost_adam"].get_xdata()[-1] == 300


# --- warm-up ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warm():
    return warmup_panel()


def _hand_schedule(W, peak, T, cosine=True):
    """Linear warm-up from 0.1·peak, then cosine to 0 over the remaining T − W updates (or constant)."""
    out = []
    for t in range(T):
        if t < W:
            out.append(peak * (0.1 + 0.9 * t / W))
        elif cosine:
            out.append(0.5 * peak * (1 + math.cos(math.pi * (t - W) / (T - W))))
        else:
            out.append(peak)
    return np.array(out)


def test_warmup_panel_schedule_is_the_lessons_recipe(warm):
    T = warm.total
    assert T == 5 * 63
    for W, peak, cos in ((30, 1.0, True), (0, 0.3, True), (60, 0.1, False)):
        warm.set(warmup_steps=W, peak_lr=peak, cosine=cos)
        np.testing.assert_allclose(warm.lrs, _hand_schedule(W, warm.values["peak_lr"], T, cos), rtol=1e-12)
        np.testing.assert_allclose(warm.artists["schedule"].get_ydata(), warm.lrs)


def test_warmup_panel_trains_adam_with_that_schedule(warm):
    noisy = data.make_regression(2000, n_features=2, noise=1.0, random_state=1)   # lesson 6, section 7
    X, y = noisy.X.copy(), noisy.y
    X[:, 2] *= 30
    warm.set(warmup_steps=30, peak_lr=1.0, cosine=True)
    h = batching.train(X, y, optim.adam(lr=schedules.linear_warmup(schedules.cosine(1.0, num_steps=285),
                                                                   warmup_steps=30)),
                       batch_size=32, num_epochs=5, random_state=0, record_path=True)
    np.testing.assert_array_equal(warm.history.loss_per_update, h.loss_per_update)
    np.testing.assert_allclose(warm.step_lengths, np.linalg.norm(np.diff(h.path, axis=0), axis=1))
    # the lesson's claims: with the warm-up no batch loss climbs much above the start ...
    assert warm.spike < 1.2 and warm.message == ""
    calm = warm.step_lengths[:20].max()
    warm.set(warmup_steps=0, cosine=False)
    # ... without it the first epoch shoots far above it, and the early steps are the largest
    assert warm.spike > 10
    assert warm.step_lengths[:20].max() > 3 * calm
    assert warm.artists["warmup_end"].get_visible() is False


def test_warmup_panel_picture_changes_with_every_control(warm):
    warm.set(warmup_steps=30, peak_lr=1.0, cosine=True)
    before = warm.render_png()
    for change in ({"warmup_steps": 90}, {"peak_lr": 0.1}, {"cosine": False}):
        warm.set(**change)
        after = warm.render_png()
        assert after != before, change
        before = after


@pytest.mark.parametrize("kwargs, error, words", [
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"num_epochs": 0}, ValueError, "num_epochs"),
    ({"max_warmup": 10_000}, ValueError, "max_warmup"),
    ({"data": [1, 2]}, TypeError, "data must be a tuple"),
    ({"random_state": "seed"}, TypeError, "random_state"),
])
def test_warmup_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        warmup_panel(**kwargs)
