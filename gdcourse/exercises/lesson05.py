"""Exercises for lesson 5, vanishing and exploding gradients.

``sigmoid_derivative(z)``
    σ'(z) = σ(z)(1 − σ(z)) element-wise, same shape as z, with no overflow for
    large |z| (no NaN, no RuntimeWarning).
``xavier_init(fan_in, fan_out, seed)``
    W of shape (fan_in, fan_out) drawn from N(0, 2/(fan_in + fan_out)) with
    ``np.random.default_rng(seed)``.
``he_init(fan_in, fan_out, seed)``
    W of shape (fan_in, fan_out) drawn from N(0, 2/fan_in).
``clip_by_norm(grads, max_norm)``
    a new list of arrays: all of them scaled by max_norm / ‖g‖ when the global
    norm ‖g‖ = √(Σ over every array of Σ g²) exceeds max_norm, unchanged
    otherwise; the input arrays stay as they were.
``backward_pass(params, X, y)``
    backpropagation through a small MLP (sigmoid hidden layers, a linear
    output, J = (1/2m)Σ‖ŷ − y‖²): a list of ``(dW, db)`` per layer, input
    layer first, from δ^L = (ŷ − y)/m, dW^l = (a^{l−1})ᵀδ^l, db^l = Σ_i δ^l_i and
    δ^{l−1} = (δ^l (W^l)ᵀ) ⊙ σ'(z^{l−1}); the same as
    ``gdcourse.deepnet.backward(params, forward(params, X, "sigmoid"), y)``.

The initialisers are random, so their check compares statistics on large
layers (standard deviation within a few per cent, mean ≈ 0, the normal
shape) plus the shape, reproducibility and the effect of the seed.
"""

from __future__ import annotations

import numpy as np

from ._calls import Reseeded, Warnings
from ._compare import _kind, compare_values
from ._core import Exercise, Mistake
from ._shared import seed as _seed

__all__ = ["sigmoid_derivative", "xavier_init", "he_init", "clip_by_norm", "backward_pass",
           "EXERCISES"]

PREAMBLE = "import numpy as np\n"


# --- sigmoid_derivative --------------------------------------------------------

def _sigmoid_derivative(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))               # in (0, 1]: never overflows
    # σ(z)(1 − σ(z)) = e^{−z}/(1 + e^{−z})², and the same with |z| (σ'(−z) = σ'(z))
    return e / (1.0 + e) ** 2


def _compare_derivative(got, expected):
    value, texts = got
    ref, ref_texts = expected
    problem = compare_values(value, ref, rtol=1e-7, atol=1e-12, name="your σ'(z)")
    if problem and "NaN or inf" in problem:
        return (problem.rstrip(".") + ": for large |z|, np.exp(±z) overflows to inf and inf/inf "
                "is NaN; build it from np.exp(-np.abs(z)), which never overflows")
    if problem:
        return problem
    if texts and not ref_texts:
        return (f"the values are right, but numpy warned '{texts[0]}' for large |z|: "
                f"np.exp(-z) overflows when z is very negative; compute σ from np.exp(-np.abs(z)) "
                f"(or split z ≥ 0 and z < 0) so nothing overflows")
    if bool(texts) != bool(ref_texts):
        return "the warnings differ."
    return None


def _derivative_cases(rng):
    cases = [(np.array([0.0]),), (np.array([-2.0, -1.0, 0.0, 1.0, 2.0]),),
             (np.array([-1000.0, -50.0, -5.0, 0.0, 5.0, 50.0, 1000.0]),),
             (np.array([[0.5, -0.5, 3.0], [-3.0, 10.0, -10.0]]),)]
    for shape in ((int(rng.integers(3, 9)),), (int(rng.integers(2, 5)), int(rng.integers(2, 5)))):
        cases.append((rng.normal(scale=6.0, size=shape),))
    return cases


def _naive_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


