r"""Static pictures for the lessons: data and fit, cost curves, contours, 3-D surfaces, paths.

Every helper takes ``ax=`` and returns the axes it drew on, so a notebook can
put several pictures in one figure::

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    plot_data(d.x, d.y, history.theta, residuals=True, ax=left)
    plot_cost_history(history, ax=right, log=True)

With ``ax=None`` a new figure is made through ``matplotlib.pyplot``, so the
picture shows inline in a notebook.  pyplot is imported only then: importing
this module changes no matplotlib state.  In a Japanese, Chinese or Korean
course (``GDCOURSE_LANG``, or a folder made with ``--lang``) every helper first
puts the CJK font in ``font.family`` (:func:`gdcourse.fonts.use_language_fonts`),
so figure text in that language has no missing glyphs.

Symbols follow the lessons: the model is h_θ(x) = θ0 + θ1·x, the cost is
J(θ) = 1/(2m)·Σ(h_θ(x_i) − y_i)², and a descent path is the sequence of
θ_k visited by θ ← θ − α∇J(θ).
"""

from __future__ import annotations

import numpy as np

from ._messages import _t
from ._validation import check_array, check_int, check_vector, describe

__all__ = ["plot_data", "plot_cost_history", "plot_contour", "plot_surface_3d", "plot_paths"]

