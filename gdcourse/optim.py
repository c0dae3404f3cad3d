r"""Optimisers as an ``init`` / ``update`` pair with explicit, printable state.

Every optimiser is made by a factory (``sgd``, ``momentum``, ``nesterov``,
``adagrad``, ``rmsprop``, ``adam``, ``adamw``) and used in three lines::

    >>> import numpy as np
    >>> from gdcourse.optim import adam
    >>> opt = adam(lr=0.1)
    >>> theta = np.array([1.0, -2.0])
    >>> state = opt.init(theta)
    >>> theta, state = opt.update(theta, 2 * theta, state)   # the gradient of ‖θ‖²
    >>> theta
    array([ 0.9, -1.9])
    >>> state
    AdamState(count=1, m=array([ 0.2, -0.4]), v=array([0.004, 0.016]))

The state is a ``NamedTuple``: ``state.count`` is the number of updates taken,
``state.velocity`` (momentum, Nesterov), ``state.sum_sq`` (AdaGrad),
``state.sq_avg`` (RMSProp), ``state.m`` and ``state.v`` (Adam, AdamW) are the
running quantities of the formulas.  (A hidden ``scratch`` field holds work
buffers so the fast path allocates nothing; it is left out of the printout.)

The formulas are those of ``torch.optim`` (see each factory), written in the
lessons' symbols: θ parameters, g = ∇J(θ) the gradient, α the learning rate,
μ the momentum, ρ the RMSProp decay, β1, β2 Adam's decays, ε the small constant
in a denominator, λ the weight decay and t the step count (1 for the first update).

Three ways to take a step
-------------------------
``opt.update(theta, grad, state)``
    Checks its arguments and leaves them untouched: returns a new θ and a new
    state.  This is the one to use in lessons and exercises.
``opt.update_inplace(theta, grad, state)``
    The fast path: no checks, numpy ufuncs writing into ``theta`` and the
    state's arrays (``out=``), nothing allocated.  ``theta`` must be a
    C-contiguous float64 array; it is overwritten and returned.  :func:`run`
    and :func:`gdcourse.batching.train` validate once and then call this.
``opt.reference_update(theta, grad, state)``
    The plain version: a Python loop over the coordinates, one textbook line
    per formula.  It is slow and obviously correct; the tests prove that the
    fast path agrees with it to 1e-12.

Learning rates
--------------
``lr`` is a positive number or a schedule, a callable ``t -> lr`` of the
0-based step index (:mod:`gdcourse.schedules`): update number k (k = 1, 2, …)
uses ``lr(k - 1)``, i.e. ``lr(state.count)`` before the update.

Errors
------
A gradient containing NaN or inf makes :meth:`Optimizer.update` raise
:class:`NonFiniteGradientError` (a ``FloatingPointError`` and a ``ValueError``);
:func:`run` and :func:`gdcourse.batching.train` stop with ``diverged=True`` and a
message instead of returning a path of NaNs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._validation import (check_array, check_callable, check_fraction, check_int,
                          check_nonnegative, check_positive, check_same_shape, describe)
from ._stopping import divergence_limit, first_divergent
from .schedules import Schedule, as_schedule

__all__ = [
    "NonFiniteGradientError",
    "Optimizer",
    "SGDState", "MomentumState", "NesterovState", "AdaGradState", "RMSPropState", "AdamState",
    "AdamWState",
    "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
    "OPTIMIZERS", "get_optimizer",
    "Trajectory", "run",
]

# positional ``out`` (the third argument) is the cheapest way to call a ufunc in place
_mul, _add, _sub, _div, _sqrt = np.multiply, np.add, np.subtract, np.divide, np.sqrt


class NonFiniteGradientError(FloatingPointError, ValueError):
    """A gradient holds NaN or inf: the step would turn θ into NaN."""


# --- states ----------------------------------------------------------------
#
# One NamedTuple type per optimiser, so a state handed to the wrong optimiser is
# recognised.  The last field, ``scratch``, is a tuple of work buffers of θ's
# shape; it carries no information between steps and is hidden from the repr.

def _state_repr(self) -> str:
    parts = [f"{name}={value!r}" for name, value in zip(self._fields, self) if name != "scratch"]
    return f"{type(self).__name__}({', '.join(parts)})"


class SGDState(NamedTuple):
    """Plain gradient descent keeps only the step count."""
    count: int
    scratch: tuple
    __repr__ = _state_repr


class MomentumState(NamedTuple):
    """``velocity`` is b, the running sum b ← μb + g."""
    count: int
    velocity: np.ndarray
    scratch: tuple
    __repr__ = _state_repr


class NesterovState(NamedTuple):
    """``velocity`` is b, the running sum b ← μb + g."""
    count: int
    velocity: np.ndarray
    scratch: tuple
    __repr__ = _state_repr


class AdaGradState(NamedTuple):
    """``sum_sq`` is s, the sum of all squared gradients so far."""
    count: int
    sum_sq: np.ndarray
    scratch: tuple
    __repr__ = _state_repr


class RMSPropState(NamedTuple):
    """``sq_avg`` is s, the running average of squared gradients."""
    count: int
    sq_avg: np.ndarray
    scratch: tuple
    __repr__ = _state_repr


class AdamState(NamedTuple):
    """``m`` first moment (momentum), ``v`` second moment (RMS), both before bias correction."""
    count: int
    m: np.ndarray
    v: np.ndarray
    scratch: tuple
    __repr__ = _state_repr


class AdamWState(NamedTuple):
    """As :class:`AdamState`, for AdamW."""
    count: int
    m: np.ndarray
    v: np.ndarray
    scratch: tuple
    __repr__ = _state_repr


# --- the base class ----------------------------------------------------------

class Optimizer:
    """An optimiser: hyper-parameters plus ``init``, ``update``, ``update_inplace`` and
    ``reference_update``.  Make one with a factory such as :func:`adam`."""

    name = "optimizer"
    State: type = SGDState
    n_scratch = 1

    def __init__(self, lr, weight_decay: float = 0.0):
        self.lr = lr if isinstance(lr, Schedule) or callable(lr) else check_positive(lr, "lr")
        self._schedule = as_schedule(lr, "lr")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")

    # -- the public API --------------------------------------------------------

    def init(self, theta) -> NamedTuple:
        """The state before the first step: count 0 and zero-filled running quantities."""
        theta = self._params(theta, "theta")
        zeros = [np.zeros_like(theta) for _ in self.State._fields[1:-1]]
        scratch = tuple(np.empty_like(theta) for _ in range(self.n_scratch))
        return self.State(0, *zeros, scratch)

    def lr_at(self, t: int) -> float:
        """The learning rate α of update number t + 1 (t = 0-based step index, i.e. ``state.count``)."""
        return self._schedule(t)

    def update(self, theta, grad, state):
        """One checked step: returns ``(new_theta, new_state)``; the arguments are not modified."""
        theta, grad = self._check(theta, grad, state)
        return self.update_inplace(theta, grad, self._copy_state(state))

    def reference_update(self, theta, grad, state):
        """The same step as :meth:`update`, written as a plain loop over the coordinates."""
        theta, grad = self._check(theta, grad, state)
        state = self._copy_state(state)
        lr = self.lr_at(state.count)
        arrays = state[1:-1]
        for i in np.ndindex(theta.shape):
            self._reference_coordinate(theta, grad, arrays, i, lr, state.count + 1)
        return theta, self.State(state.count + 1, *arrays, state.scratch)

    def update_inplace(self, theta, grad, state):  # pragma: no cover - every subclass overrides it
        """The fast step: no checks; overwrites ``theta`` and the state's arrays; returns both."""
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------

    def _reference_coordinate(self, theta, grad, arrays, i, lr, t):  # pragma: no cover
        raise NotImplementedError

    def _hyper(self) -> str:
        return ""

    def __repr__(self) -> str:
        lr = repr(self.lr)
        extra = self._hyper()
        wd = f", weight_decay={self.weight_decay!r}" if self.weight_decay else ""
        return f"{self.name}(lr={lr}{', ' + extra if extra else ''}{wd})"

    @staticmethod
    def _params(theta, name):
        arr = check_array(theta, name, allow_empty=False)
        return np.array(arr, dtype=float, order="C", copy=True)

    def _check(self, theta, grad, state):
        self._check_state(state)
        theta = self._params(theta, "theta")
        grad = np.asarray(check_array(grad, "grad", finite=False), dtype=float)
        check_same_shape(grad, theta, "grad", "theta")
        if not np.all(np.isfinite(grad)):
            raise NonFiniteGradientError(
                f"grad must contain only finite numbers, but {int(np.sum(~np.isfinite(grad)))} of its "
                f"{grad.size} entries are NaN or inf. A step with it would turn theta into NaN. "
                f"This usually means the previous steps diverged: lower lr."
            )
        for field, value in zip(state._fields[1:-1], state[1:-1]):
            if value.shape != theta.shape:
                raise ValueError(
                    f"state.{field} has shape {value.shape}, but theta has shape {theta.shape}: "
                    f"the state was made by init() for other parameters. Fix: state = opt.init(theta)."
                )
        return theta, (grad if grad.flags.c_contiguous else grad.copy())

    def _check_state(self, state):
        if not isinstance(state, self.State):
            if isinstance(state, tuple) and type(state).__name__.endswith("State"):
                got = f"a {type(state).__name__}, made by another optimiser's init()"
            else:
                got = describe(state)
            raise TypeError(
                f"state must be a {self.State.__name__}, made by {self.name}(...).init(theta), "
                f"but got {got}. Each optimiser keeps its own state: pass the state returned by "
                f"this optimiser's init() or update()."
            )

    def _copy_state(self, state):
        arrays = [a.copy() for a in state[1:-1]]
        scratch = tuple(np.empty_like(a) for a in state.scratch)
        return self.State(state.count, *arrays, scratch)

    def _coupled_decay(self, theta, grad, buf):
        """g + λθ (torch's L2 ``weight_decay``), written into ``buf``; just g when λ = 0."""
        if not self.weight_decay:
            return grad
        _mul(theta, self.weight_decay, buf)
        _add(buf, grad, buf)
        return buf


