"""Slider panels of lessons 4–6: every control moves the picture, edges give messages, caches are exact.

Expectations are computed here independently of the panels: by hand-written
loops (SGD, momentum, RMSProp, Adam with and without bias correction), by the
library's own training loop where the panel uses a different algorithm (the
prefix scan of batch_size_panel against gdcourse.batching.train), by finite
differences and by the public figures of COURSE.md.  Timing lives in
benchmarks/bench_panels.py.
"""

import base64
import io
import math
import warnings

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from gdcourse import batching, data, deepnet, descent, optim, surfaces, widgets
from gdcourse.widgets import (Panel, batch_size_panel, bias_correction_panel, compare_optimizers_panel,
                              gradient_norms_panel, optimizer_panel, sgd_escape_panel)

pytestmark = pytest.mark.filterwarnings("error")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def control_values(control):
    """Every value worth visiting: the two ends of a slider, every option of a choice."""
    if isinstance(control, ipywidgets.FloatLogSlider):
        return [control.base ** control.min, control.base ** control.max]
    if isinstance(control, ipywidgets.Checkbox):
        return [False, True]
    if hasattr(control, "options"):
        opts = list(control.options)
        return [o[1] if isinstance(o, tuple) else o for o in opts]
    return [control.min, control.max]


def drawn(panel):
    """What the moving artists show, as plain data."""
    out = {}
    for name, artist in panel.artists.items():
        if name == "message":
            continue
        if hasattr(artist, "get_xydata"):
            out[name] = np.array(artist.get_xydata(), dtype=float)
        elif hasattr(artist, "get_height"):       # a bar
            out[name] = (artist.get_height(), artist.get_visible())
        else:
            out[name] = artist.get_text()
    return out


def same(a, b):
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


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


# --- lesson 4: batch size ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def regression():
    return data.make_regression(2000, 1, random_state=0)


@pytest.mark.parametrize("batch_size, lr, num_epochs", [(1, 0.01, 2), (32, 0.1, 5), (2000, 0.5, 20),
                                                         (64, 0.05, 1), (1024, 1.0, 3)])
def test_batch_size_panel_is_the_training_loop(regression, batch_size, lr, num_epochs):
    panel = batch_size_panel(random_state=0).set(batch_size=batch_size, lr=lr, num_epochs=num_epochs)
    h = batching.train(regression.X, regression.y, optim.sgd(lr=panel.values["lr"]), batch_size=batch_size,
                       num_epochs=num_epochs, random_state=0, record_path=True)
    assert h.stop_reason == "num_epochs" and not panel.diverged
    assert panel.updates_per_epoch == math.ceil(2000 / batch_size) == h.updates_per_epoch
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
    assert control.base ** control.min == 1 and round(control.base ** control.max) == 2000
    # a size typed into the readout (37) is used as it is; fractional slider positions round
    assert panel.batch_size_of(37.0) == 37 and panel.batch_size_of(2 ** 5.25) == 38
    assert panel.batch_size_of(2000.4) == 2000 and panel.batch_size_of(0.6) == 1
    a = panel.set(batch_size=37, lr=0.05, num_epochs=1).path.copy()
    b = panel.set(batch_size=38).path.copy()
    assert len(a) == 1 + 55 and len(b) == 1 + 53  # ceil(2000/37) and ceil(2000/38) updates
    assert panel.set(batch_size=37.3).path.shape == a.shape


def test_batch_size_panel_divergence_is_the_training_loops_stop(regression):
    panel = batch_size_panel()
    lr = widgets.batch_size_panel().controls["lr"]
    top = lr.base ** lr.max
    for b in (1, 2000):
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
    panel = batch_size_panel().set(batch_size=2000, lr=2.5, num_epochs=3)
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


# --- lesson 5 -----------------------------------------------------------------------------------

def _hand_mlp_loss(params, X, y, act):
    a = X
    for W, b in params[:-1]:
        a = act(a @ W + b)
    out = (a @ params[-1][0] + params[-1][1])[:, 0]
    return float(np.sum((out - y) ** 2)) / (2 * len(y))


