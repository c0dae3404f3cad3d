"""Lesson 2's panels: the tangent and the gradient arrow, and the step of a finite difference.
"""

from __future__ import annotations

import math

import numpy as np

from .. import plotting as _plotting
from .._validation import check_array
from ..surfaces import mse_surface
from ._panel import Panel
from ._parts import _as_xy, _clip_log, _equal_scale, _slider

__all__ = ["tangent_panel", "finite_difference_panel"]


class TangentPanel(Panel):
    """θ1 (θ0 held at θ0*) → the tangent to J(θ0*, θ1) and the −∇J arrow on the contour."""

    def __init__(self, data):
        self.X, self.y, self.x = _as_xy(data)
        self.surface = mse_surface(self.X, self.y)
        s = self.surface
        self.theta0 = float(s.minimiser[0])
        lo, hi = s.ylim
        start = lo + 0.15 * (hi - lo)
        super().__init__({"theta1": _slider(f"θ₁ (θ₀ = θ₀* = {self.theta0:.3g})", lo, hi, start)})

    def _build(self):
        left, right = self._two_axes()
        self.ax_slice, self.ax_cost = left, right
        s = self.surface
        c = self.controls["theta1"]
        self._t = np.linspace(c.min, c.max, 200)
        pts = np.column_stack([np.full_like(self._t, self.theta0), self._t])
        js = s.fast_value(pts)
        left.plot(self._t, js, color=_plotting.DATA_COLOR, lw=2)
        left.set_xlim(c.min, c.max)
        span = js.max() - js.min()
        left.set_ylim(js.min() - 0.1 * span, js.max() + 0.1 * span)
        left.set_xlabel("θ₁")
        left.set_ylabel(f"J({self.theta0:.3g}, θ₁)")
        self._half = 0.18 * (c.max - c.min)
        self._moving("tangent", left.plot([0, 0], [0, 0], color=_plotting.FIT_COLOR, lw=2)[0])
        self._moving("point", left.plot([0], [0], "o", color=_plotting.FIT_COLOR, markersize=8,
                                        markeredgecolor="black")[0])
        self._readout("slice", left, "slice of J at θ₀ = θ₀*, with its tangent")
        # one scale on both axes, so −∇J looks perpendicular to the contour lines
        xlim, ylim = _equal_scale(right, s.xlim, s.ylim)
        _plotting.plot_contour(s, ax=right, xlim=xlim, ylim=ylim)
        right.axvline(self.theta0, color="grey", lw=0.8, ls=":")
        grads = s.fast_grad(pts)
        width = max(np.ptp(s.xlim), np.ptp(s.ylim))
        self._arrow_scale = 0.5 * width / max(float(np.max(np.linalg.norm(grads, axis=1))), 1e-12)
        self._moving("arrow", right.annotate("", xy=(0, 0), xytext=(0, 0), zorder=9,
                                             arrowprops=dict(arrowstyle="-|>", color="#d62728", lw=2)))
        self._moving("point_contour", right.plot([0], [0], "o", color=_plotting.FIT_COLOR,
                                                 markersize=8, markeredgecolor="black", zorder=9)[0])
        self._readout("cost", right, "contour of J; arrow: −∇J (scaled)")

    def _message_axes(self):
        return self.ax_slice

    def _update(self, theta1):
        s = self.surface
        theta = np.array([self.theta0, theta1])
        j = float(s.fast_value(theta))
        grad = s.fast_grad(theta)
        slope = float(grad[1])
        self.grad = grad
        t = np.array([theta1 - self._half, theta1 + self._half])
        self.artists["tangent"].set_data(t, j + slope * (t - theta1))
        self.artists["point"].set_data([theta1], [j])
        self._say("slice", f"J = {j:.3f},  slope ∂J/∂θ₁ = {slope:+.3f}")
        tip = theta - self._arrow_scale * grad
        arrow = self.artists["arrow"]
        arrow.xy = (float(tip[0]), float(tip[1]))
        arrow.set_position((float(theta[0]), float(theta[1])))
        self.artists["point_contour"].set_data([theta[0]], [theta[1]])
        self._say("cost", f"−∇J = ({-grad[0]:+.2f}, {-grad[1]:+.2f})")
        if abs(slope) < 1e-9 and abs(grad[0]) < 1e-9:
            self.message = "∇J = 0: this is the minimum θ*, the tangent is flat"


