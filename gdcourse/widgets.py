r"""Slider panels: controls that move a picture, redrawn fast enough to feel instant.

Every panel is a :class:`Panel`: a dict of ipywidgets ``controls``, one
matplotlib ``figure`` drawn with the Agg renderer, and an ``ipywidgets.Image``
that shows it.  Display a panel by leaving it as the last expression of a
cell::

    from gdcourse.data import five_points
    from gdcourse.widgets import fit_panel
    fit_panel(five_points())

How a slider step is redrawn (no pyplot, no ipympl, no re-plotting):

1. the panel computes the new numbers and updates its *moving* artists in
   place (``set_data``, ``set_segments``, ``set_text``);
2. the *static* layer — contours, axes, data — was drawn once and saved as a
   pixel buffer; it is pasted back and only the moving artists are drawn on
   top (blitting).  When one axes must change its limits, only that axes is
   drawn again;
3. the RGBA pixels are encoded as a PNG (zlib level 1) and sent as the image.

Where no live widget runs (nbval, an HTML export) the panel's display
bundle still holds a PNG of its current state.  With the environment variable
``GDCOURSE_HEADLESS=1`` a panel displays only that PNG.

Panels of lessons 1–3
---------------------
================================  =============================================================
``fit_panel(data)``               θ0, θ1 → fit line and residuals; the point on the contour of J
``cross_entropy_panel()``         weight, bias → sigmoid over labelled points; CE vs MSE as J(w)
``tangent_panel(data)``           θ1 → tangent to the slice J(θ1); −∇J arrow on the contour
``finite_difference_panel()``     log10(h) → error of forward and central differences
``descent_panel(data)``           α, iterations, start → GD path on the contour and J vs k
``learning_rate_panel()``         α → iterates on ½λx² and |x_t|: slow, oscillating, diverging
``local_minima_panel()``          start → where plain GD ends on a surface with two minima
================================  =============================================================

Panels of lessons 4–6
---------------------
================================  =============================================================
``batch_size_panel()``            batch size, α, epochs → mini-batch path on the contour; J per
                                  update (faint) and per epoch (bold)
``sgd_escape_panel()``            gradient noise σ, α → plain GD stays in the shallow minimum,
                                  noisy updates hop the saddle
``gradient_norms_panel()``        depth, scale, activation, init, clipping → per-layer gradient
                                  norms at initialisation; the training curve
``optimizer_panel()``             optimiser, α, β1, β2, surface → path and loss per step
``bias_correction_panel()``       β1, β2 → Adam's first steps with and without bias correction
``compare_optimizers_panel()``    α scale, surface → SGD, momentum, RMSProp, Adam together
================================  =============================================================

Panels that retrain (lessons 4 and 5) or run optimisers (lesson 6) cache
their runs with ``functools.lru_cache``, keyed by the control values, so
moving a slider back is a lookup; the first visit is bounded by the sizes
their docstrings give.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import struct
import zlib
from functools import lru_cache

import numpy as np
import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ._stopping import DIVERGENCE_FACTOR, divergence_limit
from .batching import _minibatch_linear_run
from .descent import _gd_loop, _quadratic_gd
from .optim import adam, get_optimizer, run
from ._validation import (as_rng, check_array, check_choice, check_int, check_positive, check_X_y,
                          describe)
from . import plotting as _plotting

__all__ = [
    "Panel",
    "headless",
    "fit_panel",
    "cross_entropy_panel",
    "tangent_panel",
    "finite_difference_panel",
    "descent_panel",
    "learning_rate_panel",
    "local_minima_panel",
    "batch_size_panel",
    "sgd_escape_panel",
    "gradient_norms_panel",
    "optimizer_panel",
    "bias_correction_panel",
    "compare_optimizers_panel",
]



def headless() -> bool:
    """True when ``GDCOURSE_HEADLESS`` asks panels to show only their static PNG."""
    return os.environ.get("GDCOURSE_HEADLESS", "").strip().lower() in ("1", "true", "yes", "on")


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _encode_png(canvas) -> bytes:
    """The canvas pixels as PNG bytes, written fast.

    Each row gets PNG filter byte 0 and the whole image is deflated at zlib
    level 1 with run-length matching: a slider image is mostly flat colour,
    so this is about twice as fast as a general-purpose encoder at a similar
    size.  The alpha channel is kept (Agg draws opaque pixels).
    """
    rgba = np.asarray(canvas.buffer_rgba())
    height, width, _ = rgba.shape
    rows = np.empty((height, 4 * width + 1), dtype=np.uint8)
    rows[:, 0] = 0
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_RLE)
    idat = packer.compress(rows.tobytes()) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


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
                               style={"description_width": "initial"},
                               layout=widgets.Layout(width="340px"))


class Panel:
    """A figure driven by controls, redrawn by blitting and sent to an ``ipywidgets.Image``.

    Subclasses build their picture in :meth:`_build` and move it in
    :meth:`_update`:

    * ``_build()`` makes the axes and the static artists, and registers each
      artist that changes with ``self._moving(name, artist)``;
    * ``_update(**values)`` receives the current control values, computes,
      updates the moving artists in place, sets readouts with
      ``self._say(name, text)`` and may set ``self.message``.

    Keep axis limits fixed where you can (compute them for the worst case in
    ``_build``): then every step is a blit.  An axes whose limits must follow a
    control gets them through :meth:`_set_limits`; add it to
    ``self._dynamic_axes`` and only that axes is drawn again (it must not
    overlap another axes); any other limit change redraws the whole figure.

    Controls may be any ipywidgets value widgets: sliders, dropdowns,
    checkboxes, toggle buttons.  A minimal panel::

        class SinePanel(Panel):
            def __init__(self):
                super().__init__({"k": widgets.IntSlider(value=1, min=1, max=5)})

            def _build(self):
                ax = self.figure.subplots()
                ax.set_xlim(0, 6.3); ax.set_ylim(-1.1, 1.1)
                self._x = np.linspace(0, 6.3, 200)
                self._moving("curve", ax.plot(self._x, 0 * self._x)[0])

            def _update(self, k):
                self.artists["curve"].set_ydata(np.sin(k * self._x))

    Attributes
    ----------
    controls : dict
        Name → ipywidgets control.
    figure : matplotlib.figure.Figure
    image : ipywidgets.Image
        The rendered picture, updated on every change.
    readout : ipywidgets.HTML
        The live numbers (J = …, slope = …) under the controls.  They are
        text in the page, not pixels: matplotlib's text rendering would cost
        more than the rest of a redraw.  The static PNG shows them as titles.
    readouts : dict
        Name → the current readout sentence.
    widget : ipywidgets.VBox
        Controls, readout and image; what a notebook displays.
    artists : dict
        Name → the moving matplotlib artists, so tests can read what is drawn.
    message : str
        A sentence shown on the figure for an edge case (divergence, ...);
        empty otherwise.
    """

    figsize = (8.0, 3.2)
    dpi = 80

    def __init__(self, controls, *, figsize=None, dpi=None):
        if not isinstance(controls, dict) or not controls:
            raise TypeError(f"controls must be a non-empty dict {{name: ipywidget}}, but got {describe(controls)}.")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget (a slider, "
                                f"dropdown, checkbox, ...), but got {describe(control)}.")
        self.controls = dict(controls)
        self.figure = Figure(figsize=figsize or self.figsize, dpi=dpi or self.dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.artists = {}
        self.readouts = {}
        self.message = ""
        self._readout_axes = {}      # readout name → the axes whose title shows it in the static PNG
        self._animated = []
        self._dynamic_axes = set()   # axes allowed to change limits without a full redraw
        self._stale_axes = set()
        self._needs_full = True
        self._background = None
        self._without = {}           # axes → pixels of the figure drawn without that axes
        self._hold = 0
        self._png = b""
        self._build()
        self._message_artist = self._make_message_artist()
        self.image = widgets.Image(format="png")
        self.readout = widgets.HTML(layout=widgets.Layout(min_height="1.6em"))
        self.widget = widgets.VBox([
            widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
            self.readout,
            self.image,
        ])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    # --- hooks for subclasses -------------------------------------------------------------

    def _build(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, **values):  # pragma: no cover - abstract
        raise NotImplementedError

    #: where, in axes coordinates, the edge-case message is centred
    _message_xy = (0.5, 0.5)

    def _message_axes(self):
        """The axes the edge-case message is drawn on (default: the last one)."""
        return self.figure.axes[-1]

    # --- building blocks ------------------------------------------------------------------

    def _moving(self, name, artist):
        """Register an artist that changes with the controls; it is drawn by blitting."""
        artist.set_animated(True)
        self.artists[name] = artist
        self._animated.append(artist)
        return artist

    def _readout(self, name, ax, title=""):
        """Declare a live readout that belongs to ``ax``; ``title`` is the axes' static title."""
        ax.set_title(title, loc="left", fontsize=9.5)
        self._readout_axes[name] = ax
        self.readouts[name] = ""

    def _two_axes(self, *, right=0.98, wspace=0.3):
        """The panels' usual layout: two axes side by side under a row of titles."""
        self.figure.subplots_adjust(left=0.085, right=right, bottom=0.16, top=0.88, wspace=wspace)
        return self.figure.subplots(1, 2)

    def _path_artists(self, ax, title, *, markersize=2.5):
        """Moving artists for a descent path on ``ax``: the path (dots), its start ■ and its end ✕."""
        self._moving("path", ax.plot([0], [0], color=_plotting.PATH_COLOR, marker="o",
                                     markersize=markersize, lw=1.0, zorder=4)[0])
        self._moving("start", ax.plot([0], [0], "s", color=_plotting.START_COLOR, markersize=7,
                                      markeredgecolor="black", zorder=5)[0])
        self._moving("end", ax.plot([0], [0], "X", color=_plotting.PATH_COLOR, markersize=9,
                                    markeredgecolor="black", zorder=5)[0])
        self._readout("path", ax, title)

    def _show_path(self, thetas, *, max_dots=150):
        """Draw ``thetas`` (k + 1, 2) with the artists of :meth:`_path_artists`."""
        path = self.artists["path"]
        path.set_data(thetas[:, 0], thetas[:, 1])
        path.set_markevery(max(1, len(thetas) // max_dots))  # a dot per step, up to max_dots
        self.artists["start"].set_data([thetas[0, 0]], [thetas[0, 1]])
        self.artists["end"].set_data([thetas[-1, 0]], [thetas[-1, 1]])

    def _say(self, name, text):
        """Set the readout ``name`` (from :meth:`_update`)."""
        self.readouts[name] = text

    def _make_message_artist(self):
        ax = self._message_axes()
        text = ax.text(*self._message_xy, "", transform=ax.transAxes, ha="center", va="center", fontsize=9.5,
                       color="#8b0000", wrap=False, zorder=20,
                       bbox=dict(boxstyle="round,pad=0.4", facecolor="#fff4f4", edgecolor="#8b0000"))
        text.set_visible(False)
        return self._moving("message", text)

    def _set_limits(self, ax, xlim=None, ylim=None):
        """Give ``ax`` new limits; only that axes is drawn again (or all, if not dynamic)."""
        changed = False
        if xlim is not None and tuple(ax.get_xlim()) != tuple(map(float, xlim)):
            ax.set_xlim(xlim)
            changed = True
        if ylim is not None and tuple(ax.get_ylim()) != tuple(map(float, ylim)):
            ax.set_ylim(ylim)
            changed = True
        if changed:
            if ax in self._dynamic_axes:
                self._stale_axes.add(ax)
            else:
                self._needs_full = True

    # --- public API -----------------------------------------------------------------------

    @property
    def values(self) -> dict:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values):
        """Set one or more controls and redraw once, synchronously; returns the panel."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{self.__class__.__name__} has no control named {', '.join(map(repr, unknown))}; "
                             f"its controls are {', '.join(map(repr, self.controls))}.")
        self._hold += 1
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._hold -= 1
        self.redraw()
        return self

    def redraw(self):
        """Recompute from the controls, redraw the figure and update the image."""
        self.message = ""
        self._update(**self.values)
        self._message_artist.set_text(self.message)
        self._message_artist.set_visible(bool(self.message))
        self._render()
        parts = [html.escape(t) for t in self.readouts.values() if t]
        if self.message:
            parts.append(f'<span style="color:#8b0000">{html.escape(self.message)}</span>')
        self.readout.value = ('<span style="font-size:0.95em">' + " &nbsp;│&nbsp; ".join(parts)
                              + "</span>")

    def render_png(self) -> bytes:
        """The current picture, as the live image shows it, as PNG bytes."""
        if not self._png:
            self.redraw()
        return self._png

    def static_png(self) -> bytes:
        """A PNG of the current state with the readouts drawn as axes titles.

        This is the picture for places where no live widget runs (nbval, an
        HTML export, ``GDCOURSE_HEADLESS=1``).  It is drawn in full once, so
        it may take a tenth of a second; the live path never calls it.
        """
        titles = {}
        for name, ax in self._readout_axes.items():
            text = self.readouts.get(name, "")
            if text:
                titles.setdefault(ax, [ax.get_title(loc="left"), []])[1].append(text)
        for ax, (_, texts) in titles.items():
            ax.set_title("   ".join(texts), loc="left", fontsize=8.5)
        try:
            out = io.BytesIO()
            # saving draws the animated artists too, so the moving parts are in the picture
            self.figure.savefig(out, format="png", dpi=self.figure.dpi)
        finally:
            for ax, (old, _) in titles.items():
                ax.set_title(old, loc="left", fontsize=9.5)
        return out.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        data = {}
        if not headless():
            data.update(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        data["image/png"] = base64.b64encode(self.static_png()).decode("ascii")
        data["text/plain"] = repr(self)
        return data

    def __repr__(self):
        vals = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}"
                         for k, v in self.values.items())
        return f"{self.__class__.__name__}({vals})"

    # --- drawing ---------------------------------------------------------------------------

    def _on_change(self, change):
        if not self._hold:
            self.redraw()

    def _full_draw(self):
        self.canvas.draw()  # animated artists are skipped: this is the static layer
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._without.clear()
        self._needs_full = False
        self._stale_axes.clear()

    def _redraw_axes(self, ax):
        """Draw one axes again on top of the figure without it; refresh the static layer."""
        canvas = self.canvas
        if ax not in self._without:
            ax.set_visible(False)
            canvas.draw()
            self._without[ax] = canvas.copy_from_bbox(self.figure.bbox)
            ax.set_visible(True)
        canvas.restore_region(self._without[ax])
        self.figure.draw_artist(ax)
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        for other in list(self._without):
            if other is not ax:  # their saved pixels still show the old ax
                del self._without[other]

    def _render(self):
        if self._background is None or self._needs_full or len(self._stale_axes) > 1:
            self._full_draw()
        elif self._stale_axes:
            self._redraw_axes(self._stale_axes.pop())
        else:
            self.canvas.restore_region(self._background)
        for artist in self._animated:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        self._png = _encode_png(self.canvas)
        self.image.value = self._png


# ============================================================================================
# shared computations
# ============================================================================================

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


# ============================================================================================
# lesson 1
# ============================================================================================

class FitPanel(Panel):
    """θ0, θ1 → the line h_θ(x) = θ0 + θ1·x with its residuals, and the point θ on the contour of J."""

    def __init__(self, data, theta=None):
        from .surfaces import mse_surface

        self.X, self.y, self.x = _as_xy(data)
        self.surface = mse_surface(self.X, self.y)
        start = self.surface.start if theta is None else check_array(theta, "theta", ndim=1)
        if start.shape != (2,):
            raise ValueError(f"theta must have shape (2,) (θ0, θ1), but got shape {start.shape}.")
        s = self.surface
        controls = {
            "theta0": _slider("θ₀ (intercept)", *s.xlim, start[0]),
            "theta1": _slider("θ₁ (slope)", *s.ylim, start[1]),
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
        self._readout("data", left, "data and the line h_θ(x) = θ₀ + θ₁·x")
        _plotting.plot_contour(self.surface, ax=right)
        self._moving("point", right.plot([0], [0], "o", color=_plotting.FIT_COLOR, markersize=9,
                                         markeredgecolor="black", zorder=8)[0])
        self._readout("cost", right, "contour of J(θ); the dot is the current θ")

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
        self._say("cost", f"J(θ) = {cost:.4f}   (at ★ θ*: {self.surface.minimum:.4f})")


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
            "weight": _slider("weight w", -6.0, 6.0, 1.0, 0.1),
            "bias": _slider("bias b", -4.0, 4.0, 0.0, 0.1),
        }
        super().__init__(controls)

    _message_xy = (0.5, 0.7)

    def _costs(self, w, b):
        """CE and MSE of σ(w·x + b) for every w in ``w`` (any shape), the bias b fixed."""
        from .losses import sigmoid

        z = np.multiply.outer(np.asarray(w, dtype=float), self.x) + b
        p = sigmoid(z)
        ce = np.mean(np.logaddexp(0.0, z) - self.y * z, axis=-1)
        mse = 0.5 * np.mean((p - self.y) ** 2, axis=-1)
        return ce, mse

    def _slopes(self, w, b):
        """∂CE/∂w = mean((p − y)·x) and ∂MSE/∂w = mean((p − y)·p(1 − p)·x)."""
        from .losses import sigmoid

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
        left.set_xlabel("x  (blue: y = 0, red: y = 1)")
        left.set_ylabel("p = σ(w·x + b)")
        left.axhline(0.5, color="grey", lw=0.6, ls=":")
        self._moving("sigmoid", left.plot(self._xs, self._xs * 0, color="black", lw=2)[0])
        self._readout("data", left, "p = σ(w·x + b) over the labelled points")
        # cost against w; the bias changes the curves but never the axes (worst case computed here)
        corners = [self._costs(self.w_grid, b)[0].max() for b in (-4.0, 4.0)]
        right.set_xlim(self.w_grid[0], self.w_grid[-1])
        right.set_ylim(0.0, 1.05 * max(corners))
        right.set_xlabel("weight w  (bias fixed at b)")
        right.set_ylabel("cross-entropy", color="#9467bd")
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
        self._readout("cost", right, "cost as a function of w, at the current b")

    def _message_axes(self):
        return self.ax_data

    def _update(self, weight, bias):
        from .losses import sigmoid

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
        self._say("cost", 
            f"CE {ce:.3f} (slope {d_ce:+.3f}) · MSE {mse:.3f} (slope {d_mse:+.4f})")
        if weight < -1.0 and abs(d_mse) < 0.25 * abs(d_ce):
            self.message = ("confidently wrong: MSE is flat here, GD stalls;\n"
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


# ============================================================================================
# lesson 2
# ============================================================================================

class TangentPanel(Panel):
    """θ1 (θ0 held at θ0*) → the tangent to J(θ0*, θ1) and the −∇J arrow on the contour."""

    def __init__(self, data):
        from .surfaces import mse_surface

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
        js = s._value(pts)
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
        grads = s._grad(pts)
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
        j = float(s._value(theta))
        grad = s._grad(theta)
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


# ============================================================================================
# lesson 3
# ============================================================================================

class DescentPanel(Panel):
    """α, iterations, start (θ0, θ1) → the GD path on the contour of J and J against k."""

    def __init__(self, data, max_iters=2000):
        from .surfaces import mse_surface

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
            "lr": widgets.FloatLogSlider(value=0.01, base=10, min=-3.0, max=hi, step=0.05,
                                         description="α (learning rate)", continuous_update=True,
                                         readout_format=".3g", style={"description_width": "initial"},
                                         layout=widgets.Layout(width="340px")),
            "num_iters": widgets.IntSlider(value=min(1000, self.max_iters), min=1, max=self.max_iters,
                                           step=1, description="iterations", continuous_update=True,
                                           style={"description_width": "initial"},
                                           layout=widgets.Layout(width="340px")),
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
                      3.0 * float(self.surface._value(corners).max()))
        right.set_yscale("log")
        right.set_ylim(self._ylim)
        right.set_xlim(0, _nice_ceiling(self.controls["num_iters"].value))
        if self.j_star > 0:
            right.axhline(self.j_star, color="black", lw=0.8, ls="--")
            right.text(0.99, self.j_star, f"J(θ*) = {self.j_star:.3g} ", transform=right.get_yaxis_transform(),
                       ha="right", va="top", fontsize=8)
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
        from .surfaces import non_convex

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
            v = float(s._value(point))
            right.axhline(v, color="black" if i == 0 else "grey", lw=0.8, ls="--")
            right.text(0.99, v, f"{names[i]}: f = {v:.3g} ", transform=right.get_yaxis_transform(),
                       ha="right", va="bottom", fontsize=8)
        right.set_xlabel("iteration k")
        right.set_ylabel("f(θ_k)")
        right.grid(True, which="major", alpha=0.3)
        self._moving("cost", right.plot([0], [0], color=_plotting.PATH_COLOR, lw=1.5)[0])
        self._readout("cost", right, "f(θ_k) per iteration")

    def _update(self, start_theta1, start_theta2):
        s = self.surface
        theta0 = np.array([start_theta1, start_theta2])
        thetas, costs, diverged = _gd_loop(s._grad, s._value, theta0, self.lr, self.num_iters)
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


# ============================================================================================
# lessons 4–6: shared pieces
# ============================================================================================

#: colours of the optimisers, the same in every lesson 6 picture (plot_paths' palette)
OPTIMIZER_COLORS = {"sgd": "#d62728", "momentum": "#1f77b4", "nesterov": "#17becf",
                    "adagrad": "#8c564b", "rmsprop": "#ff7f0e", "adam": "#9467bd", "adamw": "#e377c2"}
GD_COLOR = "#1f77b4"
_WIDE = widgets.Layout(width="340px")
_STYLE = {"description_width": "initial"}


def _log_slider(description, lo, hi, value, step=0.05, readout_format=".3g"):
    """A FloatLogSlider over 10^lo … 10^hi (exponents in steps of ``step``)."""
    return widgets.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=step,
                                  description=description, continuous_update=True,
                                  readout_format=readout_format, style=_STYLE, layout=_WIDE)


def _int_slider(description, lo, hi, value):
    return widgets.IntSlider(value=value, min=lo, max=hi, step=1, description=description,
                             continuous_update=True, style=_STYLE, layout=_WIDE)


def _dropdown(description, options, value):
    return widgets.Dropdown(options=list(options), value=value, description=description,
                            style=_STYLE, layout=widgets.Layout(width="240px"))


def _subsample(n, most):
    """Indices 0 … n − 1 thinned to at most ``most`` (the first and the last always kept)."""
    if n <= most:
        return slice(None)
    idx = np.unique(np.linspace(0, n - 1, most).round().astype(int))
    return idx


def _preset_limits(values, presets):
    """The first of ``presets`` (log-axis limits, narrowest first) that holds every finite value > 0.

    Redrawing an axes with new limits costs 50–150 ms here (its tick labels are
    text), so a log axis whose range must follow the controls jumps between a
    few fixed windows instead of fitting every change.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size:
        for lo, hi in presets:
            if lo <= v.min() and v.max() <= hi:
                return (lo, hi)
    return presets[-1] if v.size else presets[0]


class _KeyedBackgroundPanel(Panel):
    """A panel whose static layer takes a few known states, each drawn once and then reused.

    Redrawing an axes costs 50–150 ms here (tick labels are text), too much for
    a slider step.  When the static layer can only be in a few states (a log
    axis jumping between preset windows, a dropdown choosing the surface under
    the contour), the pixels of each state are kept, keyed by the limits of
    every axes plus :meth:`_static_key`: a change of state costs one full draw
    the first time and a pixel copy afterwards.
    """

    def _static_key(self):
        return ()

    def _render(self):
        key = (tuple((ax.get_xlim(), ax.get_ylim()) for ax in self.figure.axes), self._static_key())
        if not hasattr(self, "_backgrounds"):
            self._backgrounds = {}
        background = self._backgrounds.get(key)
        if background is None:
            self._full_draw()
            self._backgrounds[key] = self._background
        else:
            self._background = background
            self._needs_full = False
            self._stale_axes.clear()
            self.canvas.restore_region(background)
        for artist in self._animated:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        self._png = _encode_png(self.canvas)
        self.image.value = self._png


def _artists_added(ax, draw):
    """Run ``draw()`` and return the artists it added to ``ax`` (to toggle them later)."""
    before = set(map(id, ax.get_children()))
    draw()
    return [a for a in ax.get_children() if id(a) not in before]


# ============================================================================================
# lesson 4
# ============================================================================================

def _batch_size_slider(m, value):
    """A log-2 slider over batch sizes 1 … m; the panel rounds its value to a whole batch size.

    A log scale gives the small sizes (1, 2, 4, …) as much room as the large ones, and, unlike a
    SelectionSlider, its readout accepts a typed size such as 37.
    """
    return widgets.FloatLogSlider(value=value, base=2, min=0.0, max=math.log2(m), step=0.25,
                                  description="batch size", continuous_update=True,
                                  readout_format=".0f", style=_STYLE, layout=_WIDE)


class BatchSizePanel(_KeyedBackgroundPanel):
    """batch size, α, epochs → the mini-batch path on the contour of J, and J per update and per epoch."""

    def __init__(self, data=None, random_state=0, max_epochs=20):
        from .data import make_regression
        from .surfaces import mse_surface

        if data is None:
            data = make_regression(2000, 1, random_state=random_state)
        self.X, self.y, self.x = _as_xy(data)
        self.m = len(self.y)
        self.max_epochs = check_int(max_epochs, "max_epochs", minimum=1, maximum=100)
        rng = as_rng(random_state)
        # the epochs' orders, drawn as gdcourse.batching.train(random_state=...) draws them
        self.orders = np.array([rng.permutation(self.m) for _ in range(self.max_epochs)])
        self.surface = mse_surface(self.X, self.y)
        self.theta0 = np.zeros(2)
        self.j_star = self.surface.minimum
        self._run = lru_cache(maxsize=48)(self._run_uncached)
        controls = {
            "batch_size": _batch_size_slider(self.m, min(32, self.m)),
            "lr": _log_slider("α (learning rate)", -3.0, 0.5, 0.05),
            "num_epochs": _int_slider("epochs", 1, self.max_epochs, min(5, self.max_epochs)),
        }
        super().__init__(controls)

    def _epoch_window(self, num_epochs):
        """The epoch axis ends at 1, 2, 5, 10, 20, 50 or 100 (each window's background is drawn once)."""
        for end in (1, 2, 5, 10, 20, 50, 100):
            if num_epochs <= end:
                return min(end, self.max_epochs)
        return self.max_epochs

    def _run_uncached(self, batch_size, lr):
        return _minibatch_linear_run(self.x, self.y, self.orders, batch_size, lr, self.theta0)

    def _build(self):
        fig = self.figure
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.88, wspace=0.3)
        left, right = fig.subplots(1, 2)
        self.ax_path, self.ax_cost = left, right
        s = self.surface
        # a window holding the start θ = 0 and the minimiser θ*
        pts = np.array([self.theta0, s.minimiser])
        pad = 0.35 * max(float(np.ptp(pts[:, 0])), float(np.ptp(pts[:, 1])), 1.0)
        xlim = (pts[:, 0].min() - pad, pts[:, 0].max() + pad)
        ylim = (pts[:, 1].min() - pad, pts[:, 1].max() + pad)
        xlim, ylim = _equal_scale(left, xlim, ylim)
        _plotting.plot_contour(s, ax=left, xlim=xlim, ylim=ylim)
        self._moving("path", left.plot([0], [0], color=_plotting.PATH_COLOR, lw=0.8, alpha=0.85, zorder=4)[0])
        left.plot([self.theta0[0]], [self.theta0[1]], "s", color=_plotting.START_COLOR, markersize=7,
                  markeredgecolor="black", zorder=5)
        self._moving("end", left.plot([0], [0], "X", color=_plotting.PATH_COLOR, markersize=9,
                                      markeredgecolor="black", zorder=6)[0])
        self._readout("path", left, "mini-batch path on the contour of J")
        j0 = float(s._value(self.theta0))
        self._floor = self.j_star / 30.0
        self._ylim = (self._floor, 3.0 * max(j0, self.j_star))
        right.set_yscale("log")
        right.set_ylim(self._ylim)
        right.set_xlim(0, self._epoch_window(self.controls["num_epochs"].value))
        right.axhline(self.j_star, color="black", lw=0.8, ls="--")
        right.set_xlabel("epoch")
        right.set_ylabel("J")
        right.grid(True, which="major", alpha=0.3)
        self._moving("update_loss", right.plot([0], [1], color=_plotting.PATH_COLOR, lw=0.6, alpha=0.35)[0])
        self._moving("epoch_loss", right.plot([0], [1], color="black", lw=2.0, marker="o",
                                              markersize=3.5)[0])
        self._readout("cost", right, "J per update (faint) and per epoch (bold)")

    def batch_size_of(self, value) -> int:
        """The whole batch size, 1 … m, that a slider value stands for."""
        return int(min(self.m, max(1, round(float(value)))))

    def _update(self, batch_size, lr, num_epochs):
        batch_size = self.batch_size_of(batch_size)
        run = self._run(batch_size, float(lr))
        upe = run.updates_per_epoch
        diverged = 0 < run.diverged_epoch <= num_epochs
        if diverged:
            k, e = len(run.update_losses), len(run.epoch_losses) - 1
        else:
            k, e = num_epochs * upe, num_epochs
        path, losses, epoch_losses = run.path[:k + 1], run.update_losses[:k], run.epoch_losses[:e + 1]
        self.path, self.update_losses, self.epoch_losses, self.diverged = path, losses, epoch_losses, diverged
        self.updates_per_epoch = upe
        shown = _subsample(len(path), 1000)
        self.artists["path"].set_data(path[shown, 0], path[shown, 1])
        self.artists["end"].set_data([path[-1, 0]], [path[-1, 1]])
        t = np.arange(k) / upe
        shown = _subsample(k, 1200)
        self.artists["update_loss"].set_data(t[shown], _clip_log(losses[shown], self._floor))
        self.artists["epoch_loss"].set_data(np.arange(e + 1), _clip_log(epoch_losses, self._floor))
        self._set_limits(self.ax_cost, xlim=(0, self._epoch_window(num_epochs)))
        theta = path[-1]
        name = ("SGD" if batch_size == 1 else "batch GD" if batch_size == self.m else "mini-batch GD")
        self._say("path", f"{name}: {upe} update{'s' if upe != 1 else ''}/epoch, {k} in all; "
                          f"θ = ({theta[0]:.3g}, {theta[1]:.3g})")
        self._say("cost", f"J after {e} epoch{'s' if e != 1 else ''} = {epoch_losses[-1]:.4g} "
                          f"(J* = {self.j_star:.4g})")
        if diverged:
            where = (f"at update {run.diverged_update}" if run.diverged_update else "at its end")
            self.message = (f"diverged in epoch {run.diverged_epoch} ({where}):\n"
                            f"α = {lr:.3g} is too large for batch size {batch_size}")
        elif epoch_losses[-1] > epoch_losses[0]:
            self.message = f"the loss grows: α = {lr:.3g} is too large,\nmore epochs will diverge"


