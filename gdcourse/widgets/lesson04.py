"""Lesson 4's panels: batch size, and noise that escapes a shallow minimum.

The mini-batch runs come from :mod:`gdcourse.batching`'s prefix-scan engine, held equal to
:func:`gdcourse.batching.train`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import plotting as _plotting
from .._stopping import divergence_limit
import ipywidgets as widgets

from .._validation import as_rng, check_array, check_int, check_positive
from ..batching import _minibatch_linear_run
from ..data import make_regression
from ..descent import _gd_loop
from ..plotting import GD_COLOR
from ..surfaces import mse_surface, non_convex
from ..tuning import gradient_noise
from ._panel import Panel
from ._parts import (_STYLE, _as_xy, _batch_size_slider, _clip_log, _equal_scale, _int_slider, _log_slider,
                     _slider, _subsample)

__all__ = ["batch_size_panel", "sgd_escape_panel", "batch_lr_panel"]

#: lesson 4's data set: ``make_regression(4000, n_features=1, noise=1.0, random_state=0)``
LESSON_M, LESSON_NOISE = 4000, 1.0


class BatchSizePanel(Panel):
    """batch size, α, epochs → the mini-batch path on the contour of J, and J per update and per epoch."""

    def __init__(self, data=None, random_state=0, max_epochs=20):
        if data is None:   # the data of lesson 4 (its first code cell), so the panel shows the lesson's problem
            data = make_regression(LESSON_M, 1, noise=LESSON_NOISE, random_state=random_state)
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
        self._warm_windows()

    def _warm_windows(self):
        """Draw the static layer of every epoch window now, so the epochs slider never waits for a full draw.

        The epoch axis snaps to a few windows (:meth:`_epoch_window`); each one's first visit is a full
        draw of the figure (about 0.1 s).  Drawing them while the cell runs makes every later move a copy.
        """
        shown = self.ax_cost.get_xlim()
        for end in sorted({self._epoch_window(n) for n in range(1, self.max_epochs + 1)}):
            self.ax_cost.set_xlim(0, end)
            self._blitter.render(self._static_key())
        self.ax_cost.set_xlim(shown)
        self.redraw()

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
        j0 = float(s.fast_value(self.theta0))
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
        # the same run as the path: the same colour in both axes (bold: per epoch, faint: per update)
        self._moving("epoch_loss", right.plot([0], [1], color=_plotting.PATH_COLOR, lw=2.0, marker="o",
                                              markersize=3.5, markeredgecolor="black",
                                              markeredgewidth=0.5)[0])
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

    ``data`` defaults to lesson 4's own data,
    ``gdcourse.data.make_regression(4000, 1, noise=1.0, random_state=random_state)``:
    m = 4000 rows, one feature and a bias, so θ = (θ0, θ1) and J is the MSE
    J(θ) = 1/(2m)·Σ(θ0 + θ1·x_i − y_i)².  Each epoch visits the rows in a new
    seeded order (the orders of ``gdcourse.batching.train(random_state=...)``) and
    makes one update θ ← θ − (α/|B|)·X_Bᵀ(X_Bθ − y_B) per batch B.

    Sliders: batch size (1, 2, 4, …, m: SGD … batch GD), α (log scale) and the
    number of epochs (1 … ``max_epochs``).  Left: the path from θ = 0 on the
    contour of J; right: the batch loss of every update (faint) and the
    full-data J after every epoch (bold), against epochs, with J* dashed.

    Work is bounded: each (batch size, α) is run once for ``max_epochs`` epochs
    (the epochs slider slices that run) and cached.  The run composes the
    updates' affine maps by a prefix scan instead of a Python loop
    (:func:`gdcourse.batching._minibatch_linear_run`, held equal to
    ``gdcourse.batching.train`` by the tests), so even SGD at batch size 1 —
    4000 × 20 = 80,000 updates — is a few vectorised passes (timings in
    ``benchmarks/README.md``).  The path and the per-update curve are thinned
    to at most 1000 and 1200 drawn points.
    Divergence (the rule of ``train``) shows as a message on the figure.
    ``panel.path``, ``panel.update_losses`` and ``panel.epoch_losses`` hold what is drawn.
    """
    return BatchSizePanel(data, random_state, max_epochs)


