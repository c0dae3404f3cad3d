"""Exercises for lesson 6, momentum, RMSProp and Adam (``torch.optim``'s formulas).

``momentum_step(theta, grad, velocity, lr, mu)``
    ``(theta, velocity)``: b ← μb + g; θ ← θ − αb (no dampening).
``rmsprop_step(theta, grad, s, lr, rho, eps)``
    ``(theta, s)``: s ← ρs + (1 − ρ)g²; θ ← θ − αg/(√s + ε).
``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)``
    ``(theta, m, v, t + 1)``, where ``t`` counts the steps taken before this
    call (0 at the start): m ← β1m + (1 − β1)g; v ← β2v + (1 − β2)g²;
    m̂ = m/(1 − β1^(t+1)); v̂ = v/(1 − β2^(t+1)); θ ← θ − α·m̂/(√v̂ + ε).

Each check calls the learner's step several times in a row, passing back the
state the previous call returned (as a training loop does), so state bugs
show: a velocity that is not carried, a step counter that never moves.
"""

from __future__ import annotations

import numpy as np

from ._calls import Steps
from ._compare import _kind, compare_values
from ._core import Exercise, Mistake

__all__ = ["momentum_step", "rmsprop_step", "adam_step", "EXERCISES"]

PREAMBLE = "import numpy as np\n"



def _compare_steps(fn_name, names, rtol=1e-6, atol=1e-10, nan_note=""):
    def compare(got, expected):
        if not isinstance(got, (tuple, list)):
            return "the check could not read your results."
        calls = len(expected)
        for k, ref in enumerate(expected):
            later = "" if k == 0 else (f" (call {k + 1} of {calls}: each call gets back the "
                                       f"state your previous call returned)")
            if k >= len(got):
                return f"your function stopped returning results after call {k}."
            rec = got[k]
            if isinstance(ref, dict):       # a named mistake that raised here
                return None if isinstance(rec, dict) else "a different answer."
            if isinstance(rec, dict):
                return f"your function raised {rec.get('error', 'an error')}{later}"
            if rec is None:
                return f"your function returned None: did you forget a `return`?{later}"
            if not isinstance(rec, (tuple, list)) or len(rec) != len(names):
                return (f"{fn_name} should return {len(names)} values, ({', '.join(names)}), "
                        f"but got {_kind(rec)}{later}.")
            for name, value, want in zip(names, rec, ref):
                label = f"the {name} returned by call {k + 1} of {calls}"
                problem = compare_values(value, want, rtol=rtol, atol=atol, name=label)
                if problem:
                    if nan_note and "NaN or inf" in problem:
                        problem = problem.rstrip(".") + f": {nan_note}"
                    return problem.rstrip(".") + (later or ".")
        return None
    return compare


# --- momentum_step --------------------------------------------------------------

def _momentum_step(theta, grad, velocity, lr, mu):
    velocity = mu * velocity + grad          # b ← μb + g  (torch.optim.SGD, no dampening)
    theta = theta - lr * velocity            # θ ← θ − αb
    return theta, velocity


def _momentum_cases(rng):
    cases = [(np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.zeros(2), 0.1, 0.9),
             (np.zeros(3), np.array([1.0, -1.0, 2.0]), np.array([0.5, 0.5, -0.5]), 0.05, 0.5)]
    for _ in range(2):
        n = int(rng.integers(2, 6))
        cases.append((rng.normal(size=n), rng.normal(size=n), rng.normal(scale=0.5, size=n),
                      float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.6, 0.95))))
    return cases


def _momentum_variant(kind):
    def variant(theta, grad, velocity, lr, mu):
        new_v = mu * velocity + grad
        if kind == "ema":
            new_v = mu * velocity + (1 - mu) * grad
            return theta - lr * new_v, new_v
        if kind == "stale":
            return theta - lr * new_v, velocity
        if kind == "sign":
            return theta + lr * new_v, new_v
        if kind == "old_velocity":
            return theta - lr * velocity, new_v
        if kind == "nesterov":
            return theta - lr * (grad + mu * new_v), new_v
        raise ValueError(kind)
    return variant