def batch_size_panel(data=None, random_state=0, max_epochs=20) -> Panel:
    """Lesson 4: batch GD, SGD and mini-batch GD on one regression problem, by sliders.

    ``data`` defaults to ``gdcourse.data.make_regression(2000, 1, random_state=random_state)``:
    m = 2000 rows, one feature and a bias, so θ = (θ0, θ1) and J is the MSE
    J(θ) = 1/(2m)·Σ(θ0 + θ1·x_i − y_i)².  Each epoch visits the rows in a new
    seeded order (the orders of ``gdcourse.batching.train(random_state=...)``) and
    makes one update θ ← θ − (α/|B|)·X_Bᵀ(X_Bθ − y_B) per batch B.

    Sliders: batch size (1, 2, 4, …, m: SGD … batch GD), α (log scale) and the
    number of epochs (1 … ``max_epochs``).  Left: the path from θ = 0 on the
    contour of J; right: the batch loss of every update (faint) and the
    full-data J after every epoch (bold), against epochs, with J* dashed.

    Work is bounded: each (batch size, α) is run once for ``max_epochs`` epochs
    (the epochs slider slices that run) and cached.  The run composes the
    updates' affine maps by a prefix scan instead of a Python loop, so even
    SGD at batch size 1 — 2000 × 20 = 40,000 updates — costs about 25 ms of
    compute the first time (about 50 ms with the drawing, on a loaded 2-core
    machine) and a few ms afterwards; the tests check it against
    ``gdcourse.batching.train``.  The path and the per-update curve are thinned
    to at most 1000 and 1200 drawn points.
    Divergence (the rule of ``train``) shows as a message on the figure.
    ``panel.path``, ``panel.update_losses`` and ``panel.epoch_losses`` hold what is drawn.
    """
    return BatchSizePanel(data, random_state, max_epochs)


