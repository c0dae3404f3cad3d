"""The panel core: controls, the build/update hooks, readouts, the static PNG.

See :class:`Panel`.  Rendering is done by :class:`gdcourse.widgets._blit.Blitter`.
"""

from __future__ import annotations

import base64
import html
import io
import os
import textwrap

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import _messages
from .. import plotting as _plotting
from .._validation import describe
from ._blit import Blitter


def headless() -> bool:
    """True when ``GDCOURSE_HEADLESS`` asks panels to show only their static PNG."""
    return os.environ.get("GDCOURSE_HEADLESS", "").strip().lower() in ("1", "true", "yes", "on")


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
    overlap another axes).  Any other change of limits, or of
    :meth:`_static_key`, draws the whole figure once; each such static layer is
    kept (a bounded cache, :mod:`gdcourse.widgets._blit`), so coming back to
    it is a pixel copy.

    The hooks and building blocks are underscored (as matplotlib's
    ``Animation._draw_frame``) because a notebook never calls them; they are
    the supported way to write a new panel.

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
    inactive : dict
        Name → why, for each control that cannot change the picture in the
        current state (see :meth:`_inactive`).  Those controls are disabled and
        their tooltip says why; they are enabled again when they can matter.
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
        _messages.use_language_fonts()   # translated labels in CJK draw without missing glyphs
        self.figure = Figure(figsize=figsize or self.figsize, dpi=dpi or self.dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.artists = {}
        self.readouts = {}
        self.message = ""
        self.inactive = {}
        self._fitted_messages = {}   # message → (wrapped text, font size, centre) that fit its axes
        self._tooltips = {name: control.tooltip for name, control in self.controls.items()}
        self._readout_axes = {}      # readout name → the axes whose title shows it in the static PNG
        self._dynamic_axes = set()   # axes allowed to change limits without a full redraw
        self._blitter = Blitter(self.figure, self.canvas, dynamic_axes=self._dynamic_axes)
        self._animated = self._blitter.animated
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

    def _inactive(self, **values):
        """The controls that cannot change the picture for these ``values``: name → why (default: none).

        Called before :meth:`_update` on every redraw.  Each control named here
        is disabled with its reason as tooltip; the others are enabled.  A
        panel must also leave an inactive control out of what it computes, so
        that moving it (through :meth:`set`) changes nothing.
        """
        return {}

    def _static_key(self):
        """What, besides the axes' limits, tells the static layers apart (default: nothing).

        A panel that changes its static layer in another way — a dropdown
        showing another surface under the contour — returns a hashable value
        naming that state; each state's layer is drawn once and then reused.
        """
        return ()

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

    #: font sizes tried, largest first, to fit the message inside its axes
    _message_sizes = (9.5, 8.5, 7.5)

    def _show_message(self, message):
        """Show ``message`` in a box that fits inside its axes: a smaller font, then wrapped lines, if needed."""
        art = self._message_artist
        art.set_visible(bool(message))
        if not message:
            return
        fitted = self._fitted_messages.get(message)
        if fitted is None:
            fitted = self._fitted_messages[message] = self._fit_message(message)
        text, size, xy = fitted
        art.set_text(text)
        art.set_fontsize(size)
        art.set_position(xy)

    def _fit_message(self, message):
        art, ax = self._message_artist, self._message_axes()
        renderer = self.canvas.get_renderer()
        box = ax.get_window_extent(renderer)
        pad = 6.0   # pixels between the box and the axes' edge
        for size in self._message_sizes:       # wrapping first, a smaller font only if wrapping fails
            lines = message.split("\n")
            for _ in range(3):
                art.set_text("\n".join(lines))
                art.set_fontsize(size)
                art.set_position(self._message_xy)
                ext = art.get_window_extent(renderer)
                width = ext.width + 2 * 0.4 * size * self.figure.dpi / 72   # the round box's pad
                height = ext.height + 2 * 0.4 * size * self.figure.dpi / 72
                if height + 2 * pad > box.height:
                    break
                if width + 2 * pad <= box.width:
                    # move the centre just enough to keep the whole box inside the axes
                    cx = box.x0 + self._message_xy[0] * box.width
                    cy = box.y0 + self._message_xy[1] * box.height
                    cx = min(max(cx, box.x0 + pad + width / 2), box.x1 - pad - width / 2)
                    cy = min(max(cy, box.y0 + pad + height / 2), box.y1 - pad - height / 2)
                    return art.get_text(), size, ((cx - box.x0) / box.width, (cy - box.y0) / box.height)
                # too wide: wrap the longest lines to the width that fits
                longest = max(len(line) for line in lines)
                chars = max(12, int(longest * (box.width - 2 * pad) / width) - 1)
                lines = [part for line in lines for part in (textwrap.wrap(line, chars) or [""])]
        return "\n".join(lines), self._message_sizes[-1], self._message_xy

    def _set_limits(self, ax, xlim=None, ylim=None):
        """Give ``ax`` new limits; only that axes is drawn again (or all, if not dynamic)."""
        changed = False  # the blitter sees the new limits and draws what they need
        if xlim is not None and tuple(ax.get_xlim()) != tuple(map(float, xlim)):
            ax.set_xlim(xlim)
            changed = True
        if ylim is not None and tuple(ax.get_ylim()) != tuple(map(float, ylim)):
            ax.set_ylim(ylim)
            changed = True
        return changed

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
        values = self.values
        self._mark_inactive(values)
        self._update(**values)
        self._show_message(self.message)
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
        HTML export, ``GDCOURSE_HEADLESS=1``), at :attr:`static_dpi` like the
        course's static figures; a readout title too wide for its axes goes on
        two lines or in a smaller font, never past the axes.  It is drawn in
        full once, so it may take a tenth of a second; the live path never calls it.
        """
        titles = {}
        for name, ax in self._readout_axes.items():
            text = self.readouts.get(name, "")
            if text:
                titles.setdefault(ax, [ax.get_title(loc="left"), []])[1].append(text)
        renderer = self.canvas.get_renderer()
        for ax, (_, texts) in titles.items():
            self._fit_title(ax, texts, renderer)
        try:
            out = io.BytesIO()
            # saving draws the animated artists too, so the moving parts are in the picture
            self.figure.savefig(out, format="png", dpi=self.static_dpi)
        finally:
            for ax, (old, _) in titles.items():
                ax.set_title(old, loc="left", fontsize=9.5)
        return out.getvalue()

    #: the static PNG's resolution: as the course's static figures (the live image stays at ``dpi``)
    static_dpi = 100

    def _fit_title(self, ax, texts, renderer):
        """Set the readouts ``texts`` as the title of ``ax``, on one line or two, never wider than the axes."""
        width = ax.get_window_extent(renderer).width
        line = "   ".join(texts)
        for size in (9.0, 8.5, 8.0):
            art = ax.set_title(line, loc="left", fontsize=size)
            full = art.get_window_extent(renderer).width
            if full <= width:
                return
            # two lines: the readouts one per line, else the sentence wrapped at the axes' width
            chars = max(12, int(len(line) * width / full) - 1)
            for text in (["\n".join(texts)] if len(texts) == 2 else []) + ["\n".join(textwrap.wrap(line, chars))]:
                if text.count("\n") > 1:
                    continue
                art = ax.set_title(text, loc="left", fontsize=size)
                if art.get_window_extent(renderer).width <= width:
                    return
        ax.set_title("\n".join(textwrap.wrap(line, chars)[:2]), loc="left", fontsize=8.0)

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

    def _mark_inactive(self, values):
        reasons = self._inactive(**values)
        unknown = sorted(set(reasons) - set(self.controls))
        if unknown:  # a bug in a panel, not in a notebook
            raise KeyError(f"{self.__class__.__name__}._inactive named no control: {unknown}")
        self.inactive = dict(reasons)
        for name, control in self.controls.items():
            why = reasons.get(name, "")
            if control.disabled != bool(why):   # traitlets send a message only on a change
                control.disabled = bool(why)
            tip = why or self._tooltips[name]
            if control.tooltip != tip:
                control.tooltip = tip

    def _on_change(self, change):
        if not self._hold:
            self.redraw()

    def _render(self):
        self._png = self._blitter.render(self._static_key())
        self.image.value = self._png
