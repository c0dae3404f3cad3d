r"""Fair optimiser comparisons: tune each optimiser's learning rate on a stated grid.

Comparing optimisers at hand-picked learning rates ranks the picks, not the
methods.  The honest comparison gives every optimiser the same log grid of
learning rates α, runs each α from several starts (or with several shuffling
seeds), scores it by the median final excess loss, and keeps each optimiser's
best α.  A best α at either end of the grid means the grid was too narrow:
:attr:`Sweep.at_edge` says so, and the lesson asserts it is False.

The runs go through :func:`gdcourse.optim.run` (a 2-D surface) and
:func:`gdcourse.batching.train` (mini-batches); nothing here steps an optimiser
itself.

>>> from gdcourse import surfaces
>>> s = sweep_surface("sgd", surfaces.ill_conditioned(), log_grid(0.01, 1.0, 4), 100, n_starts=3)
>>> round(float(s.best_lr), 3), s.at_edge
(0.316, False)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import batching, optim
from ._validation import as_rng, check_int, check_positive, check_theta, check_vector, check_X_y, describe
from .losses import get_loss

__all__ = ["log_grid", "Sweep", "sweep_surface", "sweep_training", "plot_sweeps", "gradient_noise"]


def log_grid(low, high, per_decade: int = 4) -> np.ndarray:
    """Learning rates from ``low`` to ``high`` (both included), evenly spaced on a log scale.

    ``per_decade`` points per factor of ten (4 gives steps of about 1.78×).

    >>> log_grid(0.01, 1.0, 2).round(4).tolist()
    [0.01, 0.0316, 0.1, 0.3162, 1.0]
    """
    low = check_positive(low, "low")
    high = check_positive(high, "high")
    per_decade = check_int(per_decade, "per_decade", minimum=1)
    if not high > low:
        raise ValueError(f"high must be larger than low for a grid from low to high, but got low={low!r}, "
                         f"high={high!r}.")
    n = int(round(np.log10(high / low) * per_decade)) + 1
    return np.geomspace(low, high, max(n, 2))


class Sweep(NamedTuple):
    """One optimiser's learning-rate sweep.

    name : the optimiser's name
    lrs : (k,) the grid of learning rates
    per_run : (r, k) the excess loss of each run (start or seed) at each α; inf where it diverged
    scores : (k,) the median over runs; inf if any run at that α failed
    """
    name: str
    lrs: np.ndarray
    per_run: np.ndarray
    scores: np.ndarray

    @property
    def best_index(self) -> int:
        """Index of the best α on the grid (the lowest median excess loss)."""
        return int(np.argmin(self.scores))

    @property
    def best_lr(self) -> float:
        """The best α on the grid."""
        return float(self.lrs[self.best_index])

    @property
    def best_score(self) -> float:
        """The median excess loss at the best α."""
        return float(self.scores[self.best_index])

    @property
    def at_edge(self) -> bool:
        """True when the best α is the first or last grid point: widen the grid."""
        return self.best_index in (0, len(self.lrs) - 1)

    @property
    def largest_stable_lr(self) -> float:
        """The largest α on the grid at which no run failed (diverged or ended above its start); nan if none."""
        ok = np.isfinite(self.scores)
        return float(self.lrs[ok].max()) if ok.any() else float("nan")

    def within(self, factor: float) -> tuple[float, float]:
        """The range of α (lowest, highest grid point) whose score is within ``factor`` of the best.

        The width of this range is the optimiser's robustness to α.
        """
        factor = check_positive(factor, "factor")
        good = self.lrs[self.scores <= self.best_score * factor]
        return float(good.min()), float(good.max())

    def good_range(self, threshold: float):
        """The lowest and highest α on the grid whose score is at most ``threshold``; None if none is."""
        threshold = check_positive(threshold, "threshold")
        good = self.lrs[self.scores <= threshold]
        return (float(good.min()), float(good.max())) if good.size else None

    def decades_within(self, factor: float) -> float:
        """log10 of the ratio between the largest and smallest α within ``factor`` of the best."""
        low, high = self.within(factor)
        return float(np.log10(high / low))


def _check_lrs(lrs) -> np.ndarray:
    lrs = check_vector(lrs, "lrs")
    if lrs.size < 3 or np.any(lrs <= 0) or np.any(np.diff(lrs) <= 0):
        raise ValueError(f"lrs must be at least 3 positive learning rates in increasing order (see log_grid), "
                         f"but got {lrs.tolist() if lrs.size < 8 else describe(lrs)}.")
    return lrs


def _median(per_run: np.ndarray) -> np.ndarray:
    # an α that fails from any start (or with any seed) is not a rate you could use: score it inf
    scores = np.median(per_run, axis=0)
    scores[~np.isfinite(per_run).all(axis=0)] = np.inf
    return scores


def sweep_surface(optimizer: str, surface, lrs, num_steps: int, *, n_starts: int = 5, spread: float = 0.1,
                  random_state=0, max_growth: float = 100.0, **hyper) -> Sweep:
    """Run ``optimizer`` (a name from :data:`gdcourse.optim.OPTIMIZERS`) at every α in ``lrs`` on a surface.

    Each α runs ``num_steps`` steps from ``n_starts`` starts: the surface's own
    start and ``n_starts − 1`` points drawn around it (each coordinate moved by
    a relative amount ``spread``·N(0, 1), from ``random_state``), so that one
    lucky start cannot decide the ranking.  The score of a run is
    f(θ_T) − f_min, inf if it diverged.  ``hyper`` goes to the optimiser
    (``momentum=0.9``, ``rho=0.99``, …).
    """
    lrs = _check_lrs(lrs)
    num_steps = check_int(num_steps, "num_steps", minimum=1)
    n_starts = check_int(n_starts, "n_starts", minimum=1)
    spread = check_positive(spread, "spread")
    max_growth = check_positive(max_growth, "max_growth")
    rng = as_rng(random_state)
    start = np.asarray(surface.start, dtype=float)
    starts = [start] + [start * (1 + spread * rng.standard_normal(start.shape)) for _ in range(n_starts - 1)]
    per_run = np.empty((n_starts, lrs.size))
    for j, lr in enumerate(lrs):
        opt = optim.get_optimizer(optimizer, lr=float(lr), **hyper)
        for i, theta0 in enumerate(starts):
            run = optim.run(opt, surface.grad, theta0, num_steps, loss_fn=surface.value)
            failed = (run.diverged or not run.losses[-1] < run.losses[0]
                      or run.losses.max() > max_growth * run.losses[0])
            per_run[i, j] = np.inf if failed else max(run.losses[-1] - surface.minimum, 0.0)
    return Sweep(str(optimizer), lrs, per_run, _median(per_run))


def sweep_training(optimizer: str, X, y, lrs, *, batch_size: int, num_epochs: int, seeds=(0, 1, 2),
                   baseline: float = 0.0, **hyper) -> Sweep:
    """Train with ``optimizer`` at every α in ``lrs`` through :func:`gdcourse.batching.train`.

    One run per seed in ``seeds`` (the seed draws the mini-batch order); the
    score is the final full-data loss minus ``baseline`` (J(θ*), say), inf if
    training diverged or ended higher than it started.
    """
    lrs = _check_lrs(lrs)
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of integers, one per run, but got {describe(seeds)}.")
    per_run = np.empty((len(seeds), lrs.size))
    for j, lr in enumerate(lrs):
        opt = optim.get_optimizer(optimizer, lr=float(lr), **hyper)
        for i, seed in enumerate(seeds):
            h = batching.train(X, y, opt, batch_size=batch_size, num_epochs=num_epochs, random_state=int(seed))
            failed = h.diverged or not h.loss_per_epoch[-1] < h.loss_per_epoch[0]
            per_run[i, j] = np.inf if failed else max(h.loss_per_epoch[-1] - baseline, 0.0)
    return Sweep(str(optimizer), lrs, per_run, _median(per_run))


def plot_sweeps(sweeps, *, ax=None, colors=None, floor: float = 1e-16):
    """Median excess loss against α, one curve per :class:`Sweep`, on log-log axes.

    Diverged points are left out (the curve stops where α is too large); each
    optimiser's best α is ringed.  Values below ``floor`` are drawn at ``floor``.
    ``colors`` maps a sweep's name to a colour.  Returns the axes.
    """
    sweeps = list(sweeps.values()) if isinstance(sweeps, dict) else list(sweeps)
    if not sweeps or not all(isinstance(s, Sweep) for s in sweeps):
        raise TypeError(f"sweeps must be a non-empty list (or dict) of Sweep, as sweep_surface returns, "
                        f"but got {describe(sweeps)}.")
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    colors = colors or {}
    for s in sweeps:
        ok = np.isfinite(s.scores)
        y = np.maximum(s.scores, floor)
        line, = ax.loglog(s.lrs[ok], y[ok], "o-", ms=3, color=colors.get(s.name), label=s.name)
        ax.plot(s.best_lr, max(s.best_score, floor), "o", ms=10, mfc="none", mec=line.get_color(), mew=1.5)
    ax.set_xlabel("learning rate α")
    ax.set_ylabel("median excess loss")
    return ax


def gradient_noise(X, y, theta, batch_sizes, *, n_draws: int = 200, loss="mse", random_state=0) -> np.ndarray:
    """The mean squared error E‖g_B − ∇J(θ)‖² of a mini-batch gradient, for each batch size.

    For each b in ``batch_sizes``, ``n_draws`` batches of b distinct samples are
    drawn (from ``random_state``) and their gradient g_B is compared with the
    full-data gradient ∇J(θ).  For b much smaller than m this falls as σ²/b,
    where σ² is the same quantity at b = 1 (drawing without replacement
    multiplies it by (m − b)/(m − 1), which is 0 at b = m).
    """
    X, y = check_X_y(X, y)
    m, n = X.shape
    theta = check_theta(theta, n)
    n_draws = check_int(n_draws, "n_draws", minimum=1)
    sizes = [check_int(b, "batch_sizes", minimum=1, maximum=m) for b in np.atleast_1d(batch_sizes).tolist()]
    loss_obj = get_loss(loss)
    rng = as_rng(random_state)
    full = loss_obj.gradient(theta, X, y)
    out = np.empty(len(sizes))
    for k, b in enumerate(sizes):
        total = 0.0
        for _ in range(n_draws):
            idx = rng.choice(m, size=b, replace=False)
            diff = loss_obj.fast_gradient(theta, X[idx], y[idx]) - full
            total += float(diff @ diff)
        out[k] = total / n_draws
    return out
