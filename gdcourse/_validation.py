"""Argument checks whose error messages teach.

Every public function in :mod:`gdcourse` runs its arguments through the helpers
here.  A failed check raises ``ValueError`` (or ``TypeError`` for a value of the
wrong kind) with a message that names the argument, says what was expected,
shows what arrived and, where it helps, how to fix it::

    >>> check_vector([[1.0], [2.0]], "y")
    Traceback (most recent call last):
    ...
    ValueError: y must be a 1-D array of shape (m,), but got shape (2, 1). ...

Keep every such rule in this one module, so the wording stays consistent.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = [
    "as_rng",
    "check_array",
    "check_vector",
    "check_matrix",
    "check_X_y",
    "check_theta",
    "check_positive",
    "check_nonnegative",
    "check_int",
    "check_fraction",
    "check_same_shape",
    "check_choice",
    "check_flag",
    "check_callable",
    "describe",
]


def describe(value) -> str:
    """A short description of *value* for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _to_float_array(value, name: str) -> np.ndarray:
    if value is None:
        raise TypeError(f"{name} must be an array of numbers, but got None.")
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, but got the string {value!r}.")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be an array of numbers, but got {describe(value)} "
            f"that numpy cannot turn into floats ({exc})."
        ) from None
    return arr


def check_array(value, name: str, *, ndim: int | None = None, allow_empty: bool = False,
                finite: bool = True) -> np.ndarray:
    """Return *value* as a float array after checking its dimensions and contents.

    ``finite=True`` refuses NaN and inf, which otherwise spread silently
    through every later sum.
    """
    arr = _to_float_array(value, name)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array, but got {arr.ndim}-D with shape {arr.shape}."
        )
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, but got shape {arr.shape}.")
    if finite and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        where = tuple(int(i) for i in bad[0]) if arr.ndim else ()
        raise ValueError(
            f"{name} must contain only finite numbers, but {len(bad)} entr"
            f"{'y is' if len(bad) == 1 else 'ies are'} NaN or inf (first at index {where}). "
            f"Clean or drop those values first."
        )
    return arr


def check_vector(value, name: str, *, length: int | None = None,
                 length_name: str | None = None) -> np.ndarray:
    """A 1-D float vector, optionally of a given length.

    A column ``(m, 1)`` is refused rather than flattened: broadcasting it
    against an ``(m,)`` vector yields an ``(m, m)`` matrix without any warning.
    """
    arr = _to_float_array(value, name)
    if arr.ndim == 2 and 1 in arr.shape:
        raise ValueError(
            f"{name} must be a 1-D array of shape (m,), but got shape {arr.shape}. "
            f"A column or row vector broadcasts against an (m,) array into an (m, m) "
            f"matrix without any warning. Fix: pass {name}.ravel() (or {name}.reshape(-1))."
        )
    arr = check_array(arr, name, ndim=1)
    if length is not None and arr.shape[0] != length:
        what = f" ({length_name})" if length_name else ""
        raise ValueError(
            f"{name} must have length {length}{what}, but got length {arr.shape[0]}."
        )
    return arr


def check_matrix(value, name: str, *, n_cols: int | None = None) -> np.ndarray:
    """A 2-D float matrix, optionally with a given number of columns."""
    arr = _to_float_array(value, name)
    if arr.ndim == 1:
        raise ValueError(
            f"{name} must be a 2-D array of shape (m, n), but got 1-D shape {arr.shape}. "
            f"Fix: for a single feature use {name}.reshape(-1, 1); "
            f"for a single sample use {name}.reshape(1, -1)."
        )
    arr = check_array(arr, name, ndim=2)
    if n_cols is not None and arr.shape[1] != n_cols:
        raise ValueError(
            f"{name} must have {n_cols} columns, but got shape {arr.shape}."
        )
    return arr


def check_X_y(X, y, *, X_name: str = "X", y_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """A design matrix ``X`` of shape (m, n) and targets ``y`` of shape (m,)."""
    X = check_matrix(X, X_name)
    y = check_vector(y, y_name)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{X_name} and {y_name} must have the same number of rows (samples), but "
            f"{X_name} has {X.shape[0]} rows (shape {X.shape}) and {y_name} has "
            f"{y.shape[0]} (shape {y.shape})."
        )
    return X, y


