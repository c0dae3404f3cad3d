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

from .._messages import _t

__all__ = ["compare_values", "summarise", "Opaque"]


class Opaque:
    """A value that could not travel as data: its type's name, its length if it had one, a repr."""

    def __init__(self, type_name: str, text: str, length: int | None = None):
        self.type_name, self.text, self.length = type_name, text, length

    def describe(self) -> str:
        if self.length is not None:
            return _t("a {type} of length {length}", type=self.type_name, length=self.length)
        return _t("a {type}", type=self.type_name)

    def __repr__(self):
        return self.text


def summarise(value) -> str:
    """A short description of an input or output: shapes, never whole arrays."""
    if isinstance(value, np.ndarray):
        if value.size == 1 and value.ndim <= 1:
            return _t("array({value}, shape {shape})", value=f"{value.reshape(-1)[0]:.4g}",
                      shape=value.shape)
        return _t("array of shape {shape}", shape=value.shape)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    if value is None:
        return "None"
    if getattr(value, "is_test_function", False):
        return _t("a test function f(θ)")
    if isinstance(value, Opaque):
        return value.describe()
    if callable(value):
        return _t("a function")
    if isinstance(value, (list, tuple)):
        return _t("a {type} of length {length}", type=type(value).__name__, length=len(value))
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value) -> str:
    """The real type of ``value`` in words: "an array of shape (3,) and dtype int64", "a generator"."""
    if isinstance(value, Opaque):
        return value.describe()
    if isinstance(value, np.ndarray):
        return _t("an array of shape {shape} and dtype {dtype}", shape=value.shape,
                  dtype=value.dtype)
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return _t("the bool {value}", value=bool(value))
    if isinstance(value, numbers.Real):
        return _t("the number {value}", value=f"{float(value):.6g}")
    if isinstance(value, (list, tuple)):
        return _t("a {type} of length {length}", type=type(value).__name__, length=len(value))
    return _t("a {type}", type=type(value).__name__)


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
    if name == "your result":   # the default: the learner's words for it
        name = _t("your result")
    if isinstance(expected, tuple) and not isinstance(expected, np.ndarray):
        if not isinstance(got, (tuple, list)):
            return _t("{name} should be a tuple of {n} values, but got {got}.", name=name,
                      n=len(expected), got=_kind(got))
        if len(got) != len(expected):
            return _t("{name} should have {n} values, but got {got}.", name=name,
                      n=len(expected), got=len(got))
        for i, (g, e) in enumerate(zip(got, expected)):
            msg = compare_values(g, e, rtol=rtol, atol=atol, name=f"{name}[{i}]",
                                 equal_nan=equal_nan)
            if msg:
                return msg
        return None
    if isinstance(expected, np.ndarray):
        if got is None:
            return _t("{name} is None: did you forget a `return`?", name=name)
        arr = _as_numeric_array(got)
        if arr is None:
            return _t("{name} should be a NumPy array of numbers with shape {shape}, "
                      "but got {got}.", name=name, shape=expected.shape, got=_kind(got))
        if arr.shape != expected.shape:
            fields = dict(name=name, shape=expected.shape, got=arr.shape)
            if arr.size == expected.size and expected.ndim == 1 and arr.ndim == 2:
                return _t("{name} should have shape {shape}, but got shape {got}: return a flat "
                          "(n,) vector, e.g. with .ravel().", **fields)
            if arr.ndim == 2 and expected.ndim == 1 and arr.shape[0] == arr.shape[1] != 1:
                return _t("{name} should have shape {shape}, but got shape {got}: an (m, 1) "
                          "column broadcast against an (m,) vector makes an (m, m) matrix.",
                          **fields)
            if arr.ndim == 2 and arr.shape == expected.shape[::-1]:
                return _t("{name} should have shape {shape}, but got shape {got}: it looks "
                          "transposed.", **fields)
            return _t("{name} should have shape {shape}, but got shape {got}.", **fields)
        if expected.dtype.kind == "f" and arr.dtype.kind not in "f":
            if not np.allclose(arr, expected, rtol=rtol, atol=atol):
                return _t("{name} has integer dtype {dtype}, so the fractions were cut off: "
                          "build it from floats (e.g. np.zeros(shape, dtype=float)).",
                          name=name, dtype=arr.dtype)
        if not np.all(np.isfinite(arr)) and np.all(np.isfinite(expected)):
            return _t("{name} contains NaN or inf values.", name=name)
        close = np.isclose(arr, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if not np.all(close):
            bad = int(np.size(close) - np.count_nonzero(close))
            diff = float(np.max(np.abs(arr.astype(float) - expected)))
            if arr.size == 1:
                return _t("{name} has the wrong value (off by {diff}).", name=name,
                          diff=f"{diff:.3g}")
            return _t("{name} has wrong values: {bad} of {size} entries differ "
                      "(largest difference {diff}).", name=name, bad=bad, size=arr.size,
                      diff=f"{diff:.3g}")
        return None
    if isinstance(expected, list):
        if not isinstance(got, (list, tuple, np.ndarray)):
            return _t("{name} should be a list of {n} numbers, but got {got}.", name=name,
                      n=len(expected), got=_kind(got))
        if len(got) != len(expected):
            return _t("{name} should have {n} entries, but got {got}.", name=name,
                      n=len(expected), got=len(got))
        return compare_values(np.asarray(got) if _as_numeric_array(got) is not None else got,
                              np.asarray(expected, dtype=float), rtol=rtol, atol=atol, name=name,
                              equal_nan=equal_nan)
    if isinstance(expected, numbers.Real):
        if got is None:
            return _t("{name} is None: did you forget a `return`?", name=name)
        if isinstance(got, np.ndarray) and got.ndim == 0:
            got = got[()]
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, numbers.Real):
            fields = dict(name=name, got=_kind(got))
            if isinstance(got, np.ndarray):
                if got.ndim == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1:
                    return _t("{name} should be a single number, but got {got}. An (m, 1) column "
                              "broadcast against an (m,) vector makes an (m, m) matrix. Return a "
                              "single number, e.g. float(...).", **fields)
                return _t("{name} should be a single number, but got {got}. Return a single "
                          "number, e.g. float(...).", **fields)
            return _t("{name} should be a single number, but got {got}.", **fields)
        if isinstance(expected, numbers.Integral) and not isinstance(expected, (bool, np.bool_)):
            if int(got) != got or int(got) != int(expected):
                return _t("{name} is {got}, which is not the expected whole number.",
                          name=name, got=repr(got))
            return None
        g = float(got)
        if equal_nan and np.isnan(g) and np.isnan(float(expected)):
            return None
        if not np.isfinite(g) and np.isfinite(expected):
            return _t("{name} is {got}, not a finite number.", name=name, got=g)
        if not np.isclose(g, float(expected), rtol=rtol, atol=atol):
            if expected != 0 and g != 0:
                return _t("{name} is {got}, which is not right ({ratio} times the expected "
                          "value).", name=name, got=f"{g:.6g}", ratio=f"{g / float(expected):.3g}")
            return _t("{name} is {got}, which is not right.", name=name, got=f"{g:.6g}")
        return None
    # anything else: exact equality
    try:
        same = bool(got == expected)
    except Exception:
        same = False
    return None if same else _t("{name} is {got}, which is not right.", name=name, got=_kind(got))


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