# Rule in every fast kernel below: θ is written last, after every read of the
# gradient, so a grad_fn that returns θ itself (∇½‖θ‖² = θ) is still correct.


class _SGD(Optimizer):
    name = "sgd"
    State = SGDState

    def update_inplace(self, theta, grad, state):
        count = state.count
        lr = self._schedule(count)
        buf, = state.scratch
        g = self._coupled_decay(theta, grad, buf)
        _mul(g, lr, buf)                   # α g
        _sub(theta, buf, theta)            # θ ← θ − α g
        return theta, SGDState(count + 1, state.scratch)

    def _reference_coordinate(self, theta, grad, arrays, i, lr, t):
        g = grad[i] + self.weight_decay * theta[i]
        theta[i] = theta[i] - lr * g


class _Momentum(Optimizer):
    name = "momentum"
    State = MomentumState
    nesterov = False

    def __init__(self, lr, momentum, weight_decay):
        super().__init__(lr, weight_decay)
        self.momentum = check_fraction(momentum, "momentum")

    def _hyper(self):
        return f"momentum={self.momentum!r}"

    def update_inplace(self, theta, grad, state):
        count = state.count
        lr = self._schedule(count)
        b = state.velocity
        buf, = state.scratch
        g = self._coupled_decay(theta, grad, buf)
        _mul(b, self.momentum, b)
        _add(b, g, b)                      # b ← μ b + g
        _mul(b, lr, buf)
        _sub(theta, buf, theta)            # θ ← θ − α b
        return theta, MomentumState(count + 1, b, state.scratch)

    def _reference_coordinate(self, theta, grad, arrays, i, lr, t):
        b, = arrays
        g = grad[i] + self.weight_decay * theta[i]
        b[i] = self.momentum * b[i] + g
        theta[i] = theta[i] - lr * b[i]