sigmoid_derivative = Exercise(
    "lesson05.sigmoid_derivative",
    _sigmoid_derivative,
    cases=_derivative_cases,
    run=Warnings(),
    compare=_compare_derivative,
    mistakes=[
        Mistake("you returned σ(z) itself: the (1 − σ(z)) factor is missing; "
                "σ'(z) = σ(z)(1 − σ(z))", _naive_sigmoid),
        Mistake("you computed z(1 − z): the formula applies to σ(z), not z; "
                "σ'(z) = σ(z)(1 − σ(z))", lambda z: z * (1 - z)),
        Mistake("you returned 1 − σ(z): the σ(z) factor is missing",
                lambda z: 1 - _naive_sigmoid(z)),
        Mistake("you squared σ(z): it is σ(z)·(1 − σ(z)), not σ(z)²",
                lambda z: _naive_sigmoid(z) ** 2),
        Mistake("the values are right, but 1/(1 + np.exp(-z)) overflows for very negative z "
                "(a RuntimeWarning); build σ from np.exp(-np.abs(z)) so nothing overflows",
                lambda z: _naive_sigmoid(z) * (1 - _naive_sigmoid(z))),
    ],
    hints=[
        "First σ(z) = 1/(1 + e^(−z)), then σ'(z) = σ(z)·(1 − σ(z)); it is largest, 1/4, at z = 0.",
        "`np.exp(-z)` overflows for z = −1000. With `e = np.exp(-np.abs(z))` (always ≤ 1), "
        "σ'(z) = e / (1 + e)² for every z, since σ' is symmetric.",
    ],
)


# --- xavier_init and he_init ------------------------------------------------------

def _xavier_init(fan_in, fan_out, seed):
    rng = np.random.default_rng(seed)
    std = np.sqrt(2.0 / (fan_in + fan_out))        # the variance is 2/(fan_in + fan_out)
    return rng.normal(0.0, std, size=(fan_in, fan_out))


def _he_init(fan_in, fan_out, seed):
    rng = np.random.default_rng(seed)
    std = np.sqrt(2.0 / fan_in)                    # the variance is 2/fan_in (for ReLU)
    return rng.normal(0.0, std, size=(fan_in, fan_out))


_HEAD = 64          # entries compared for "same seed, same weights"
_STATS_MIN = 1000   # fewer weights than this: no statistics, only shape and seed
_STD_RTOL = 0.04    # sample standard deviations of two draws agree within 4 %
_KURT_TOL = 0.35    # normal 3.0, uniform 1.8


def _head(W):
    return W.ravel()[:_HEAD].copy() if isinstance(W, np.ndarray) else W


def _init_stats(W):
    x = np.asarray(W, dtype=float).ravel()
    mean, std = float(np.mean(x)), float(np.std(x))
    kurt = float(np.mean(((x - mean) / std) ** 4)) if std > 0 else 0.0
    return mean, std, kurt


def _compare_init(got, expected):
    W, again, other = got
    R, r_again, r_other = expected
    if W is None:
        return "your function returned None: did you forget a `return`?"
    if not isinstance(W, np.ndarray) or W.dtype.kind not in "biuf":
        return f"W should be a NumPy array of shape {R.shape}, but got a {type(W).__name__}."
    if W.shape != R.shape:
        msg = f"W should have shape (fan_in, fan_out) = {R.shape}, but got {W.shape}"
        if W.shape == R.shape[::-1]:
            msg += ": the shape is transposed, (fan_out, fan_in)"
        return msg + "."
    if W.dtype.kind != "f":
        return f"W has integer dtype {W.dtype}: draw real numbers (rng.normal)."
    if not np.all(np.isfinite(W)):
        return "W contains NaN or inf values."
    if R.size >= _STATS_MIN:
        mean, std, kurt = _init_stats(W)
        r_mean, r_std, r_kurt = _init_stats(R)
        if abs(mean - r_mean) > 0.05 * r_std:
            return (f"W is not centred on 0: its mean is {mean:.3g}, {abs(mean) / std:.2g} "
                    f"standard deviations away; draw from a normal with mean 0.")
        if r_std == 0 or abs(std / r_std - 1) > _STD_RTOL:
            ratio = std / r_std if r_std else float("inf")
            return (f"the spread of W is wrong: its standard deviation is {ratio:.3g} times the "
                    f"right one.")
        if abs(kurt - r_kurt) > _KURT_TOL:
            return (f"W does not look normal (its kurtosis is {kurt:.2f}; a normal has 3 and a "
                    f"uniform 1.8): draw with rng.normal.")
    same = isinstance(again, np.ndarray) and np.array_equal(again, _head(W))
    r_same = isinstance(r_again, np.ndarray) and np.array_equal(r_again, _head(R))
    if same != r_same:
        return ("not reproducible: the same seed gave different weights; draw from "
                "np.random.default_rng(seed).") if r_same else "a different answer."
    moved = not (isinstance(other, np.ndarray) and np.array_equal(other, _head(W)))
    r_moved = not (isinstance(r_other, np.ndarray) and np.array_equal(r_other, _head(R)))
    if moved != r_moved:
        return ("the seed is ignored: seed and seed + 1 gave the same weights; use "
                "np.random.default_rng(seed).") if r_moved else "a different answer."
    return None