def tangent_panel(data) -> Panel:
    """Lesson 2: the derivative as the slope of the tangent, the gradient as an arrow.

    With θ0 held at its optimum θ0*, the slider moves θ1 along the slice
    J(θ0*, θ1) (left): the red line is the tangent, its slope ∂J/∂θ1 =
    (1/m)·Σ(h_θ(x_i) − y_i)·x_i.  On the contour (right) the arrow is −∇J at
    the same θ (scaled to fit): the direction of steepest descent,
    perpendicular to the contour line through θ.
    """
    return TangentPanel(data)


class FiniteDifferencePanel(Panel):
    """log10(h) → |error| of forward and central differences of sin at x0, on log–log axes."""

    figsize = (8.0, 3.2)

    def __init__(self, x0=1.0):
        self.x0 = float(check_array(x0, "x0", ndim=0))
        self.exact = math.cos(self.x0)
        self._hs = np.logspace(-16, 0, 161)
        super().__init__({"log10_h": _slider("log₁₀ h", -16.0, 0.0, -5.0, 0.25)})

    def _errors(self, h):
        """|forward − f'(x0)| and |central − f'(x0)| for f = sin; zero errors stay zero."""
        x0 = self.x0
        forward = (np.sin(x0 + h) - np.sin(x0)) / h
        central = (np.sin(x0 + h) - np.sin(x0 - h)) / (2.0 * h)
        return np.abs(forward - self.exact), np.abs(central - self.exact)

    def _build(self):
        fig = self.figure
        fig.subplots_adjust(left=0.1, right=0.72, bottom=0.16, top=0.88)
        ax = fig.subplots()
        self.ax = ax
        self._floor = 1e-17
        fwd, cen = self._errors(self._hs)
        ax.plot(self._hs, _clip_log(fwd, self._floor), color="#1f77b4", lw=1.5,
                label="forward (f(x+h) − f(x))/h")
        ax.plot(self._hs, _clip_log(cen, self._floor), color="#ff7f0e", lw=1.5,
                label="central (f(x+h) − f(x−h))/2h")
        eps = np.finfo(float).eps
        ax.plot(self._hs, eps / self._hs, color="grey", lw=0.8, ls="--", label="round-off ≈ ε/h")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(self._hs[0], self._hs[-1])
        ax.set_ylim(self._floor, 10.0)
        ax.set_xlabel("step h")
        ax.set_ylabel("|error| of the derivative")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
        fig.text(0.735, 0.42, f"f(x) = sin x at x = {self.x0:g};\nexact f′ = cos x.\n\n"
                 "Large h: truncation error\n(forward ∝ h, central ∝ h²).\n"
                 "Small h: round-off ∝ ε/h.", fontsize=8, va="top")
        self._moving("vline", ax.axvline(1e-5, color="black", lw=0.8))
        self._moving("forward_point", ax.plot([1e-5], [1.0], "o", color="#1f77b4",
                                              markeredgecolor="black", markersize=8)[0])
        self._moving("central_point", ax.plot([1e-5], [1.0], "o", color="#ff7f0e",
                                              markeredgecolor="black", markersize=8)[0])
        self._readout("title", ax, "error of the finite-difference derivative")

    def _update(self, log10_h):
        h = 10.0 ** log10_h
        fwd, cen = (float(e) for e in self._errors(h))
        self.errors = {"forward": fwd, "central": cen}
        self.artists["vline"].set_xdata([h, h])
        self.artists["forward_point"].set_data([h], [max(fwd, 0.5 * self._floor)])
        self.artists["central_point"].set_data([h], [max(cen, 0.5 * self._floor)])
        self._say("title", f"h = {h:.1e}: forward error {fwd:.1e}, central error {cen:.1e}")
        if self.x0 + h == self.x0:
            self.message = f"x + h rounds to x in float64 (h = {h:.0e}):\nthe difference is 0, the estimate useless"


def finite_difference_panel(x0=1.0) -> Panel:
    """Lesson 2: the step h of a finite difference — truncation error against round-off.

    For f(x) = sin x at ``x0`` the exact derivative is cos x0.  The forward
    difference (f(x+h) − f(x))/h has truncation error ≈ h·|f″|/2, the central
    one (f(x+h) − f(x−h))/(2h) ≈ h²·|f‴|/6; both suffer round-off ≈ ε/h
    (ε ≈ 2.2e-16).  The slider moves h over 10⁻¹⁶ … 1 on log–log axes.
    """
    return FiniteDifferencePanel(x0)
