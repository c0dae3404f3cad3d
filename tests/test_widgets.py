"""Slider panels: moving a control changes what is drawn; edge values give a message, not an error.

Expected numbers are computed here independently: by hand-written loops,
closed forms and finite differences, never read back from the panel's own
helpers.  Timing is measured in benchmarks/bench_panels.py, not here.
"""

import base64
import io
import math
import re
import warnings

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from gdcourse import data, descent, surfaces, widgets
from gdcourse.widgets import (Panel, cross_entropy_panel, descent_panel, finite_difference_panel,
                              fit_panel, learning_rate_panel, local_minima_panel, tangent_panel)

pytestmark = pytest.mark.filterwarnings("error")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def d():
    return data.five_points()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def hand_cost(theta, X, y):
    r = X @ np.asarray(theta) - y
    return float(r @ r) / (2 * len(y))


def hand_gd(X, y, theta0, lr, steps):
    thetas = [np.asarray(theta0, dtype=float)]
    for _ in range(steps):
        t = thetas[-1]
        thetas.append(t - lr * X.T @ (X @ t - y) / len(y))
    return np.array(thetas)


def ends(control):
    """The smallest and largest value of a slider (a log slider stores exponents in min/max)."""
    if isinstance(control, ipywidgets.FloatLogSlider):
        return control.base ** control.min, control.base ** control.max
    return control.min, control.max