momentum_step = Exercise(
    "lesson06.momentum_step",
    _momentum_step,
    cases=_momentum_cases,
    run=Steps(1),
    compare=_compare_steps("momentum_step", ("theta", "velocity")),
    rtol=1e-6,
    mistakes=[
        Mistake("that is the EMA form b ← μb + (1−μ)g; this course follows torch.optim: "
                "b ← μb + g", _momentum_variant("ema")),
        Mistake("the velocity is not carried: you return the velocity you were given, so the "
                "next call starts from a stale one; return the new b = μb + g",
                _momentum_variant("stale")),
        Mistake("looks like the sign is flipped: θ ← θ − αb, you moved uphill (θ + αb)",
                _momentum_variant("sign")),
        Mistake("θ was updated with the old velocity: first b ← μb + g, then θ ← θ − αb with "
                "the new b", _momentum_variant("old_velocity")),
        Mistake("that is Nesterov's step θ ← θ − α(g + μb); plain momentum is θ ← θ − αb",
                _momentum_variant("nesterov")),
    ],
    hints=[
        "Two lines, in this order: the new velocity `velocity = mu * velocity + grad`, then "
        "`theta = theta - lr * velocity`.",
        "Return both, `return theta, velocity`: the caller passes the velocity back in at the "
        "next step.",
    ],
)


# --- rmsprop_step -----------------------------------------------------------------

def _rmsprop_step(theta, grad, s, lr, rho, eps):
    s = rho * s + (1 - rho) * grad ** 2              # running mean of g², per parameter
    theta = theta - lr * grad / (np.sqrt(s) + eps)   # ε outside the square root
    return theta, s


def _rmsprop_cases(rng):
    cases = [(np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.zeros(2), 0.1, 0.9, 1e-8),
             (np.array([0.5, 0.5, -1.0]), np.array([0.2, -0.1, 0.4]), np.array([0.05, 0.2, 0.1]),
              0.05, 0.8, 0.1),
             (np.array([2.0, -1.0]), np.array([2e-4, -1e-4]), np.zeros(2), 0.01, 0.99, 1e-8)]
    for eps in (1e-8, 1e-3):
        n = int(rng.integers(2, 6))
        cases.append((rng.normal(size=n), rng.normal(scale=0.01, size=n),
                      rng.uniform(0.0, 1e-4, size=n), float(rng.uniform(0.01, 0.1)),
                      float(rng.uniform(0.8, 0.99)), eps))
    return cases


def _rmsprop_variant(kind):
    def variant(theta, grad, s, lr, rho, eps):
        new_s = rho * s + (1 - rho) * grad ** 2
        if kind == "eps_inside":
            return theta - lr * grad / np.sqrt(new_s + eps), new_s
        if kind == "no_sqrt":
            return theta - lr * grad / (new_s + eps), new_s
        if kind == "stale":
            return theta - lr * grad / (np.sqrt(new_s) + eps), s
        if kind == "swapped":
            new_s = (1 - rho) * s + rho * grad ** 2
            return theta - lr * grad / (np.sqrt(new_s) + eps), new_s
        if kind == "sign":
            return theta + lr * grad / (np.sqrt(new_s) + eps), new_s
        if kind == "old_s":
            return theta - lr * grad / (np.sqrt(s) + eps), new_s
        if kind == "adagrad":
            new_s = s + grad ** 2
            return theta - lr * grad / (np.sqrt(new_s) + eps), new_s
        raise ValueError(kind)
    return variant


rmsprop_step = Exercise(
    "lesson06.rmsprop_step",
    _rmsprop_step,
    cases=_rmsprop_cases,
    run=Steps(1),
    compare=_compare_steps("rmsprop_step", ("theta", "s")),
    rtol=1e-6,
    mistakes=[
        Mistake("ε inside the square root: torch.optim adds ε after it, θ ← θ − αg/(√s + ε)",
                _rmsprop_variant("eps_inside")),
        Mistake("the square root is missing: divide by √s + ε, not s + ε",
                _rmsprop_variant("no_sqrt")),
        Mistake("s is not carried: you return the s you were given; return the new "
                "s = ρs + (1 − ρ)g²", _rmsprop_variant("stale")),
        Mistake("ρ and 1 − ρ are swapped: s ← ρs + (1 − ρ)g² keeps most of the old s",
                _rmsprop_variant("swapped")),
        Mistake("looks like the sign is flipped: θ ← θ − αg/(√s + ε)", _rmsprop_variant("sign")),
        Mistake("θ was updated with the old s: update s first, then divide by the new √s + ε",
                _rmsprop_variant("old_s")),
        Mistake("that is AdaGrad's s ← s + g²; RMSProp keeps a running mean, "
                "s ← ρs + (1 − ρ)g²", _rmsprop_variant("adagrad")),
    ],
    hints=[
        "First the running mean of the squared gradient, `s = rho * s + (1 - rho) * grad ** 2`.",
        "Then `theta = theta - lr * grad / (np.sqrt(s) + eps)` (ε outside the root), and "
        "`return theta, s`.",
    ],
)


# --- adam_step ----------------------------------------------------------------------