class SGDEscapePanel(Panel):
    """gradient noise σ, α → plain GD stays in the shallow minimum; noisy updates may hop the saddle."""

    def __init__(self, random_state=0, num_steps=300, num_runs=32, start=(1.5, 0.8)):
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
        # plain GD depends on α only: one run per α, so moving σ costs no GD at all
        self._gd_run = lru_cache(maxsize=128)(self._gd_run_uncached)
        self._noisy = lru_cache(maxsize=32)(self._noisy_runs)
        controls = {
            "noise": _slider("gradient noise σ", 0.0, 12.0, 0.0, 0.25),
            "lr": _log_slider("α (learning rate)", -2.5, -0.3, 0.05),
        }
        super().__init__(controls)

    def _gd_run_uncached(self, lr):
        s = self.surface
        return _gd_loop(s.fast_grad, s.fast_value, self.start, lr, self.num_steps)

    def _noisy_runs(self, noise, lr):
        """θ ← θ − α(∇f(θ) + σ_t·ξ_t) for all runs at once; σ_t = σ·(1 − t/T) fades to 0."""
        s = self.surface
        T, R = self.num_steps, self.num_runs
        thetas = np.empty((T + 1, R, 2))
        theta = np.tile(self.start, (R, 1))
        thetas[0] = theta
        grad = s.fast_grad
        scale = lr * noise * self.decay
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            for t in range(T):
                theta = theta - lr * grad(theta) - scale[t] * self.xi[t]
                thetas[t + 1] = theta
            costs = s.fast_value(thetas)
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
        top = max(float(s.fast_value(self.start)) * 1.3, lo + 0.5 * (hi - lo))
        right.set_ylim(lo - 0.08 * (top - lo), top)
        for i, point in enumerate(s.minimisers[:2]):
            v = float(s.fast_value(point))
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
        gd, gd_costs, gd_diverged = self._gd_run(float(lr))
        thetas, costs = self._noisy(float(noise), float(lr))
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


