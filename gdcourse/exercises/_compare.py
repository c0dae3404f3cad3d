"""Comparing a learner's value with the expected one, and describing values.

``compare_values(got, expected)`` returns ``None`` when they match within
tolerance, else one line of feedback that never quotes the expected values.
:func:`summarise` and :func:`_kind` describe inputs and outputs in words (the
real type of what came back, even when it crossed a process boundary as an
:class:`Opaque`).  No exercise, reference or mistake lives here.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

__all__ = ["compare_values", "summarise", "Opaque"]


class Opaque:
    """A value that could not travel as data: its type's name, its length if it had one, a repr."""

    def __init__(self, type_name: str, text: str, length: int | None = None):
        self.type_name, self.text, self.length = type_name, text, length

    def describe(self) -> str:
        if self.length is not None:
            return f"a {self.type_name} of length {self.length}"
        return f"a {self.type_name}"

    def __repr__(self):
        return self.text


def summarise(value) -> str:
    """A short description of an input or output: shapes, never whole arrays."""
    if isinstance(value, np.ndarray):
        if value.size == 1 and value.ndim <= 1:
            return f"array({value.reshape(-1)[0]:.4g}, shape {value.shape})"
        return f"array of shape {value.shape}"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    if value is None:
        return "None"
    if getattr(value, "is_test_function", False):
        return "a test function f(θ)"
    if isinstance(value, Opaque):
        return value.describe()
    if callable(value):
        return "a function"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value) -> str:
    """The real type of ``value`` in words: "an array of shape (3,) and dtype int64", "a generator"."""
    if isinstance(value, Opaque):
        return value.describe()
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {bool(value)}"
    if isinstance(value, numbers.Real):
        return f"the number {float(value):.6g}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def _as_numeric_array(got):
    """``got`` as an array if it is numeric data, else ``None``."""
    if isinstance(got, (str, bytes, dict)) or got is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.asarray(got)
    except Exception:
        return None
    if arr.dtype.kind not in "biuf":
        return None
    return arr


def compare_values(got, expected, *, rtol: float = 1e-7, atol: float = 1e-9,
                   name: str = "your result", equal_nan: bool = False) -> str | None:
    """``None`` when ``got`` matches ``expected`` within tolerance, else one feedback line.

    Checks in turn: type, length (for tuples), shape, dtype, then values with
    ``np.isclose``.  The expected values are never quoted, only shapes and the
    size of the difference.
    """
    if isinstance(expected, tuple) and not isinstance(expected, np.ndarray):
        if not isinstance(got, (tuple, list)):
            return f"{name} should be a tuple of {len(expected)} values, but got {_kind(got)}."
        if len(got) != len(expected):
            return f"{name} should have {len(expected)} values, but got {len(got)}."
        for i, (g, e) in enumerate(zip(got, expected)):
            msg = compare_values(g, e, rtol=rtol, atol=atol, name=f"{name}[{i}]",
                                 equal_nan=equal_nan)
            if msg:
                return msg
        return None
    if isinstance(expected, np.ndarray):
        if got is None:
            return f"{name} is None: did you forget a `return`?"
        arr = _as_numeric_array(got)
        if arr is None:
            return (f"{name} should be a NumPy array of numbers with shape {expected.shape}, "
                    f"but got {_kind(got)}.")
        if arr.shape != expected.shape:
            msg = (f"{name} should have shape {expected.shape}, but got shape {arr.shape}")
            if arr.size == expected.size and expected.ndim == 1 and arr.ndim == 2:
                msg += ": return a flat (n,) vector, e.g. with .ravel()"
            elif arr.ndim == 2 and expected.ndim == 1 and arr.shape[0] == arr.shape[1] != 1:
                msg += (": an (m, 1) column broadcast against an (m,) vector makes an (m, m) "
                        "matrix")
            elif arr.ndim == 2 and arr.shape == expected.shape[::-1]:
                msg += ": it looks transposed"
            return msg + "."
        if expected.dtype.kind == "f" and arr.dtype.kind not in "f":
            if not np.allclose(arr, expected, rtol=rtol, atol=atol):
                return (f"{name} has integer dtype {arr.dtype}, so the fractions were cut off: "
                        f"build it from floats (e.g. np.zeros(shape, dtype=float)).")
        if not np.all(np.isfinite(arr)) and np.all(np.isfinite(expected)):
            return f"{name} contains NaN or inf values."
        close = np.isclose(arr, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if not np.all(close):
            bad = int(np.size(close) - np.count_nonzero(close))
            diff = float(np.max(np.abs(arr.astype(float) - expected)))
            if arr.size == 1:
                return f"{name} has the wrong value (off by {diff:.3g})."
            return (f"{name} has wrong values: {bad} of {arr.size} entries differ "
                    f"(largest difference {diff:.3g}).")
        return None
    if isinstance(expected, list):
        if not isinstance(got, (list, tuple, np.ndarray)):
            return f"{name} should be a list of {len(expected)} numbers, but got {_kind(got)}."
        if len(got) != len(expected):
            return f"{name} should have {len(expected)} entries, but got {len(got)}."
        return compare_values(np.asarray(got) if _as_numeric_array(got) is not None else got,
                              np.asarray(expected, dtype=float), rtol=rtol, atol=atol, name=name,
                              equal_nan=equal_nan)
    if isinstance(expected, numbers.Real):
        if got is None:
            return f"{name} is None: did you forget a `return`?"
        if isinstance(got, np.ndarray) and got.ndim == 0:
            got = got[()]
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, numbers.Real):
            extra = ""
            if isinstance(got, np.ndarray):
                extra = " Return a single number, e.g. float(...)."
                if got.ndim == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1:
                    extra = (" An (m, 1) column broadcast against an (m,) vector makes an (m, m) "
                             "matrix." + extra)
            return f"{name} should be a single number, but got {_kind(got)}.{extra}"
        if isinstance(expected, numbers.Integral) and not isinstance(expected, (bool, np.bool_)):
            if int(got) != got or int(got) != int(expected):
                return f"{name} is {got!r}, which is not the expected whole number."
            return None
        g = float(got)
        if equal_nan and np.isnan(g) and np.isnan(float(expected)):
            return None
        if not np.isfinite(g) and np.isfinite(expected):
            return f"{name} is {g}, not a finite number."
        if not np.isclose(g, float(expected), rtol=rtol, atol=atol):
            ratio = ""
            if expected != 0 and g != 0:
                ratio = f" ({g / float(expected):.3g} times the expected value)"
            return f"{name} is {g:.6g}, which is not right{ratio}."
        return None
    # anything else: exact equality
    try:
        same = bool(got == expected)
    except Exception:
        same = False
    return None if same else f"{name} is {_kind(got)}, which is not right."


class _Quiet:
    """Silence numpy warnings (overflow of a wrong answer is expected here)."""

    def __enter__(self):
        self._err = np.seterr(all="ignore")
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        self._warn.__exit__(*exc)
        np.seterr(**self._err)
        return False


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
