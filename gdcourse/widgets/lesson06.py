"""Lesson 6's panels: one optimiser, Adam's bias correction, and four optimisers together.

The paths come from :func:`gdcourse.optim.run` (by the descent stop rule) and
:func:`gdcourse.optim.adam` (with and without bias correction).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

import ipywidgets as widgets

from .. import plotting as _plotting
from .._stopping import DIVERGENCE_FACTOR
from .._validation import as_rng, check_array, check_choice, check_int, check_positive, check_X_y, describe
from ..batching import train
from ..data import make_regression
from ..optim import adam, get_optimizer, run
from ..plotting import OPTIMIZER_COLORS
from ..schedules import constant, cosine, linear_warmup
from ..surfaces import get_surface
from ._panel import Panel
from ._parts import _STYLE, _artists_added, _clip_log, _dropdown, _int_slider, _legend_line, _log_slider, _slider

__all__ = ["optimizer_panel", "bias_correction_panel", "compare_optimizers_panel", "warmup_panel"]


#: steps each lesson 6 panel takes on a surface, and the log-axis floor of its loss curve
_SURFACE_STEPS = {"ill_conditioned": 100, "rosenbrock": 300}
_LOSS_FLOOR = 1e-10


def _optimizer_kwargs(name, lr, beta1, beta2):
    """The hyper-parameters each optimiser takes from the α, β1, β2 sliders, and the ones it ignores.

    momentum, nesterov: μ = β1;  rmsprop: ρ = β2 (the decay of the g² average, the
    role β2 plays in Adam);  adam, adamw: (β1, β2);  sgd, adagrad: neither.
    """
    if name in ("momentum", "nesterov"):
        return {"lr": lr, "momentum": beta1}, ("beta2",)
    if name == "rmsprop":
        return {"lr": lr, "rho": beta2}, ("beta1",)
    if name in ("adam", "adamw"):
        return {"lr": lr, "betas": (beta1, beta2)}, ()
    return {"lr": lr}, ("beta1", "beta2")


def _optimizer_path(surface, name, kwargs, num_steps):
    """``optim.run`` of one optimiser from ``surface.start``, by the descent stop rule: ``(thetas, losses, diverged)``."""
    traj = run(get_optimizer(name, **kwargs), surface.fast_grad, surface.start, num_steps,
               loss_fn=surface.fast_value, divergence_factor=DIVERGENCE_FACTOR)
    return traj.thetas, traj.losses, traj.diverged


class _SurfacePanel(Panel):
    """Shared by the lesson 6 panels: contours of several surfaces in one axes, one shown at a time."""

    def _draw_surfaces(self, ax, names):
        self.surfaces = {n: get_surface(n) for n in names}
        self._surface_artists = {}
        for n, s in self.surfaces.items():
            self._surface_artists[n] = _artists_added(ax, lambda: _plotting.plot_contour(s, ax=ax))
        self._shown_surface = None

    def _show_surface(self, name, ax_path, ax_cost):
        if name == self._shown_surface:
            return
        for n, arts in self._surface_artists.items():
            for a in arts:
                a.set_visible(n == name)
        s = self.surfaces[name]
        ax_path.set_xlim(s.xlim)
        ax_path.set_ylim(s.ylim)
        f0 = float(s.fast_value(s.start))
        ax_cost.set_xlim(0, _SURFACE_STEPS[name])
        ax_cost.set_ylim(_LOSS_FLOOR, 10.0 ** math.ceil(math.log10(f0) + 1.0))
        self._shown_surface = name

    def _static_key(self):
        return (self._shown_surface,)

    def _warm_surfaces(self):
        """Draw the static layer of every other surface now, so the first switch to it is a copy.

        Each layer is one full draw (about 0.1 s); doing them while the cell runs keeps the
        ``surface`` dropdown as fast on its first use as afterwards.
        """
        shown = self._shown_surface
        for name in self.surfaces:
            if name != shown:
                self._show_surface(name, self.ax_path, self.ax_cost)
                self._blitter.render(self._static_key())
        self._show_surface(shown, self.ax_path, self.ax_cost)
        self.redraw()


#: why a β slider does nothing for an optimiser (the tooltip of the disabled slider)
_UNUSED_WHY = {
    ("sgd", "beta1"): "sgd uses neither β1 nor β2: θ ← θ − α∇f",
    ("sgd", "beta2"): "sgd uses neither β1 nor β2: θ ← θ − α∇f",
    ("adagrad", "beta1"): "adagrad has no decay: it sums every g² (s ← s + g²), so β1 and β2 do nothing",
    ("adagrad", "beta2"): "adagrad has no decay: it sums every g² (s ← s + g²), so β1 and β2 do nothing",
    ("momentum", "beta2"): "momentum uses only μ = β1; β2 is the g² decay of RMSProp and Adam",
    ("nesterov", "beta2"): "nesterov uses only μ = β1; β2 is the g² decay of RMSProp and Adam",
    ("rmsprop", "beta1"): "rmsprop has no momentum term: it uses only ρ = β2",
}


class OptimizerPanel(_SurfacePanel):
    """optimiser, α, β1, β2, surface → the optimiser's path on the contour and its loss per step."""

    names = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
    #: the α that choosing an optimiser sets, per surface: a rate that converges with the default β1 = 0.9,
    #: β2 = 0.999, well inside the stable range (the best rate on a grid 10⁻⁴ … 10^0.5 sits next to it or is
    #: the edge of divergence)
    default_lr = {
        "ill_conditioned": {"sgd": 0.4, "momentum": 0.05, "nesterov": 0.1, "adagrad": 1.0, "rmsprop": 0.1,
                            "adam": 0.1, "adamw": 0.1},
        "rosenbrock": {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 5e-4, "adagrad": 1.0, "rmsprop": 0.03,
                       "adam": 0.3, "adamw": 0.3},
    }

    def __init__(self, surface="ill_conditioned"):
        check_choice(surface, "surface", tuple(_SURFACE_STEPS))
        self._path = lru_cache(maxsize=256)(self._path_uncached)
        controls = {
            "optimizer": _dropdown("optimizer", self.names, "adam"),
            "lr": _log_slider("α (learning rate)", -4.0, 0.5, self.default_lr[surface]["adam"]),
            "beta1": _slider("β1 (μ for momentum)", 0.0, 0.99, 0.9, 0.01),
            "beta2": _slider("β2 (ρ for RMSProp)", 0.8, 0.999, 0.999, 0.001, readout_format=".3f"),
            "surface": _dropdown("surface", tuple(_SURFACE_STEPS), surface),
        }
        controls["optimizer"].tooltip = "choosing an optimiser sets α to its default for this surface"
        # registered before the panel's own observer, so the panel redraws once, with the new α
        controls["optimizer"].observe(self._reset_lr, names="value")
        super().__init__(controls)
        self._warm_surfaces()

    def _reset_lr(self, change):
        """A new optimiser starts at its own sensible α (a rate good for Adam diverges for SGD)."""
        lr = self.default_lr[self.controls["surface"].value][change["new"]]
        self._hold += 1      # the optimiser's own change redraws, once
        try:
            self.controls["lr"].value = lr
        finally:
            self._hold -= 1

    def _inactive(self, optimizer, lr, beta1, beta2, surface):
        return {name: _UNUSED_WHY[optimizer, name] for name in ("beta1", "beta2")
                if (optimizer, name) in _UNUSED_WHY}

    def _path_uncached(self, surface, name, lr, beta1, beta2):
        kwargs, _ = _optimizer_kwargs(name, lr, beta1, beta2)
        return _optimizer_path(self.surfaces[surface], name, kwargs, _SURFACE_STEPS[surface])

    def _build(self):
        left, right = self.ax_path, self.ax_cost = self._two_axes()
        self._draw_surfaces(left, _SURFACE_STEPS)
        self._path_artists(left, "optimiser path on the contour", markersize=2)
        right.set_yscale("log")
        right.set_xlabel("step t")
        right.set_ylabel("f(θ_t)")
        right.grid(True, which="major", alpha=0.3)
        self._moving("cost", right.plot([0], [1], color=_plotting.PATH_COLOR, lw=1.5)[0])
        self._readout("cost", right, "loss per step (log scale)")

    def _update(self, optimizer, lr, beta1, beta2, surface):
        self._show_surface(surface, self.ax_path, self.ax_cost)
        _, unused = _optimizer_kwargs(optimizer, lr, beta1, beta2)
        # an ignored slider is left out of the cache key: moving it costs no new run
        key_b1 = None if "beta1" in unused else float(beta1)
        key_b2 = None if "beta2" in unused else float(beta2)
        thetas, losses, diverged = self._path(surface, optimizer, float(lr),
                                              0.9 if key_b1 is None else key_b1,
                                              0.999 if key_b2 is None else key_b2)
        self.thetas, self.losses, self.diverged = thetas, losses, diverged
        color = OPTIMIZER_COLORS[optimizer]
        for name in ("path", "end", "cost"):
            self.artists[name].set_color(color)
        self.artists["end"].set_markerfacecolor(color)
        self._show_path(thetas, max_dots=100)
        self.artists["cost"].set_data(np.arange(len(losses)), _clip_log(losses, _LOSS_FLOOR))
        hyper = {"momentum": f"μ = β1 = {beta1:.2f}", "nesterov": f"μ = β1 = {beta1:.2f}",
                 "rmsprop": f"ρ = β2 = {beta2:.3f}", "adam": f"β1 = {beta1:.2f}, β2 = {beta2:.3f}",
                 "adamw": f"β1 = {beta1:.2f}, β2 = {beta2:.3f}, λ = 0.01"}.get(optimizer, "")
        ignored = " and ".join("β1" if u == "beta1" else "β2" for u in unused)
        note = f" ({ignored} not used)" if ignored else ""
        self._say("path", f"{optimizer}: α = {lr:.3g}" + (f", {hyper}" if hyper else "") + note)
        self._say("cost", f"after {len(losses) - 1} steps: f = {losses[-1]:.3g}")
        if diverged:
            self.message = f"{optimizer} diverged after {len(losses) - 1} steps:\nα = {lr:.3g} is too large here"