def count_full_draws(panel):
    """Wrap the canvas so the test can see when the whole figure is drawn again."""
    calls = []
    original = panel.canvas.draw

    def draw(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    panel.canvas.draw = draw
    return calls


# --- one test of the common API for every panel -------------------------------------------

def _panels(d):
    return {
        "fit": (lambda: fit_panel(d), "theta1", -0.2, 1.2),
        "cross_entropy": (lambda: cross_entropy_panel(), "weight", -3.0, 2.5),
        "tangent": (lambda: tangent_panel(d), "theta1", 0.0, 1.2),
        "finite_difference": (lambda: finite_difference_panel(), "log10_h", -10.0, -3.0),
        "descent": (lambda: descent_panel(d), "lr", 0.003, 0.05),
        "learning_rate": (lambda: learning_rate_panel(), "lr", 0.2, 1.5),
        "local_minima": (lambda: local_minima_panel(), "start_theta1", -1.5, 1.5),
    }


PANEL_NAMES = list(_panels(None))


@pytest.mark.parametrize("name", PANEL_NAMES)
def test_moving_the_main_control_changes_the_drawn_data_and_the_png(d, name):
    make, control, a, b = _panels(d)[name]
    panel = make()
    assert isinstance(panel, Panel)
    panel.set(**{control: a})
    before = {k: _artist_data(v) for k, v in panel.artists.items() if k != "message"}
    png_before = panel.render_png()
    panel.set(**{control: b})
    after = {k: _artist_data(v) for k, v in panel.artists.items() if k != "message"}
    assert panel.values[control] == pytest.approx(b)
    changed = [k for k in before if not _same(before[k], after[k])]
    assert changed, f"{name}: no moving artist changed when {control} went from {a} to {b}"
    assert panel.render_png() != png_before
    assert panel.image.value == panel.render_png()
    assert panel.render_png().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("name", PANEL_NAMES)
def test_a_main_control_step_blits_instead_of_redrawing_the_figure(d, name):
    make, control, a, b = _panels(d)[name]
    panel = make()
    panel.set(**{control: a})
    draws = count_full_draws(panel)
    for v in np.linspace(a, b, 5):
        panel.set(**{control: float(v)})
    assert draws == [], f"{name}: moving {control} redrew the whole figure {len(draws)} times"


@pytest.mark.parametrize("name", PANEL_NAMES)
def test_blitted_picture_equals_a_freshly_drawn_one(d, name):
    """After many moves the live image is pixel for pixel what a new panel draws at that state."""
    make, control, a, b = _panels(d)[name]
    moved = make()
    for v in np.linspace(a, b, 7)[::-1]:
        moved.set(**{control: float(v)})
    other = next(iter(k for k in moved.controls if k != control), None)
    if other is not None:  # a second control too, then back
        c = moved.controls[other]
        start = c.value
        moved.set(**{other: c.max})
        moved.set(**{other: start})
    moved.static_png()  # a full static render in between must not disturb the live layers
    moved.set(**{control: a})
    fresh = make()
    fresh.set(**{control: a})
    np.testing.assert_array_equal(pixels(moved.render_png()), pixels(fresh.render_png()))


@pytest.mark.parametrize("name", PANEL_NAMES)
def test_every_control_at_both_ends_gives_a_picture_and_no_warning(d, name):
    make, _, _, _ = _panels(d)[name]
    panel = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cname, c in panel.controls.items():
            for v in ends(c):
                panel.set(**{cname: v})
                assert panel.render_png().startswith(PNG_SIGNATURE)
                assert isinstance(panel.message, str)


@pytest.mark.parametrize("name", PANEL_NAMES)
def test_static_fallback_and_headless_mode(d, name, monkeypatch):
    make, control, a, b = _panels(d)[name]
    panel = make().set(**{control: a})
    monkeypatch.delenv("GDCOURSE_HEADLESS", raising=False)
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(PNG_SIGNATURE)
    assert pixels(png).shape[:2] == pixels(panel.render_png()).shape[:2]
    assert "text/plain" in bundle
    monkeypatch.setenv("GDCOURSE_HEADLESS", "1")
    assert widgets.headless()
    bundle = panel._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"}
    # the static picture follows the state
    panel.set(**{control: b})
    assert base64.b64decode(panel._repr_mimebundle_()["image/png"]) != png


def _artist_data(artist):
    for getter in ("get_xydata", "get_segments", "get_offsets"):
        if hasattr(artist, getter):
            value = getattr(artist, getter)()
            return [np.array(v, dtype=float) for v in value] if getter == "get_segments" else np.array(value, dtype=float)
    if hasattr(artist, "xy") and hasattr(artist, "xyann"):  # an arrow annotation
        return np.array([artist.xy, artist.xyann], dtype=float)
    return artist.get_text()


def _same(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


# --- the common API --------------------------------------------------------------------------

def test_set_refuses_an_unknown_control_and_names_the_real_ones(d):
    panel = fit_panel(d)
    with pytest.raises(ValueError, match=r"no control named 'alpha'.*'theta0', 'theta1'"):
        panel.set(alpha=0.1)


def test_a_widget_event_redraws_like_set(d):
    panel = fit_panel(d)
    png = panel.render_png()
    panel.controls["theta0"].value = 2.2   # what a slider drag in the browser does
    assert panel.render_png() != png
    assert panel.artists["point"].get_xdata()[0] == pytest.approx(2.2)


def test_the_widget_holds_the_controls_the_readout_and_the_image(d):
    panel = fit_panel(d)
    assert isinstance(panel.widget, ipywidgets.Box)
    flat = []

    def walk(w):
        flat.append(w)
        for child in getattr(w, "children", ()):
            walk(child)

    walk(panel.widget)
    assert panel.image in flat and panel.readout in flat
    assert all(c in flat for c in panel.controls.values())
    for c in panel.controls.values():
        assert c.continuous_update and c.readout
    assert panel.image.format == "png"


class _ToyPanel(Panel):
    """A panel driven by a dropdown, a checkbox and toggle buttons: the base is not slider-only."""

    def __init__(self):
        super().__init__({
            "shape": ipywidgets.Dropdown(options=["sin", "cos"], value="sin"),
            "flip": ipywidgets.Checkbox(value=False),
            "scale": ipywidgets.ToggleButtons(options=[1, 2, 3], value=1),
        })

    def _build(self):
        ax = self.figure.subplots()
        ax.set_xlim(0, 7)
        ax.set_ylim(-3.5, 3.5)
        self._x = np.linspace(0, 7, 50)
        self._moving("curve", ax.plot(self._x, self._x * 0)[0])
        self._readout("what", ax)

    def _update(self, shape, flip, scale):
        y = scale * getattr(np, shape)(self._x) * (-1 if flip else 1)
        self.artists["curve"].set_ydata(y)
        self._say("what", f"{shape} × {scale}")
        if flip:
            self.message = "flipped"


def test_the_base_class_takes_dropdowns_checkboxes_and_toggle_buttons():
    panel = _ToyPanel()
    np.testing.assert_allclose(panel.artists["curve"].get_ydata(), np.sin(panel._x))
    panel.set(shape="cos", flip=True, scale=3)
    np.testing.assert_allclose(panel.artists["curve"].get_ydata(), -3 * np.cos(panel._x))
    assert panel.message == "flipped" and panel.readouts["what"] == "cos × 3"
    assert "flipped" in panel.readout.value
    panel.set(flip=False)
    assert panel.message == ""


def test_the_base_class_refuses_what_is_not_a_control():
    class Broken(_ToyPanel):
        def __init__(self):
            Panel.__init__(self, {"x": "not a widget"})

    with pytest.raises(TypeError, match=r"controls\['x'\] must be an ipywidgets value widget"):
        Broken()


def test_headless_reads_the_environment(monkeypatch):
    for value, expected in [("1", True), ("true", True), ("0", False), ("", False)]:
        monkeypatch.setenv("GDCOURSE_HEADLESS", value)
        assert widgets.headless() is expected


def test_the_fast_png_is_a_faithful_copy_of_the_canvas(d):
    panel = fit_panel(d)
    np.testing.assert_array_equal(pixels(panel.render_png()), np.asarray(panel.canvas.buffer_rgba()))


# --- lesson 1 ---------------------------------------------------------------------------------

def test_fit_panel_draws_the_line_the_residuals_and_the_point(d):
    panel = fit_panel(d)
    panel.set(theta0=1.0, theta1=0.5)
    xs, ys = panel.artists["line"].get_data()
    np.testing.assert_allclose(ys, 1.0 + 0.5 * np.asarray(xs))
    segments = panel.artists["residuals"].get_segments()
    assert len(segments) == 5
    for (x, y), seg in zip(zip([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), segments):
        np.testing.assert_allclose(seg, [[x, y], [x, 1.0 + 0.5 * x]])
    assert panel.artists["point"].get_xydata().tolist() == [[1.0, 0.5]]
    # residuals -0.5, -2, -2.5, -1, -1.5 → J = (0.25 + 4 + 6.25 + 1 + 2.25) / 10
    assert panel.cost == pytest.approx(13.75 / 10)
    assert "1.3750" in panel.readouts["cost"]


def test_fit_panel_at_least_squares_shows_the_minimum_cost(d):
    panel = fit_panel(d).set(theta0=2.2, theta1=0.6)
    assert panel.cost == pytest.approx(0.24, abs=1e-12)
    assert panel.cost == pytest.approx(hand_cost([2.2, 0.6], d.X, d.y))


def test_fit_panel_starts_where_asked_and_accepts_a_tuple(d):
    panel = fit_panel((d.X, d.y), theta=[1.0, 1.0])
    assert panel.values == {"theta0": pytest.approx(1.0), "theta1": pytest.approx(1.0)}
    assert panel.cost == pytest.approx(hand_cost([1.0, 1.0], d.X, d.y))


def test_fit_panel_sliders_reach_the_least_squares_fit(d):
    panel = fit_panel(d)
    c0, c1 = panel.controls["theta0"], panel.controls["theta1"]
    for c, target in ((c0, 2.2), (c1, 0.6)):
        assert c.min < target < c.max
        k = (target - c.min) / c.step
        assert abs(k - round(k)) < 1e-6, "θ* must lie on a slider step"


@pytest.mark.parametrize("bad, error, words", [
    (None, TypeError, "data must be a Dataset"),
    ((np.ones((5, 3)), np.ones(5)), ValueError, "2 columns"),
    ((np.column_stack([np.arange(5.0), np.arange(5.0)]), np.ones(5)), ValueError, "column of ones"),
    ((np.ones((5, 2)), np.ones(4)), ValueError, "same number of rows"),
    (data.Dataset(data.five_points().X, data.five_points().y, np.zeros(5)), ValueError,
     r"data.x must be the feature column"),
])
def test_fit_and_other_data_panels_refuse_bad_data(bad, error, words):
    for factory in (fit_panel, tangent_panel, descent_panel):
        with pytest.raises(error, match=words):
            factory(bad)


def test_fit_panel_refuses_a_bad_start(d):
    with pytest.raises(ValueError, match=r"theta must have shape \(2,\)"):
        fit_panel(d, theta=[1.0, 2.0, 3.0])


def _hand_ce(w, b, x, y):
    p = 1.0 / (1.0 + np.exp(-(w * x + b)))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), float(0.5 * np.mean((p - y) ** 2))


def test_cross_entropy_panel_draws_the_sigmoid_and_both_costs():
    panel = cross_entropy_panel(random_state=0)
    assert set(np.unique(panel.y)) == {0.0, 1.0}
    panel.set(weight=2.0, bias=-0.5)
    xs, ps = panel.artists["sigmoid"].get_data()
    np.testing.assert_allclose(ps, 1.0 / (1.0 + np.exp(-(2.0 * np.asarray(xs) - 0.5))), rtol=1e-12)
    ce, mse = _hand_ce(2.0, -0.5, panel.x, panel.y)
    assert panel.artists["ce_point"].get_ydata()[0] == pytest.approx(ce, rel=1e-10)
    assert panel.artists["mse_point"].get_ydata()[0] == pytest.approx(mse, rel=1e-10)
    ws, curve = panel.artists["ce_curve"].get_data()
    i = int(np.argmin(np.abs(np.asarray(ws) - 1.0)))
    assert curve[i] == pytest.approx(_hand_ce(ws[i], -0.5, panel.x, panel.y)[0], rel=1e-10)
    assert panel.message == ""


def test_cross_entropy_keeps_a_slope_where_mse_goes_flat():
    panel = cross_entropy_panel(random_state=0).set(weight=-5.0, bias=0.0)
    h = 1e-5
    d_ce = (_hand_ce(-5 + h, 0, panel.x, panel.y)[0] - _hand_ce(-5 - h, 0, panel.x, panel.y)[0]) / (2 * h)
    d_mse = (_hand_ce(-5 + h, 0, panel.x, panel.y)[1] - _hand_ce(-5 - h, 0, panel.x, panel.y)[1]) / (2 * h)
    assert abs(d_mse) < 0.1 * abs(d_ce)
    assert "MSE is flat" in panel.message and "cross-entropy" in panel.message
    assert panel.artists["message"].get_visible()


def test_cross_entropy_panel_is_deterministic_and_checks_random_state():
    a, b = cross_entropy_panel(random_state=3), cross_entropy_panel(random_state=3)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, cross_entropy_panel(random_state=4).x)
    with pytest.raises(TypeError, match="random_state"):
        cross_entropy_panel(random_state="seed")


# --- lesson 2 ---------------------------------------------------------------------------------

def test_tangent_slope_is_the_finite_difference_of_j(d):
    panel = tangent_panel(d)
    panel.set(theta1=0.2)
    theta0 = panel.theta0
    assert theta0 == pytest.approx(2.2)
    h = 1e-6
    slope = (hand_cost([theta0, 0.2 + h], d.X, d.y) - hand_cost([theta0, 0.2 - h], d.X, d.y)) / (2 * h)
    (t0, t1), (j0, j1) = panel.artists["tangent"].get_data()
    assert (j1 - j0) / (t1 - t0) == pytest.approx(slope, rel=1e-6)
    # the line touches the curve at the point
    px, py = panel.artists["point"].get_xydata()[0]
    assert py == pytest.approx(hand_cost([theta0, 0.2], d.X, d.y))
    assert j0 + (j1 - j0) / (t1 - t0) * (px - t0) == pytest.approx(py)
    assert f"{slope:+.3f}" in panel.readouts["slice"]


def test_tangent_arrow_points_along_minus_the_gradient(d):
    panel = tangent_panel(d).set(theta1=1.4)
    theta = np.array([panel.theta0, 1.4])
    h = 1e-6
    grad = np.array([(hand_cost(theta + h * e, d.X, d.y) - hand_cost(theta - h * e, d.X, d.y)) / (2 * h)
                     for e in np.eye(2)])
    arrow = panel.artists["arrow"]
    direction = np.asarray(arrow.xy) - np.asarray(arrow.xyann)
    np.testing.assert_allclose(arrow.xyann, theta)
    cos = direction @ -grad / (np.linalg.norm(direction) * np.linalg.norm(grad))
    assert cos == pytest.approx(1.0, abs=1e-9)


def test_finite_difference_markers_show_the_true_errors():
    panel = finite_difference_panel()
    for log_h in (-12.0, -5.0, -1.0):
        panel.set(log10_h=log_h)
        h = 10.0 ** log_h
        fwd = abs((math.sin(1 + h) - math.sin(1)) / h - math.cos(1))
        cen = abs((math.sin(1 + h) - math.sin(1 - h)) / (2 * h) - math.cos(1))
        assert panel.artists["forward_point"].get_ydata()[0] == pytest.approx(fwd, rel=1e-12)
        assert panel.artists["central_point"].get_ydata()[0] == pytest.approx(cen, rel=1e-12)
        assert panel.artists["vline"].get_xdata()[0] == pytest.approx(h)
    # large h: truncation makes central (∝ h²) far better than forward (∝ h)
    panel.set(log10_h=-3.0)
    assert panel.errors["central"] < 1e-3 * panel.errors["forward"]


def test_finite_difference_says_when_h_is_lost_in_rounding():
    panel = finite_difference_panel().set(log10_h=-16.0)
    assert "rounds to x" in panel.message
    panel.set(log10_h=-8.0)
    assert panel.message == ""


def test_finite_difference_refuses_a_bad_point():
    with pytest.raises(ValueError, match="x0"):
        finite_difference_panel(x0=float("nan"))


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


def test_importing_the_panels_leaves_pyplot_and_rcparams_alone():
    import subprocess
    import sys

    code = ("import matplotlib, sys; before = matplotlib.rcParams.copy(); "
            "import gdcourse.widgets, gdcourse.plotting; "
            "from gdcourse.data import five_points; gdcourse.widgets.fit_panel(five_points()); "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
            "assert matplotlib.rcParams.copy() == before, 'rcParams changed'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert result.returncode == 0, result.stderr
