"""Every control alive: a control is disabled exactly when moving it cannot change the picture.

Each test uses the panels' headless API (``set``, ``controls``, ``artists``, ``render_png``): it
puts a panel in a state, moves the disabled control and checks that nothing drawn changed, and moves
an enabled one and checks that the picture did change.
"""

import numpy as np
import pytest

from gdcourse import data, optim, surfaces, widgets
from gdcourse.widgets import gradient_norms_panel, optimizer_panel
from gdcourse.widgets.lesson06 import OptimizerPanel
from .panelkit import _artist_data, _same, control_values

pytestmark = pytest.mark.filterwarnings("error")


def _data(artist):
    if hasattr(artist, "get_height"):     # a bar
        return (artist.get_height(), artist.get_visible())
    return _artist_data(artist), artist.get_visible()


def drawn(panel):
    return {k: _data(v) for k, v in panel.artists.items() if k != "message"}


def same(a, b):
    return a[1] == b[1] and _same(a[0], b[0])


def _state(panel):
    """Everything a learner sees: the moving artists, the PNG and the readout line."""
    return drawn(panel), panel.render_png(), dict(panel.readouts), panel.message


def _unchanged(before, after):
    (d0, png0, r0, m0), (d1, png1, r1, m1) = before, after
    return all(same(d0[k], d1[k]) for k in d0) and png0 == png1 and r0 == r1 and m0 == m1


def _other_value(control):
    values = [v for v in control_values(control) if v != control.value]
    return values[0]


def _factories():
    d = data.five_points()
    return {
        "fit": lambda: widgets.fit_panel(d),
        "cross_entropy": widgets.cross_entropy_panel,
        "tangent": lambda: widgets.tangent_panel(d),
        "finite_difference": widgets.finite_difference_panel,
        "descent": lambda: widgets.descent_panel(d),
        "learning_rate": widgets.learning_rate_panel,
        "local_minima": widgets.local_minima_panel,
        "batch_size": widgets.batch_size_panel,
        "sgd_escape": widgets.sgd_escape_panel,
        "gradient_norms": widgets.gradient_norms_panel,
        "optimizer": widgets.optimizer_panel,
        "bias_correction": widgets.bias_correction_panel,
        "compare_optimizers": widgets.compare_optimizers_panel,
        "feature_scaling": lambda: widgets.feature_scaling_panel(d),
        "batch_lr": widgets.batch_lr_panel,
        "warmup": widgets.warmup_panel,
    }


@pytest.mark.parametrize("name", list(_factories()))
def test_in_the_first_state_every_enabled_control_moves_the_picture_and_no_disabled_one_does(name):
    panel = _factories()[name]()
    start = dict(panel.values)
    for cname, control in panel.controls.items():
        panel.set(**start)
        before = _state(panel)
        if control.disabled:
            assert cname in panel.inactive and control.tooltip == panel.inactive[cname]
            panel.set(**{cname: _other_value(control)})
            assert _unchanged(before, _state(panel)), f"{name}: disabled {cname} changed the picture"
        else:
            assert cname not in panel.inactive
            moved = False
            for value in control_values(control):
                if value != start[cname]:
                    panel.set(**start)
                    panel.set(**{cname: value})
                    moved = moved or panel.render_png() != before[1]
            assert moved, f"{name}: enabled {cname} changed nothing"


# --- lesson 6's optimiser panel -----------------------------------------------------------------

EXPECTED_OFF = {"sgd": {"beta1", "beta2"}, "adagrad": {"beta1", "beta2"}, "momentum": {"beta2"},
                "nesterov": {"beta2"}, "rmsprop": {"beta1"}, "adam": set(), "adamw": set()}


@pytest.mark.parametrize("opt", OptimizerPanel.names)
def test_optimizer_panel_disables_exactly_the_betas_the_optimiser_ignores(opt):
    panel = optimizer_panel()
    tips = {n: panel.controls[n].tooltip for n in ("beta1", "beta2")}
    panel.set(optimizer=opt)
    off = {n for n in ("beta1", "beta2") if panel.controls[n].disabled}
    assert off == EXPECTED_OFF[opt] == set(panel.inactive)
    for n in ("beta1", "beta2"):
        b = panel.controls[n]
        new = 0.5 if n == "beta1" else 0.9
        before = _state(panel)
        thetas = panel.thetas.copy()
        panel.set(**{n: new})
        if n in off:
            assert opt in b.tooltip and "β" in b.tooltip
            assert _unchanged(before, _state(panel)), f"{opt}: disabled {n} changed the picture"
        else:
            assert b.tooltip == tips[n]
            assert not np.allclose(panel.thetas[:len(thetas)], thetas[:len(panel.thetas)])
    # back to Adam: both enabled again, with their own tooltips
    panel.set(optimizer="adam")
    assert not panel.controls["beta1"].disabled and not panel.controls["beta2"].disabled
    assert {n: panel.controls[n].tooltip for n in ("beta1", "beta2")} == tips


def test_an_enabled_beta_changes_the_path_where_the_disabled_one_does_not():
    panel = optimizer_panel().set(optimizer="momentum", beta1=0.9)
    before = _state(panel)
    panel.set(beta2=0.85)                           # ignored by momentum
    assert _unchanged(before, _state(panel))
    panel.set(beta1=0.5)                            # μ
    assert not _unchanged(before, _state(panel))