def optimizer_panel(surface="ill_conditioned") -> Panel:
    """Lesson 6: one optimiser of :mod:`gdcourse.optim` and its hyper-parameters, by sliders.

    Controls: the optimiser (sgd, momentum, nesterov, adagrad, rmsprop, adam,
    adamw), α (log scale), β1, β2 and the surface (``"ill_conditioned"``,
    f = 0.1θ₁² + 2θ₂², 100 steps; ``"rosenbrock"``, 300 steps), started at the
    surface's ``start``.  The sliders map to each optimiser's hyper-parameters:

    * momentum, nesterov: μ = β1 (b ← μb + g; θ ← θ − αb);
    * rmsprop: ρ = β2 (s ← ρs + (1 − ρ)g², the average β2 keeps in Adam);
    * adam, adamw: β1 and β2 (adamw with λ = 0.01);
    * sgd, adagrad: neither.

    A slider the chosen optimiser ignores is disabled, its tooltip says why and
    the readout says "not used"; moving it (``panel.set``) changes nothing.
    Choosing an optimiser sets α to its default on the current surface
    (``OptimizerPanel.default_lr``: a rate that converges with β1 = 0.9,
    β2 = 0.999), since a good α for one optimiser diverges for another; an α
    given in the same ``set`` call after the optimiser wins.

    Left: the path θ_0, θ_1, … on the contour; right: f(θ_t) on a log axis.
    Runs come from :func:`gdcourse.optim.run` and are cached by their settings;
    divergence shows as a message.
    """
    return OptimizerPanel(surface)


