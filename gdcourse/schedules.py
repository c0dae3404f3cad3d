r"""Learning-rate schedules: the step size α as a function of the step count t.

Every schedule is a callable ``schedule(t) -> lr``.  **t is 0-based**: it is the
number of updates already taken, so ``schedule(0)`` is the learning rate of the
first update.  This is exactly ``state.count`` *before* an update in
:mod:`gdcourse.optim`, so passing a schedule as ``lr=`` just works::

    >>> from gdcourse.schedules import step_decay
    >>> sched = step_decay(0.1, step_size=2, gamma=0.5)
    >>> [sched(t) for t in range(5)]
    [0.1, 0.1, 0.05, 0.05, 0.025]

It is also the convention of ``torch.optim.lr_scheduler``: the learning rate
before the first ``scheduler.step()`` is the schedule at 0.

==========================================  ================================================
``constant(lr)``                            α_t = α
``step_decay(lr, step_size, gamma=0.1)``    α_t = α·γ^⌊t / step_size⌋         (torch StepLR)
``exponential(lr, gamma)``                  α_t = α·γ^t                        (torch ExponentialLR)
``cosine(lr, num_steps, min_lr=0.0)``       α_t = α_min + ½(α − α_min)(1 + cos(π·t/T)), held
                                            at α_min for t ≥ T                 (torch CosineAnnealingLR,
                                            first half-period)
``linear_warmup(after, warmup_steps, …)``   α_t rises linearly from start_factor·α_0 to α_0 over
                                            ``warmup_steps`` updates, then follows ``after``
                                            (a number or another schedule) from its own t = 0
==========================================  ================================================

A schedule is called once per update inside tight loops, so ``__call__`` does
not re-check t; the constructor checks every argument once.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_fraction, check_int, check_nonnegative, check_positive

__all__ = ["Schedule", "constant", "step_decay", "exponential", "cosine", "linear_warmup",
           "SCHEDULES", "as_schedule"]


class Schedule:
    """Base class: a callable ``t -> lr`` with a readable ``repr`` and :meth:`values`."""

    def __call__(self, t: int) -> float:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def values(self, num_steps: int) -> np.ndarray:
        """The learning rates of the first ``num_steps`` updates, t = 0 … num_steps − 1 (for plots)."""
        num_steps = check_int(num_steps, "num_steps", minimum=0)
        return np.array([self(t) for t in range(num_steps)], dtype=float)

    def _args(self) -> str:  # pragma: no cover - every subclass overrides it
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args()})"


class constant(Schedule):
    """α_t = α for every step t.

    >>> constant(0.1)(0), constant(0.1)(1000)
    (0.1, 0.1)
    """

    def __init__(self, lr: float):
        self.lr = check_positive(lr, "lr")

    def __call__(self, t):
        return self.lr

    def _args(self):
        return f"lr={self.lr!r}"


class step_decay(Schedule):
    """α_t = α·γ^⌊t / step_size⌋: multiply by γ every ``step_size`` updates (torch ``StepLR``).

    >>> s = step_decay(1.0, step_size=3, gamma=0.1)
    >>> s(2), s(3), s(6)
    (1.0, 0.1, 0.010000000000000002)
    """

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1):
        self.lr = check_positive(lr, "lr")
        self.step_size = check_int(step_size, "step_size", minimum=1)
        self.gamma = check_fraction(gamma, "gamma", include_low=False, include_high=True)

    def __call__(self, t):
        return self.lr * self.gamma ** (t // self.step_size)

    def _args(self):
        return f"lr={self.lr!r}, step_size={self.step_size}, gamma={self.gamma!r}"


class exponential(Schedule):
    """α_t = α·γ^t: multiply by γ after every update (torch ``ExponentialLR``).

    >>> exponential(1.0, gamma=0.5)(3)
    0.125
    """

    def __init__(self, lr: float, gamma: float):
        self.lr = check_positive(lr, "lr")
        self.gamma = check_fraction(gamma, "gamma", include_low=False, include_high=True)

    def __call__(self, t):
        return self.lr * self.gamma ** t

    def _args(self):
        return f"lr={self.lr!r}, gamma={self.gamma!r}"


class cosine(Schedule):
    """α_t = α_min + ½(α − α_min)(1 + cos(π·t/T)) for t ≤ T, then α_min (T = ``num_steps``).

    Starts at α, is halfway at t = T/2 and reaches ``min_lr`` at t = T, as the
    first half-period of torch's ``CosineAnnealingLR(T_max=T, eta_min=min_lr)``;
    unlike torch it then stays at ``min_lr`` instead of rising again.

    >>> s = cosine(1.0, num_steps=10, min_lr=0.0)
    >>> s(0), s(5), round(s(10), 12), s(50)
    (1.0, 0.5, 0.0, 0.0)
    """

    def __init__(self, lr: float, num_steps: int, min_lr: float = 0.0):
        self.lr = check_positive(lr, "lr")
        self.num_steps = check_int(num_steps, "num_steps", minimum=1)
        self.min_lr = check_nonnegative(min_lr, "min_lr")
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr must be <= lr ({self.lr}), but got {self.min_lr}.")

    def __call__(self, t):
        if t >= self.num_steps:
            return self.min_lr
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * t / self.num_steps))

    def _args(self):
        return f"lr={self.lr!r}, num_steps={self.num_steps}, min_lr={self.min_lr!r}"


def as_schedule(lr, name: str = "lr") -> Schedule:
    """A :class:`Schedule` from a number (constant) or a schedule/callable (passed through)."""
    if isinstance(lr, Schedule):
        return lr
    if callable(lr):
        return _Callable(lr, name)
    return constant(check_positive(lr, name))


class _Callable(Schedule):
    """Wraps a user's function ``t -> lr`` after checking it once at t = 0."""

    def __init__(self, fn, name):
        try:
            first = fn(0)
        except Exception as exc:  # the user's function: show what went wrong, with the argument's name
            raise TypeError(f"{name} was given as a function of the step count t, but {name}(0) "
                            f"raised {type(exc).__name__}: {exc}") from exc
        check_positive(first, f"{name}(0)")
        self.fn = fn

    def __call__(self, t):
        return self.fn(t)

    def _args(self):
        return repr(self.fn)


