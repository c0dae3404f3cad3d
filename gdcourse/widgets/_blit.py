"""The one render path of every panel: blit the moving artists onto a cached static layer.

A :class:`Blitter` knows nothing about lessons (like the ``BlitManager`` of
matplotlib's blitting tutorial).  Per redraw it

1. finds the static layer — contours, axes, data: everything not animated —
   in one bounded LRU cache keyed by the limits of every axes that is not
   *dynamic* plus the panel's ``_static_key()``; a miss draws the figure once
   (animated artists are skipped) and stores its pixels;
2. when only a dynamic axes changed its limits (an axes whose window follows a
   slider, such as lesson 3's iteration axis), draws that axes again on top of
   the figure without it, instead of the whole figure; dynamic limits are not
   part of the key, so a slider that snaps them to dozens of windows costs no
   entries of that cache; each such redraw is kept in a second bounded cache,
   keyed by the dynamic limits too, so coming back to a window is a copy;
3. draws the animated artists on top and encodes the RGBA pixels as a PNG
   (zlib level 1, run-length matching).
"""

from __future__ import annotations

import struct
import zlib
from collections import OrderedDict

import numpy as np

#: static layers kept per panel; one 640×256 RGBA layer is about 0.65 MB
CACHE_SIZE = 16
#: layers kept per panel with a dynamic axes drawn at given limits (a slider moving back is a copy)
DYNAMIC_CACHE_SIZE = 32


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


def _limits(axes):
    return tuple((tuple(ax.get_xlim()), tuple(ax.get_ylim())) for ax in axes)


class Blitter:
    """Static layers of one figure, cached by view, with the moving artists drawn on top.

    ``animated`` lists the moving artists (drawn on every frame, in order);
    ``dynamic_axes`` is the set of axes whose limits may change without a new
    cache entry (each must not overlap another axes).
    """

    def __init__(self, figure, canvas, *, dynamic_axes=None, cache_size=CACHE_SIZE):
        self.figure = figure
        self.canvas = canvas
        self.animated = []
        self.dynamic_axes = set() if dynamic_axes is None else dynamic_axes
        self.cache_size = cache_size
        self._cache = OrderedDict()   # key → [pixels, limits of the dynamic axes in them]
        self._key = None              # the key of the layer on the canvas now
        self._without = {}            # dynamic axes → pixels of the layer drawn without it
        self._dynamic = OrderedDict()  # (key, dynamic limits) → pixels of that layer

    def render(self, static_key=()) -> bytes:
        """Draw the current frame on the canvas and return it as PNG bytes."""
        axes = self.figure.axes
        dynamic = [ax for ax in axes if ax in self.dynamic_axes]
        key = (_limits([ax for ax in axes if ax not in self.dynamic_axes]), static_key)
        now = _limits(dynamic)
        entry = self._cache.get(key)
        if entry is None:
            self._full_draw(key, now)
        else:
            self._cache.move_to_end(key)
            if key != self._key:
                self._without.clear()     # they show the figure of another key
                self._key = key
            stale = [ax for ax, old, new in zip(dynamic, entry[1], now) if old != new]
            pixels = self._dynamic.get((key, now)) if stale else None
            if pixels is not None:          # these dynamic limits were drawn before: a copy
                self._dynamic.move_to_end((key, now))
                self.canvas.restore_region(pixels)
                entry[0], entry[1] = pixels, now
            elif len(stale) > 1:
                self._full_draw(key, now)
            elif stale:
                self._redraw_axes(stale[0], entry, now)
                self._dynamic[key, now] = entry[0]
                while len(self._dynamic) > DYNAMIC_CACHE_SIZE:
                    self._dynamic.popitem(last=False)
            else:
                self.canvas.restore_region(entry[0])
        for artist in self.animated:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        return _encode_png(self.canvas)

    def _full_draw(self, key, now):
        self.canvas.draw()  # animated artists are skipped: this is the static layer
        self._cache[key] = [self.canvas.copy_from_bbox(self.figure.bbox), now]
        self._cache.move_to_end(key)
        if now:
            self._dynamic[key, now] = self._cache[key][0]
            while len(self._dynamic) > DYNAMIC_CACHE_SIZE:
                self._dynamic.popitem(last=False)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        self._key = key
        self._without.clear()

    def _redraw_axes(self, ax, entry, now):
        """Draw one axes again on top of the figure without it; the entry gets the new layer."""
        canvas = self.canvas
        if ax not in self._without:
            ax.set_visible(False)
            canvas.draw()
            self._without[ax] = canvas.copy_from_bbox(self.figure.bbox)
            ax.set_visible(True)
        canvas.restore_region(self._without[ax])
        self.figure.draw_artist(ax)
        entry[0], entry[1] = canvas.copy_from_bbox(self.figure.bbox), now
        for other in list(self._without):
            if other is not ax:  # their saved pixels still show the old ax
                del self._without[other]