class BiasCorrectionPanel(Panel):
    """β1, β2 → the first Adam steps with and without bias correction, on f(θ) = ½λθ²."""

    _message_xy = (0.7, 0.85)

    def __init__(self, lr=0.1, theta0=3.0, curvature=1.0, num_steps=30, eps=1e-8):
        self.lr = check_positive(lr, "lr")
        self.theta0 = float(check_array(theta0, "theta0", ndim=0))
        if self.theta0 == 0:
            raise ValueError("theta0 must not be 0: at θ = 0 the gradient is 0 and Adam does not move.")
        self.lam = check_positive(curvature, "curvature")
        self.num_steps = check_int(num_steps, "num_steps", minimum=1, maximum=1000)
        self.eps = check_positive(eps, "eps")
        controls = {
            "beta1": _slider("β1", 0.0, 0.99, 0.9, 0.01),
            "beta2": _slider("β2", 0.8, 0.999, 0.999, 0.001, readout_format=".3f"),
        }
        super().__init__(controls)

    def _runs(self, beta1, beta2):
        """θ_t of gdcourse.optim.adam with bias correction and without it (m, v used as they are)."""
        lam, T = self.lam, self.num_steps

        def path(bias_correction):
            opt = adam(lr=self.lr, betas=(beta1, beta2), eps=self.eps, bias_correction=bias_correction)
            return run(opt, lambda th: lam * th, np.array([self.theta0]), T).thetas[:, 0]

        corrected, raw = path(True), path(False)
        return corrected, raw

    def _build(self):
        left, right = self._two_axes()
        self.ax_step, self.ax_theta = left, right
        T = self.num_steps
        self._t = np.arange(1, T + 1)
        left.set_yscale("log")
        left.set_xlim(0.5, T + 0.5)
        left.set_ylim(1e-2, 1e2)
        left.axhline(1.0, color="black", lw=0.8, ls="--")
        left.set_xlabel("step t")
        left.set_ylabel("|θ_t − θ_{t−1}| / α")
        left.grid(True, which="major", alpha=0.3)
        self._moving("step_raw", left.plot([1], [1], color="grey", marker="o", markersize=3.5, lw=1.2,
                                           label="without correction")[0])
        self._moving("step_corrected", left.plot([1], [1], color=OPTIMIZER_COLORS["adam"], marker="o",
                                                 markersize=3.5, lw=1.5, label="with correction")[0])
        self._moving("step_constant", left.plot([1], [1], color="grey", lw=0.8, ls=":")[0])
        left.legend(handles=[
            _legend_line(OPTIMIZER_COLORS["adam"], "-", "with bias correction"),
            _legend_line("grey", "-", "without"),
            _legend_line("grey", ":", "without, constant g: (1−β1ᵗ)/√(1−β2ᵗ)"),
        ], loc="lower left", fontsize=7.5, framealpha=0.85)   # off the curves: they stay near 1 and above
        self._readout("step", left, "step size in units of α")
        # θ axis: room for the widest swing over the corners of the sliders
        worst = [np.abs(np.concatenate(self._runs(b1, b2))).max()
                 for b1 in (0.0, 0.5, 0.9, 0.99) for b2 in (0.8, 0.9, 0.99, 0.999)]
        top = 1.1 * max(max(worst), abs(self.theta0))
        right.set_xlim(0, T)
        right.set_ylim(-top, top)
        right.axhline(0.0, color="black", lw=0.8, ls="--")
        right.set_xlabel("step t")
        right.set_ylabel("θ_t")
        right.grid(True, which="major", alpha=0.3)
        self._moving("theta_raw", right.plot([0], [0], color="grey", marker="o", markersize=3, lw=1.2)[0])
        self._moving("theta_corrected", right.plot([0], [0], color=OPTIMIZER_COLORS["adam"], marker="o",
                                                   markersize=3, lw=1.5)[0])
        self._readout("theta", right, f"θ_t on f(θ) = ½·{self.lam:g}·θ², α = {self.lr:g}")

    def _update(self, beta1, beta2):
        corrected, raw = self._runs(beta1, beta2)
        self.corrected, self.uncorrected = corrected, raw
        step_c = np.abs(np.diff(corrected)) / self.lr
        step_r = np.abs(np.diff(raw)) / self.lr
        self.step_corrected, self.step_uncorrected = step_c, step_r
        t = self._t
        constant = (1.0 - beta1 ** t) / np.sqrt(1.0 - beta2 ** t)
        self.artists["step_corrected"].set_data(t, _clip_log(step_c, 1e-2))
        self.artists["step_raw"].set_data(t, _clip_log(step_r, 1e-2))
        self.artists["step_constant"].set_data(t, constant)
        T = len(t)
        self.artists["theta_corrected"].set_data(np.arange(T + 1), corrected)
        self.artists["theta_raw"].set_data(np.arange(T + 1), raw)
        first = (1.0 - beta1) / math.sqrt(1.0 - beta2)
        self._say("step", f"step 1: {step_c[0]:.3g}α with, {step_r[0]:.3g}α without")
        self._say("theta", f"θ_{T}: {corrected[-1]:.3g} with, {raw[-1]:.3g} without")
        if first > 2.0:
            self.message = f"uncorrected: first step\n{first:.3g}× too large"
        elif first < 0.5:
            self.message = f"uncorrected: first step\n{1 / first:.3g}× too small"


