"""Lesson 3's panels: gradient descent, the learning rate, and local minima.

The paths come from :mod:`gdcourse.descent` (its closed form on a quadratic and its fast
surface loop, both held equal to the loop the lesson teaches).
"""

from __future__ import annotations

import math

import numpy as np

from matplotlib.collections import LineCollection

from .. import plotting as _plotting
from .._validation import check_array, check_int, check_positive
from ..curvature import condition_number, standardise
from ..descent import _gd_loop, _quadratic_gd
from ..surfaces import mse_surface, non_convex
from ._panel import Panel
from ._parts import (_as_xy, _clip_log, _equal_scale, _int_slider, _level_line, _log_slider, _nice_ceiling,
                     _nice_step, _slider)

__all__ = ["descent_panel", "learning_rate_panel", "local_minima_panel", "feature_scaling_panel"]


class DescentPanel(Panel):
    """α, iterations, start (θ0, θ1) → the GD path on the contour of J and J against k."""

    def __init__(self, data, max_iters=2000):
        self.X, self.y, self.x = _as_xy(data)
        self.max_iters = check_int(max_iters, "max_iters", minimum=1)
        self.surface = s = mse_surface(self.X, self.y)
        self.hessian = s.hessian(s.minimiser)
        self.lam_max = float(np.linalg.eigvalsh(self.hessian)[-1])
        self.lr_limit = 2.0 / self.lam_max
        self.j_star = s.minimum
        # α from 10⁻³ to a bit above twice the stable limit: log steps of 0.05
        hi = math.ceil(math.log10(2.0 * self.lr_limit) / 0.05) * 0.05
        controls = {
            "lr": _log_slider("α (learning rate)", -3.0, hi, 0.01),
            "num_iters": _int_slider("iterations", 1, self.max_iters, min(1000, self.max_iters)),
            "start_theta0": _slider("start θ₀", *s.xlim, s.start[0]),
            "start_theta1": _slider("start θ₁", *s.ylim, s.start[1]),
        }
        super().__init__(controls)

    def _build(self):
        left, right = self.ax_path, self.ax_cost = self._two_axes()
        _plotting.plot_contour(self.surface, ax=left)
        self._path_artists(left, "gradient-descent path on the contour of J")
        # y limits cover every start in the slider box (J is convex: its max is at a corner)
        c0, c1 = self.controls["start_theta0"], self.controls["start_theta1"]
        corners = np.array([[a, b] for a in (c0.min, c0.max) for b in (c1.min, c1.max)])
        self._ylim = (0.5 * self.j_star if self.j_star > 0 else 1e-3,
                      3.0 * float(self.surface.fast_value(corners).max()))
        right.set_yscale("log")
        right.set_ylim(self._ylim)
        right.set_xlim(0, _nice_ceiling(self.controls["num_iters"].value))
        if self.j_star > 0:
            _level_line(right, self.j_star, f"J(θ*) = {self.j_star:.3g}", va="top")
        right.set_xlabel("iteration k")
        right.set_ylabel("J(θ_k)")
        right.grid(True, which="major", alpha=0.3)
        self._dynamic_axes.add(right)
        self._moving("cost", right.plot([0], [1], color=_plotting.PATH_COLOR, lw=1.5)[0])
        self._readout("cost", right, "cost J(θ_k) per iteration")

    def _update(self, lr, num_iters, start_theta0, start_theta1):
        s = self.surface
        theta0 = np.array([start_theta0, start_theta1])
        thetas, costs, diverged = _quadratic_gd(self.hessian, s.minimiser, self.j_star, theta0, lr,
                                                int(num_iters))
        self.thetas, self.costs, self.diverged = thetas, costs, diverged
        k = len(costs) - 1
        self._show_path(thetas)
        self._set_limits(self.ax_cost, xlim=(0, _nice_ceiling(num_iters)))
        self.artists["cost"].set_data(np.arange(k + 1), _clip_log(costs, self._ylim[0]))
        theta = thetas[-1]
        self._say("path", 
            f"after {k} step{'s' if k != 1 else ''}: θ = ({theta[0]:.3g}, {theta[1]:.3g})")
        self._say("cost", f"α = {lr:.3g}: J = {costs[-1]:.4g} (2/λ_max ≈ {self.lr_limit:.3g})")
        if diverged:
            self.message = f"diverged after {k} steps (α > 2/λ_max ≈ {self.lr_limit:.3f})"
        elif lr > self.lr_limit and k >= 1:
            self.message = (f"the cost grows: α > 2/λ_max ≈ {self.lr_limit:.3f},\n"
                            "more steps will diverge")