@pytest.mark.parametrize("surface", ["ill_conditioned", "rosenbrock"])
@pytest.mark.parametrize("opt", OptimizerPanel.names)
def test_choosing_an_optimiser_resets_alpha_to_its_default(surface, opt):
    panel = optimizer_panel(surface).set(lr=2.5e-4)      # far from every default
    panel.controls["optimizer"].value = "adam" if opt != "adam" else "sgd"   # as the dropdown does
    panel.set(lr=2.5e-4)
    panel.controls["optimizer"].value = opt
    lr = OptimizerPanel.default_lr[surface][opt]
    assert panel.values["lr"] == pytest.approx(lr)
    # the redraw used that α: the first step is the optimiser's own, computed here
    s = surfaces.get_surface(surface)
    kwargs = {"momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.9}, "rmsprop": {"rho": 0.999},
              "adam": {"betas": (0.9, 0.999)}, "adamw": {"betas": (0.9, 0.999)}}.get(opt, {})
    expected = optim.run(optim.get_optimizer(opt, lr=lr, **kwargs), s.fast_grad, s.start, 3).thetas
    np.testing.assert_allclose(panel.thetas[:4], expected, rtol=1e-12, atol=1e-15)
    # a sensible default: it converges, and ends well below the start
    assert not panel.diverged
    assert panel.losses[-1] < 0.5 * panel.losses[0]


def test_an_alpha_given_with_the_optimiser_wins_and_one_redraw_follows_a_choice():
    panel = optimizer_panel()
    panel.set(optimizer="sgd", lr=0.2)
    assert panel.values["lr"] == pytest.approx(0.2)
    redraws = []
    original = panel.redraw
    panel.redraw = lambda: (redraws.append(1), original())
    panel.controls["optimizer"].value = "rmsprop"
    assert len(redraws) == 1 and panel.values["lr"] == pytest.approx(0.1)


def test_a_wrong_alpha_default_would_be_caught():
    # the check above is not vacuous: SGD at Adam's rosenbrock α diverges
    panel = optimizer_panel("rosenbrock").set(optimizer="sgd", lr=OptimizerPanel.default_lr["rosenbrock"]["adam"])
    assert panel.diverged


# --- lesson 5's clipping box --------------------------------------------------------------------


def test_clipping_is_disabled_exactly_when_no_gradient_reaches_the_clip_norm():
    panel = gradient_norms_panel()
    # a quiet run: every update's gradient is below the clip norm, so clipping changes nothing
    panel.set(depth=6, scale=1.0, activation="sigmoid", init="naive", clip=False)
    assert panel.controls["clip"].disabled and "changes nothing" in panel.controls["clip"].tooltip
    assert np.all(panel.history.grad_norms[:-1] < panel.clip_norm)
    before = _state(panel)
    panel.set(clip=True)
    assert _unchanged(before, _state(panel))
    assert panel.history.n_clipped == 0
    # an exploding run: clipping is enabled and changes the training curve
    panel.set(clip=False, depth=12, scale=1.0, activation="sigmoid", init="naive")
    assert not panel.controls["clip"].disabled
    assert panel.controls["clip"].tooltip == panel._tooltips["clip"]
    before = _state(panel)
    panel.set(clip=True)
    assert panel.history.n_clipped > 0 and not _unchanged(before, _state(panel))


# --- the message box stays inside its axes ------------------------------------------------------


@pytest.mark.parametrize("make, values", [
    (widgets.learning_rate_panel, {"lr": "max"}),
    (lambda: widgets.descent_panel(data.five_points()), {"lr": "max"}),
    (widgets.gradient_norms_panel, {"depth": 12, "scale": 10.0, "activation": "relu", "init": "naive"}),
    (widgets.bias_correction_panel, {"beta1": 0.0, "beta2": 0.999}),
    (widgets.compare_optimizers_panel, {"lr_scale": 10.0}),
])
def test_the_message_box_fits_inside_its_axes(make, values):
    panel = make()
    if values.get("lr") == "max":
        c = panel.controls["lr"]
        values = {"lr": c.base ** c.max if hasattr(c, "base") else c.max}
    panel.set(**values)
    assert panel.message
    renderer = panel.canvas.get_renderer()
    box = panel._message_axes().get_window_extent(renderer)
    patch = panel._message_artist.get_bbox_patch()
    panel._message_artist.draw(renderer)     # lays the box out around the text
    ext = patch.get_window_extent(renderer)
    assert box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1


def test_static_titles_fit_their_axes():
    panel = widgets.compare_optimizers_panel().set(surface="rosenbrock")
    renderer = panel.canvas.get_renderer()
    ax = panel.ax_cost
    long = panel.readouts["cost"]
    assert ax.set_title(long, loc="left", fontsize=9.5).get_window_extent(renderer).width > \
        ax.get_window_extent(renderer).width          # too wide on one line: the case to handle
    panel._fit_title(ax, [long], renderer)
    assert ax.title is not None
    title = ax._left_title
    assert title.get_window_extent(renderer).width <= ax.get_window_extent(renderer).width
    assert title.get_text().count("\n") <= 1 and title.get_text().replace("\n", " ") == long