class SGDEscapePanel(Panel):
    """gradient noise σ, α → plain GD stays in the shallow minimum; noisy updates may hop the saddle."""

    def __init__(self, random_state=0, num_steps=300, num_runs=32, start=(1.5, 0.8)):
        from .surfaces import non_convex

        self.surface = s = non_convex()
        self.num_steps = check_int(num_steps, "num_steps", minimum=1, maximum=5000)
        self.num_runs = check_int(num_runs, "num_runs", minimum=1, maximum=500)
        self.start = check_array(start, "start", ndim=1)
        if self.start.shape != (2,):
            raise ValueError(f"start must have shape (2,) (θ₁, θ₂), but got shape {self.start.shape}.")
        rng = as_rng(random_state)
        # ξ_t for every step and run, drawn once: moving σ rescales the same noise
        self.xi = rng.standard_normal((self.num_steps, self.num_runs, 2))
        self.decay = 1.0 - np.arange(self.num_steps) / self.num_steps
        self.saddle_x = float(s.saddles[0, 0])
        controls = {
            "noise": _slider("gradient noise σ", 0.0, 12.0, 0.0, 0.25),
            "lr": _log_slider("α (learning rate)", -2.5, -0.3, 0.05),
        }
        super().__init__(controls)

    def _noisy_runs(self, noise, lr):
        """θ ← θ − α(∇f(θ) + σ_t·ξ_t) for all runs at once; σ_t = σ·(1 − t/T) fades to 0."""
        s = self.surface
        T, R = self.num_steps, self.num_runs
        thetas = np.empty((T + 1, R, 2))
        theta = np.tile(self.start, (R, 1))
        thetas[0] = theta
        grad = s._grad
        scale = lr * noise * self.decay
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            for t in range(T):
                theta = theta - lr * grad(theta) - scale[t] * self.xi[t]
                thetas[t + 1] = theta
            costs = s._value(thetas)
        return thetas, costs

    def _build(self):
        left, right = self._two_axes()
        self.ax_path, self.ax_cost = left, right
        s = self.surface
        _plotting.plot_contour(s, ax=left)
        left.plot([self.start[0]], [self.start[1]], "s", color=_plotting.START_COLOR, markersize=7,
                  markeredgecolor="black", zorder=7)
        self._moving("gd_path", left.plot([0], [0], color=GD_COLOR, lw=1.6, zorder=5)[0])
        self._moving("noisy_path", left.plot([0], [0], color=_plotting.PATH_COLOR, lw=0.8, alpha=0.9,
                                             zorder=4)[0])
        self._moving("ends", left.plot([0], [0], "o", color=_plotting.PATH_COLOR, markersize=4,
                                       markeredgecolor="black", markeredgewidth=0.5, alpha=0.8,
                                       linestyle="none", zorder=6)[0])
        self._readout("path", left, "blue: plain GD · red: noisy (dots: ends of all runs)")
        _, _, F = s.grid(60)
        lo, hi = float(F.min()), float(F.max())
        right.set_xlim(0, self.num_steps)
        top = max(float(s._value(self.start)) * 1.3, lo + 0.5 * (hi - lo))
        right.set_ylim(lo - 0.08 * (top - lo), top)
        for i, point in enumerate(s.minimisers[:2]):
            v = float(s._value(point))
            right.axhline(v, color="black" if i == 0 else "grey", lw=0.8, ls="--")
        right.set_xlabel("step t")
        right.set_ylabel("f(θ_t)")
        right.grid(True, which="major", alpha=0.3)
        self._moving("gd_cost", right.plot([0], [0], color=GD_COLOR, lw=1.6)[0])
        self._moving("noisy_cost", right.plot([0], [0], color=_plotting.PATH_COLOR, lw=0.8)[0])
        self._readout("cost", right, "f(θ_t); dashed: the two minima")

    def _classify(self, end):
        if not np.all(np.isfinite(end)):
            return "diverged"
        return "global" if end[0] < self.saddle_x else "local"

    def _update(self, noise, lr):
        s = self.surface
        gd, gd_costs, gd_diverged = _gd_loop(s._grad, s._value, self.start, lr, self.num_steps)
        thetas, costs = self._noisy_runs(noise, lr)
        limit = divergence_limit(costs[0, 0])
        ok = np.isfinite(costs) & (costs <= limit)
        bad = ~ok.all(axis=0)                                   # runs that blew up
        first_bad = np.where(bad, np.argmin(ok, axis=0), self.num_steps + 1)
        run0 = thetas[:first_bad[0], 0]
        self.gd_path, self.gd_costs, self.noisy_path = gd, gd_costs, run0
        ends = thetas[-1][~bad]
        self.outcomes = ["diverged" if b else self._classify(e) for b, e in zip(bad, thetas[-1])]
        self.gd_outcome = "diverged" if gd_diverged else self._classify(gd[-1])
        n_global = self.outcomes.count("global")
        self.n_global, self.n_diverged = n_global, int(bad.sum())
        self.artists["gd_path"].set_data(gd[:, 0], gd[:, 1])
        self.artists["noisy_path"].set_data(run0[:, 0], run0[:, 1])
        self.artists["ends"].set_data(ends[:, 0], ends[:, 1])
        self.artists["gd_cost"].set_data(np.arange(len(gd_costs)), gd_costs)
        self.artists["noisy_cost"].set_data(np.arange(len(run0)), costs[:len(run0), 0])
        self._say("path", f"GD → {self.gd_outcome} minimum; noisy: {n_global}/{self.num_runs} → global")
        self._say("cost", f"α = {lr:.3g}, σ = {noise:g} → 0 over {self.num_steps} steps")
        if gd_diverged or self.n_diverged:
            what = "plain GD and " if gd_diverged else ""
            self.message = (f"{what}{self.n_diverged} of {self.num_runs} noisy runs diverged:\n"
                            f"α = {lr:.3g} is too large here")