def test_gradient_norm_bars_are_the_finite_difference_gradients():
    panel = gradient_norms_panel().set(depth=3, scale=1.0, activation="tanh", init="xavier")
    rng = np.random.default_rng(0)                 # the panel's seed: data first, then weights
    X, y = deepnet.make_chain_data(128, 8, random_state=rng)
    params = deepnet.init_weights([8, 16, 16, 1], scheme="xavier", random_state=rng)
    h = 1e-6
    expected = []
    for layer in range(3):
        W = params[layer][0]
        g = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            old = W[idx]
            W[idx] = old + h
            up = _hand_mlp_loss(params, X, y, np.tanh)
            W[idx] = old - h
            down = _hand_mlp_loss(params, X, y, np.tanh)
            W[idx] = old
            g[idx] = (up - down) / (2 * h)
        expected.append(np.linalg.norm(g))
    heights = [panel.artists[f"bar{i}"].get_height() for i in (1, 2, 3)]
    np.testing.assert_allclose(heights, expected, rtol=1e-5)
    assert [panel.artists[f"bar{i}"].get_visible() for i in range(1, 13)] == [True] * 3 + [False] * 9


@pytest.mark.parametrize("depth", [2, 12])
def test_gradient_norms_depth_extremes(depth):
    panel = gradient_norms_panel().set(depth=depth)
    visible = [panel.artists[f"bar{i}"].get_visible() for i in range(1, 13)]
    assert sum(visible) == depth and all(visible[:depth])
    # the training run starts from the same network as the bars
    np.testing.assert_allclose(panel.history.layer_grad_norms[0], panel.layer_grad_norms, rtol=1e-9)
    xs, losses = panel.artists["cost"].get_data()
    assert len(xs) == panel.history.n_epochs + 1


def test_gradient_norms_sigmoid_vanishes_with_depth():
    shallow = gradient_norms_panel().set(depth=2, activation="sigmoid", init="naive", scale=1.0)
    deep = gradient_norms_panel().set(depth=12, activation="sigmoid", init="naive", scale=1.0)
    ratio = lambda p: p.layer_grad_norms[0] / p.layer_grad_norms[-1]
    assert ratio(deep) < 1e-2 * ratio(shallow)


def test_gradient_norms_clipping_stops_the_explosion():
    panel = gradient_norms_panel().set(depth=12, activation="relu", init="he", scale=1.0, clip=False)
    assert panel.history.diverged
    assert panel.message.startswith("diverged after") and "clipping" in panel.message
    rng = np.random.default_rng(0)
    X, y = deepnet.make_chain_data(128, 8, random_state=rng)
    expected = deepnet.train_mlp(X, y, deepnet.chain_sizes(12, 16, 8), lr=0.2, num_epochs=30,
                                 activation="relu", init="he", clip=1.0, random_state=rng)
    panel.set(clip=True)
    assert not panel.history.diverged and panel.message == ""
    assert panel.history.n_clipped > 0 and "clipped" in panel.readouts["cost"]
    np.testing.assert_allclose(panel.history.losses, expected.losses, rtol=1e-12)
    np.testing.assert_allclose(panel.artists["cost"].get_ydata(), expected.losses, rtol=1e-12)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"width": 0}, ValueError, "width must be >= 1"),
    ({"lr": 0.0}, ValueError, "lr must be > 0"),
    ({"clip_norm": -1.0}, ValueError, "clip_norm must be > 0"),
    ({"num_epochs": 1.5}, TypeError, "num_epochs must be an integer"),
    ({"random_state": "seed"}, TypeError, "random_state"),
    ({"random_state": np.random.default_rng(0)}, TypeError, "int seed"),
])
def test_gradient_norms_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        gradient_norms_panel(**kwargs)


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


def _adam_1d(lr, b1, b2, theta0, lam, steps, correct, eps=1e-8):
    theta, m, v, out = theta0, 0.0, 0.0, [theta0]
    for t in range(1, steps + 1):
        g = lam * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
        theta = theta - lr * mh / (math.sqrt(vh) + eps)
        out.append(theta)
    return np.array(out)


@pytest.mark.parametrize("b1, b2", [(0.9, 0.999), (0.9, 0.9), (0.0, 0.99), (0.99, 0.8)])
def test_bias_correction_panel_shows_both_runs(b1, b2):
    panel = bias_correction_panel().set(beta1=b1, beta2=b2)
    b1, b2 = panel.values["beta1"], panel.values["beta2"]
    np.testing.assert_allclose(panel.corrected, _adam_1d(0.1, b1, b2, 3.0, 1.0, 30, True), rtol=1e-10)
    np.testing.assert_allclose(panel.uncorrected, _adam_1d(0.1, b1, b2, 3.0, 1.0, 30, False), rtol=1e-10)
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
    legend = panel.ax_path.get_legend()
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
