"""Shared parts of the panels: control factories, axis-window helpers, data checks, legend handles.

Every slider of the course is made here, so they all look alike (a 340 px
track, the description in full) and move continuously.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
from matplotlib.lines import Line2D

from .._validation import check_array, check_X_y, describe

_STYLE = {"description_width": "initial"}   # the description in full, not cut to a fixed width


def _wide():
    """The layout of a slider: a 340 px track (a new Layout each time: a control's layout is its own)."""
    return widgets.Layout(width="340px")


def _nice_step(span: float, steps: int = 100) -> float:
    """A round slider step (1, 2 or 5 × 10^k) giving about ``steps`` positions over ``span``."""
    raw = span / steps
    power = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 5.0, 10.0):
        if raw <= mult * power:
            return mult * power
    return 10.0 * power


def _slider(description, lo, hi, value, step=None, *, readout_format=".2f"):
    """A continuous-update FloatSlider whose ends are multiples of a round step."""
    step = _nice_step(hi - lo) if step is None else step
    lo = math.floor(lo / step + 1e-9) * step
    hi = math.ceil(hi / step - 1e-9) * step
    value = min(max(round(value / step) * step, lo), hi)
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                               continuous_update=True, readout=True, readout_format=readout_format,
                               style=_STYLE, layout=_wide())


def _log_slider(description, lo, hi, value, step=0.05, readout_format=".3g"):
    """A FloatLogSlider over 10^lo … 10^hi (exponents in steps of ``step``)."""
    return widgets.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=step,
                                  description=description, continuous_update=True,
                                  readout_format=readout_format, style=_STYLE, layout=_wide())


def _int_slider(description, lo, hi, value):
    return widgets.IntSlider(value=value, min=lo, max=hi, step=1, description=description,
                             continuous_update=True, style=_STYLE, layout=_wide())


def _dropdown(description, options, value):
    return widgets.Dropdown(options=list(options), value=value, description=description,
                            style=_STYLE, layout=widgets.Layout(width="240px"))


def _batch_size_slider(m, value):
    """A log-2 slider over batch sizes 1 … m; the panel rounds its value to a whole batch size.

    A log scale gives the small sizes (1, 2, 4, …) as much room as the large ones, and, unlike a
    SelectionSlider, its readout accepts a typed size such as 37.
    """
    return widgets.FloatLogSlider(value=value, base=2, min=0.0, max=math.log2(m), step=0.25,
                                  description="batch size", continuous_update=True,
                                  readout_format=".0f", style=_STYLE, layout=_wide())


def _level_line(ax, y: float, label: str, *, color: str = "black", va: str = "bottom"):
    """A dashed horizontal reference line at ``y``, labelled at the right edge of ``ax``."""
    ax.axhline(y, color=color, lw=0.8, ls="--")
    ax.text(0.99, y, f"{label} ", transform=ax.get_yaxis_transform(), ha="right", va=va, fontsize=8)


# --- axis windows -----------------------------------------------------------------------

def _nice_ceiling(n: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (× 10^k) that is ≥ n.

    An axis whose limit follows a slider snaps to these values, so dragging
    the slider redraws the axis only now and then, not on every step.
    """
    if n <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(n))
    for mult in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if mult * power >= n - 1e-9:
            return mult * power
    return 10.0 * power


def _equal_scale(ax, xlim, ylim):
    """Limits that contain the window ``xlim × ylim`` with one data unit as long on both axes.

    Computed from the axes' size, so no aspect adjustment happens at draw
    time (which would overrule fixed limits with a logged warning).
    """
    fig = ax.get_figure()
    pos = ax.get_position()
    width = pos.width * fig.get_figwidth()
    height = pos.height * fig.get_figheight()
    scale = max((xlim[1] - xlim[0]) / width, (ylim[1] - ylim[0]) / height)
    cx, cy = 0.5 * (xlim[0] + xlim[1]), 0.5 * (ylim[0] + ylim[1])
    return ((cx - 0.5 * scale * width, cx + 0.5 * scale * width),
            (cy - 0.5 * scale * height, cy + 0.5 * scale * height))


def _clip_log(values, floor):
    """Values for a log axis: non-finite → NaN (a gap), tiny or zero → just below the floor."""
    out = np.asarray(values, dtype=float).copy()
    out[~np.isfinite(out)] = np.nan
    return np.maximum(out, 0.5 * floor)


def _subsample(n, most):
    """Indices 0 … n − 1 thinned to at most ``most`` (the first and the last always kept)."""
    if n <= most:
        return slice(None)
    idx = np.unique(np.linspace(0, n - 1, most).round().astype(int))
    return idx


def _preset_limits(values, presets):
    """The first of ``presets`` (log-axis limits, narrowest first) that holds every finite value > 0.

    Redrawing an axes with new limits is slow (its tick labels are text; see
    ``benchmarks/README.md``), so a log axis whose range must follow the controls jumps between a
    few fixed windows instead of fitting every change.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size:
        for lo, hi in presets:
            if lo <= v.min() and v.max() <= hi:
                return (lo, hi)
    return presets[-1] if v.size else presets[0]


def _artists_added(ax, draw):
    """Run ``draw()`` and return the artists it added to ``ax`` (to toggle them later)."""
    before = set(map(id, ax.get_children()))
    draw()
    return [a for a in ax.get_children() if id(a) not in before]


def _legend_line(color, ls, label):
    """A legend handle: a line of ``color`` and style ``ls`` that is drawn nowhere else."""
    return Line2D([], [], color=color, ls=ls, lw=1.5, label=label)


# --- data ---------------------------------------------------------------------------------

def _as_xy(data, name="data"):
    """X (m, 2) with a bias column, y (m,), and the raw x, from a Dataset-like object."""
    if isinstance(data, tuple) and len(data) == 2 and not hasattr(data, "X"):
        X, y = data
        x = None
    elif hasattr(data, "X") and hasattr(data, "y"):
        X, y, x = data.X, data.y, getattr(data, "x", None)
    else:
        raise TypeError(
            f"{name} must be a Dataset with X and y (e.g. gdcourse.data.five_points()) or a tuple "
            f"(X, y), but got {describe(data)}."
        )
    X, y = check_X_y(X, y, X_name=f"{name}.X", y_name=f"{name}.y")
    if X.shape[1] != 2:
        raise ValueError(
            f"{name}.X must have 2 columns (a bias column of ones and one feature) for these "
            f"panels, but got shape {X.shape}."
        )
    if not np.allclose(X[:, 0], 1.0):
        raise ValueError(f"{name}.X must have a first column of ones (the bias), but its first "
                         f"column is {X[:5, 0].tolist()}...; build X with gdcourse.data.add_bias(x).")
    x = X[:, 1] if x is None else check_array(x, f"{name}.x").reshape(-1)
    if not np.allclose(x, X[:, 1]):
        raise ValueError(f"{name}.x must be the feature column of {name}.X (X[:, 1]), but they differ.")
    return X, y, x
