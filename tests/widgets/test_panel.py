"""The panel core, on every panel: controls move the picture, blitting equals a fresh draw,
edges give a picture and no warning, the static fallback follows the state, caches are exact.
"""

import base64
import warnings

import ipywidgets
import numpy as np
import pytest

from gdcourse import widgets
from gdcourse.widgets import (Panel, batch_size_panel, bias_correction_panel, compare_optimizers_panel,
                              cross_entropy_panel, descent_panel, finite_difference_panel, fit_panel,
                              gradient_norms_panel, learning_rate_panel, local_minima_panel, optimizer_panel,
                              sgd_escape_panel, tangent_panel)
from .panelkit import (PNG_SIGNATURE, _artist_data, _same, control_values, count_full_draws, drawn, ends, pixels,
                       same)

pytestmark = pytest.mark.filterwarnings("error")


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
    # the same figure, at the 100 dpi of the course's static figures (the live image stays at 80)
    w, h = panel.figure.get_size_inches()
    assert pixels(png).shape[:2] == (round(h * 100), round(w * 100))
    assert pixels(panel.render_png()).shape[:2] == (round(h * panel.figure.dpi), round(w * panel.figure.dpi))
    assert panel.figure.dpi == 80
    assert "text/plain" in bundle
    monkeypatch.setenv("GDCOURSE_HEADLESS", "1")
    assert widgets.headless()
    bundle = panel._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"}
    # the static picture follows the state
    panel.set(**{control: b})
    assert base64.b64decode(panel._repr_mimebundle_()["image/png"]) != png


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