def _init_cases(rng):
    cases = [(3, 2, 0), (500, 200, 1), (150, 400, 2)]
    for _ in range(2):
        fan_in, fan_out = (int(v) for v in rng.choice(np.arange(200, 451), size=2, replace=False))
        cases.append((fan_in, fan_out, _seed(rng)))
    return cases


def _normal(std_of):
    def init(fan_in, fan_out, seed):
        return np.random.default_rng(seed).normal(0.0, std_of(fan_in, fan_out),
                                                  size=(fan_in, fan_out))
    return init


def _transposed(std_of):
    def init(fan_in, fan_out, seed):
        return np.random.default_rng(seed).normal(0.0, std_of(fan_in, fan_out),
                                                  size=(fan_out, fan_in))
    return init


def _uniform(bound_of):
    def init(fan_in, fan_out, seed):
        a = bound_of(fan_in, fan_out)
        return np.random.default_rng(seed).uniform(-a, a, size=(fan_in, fan_out))
    return init


_XAVIER_STD = lambda fi, fo: np.sqrt(2.0 / (fi + fo))  # noqa: E731
_HE_STD = lambda fi, fo: np.sqrt(2.0 / fi)  # noqa: E731

xavier_init = Exercise(
    "lesson05.xavier_init",
    _xavier_init,
    cases=_init_cases,
    run=Reseeded(head=_HEAD),
    compare=_compare_init,
    mistakes=[
        Mistake("a wrong fan: you used 2/fan_in (that is He's variance); Xavier averages the "
                "two fans, Var = 2/(fan_in + fan_out)", _normal(lambda fi, fo: np.sqrt(2.0 / fi))),
        Mistake("a wrong fan: you used 2/fan_out; Xavier averages the two fans, "
                "Var = 2/(fan_in + fan_out)", _normal(lambda fi, fo: np.sqrt(2.0 / fo))),
        Mistake("you used the variance as the standard deviation: rng.normal takes the std, "
                "√(2/(fan_in + fan_out))", _normal(lambda fi, fo: 2.0 / (fi + fo))),
        Mistake("the shape is transposed: W should be (fan_in, fan_out)", _transposed(_XAVIER_STD)),
        Mistake("uniform with the wrong bound: U(−a, a) has variance a²/3, so a = √(2/(fan_in + "
                "fan_out)) gives too small a spread; this exercise asks for the normal "
                "N(0, 2/(fan_in + fan_out))", _uniform(_XAVIER_STD)),
        Mistake("that is the uniform form of Xavier, U(±√(6/(fan_in + fan_out))): the right "
                "variance, but this exercise asks for the normal N(0, 2/(fan_in + fan_out))",
                _uniform(lambda fi, fo: np.sqrt(6.0 / (fi + fo)))),
        Mistake("unit standard deviation (the naive init): scale the draws by "
                "√(2/(fan_in + fan_out))", _normal(lambda fi, fo: 1.0)),
    ],
    hints=[
        "Xavier/Glorot keeps the variance of the signal the same forwards and backwards: "
        "Var(W) = 2/(fan_in + fan_out).",
        "`rng = np.random.default_rng(seed)`, then `rng.normal(0.0, std, size=(fan_in, fan_out))`; "
        "`rng.normal` takes the standard deviation, √Var.",
    ],
)

