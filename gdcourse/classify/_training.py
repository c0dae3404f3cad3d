"""Training: :func:`fit` and :class:`Trainer` (the same loop one epoch at a time, for the live
panel), one step per shuffled mini-batch, early stopping on the validation loss, and the
:class:`FitResult` they return."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_rng, check_callable, check_int, check_positive, describe
from ..batching import minibatch_indices
from ..optim import Optimizer
from ._models import _Model
from ._softmax import _ce_and_delta
from ._steps import optimizer_step


@dataclass
class FitResult:
    """What :func:`fit` did, epoch by epoch (index 0 is before training).

    ``theta`` holds the weights of the epoch with the lowest validation loss
    (``best_epoch``); ``last_theta`` those at the end.  ``stop_reason`` is
    ``"num_epochs"``, ``"early_stopping"`` or ``"diverged"``.
    """

    theta: np.ndarray
    best_epoch: int
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    stop_reason: str
    message: str
    n_updates: int
    seconds: float
    last_theta: np.ndarray = field(repr=False, default=None)

    @property
    def n_epochs(self) -> int:
        return len(self.train_loss) - 1


def _as_step(step):
    if isinstance(step, Optimizer):
        return optimizer_step(step)
    check_callable(step, "step")
    return step


class Trainer:
    """The training loop of :func:`fit`, one epoch per :meth:`epoch` call (for the live panel)."""

    def __init__(self, model, X_train, y_train, X_val, y_val, step, *, theta0=None, batch_size: int = 64,
                 patience: int | None = 10, random_state=None, divergence_factor: float = 100.0):
        if not isinstance(model, _Model):
            raise TypeError(f"model must be a SoftmaxRegression or an MLP, but got {describe(model)}.")
        self.model = model
        self.X, self.y = model._check_data(X_train, y_train)
        self.X_val, self.y_val = model._check_data(X_val, y_val)
        self.step = _as_step(step)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=self.X.shape[0],
                                    max_name="the number of training samples")
        self.patience = None if patience is None else check_int(patience, "patience", minimum=1)
        self.rng = as_rng(random_state)
        self.divergence_factor = check_positive(divergence_factor, "divergence_factor")
        theta = model.init(self.rng) if theta0 is None else model._check_theta(theta0)
        self.theta = np.array(theta, dtype=float, order="C", copy=True)
        self.state = None
        self.history = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
        self.best_theta = self.theta.copy()
        self.best_epoch = 0
        self.bad_epochs = 0
        self.n_updates = 0
        self.seconds = 0.0
        self.stop_reason = ""
        self.message = ""
        first, _ = self._record()
        if not math.isfinite(first):
            raise ValueError(f"the initial weights give a non-finite training loss ({first}); check X and theta0.")
        self.limit = self.divergence_factor * max(first, 1.0)

    @property
    def epoch_count(self) -> int:
        return len(self.history["train_loss"]) - 1

    @property
    def done(self) -> bool:
        return bool(self.stop_reason)

    def _record(self):
        model, theta = self.model, self.theta
        with np.errstate(all="ignore"):
            Z_tr = model._scores(theta, self.X)
            Z_val = model._scores(theta, self.X_val)
            penalty = model._penalty(theta)
            tr = _ce_and_delta(Z_tr, self.y)[0] + penalty
            va = _ce_and_delta(Z_val, self.y_val)[0] + penalty
            tr_acc = float(np.mean(Z_tr.argmax(axis=1) == self.y))
            va_acc = float(np.mean(Z_val.argmax(axis=1) == self.y_val))
        h = self.history
        h["train_loss"].append(tr)
        h["val_loss"].append(va)
        h["train_acc"].append(tr_acc)
        h["val_acc"].append(va_acc)
        return tr, va

    def epoch(self) -> bool:
        """Train one epoch (one step per shuffled mini-batch); False once training has stopped."""
        if self.done:
            return False
        t0 = time.perf_counter()
        model, step = self.model, self.step
        for idx in minibatch_indices(self.X.shape[0], self.batch_size, random_state=self.rng):
            with np.errstate(all="ignore"):
                value, grad = model._loss_and_grad(self.theta, self.X[idx], self.y[idx])
            if not (math.isfinite(value) and value <= self.limit and np.all(np.isfinite(grad))):
                self.stop_reason = "diverged"
                self.message = (f"diverged in epoch {self.epoch_count + 1}: the batch loss became {value:.3g} "
                                f"(or the gradient inf/NaN); lower the learning rate.")
                self.seconds += time.perf_counter() - t0
                return False
            theta, self.state = step(self.theta, grad, self.state)
            self.theta = np.ascontiguousarray(theta, dtype=float)
            self.n_updates += 1
        _, va = self._record()
        self.seconds += time.perf_counter() - t0
        if not (math.isfinite(va) and va <= self.limit):
            self.stop_reason = "diverged"
            self.message = (f"diverged in epoch {self.epoch_count}: the validation loss became {va:.3g}; "
                            f"lower the learning rate.")
            return False
        if va < self.history["val_loss"][self.best_epoch]:
            self.best_epoch, self.best_theta, self.bad_epochs = self.epoch_count, self.theta.copy(), 0
        else:
            self.bad_epochs += 1
            if self.patience is not None and self.bad_epochs >= self.patience:
                self.stop_reason = "early_stopping"
                self.message = (f"stopped early after epoch {self.epoch_count}: the validation loss has not "
                                f"improved for {self.patience} epochs; best epoch {self.best_epoch}.")
                return False
        return True

    def result(self) -> FitResult:
        h = {k: np.array(v) for k, v in self.history.items()}
        reason = self.stop_reason or "num_epochs"
        message = self.message or (f"trained {self.epoch_count} epochs; best validation loss "
                                   f"{h['val_loss'][self.best_epoch]:.4g} at epoch {self.best_epoch}.")
        return FitResult(self.best_theta.copy(), self.best_epoch, h["train_loss"], h["val_loss"],
                         h["train_acc"], h["val_acc"], reason, message, self.n_updates, self.seconds,
                         self.theta.copy())


def fit(model, X_train, y_train, X_val, y_val, step, *, theta0=None, batch_size: int = 64,
        num_epochs: int = 100, patience: int | None = 10, random_state=None,
        divergence_factor: float = 100.0) -> FitResult:
    """Train ``model`` with any optimiser ``step``, stopping early on the validation loss.

    ``step`` is ``step(theta, grad, state) -> (theta, state)`` (``state`` is
    ``None`` at the first call), or a package :class:`~gdcourse.optim.Optimizer`.
    Each epoch shuffles the training set (``random_state``), makes one step per
    mini-batch of ``batch_size`` and then records the training and validation
    loss and accuracy.  When the validation loss has not improved for
    ``patience`` epochs (``None``: never stop early) training stops; the result's
    ``theta`` is the best epoch's.  A loss that becomes inf/NaN or exceeds
    ``divergence_factor``·max(J₀, 1) stops training with ``"diverged"``.

    >>> from gdcourse.classify import SoftmaxRegression, Standardizer, load_digits, optimizer_step
    >>> d = load_digits(); X = Standardizer().fit_transform(d.X)
    >>> r = fit(SoftmaxRegression(64), X[:1000], d.y[:1000], X[1000:], d.y[1000:],
    ...         optimizer_step("adam", lr=0.01), num_epochs=5, random_state=0)
    >>> r.n_epochs, bool(r.val_acc[-1] > 0.85)
    (5, True)
    """
    num_epochs = check_int(num_epochs, "num_epochs", minimum=1)
    trainer = Trainer(model, X_train, y_train, X_val, y_val, step, theta0=theta0, batch_size=batch_size,
                      patience=patience, random_state=random_state, divergence_factor=divergence_factor)
    for _ in range(num_epochs):
        if not trainer.epoch():
            break
    return trainer.result()
