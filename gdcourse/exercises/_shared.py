"""Cases and checks several lessons share (lesson modules never import each other).

* :func:`five_points`, :func:`random_problem`: the running example and random
  linear-regression problems;
* :func:`design`, :func:`seed`: the pieces random cases are built from: a
  design matrix with a bias column, a seed for an answer that takes one;
* :func:`input_change`: THE check that the learner's function left its inputs
  as it found them, used by every exercise's judge;
"""

from __future__ import annotations

import numpy as np

from .._messages import _t

__all__ = ["five_points", "random_problem", "design", "seed", "input_change"]


def five_points():
    """The running example: x = 1..5, y = [2, 4, 5, 4, 5], with a bias column."""
    x = np.arange(1.0, 6.0)
    X = np.column_stack([np.ones_like(x), x])
    return X, np.array([2.0, 4.0, 5.0, 4.0, 5.0])


def random_problem(rng, n=None):
    """A random (m, n) design with a bias column and m != n, plus targets y (not all zero)."""
    n = int(rng.integers(3, 5)) if n is None else n
    m = int(rng.integers(n + 3, n + 9))
    X = design(rng, m, n)
    y = rng.normal(loc=1.0, size=m)
    return X, y


def design(rng, m, n):
    """A random (m, n) design matrix: a column of ones (the bias), then n − 1 normal columns."""
    return np.column_stack([np.ones(m), rng.normal(size=(m, n - 1))])


def seed(rng) -> int:
    """A seed for a learner's function that draws its own random numbers (one draw of ``rng``)."""
    return int(rng.integers(0, 2**31))


def _same(before, after) -> tuple[bool, float]:
    """(unchanged?, largest change) for an array or a list of arrays."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return False, float("nan")
        if np.array_equal(after, before, equal_nan=before.dtype.kind == "f"):
            return True, 0.0
        try:
            return False, float(np.nanmax(np.abs(after.astype(float) - before.astype(float))))
        except (TypeError, ValueError):
            return False, float("nan")
    if isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(after) != len(before):
            return False, float("nan")
        change, same = 0.0, True
        for b, a in zip(before, after):
            ok, d = _same(b, a)
            same = same and ok
            change = max(change, d) if d == d else change
        return same, change
    return True, 0.0


def input_change(names, calls) -> str | None:
    """``None`` if no call changed an argument in place, else the feedback line.

    ``names`` are the parameter names; ``calls`` the ``(before, after)``
    snapshots recorded by the call procedure, one pair per call.
    """
    for number, pair in enumerate(calls or (), start=1):
        try:
            before, after = pair
        except (TypeError, ValueError):
            return _t("the check could not read your function's arguments after the call.")
        if not isinstance(before, (tuple, list)) or not isinstance(after, (tuple, list)) \
                or len(before) != len(after):
            return _t("the check could not read your function's arguments after the call.")
        for i, (b, a) in enumerate(zip(before, after)):
            if b is None:
                continue
            same, change = _same(b, a)
            if same:
                continue
            name = names[i] if i < len(names) else _t("argument {n}", n=i + 1)
            by = _t(" (by up to {change})", change=f"{change:.2g}") \
                if change == change and change > 0 else ""
            when = _t(" on call {number}", number=number) if len(calls) > 1 else ""
            return _t("your function changed {name} in place{by}{when}: work on a copy "
                      "({name}.copy(), or build a new array such as {name} - ...), so the "
                      "caller's {name} stays as it was", name=name, by=by, when=when)
    return None


