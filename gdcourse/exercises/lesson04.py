"""Exercises for lesson 4, batch vs stochastic vs mini-batch gradient descent.

``minibatch_indices(m, batch_size, seed)``
    one epoch's batches: a shuffled permutation of ``range(m)`` drawn from
    ``np.random.default_rng(seed)``, cut into consecutive batches of
    ``batch_size``; the last, smaller batch is kept.  A list of 1-D integer
    arrays.  The permutation itself is the learner's choice, so the check
    tests properties: every sample exactly once, the batch sizes, a real
    shuffle, the same seed giving the same batches and another seed other ones.
``minibatch_epoch(theta, X, y, lr, batches)``
    θ after one pass: for each index array b, in order,
    θ ← θ − α·(1/|b|)·X_bᵀ(X_bθ − y_b).  θ itself is left unchanged.
``updates_per_epoch(m, batch_size)``
    ⌈m / batch_size⌉, an ``int``.
``train_epochs(theta, X, y, lr, batch_size, num_epochs, seed)``
    the whole training loop: one generator ``np.random.default_rng(seed)``
    made once, then per epoch a fresh ``rng.permutation(m)`` cut into batches
    of ``batch_size`` (last one kept) and one update per batch.  Returns
    ``(theta, losses)`` with ``losses`` the full-data J(θ) = (1/2m)‖Xθ − y‖²
    before training and after each epoch (``num_epochs + 1`` floats), which
    is :func:`gdcourse.batching.train`'s ``loss_per_epoch`` with plain SGD.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._calls import Reseeded
from ._compare import _kind, compare_values
from ._core import Exercise, Mistake
from ._shared import five_points as _five_points
from ._shared import random_problem as _random_problem
from ._shared import seed as _seed

__all__ = ["minibatch_indices", "minibatch_epoch", "updates_per_epoch", "train_epochs",
           "EXERCISES"]

PREAMBLE = "import numpy as np\n"

#: below this many samples a permutation may be the identity by chance, so
#: "is it shuffled?" and "does the seed matter?" are only asked from here on
_SHUFFLE_MIN_M = 10


# --- minibatch_indices --------------------------------------------------------

def _minibatch_indices(m, batch_size, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(m)                     # every sample once, in a random order
    return [order[start:start + batch_size] for start in range(0, m, batch_size)]


def _as_batches(out):
    """``(list of 1-D int arrays, None)`` or ``(None, (key, message))``."""
    if out is None:
        return None, ("none", "your function returned None: did you forget a `return`?")
    if isinstance(out, np.ndarray):
        return None, ("one_array",
                      f"you returned one array (shape {out.shape}) instead of a list of batches: "
                      f"cut the shuffled indices into a list of arrays of batch_size each")
    if not isinstance(out, (list, tuple)):
        return None, ("type", f"the result should be a list of index arrays, but got "
                              f"a {type(out).__name__}")
    if out and all(isinstance(b, numbers.Integral) or (isinstance(b, np.ndarray) and b.ndim == 0)
                   for b in out):
        return None, ("one_array",
                      "you returned a flat list of single indices instead of a list of batches: "
                      "each element should be a 1-D array of batch_size indices")
    batches = []
    for i, b in enumerate(out):
        try:
            arr = np.asarray(b)
        except Exception:
            arr = None
        if arr is None or arr.dtype.kind not in "biuf" or arr.ndim != 1:
            kind = f"shape {arr.shape}" if arr is not None and arr.dtype.kind in "biuf" \
                else f"a {type(b).__name__}"
            return None, ("batch_type", f"batch {i} should be a 1-D array of indices, but got "
                                        f"{kind}")
        if arr.dtype.kind not in "iu":
            return None, ("dtype", f"batch {i} has dtype {arr.dtype}: indices must be integers "
                                   f"(rng.permutation(m) gives integers)")
        batches.append(arr)
    return batches, None


def _same_batches(a, b) -> bool:
    a, _ = _as_batches(a)
    b, _ = _as_batches(b)
    return (a is not None and b is not None and len(a) == len(b)
            and all(np.array_equal(x, y) for x, y in zip(a, b)))


def _diagnose(out, m, batch_size, again, other):
    """``("ok", None)`` or the defect of one answer as ``(key, message)``."""
    batches, problem = _as_batches(out)
    if problem:
        return problem
    sizes = [len(b) for b in batches]
    idx = np.concatenate(batches) if batches else np.zeros(0, dtype=int)
    if idx.size and (idx.min() < 0 or idx.max() >= m):
        bad = idx[(idx < 0) | (idx >= m)][0]
        return "range", (f"the indices must lie in 0 … m − 1 = {m - 1}, but your batches hold "
                         f"{int(bad)}")
    counts = np.bincount(idx, minlength=m)
    repeated = np.flatnonzero(counts > 1)
    if repeated.size:
        return "duplicate", (
            f"a duplicated sample: {repeated.size} sample(s) appear more than once in one epoch "
            f"(e.g. sample {int(repeated[0])}), so others are never seen; draw a permutation "
            f"(rng.permutation(m)), not indices with replacement (rng.integers, "
            f"rng.choice(..., replace=True))")
    missing = np.flatnonzero(counts == 0)
    partial = m % batch_size
    if missing.size:
        if partial and missing.size == partial and all(s == batch_size for s in sizes):
            return "dropped_last", (
                f"a lost sample: the last, partial batch is dropped, so {partial} sample(s) are "
                f"never used this epoch; keep it (for start in range(0, m, batch_size))")
        return "lost", (f"a lost sample: {missing.size} of the {m} samples never appear "
                        f"(e.g. sample {int(missing[0])}); shuffle all of range(m), "
                        f"not range(m - 1)")
    want = [batch_size] * (m // batch_size) + ([partial] if partial else [])
    if sizes != want:
        shown = ", ".join(map(str, sizes[:8])) + (", …" if len(sizes) > 8 else "")
        tail = f" and a last one of {partial}" if partial else ""
        return ("sizes", tuple(sizes)), (
            f"batches of the wrong size: expected {len(want)} batch(es) of "
            f"batch_size = {batch_size}{tail}, but yours have sizes [{shown}]")
    if m >= _SHUFFLE_MIN_M:
        if np.array_equal(idx, np.arange(m)):
            return "no_shuffle", ("no shuffle: the batches take the samples in order 0, 1, 2, …; "
                                  "shuffle the indices first (rng.permutation(m))")
        if len(batches) > 1 and batch_size > 1 and all(
                np.array_equal(b, np.arange(b[0], b[0] + len(b))) for b in batches):
            return "order_only", ("only the order of the batches is shuffled: each batch still "
                                  "holds consecutive samples; shuffle the samples, then cut")
    if not _same_batches(out, again):
        return "not_reproducible", ("not reproducible: the same seed gave different batches; "
                                    "draw from np.random.default_rng(seed), not an unseeded "
                                    "generator or np.random's global state")
    if m >= _SHUFFLE_MIN_M:
        other_batches, _ = _as_batches(other)
        if other_batches is not None and len(other_batches) == len(batches) and np.array_equal(
                np.concatenate(other_batches) if other_batches else idx, idx):
            return "seed_ignored", ("the seed is ignored: seed and seed + 1 gave the same "
                                    "order; create the generator with "
                                    "np.random.default_rng(seed)")
    return "ok", None


def _compare_indices(got, expected):
    m, batch_size = int(expected[0]), int(expected[1])
    if not isinstance(got, (tuple, list)) or len(got) != 5:
        return "the check could not read your result."
    key_got, message = _diagnose(got[2], m, batch_size, got[3], got[4])
    key_want, _ = _diagnose(expected[2], m, batch_size, expected[3], expected[4])
    if key_want == "ok":            # judged against the reference: properties only
        return None if key_got == "ok" else message + "."
    # judged against a named mistake: the same defect
    return None if key_got == key_want else "a different answer."


def _indices_cases(rng):
    cases = [(10, 3, 0), (12, 4, 1), (6, 8, 2), (25, 1, 3)]
    for _ in range(2):
        m = int(rng.integers(20, 200))
        cases.append((m, int(rng.integers(2, min(64, m - 1))), _seed(rng)))
    return cases


def _cut(order, batch_size):
    return [order[s:s + batch_size] for s in range(0, len(order), batch_size)]


def _indices_dropped_last(m, batch_size, seed):
    order = np.random.default_rng(seed).permutation(m)
    full = (m // batch_size) * batch_size
    return _cut(order[:full], batch_size)


minibatch_indices = Exercise(
    "lesson04.minibatch_indices",
    _minibatch_indices,
    cases=_indices_cases,
    run=Reseeded(echo=2),
    compare=_compare_indices,
    mistakes=[
        Mistake("a lost sample: the last, partial batch is dropped", _indices_dropped_last),
        Mistake("a lost sample: one sample never appears; shuffle all of range(m), not "
                "range(m - 1)",
                lambda m, bs, seed: _cut(np.random.default_rng(seed).permutation(m - 1), bs)),
        Mistake("a duplicated sample: you drew indices with replacement (rng.integers or "
                "rng.choice(..., replace=True)), so some samples come twice and others never; "
                "use rng.permutation(m)",
                lambda m, bs, seed: _cut(np.random.default_rng(seed).integers(0, m, size=m), bs)),
        Mistake("no shuffle: the batches take the samples in order 0, 1, 2, …; shuffle first",
                lambda m, bs, seed: _cut(np.arange(m), bs)),
        Mistake("only the order of the batches is shuffled, not the samples",
                lambda m, bs, seed: [_cut(np.arange(m), bs)[i] for i in
                                     np.random.default_rng(seed).permutation(-(-m // bs))]),
        Mistake("batches of the wrong size: np.array_split(order, k) spreads the samples evenly "
                "over k batches; cut consecutive slices of batch_size instead",
                lambda m, bs, seed: np.array_split(np.random.default_rng(seed).permutation(m),
                                                   -(-m // bs))),
        Mistake("you returned one array instead of a list of batches",
                lambda m, bs, seed: np.random.default_rng(seed).permutation(m)),
        Mistake("not reproducible: the same seed gave different batches; use "
                "np.random.default_rng(seed)",
                lambda m, bs, seed: _cut(np.random.default_rng().permutation(m), bs)),
        Mistake("the seed is ignored: use np.random.default_rng(seed)",
                lambda m, bs, seed: _cut(np.random.default_rng(0).permutation(m), bs)),
    ],
    hints=[
        "Make the generator with `rng = np.random.default_rng(seed)`, then shuffle all the "
        "sample indices once: `order = rng.permutation(m)` (each index exactly once).",
        "Cut `order` into consecutive slices: `order[start:start + batch_size]` for "
        "`start` in `range(0, m, batch_size)`; the last slice is simply shorter, keep it.",
        "Return a list, e.g. `[order[s:s + batch_size] for s in range(0, m, batch_size)]`.",
    ],
)


# --- minibatch_epoch ------------------------------------------------------------

def _minibatch_epoch(theta, X, y, lr, batches):
    theta = np.array(theta, dtype=float)           # a copy: the caller's θ stays as it was
    for b in batches:
        Xb, yb = X[b], y[b]
        grad = Xb.T @ (Xb @ theta - yb) / len(b)   # mean over this batch only
        theta = theta - lr * grad
    return theta


def _compare_epoch(got, expected):
    return compare_values(got, expected, rtol=1e-7, atol=1e-10, name="your θ after the epoch")


def _batched_problem(rng):
    """A random problem (X, y) and a batch size that leaves a smaller last batch."""
    X, y = _random_problem(rng)
    m = len(y)
    batch_size = int(rng.integers(2, max(3, m // 2)))
    if m % batch_size == 0:
        batch_size += 1                         # keep a smaller last batch
    return X, y, batch_size


def _epoch_cases(rng):
    X5, y5 = _five_points()
    cases = [(np.zeros(2), X5, y5, 0.05, [np.array([0, 3]), np.array([4, 1]), np.array([2])]),
             (np.array([1.0, 1.0]), X5, y5, 0.02, [np.array([i]) for i in (3, 0, 4, 1, 2)])]
    for _ in range(3):
        X, y, batch_size = _batched_problem(rng)
        m = len(y)
        order = rng.permutation(m)
        batches = [order[s:s + batch_size] for s in range(0, m, batch_size)]
        cases.append((rng.normal(size=X.shape[1]), X, y, float(rng.uniform(0.02, 0.1)), batches))
    return cases


def _epoch_variant(kind):
    def variant(theta, X, y, lr, batches):
        theta = np.array(theta, dtype=float)
        m = len(y)
        if kind == "batch_gd":
            return theta - lr * X.T @ (X @ theta - y) / m
        start = theta.copy()
        for b in batches:
            Xb, yb = X[b], y[b]
            if kind == "by_m":
                grad = Xb.T @ (Xb @ theta - yb) / m
            elif kind == "sum":
                grad = Xb.T @ (Xb @ theta - yb)
            elif kind == "full_X":
                grad = X.T @ (X @ theta - y) / m
            elif kind == "first_size":
                grad = Xb.T @ (Xb @ theta - yb) / len(batches[0])
            elif kind == "from_start":
                grad = Xb.T @ (Xb @ start - yb) / len(b)
                theta = start - lr * grad
                continue
            else:
                grad = Xb.T @ (Xb @ theta - yb) / len(b)
            theta = theta + lr * grad if kind == "sign" else theta - lr * grad
        return theta
    return variant


minibatch_epoch = Exercise(
    "lesson04.minibatch_epoch",
    _minibatch_epoch,
    cases=_epoch_cases,
    compare=_compare_epoch,
    mistakes=[
        Mistake("you divided by m instead of the batch size |b|: each update averages over its "
                "batch, (1/|b|)·X_bᵀ(X_bθ − y_b)", _epoch_variant("by_m")),
        Mistake("sum instead of mean: the 1/|b| is missing from each batch's gradient",
                _epoch_variant("sum")),
        Mistake("one update for the whole epoch: that is batch gradient descent; take one "
                "update per batch, in order", _epoch_variant("batch_gd")),
        Mistake("you used the full X (and y) instead of the batch: each update should use only "
                "X[b] and y[b]", _epoch_variant("full_X")),
        Mistake("looks like the sign is flipped: you step uphill (θ + α∇J); the update is "
                "θ − α∇J", _epoch_variant("sign")),
        Mistake("every batch was divided by the first batch's size: the last batch is smaller, "
                "divide by len(b)", _epoch_variant("first_size")),
        Mistake("each update starts again from the original θ, so only the last batch counts: "
                "carry θ from one batch to the next (theta = theta - ...)",
                _epoch_variant("from_start")),
    ],
    hints=[
        "Loop over the batches in order; for each index array `b` take `Xb, yb = X[b], y[b]`.",
        "The batch gradient is a mean over the batch: `Xb.T @ (Xb @ theta - yb) / len(b)`; "
        "then `theta = theta - lr * grad` (a new array, so the caller's θ is untouched).",
    ],
)


# --- updates_per_epoch ----------------------------------------------------------

def _updates_per_epoch(m, batch_size):
    full, rest = divmod(m, batch_size)
    return full + (1 if rest else 0)               # the smaller last batch is one more update


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _compare_count(got, expected):
    if _is_int(expected):                          # the reference: an int
        if got is None:
            return "your function returned None: did you forget a `return`?"
        if isinstance(got, np.ndarray) and got.ndim == 0:
            got = got[()]
        if isinstance(got, numbers.Real) and not isinstance(got, (bool, np.bool_)) \
                and not _is_int(got):
            if float(got) == int(expected):
                return (f"your result is the float {float(got)!r}: a number of updates is a "
                        f"whole number, return an int (e.g. int(...))")
            return f"your result is {float(got):.6g}, not a whole number of updates."
        return compare_values(got, expected, name="your result")
    # a named mistake's output: the same kind of number and the same value
    if _is_int(got) != _is_int(expected):
        return "a different kind of number."
    return compare_values(got, expected, rtol=1e-12, atol=0.0)


def _count_cases(rng):
    cases = [(10, 3), (12, 4), (5, 1), (7, 10), (1000, 32)]
    for _ in range(2):
        batch_size = int(rng.integers(2, 300))
        m = int(rng.integers(1, 20)) * batch_size + int(rng.integers(1, batch_size))
        cases.append((m, batch_size))
    return cases


updates_per_epoch = Exercise(
    "lesson04.updates_per_epoch",
    _updates_per_epoch,
    cases=_count_cases,
    compare=_compare_count,
    mistakes=[
        Mistake("m // batch_size forgets the last, partial batch: it is one more update when "
                "batch_size does not divide m (round up: ⌈m / batch_size⌉)",
                lambda m, bs: m // bs),
        Mistake("m / batch_size is a float division: round it up to a whole number of updates "
                "and return an int", lambda m, bs: m / bs),
        Mistake("np.ceil returns a float: wrap it in int(...)", lambda m, bs: np.ceil(m / bs)),
        Mistake("you swapped the two numbers: it is m divided by batch_size, rounded up",
                lambda m, bs: bs // m),
        Mistake("one update too many when batch_size divides m: round up, do not add 1",
                lambda m, bs: m // bs + 1),
    ],
    hints=[
        "Each update uses one batch; how many batches of `batch_size` fit in `m` samples, "
        "counting a smaller last one?",
        "Round up: `math.ceil(m / batch_size)`, or in integers `-(-m // batch_size)` or "
        "`(m + batch_size - 1) // batch_size`.",
    ],
)


# --- train_epochs ------------------------------------------------------------------

def _train_epochs(theta, X, y, lr, batch_size, num_epochs, seed):
    rng = np.random.default_rng(seed)              # one generator for the whole run
    theta = np.array(theta, dtype=float)           # a copy: the caller's θ stays as it was
    m = len(y)

    def cost(t):
        r = X @ t - y
        return float(r @ r) / (2 * m)

    losses = [cost(theta)]                         # J(θ0) first
    for _epoch in range(num_epochs):
        order = rng.permutation(m)                 # a fresh order every epoch
        for start in range(0, m, batch_size):
            b = order[start:start + batch_size]
            Xb, yb = X[b], y[b]
            theta = theta - lr * Xb.T @ (Xb @ theta - yb) / len(b)
        losses.append(cost(theta))                 # the full-data J after the epoch
    return theta, losses


def _compare_training(got, expected):
    if got is None:
        return "your function returned None: did you forget a `return`?"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return (f"train_epochs should return two values, (theta, losses), but got "
                f"{_kind(got)}.")
    theta, losses = got
    want_theta, want_losses = expected
    problem = compare_values(theta, want_theta, rtol=1e-7, atol=1e-10,
                             name="your θ after training")
    if problem:
        return problem
    if isinstance(losses, np.ndarray) and losses.ndim == 1 or isinstance(losses, (list, tuple)):
        if len(losses) != len(want_losses):
            return (f"your loss history holds {len(losses)} value(s), but it should hold "
                    f"num_epochs + 1 = {len(want_losses)}: J(θ) before training and after "
                    f"each epoch.")
    return compare_values(np.asarray(losses, dtype=float) if _numeric_list(losses) else losses,
                          np.asarray(want_losses, dtype=float), rtol=1e-7, atol=1e-12,
                          name="your loss history")


def _numeric_list(value) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, numbers.Real) or (isinstance(v, np.ndarray) and v.size == 1) for v in value)


def _training_cases(rng):
    X5, y5 = _five_points()
    cases = [(np.zeros(2), X5, y5, 0.05, 2, 3, 0),      # 5 = 2 + 2 + 1: a partial last batch
             (np.array([1.0, 1.0]), X5, y5, 0.02, 1, 4, 7),   # SGD
             (np.zeros(2), X5, y5, 0.1, 5, 2, 3)]      # one batch: batch gradient descent
    for _ in range(2):
        X, y, batch_size = _batched_problem(rng)
        cases.append((rng.normal(size=X.shape[1]), X, y, float(rng.uniform(0.02, 0.08)),
                      batch_size, int(rng.integers(3, 6)), _seed(rng)))
    return cases


def _training_variant(kind):
    def variant(theta, X, y, lr, batch_size, num_epochs, seed):
        rng = np.random.default_rng(seed)
        theta = np.array(theta, dtype=float)
        m = len(y)

        def cost(t):
            r = X @ t - y
            value = float(r @ r) / m
            return value if kind == "no_half" else value / 2

        losses = [] if kind == "no_initial" else [cost(theta)]
        fixed = rng.permutation(m)
        epochs = 1 if kind == "one_epoch" else num_epochs
        for _epoch in range(epochs):
            if kind == "no_reshuffle":
                order = fixed
            elif kind == "no_shuffle":
                order = np.arange(m)
            else:
                order = rng.permutation(m) if _epoch else fixed
            last = (m // batch_size) * batch_size if kind == "drop_last" else m
            for start in range(0, last, batch_size):
                b = order[start:start + batch_size]
                Xb, yb = X[b], y[b]
                scale = m if kind == "by_m" else len(b)
                theta = theta - lr * Xb.T @ (Xb @ theta - yb) / scale
                if kind == "batch_loss":
                    r = Xb @ theta - yb
                    batch_loss = float(r @ r) / (2 * len(b))
            losses.append(batch_loss if kind == "batch_loss" else cost(theta))
        return theta, losses
    return variant


train_epochs = Exercise(
    "lesson04.train_epochs",
    _train_epochs,
    cases=_training_cases,
    compare=_compare_training,
    mistakes=[
        Mistake("every epoch visits the samples in the same order: draw a fresh "
                "rng.permutation(m) at the start of each epoch, from one generator made once, "
                "before the loop (np.random.default_rng(seed) inside the loop restarts it, "
                "giving the first permutation again)", _training_variant("no_reshuffle")),
        Mistake("no shuffle: the batches take the samples in order 0, 1, 2, …; draw "
                "rng.permutation(m) each epoch", _training_variant("no_shuffle")),
        Mistake("the loss history has no J(θ0): record the full-data cost once before the "
                "first epoch, then once after each epoch", _training_variant("no_initial")),
        Mistake("the loop stops after one epoch: run num_epochs epochs",
                _training_variant("one_epoch")),
        Mistake("the history holds the last batch's loss: record the full-data "
                "J(θ) = (1/2m)‖Xθ − y‖² after each epoch", _training_variant("batch_loss")),
        Mistake("the ½ is missing from the recorded cost: J(θ) = (1/2m)‖Xθ − y‖²",
                _training_variant("no_half")),
        Mistake("you divided by m instead of the batch size |b|: each update averages over its "
                "batch, (1/|b|)·X_bᵀ(X_bθ − y_b)", _training_variant("by_m")),
        Mistake("a lost sample: the last, partial batch is dropped; keep it "
                "(for start in range(0, m, batch_size))", _training_variant("drop_last")),
    ],
    hints=[
        "Make `rng = np.random.default_rng(seed)` once, before any loop, and "
        "`losses = [J(θ)]` with the starting θ.",
        "For each epoch: `order = rng.permutation(m)`; for `start` in "
        "`range(0, m, batch_size)` take `b = order[start:start + batch_size]` and update "
        "`theta = theta - lr * X[b].T @ (X[b] @ theta - y[b]) / len(b)`.",
        "After each epoch append the full-data cost `((X @ theta - y) ** 2).sum() / (2 * m)`, "
        "and `return theta, losses` (num_epochs + 1 values).",
    ],
)

EXERCISES = (minibatch_indices, minibatch_epoch, updates_per_epoch, train_epochs)