def test_importing_the_panels_leaves_pyplot_and_rcparams_alone():
    import subprocess
    import sys

    code = ("import matplotlib, sys; before = matplotlib.rcParams.copy(); "
            "import gdcourse.widgets, gdcourse.plotting; "
            "from gdcourse.data import five_points; gdcourse.widgets.fit_panel(five_points()); "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
            "assert matplotlib.rcParams.copy() == before, 'rcParams changed'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert result.returncode == 0, result.stderr


# --- one case per control: (panel factory, context set first, control, value a, value b) -------


CASES = {
    "batch_size/batch_size": (batch_size_panel, {}, "batch_size", 1, 2000),
    "batch_size/lr": (batch_size_panel, {}, "lr", 0.01, 0.3),
    "batch_size/num_epochs": (batch_size_panel, {}, "num_epochs", 1, 7),
    "sgd_escape/noise": (sgd_escape_panel, {}, "noise", 0.0, 5.0),
    "sgd_escape/lr": (sgd_escape_panel, {"noise": 3.0}, "lr", 0.02, 0.08),
    "gradient_norms/depth": (gradient_norms_panel, {}, "depth", 2, 12),
    "gradient_norms/scale": (gradient_norms_panel, {}, "scale", 0.5, 2.0),
    "gradient_norms/activation": (gradient_norms_panel, {}, "activation", "sigmoid", "tanh"),
    "gradient_norms/init": (gradient_norms_panel, {}, "init", "naive", "xavier"),
    "gradient_norms/clip": (gradient_norms_panel, {"activation": "relu", "init": "he", "depth": 12},
                            "clip", False, True),
    "optimizer/optimizer": (optimizer_panel, {}, "optimizer", "adam", "momentum"),
    "optimizer/lr": (optimizer_panel, {}, "lr", 0.01, 0.2),
    "optimizer/beta1": (optimizer_panel, {"optimizer": "momentum", "lr": 0.05}, "beta1", 0.5, 0.9),
    "optimizer/beta2": (optimizer_panel, {"optimizer": "adam"}, "beta2", 0.9, 0.999),
    "optimizer/surface": (optimizer_panel, {}, "surface", "ill_conditioned", "rosenbrock"),
    "bias_correction/beta1": (bias_correction_panel, {}, "beta1", 0.5, 0.9),
    "bias_correction/beta2": (bias_correction_panel, {}, "beta2", 0.9, 0.999),
    "compare/lr_scale": (compare_optimizers_panel, {}, "lr_scale", 0.5, 2.0),
    "compare/surface": (compare_optimizers_panel, {}, "surface", "ill_conditioned", "rosenbrock"),
}


FACTORIES = {
    "batch_size": batch_size_panel,
    "sgd_escape": sgd_escape_panel,
    "gradient_norms": gradient_norms_panel,
    "optimizer": optimizer_panel,
    "bias_correction": bias_correction_panel,
    "compare": compare_optimizers_panel,
}


def test_every_control_of_every_new_panel_has_a_case():
    for name, factory in FACTORIES.items():
        panel = factory()
        assert isinstance(panel, Panel)
        covered = {case[2] for key, case in CASES.items() if key.startswith(name + "/")}
        assert covered == set(panel.controls), name


@pytest.mark.parametrize("case", list(CASES))
def test_moving_each_control_changes_the_drawn_data_and_the_png(case):
    factory, context, control, a, b = CASES[case]
    panel = factory()
    panel.set(**context, **{control: a})
    before, png = drawn(panel), panel.render_png()
    panel.set(**{control: b})
    after = drawn(panel)
    assert panel.values[control] == (pytest.approx(b) if isinstance(b, float) else b)
    changed = [k for k in before if not same(before[k], after[k])]
    assert changed, f"{case}: nothing drawn changed"
    assert panel.render_png() != png
    assert panel.image.value == panel.render_png()


@pytest.mark.parametrize("name", list(FACTORIES))
def test_every_control_at_every_edge_gives_a_picture_and_no_warning(name):
    panel = FACTORIES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cname, control in panel.controls.items():
            start = control.value
            for value in control_values(control):
                panel.set(**{cname: value})
                assert panel.render_png().startswith(PNG_SIGNATURE)
                assert isinstance(panel.message, str)
                assert panel.artists["message"].get_visible() == bool(panel.message)
            panel.set(**{cname: start})


@pytest.mark.parametrize("case", ["batch_size/lr", "gradient_norms/scale", "gradient_norms/depth",
                                  "optimizer/surface", "compare/surface", "sgd_escape/noise",
                                  "bias_correction/beta2"])
def test_the_live_picture_equals_a_freshly_drawn_one(case):
    """After moves (and a static render) the blitted image is pixel for pixel a new panel's."""
    factory, context, control, a, b = CASES[case]
    moved = factory().set(**context)
    for value in (b, a, b):
        moved.set(**{control: value})
    moved.static_png()
    moved.set(**{control: a})
    fresh = factory().set(**context, **{control: a})
    np.testing.assert_array_equal(pixels(moved.render_png()), pixels(fresh.render_png()))


@pytest.mark.parametrize("case", ["batch_size/lr", "gradient_norms/scale", "optimizer/lr",
                                  "compare/lr_scale"])
def test_a_cached_recomputation_draws_exactly_the_same(case):
    factory, context, control, a, b = CASES[case]
    panel = factory().set(**context, **{control: a})
    first = drawn(panel)
    panel.set(**{control: b})
    panel.set(**{control: a})                  # back: served from the cache
    again = drawn(panel)
    assert all(same(first[k], again[k]) for k in first)
    other = factory().set(**context, **{control: a})   # a new panel computes it afresh
    fresh = drawn(other)
    assert all(same(first[k], fresh[k]) for k in first)


def test_moving_back_is_served_by_the_cache():
    panel = batch_size_panel().set(batch_size=1, lr=0.01)
    hits = panel._run.cache_info().hits
    panel.set(batch_size=8)
    panel.set(batch_size=1)
    assert panel._run.cache_info().hits == hits + 1
    panel.set(num_epochs=3)                    # epochs slice the cached run
    assert panel._run.cache_info().hits == hits + 2


@pytest.mark.parametrize("name", list(FACTORIES))
def test_static_fallback_png_follows_the_state(name, monkeypatch):
    panel = FACTORIES[name]()
    monkeypatch.setenv("GDCOURSE_HEADLESS", "1")
    bundle = panel._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"}
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(PNG_SIGNATURE)
    _, context, control, a, b = next(c for k, c in CASES.items() if k.startswith(name + "/"))
    panel.set(**context)
    png = base64.b64decode(panel._repr_mimebundle_()["image/png"])
    panel.set(**{control: b if panel.values[control] != b else a})
    assert base64.b64decode(panel._repr_mimebundle_()["image/png"]) != png


# --- the one render path: a bounded cache of static layers -----------------------------------

def test_a_panel_that_never_changes_its_static_layer_keeps_one_layer(d):
    panel = fit_panel(d)
    for v in np.linspace(-0.2, 1.2, 9):
        panel.set(theta1=float(v))
    assert len(panel._blitter._cache) == 1


def test_dynamic_axes_limits_take_no_cache_entries(d):
    panel = descent_panel(d)
    windows = set()
    for n in (1, 3, 7, 15, 40, 90, 200, 450, 700, 1500, 2000):
        panel.set(num_iters=n)
        windows.add(panel.ax_cost.get_xlim())
    assert len(windows) > 5 and len(panel._blitter._cache) == 1


def test_the_layer_cache_is_bounded_and_drops_the_least_recently_used():
    from gdcourse.widgets import _blit

    panel = optimizer_panel()
    panel._blitter.cache_size = 2
    panel.set(surface="rosenbrock")
    panel.set(surface="ill_conditioned")
    first = panel.render_png()
    assert len(panel._blitter._cache) == 2
    panel.set(optimizer="sgd")           # the same layer: no new entry
    assert len(panel._blitter._cache) == 2
    ax = panel.ax_cost
    old = ax.get_ylim()
    draws = count_full_draws(panel)
    for top in (1e5, 1e6):               # two more layers push both older ones out
        ax.set_ylim(old[0], top)
        panel.redraw()
    assert len(panel._blitter._cache) == 2 and len(draws) == 2 and _blit.CACHE_SIZE >= 2
    ax.set_ylim(*old)
    panel.set(optimizer="adam")          # evicted: drawn again, and the same picture as before
    assert len(draws) == 3
    np.testing.assert_array_equal(pixels(panel.render_png()), pixels(first))