def descent_panel(data, max_iters=2000) -> Panel:
    """Lesson 3: gradient descent θ ← θ − α∇J(θ) on the MSE of ``data``.

    Sliders: α (log scale), the number of iterations (1 … ``max_iters``) and the
    start θ. Left: the path θ_0, θ_1, … on the contour of J; right: J(θ_k) on a
    log axis.  J is a quadratic with Hessian H = XᵀX/m, so GD is stable for
    0 < α < 2/λ_max(H); above that the panel says after how many steps the
    run diverged (the rule of :func:`gdcourse.descent.gradient_descent`).
    ``panel.thetas`` and ``panel.costs`` hold the current run.
    """
    return DescentPanel(data, max_iters)


class LearningRatePanel(Panel):
    """α → the iterates x_t of GD on f(x) = ½λx², and |x_t| against t."""

    def __init__(self, curvature=1.0, x0=4.0, num_steps=20):
        self.lam = check_positive(curvature, "curvature")
        self.x_start = float(check_array(x0, "x0", ndim=0))
        if self.x_start == 0:
            raise ValueError("x0 must not be 0: at x = 0 gradient descent is already at the minimum.")
        self.num_steps = check_int(num_steps, "num_steps", minimum=1)
        step = _nice_step(2.5 / self.lam)
        super().__init__({"lr": _slider("α (learning rate)", step, 2.5 / self.lam,
                                        0.3 / self.lam, step, readout_format=".3g")})

    def _build(self):
        left, right = self._two_axes()
        self.ax_curve, self.ax_norm = left, right
        r = 1.25 * abs(self.x_start)
        xs = np.linspace(-r, r, 200)
        left.plot(xs, 0.5 * self.lam * xs ** 2, color=_plotting.DATA_COLOR, lw=2)
        left.set_xlim(-r, r)
        left.set_ylim(-0.05 * 0.5 * self.lam * r * r, 0.5 * self.lam * r * r * 1.05)
        left.set_xlabel("x")
        left.set_ylabel("f(x) = ½λx²")
        left.plot([self.x_start], [0.5 * self.lam * self.x_start ** 2], "s", color=_plotting.START_COLOR,
                  markersize=8, markeredgecolor="black", zorder=5)
        self._moving("iterates", left.plot([0], [0], color=_plotting.PATH_COLOR, marker="o", markersize=4,
                                           lw=1.0, zorder=4)[0])
        self._readout("curve", left, "iterates x_t on f(x) = ½λx²")
        worst = abs(1.0 - self.controls["lr"].max * self.lam)
        top = abs(self.x_start) * max(1.0, worst) ** self.num_steps * 3.0
        self._floor = abs(self.x_start) * 1e-10
        right.set_yscale("log")
        right.set_xlim(0, self.num_steps)
        right.set_ylim(self._floor, top)
        right.axhline(abs(self.x_start), color="grey", lw=0.8, ls=":")
        right.set_xlabel("step t")
        right.set_ylabel("|x_t|")
        right.grid(True, which="major", alpha=0.3)
        self._moving("norms", right.plot([0], [1], color=_plotting.PATH_COLOR, marker="o", markersize=3)[0])
        self._readout("norm", right, "distance to the minimum |x_t|")

    def _update(self, lr):
        factor = 1.0 - lr * self.lam
        t = np.arange(self.num_steps + 1)
        xs = self.x_start * factor ** t          # GD on ½λx²: x ← x − αλx = (1 − αλ)x
        self.xs = xs
        self.artists["iterates"].set_data(xs, 0.5 * self.lam * xs ** 2)
        self.artists["norms"].set_data(t, _clip_log(np.abs(xs), self._floor))
        al = lr * self.lam
        if al < 0.1:
            regime = "too small: creeping"
        elif al < 0.95:
            regime = "fine: straight to the minimum"
        elif al <= 1.05:
            regime = "αλ ≈ 1: (almost) one step"
        elif al < 2.0:
            regime = "oscillating, but converging"
        elif al == 2.0:
            regime = "bouncing forever"
        else:
            regime = "diverging"
        self.regime = regime
        self._say("curve", f"αλ = {al:.3g}: {regime}")
        self._say("norm", f"|x_t| = |1 − αλ|^t·|x₀| with |1 − αλ| = {abs(factor):.3g}")
        if al > 2.0:
            self.message = f"diverging: αλ = {al:.3g} > 2, so |x_t| grows by {abs(factor):.3g} each step"
        elif al == 2.0:
            self.message = "αλ = 2 exactly: x_t = ±x₀ for ever, no progress"


