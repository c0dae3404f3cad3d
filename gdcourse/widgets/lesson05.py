"""Lesson 5's panel: vanishing and exploding gradient norms in a deep chain.
"""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from .. import deepnet
from .. import plotting as _plotting
from .._validation import as_rng, check_int, check_positive, describe
from ._panel import Panel
from ._parts import _STYLE, _dropdown, _int_slider, _log_slider, _preset_limits

__all__ = ["gradient_norms_panel"]


class GradientNormsPanel(Panel):
    """depth, scale, activation, init, clipping → per-layer gradient norms at init and a training curve."""

    max_depth = 12
    #: log-axis windows (narrowest first) for the bars and for J; see _preset_limits
    _bar_presets = ((1e-4, 1e4), (1e-13, 1e13), (1e-40, 1e40))
    _cost_presets = ((1e-2, 1e2), (1e-2, 1e10), (1e-2, 1e40))

    def __init__(self, width=16, n_samples=128, num_epochs=30, lr=0.2, clip_norm=1.0, random_state=0):
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
        return deepnet.make_deep_chain_demo(depth, width=self.width, activation=activation, init=init,
                                                  scale=scale, n_samples=self.n_samples,
                                                  n_features=self.n_features, random_state=self.random_state)

    def _train_uncached(self, depth, scale, activation, init, clip):
        """Full-batch training of the same network on the same data (cached by the settings).

        The generator draws the data, then the weights, exactly as
        make_deep_chain_demo does, so epoch 0 of the run is the network of the bar chart.
        """
        rng = as_rng(self.random_state)
        X, y = deepnet.make_chain_data(self.n_samples, self.n_features, random_state=rng)
        sizes = deepnet.chain_sizes(depth, self.width, self.n_features)
        try:
            return deepnet.train_mlp(X, y, sizes, lr=self.lr, num_epochs=self.num_epochs, activation=activation,
                                init=init, scale=scale, clip=self.clip_norm if clip else None,
                                random_state=rng)
        except ValueError as err:   # the initial loss is already inf: nothing to train
            return str(err)

    def _clipping_inert(self, depth, scale, activation, init, clip):
        """True when clipping cannot change this run: no update's gradient is longer than ``clip_norm``.

        Then the run with clipping and the run without are the same numbers.  With the box ticked
        the run says so itself (0 updates clipped); unticked, the run's recorded gradient norms say so,
        and only a norm within rounding of ``clip_norm`` (or not finite) needs the clipped run to decide.
        """
        run = self._train(int(depth), float(scale), activation, init, bool(clip))
        if isinstance(run, str):
            return True
        if clip:
            return run.n_clipped == 0
        used = run.grad_norms[:-1]    # the last norm is measured after the last update
        if np.all(np.isfinite(used)) and (used.size == 0 or used.max() < self.clip_norm * (1 - 1e-9)):
            return True
        other = self._train(int(depth), float(scale), activation, init, True)
        return not isinstance(other, str) and other.n_clipped == 0

    def _inactive(self, depth, scale, activation, init, clip):
        if not self._clipping_inert(depth, scale, activation, init, clip):
            return {}
        run = self._train(int(depth), float(scale), activation, init, bool(clip))
        why = ("the initial loss is already infinite: nothing is trained, so clipping changes nothing"
               if isinstance(run, str) else
               f"no gradient of this run is longer than {self.clip_norm:g}, so clipping changes nothing")
        return {"clip": why}

    def _build(self):
        left, right = self._two_axes()
        self.ax_bars, self.ax_cost = left, right
        L = self.max_depth
        left.set_yscale("log")
        left.set_xlim(0.4, L + 0.6)
        left.set_xticks(range(1, L + 1))
        left.set_xlabel("layer l (1 = input side)")
        left.set_ylabel("‖∂J/∂W$^{l}$‖")   # a superscript l, not a caret
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
        self._say("bars", f"‖∂J/∂W‖ of layer 1 / of layer {depth} = {ratio:.3g}")
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
        clipped = f", {h.n_clipped} updates clipped" if clip and "clip" not in self.inactive else ""
        epochs = f"{h.n_epochs} epoch{'' if h.n_epochs == 1 else 's'}"
        self._say("cost", f"J: {h.losses[0]:.3g} → {h.losses[-1]:.3g} in {epochs}{clipped}")
        if h.diverged:
            self.message = (f"diverged after {epochs}: the gradients exploded"
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

    Work is bounded: each setting trains once and is cached by (depth, scale,
    activation, init, clip); timings are in ``benchmarks/README.md``.
    """
    return GradientNormsPanel(width, n_samples, num_epochs, lr, clip_norm, random_state)