def bias_correction_panel(lr=0.1, theta0=3.0, curvature=1.0, num_steps=30) -> Panel:
    """Lesson 6: Adam's bias correction, made visible in its first ``num_steps`` steps.

    Adam keeps m ← β1·m + (1 − β1)·g and v ← β2·v + (1 − β2)·g², both started
    at 0, so after t steps of a constant gradient g they are m = (1 − β1ᵗ)·g and
    v = (1 − β2ᵗ)·g².  Corrected, m̂ = m/(1 − β1ᵗ) and v̂ = v/(1 − β2ᵗ) give a step
    α·m̂/(√v̂ + ε) ≈ α; uncorrected, α·m/(√v + ε) ≈ α·(1 − β1ᵗ)/√(1 − β2ᵗ), which
    at t = 1 is α·(1 − β1)/√(1 − β2): 3.16α for the defaults β1 = 0.9, β2 = 0.999
    (too large), 0.32α for β1 = β2 = 0.9 (too small).

    On f(θ) = ½λθ² (λ = ``curvature``) from ``theta0`` with α = ``lr``: left, the
    step sizes |θ_t − θ_{t−1}|/α with correction (:func:`gdcourse.optim.adam`) and
    without (the same loop without the two divisions), and the constant-gradient
    curve (1 − β1ᵗ)/√(1 − β2ᵗ); right, the iterates θ_t of both.
    """
    return BiasCorrectionPanel(lr, theta0, curvature, num_steps)