class _Nesterov(_Momentum):
    name = "nesterov"
    State = NesterovState
    n_scratch = 2

    def update_inplace(self, theta, grad, state):
        count = state.count
        lr = self._schedule(count)
        mu = self.momentum
        b = state.velocity
        buf, buf2 = state.scratch
        g = self._coupled_decay(theta, grad, buf2)
        _mul(b, mu, b)
        _add(b, g, b)                      # b ← μ b + g
        _mul(b, mu, buf)
        _add(buf, g, buf)                  # g + μ b   (the look-ahead)
        _mul(buf, lr, buf)
        _sub(theta, buf, theta)            # θ ← θ − α (g + μ b)
        return theta, NesterovState(count + 1, b, state.scratch)

    def _reference_coordinate(self, theta, grad, arrays, i, lr, t):
        b, = arrays
        g = grad[i] + self.weight_decay * theta[i]
        b[i] = self.momentum * b[i] + g
        theta[i] = theta[i] - lr * (g + self.momentum * b[i])


class _AdaGrad(Optimizer):
    name = "adagrad"
    State = AdaGradState
    n_scratch = 2

    def __init__(self, lr, eps, weight_decay):
        super().__init__(lr, weight_decay)
        self.eps = check_positive(eps, "eps")

    def _hyper(self):
        return f"eps={self.eps!r}"

    def update_inplace(self, theta, grad, state):
        count = state.count
        lr = self._schedule(count)
        s = state.sum_sq
        buf, buf2 = state.scratch
        g = self._coupled_decay(theta, grad, buf2)
        _mul(g, g, buf)
        _add(s, buf, s)                    # s ← s + g²
        _sqrt(s, buf)
        _add(buf, self.eps, buf)           # √s + ε
        _div(g, buf, buf)
        _mul(buf, lr, buf)
        _sub(theta, buf, theta)            # θ ← θ − α g / (√s + ε)
        return theta, AdaGradState(count + 1, s, state.scratch)

    def _reference_coordinate(self, theta, grad, arrays, i, lr, t):
        s, = arrays
        g = grad[i] + self.weight_decay * theta[i]
        s[i] = s[i] + g * g
        theta[i] = theta[i] - lr * (g / (math.sqrt(s[i]) + self.eps))


