"""Lesson 1's panels: the fit line and its cost, and cross-entropy against MSE.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection

from .. import plotting as _plotting
from .._messages import _t
from .._validation import as_rng, check_array, check_int
from ..losses import _ce_terms, sigmoid
from ..surfaces import mse_surface
from ._panel import Panel
from ._parts import _as_xy, _slider

__all__ = ["fit_panel", "cross_entropy_panel"]


class FitPanel(Panel):
    """θ0, θ1 → the line h_θ(x) = θ0 + θ1·x with its residuals, and the point θ on the contour of J."""

    def __init__(self, data, theta=None):
        self.X, self.y, self.x = _as_xy(data)
        self.surface = mse_surface(self.X, self.y)
        start = self.surface.start if theta is None else check_array(theta, "theta", ndim=1)
        if start.shape != (2,):
            raise ValueError(f"theta must have shape (2,) (θ0, θ1), but got shape {start.shape}.")
        s = self.surface
        controls = {
            "theta0": _slider(_t("θ₀ (intercept)"), *s.xlim, start[0]),
            "theta1": _slider(_t("θ₁ (slope)"), *s.ylim, start[1]),
        }
        super().__init__(controls)

    def _build(self):
        left, right = self._two_axes()
        self.ax_data, self.ax_cost = left, right
        x, y = self.x, self.y
        pad = 0.15 * (np.ptp(x) or 1.0)
        self._xs = np.array([x.min() - pad, x.max() + pad])
        left.scatter(x, y, color=_plotting.DATA_COLOR, zorder=3)
        left.set_xlim(self._xs)
        ypad = 0.4 * (np.ptp(y) or 1.0)
        left.set_ylim(min(y.min(), 0.0) - ypad, y.max() + ypad)
        left.set_xlabel("x")
        left.set_ylabel("y")
        self._moving("line", left.plot(self._xs, self._xs * 0, color=_plotting.FIT_COLOR, lw=2)[0])
        self._moving("residuals", left.add_collection(LineCollection(
            [], colors=_plotting.RESIDUAL_COLOR, linestyles="--", linewidths=1.2)))
        self._readout("data", left, _t("data and the line h_θ(x) = θ₀ + θ₁·x"))
        _plotting.plot_contour(self.surface, ax=right)
        self._moving("point", right.plot([0], [0], "o", color=_plotting.FIT_COLOR, markersize=9,
                                         markeredgecolor="black", zorder=8)[0])
        self._readout("cost", right, _t("contour of J(θ); the dot is the current θ"))

    def _message_axes(self):
        return self.ax_data

    def _update(self, theta0, theta1):
        theta = np.array([theta0, theta1])
        h = self.X @ theta
        self.artists["line"].set_ydata(theta0 + theta1 * self._xs)
        self.artists["residuals"].set_segments(
            [[(xi, yi), (xi, hi)] for xi, yi, hi in zip(self.x, self.y, h)])
        r = h - self.y
        cost = float(r @ r) / (2 * len(self.y))
        self.cost = cost
        self._say("data", f"h(x) = {theta0:.2f} + {theta1:.2f}·x")
        self.artists["point"].set_data([theta0], [theta1])
        self._say("cost", _t("J(θ) = {cost}   (at ★ θ*: {best})", cost=f"{cost:.4f}",
                              best=f"{self.surface.minimum:.4f}"))


def fit_panel(data, theta=None) -> Panel:
    """Lesson 1: sliders θ0, θ1 move the fit line, its residuals and the point on the contour of J.

    ``data`` is a Dataset with a bias column (``gdcourse.data.five_points()``)
    or a tuple ``(X, y)``; ``theta`` is the starting (θ0, θ1), zeros by default.
    ``panel.cost`` holds the current J(θ) = 1/(2m)·Σ(θ0 + θ1·x_i − y_i)².
    """
    return FitPanel(data, theta)


class CrossEntropyPanel(Panel):
    """Weight w and bias b of p = σ(w·x + b) → the sigmoid over labelled points; CE and MSE vs w."""

    def __init__(self, random_state=0, m=40):
        m = check_int(m, "m", minimum=4)
        rng = as_rng(random_state)
        labels = np.repeat([0.0, 1.0], [m // 2, m - m // 2])
        x = rng.normal(np.where(labels == 1, 1.0, -1.0), 1.0)
        order = np.argsort(x)
        self.x, self.y = x[order], labels[order]
        self.w_grid = np.linspace(-6.0, 6.0, 241)
        controls = {
            "weight": _slider(_t("weight w"), -6.0, 6.0, 1.0, 0.1),
            "bias": _slider(_t("bias b"), -4.0, 4.0, 0.0, 0.1),
        }
        super().__init__(controls)

    _message_xy = (0.5, 0.7)

    def _costs(self, w, b):
        """CE and MSE of σ(w·x + b) for every w in ``w`` (any shape), the bias b fixed."""
        z = np.multiply.outer(np.asarray(w, dtype=float), self.x) + b
        p = sigmoid(z)
        ce = np.mean(_ce_terms(z, self.y), axis=-1)
        mse = 0.5 * np.mean((p - self.y) ** 2, axis=-1)
        return ce, mse

    def _slopes(self, w, b):
        """∂CE/∂w = mean((p − y)·x) and ∂MSE/∂w = mean((p − y)·p(1 − p)·x)."""
        p = sigmoid(w * self.x + b)
        ce = float(np.mean((p - self.y) * self.x))
        mse = float(np.mean((p - self.y) * p * (1 - p) * self.x))
        return ce, mse

    def _build(self):
        left, right = self._two_axes(right=0.92, wspace=0.35)
        self.ax_data, self.ax_cost = left, right
        colors = np.where(self.y == 1, "#d62728", "#1f77b4")
        left.scatter(self.x, self.y, c=colors, zorder=3, s=22, alpha=0.8)
        self._xs = np.linspace(-4.5, 4.5, 200)
        left.set_xlim(self._xs[0], self._xs[-1])
        left.set_ylim(-0.12, 1.12)
        left.set_xlabel(_t("x  (blue: y = 0, red: y = 1)"))
        left.set_ylabel("p = σ(w·x + b)")
        left.axhline(0.5, color="grey", lw=0.6, ls=":")
        self._moving("sigmoid", left.plot(self._xs, self._xs * 0, color="black", lw=2)[0])
        self._readout("data", left, _t("p = σ(w·x + b) over the labelled points"))
        # cost against w; the bias changes the curves but never the axes (worst case computed here)
        corners = [self._costs(self.w_grid, b)[0].max() for b in (-4.0, 4.0)]
        right.set_xlim(self.w_grid[0], self.w_grid[-1])
        right.set_ylim(0.0, 1.05 * max(corners))
        right.set_xlabel(_t("weight w  (bias fixed at b)"))
        right.set_ylabel(_t("cross-entropy"), color="#9467bd")
        twin = right.twinx()
        twin.set_ylim(0.0, 0.5)
        twin.set_ylabel("MSE (½·mean (p − y)²)", color="#ff7f0e")
        self.ax_mse = twin
        self._moving("ce_curve", right.plot(self.w_grid, self.w_grid * 0, color="#9467bd", lw=2)[0])
        self._moving("mse_curve", twin.plot(self.w_grid, self.w_grid * 0, color="#ff7f0e", lw=2)[0])
        self._moving("ce_point", right.plot([0], [0], "o", color="#9467bd", markeredgecolor="black",
                                            markersize=8)[0])
        self._moving("mse_point", twin.plot([0], [0], "o", color="#ff7f0e", markeredgecolor="black",
                                            markersize=8)[0])
        self._readout("cost", right, _t("cost as a function of w, at the current b"))

    def _message_axes(self):
        return self.ax_data

    def _update(self, weight, bias):
        self.artists["sigmoid"].set_ydata(sigmoid(weight * self._xs + bias))
        ce_curve, mse_curve = self._costs(self.w_grid, bias)
        self.artists["ce_curve"].set_ydata(ce_curve)
        self.artists["mse_curve"].set_ydata(mse_curve)
        ce, mse = (float(v) for v in self._costs(weight, bias))
        self.ce, self.mse = ce, mse
        self.artists["ce_point"].set_data([weight], [ce])
        self.artists["mse_point"].set_data([weight], [mse])
        d_ce, d_mse = self._slopes(weight, bias)
        self._say("data", f"w = {weight:.1f}, b = {bias:.1f}")
        self._say("cost", _t("CE {ce} (slope {d_ce}) · MSE {mse} (slope {d_mse})",
                             ce=f"{ce:.3f}", d_ce=f"{d_ce:+.3f}", mse=f"{mse:.3f}",
                             d_mse=f"{d_mse:+.4f}"))
        if weight < -1.0 and abs(d_mse) < 0.25 * abs(d_ce):
            self.message = _t("confidently wrong: MSE is flat here, GD stalls;\n"
                              "cross-entropy still slopes towards the answer")


def cross_entropy_panel(random_state=0) -> Panel:
    """Lesson 1: why classification uses cross-entropy rather than MSE.

    A seeded 1-D data set with labels 0/1 and the model p = σ(w·x + b).
    Sliders w and b move the sigmoid over the points (left); the right plot
    shows, as functions of w at the current b, the cross-entropy
    (1/m)·Σ[log(1 + e^z) − y·z] (z = w·x + b) and the MSE ½·mean(σ(z) − y)²,
    with markers at the current w.  MSE of a sigmoid is flat where the model
    is confidently wrong; cross-entropy is convex and keeps a slope there.
    """
    return CrossEntropyPanel(random_state)