class BatchLRPanel(Panel):
    """batch size b, linear scaling on/off → gradient noise against b, and the excess cost the rule gives."""

    _message_xy = (0.62, 0.8)   # the noise axes' upper right: empty, the law falls from the upper left

    def _message_axes(self):
        return self.ax_noise

    def __init__(self, data=None, base_lr=0.002, num_epochs=2, seeds=(0, 1, 2), theta0=(-1.0, -0.3),
                 n_draws=200, random_state=0):
        if data is None:   # lesson 4's data (its first code cell)
            data = make_regression(LESSON_M, 1, noise=LESSON_NOISE, random_state=0)
        self.X, self.y, self.x = _as_xy(data)
        self.m = len(self.y)
        self.base_lr = check_positive(base_lr, "base_lr")
        self.num_epochs = check_int(num_epochs, "num_epochs", minimum=1, maximum=20)
        seeds = list(np.atleast_1d(seeds).tolist()) if not isinstance(seeds, int) else [seeds]
        if not seeds or not all(isinstance(v, int) and not isinstance(v, bool) for v in seeds):
            raise ValueError(f"seeds must be a non-empty list of integers (one shuffled run each), but got {seeds!r}.")
        self.seeds = tuple(seeds)
        self.theta0 = check_array(theta0, "theta0", ndim=1)
        if self.theta0.shape != (2,):
            raise ValueError(f"theta0 must have shape (2,) (θ0, θ1), but got shape {self.theta0.shape}.")
        self.n_draws = check_int(n_draws, "n_draws", minimum=2)
        self.random_state = random_state
        self.surface = mse_surface(self.X, self.y)
        self.j_star = self.surface.minimum
        self.lam_max = float(np.linalg.eigvalsh(self.X.T @ self.X / self.m)[-1])
        # the epochs' orders of each seed, drawn as gdcourse.batching.train(random_state=seed) draws them
        self._orders = {}
        for seed in self.seeds:
            rng = as_rng(seed)
            self._orders[seed] = np.array([rng.permutation(self.m) for _ in range(self.num_epochs)])
        self._excess = lru_cache(maxsize=512)(self._excess_uncached)
        controls = {
            "batch_size": _batch_size_slider(self.m, min(16, self.m)),
            "scaled": widgets.Checkbox(value=True, description=f"scale α with b: α = {self.base_lr:g}·b",
                                       style=_STYLE, indent=False),
        }
        super().__init__(controls)

    def lr_for(self, batch_size, scaled):
        """The learning rate of batch size b: α₁·b under the linear scaling rule, else α₁."""
        return self.base_lr * batch_size if scaled else self.base_lr

    def _excess_uncached(self, batch_size, lr):
        """Median over the seeds of J − J* after the epochs (inf for a run that diverged), as the lesson scores it."""
        gaps = []
        for seed in self.seeds:
            run = _minibatch_linear_run(self.x, self.y, self._orders[seed], batch_size, lr, self.theta0)
            gaps.append(np.inf if run.diverged_epoch else float(run.epoch_losses[-1]) - self.j_star)
        return float(np.median(gaps))

    def noise_law(self, batch_size):
        """σ²/b·(m − b)/(m − 1), with σ² the noise measured at b = 1 (0 at b = m: the batch is all the data)."""
        b = np.asarray(batch_size, dtype=float)
        return self.sigma2 / b * (self.m - b) / (self.m - 1)

    def _build(self):
        left, right = self.ax_noise, self.ax_cost = self._two_axes(wspace=0.34)
        m = self.m
        grid = sorted({int(b) for b in 2 ** np.arange(0, int(np.log2(m)) + 1)} | {m})
        self.grid = np.array(grid)
        self.noise_sizes = self.grid[self.grid < m]
        # measured once, as the lesson measures it: n_draws batches of each size (tuning.gradient_noise)
        self.noise_measured = gradient_noise(self.X, self.y, self.theta0, self.noise_sizes, n_draws=self.n_draws,
                                             random_state=self.random_state)
        self.sigma2 = float(self.noise_measured[0])
        fine = np.unique(np.round(np.geomspace(1, m - 1, 200)).astype(int))
        left.set_xscale("log", base=2)
        left.set_yscale("log")
        left.set_xlim(0.7, 1.4 * m)
        self._noise_floor = 0.2 * float(self.noise_measured.min())
        left.set_ylim(self._noise_floor, 3.0 * self.sigma2)
        left.plot(fine, self.noise_law(fine), "--", color="black", lw=1.0)
        left.plot(self.noise_sizes, self.noise_measured, "o", color=GD_COLOR, markersize=4)
        left.set_xlabel("batch size b")
        left.set_ylabel("E‖g_B − ∇J‖²")
        left.grid(True, which="major", alpha=0.3)
        self._moving("noise_marker", left.plot([1], [1], "o", color=_plotting.PATH_COLOR, markersize=9,
                                               markeredgecolor="black", zorder=6)[0])
        self._readout("noise", left, "gradient noise: dots measured (200 batches), dashed the 1/b law")
        self.curve_scaled = np.array([self._excess(int(b), self.lr_for(int(b), True)) for b in grid])
        self.curve_fixed = np.array([self._excess(int(b), self.lr_for(int(b), False)) for b in grid])
        finite = np.concatenate([self.curve_scaled, self.curve_fixed])
        finite = finite[np.isfinite(finite) & (finite > 0)]
        self._floor = 0.3 * finite.min()
        self._top = 30.0 * finite.max()
        right.set_xscale("log", base=2)
        right.set_yscale("log")
        right.set_xlim(0.7, 1.4 * m)
        right.set_ylim(self._floor, self._top)
        top = np.where(np.isfinite(self.curve_scaled), self.curve_scaled, self._top * 10)
        right.plot(self.grid, top, "o-", color=_plotting.PATH_COLOR, lw=1.2, markersize=3,
                   label=f"α = {self.base_lr:g}·b (linear scaling)")
        right.plot(self.grid, self.curve_fixed, "s-", color="#7f7f7f", lw=1.2, markersize=3,
                   label=f"α = {self.base_lr:g} for every b")
        self.b_limit = 2.0 / (self.lam_max * self.base_lr)
        right.axvline(self.b_limit, color="black", ls=":", lw=1.0)
        right.text(self.b_limit, self._floor * 2, " α·λ_max = 2 ", ha="right", fontsize=7.5)
        right.legend(loc="upper left", fontsize=7.5, framealpha=0.85)
        right.set_xlabel("batch size b")
        right.set_ylabel(f"J − J* after {self.num_epochs} epochs")
        right.grid(True, which="major", alpha=0.3)
        self._moving("cost_marker", right.plot([1], [1], "o", color=_plotting.PATH_COLOR, markersize=9,
                                               markeredgecolor="black", zorder=6)[0])
        self._readout("cost", right, f"median excess cost over {len(self.seeds)} shuffles")

    def batch_size_of(self, value) -> int:
        """The whole batch size, 1 … m, that a slider value stands for."""
        return int(min(self.m, max(1, round(float(value)))))

    def _update(self, batch_size, scaled):
        b = self.batch_size_of(batch_size)
        lr = self.lr_for(b, bool(scaled))
        noise = float(self.noise_law(b))
        excess = self._excess(b, lr)
        self.batch, self.lr, self.noise, self.excess = b, lr, noise, excess
        self.artists["noise_marker"].set_data([b], [max(noise, 0.5 * self._noise_floor)])
        shown = excess if np.isfinite(excess) else self._top * 10
        self.artists["cost_marker"].set_data([b], [max(shown, self._floor)])
        self.artists["cost_marker"].set_markerfacecolor(_plotting.PATH_COLOR if scaled else "#7f7f7f")
        self._say("noise", f"b = {b}: E‖g_B − ∇J‖² ≈ σ²/b·(m − b)/(m − 1) = {noise:.3g}"
                           + (f", {self.sigma2 / noise:.3g}× less than at b = 1" if 0 < noise < self.sigma2 else ""))
        stability = lr * self.lam_max
        if np.isfinite(excess):
            self._say("cost", f"α = {lr:.3g} (α·λ_max = {stability:.2g}): J − J* = {excess:.2g}")
        else:
            self._say("cost", f"α = {lr:.3g} (α·λ_max = {stability:.2g}): diverged")
        if stability >= 2.0:
            self.message = (f"α = {lr:.3g} > 2/λ_max ≈ {2 / self.lam_max:.3g}:\n"
                            f"the linear rule has passed its limit")