def check_theta(theta, n_features: int, *, name: str = "theta") -> np.ndarray:
    """A parameter vector of shape (n,) that matches the columns of X."""
    arr = _to_float_array(theta, name)
    if arr.ndim == 2 and 1 in arr.shape:
        raise ValueError(
            f"{name} must be a 1-D array of shape ({n_features},), but got shape {arr.shape}. "
            f"Fix: pass {name}.ravel()."
        )
    arr = check_array(arr, name, ndim=1)
    if arr.shape[0] != n_features:
        raise ValueError(
            f"{name} must have one entry per column of X, shape ({n_features},), but got "
            f"shape {arr.shape}. If X has a bias column of ones, theta needs an entry for it."
        )
    return arr


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
            return _check_real(value, name)
        raise TypeError(f"{name} must be a real number, but got {describe(value)}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, but got {value}.")
    return value


def check_positive(value, name: str) -> float:
    """A finite number > 0 (a learning rate, an epsilon, a step h)."""
    value = _check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, but got {value}.")
    return value


def check_nonnegative(value, name: str) -> float:
    """A finite number >= 0 (a weight decay, a tolerance)."""
    value = _check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, but got {value}.")
    return value


def check_fraction(value, name: str, *, low: float = 0.0, high: float = 1.0,
                   include_low: bool = True, include_high: bool = False) -> float:
    """A number in an interval, [0, 1) by default (a beta, a decay rate)."""
    value = _check_real(value, name)
    lo_ok = value >= low if include_low else value > low
    hi_ok = value <= high if include_high else value < high
    if not (lo_ok and hi_ok):
        interval = f"{'[' if include_low else '('}{low:g}, {high:g}{']' if include_high else ')'}"
        raise ValueError(f"{name} must be in {interval}, but got {value}.")
    return value


def check_int(value, name: str, *, minimum: int | None = 1, maximum: int | None = None,
              max_name: str | None = None) -> int:
    """A whole number (an iteration count, a batch size), within bounds.

    ``10.0`` is refused: a float count is usually a sign of ``m / b`` where
    ``m // b`` was meant.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, but got the bool {value}.")
    try:
        ivalue = operator.index(value)
    except TypeError:
        hint = ""
        if isinstance(value, float) and value.is_integer():
            hint = f" Fix: pass int({value!r}) or use // for integer division."
        raise TypeError(f"{name} must be an integer, but got {describe(value)}.{hint}") from None
    if minimum is not None and ivalue < minimum:
        raise ValueError(f"{name} must be >= {minimum}, but got {ivalue}.")
    if maximum is not None and ivalue > maximum:
        what = f" ({max_name})" if max_name else ""
        raise ValueError(f"{name} must be <= {maximum}{what}, but got {ivalue}.")
    return ivalue


def check_same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    """Refuse two arrays whose shapes differ (a gradient and its parameters)."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{a_name} must have the same shape as {b_name}, {np.shape(b)}, "
            f"but got shape {np.shape(a)}."
        )


def check_flag(value, name: str) -> bool:
    """``value`` as a bool; a number or a string is refused, since ``"False"`` would count as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, but got {describe(value)}.")
    return bool(value)


def check_choice(value, name: str, choices) -> str:
    """One of a fixed set of names."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, but got {value!r}.")
    return value


def check_callable(value, name: str):
    """A function (a loss_fn, a grad_fn)."""
    if not callable(value):
        raise TypeError(f"{name} must be a function, but got {describe(value)}.")
    return value


def as_rng(random_state) -> np.random.Generator:
    """Turn ``random_state`` into a ``numpy.random.Generator``.

    ``None`` gives fresh, unseeded entropy; an int seeds a new generator; a
    Generator is used as it is (so the caller can share one stream).  The
    global ``np.random`` state is never touched.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, bool):
        raise TypeError(f"random_state must be None, an int or a numpy Generator, but got {random_state}.")
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, but got {random_state}.")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, an int or a numpy.random.Generator, but got "
        f"{describe(random_state)}. Fix: pass a seed such as random_state=0."
    )