class linear_warmup(Schedule):
    """Linear warm-up, then another schedule.

    For t < W (``warmup_steps``): α_t = α_0·(f + (1 − f)·t/W), rising from f·α_0 to
    α_0, where f = ``start_factor`` and α_0 = ``after(0)``.  For t ≥ W:
    α_t = ``after(t − W)``, so the following schedule starts from its own step 0
    when the warm-up ends and the curve is continuous there.  ``after`` may be
    a number (warm-up to a constant) or any schedule.  This is torch's
    ``LinearLR(start_factor=f, total_iters=W)`` chained with the next schedule.

    >>> s = linear_warmup(cosine(1.0, num_steps=4), warmup_steps=4, start_factor=0.25)
    >>> [round(s(t), 6) for t in range(9)]
    [0.25, 0.4375, 0.625, 0.8125, 1.0, 0.853553, 0.5, 0.146447, 0.0]
    """

    def __init__(self, after, warmup_steps: int, *, start_factor: float = 0.1):
        self.after = as_schedule(after, "after")
        self.warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=1)
        self.start_factor = check_fraction(start_factor, "start_factor", include_low=False,
                                           include_high=True)
        self._peak = self.after(0)

    def __call__(self, t):
        w = self.warmup_steps
        if t < w:
            return self._peak * (self.start_factor + (1.0 - self.start_factor) * t / w)
        return self.after(t - w)

    def _args(self):
        return f"{self.after!r}, warmup_steps={self.warmup_steps}, start_factor={self.start_factor!r}"


SCHEDULES = {
    "constant": constant,
    "step": step_decay,
    "exponential": exponential,
    "cosine": cosine,
    "linear_warmup": linear_warmup,
}