# colours used across the course, so the same idea has the same colour everywhere
DATA_COLOR = "#1f77b4"
FIT_COLOR = "#d62728"
RESIDUAL_COLOR = "#7f7f7f"
PATH_COLOR = "#d62728"
START_COLOR = "#2ca02c"
MIN_COLOR = "gold"
#: the colours plot_paths gives its paths, in order
PATH_PALETTE = ("#d62728", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#2ca02c")
#: colours of the optimisers, the same in every lesson 6 picture
OPTIMIZER_COLORS = {"sgd": "#d62728", "momentum": "#1f77b4", "nesterov": "#17becf",
                    "adagrad": "#8c564b", "rmsprop": "#ff7f0e", "adam": "#9467bd", "adamw": "#e377c2"}
#: plain gradient descent drawn beside a variant (lesson 4's noisy runs)
GD_COLOR = "#1f77b4"


def _language_fonts():
    """In a Japanese, Chinese or Korean course, the CJK face for figure text (gdcourse.fonts), so
    that no notebook has to ask; nothing in English or French."""
    from .fonts import use_language_fonts

    use_language_fonts()


def _new_axes(projection=None):
    import matplotlib.pyplot as plt  # only when the caller wants a new, inline figure

    if projection is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    else:
        fig = plt.figure(figsize=(6.0, 4.5))
        ax = fig.add_subplot(projection=projection)
    return ax


def _check_ax(ax, name="ax"):
    if not hasattr(ax, "plot") or not hasattr(ax, "get_figure"):
        raise TypeError(f"{name} must be a matplotlib Axes (or None for a new figure), but got {describe(ax)}.")
    return ax


def _axis_labels(surface):
    """θ0/θ1 for a linear model's cost (bias first), θ₁/θ₂ for the test surfaces."""
    if getattr(surface, "name", "") == "mse":
        return _t("θ₀ (intercept)"), _t("θ₁ (slope)")
    return "θ₁", "θ₂"


def _as_surface(surface):
    from .surfaces import Surface, get_surface

    if isinstance(surface, Surface):
        return surface
    if isinstance(surface, str):
        return get_surface(surface)
    raise TypeError(
        "surface must be a gdcourse.surfaces.Surface (e.g. surfaces.non_convex() or "
        f"surfaces.mse_surface(X, y)) or a surface name, but got {describe(surface)}."
    )


def _as_path(path, name="path"):
    """A descent path as an (k, 2) array; a History is accepted for its ``thetas``.

    Rows that are not finite (a run that blew up) are dropped.
    """
    if hasattr(path, "thetas"):
        path = path.thetas
    arr = check_array(path, name, finite=False)
    if arr.ndim == 1 and arr.shape[0] == 2:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(
            f"{name} must have shape (k, 2): one row θ per step on a 2-D surface, but got shape {arr.shape}."
        )
    return arr[np.all(np.isfinite(arr), axis=1)]


def _check_window(lim, name):
    arr = check_array(lim, name, ndim=1)
    if arr.shape != (2,) or not arr[0] < arr[1]:
        raise ValueError(f"{name} must be a pair (low, high) with low < high, but got {arr.tolist()}.")
    return (float(arr[0]), float(arr[1]))


def _contour_levels(F, levels, log_levels):
    """Level values: evenly spaced, or spaced evenly in log(J − J_min) for steep, skewed surfaces."""
    lo, hi = float(np.min(F)), float(np.max(F))
    if hi <= lo:
        return levels
    if log_levels == "auto":
        # uniform levels crowd at the rim when most of the window lies low: spread them in log
        log_levels = (hi - lo) > 8.0 * (float(np.median(F)) - lo)
    if not log_levels:
        return np.linspace(lo, hi, levels + 2)[1:-1]
    span = hi - lo
    return lo + np.geomspace(span * 1e-3, span, levels)


def plot_data(x, y, theta=None, *, residuals=False, ax=None):
    """Scatter the data (x_i, y_i) and, given θ, the line h_θ(x) = θ0 + θ1·x.

    Parameters
    ----------
    x, y : array, shape (m,)
        The raw input (without the bias column) and the targets.
    theta : array, shape (2,), optional
        Intercept θ0 and slope θ1 of the line to draw.
    residuals : bool
        Also draw each residual h_θ(x_i) − y_i as a vertical segment (needs ``theta``).
    ax : matplotlib Axes, optional

    Returns
    -------
    ax
    """
    x = check_vector(x, "x")
    y = check_vector(y, "y", length=x.shape[0], length_name="one target per x")
    if theta is not None:
        theta = check_vector(theta, "theta", length=2, length_name="intercept θ0 and slope θ1")
    if residuals and theta is None:
        raise ValueError("residuals=True needs theta: the residuals are measured from the line h_θ(x).")
    _language_fonts()
    ax = _new_axes() if ax is None else _check_ax(ax)
    ax.scatter(x, y, color=DATA_COLOR, zorder=3, label="data")
    if theta is not None:
        pad = 0.1 * (np.ptp(x) or 1.0)
        xs = np.array([x.min() - pad, x.max() + pad])
        ax.plot(xs, theta[0] + theta[1] * xs, color=FIT_COLOR, lw=2,
                label=f"h(x) = {theta[0]:.3g} + {theta[1]:.3g}·x")
        if residuals:
            h = theta[0] + theta[1] * x
            ax.vlines(x, np.minimum(y, h), np.maximum(y, h), colors=RESIDUAL_COLOR,
                      linestyles="--", label="residuals")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_cost_history(costs, *, ax=None, log=False):
    """Cost J(θ_k) against the iteration k.

    ``costs`` is a sequence of costs or a descent ``History`` (its ``costs``).
    Costs that became inf or NaN (a diverged run) are left out; with
    ``log=True`` the y axis is logarithmic, which shows a steady (linear)
    convergence rate as a straight line.
    """
    if hasattr(costs, "costs"):
        costs = costs.costs
    costs = check_array(costs, "costs", ndim=1, finite=False)
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"log must be True or False, but got {describe(log)}.")
    _language_fonts()
    ax = _new_axes() if ax is None else _check_ax(ax)
    k = np.arange(costs.shape[0])
    keep = np.isfinite(costs)
    if log:
        keep &= costs > 0
        if np.any(np.isfinite(costs) & (costs <= 0)):
            raise ValueError("log=True needs positive costs, but some costs are <= 0; use log=False.")
    ax.plot(k[keep], costs[keep], color=PATH_COLOR, marker="." if costs.shape[0] <= 60 else None)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("cost J(θ_k)")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def _markevery(path, most=60):
    """Mark every step of a short path, and about ``most`` evenly spread steps of a long one."""
    return max(1, len(path) // most)


def _draw_path(ax, path, *, color=PATH_COLOR, label=None, marker="o"):
    if path.shape[0] == 0:
        return
    ax.plot(path[:, 0], path[:, 1], color=color, marker=marker, markersize=3, lw=1.2, label=label,
            zorder=4, markevery=_markevery(path))
    ax.plot(*path[0], marker="s", color=START_COLOR, markersize=7, zorder=5, linestyle="none")
    ax.plot(*path[-1], marker="X", color=color, markeredgecolor="black", markersize=9, zorder=5,
            linestyle="none")


def _draw_minimisers(ax, surface):
    mins = surface.minimisers
    ax.plot(mins[:1, 0], mins[:1, 1], linestyle="none", marker="*", markersize=15, color=MIN_COLOR,
            markeredgecolor="black", zorder=6, label="global minimum")
    if mins.shape[0] > 1:
        ax.plot(mins[1:, 0], mins[1:, 1], linestyle="none", marker="*", markersize=12, color="white",
                markeredgecolor="black", zorder=6, label="local minimum")
    if surface.saddles.shape[0]:
        ax.plot(surface.saddles[:, 0], surface.saddles[:, 1], linestyle="none", marker="x",
                markersize=8, color="black", zorder=6, label="saddle")


def plot_contour(surface, path=None, *, ax=None, levels=30, log_levels="auto", xlim=None, ylim=None):
    """Contour lines of a surface, with an optional descent path and the minimisers.

    Parameters
    ----------
    surface : Surface or str
        From :mod:`gdcourse.surfaces` (``mse_surface(X, y)``, ``non_convex()``, ...).
    path : array (k, 2) or History, optional
        The θ_k visited; drawn as connected markers, the start as a green
        square and the end as a cross.  Non-finite rows are dropped.
    levels : int
        How many contour lines.
    log_levels : bool or "auto"
        Space the levels evenly in log(J − J_min), which suits steep valleys;
        "auto" does so when uniform levels would crowd at the rim.
    ax : matplotlib Axes, optional
    xlim, ylim : (low, high), optional
        The window to draw; the surface's own window by default.

    Returns
    -------
    ax
    """
    surface = _as_surface(surface)
    levels = check_int(levels, "levels", minimum=2)
    if log_levels not in (True, False, "auto"):
        raise ValueError(f"log_levels must be True, False or 'auto', but got {log_levels!r}.")
    path = None if path is None else _as_path(path)
    xlim = surface.xlim if xlim is None else _check_window(xlim, "xlim")
    ylim = surface.ylim if ylim is None else _check_window(ylim, "ylim")
    _language_fonts()
    ax = _new_axes() if ax is None else _check_ax(ax)
    T1, T2, F = surface.grid(120, xlim=xlim, ylim=ylim)
    ax.contour(T1, T2, F, levels=_contour_levels(F, levels, log_levels), cmap="viridis",
               linewidths=0.8, zorder=1)
    _draw_minimisers(ax, surface)
    if path is not None:
        _draw_path(ax, path)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    xlabel, ylabel = _axis_labels(surface)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_paths(surface, paths, *, ax=None):
    """Several descent paths on one contour plot, with a legend.

    ``paths`` maps a label (say ``"α = 0.1"``) to a path (k, 2) or a History.
    """
    surface = _as_surface(surface)
    if not isinstance(paths, dict) or not paths:
        raise TypeError(
            f"paths must be a non-empty dict {{label: path}}, e.g. {{'α = 0.1': history}}, but got {describe(paths)}."
        )
    arrays = {str(label): _as_path(p, f"paths[{label!r}]") for label, p in paths.items()}
    ax = plot_contour(surface, ax=ax)
    colors = PATH_PALETTE
    for i, (label, p) in enumerate(arrays.items()):
        if p.shape[0]:
            ax.plot(p[:, 0], p[:, 1], color=colors[i % len(colors)], marker="o", markersize=2.5,
                    lw=1.2, label=label, zorder=4, markevery=_markevery(p))
            ax.plot(*p[-1], marker="X", color=colors[i % len(colors)], markeredgecolor="black",
                    markersize=8, zorder=5, linestyle="none")
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_surface_3d(surface, path=None, *, ax=None):
    """The surface J(θ) in 3-D, with the descent path drawn on it in red.

    ``ax`` must be a 3-D axes (``fig.add_subplot(projection="3d")``) or None.
    Path points outside the plotting window are left out, since 3-D axes do
    not clip.
    """
    surface = _as_surface(surface)
    path = None if path is None else _as_path(path)
    _language_fonts()
    if ax is None:
        ax = _new_axes(projection="3d")
    elif getattr(ax, "name", None) != "3d":
        raise TypeError(
            "ax must be a 3-D axes for plot_surface_3d: create it with "
            f"fig.add_subplot(projection='3d'), but got {describe(ax)}."
        )
    T1, T2, F = surface.grid(60)
    # draw in the order of zorder, so the path stays visible on top of the surface
    ax.computed_zorder = False
    ax.plot_surface(T1, T2, F, cmap="viridis", alpha=0.75, linewidth=0, antialiased=False, zorder=1)
    if path is not None and path.shape[0]:
        (x0, x1), (y0, y1) = surface.xlim, surface.ylim
        inside = (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
        p = path[inside]
        if p.shape[0]:
            z = surface.fast_value(p)
            ax.plot(p[:, 0], p[:, 1], z, color="red", marker="o", markersize=3, lw=1.5, zorder=10,
                    label="descent path", markevery=_markevery(p))
            ax.scatter([p[-1, 0]], [p[-1, 1]], [z[-1]], color="red", edgecolor="black", s=40, zorder=11)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    xlabel, ylabel = _axis_labels(surface)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_zlabel("J(θ)")
    return ax