def _adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
    t = t + 1                                    # the number of this step: 1, 2, 3, ...
    m = beta1 * m + (1 - beta1) * grad           # momentum: mean of g
    v = beta2 * v + (1 - beta2) * grad ** 2      # RMS: mean of g²
    m_hat = m / (1 - beta1 ** t)                 # bias correction (m and v start at 0)
    v_hat = v / (1 - beta2 ** t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v, t


def _adam_cases(rng):
    cases = [(np.array([1.0, -1.0]), np.array([0.1, -0.2]), np.zeros(2), np.zeros(2), 0,
              0.1, 0.9, 0.999, 1e-8),
             (np.array([0.5, 2.0, -1.0]), np.array([1e-4, -3e-4, 2e-4]), np.zeros(3), np.zeros(3),
              0, 0.01, 0.9, 0.999, 1e-8),
             (np.array([0.3, -0.7]), np.array([0.4, 0.1]), np.array([0.05, -0.02]),
              np.array([0.01, 0.002]), 5, 0.05, 0.8, 0.99, 1e-3)]
    for t in (0, int(rng.integers(1, 20))):
        n = int(rng.integers(2, 6))
        cases.append((rng.normal(size=n), rng.normal(scale=0.5, size=n),
                      rng.normal(scale=0.1, size=n) if t else np.zeros(n),
                      rng.uniform(0.001, 0.1, size=n) if t else np.zeros(n), t,
                      float(rng.uniform(0.001, 0.1)), float(rng.uniform(0.8, 0.95)),
                      float(rng.uniform(0.99, 0.9999)), float(rng.choice([1e-8, 1e-4, 1e-2]))))
    return cases


def _adam_variant(kind):
    def variant(theta, grad, m, v, t, lr, beta1, beta2, eps):
        step = t if kind == "t_not_t_plus_1" else t + 1
        new_m = beta1 * m + (1 - beta1) * grad
        new_v = beta2 * v + (1 - beta2) * grad ** 2
        m_hat = new_m / (1 - beta1 ** step)
        v_hat = new_v / (1 - beta2 ** step)
        if kind == "no_correction":
            m_hat, v_hat = new_m, new_v
        if kind == "eps_inside":
            new_theta = theta - lr * m_hat / np.sqrt(v_hat + eps)
        elif kind == "sign":
            new_theta = theta + lr * m_hat / (np.sqrt(v_hat) + eps)
        else:
            new_theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        if kind == "counter":
            return new_theta, new_m, new_v, t
        if kind == "not_carried":
            return new_theta, m, v, t + 1
        if kind == "stores_hat":
            return new_theta, m_hat, v_hat, t + 1
        return new_theta, new_m, new_v, t + 1
    return variant


adam_step = Exercise(
    "lesson06.adam_step",
    _adam_step,
    cases=_adam_cases,
    run=Steps(3, zero_note=(
        4, 0, "at t = 0, 1 − β^t is 0: bias-correct with t + 1, the number of the step being taken")),
    compare=_compare_steps("adam_step", ("theta", "m", "v", "t"), nan_note=(
        "a division by zero? On a first step (t = 0), 1 − β^t is 0: bias-correct with t + 1, "
        "the number of the step being taken")),
    rtol=1e-6,
    mistakes=[
        Mistake("no bias correction: m and v start at 0, so divide them by (1 − β1^(t+1)) and "
                "(1 − β2^(t+1)) before the step", _adam_variant("no_correction")),
        Mistake("ε inside the square root: Adam adds ε after it, θ ← θ − α·m̂/(√v̂ + ε)",
                _adam_variant("eps_inside")),
        Mistake("the step counter is not incremented: return t + 1, so the next call "
                "bias-corrects for the next step", _adam_variant("counter")),
        Mistake("the state is not carried: you return the m and v you were given; return the "
                "new m and v, which the next call needs", _adam_variant("not_carried")),
        Mistake("the bias correction uses t instead of t + 1: t counts the steps before this "
                "call, so this step is number t + 1 (at t = 0, 1 − β^0 = 0 divides by zero)",
                _adam_variant("t_not_t_plus_1")),
        Mistake("looks like the sign is flipped: θ ← θ − α·m̂/(√v̂ + ε)", _adam_variant("sign")),
        Mistake("you returned the bias-corrected m̂ and v̂ as the state: carry the raw m and v, "
                "correct them afresh at each step", _adam_variant("stores_hat")),
    ],
    hints=[
        "This is step number `t + 1`. Update the two running means: "
        "`m = beta1 * m + (1 - beta1) * grad` and `v = beta2 * v + (1 - beta2) * grad ** 2`.",
        "Bias correction: `m_hat = m / (1 - beta1 ** (t + 1))`, "
        "`v_hat = v / (1 - beta2 ** (t + 1))`; then "
        "`theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)`.",
        "Return the raw state and the new count: `return theta, m, v, t + 1`.",
    ],
)

EXERCISES = (momentum_step, rmsprop_step, adam_step)