class _RMSProp(Optimizer):
    name = "rmsprop"
    State = RMSPropState
    n_scratch = 2

    def __init__(self, lr, rho, eps, weight_decay):
        super().__init__(lr, weight_decay)
        self.rho = check_fraction(rho, "rho")
        self.eps = check_positive(eps, "eps")

    def _hyper(self):
        return f"rho={self.rho!r}, eps={self.eps!r}"

    def update_inplace(self, theta, grad, state):
        count = state.count
        lr = self._schedule(count)
        s = state.sq_avg
        buf, buf2 = state.scratch
        g = self._coupled_decay(theta, grad, buf2)
        _mul(g, g, buf)
        _ema(s, buf, self.rho, buf)        # s ← ρ s + (1 − ρ) g²
        _sqrt(s, buf)
        _add(buf, self.eps, buf)           # √s + ε
        _div(g, buf, buf)
        _mul(buf, lr, buf)
        _sub(theta, buf, theta)            # θ ← θ − α g / (√s + ε)
        return theta, RMSPropState(count + 1, s, state.scratch)

    def _reference_coordinate(self, theta, grad, arrays, i, lr, t):
        s, = arrays
        g = grad[i] + self.weight_decay * theta[i]
        s[i] = self.rho * s[i] + (1.0 - self.rho) * (g * g)
        theta[i] = theta[i] - lr * (g / (math.sqrt(s[i]) + self.eps))


# --- Adam, from three named parts ---------------------------------------------

def _ema(avg, x, beta, buf):
    """avg ← β·avg + (1 − β)·x, in place (``buf`` may be ``x`` itself)."""
    _mul(avg, beta, avg)
    _mul(x, 1.0 - beta, buf)
    _add(avg, buf, avg)


def momentum_part(m, g, beta1, buf):
    """Adam's part 1, momentum: m ← β1·m + (1 − β1)·g (in place)."""
    _ema(m, g, beta1, buf)


def rms_part(v, g, beta2, buf):
    """Adam's part 2, RMS scaling: v ← β2·v + (1 − β2)·g² (in place)."""
    _mul(g, g, buf)
    _ema(v, buf, beta2, buf)


def bias_corrections(beta1, beta2, t):
    """Adam's part 3: the factors 1 − β1ᵗ and 1 − β2ᵗ, with m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ).

    m and v start at 0, so after t steps they are biased towards 0 by exactly
    these factors; dividing by them removes the bias (Kingma & Ba, 2015).
    """
    return 1.0 - beta1 ** t, 1.0 - beta2 ** t