he_init = Exercise(
    "lesson05.he_init",
    _he_init,
    cases=_init_cases,
    run=Reseeded(head=_HEAD),
    compare=_compare_init,
    mistakes=[
        Mistake("a wrong fan: you used fan_out; He's variance is 2/fan_in",
                _normal(lambda fi, fo: np.sqrt(2.0 / fo))),
        Mistake("that is Xavier's formula, 2/(fan_in + fan_out); He's variance is 2/fan_in "
                "(ReLU zeroes half the signal, so it needs twice 1/fan_in)", _normal(_XAVIER_STD)),
        Mistake("you used the variance as the standard deviation: rng.normal takes the std, "
                "√(2/fan_in)", _normal(lambda fi, fo: 2.0 / fi)),
        Mistake("the shape is transposed: W should be (fan_in, fan_out)", _transposed(_HE_STD)),
        Mistake("the 2 is missing: 1/fan_in is LeCun's variance; He's is 2/fan_in",
                _normal(lambda fi, fo: np.sqrt(1.0 / fi))),
        Mistake("unit standard deviation (the naive init): scale the draws by √(2/fan_in)",
                _normal(lambda fi, fo: 1.0)),
    ],
    hints=[
        "ReLU zeroes about half of its inputs, so He doubles LeCun's 1/fan_in: Var(W) = 2/fan_in.",
        "`np.random.default_rng(seed).normal(0.0, np.sqrt(2 / fan_in), size=(fan_in, fan_out))`.",
    ],
)


# --- clip_by_norm ---------------------------------------------------------------

def _clip_by_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))   # one norm over every array
    if total > max_norm:
        return [g * (max_norm / total) for g in grads]
    return [g.copy() for g in grads]


def _compare_clip(got, expected):
    out, ref = got, expected
    if out is None:
        return "your function returned None: did you forget a `return`?"
    if isinstance(out, np.ndarray):
        return (f"the result should be a list of {len(ref)} array(s), one per input array, "
                f"but got one array of shape {out.shape}.")
    if not isinstance(out, (list, tuple)):
        return (f"the result should be a list of {len(ref)} array(s), but got a "
                f"{type(out).__name__}.")
    if (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], (list, tuple))
            and len(out[0]) == len(ref) and np.ndim(out[1]) == 0):
        return ("you returned a pair (clipped, norm), like gdcourse.deepnet.clip_by_norm: "
                "this exercise asks for the clipped list only, so return only the list.")
    if len(out) != len(ref):
        return (f"the result should hold {len(ref)} array(s), one per input array, but holds "
                f"{len(out)}.")
    for i, (g, r) in enumerate(zip(out, ref)):
        problem = compare_values(g, r, rtol=1e-5, atol=1e-9, name=f"array {i} of your result")
        if problem:
            return problem
    return None


def _clip_cases(rng):
    cases = [([np.array([3.0, 4.0])], 1.0),                           # ‖g‖ = 5 → [0.6, 0.8]
             ([np.array([3.0, 4.0]), np.array([[12.0]])], 6.5),       # ‖g‖ = 13 → halved
             ([np.array([0.3, 0.4]), np.array([0.0, -1.2])], 2.0),   # ‖g‖ = 1.3: unchanged
             ([np.array([[1.0, -2.0], [2.0, 0.5]]), np.array([-4.0])], 3.0),
             # the clip window: √max_norm < ‖g‖ ≤ max_norm (unchanged, though ‖g‖² > max_norm)
             ([np.array([2.0, -2.0]), np.array([1.0])], 4.0),        # ‖g‖ = 3
             ([np.array([0.6, 0.8])], 1.0),                           # ‖g‖ = max_norm exactly
             # and max_norm < ‖g‖ < √max_norm (clipped, though ‖g‖² < max_norm)
             ([np.array([0.18, -0.24])], 0.25)]                       # ‖g‖ = 0.3
    for scale in (5.0, 0.1):
        grads = [rng.normal(scale=scale, size=(int(rng.integers(2, 5)), int(rng.integers(2, 5)))),
                 rng.normal(scale=scale, size=int(rng.integers(2, 6))),
                 rng.normal(scale=scale, size=(int(rng.integers(1, 4)),))]
        cases.append((grads, float(rng.uniform(1.0, 3.0))))
    return cases