def sgd_escape_panel(random_state=0, num_steps=300, num_runs=32) -> Panel:
    """Lesson 4: noisy, SGD-like updates can leave a shallow minimum that plain GD cannot.

    On ``gdcourse.surfaces.non_convex()`` — f(θ) = (θ₁² − 1)² + 0.5·θ₁ + θ₂², a
    global minimum at θ₁ ≈ −1.06, a shallower local one at θ₁ ≈ 0.93 and a saddle
    at θ₁ ≈ 0.13 — every run starts at (1.5, 0.8), in the local minimum's basin.
    Plain GD, θ ← θ − α∇f(θ), slides into the local minimum and stays.  The noisy
    runs take θ ← θ − α(∇f(θ) + σ_t·ξ_t), ξ_t ~ N(0, I) seeded by
    ``random_state``, the gradient noise a mini-batch adds; σ_t = σ·(1 − t/T)
    fades to 0 over the T = ``num_steps`` steps, as a decaying learning rate would
    quiet SGD, so each run settles in one of the two minima.

    Sliders: σ and α.  Left: the GD path (blue), one noisy run (red) and where
    each of ``num_runs`` noisy runs ended (dots); right: f(θ_t) of both paths.
    The readout counts the runs that reached the global minimum.
    """
    return SGDEscapePanel(random_state, num_steps, num_runs)


