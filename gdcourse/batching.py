r"""Mini-batches and the one training loop behind batch GD, SGD and mini-batch GD.

An *epoch* is one pass over all m samples.  Each epoch the samples are
shuffled and cut into batches of ``batch_size``; the optimiser takes one
update per batch, using the gradient of the loss on that batch only:

=================  ============================  ===========================
batch_size         name                          updates per epoch
=================  ============================  ===========================
m (the default)    batch gradient descent        1
1                  stochastic gradient descent   m
anything between   mini-batch gradient descent   ⌈m / batch_size⌉
=================  ============================  ===========================

The last batch of an epoch is smaller when batch_size does not divide m; it
is kept, so every sample is used exactly once per epoch.

>>> import numpy as np
>>> [b.tolist() for b in minibatch_indices(5, 2, shuffle=False)]
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._validation import as_rng, check_int, check_positive, check_theta, check_X_y
from ._stopping import DIVERGENCE_FACTOR, divergence_limit, first_divergent
from .losses import get_loss
from .optim import get_optimizer

__all__ = ["minibatch_indices", "updates_per_epoch", "TrainHistory", "train"]


def _check_batch_size(m: int, batch_size) -> int:
    return check_int(batch_size, "batch_size", minimum=1, maximum=m,
                     max_name="the number of samples m")


def updates_per_epoch(m: int, batch_size: int) -> int:
    """⌈m / batch_size⌉: how many updates one epoch makes (the last batch may be partial).

    >>> updates_per_epoch(1000, 64), updates_per_epoch(1000, 1000), updates_per_epoch(1000, 1)
    (16, 1, 1000)
    """
    m = check_int(m, "m", minimum=1)
    batch_size = _check_batch_size(m, batch_size)
    return -(-m // batch_size)


def _epoch_order(m: int, rng, shuffle: bool) -> np.ndarray:
    """The order in which one epoch visits the samples: a fresh permutation, or 0 … m − 1."""
    return rng.permutation(m) if shuffle else np.arange(m)


def minibatch_indices(m: int, batch_size: int, *, random_state=None, shuffle: bool = True) -> list:
    """The sample indices of each mini-batch of one epoch.

    Returns a list of ⌈m / batch_size⌉ integer arrays that together hold every
    index 0 … m − 1 exactly once; all have ``batch_size`` entries except
    possibly the last, which holds the remainder.  With ``shuffle=True`` the
    order is a random permutation drawn from ``random_state``: the same seed
    gives the same batches, and passing one ``numpy.random.Generator`` to
    successive calls gives a new order each epoch.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> epoch1 = minibatch_indices(10, 4, random_state=rng)
    >>> [len(b) for b in epoch1]
    [4, 4, 2]
    >>> sorted(np.concatenate(epoch1).tolist()) == list(range(10))
    True
    """
    m = check_int(m, "m", minimum=1)
    batch_size = _check_batch_size(m, batch_size)
    order = _epoch_order(m, as_rng(random_state) if shuffle else None, bool(shuffle))
    return [order[start:start + batch_size] for start in range(0, m, batch_size)]


@dataclass
class TrainHistory:
    """What :func:`train` did.

    Attributes
    ----------
    loss_per_update : ndarray, shape (k,)
        The loss on the mini-batch used by each update, at θ before that update
        (noisy for small batches: this is the curve of lesson 4).
    loss_per_epoch : ndarray, shape (e + 1,)
        The full-data loss J(θ) before training and at the end of each epoch.
    thetas : ndarray, shape (e + 1, n)
        θ before training and at the end of each epoch.
    path : ndarray, shape (k + 1, n) or None
        θ before training and after every update (``record_path=True``).
    epoch_times : ndarray, shape (e,)
        Wall-clock seconds spent in each epoch (``time`` gives the running total).
    updates_per_epoch, batch_size : int
    stop_reason : str
        ``"num_epochs"`` or ``"diverged"``.
    message : str
        One sentence saying why training stopped.
    state : the optimiser's state at the end.
    """

    loss_per_update: np.ndarray
    loss_per_epoch: np.ndarray
    thetas: np.ndarray
    path: np.ndarray | None
    epoch_times: np.ndarray
    updates_per_epoch: int
    batch_size: int
    stop_reason: str
    message: str
    state: tuple = field(repr=False, default=None)

    @property
    def diverged(self) -> bool:
        """True when training stopped because the loss or gradient blew up."""
        return self.stop_reason == "diverged"

    @property
    def theta(self) -> np.ndarray:
        """The parameters at the end (of the last completed epoch, if training diverged)."""
        return self.thetas[-1].copy()

    @property
    def n_updates(self) -> int:
        """How many updates were made."""
        return len(self.loss_per_update)

    @property
    def n_epochs(self) -> int:
        """How many epochs were completed."""
        return len(self.epoch_times) - (1 if self.diverged else 0)

    @property
    def time(self) -> np.ndarray:
        """Cumulative wall-clock seconds at the end of each epoch, shape (e,)."""
        return np.cumsum(self.epoch_times)


def train(X, y, optimizer, *, loss="mse", theta0=None, batch_size=None, num_epochs: int = 10,
          shuffle: bool = True, random_state=None, record_path: bool = False,
          divergence_factor: float = DIVERGENCE_FACTOR) -> TrainHistory:
    """Minimise a loss over (X, y) with ``optimizer``, one update per mini-batch.

    Each epoch draws a new order of the m samples (``shuffle=True``), cuts it
    into batches of ``batch_size`` (the last one may be smaller) and for each
    batch B makes one update with the batch gradient

    .. math::  g = ∇J_B(θ) = \\frac{1}{|B|} X_B^\\top (X_B θ − y_B)   \\quad\\text{(MSE)}

    ``batch_size=None`` means m (batch GD); 1 is SGD.  ``optimizer`` is an
    :class:`~gdcourse.optim.Optimizer` (e.g. ``sgd(lr=0.1)``) or a name from
    :data:`gdcourse.optim.OPTIMIZERS`.  ``loss`` is ``"mse"``, ``"cross_entropy"``
    or a :class:`~gdcourse.losses.Loss`.  X and y are checked once; the loop then
    uses the loss's unchecked kernels and the optimiser's in-place update.

    Training stops early, with ``stop_reason="diverged"`` and a message, when a
    batch loss or gradient becomes NaN or inf or a loss exceeds
    ``divergence_factor`` · max(J(θ0), 1); the returned arrays stop there.

    >>> import numpy as np
    >>> from gdcourse.optim import sgd
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]]); y = 1.0 + 2.0 * X[:, 1]
    >>> h = train(X, y, sgd(lr=0.2), batch_size=2, num_epochs=200, random_state=0)
    >>> h.updates_per_epoch, h.theta.round(6), h.stop_reason
    (2, array([1., 2.]), 'num_epochs')
    """
    X, y = check_X_y(X, y)
    m, n = X.shape
    loss_obj = get_loss(loss)
    optimizer = get_optimizer(optimizer)
    theta = np.zeros(n) if theta0 is None else check_theta(theta0, n, name="theta0")
    theta = np.array(theta, dtype=float, order="C", copy=True)
    batch_size = m if batch_size is None else _check_batch_size(m, batch_size)
    num_epochs = check_int(num_epochs, "num_epochs", minimum=1)
    divergence_factor = check_positive(divergence_factor, "divergence_factor")
    rng = as_rng(random_state) if shuffle else None
    X = np.ascontiguousarray(X)
    y = np.ascontiguousarray(y)

    initial = loss_obj.value(theta, X, y)      # the checked call: labels, shapes, everything
    limit = divergence_limit(initial, divergence_factor)
    value, gradient = loss_obj.fast_value, loss_obj.fast_gradient
    step = optimizer.update_inplace
    state = optimizer.init(theta)
    per_epoch = -(-m // batch_size)
    starts = range(0, m, batch_size)

    losses = np.empty(num_epochs * per_epoch)
    path = np.empty((num_epochs * per_epoch + 1, n)) if record_path else None
    if record_path:
        path[0] = theta
    epoch_losses = [initial]
    thetas = [theta.copy()]
    epoch_times = []
    k = 0
    isfinite = math.isfinite
    message = ""

    with np.errstate(all="ignore"):
        for epoch in range(1, num_epochs + 1):
            t0 = time.perf_counter()
            if shuffle:
                order = rng.permutation(m)
                Xe, ye = X.take(order, axis=0), y.take(order)   # one copy; batches are then views
            else:
                Xe, ye = X, y
            for start in starts:
                Xb = Xe[start:start + batch_size]
                yb = ye[start:start + batch_size]
                batch_loss = value(theta, Xb, yb)
                if not (isfinite(batch_loss) and batch_loss <= limit):
                    message = (f"diverged at update {k + 1} (epoch {epoch}): the batch loss became "
                               f"{batch_loss:.3g}. The learning rate is probably too large; try a smaller lr.")
                    break
                g = gradient(theta, Xb, yb)
                if not isfinite(g @ g):
                    message = (f"diverged at update {k + 1} (epoch {epoch}): the gradient contains NaN "
                               f"or inf, so the update would make theta NaN. Check the data and the "
                               f"loss, or lower the learning rate.")
                    break
                theta, state = step(theta, g, state)
                losses[k] = batch_loss
                k += 1
                if record_path:
                    path[k] = theta
            epoch_times.append(time.perf_counter() - t0)
            if message:
                break
            full = value(theta, X, y)
            if not (isfinite(full) and full <= limit):
                message = (f"diverged in epoch {epoch}: the full-data loss became {full:.3g}. "
                           f"The learning rate is probably too large; try a smaller lr.")
                break
            epoch_losses.append(full)
            thetas.append(theta.copy())

    if message:
        stop_reason = "diverged"
    else:
        stop_reason = "num_epochs"
        message = (f"completed {num_epochs} epochs of {per_epoch} update{'s' if per_epoch > 1 else ''} "
                   f"(batch_size={batch_size}) with {optimizer!r}; final loss {epoch_losses[-1]:.6g}.")
    return TrainHistory(
        loss_per_update=losses[:k].copy(),
        loss_per_epoch=np.array(epoch_losses),
        thetas=np.array(thetas),
        path=None if path is None else path[:k + 1].copy(),
        epoch_times=np.array(epoch_times),
        updates_per_epoch=per_epoch,
        batch_size=batch_size,
        stop_reason=stop_reason,
        message=message,
        state=state,
    )


# --- the fast path lesson 4's panel draws, held equal to train() by tests/test_batching.py -------
# Mini-batch SGD on a one-feature linear model is a chain of affine maps θ ↦ Aθ + c, so all its
# updates can be composed at once by a prefix scan instead of a Python loop.

def _compose_pass(P, s):
    """One doubling pass over the last axis: P_i ← P_i ∘ P_{i−s} for every i ≥ s (in place)."""
    a, b, d, e, c0, c1 = P
    ai, bi, di, ei = a[..., s:], b[..., s:], d[..., s:], e[..., s:]
    aj, bj, dj, ej, cj0, cj1 = (v[..., :-s] for v in P)
    # the matrices multiply; the earlier offset goes through the later map
    new = (ai * aj + bi * dj, ai * bj + bi * ej, di * aj + ei * dj, di * bj + ei * ej,
           ai * cj0 + bi * cj1 + c0[..., s:], di * cj0 + ei * cj1 + c1[..., s:])
    for arr, val in zip(P, new):
        arr[..., s:] = val


def _scan(P):
    """Hillis–Steele inclusive scan of affine maps along the last axis (in place)."""
    n = P[0].shape[-1]
    s = 1
    while s < n:
        _compose_pass(P, s)
        s *= 2


def _affine_prefix(A, c, block=32):
    """All prefix compositions of the affine maps θ ↦ A_k θ + c_k, k = 0 … K − 1.

    ``A`` is given by its entries as four arrays (a, b, d, e) = ([[a, b], [d, e]])
    and ``c`` by two (c0, c1), each of length K.  Returns the same six arrays
    for the maps P_k = f_k ∘ … ∘ f_0, so that θ_{k+1} = P_k(θ_0).

    A doubling (Hillis–Steele) scan inside blocks of ``block`` maps, the same
    scan over the blocks' totals, then one pass that puts each block behind
    the total of the blocks before it: about log₂(block) + 1 vectorised passes
    over the K maps instead of K Python steps.  Overflow in a diverging run
    gives inf/NaN only in later entries (each P_k involves f_0 … f_k alone);
    call it under ``np.errstate``.
    """
    K = len(A[0])
    nb = -(-K // block)
    pad = nb * block - K
    # identity maps fill the last block up
    fill = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    P = [np.concatenate([np.asarray(v, dtype=float), np.full(pad, f)]).reshape(nb, block)
         for v, f in zip(tuple(A) + tuple(c), fill)]
    _scan(P)                                    # within each block
    if nb > 1:
        totals = [v[:, -1].copy() for v in P]
        _scan(totals)                           # over the blocks
        before = [np.concatenate([[f], t[:-1]])[:, None] for t, f in zip(totals, fill)]
        a, b, d, e, c0, c1 = P                  # P ← P ∘ (all blocks before)
        aj, bj, dj, ej, cj0, cj1 = before
        new = (a * aj + b * dj, a * bj + b * ej, d * aj + e * dj, d * bj + e * ej,
               a * cj0 + b * cj1 + c0, d * cj0 + e * cj1 + c1)
        P = list(new)
    return tuple(v.ravel()[:K] for v in P)


class _BatchRun(NamedTuple):
    """One mini-batch run of the batch-size panel, cut where :func:`train` stops."""
    path: np.ndarray            # (k + 1, 2): θ before training and after every update
    update_losses: np.ndarray   # (k,): the batch loss J_B(θ) before each update
    epoch_losses: np.ndarray    # (e + 1,): full-data J before training and after each completed epoch
    updates_per_epoch: int
    diverged_epoch: int         # the epoch in which training diverged, 0 if it did not
    diverged_update: int        # the update (1-based) at which it stopped, 0 if none or at an epoch end


def _minibatch_linear_run(x, y, orders, batch_size, lr, theta0, divergence_factor=DIVERGENCE_FACTOR):
    """Mini-batch gradient descent on J(θ) = 1/(2m)·Σ(θ0 + θ1·x_i − y_i)², all updates at once.

    The same run as :func:`train` with ``sgd(lr)``: epoch e
    visits the samples in the order ``orders[e]`` and cuts it into batches B of
    ``batch_size`` (the last one smaller); each update is

        θ ← θ − (α/|B|)·X_Bᵀ(X_B θ − y_B) = (I − (α/|B|)·S_B) θ + (α/|B|)·X_Bᵀy_B,

    an affine map with S_B = X_BᵀX_B.  The maps are composed by a prefix scan
    (:func:`_affine_prefix`), so thousands of SGD updates cost a few vectorised
    passes.  The run stops where ``train`` would: a batch loss not finite or
    above ``divergence_factor``·max(J(θ0), 1), or the full-data loss at the end
    of an epoch above that limit.
    """
    num_epochs, m = orders.shape
    xs = x[orders].ravel()
    ys = y[orders].ravel()
    in_epoch = np.arange(0, m, batch_size)
    per_epoch = len(in_epoch)
    sizes_epoch = np.diff(np.append(in_epoch, m)).astype(float)
    starts = (np.arange(num_epochs)[:, None] * m + in_epoch[None, :]).ravel()
    sizes = np.tile(sizes_epoch, num_epochs)
    w = lr / sizes
    sx = np.add.reduceat(xs, starts)
    sxx = np.add.reduceat(xs * xs, starts)
    sy = np.add.reduceat(ys, starts)
    sxy = np.add.reduceat(xs * ys, starts)
    theta0 = np.asarray(theta0, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        a, b, d, e, c0, c1 = _affine_prefix((1.0 - w * sizes, -w * sx, -w * sx, 1.0 - w * sxx),
                                            (w * sy, w * sxy))
        K = len(a)
        path = np.empty((K + 1, 2))
        path[0] = theta0
        path[1:, 0] = a * theta0[0] + b * theta0[1] + c0
        path[1:, 1] = d * theta0[0] + e * theta0[1] + c1
        # the batch loss of update k at θ_{k−1}, from the residuals of its own rows
        counts = sizes.astype(int)
        r = np.repeat(path[:-1, 0], counts) + np.repeat(path[:-1, 1], counts) * xs - ys
        update_losses = np.add.reduceat(r * r, starts) / (2.0 * sizes)
        ends = path[per_epoch::per_epoch]                       # θ at the end of each epoch
        r_full = ends[:, :1] + ends[:, 1:] * x[None, :] - y[None, :]
        epoch_end = np.mean(r_full * r_full, axis=1) / 2.0
    r0 = theta0[0] + theta0[1] * x - y
    j0 = float(r0 @ r0) / (2 * m)
    limit = divergence_limit(j0, divergence_factor)
    k_bad = first_divergent(update_losses, limit)
    e_bad = first_divergent(epoch_end, limit)
    e_bad = None if e_bad is None else e_bad + 1
    if k_bad is not None and (e_bad is None or k_bad // per_epoch + 1 <= e_bad):
        epoch = k_bad // per_epoch + 1
        return _BatchRun(path[:k_bad + 1], update_losses[:k_bad],
                         np.concatenate([[j0], epoch_end[:epoch - 1]]), per_epoch, epoch, k_bad + 1)
    if e_bad is not None:
        k = e_bad * per_epoch
        return _BatchRun(path[:k + 1], update_losses[:k], np.concatenate([[j0], epoch_end[:e_bad - 1]]),
                         per_epoch, e_bad, 0)
    return _BatchRun(path, update_losses, np.concatenate([[j0], epoch_end]), per_epoch, 0, 0)