def _clip_variant(kind):
    def variant(grads, max_norm):
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        if kind == "elementwise":
            return [np.clip(g, -max_norm, max_norm) for g in grads]
        if kind == "each":
            return [g * (max_norm / np.linalg.norm(g)) if np.linalg.norm(g) > max_norm else g.copy()
                    for g in grads]
        if kind == "always":
            return [g * (max_norm / total) for g in grads]
        if kind == "inverted":
            return [g * (total / max_norm) if total > max_norm else g.copy() for g in grads]
        raise ValueError(kind)
    return variant


clip_by_norm = Exercise(
    "lesson05.clip_by_norm",
    _clip_by_norm,
    cases=_clip_cases,
    compare=_compare_clip,
    rtol=1e-5,
    mistakes=[
        Mistake("you clipped per element (np.clip) instead of by norm: that changes the "
                "gradient's direction; scale every array by max_norm / ‖g‖",
                _clip_variant("elementwise")),
        Mistake("you clipped each array by its own norm: the norm is global, "
                "‖g‖ = √(Σ over all arrays of Σ g²), and one factor scales them all",
                _clip_variant("each")),
        Mistake("you always rescale to max_norm: clip only when the global norm exceeds "
                "max_norm, otherwise return the gradients unchanged", _clip_variant("always")),
        Mistake("the factor is upside down: scale by max_norm / ‖g‖ (≤ 1), not ‖g‖ / max_norm",
                _clip_variant("inverted")),
    ],
    hints=[
        "One global norm over all the arrays: "
        "`total = np.sqrt(sum(np.sum(g ** 2) for g in grads))`.",
        "If `total > max_norm`, multiply every array by the same `max_norm / total`; otherwise "
        "return them as they are. Build new arrays (`g * scale`), do not modify `grads`.",
    ],
)


# --- backward_pass ----------------------------------------------------------------

def _backward_pass(params, X, y):
    activations = [X]                              # a^0 = X, then a^1 ... a^L = ŷ
    for l, (W, b) in enumerate(params):
        z = activations[-1] @ W + b
        last = l == len(params) - 1
        activations.append(z if last else 1.0 / (1.0 + np.exp(-z)))   # linear output
    m = X.shape[0]
    delta = (activations[-1] - y) / m              # δ^L = ∂J/∂z^L for J = (1/2m)Σ‖ŷ − y‖²
    grads = []
    for l in range(len(params) - 1, -1, -1):
        W = params[l][0]
        a_prev = activations[l]
        grads.append((a_prev.T @ delta, delta.sum(axis=0)))
        if l > 0:                                  # δ^{l−1} = (δ^l Wᵀ) ⊙ σ'(z^{l−1})
            delta = (delta @ W.T) * a_prev * (1.0 - a_prev)
    return grads[::-1]                             # input layer first