class _Adam(Optimizer):
    name = "adam"
    State = AdamState
    n_scratch = 2
    decoupled = False

    def __init__(self, lr, betas, eps, weight_decay, bias_correction=True):
        super().__init__(lr, weight_decay)
        if not isinstance(bias_correction, bool):
            raise TypeError(f"bias_correction must be True or False, but got {describe(bias_correction)}.")
        self.bias_correction = bias_correction
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (β1, β2), such as (0.9, 0.999), but got {describe(betas)}.")
        self.beta1 = check_fraction(betas[0], "betas[0] (β1)")
        self.beta2 = check_fraction(betas[1], "betas[1] (β2)")
        self.eps = check_positive(eps, "eps")

    @property
    def betas(self):
        return (self.beta1, self.beta2)

    def _hyper(self):
        off = "" if self.bias_correction else ", bias_correction=False"
        return f"betas={self.betas!r}, eps={self.eps!r}{off}"

    def update_inplace(self, theta, grad, state):
        count = state.count
        t = count + 1
        lr = self._schedule(count)
        m, v = state.m, state.v
        buf, buf2 = state.scratch
        g = grad if self.decoupled else self._coupled_decay(theta, grad, buf2)
        momentum_part(m, g, self.beta1, buf)               # 1. m ← β1 m + (1 − β1) g
        rms_part(v, g, self.beta2, buf)                    # 2. v ← β2 v + (1 − β2) g²
        bc1, bc2 = (bias_corrections(self.beta1, self.beta2, t)   # 3. m̂ = m/bc1, v̂ = v/bc2
                    if self.bias_correction else (1.0, 1.0))
        if self.decoupled:
            _mul(theta, 1.0 - lr * self.weight_decay, theta)      # AdamW: θ ← θ(1 − αλ)
        # θ ← θ − α m̂ / (√v̂ + ε), evaluated as θ − (α√bc2/bc1) · m / (√v + ε√bc2):
        # the same number, with two scalar factors instead of two more array passes
        root_bc2 = math.sqrt(bc2)
        _sqrt(v, buf)
        _add(buf, self.eps * root_bc2, buf)
        _div(m, buf, buf)
        _mul(buf, lr * root_bc2 / bc1, buf)
        _sub(theta, buf, theta)
        return theta, self.State(t, m, v, state.scratch)

    def _reference_coordinate(self, theta, grad, arrays, i, lr, t):
        m, v = arrays
        b1, b2, lam = self.beta1, self.beta2, self.weight_decay
        g = grad[i] if self.decoupled else grad[i] + lam * theta[i]
        m[i] = b1 * m[i] + (1.0 - b1) * g                  # momentum
        v[i] = b2 * v[i] + (1.0 - b2) * (g * g)            # RMS scaling
        if self.bias_correction:
            m_hat = m[i] / (1.0 - b1 ** t)                 # bias correction
            v_hat = v[i] / (1.0 - b2 ** t)
        else:
            m_hat, v_hat = m[i], v[i]
        if self.decoupled:
            theta[i] = theta[i] * (1.0 - lr * lam)         # decoupled weight decay
        theta[i] = theta[i] - lr * m_hat / (math.sqrt(v_hat) + self.eps)


class _AdamW(_Adam):
    name = "adamw"
    State = AdamWState
    decoupled = True


# --- factories ------------------------------------------------------------------

def sgd(lr=1e-3, *, weight_decay: float = 0.0) -> Optimizer:
    r"""Plain (stochastic) gradient descent.

    .. math::  θ ← θ − α g, \qquad g = ∇J(θ) + λθ

    λ = ``weight_decay`` is torch's L2 penalty added to the gradient (0 by default).

    >>> import numpy as np
    >>> opt = sgd(lr=0.1)
    >>> theta, state = opt.update(np.array([5.0]), np.array([6.0]), opt.init(np.array([5.0])))
    >>> theta, state.count
    (array([4.4]), 1)
    """
    return _SGD(lr, weight_decay)


def momentum(lr=1e-3, momentum: float = 0.9, *, weight_decay: float = 0.0) -> Optimizer:
    r"""Heavy-ball momentum, as ``torch.optim.SGD(momentum=μ)`` (no dampening).

    .. math::  b ← μ b + g, \qquad θ ← θ − α b

    b (``state.velocity``) starts at 0, so the first step is the plain GD step.
    Many textbooks write the EMA form b ← μb + (1 − μ)g instead; it is this
    one with α scaled by (1 − μ).  Stable on a quadratic of curvature h for
    0 < αh < 2 + 2μ.

    >>> import numpy as np
    >>> opt = momentum(lr=0.1, momentum=0.5)
    >>> theta, state = opt.update(np.array([1.0]), np.array([2.0]), opt.init(np.array([1.0])))
    >>> theta, state.velocity
    (array([0.8]), array([2.]))
    >>> theta, state = opt.update(theta, np.array([2.0]), state)   # b = 0.5·2 + 2 = 3
    >>> theta
    array([0.5])
    """
    return _Momentum(lr, momentum, weight_decay)