def learning_rate_panel(curvature=1.0, x0=4.0, num_steps=20) -> Panel:
    """Lesson 3: the learning rate on the simplest problem, f(x) = ½λx² (λ = ``curvature``).

    GD gives x_t = (1 − αλ)^t·x0: it creeps for small α, lands in one step at
    α = 1/λ, overshoots and oscillates for 1 < αλ < 2 and diverges for αλ > 2.
    Left: the iterates bouncing on the parabola; right: |x_t| on a log axis.
    """
    return LearningRatePanel(curvature, x0, num_steps)


class LocalMinimaPanel(Panel):
    """Start point → the GD path on a surface with two minima, and where it ends."""

    def __init__(self, surface=None, lr=0.05, num_iters=200):
        self.surface = non_convex() if surface is None else _plotting._as_surface(surface)
        self.lr = check_positive(lr, "lr")
        self.num_iters = check_int(num_iters, "num_iters", minimum=1)
        s = self.surface
        controls = {
            "start_theta1": _slider("start θ₁", *s.xlim, s.start[0]),
            "start_theta2": _slider("start θ₂", *s.ylim, s.start[1]),
        }
        super().__init__(controls)

    def _build(self):
        left, right = self.ax_path, self.ax_cost = self._two_axes()
        s = self.surface
        _plotting.plot_contour(s, ax=left)
        self._path_artists(left, "gradient descent on a surface with two minima")
        _, _, F = s.grid(60)
        lo, hi = float(F.min()), float(F.max())
        right.set_xlim(0, self.num_iters)
        top = min(hi, lo + 0.35 * (hi - lo))  # the start costs above this are cut: the ending matters
        right.set_ylim(lo - 0.08 * (top - lo), top)
        names = ["global minimum", "local minimum"]
        for i, point in enumerate(s.minimisers[:2]):
            v = float(s.fast_value(point))
            _level_line(right, v, f"{names[i]}: f = {v:.3g}", color="black" if i == 0 else "grey")
        right.set_xlabel("iteration k")
        right.set_ylabel("f(θ_k)")
        right.grid(True, which="major", alpha=0.3)
        self._moving("cost", right.plot([0], [0], color=_plotting.PATH_COLOR, lw=1.5)[0])
        self._readout("cost", right, "f(θ_k) per iteration")

    def _update(self, start_theta1, start_theta2):
        s = self.surface
        theta0 = np.array([start_theta1, start_theta2])
        thetas, costs, diverged = _gd_loop(s.fast_grad, s.fast_value, theta0, self.lr, self.num_iters)
        self.thetas, self.costs = thetas, costs
        end = thetas[-1]
        self._show_path(thetas, max_dots=len(thetas))
        shown = np.where(np.isfinite(costs), costs, np.nan)
        self.artists["cost"].set_data(np.arange(len(costs)), shown)
        self.outcome = self._classify(end, diverged)
        self._say("path", f"start ({theta0[0]:.2f}, {theta0[1]:.2f}) → {self.outcome}")
        last = costs[-1] if np.isfinite(costs[-1]) else float("nan")
        self._say("cost", f"α = {self.lr:g}, {len(costs) - 1} steps: f = {last:.4g}")
        if diverged:
            self.message = f"diverged after {len(costs) - 1} steps: α = {self.lr:g} is too large here"
        elif self.outcome == "saddle point":
            self.message = "stuck on the saddle: ∇f = 0 there, so plain GD does not move"

    def _classify(self, end, diverged):
        if diverged:
            return "diverged"
        tol = 2e-2 * max(np.ptp(self.surface.xlim), np.ptp(self.surface.ylim))
        for i, point in enumerate(self.surface.minimisers):
            if np.linalg.norm(end - point) < tol:
                return "global minimum" if i == 0 else "local minimum"
        for point in self.surface.saddles:
            if np.linalg.norm(end - point) < tol:
                return "saddle point"
        return "not yet at a minimum"


