"""The one rule that says when a run of gradient descent has diverged.

Every loop of the package (:func:`gdcourse.descent.gradient_descent`,
:func:`gdcourse.batching.train`, :func:`gdcourse.deepnet.train_mlp`,
:func:`gdcourse.optim.run` with ``divergence_factor=``) and every engine a
panel draws with stops by this rule, so a picture and the loop it
illustrates stop at the same step:

* a run has *diverged* once its cost J is not finite or exceeds
  ``divergence_factor``·max(|J₀|, 1), J₀ the cost at the start
  (:func:`divergence_limit`); the step that crossed the limit is kept, so the
  learner sees the jump;
* a run that used all its steps has also diverged when it is *still
  climbing*: it ended above J₀ and rose on each of its last 10 steps
  (:func:`still_climbing`).

The loops compare each new cost with the limit inline (a function call per
step would cost more than some steps); the vectorised engines, which have
all the costs at once, use :func:`first_divergent` and :func:`cut_at_divergence`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIVERGENCE_FACTOR", "divergence_limit", "first_divergent", "still_climbing",
           "cut_at_divergence"]

#: A run "diverged" once J exceeds this multiple of max(|J(θ0)|, 1).
DIVERGENCE_FACTOR = 1e8

#: how many final steps must all rise for a finished run to count as still climbing
CLIMB_WINDOW = 10


def divergence_limit(j0, divergence_factor=DIVERGENCE_FACTOR) -> float:
    """The cost above which a run that started at cost ``j0`` has diverged."""
    return divergence_factor * max(abs(float(j0)), 1.0)


def first_divergent(costs, limit):
    """The index of the first cost that is not finite or above ``limit``, or None."""
    costs = np.asarray(costs, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.isfinite(costs) & (costs <= limit)))
    return int(bad[0]) if bad.size else None


def still_climbing(costs, window: int = CLIMB_WINDOW) -> bool:
    """The cost ended above where it began and rose on each of the last ``window`` updates."""
    if len(costs) <= window:
        return False
    tail = costs[-window - 1:]
    return bool(costs[-1] > costs[0] and np.all(np.diff(tail) > 0))


def cut_at_divergence(thetas, costs, divergence_factor=DIVERGENCE_FACTOR):
    """A whole run cut where the rule stops it: ``(thetas, costs, diverged)``.

    ``costs[k]`` is the cost at ``thetas[k]``; the run is cut just after the
    first divergent cost (that step is kept).  A run that is not cut has
    diverged when it is still climbing at the end.
    """
    bad = first_divergent(costs, divergence_limit(costs[0], divergence_factor))
    if bad is not None:
        return thetas[:bad + 1], costs[:bad + 1], True
    return thetas, costs, still_climbing(costs)