def batch_lr_panel(data=None, base_lr=0.002, num_epochs=2, seeds=(0, 1, 2), theta0=(-1.0, -0.3)) -> Panel:
    """Lesson 4: the batch size sets the gradient noise, and the learning rate should follow it — up to a limit.

    ``data`` defaults to lesson 4's own data (``make_regression(4000, 1, noise=1.0,
    random_state=0)``), probed at ``theta0`` as the lesson's section 8 does.
    Slider: the batch size b (1 … m, log scale).  Checkbox: the linear scaling
    rule α = ``base_lr``·b, or the same α = ``base_lr`` for every b.

    Left: E‖g_B − ∇J(θ)‖² against b, measured by
    :func:`gdcourse.tuning.gradient_noise` (200 batches per size) on the sizes
    1, 2, 4, … (dots), and the law σ²/b·(m − b)/(m − 1) with σ² measured at b = 1
    (dashed); the large dot is the chosen b on that law.  Right: the excess cost J − J* after ``num_epochs`` epochs of
    mini-batch SGD from ``theta0``, the median over the shuffles ``seeds``, for both
    rules over the grid (:func:`gdcourse.batching._minibatch_linear_run`, held
    equal to :func:`gdcourse.batching.train`), and at the chosen b.  The dotted
    line is where α₁·b·λ_max = 2: past it the scaled rate is unstable, and a message
    says so.  Runs are cached by (b, α).
    """
    return BatchLRPanel(data, base_lr, num_epochs, seeds, theta0)