def local_minima_panel(surface=None, lr=0.05, num_iters=200) -> Panel:
    """Lesson 3: plain GD ends in whichever valley it starts above.

    On ``gdcourse.surfaces.non_convex()`` (by default) — (θ₁² − 1)² + 0.5·θ₁ + θ₂²,
    a global minimum at θ₁ ≈ −1.06, a local one at θ₁ ≈ 0.93 and a saddle
    between — the sliders move the start; the panel runs ``num_iters`` steps of
    θ ← θ − α∇f(θ) and says whether the path ends in the global or the local
    minimum.  Right: f(θ_k), with the two minimum values as dashed lines.
    """
    return LocalMinimaPanel(surface, lr, num_iters)


class FeatureScalingPanel(Panel):
    """scaling s (raw x … z-scored x), α as a share of 2/λ_max → contours, κ and the GD run to ‖∇J‖ < tol."""

    #: the contour levels, as multiples of J(0) − J* (the same for every s: θ = 0 predicts 0 in any units)
    _levels = (0.01, 0.04, 0.12, 0.3, 0.6, 1.0, 1.6)

    def __init__(self, data, max_iters=2000, grad_tol=1e-6):
        self.X, self.y, self.x = _as_xy(data)
        self.max_iters = check_int(max_iters, "max_iters", minimum=1, maximum=100_000)
        self.grad_tol = check_positive(grad_tol, "grad_tol")
        self.X_scaled, self.mean, self.std = standardise(self.X)   # raises for a constant feature
        self.kappa_raw = condition_number(self.X)
        self._cache = {}
        controls = {
            "scaling": _slider("scaling: 0 raw x → 1 z-scored x", 0.0, 1.0, 0.0, 0.05),
            "lr_share": _slider("α as a share of 2/λ_max", 0.05, 0.95, 0.5, 0.05),
        }
        super().__init__(controls)

    def blended(self, scaling):
        """X with feature column (1 − s)·x + s·(x − x̄)/σ_x (the bias column stays ones)."""
        s = float(scaling)
        return (1.0 - s) * self.X + s * self.X_scaled

    def _problem(self, scaling):
        """Hessian, θ*, J* and κ of the MSE on the blended feature (cached: the slider has 21 positions)."""
        key = round(float(scaling), 9)
        if key not in self._cache:
            Xs = self.blended(scaling)
            surf = mse_surface(Xs, self.y)
            H = surf.hessian(surf.minimiser)
            self._cache[key] = (Xs, H, surf.minimiser, surf.minimum, condition_number(Xs))
        return self._cache[key]

    def _build(self):
        left, right = self.ax_path, self.ax_cost = self._two_axes(wspace=0.32)
        # J(0) − J* is the same in every parameterisation (θ = 0 predicts 0 for every x)
        self.excess0 = 0.5 * float(np.mean(self.y ** 2)) - mse_surface(self.X, self.y).minimum
        # Δθ = θ − θ*: the window holds the start Δθ = −θ* for every s (its two coordinates move linearly in s)
        ends = np.array([-self._problem(0.0)[2], -self._problem(1.0)[2]])
        r = 1.25 * float(np.abs(ends).max())
        xlim, ylim = _equal_scale(left, (-r, r), (-r, r))
        left.set_xlim(xlim)
        left.set_ylim(ylim)
        left.set_xlabel("θ₀ − θ₀*")
        left.set_ylabel("θ₁ − θ₁*")
        left.plot([0], [0], "*", color="black", markersize=10, zorder=5)
        self._moving("contours", left.add_collection(LineCollection([], colors="#7f7f7f", linewidths=0.9)))
        self._path_artists(left, "contours of J around θ*, and the GD path")
        right.set_yscale("log")
        right.set_xscale("symlog", linthresh=1.0, linscale=0.5)
        right.set_xlim(0, self.max_iters)
        right.set_ylim(0.1 * self.grad_tol, 1e3)
        _level_line(right, self.grad_tol, f"‖∇J‖ = {self.grad_tol:g}")
        right.set_xlabel("iteration k")
        right.set_ylabel("‖∇J(θ_k)‖")
        right.grid(True, which="major", alpha=0.3)
        self._moving("gnorm", right.plot([0], [1], color=_plotting.PATH_COLOR, lw=1.5)[0])
        self._moving("stop", right.axvline(1.0, color=_plotting.PATH_COLOR, lw=0.8, ls=":"))
        self._readout("cost", right, "gradient norm per iteration")

    def _update(self, scaling, lr_share):
        Xs, H, theta_star, j_star, kappa = self._problem(scaling)
        lam, V = np.linalg.eigh(H)
        lr = float(lr_share) * 2.0 / lam[-1]
        t = np.linspace(0.0, 2.0 * np.pi, 121)
        circle = np.stack([np.cos(t), np.sin(t)], axis=1)
        segs = [(circle * np.sqrt(2.0 * c * self.excess0 / lam)) @ V.T for c in self._levels]
        self.artists["contours"].set_segments(segs)
        thetas, costs, diverged = _quadratic_gd(H, theta_star, j_star, np.zeros(2), lr, self.max_iters)
        gnorms = np.linalg.norm((thetas - theta_star) @ H, axis=1)    # ∇J(θ) = H(θ − θ*)
        below = np.flatnonzero(gnorms < self.grad_tol)
        steps = int(below[0]) if below.size else None
        shown = thetas if steps is None else thetas[:steps + 1]
        self.scaling, self.lr, self.kappa, self.hessian = float(scaling), lr, kappa, H
        self.thetas, self.gnorms, self.steps = shown, gnorms[:len(shown)], steps
        self._show_path(shown - theta_star)
        k = np.arange(len(shown))
        self.artists["gnorm"].set_data(k, _clip_log(self.gnorms, 0.1 * self.grad_tol))
        self.artists["stop"].set_xdata([steps if steps is not None else self.max_iters] * 2)
        self.artists["stop"].set_visible(steps is not None)
        self._say("path", f"s = {scaling:.2f}: κ = {kappa:.3g} (raw {self.kappa_raw:.3g}); "
                          f"θ* = ({theta_star[0]:.3g}, {theta_star[1]:.3g})")
        if steps is None:
            self._say("cost", f"α = {lr:.3g}: ‖∇J‖ = {gnorms[-1]:.2g} after {self.max_iters} steps, "
                              f"not yet below {self.grad_tol:g}")
        else:
            self._say("cost", f"α = {lr:.3g}: ‖∇J‖ < {self.grad_tol:g} after {steps} step{'s' if steps != 1 else ''}")


