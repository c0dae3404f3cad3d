"""Helpers the panel tests share: reading pixels and drawn data, counting full draws, hand-written GD.

Expected numbers in these tests are computed independently: by hand-written loops, closed forms
and finite differences, never read back from the panel's own helpers.  Timing is measured in
benchmarks/bench_panels.py, not here.
"""

import io

import ipywidgets
import numpy as np
from PIL import Image


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def hand_cost(theta, X, y):
    r = X @ np.asarray(theta) - y
    return float(r @ r) / (2 * len(y))


def hand_gd(X, y, theta0, lr, steps):
    thetas = [np.asarray(theta0, dtype=float)]
    for _ in range(steps):
        t = thetas[-1]
        thetas.append(t - lr * X.T @ (X @ t - y) / len(y))
    return np.array(thetas)


def ends(control):
    """The smallest and largest value of a slider (a log slider stores exponents in min/max)."""
    if isinstance(control, ipywidgets.FloatLogSlider):
        return control.base ** control.min, control.base ** control.max
    return control.min, control.max


def count_full_draws(panel):
    """Wrap the canvas so the test can see when the whole figure is drawn again."""
    calls = []
    original = panel.canvas.draw

    def draw(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    panel.canvas.draw = draw
    return calls


def _artist_data(artist):
    for getter in ("get_xydata", "get_segments", "get_offsets"):
        if hasattr(artist, getter):
            value = getattr(artist, getter)()
            return [np.array(v, dtype=float) for v in value] if getter == "get_segments" else np.array(value, dtype=float)
    if hasattr(artist, "xy") and hasattr(artist, "xyann"):  # an arrow annotation
        return np.array([artist.xy, artist.xyann], dtype=float)
    return artist.get_text()


def _same(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


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