# ============================================================================================
# lesson 5
# ============================================================================================

class GradientNormsPanel(_KeyedBackgroundPanel):
    """depth, scale, activation, init, clipping → per-layer gradient norms at init and a training curve."""

    max_depth = 12
    #: log-axis windows (narrowest first) for the bars and for J; see _preset_limits
    _bar_presets = ((1e-4, 1e4), (1e-13, 1e13), (1e-40, 1e40))
    _cost_presets = ((1e-2, 1e2), (1e-2, 1e10), (1e-2, 1e40))

    def __init__(self, width=16, n_samples=128, num_epochs=30, lr=0.2, clip_norm=1.0, random_state=0):
        from . import deepnet

        self.width = check_int(width, "width", minimum=1, maximum=256)
        self.n_samples = check_int(n_samples, "n_samples", minimum=2, maximum=4096)
        self.num_epochs = check_int(num_epochs, "num_epochs", minimum=1, maximum=500)
        self.lr = check_positive(lr, "lr")
        self.clip_norm = check_positive(clip_norm, "clip_norm")
        self.n_features = 8
        as_rng(random_state)  # refuse a bad seed here, before any work
        if not isinstance(random_state, (int, np.integer)) or isinstance(random_state, bool):
            raise TypeError(f"random_state must be an int seed for this panel (its runs are cached by "
                            f"settings), but got {describe(random_state)}.")
        self.random_state = int(random_state)
        self._deepnet = deepnet
        self._train = lru_cache(maxsize=128)(self._train_uncached)
        controls = {
            "depth": _int_slider("depth L", 2, self.max_depth, 6),
            "scale": _log_slider("weight scale", -1.0, 1.0, 1.0),
            "activation": _dropdown("activation", ("sigmoid", "tanh", "relu"), "sigmoid"),
            "init": _dropdown("init", ("naive", "xavier", "he"), "naive"),
            "clip": widgets.Checkbox(value=False, description=f"clip by norm ({self.clip_norm:g})",
                                     style=_STYLE, indent=False),
        }
        super().__init__(controls, figsize=(8.0, 3.4))

    def _demo(self, depth, scale, activation, init):
        """Per-layer ‖∂J/∂W^l‖ of the freshly initialised chain (deepnet.make_deep_chain_demo)."""
        return self._deepnet.make_deep_chain_demo(depth, width=self.width, activation=activation, init=init,
                                                  scale=scale, n_samples=self.n_samples,
                                                  n_features=self.n_features, random_state=self.random_state)

    def _train_uncached(self, depth, scale, activation, init, clip):
        """Full-batch training of the same network on the same data (cached by the settings).

        The generator draws the data, then the weights, exactly as
        make_deep_chain_demo does, so epoch 0 of the run is the network of the bar chart.
        """
        dn = self._deepnet
        rng = as_rng(self.random_state)
        X, y = dn.make_chain_data(self.n_samples, self.n_features, random_state=rng)
        sizes = dn.chain_sizes(depth, self.width, self.n_features)
        try:
            return dn.train_mlp(X, y, sizes, lr=self.lr, num_epochs=self.num_epochs, activation=activation,
                                init=init, scale=scale, clip=self.clip_norm if clip else None,
                                random_state=rng)
        except ValueError as err:   # the initial loss is already inf: nothing to train
            return str(err)

    def _build(self):
        left, right = self._two_axes()
        self.ax_bars, self.ax_cost = left, right
        L = self.max_depth
        left.set_yscale("log")
        left.set_xlim(0.4, L + 0.6)
        left.set_xticks(range(1, L + 1))
        left.set_xlabel("layer l (1 = input side)")
        left.set_ylabel("‖∂J/∂W^l‖")
        left.grid(True, axis="y", which="major", alpha=0.3)
        left.set_ylim(self._bar_presets[0])
        bars = left.bar(np.arange(1, L + 1), np.ones(L), bottom=1e-300, width=0.7,
                        color=_plotting.DATA_COLOR, edgecolor="black", linewidth=0.5)
        for i, bar in enumerate(bars):
            self._moving(f"bar{i + 1}", bar)
        self.bars = list(bars)
        self._readout("bars", left, "gradient norm per layer, at initialisation")
        right.set_yscale("log")
        right.set_xlim(0, self.num_epochs)
        right.set_ylim(self._cost_presets[0])
        right.set_xlabel("epoch (full-batch GD)")
        right.set_ylabel("J")
        right.grid(True, which="major", alpha=0.3)
        self._moving("cost", right.plot([0], [1], color=_plotting.PATH_COLOR, lw=1.8, marker="o",
                                        markersize=2.5)[0])
        self._readout("cost", right, f"training curve (α = {self.lr:g})")

    def _update(self, depth, scale, activation, init, clip):
        depth = int(depth)
        demo = self._demo(depth, float(scale), activation, init)
        norms = demo.layer_grad_norms
        self.layer_grad_norms = norms
        shown = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
        for i, bar in enumerate(self.bars):
            visible = bool(i < depth and np.isfinite(shown[i]))
            bar.set_visible(visible)
            bar.set_height(float(shown[i]) if visible else 1.0)
        self._set_limits(self.ax_bars, ylim=_preset_limits(shown, self._bar_presets))
        run = self._train(depth, float(scale), activation, init, bool(clip))
        self.history = run if not isinstance(run, str) else None
        ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("inf")
        self._say("bars", f"‖∂J/∂W¹‖ / ‖∂J/∂W^L‖ = {ratio:.3g} (layer 1 / layer {depth})")
        if self.history is None:
            self.artists["cost"].set_data([0], [np.nan])
            self._say("cost", "not trained")
            self.message = "the initial weights already give an infinite loss:\nlower the scale"
            return
        h = self.history
        losses = np.where(np.isfinite(h.losses), h.losses, np.nan)
        self.losses = losses
        self.artists["cost"].set_data(np.arange(len(losses)), losses)
        # a diverged run's last loss is past the limit: the window is chosen without it
        kept = losses[:-1] if h.diverged else losses
        self._set_limits(self.ax_cost, ylim=_preset_limits(kept, self._cost_presets))
        clipped = f", {h.n_clipped} updates clipped" if clip else ""
        self._say("cost", f"J: {h.losses[0]:.3g} → {h.losses[-1]:.3g} in {h.n_epochs} epochs{clipped}")
        if h.diverged:
            self.message = (f"diverged after {h.n_epochs} epochs: the gradients exploded"
                            + ("" if clip else ";\nswitch clipping on or lower the scale"))
        elif h.losses[-1] > 0.98 * h.losses[0] and norms[0] < 1e-3 * norms[-1]:
            self.message = "hardly learning: the early layers' gradients vanished"