def nesterov(lr=1e-3, momentum: float = 0.9, *, weight_decay: float = 0.0) -> Optimizer:
    r"""Nesterov momentum, as ``torch.optim.SGD(momentum=μ, nesterov=True)``.

    .. math::  b ← μ b + g, \qquad θ ← θ − α (g + μ b)

    The step looks one velocity ahead: it uses the new b once more.  (torch
    refuses μ = 0 with ``nesterov=True``; here μ = 0 is allowed and is plain GD.)

    >>> import numpy as np
    >>> opt = nesterov(lr=0.1, momentum=0.5)
    >>> theta, state = opt.update(np.array([1.0]), np.array([2.0]), opt.init(np.array([1.0])))
    >>> theta   # 1 − 0.1·(2 + 0.5·2)
    array([0.7])
    """
    return _Nesterov(lr, momentum, weight_decay)


def adagrad(lr=1e-2, *, eps: float = 1e-10, weight_decay: float = 0.0) -> Optimizer:
    r"""AdaGrad, as ``torch.optim.Adagrad`` (no ``lr_decay``: pass a schedule as ``lr`` instead).

    .. math::  s ← s + g^2, \qquad θ ← θ − α\, g / (\sqrt{s} + ε)

    Every coordinate gets its own step size, which only ever shrinks as s
    (``state.sum_sq``) grows.

    >>> import numpy as np
    >>> opt = adagrad(lr=0.5)
    >>> theta, state = opt.update(np.array([1.0, 1.0]), np.array([4.0, -0.1]),
    ...                           opt.init(np.array([1.0, 1.0])))
    >>> theta.round(6)   # each coordinate moves by ≈ α, whatever the size of its gradient
    array([0.5, 1.5])
    """
    return _AdaGrad(lr, eps, weight_decay)


def rmsprop(lr=1e-2, rho: float = 0.99, *, eps: float = 1e-8, weight_decay: float = 0.0) -> Optimizer:
    r"""RMSProp, as ``torch.optim.RMSprop`` (torch calls ρ ``alpha``; ε is added after the root).

    .. math::  s ← ρ s + (1 − ρ) g^2, \qquad θ ← θ − α\, g / (\sqrt{s} + ε)

    s (``state.sq_avg``) is a running average of g², so unlike AdaGrad the
    step size recovers when gradients shrink.  Keras puts ε inside the root.

    >>> import numpy as np
    >>> opt = rmsprop(lr=0.01, rho=0.75)
    >>> theta, state = opt.update(np.array([0.0]), np.array([2.0]), opt.init(np.array([0.0])))
    >>> state.sq_avg, theta.round(6)   # s = 0.25·4 = 1, step 0.01·2/(1 + 1e-8)
    (array([1.]), array([-0.02]))
    """
    return _RMSProp(lr, rho, eps, weight_decay)


def adam(lr=1e-3, betas=(0.9, 0.999), *, eps: float = 1e-8, weight_decay: float = 0.0,
         bias_correction: bool = True) -> Optimizer:
    r"""Adam = momentum + RMS scaling + bias correction (Kingma & Ba 2015, Algorithm 1; ``torch.optim.Adam``).

    With t the step count (1 for the first update):

    .. math::
        m &← β_1 m + (1 − β_1) g                 && \text{1. momentum (state.m)} \\
        v &← β_2 v + (1 − β_2) g^2               && \text{2. RMS scaling (state.v)} \\
        \hat m &= m / (1 − β_1^t), \quad \hat v = v / (1 − β_2^t) && \text{3. bias correction} \\
        θ &← θ − α\, \hat m / (\sqrt{\hat v} + ε)

    ε is added to √v̂ *after* bias correction, as in the paper and torch
    (TF/Keras add an ε̂ to √v before the correction, which differs in the first steps).
    ``weight_decay`` λ is torch's coupled L2 term g ← ∇J + λθ; for decoupled
    decay use :func:`adamw`.  The code is written from the three named parts
    :func:`momentum_part`, :func:`rms_part` and :func:`bias_corrections`.
    ``bias_correction=False`` leaves out step 3 (m and v are used as they are),
    the variant lesson 6's bias-correction panel draws for comparison.

    The first step moves every coordinate by α·g/(|g| + ε) ≈ α·sign(g):

    >>> import numpy as np
    >>> opt = adam(lr=0.1)
    >>> theta, state = opt.update(np.array([1.0, 1.0]), np.array([300.0, -0.002]),
    ...                           opt.init(np.array([1.0, 1.0])))
    >>> theta.round(6)
    array([0.9, 1.1])
    """
    return _Adam(lr, betas, eps, weight_decay, bias_correction)