def feature_scaling_panel(data, max_iters=2000, grad_tol=1e-6) -> Panel:
    """Lesson 3: standardising the feature turns the bowl round; gradient descent then needs a few steps.

    The ``scaling`` slider s blends the feature column of ``data`` from the raw x
    (s = 0) to its z-score (x − x̄)/σ_x (s = 1, :func:`gdcourse.curvature.standardise`);
    the bias column stays ones.  For every s the panel builds the MSE on that
    feature, whose Hessian H = XᵀX/m gives the condition number κ
    (:func:`gdcourse.curvature.condition_number`), and runs gradient descent from
    θ = 0 (:func:`gdcourse.descent._quadratic_gd`, held equal to
    :func:`gdcourse.descent.linear_regression_gd`) at α = ``lr_share`` × 2/λ_max(H),
    the same share of the stable limit for every s.

    Left: contours of J around θ* (axes θ − θ*, one data unit as long on both),
    drawn as the ellipses ½(θ − θ*)ᵀH(θ − θ*) = const, and the path; they turn
    from a narrow valley (κ ≈ 70 on the five points) into circles (κ = 1).
    Right: ‖∇J(θ_k)‖ on a log axis, until it falls below ``grad_tol`` (at most
    ``max_iters`` steps); the readout says after how many steps.
    ``panel.kappa``, ``panel.lr``, ``panel.steps`` and ``panel.thetas`` hold the current run.
    """
    return FeatureScalingPanel(data, max_iters, grad_tol)