class CompareOptimizersPanel(_SurfacePanel):
    """lr_scale, surface → SGD, momentum, RMSProp and Adam paths together, and their losses."""

    names = ("sgd", "momentum", "rmsprop", "adam")
    #: tuned learning rates per surface; the slider multiplies all four
    base_lr = {
        "ill_conditioned": {"sgd": 0.1, "momentum": 0.02, "rmsprop": 0.05, "adam": 0.1},
        "rosenbrock": {"sgd": 1.5e-3, "momentum": 5e-4, "rmsprop": 1e-2, "adam": 0.1},
    }
    hyper = {"sgd": {}, "momentum": {"momentum": 0.9}, "rmsprop": {"rho": 0.99},
             "adam": {"betas": (0.9, 0.999)}}

    def __init__(self, surface="ill_conditioned"):
        check_choice(surface, "surface", tuple(_SURFACE_STEPS))
        self._paths = lru_cache(maxsize=128)(self._paths_uncached)
        controls = {
            "lr_scale": _log_slider("α × (each optimiser's tuned α)", -1.0, 1.0, 1.0),
            "surface": _dropdown("surface", tuple(_SURFACE_STEPS), surface),
        }
        super().__init__(controls)
        self._warm_surfaces()

    def _paths_uncached(self, surface, lr_scale):
        s = self.surfaces[surface]
        out = {}
        for name in self.names:
            kwargs = dict(self.hyper[name], lr=self.base_lr[surface][name] * lr_scale)
            out[name] = _optimizer_path(s, name, kwargs, _SURFACE_STEPS[surface])
        return out

    def _build(self):
        left, right = self._two_axes()
        self.ax_path, self.ax_cost = left, right
        self._draw_surfaces(left, _SURFACE_STEPS)
        for name in self.names:
            c = OPTIMIZER_COLORS[name]
            self._moving(f"path_{name}", left.plot([0], [0], color=c, lw=1.2, marker="o", markersize=1.8,
                                                   zorder=4)[0])
            self._moving(f"end_{name}", left.plot([0], [0], "X", color=c, markeredgecolor="black",
                                                  markersize=8, zorder=5)[0])
            self._moving(f"cost_{name}", right.plot([0], [1], color=c, lw=1.4)[0])
        self._moving("start", left.plot([0], [0], "s", color=_plotting.START_COLOR, markersize=7,
                                        markeredgecolor="black", zorder=6)[0])
        # on the loss axes' lower left: every curve starts high, so that corner stays empty
        right.legend(handles=[_legend_line(OPTIMIZER_COLORS[n], "-", n) for n in self.names],
                     loc="lower left", fontsize=7.5, framealpha=0.85)
        self._readout("path", left, "four optimisers from the same start")
        right.set_yscale("log")
        right.set_xlabel("step t")
        right.set_ylabel("f(θ_t)")
        right.grid(True, which="major", alpha=0.3)
        self._readout("cost", right, "loss per step (log scale)")

    def _update(self, lr_scale, surface):
        self._show_surface(surface, self.ax_path, self.ax_cost)
        runs = self._paths(surface, float(lr_scale))
        self.runs = runs
        start = self.surfaces[surface].start
        self.artists["start"].set_data([start[0]], [start[1]])
        diverged = []
        finals = []
        for name, (thetas, losses, div) in runs.items():
            self.artists[f"path_{name}"].set_data(thetas[:, 0], thetas[:, 1])
            self.artists[f"path_{name}"].set_markevery(max(1, len(thetas) // 60))
            self.artists[f"end_{name}"].set_data([thetas[-1, 0]], [thetas[-1, 1]])
            self.artists[f"cost_{name}"].set_data(np.arange(len(losses)), _clip_log(losses, _LOSS_FLOOR))
            if div:
                diverged.append(name)
            finals.append(f"{name} " + ("diverged" if div else f"{losses[-1]:.1e}"))
        lrs = ", ".join(f"{n} {self.base_lr[surface][n] * lr_scale:.2g}" for n in self.names)
        self._say("path", f"α: {lrs}")
        self._say("cost", f"f_{_SURFACE_STEPS[surface]}: " + ", ".join(finals))
        if diverged:
            self.message = f"diverged: {', '.join(diverged)}\n(α × {lr_scale:.3g} is too large for them)"


def compare_optimizers_panel(surface="ill_conditioned") -> Panel:
    """Lesson 6: SGD, momentum, RMSProp and Adam side by side on one surface.

    Each optimiser of :mod:`gdcourse.optim` starts at the surface's ``start``
    with its own tuned α (``CompareOptimizersPanel.base_lr``; momentum μ = 0.9,
    RMSProp ρ = 0.99, Adam β = (0.9, 0.999)) times the ``lr_scale`` slider
    (0.1 … 10, log scale); the ``surface`` dropdown switches between the
    ill-conditioned quadratic (100 steps) and Rosenbrock (300 steps).  Left: the
    four paths on the contour, with a legend; right: f(θ_t) of each, log axis.
    Runs are cached by (surface, lr_scale); a diverging optimiser is named in a
    message.
    """
    return CompareOptimizersPanel(surface)


def lesson6_noisy_problem(random_state=1):
    """Lesson 6's noisy problem (section 7): 2000 rows, two features, the second on a 30× larger scale.

    Returns ``(X, y, J_best)``: X with its bias column, y, and the least-squares
    cost, the floor every optimiser's excess cost is measured from.
    """
    noisy = make_regression(2000, n_features=2, noise=1.0, random_state=random_state)
    X = noisy.X.copy()
    X[:, 2] *= 30.0
    theta = np.linalg.lstsq(X, noisy.y, rcond=None)[0]
    r = X @ theta - noisy.y
    return X, noisy.y, float(r @ r) / (2 * len(r))


class WarmupPanel(Panel):
    """warm-up length W, peak α, cosine on/off → the schedule α_t, Adam's step lengths and its batch loss."""

    def __init__(self, data=None, random_state=0, batch_size=32, num_epochs=5, max_warmup=120):
        if data is None:
            self.X, self.y, self.j_best = lesson6_noisy_problem()
        else:
            if not (isinstance(data, tuple) and len(data) == 2):
                raise TypeError(f"data must be a tuple (X, y) with X's first column the bias, or None for "
                                f"lesson 6's noisy problem, but got {describe(data)}.")
            self.X, self.y = check_X_y(*data, X_name="data[0] (X)", y_name="data[1] (y)")
            theta = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
            r = self.X @ theta - self.y
            self.j_best = float(r @ r) / (2 * len(r))
        self.random_state = random_state
        as_rng(random_state)                                 # a bad seed fails here, not on the first move
        self.batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=len(self.y))
        self.num_epochs = check_int(num_epochs, "num_epochs", minimum=1, maximum=50)
        self.per_epoch = -(-len(self.y) // self.batch_size)
        self.total = self.per_epoch * self.num_epochs
        self.max_warmup = check_int(max_warmup, "max_warmup", minimum=1, maximum=self.total - 1)
        self._run = lru_cache(maxsize=256)(self._run_uncached)
        controls = {
            "warmup_steps": _int_slider("warm-up steps W", 0, self.max_warmup, 30),
            "peak_lr": _log_slider("peak α", -2.0, 0.5, 1.0),
            "cosine": widgets.Checkbox(value=True, description="cosine decay after the warm-up", style=_STYLE,
                                       indent=False),
        }
        super().__init__(controls)

    def schedule(self, warmup_steps, peak_lr, cosine_decay=True):
        """The schedule of :mod:`gdcourse.schedules` for these settings, as the lesson builds it."""
        W = int(warmup_steps)
        after = cosine(float(peak_lr), num_steps=self.total - W) if cosine_decay else constant(float(peak_lr))
        return after if W == 0 else linear_warmup(after, warmup_steps=W)

    def _run_uncached(self, warmup_steps, peak_lr, cosine_decay):
        sched = self.schedule(warmup_steps, peak_lr, cosine_decay)
        h = train(self.X, self.y, adam(lr=sched), batch_size=self.batch_size, num_epochs=self.num_epochs,
                  random_state=self.random_state, record_path=True)
        return sched.values(self.total), h

    def _build(self):
        left, right = self.ax_step, self.ax_loss = self._two_axes(wspace=0.32)
        T = self.total
        left.set_yscale("log")
        left.set_xlim(0, T)
        left.set_ylim(1e-4, 10.0 ** 1.5)
        left.set_xlabel("update t")
        left.set_ylabel("α_t  and  ‖θ_t − θ_{t−1}‖")
        left.grid(True, which="major", alpha=0.3)
        adam_c = OPTIMIZER_COLORS["adam"]
        self._moving("steps", left.plot([0], [1], color="grey", lw=0.7, alpha=0.8)[0])
        self._moving("schedule", left.plot([0], [1], color=adam_c, lw=2.0)[0])
        self._moving("warmup_end", left.axvline(0.0, color=adam_c, lw=0.8, ls=":"))
        left.legend(handles=[_legend_line(adam_c, "-", "schedule α_t"),
                             _legend_line("grey", "-", "Adam's step length")],
                    loc="lower left", fontsize=7.5, framealpha=0.85)
        self._readout("step", left, "the schedule and the steps Adam takes")
        _, h0 = self._run(0, 1.0, False)        # the start loss: the same for every schedule
        self.start_loss = float(h0.loss_per_epoch[0])
        right.set_yscale("log")
        right.set_xlim(0, T)
        right.set_ylim(0.5 * self.j_best, 100.0 * self.start_loss)
        right.axhline(self.start_loss, color="grey", lw=0.8, ls=":")
        right.axhline(self.j_best, color="black", lw=0.8, ls="--")
        right.set_xlabel("update t")
        right.set_ylabel("batch loss")
        right.grid(True, which="major", alpha=0.3)
        self._moving("loss", right.plot([0], [1], color=adam_c, lw=0.8)[0])
        self._readout("loss", right, "Adam's batch loss per update (dotted: the start)")

    def _update(self, warmup_steps, peak_lr, cosine):
        W = int(warmup_steps)
        values, h = self._run(W, float(peak_lr), bool(cosine))
        self.lrs, self.history = values, h
        steps = np.linalg.norm(np.diff(h.path, axis=0), axis=1)
        self.step_lengths = steps
        t = np.arange(len(values))
        self.artists["schedule"].set_data(t, values)
        self.artists["steps"].set_data(np.arange(1, len(steps) + 1), _clip_log(steps, 1e-4))
        self.artists["warmup_end"].set_xdata([W, W])
        self.artists["warmup_end"].set_visible(W > 0)
        losses = h.loss_per_update
        self.artists["loss"].set_data(np.arange(len(losses)), _clip_log(losses, 0.5 * self.j_best))
        first = losses[:self.per_epoch]
        self.spike = float(first.max()) / self.start_loss if len(first) else float("nan")
        early = steps[:min(20, len(steps))]
        self._say("step", f"W = {W}, peak α = {peak_lr:.3g}: largest of the first 20 steps "
                          f"{early.max() if len(early) else float('nan'):.3g}")
        if h.diverged:
            self.message = f"Adam diverged at update {len(losses) + 1}:\npeak α = {peak_lr:.3g} is too large"
            self._say("loss", "diverged")
        else:
            excess = float(h.loss_per_epoch[-1]) - self.j_best
            self.excess = excess
            self._say("loss", f"epoch 1 peaks at {self.spike:.3g}× the start; "
                              f"excess cost after {self.num_epochs} epochs {excess:.2g}")


def warmup_panel(data=None, random_state=0, batch_size=32, num_epochs=5, max_warmup=120) -> Panel:
    """Lesson 6: a learning-rate warm-up, and a cosine decay after it, for Adam on a noisy problem.

    ``data`` (a tuple ``(X, y)``) defaults to lesson 6's noisy problem of section 7
    (2000 rows, the second feature 30× larger).  Adam (:func:`gdcourse.optim.adam`)
    trains with mini-batches of ``batch_size`` for ``num_epochs`` epochs
    (:func:`gdcourse.batching.train`, shuffled from ``random_state``) on the
    schedule of :mod:`gdcourse.schedules` that the lesson builds:
    ``linear_warmup(cosine(α, T − W), warmup_steps=W)`` (W = 0: no warm-up), or a
    constant α after the warm-up with the cosine box off.

    Sliders: the warm-up length W (0 … ``max_warmup`` updates) and the peak α (log
    scale).  Left: the schedule α_t and Adam's actual step length ‖θ_t − θ_{t−1}‖,
    both on a log axis: without warm-up the first steps, taken while Adam's v̂
    averages only a few squared gradients, are the largest of the run.  Right:
    the batch loss of every update, with the start loss dotted and J* dashed.
    Runs are cached by their settings.
    """
    return WarmupPanel(data, random_state, batch_size, num_epochs, max_warmup)