def gradient_norms_panel(width=16, n_samples=128, num_epochs=30, lr=0.2, clip_norm=1.0,
                         random_state=0) -> Panel:
    """Lesson 5: vanishing and exploding gradients in a deep chain, by sliders.

    A chain of L weight layers (``depth`` 2 … 12) of ``width`` units, the
    chosen activation f in the hidden layers, on the seeded regression data of
    :func:`gdcourse.deepnet.make_chain_data` (m = ``n_samples``, 8 features).
    The weights are drawn N(0, s²) with s = scale·√(2/(fan_in + fan_out))
    (Xavier), scale·√(2/fan_in) (He) or scale itself (naive).

    Left: ‖∂J/∂W^l‖ for every layer at initialisation
    (:func:`gdcourse.deepnet.make_deep_chain_demo`), log scale: backpropagation
    multiplies by W^{l+1}ᵀ and f′(z^l) once per layer, so the norms shrink or
    grow geometrically with depth.  Right: J per epoch of ``num_epochs`` epochs
    of full-batch GD, W ← W − α·∂J/∂W (:func:`gdcourse.deepnet.train_mlp`), with
    the gradient clipped to global norm ``clip_norm`` when the box is ticked;
    a run that blows up stops with a message.

    Work is bounded: each setting trains once (≈ 5–25 ms at these sizes) and is
    cached by (depth, scale, activation, init, clip).
    """
    return GradientNormsPanel(width, n_samples, num_epochs, lr, clip_norm, random_state)