def _compare_backward(got, expected):
    L = len(expected)
    if got is None:
        return "your function returned None: did you forget a `return`?"
    if not isinstance(got, (list, tuple)):
        return (f"the result should be a list of {L} (dW, db) pairs, one per layer, but got "
                f"{_kind(got)}.")
    if len(got) != L:
        return (f"the result should hold {L} (dW, db) pairs, one per layer (params has {L}), "
                f"but holds {len(got)}.")
    for l, (pair, (dW, db)) in enumerate(zip(got, expected), start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return (f"item {l - 1} of your result should be a pair (dW, db) for layer {l}, but "
                    f"got {_kind(pair)}.")
        for name, value, want in (("dW", pair[0], dW), ("db", pair[1], db)):
            problem = compare_values(value, want, rtol=1e-6, atol=1e-12,
                                     name=f"the {name} of layer {l} (of {L})")
            if problem:
                return problem
    return None


def _mlp(rng, sizes, scale=1.0):
    return [(rng.normal(scale=scale / np.sqrt(fi), size=(fi, fo)), rng.normal(scale=0.3, size=fo))
            for fi, fo in zip(sizes[:-1], sizes[1:])]


def _backward_cases(rng):
    fixed = np.random.default_rng(2024)            # the same fixed cases for every seed
    cases = []
    for sizes, m in (([2, 3, 1], 4), ([3, 4, 4, 2], 5), ([2, 2, 2, 2, 1], 6)):
        params = _mlp(fixed, sizes, scale=1.5)
        cases.append((params, fixed.normal(size=(m, sizes[0])),
                      fixed.normal(size=(m, sizes[-1]))))
    for _ in range(2):
        depth = int(rng.integers(2, 5))
        sizes = [int(v) for v in rng.integers(2, 6, size=depth + 1)]
        m = int(rng.integers(3, 9))
        cases.append((_mlp(rng, sizes, scale=float(rng.uniform(0.8, 2.0))),
                      rng.normal(size=(m, sizes[0])), rng.normal(size=(m, sizes[-1]))))
    return cases


def _backward_variant(kind):
    def variant(params, X, y):
        sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
        activations = [X]
        for l, (W, b) in enumerate(params):
            z = activations[-1] @ W + (0.0 if kind == "no_bias" else b)
            last = l == len(params) - 1
            activations.append(sig(z) if (not last or kind == "sigmoid_output") else z)
        m = X.shape[0]
        delta = activations[-1] - y
        if kind != "sum":
            delta = delta / m
        if kind == "sigmoid_output":
            delta = delta * activations[-1] * (1.0 - activations[-1])
        grads = []
        for l in range(len(params) - 1, -1, -1):
            W = params[l][0]
            a_prev = activations[l]
            dW = delta.T @ a_prev if kind == "transposed" else a_prev.T @ delta
            db = delta.mean(axis=0) if kind == "db_mean" else delta.sum(axis=0)
            grads.append((dW, db))
            if l > 0:
                back = delta @ W.T
                if kind == "no_fprime":
                    delta = back
                elif kind == "fprime_of_a":
                    delta = back * sig(a_prev) * (1.0 - sig(a_prev))
                else:
                    delta = back * a_prev * (1.0 - a_prev)
        return grads if kind == "reversed" else grads[::-1]
    return variant


backward_pass = Exercise(
    "lesson05.backward_pass",
    _backward_pass,
    cases=_backward_cases,
    compare=_compare_backward,
    rtol=1e-6,
    mistakes=[
        Mistake("the f′ factor is missing: going down a layer, δ^{l−1} = (δ^l Wᵀ) ⊙ σ′(z^{l−1}), "
                "not just δ^l Wᵀ", _backward_variant("no_fprime")),
        Mistake("σ′ was taken of the activation a instead of the pre-activation z: "
                "σ′(z) = σ(z)(1 − σ(z)) = a(1 − a), so use a_prev * (1 - a_prev)",
                _backward_variant("fprime_of_a")),
        Mistake("the 1/m is missing: J averages over the m samples, so δ^L = (ŷ − y)/m",
                _backward_variant("sum")),
        Mistake("the list is output layer first: return it input layer first, "
                "[(dW¹, db¹), …, (dW^L, db^L)] (reverse the list you built going down)",
                _backward_variant("reversed")),
        Mistake("dW is transposed: dW^l = (a^{l−1})ᵀ δ^l has W's shape (fan_in, fan_out)",
                _backward_variant("transposed")),
        Mistake("db averages δ over the samples: the 1/m is already in δ, so db^l = Σ_i δ^l_i "
                "(delta.sum(axis=0))", _backward_variant("db_mean")),
        Mistake("the output layer is linear (ŷ = z^L): apply the sigmoid to the hidden layers "
                "only, so δ^L = (ŷ − y)/m has no σ′ factor", _backward_variant("sigmoid_output")),
        Mistake("the forward pass ignores the biases: z^l = a^{l−1}W^l + b^l",
                _backward_variant("no_bias")),
    ],
    hints=[
        "Forward first, keeping every activation: `a = [X]`, then for each layer "
        "`z = a[-1] @ W + b` and append σ(z), except the last layer, which appends z itself.",
        "Backward from `delta = (a[-1] - y) / m`: for layer l (last to first) append "
        "`(a[l].T @ delta, delta.sum(axis=0))`, then, if l > 0, "
        "`delta = (delta @ W.T) * a[l] * (1 - a[l])` (σ′(z) = a(1 − a)).",
        "Reverse the list at the end so it is input layer first.",
    ],
)

EXERCISES = (sigmoid_derivative, xavier_init, he_init, clip_by_norm, backward_pass)