def adamw(lr=1e-3, betas=(0.9, 0.999), *, eps: float = 1e-8, weight_decay: float = 1e-2) -> Optimizer:
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019; ``torch.optim.AdamW``).

    .. math::  θ ← θ (1 − α λ), \quad \text{then the Adam step of :func:`adam` with g = ∇J(θ)}

    The decay shrinks θ directly instead of being added to g, so it is not
    divided by √v̂ like the gradient is.  With λ = 0 it is exactly Adam.

    >>> import numpy as np
    >>> opt = adamw(lr=0.1, weight_decay=0.5)
    >>> theta, state = opt.update(np.array([2.0]), np.array([1.0]), opt.init(np.array([2.0])))
    >>> theta.round(6)   # 2·(1 − 0.05) − 0.1
    array([1.8])
    """
    return _AdamW(lr, betas, eps, weight_decay)


OPTIMIZERS = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}


def get_optimizer(name, **kwargs) -> Optimizer:
    """An optimiser by name (a key of :data:`OPTIMIZERS`) with its hyper-parameters.

    An :class:`Optimizer` is passed through (then no keyword arguments are allowed).

    >>> get_optimizer("momentum", lr=0.1, momentum=0.5)
    momentum(lr=0.1, momentum=0.5)
    """
    if isinstance(name, Optimizer):
        if kwargs:
            raise TypeError(f"optimizer is already an Optimizer ({name!r}); hyper-parameters "
                            f"{sorted(kwargs)} cannot be added to it.")
        return name
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or an Optimizer, "
                         f"but got {name!r}.")
    return OPTIMIZERS[name](**kwargs)


# --- running an optimiser on a function -----------------------------------------

class Trajectory(NamedTuple):
    """What :func:`run` returns.

    thetas : (k + 1, *θ.shape) every iterate, θ_0 first (k = num_steps unless it diverged)
    losses : (k + 1,) loss_fn at each iterate, or None without a loss_fn
    state : the optimiser's state after the last step
    n_steps : k, the number of steps taken
    diverged, stop_reason ("num_steps" or "diverged"), message : as in descent.History
    """
    thetas: np.ndarray
    losses: np.ndarray | None
    state: tuple
    n_steps: int
    diverged: bool
    stop_reason: str
    message: str

    @property
    def theta(self) -> np.ndarray:
        """The last (finite) iterate."""
        return self.thetas[-1]


_SMALL = 8  # up to this many parameters, run() steps coordinate by coordinate in Python floats


def _small_path(optimizer, grad_fn, theta, state, thetas):
    """Fill ``thetas[1:]`` for a tiny θ (a point on a 2-D surface) with the per-coordinate rule.

    For two parameters numpy's fixed cost per ufunc call (≈0.5 µs, a dozen calls
    per Adam step) outweighs the arithmetic, so the slider path steps with the
    plain coordinate rule of :meth:`Optimizer.reference_update` on Python floats
    instead; the tests hold it to the in-place path to 1e-12.  Returns the step
    count reached, the last θ and the state, as arrays.
    """
    th = theta.tolist()
    arrays = [a.tolist() for a in state[1:-1]]
    coordinate, lr_at = optimizer._reference_coordinate, optimizer.lr_at
    count, coords = state.count, range(len(th))
    k = 0
    try:
        for k in range(1, len(thetas)):
            g = grad_fn(np.array(th)).tolist()
            lr = lr_at(count)
            count += 1
            for i in coords:
                coordinate(th, g, arrays, i, lr, count)
            thetas[k] = th
    except (ValueError, FloatingPointError, OverflowError):
        # as in run(): a checked grad_fn refusing a NaN θ is divergence, anything else a bug
        if all(math.isfinite(v) for v in th):
            raise
        thetas[k] = np.nan
    theta[:] = th
    return k, theta, optimizer.State(count, *(np.array(a) for a in arrays), state.scratch)


def run(optimizer, grad_fn, theta0, num_steps: int, *, loss_fn=None, divergence_factor=None) -> Trajectory:
    """Take ``num_steps`` steps of ``optimizer`` from ``theta0``: the path a slider redraws.

    Arguments are checked once; the loop then calls the unchecked
    :meth:`Optimizer.update_inplace`, so the per-step cost is one ``grad_fn``
    call plus a handful of ufuncs (``benchmarks/bench_optim.py`` times it).  If θ or its
    loss becomes NaN or inf, the path stops at the last finite iterate with
    ``diverged=True`` and a message.

    With ``divergence_factor`` (which needs ``loss_fn``) the run also stops by
    the rule of :mod:`gdcourse.descent` (:mod:`gdcourse._stopping`): at the
    first step whose loss is above ``divergence_factor``·max(|f(θ0)|, 1),
    which is kept in the path.

    >>> import numpy as np
    >>> traj = run(sgd(lr=0.2), lambda th: 2 * th, np.array([10.0]), 10, loss_fn=lambda th: th @ th)
    >>> traj.thetas.shape, round(float(traj.theta[0]), 6), traj.stop_reason   # x_t = 10·0.6ᵗ
    ((11, 1), 0.060466, 'num_steps')
    """
    optimizer = get_optimizer(optimizer)
    check_callable(grad_fn, "grad_fn")
    if loss_fn is not None:
        check_callable(loss_fn, "loss_fn")
    num_steps = check_int(num_steps, "num_steps", minimum=0)
    if divergence_factor is not None:
        divergence_factor = check_positive(divergence_factor, "divergence_factor")
        if loss_fn is None:
            raise ValueError("divergence_factor needs loss_fn: the rule compares the loss with its "
                             "value at theta0; pass loss_fn=... as well.")
    theta = Optimizer._params(theta0, "theta0")
    state = optimizer.init(theta)
    thetas = np.empty((num_steps + 1,) + theta.shape)
    thetas[0] = theta

    g0 = grad_fn(theta.copy())
    g0_arr = np.asarray(g0, dtype=float)
    check_same_shape(g0_arr, theta, "grad_fn(theta0)", "theta0")
    if not (isinstance(g0, np.ndarray) and g0.dtype == np.float64):
        user_grad = grad_fn

        def grad_fn(th):  # noqa: F811 - a float64 array for the in-place kernels
            return np.asarray(user_grad(th), dtype=float)

    step = optimizer.update_inplace
    k = 0
    with np.errstate(all="ignore"):
        try:
            if theta.ndim == 1 and theta.size <= _SMALL:
                k, theta, state = _small_path(optimizer, grad_fn, theta, state, thetas)
            else:
                for k in range(1, num_steps + 1):
                    theta, state = step(theta, grad_fn(theta), state)
                    thetas[k] = theta
        except (ValueError, FloatingPointError, OverflowError):
            # a checked grad_fn refusing a NaN θ: that is divergence, anything else is a bug
            if np.all(np.isfinite(theta)):
                raise
            thetas[k] = np.nan
        finite = np.isfinite(thetas.reshape(num_steps + 1, -1)).all(axis=1)
        losses = None
        if loss_fn is not None:
            losses = np.full(num_steps + 1, np.nan)
            for i in range(num_steps + 1):
                if not finite[i]:
                    break
                losses[i] = loss_fn(thetas[i])
            if divergence_factor is not None and finite[0] and np.isfinite(losses[0]):
                # the descent rule: cut just after the first loss above the limit (kept in the path)
                ok = int(np.argmin(finite)) if not finite.all() else num_steps + 1   # finite θ before
                over = first_divergent(losses[1:ok], divergence_limit(losses[0], divergence_factor))
                if over is not None:
                    over += 1
                    message = (f"diverged at step {over}: the loss {losses[over]:.3g} passed "
                               f"{divergence_factor:g}·max(|f(θ0)|, 1) after {over} steps of "
                               f"{optimizer!r}. The learning rate is probably too large for this "
                               f"function; try a smaller lr.")
                    return Trajectory(thetas[:over + 1].copy(), losses[:over + 1].copy(), state, over,
                                      True, "diverged", message)
            finite &= np.isfinite(losses)
    if finite.all():
        return Trajectory(thetas, losses, state, num_steps, False, "num_steps",
                          f"ran {num_steps} steps of {optimizer!r}.")
    bad = int(np.argmin(finite))
    if bad == 0:
        raise ValueError(f"loss_fn(theta0) must be a finite number, but got {losses[0]}.")
    what = "θ" if not np.all(np.isfinite(thetas[bad])) else "the loss"
    message = (f"diverged at step {bad}: {what} became NaN or inf after {bad} steps of {optimizer!r}. "
               f"The learning rate is probably too large for this function; try a smaller lr.")
    return Trajectory(thetas[:bad].copy(), None if losses is None else losses[:bad].copy(), state,
                      bad - 1, True, "diverged", message)