# ============================================================================================
# lesson 6
# ============================================================================================

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
    traj = run(get_optimizer(name, **kwargs), surface._grad, surface.start, num_steps,
               loss_fn=surface._value, divergence_factor=DIVERGENCE_FACTOR)
    return traj.thetas, traj.losses, traj.diverged


class _SurfacePanel(_KeyedBackgroundPanel):
    """Shared by the lesson 6 panels: contours of several surfaces in one axes, one shown at a time."""

    def _draw_surfaces(self, ax, names):
        from .surfaces import get_surface

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
        f0 = float(s._value(s.start))
        ax_cost.set_xlim(0, _SURFACE_STEPS[name])
        ax_cost.set_ylim(_LOSS_FLOOR, 10.0 ** math.ceil(math.log10(f0) + 1.0))
        self._shown_surface = name

    def _static_key(self):
        return (self._shown_surface,)


class OptimizerPanel(_SurfacePanel):
    """optimiser, α, β1, β2, surface → the optimiser's path on the contour and its loss per step."""

    names = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")

    def __init__(self, surface="ill_conditioned"):
        check_choice(surface, "surface", tuple(_SURFACE_STEPS))
        self._path = lru_cache(maxsize=256)(self._path_uncached)
        controls = {
            "optimizer": _dropdown("optimizer", self.names, "adam"),
            "lr": _log_slider("α (learning rate)", -4.0, 0.5, 0.1),
            "beta1": _slider("β1 (μ for momentum)", 0.0, 0.99, 0.9, 0.01),
            "beta2": _slider("β2 (ρ for RMSProp)", 0.8, 0.999, 0.999, 0.001, readout_format=".3f"),
            "surface": _dropdown("surface", tuple(_SURFACE_STEPS), surface),
        }
        super().__init__(controls)

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
        for name in ("beta1", "beta2"):
            self.controls[name].disabled = name in unused
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
    * sgd, adagrad: neither — the unused sliders are disabled and the readout says so.

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
            _plotting_line(OPTIMIZER_COLORS["adam"], "-", "with bias correction"),
            _plotting_line("grey", "-", "without"),
            _plotting_line("grey", ":", "without, constant g: (1−β1ᵗ)/√(1−β2ᵗ)"),
        ], loc="upper right", fontsize=7.5, framealpha=0.85)
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


def _plotting_line(color, ls, label):
    from matplotlib.lines import Line2D

    return Line2D([], [], color=color, ls=ls, lw=1.5, label=label)


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
        left.legend(handles=[_plotting_line(OPTIMIZER_COLORS[n], "-", n) for n in self.names],
                    loc="lower right", fontsize=7.5, framealpha=0.85)
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
