"""Data that crosses a process boundary: JSON + ``.npz`` arrays, never a pickle.

* :class:`Fn` is a test function (a loss ``f(θ)``) written as data, so cases
  that hold one can be sent to the grader's sandboxed child;
* :func:`encode` / :func:`decode` turn inputs and outputs into a JSON tree plus
  a dict of numeric arrays (for ``np.savez``/``np.load(allow_pickle=False)``);
  anything else travels as an :class:`~gdcourse.exercises._compare.Opaque`
  that keeps its real type's name (so feedback says "a generator", never
  "an Opaque");
* :class:`Outcome` is what happened when the learner's function ran on one
  case; ``encode_outcome``/``decode_outcome`` carry it;
* :func:`_report` prints the one machine-readable line ``gdcourse check`` reads.

Nothing here knows an exercise's reference or mistakes.
"""

from __future__ import annotations

import json
import numbers
from typing import NamedTuple

import numpy as np

from ._compare import Opaque, _short

__all__ = ["Fn", "Outcome", "encode", "decode", "encode_outcome", "decode_outcome",
           "REPORT_PREFIX", "MAX_ITEMS"]

#: lists and tuples longer than this travel as an Opaque (type and length only)
MAX_ITEMS = 100_000


class Fn:
    """A scalar or vector test function of ``theta``, written as an expression.

    Being data (an expression and named arrays), it can be sent to the
    grader's child process without pickling::

        f = Fn("np.sum(a * np.sin(theta)) + 0.25 * np.sum(theta ** 4)", a=np.array([1.0, 2.0]))
        f(np.zeros(2))   # -> 0.0

    ``output="float"`` returns a Python float, ``"array"`` a float array.
    """

    is_test_function = True

    def __init__(self, expr: str, *, output: str = "float", **params):
        if output not in ("float", "array"):
            raise ValueError(f"output must be 'float' or 'array', but got {output!r}.")
        self.expr = expr
        self.output = output
        self.params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        self._code = compile(expr, "<gdcourse test function>", "eval")

    def __call__(self, theta):
        scope = dict(self.params)
        scope["theta"] = np.asarray(theta, dtype=float)
        value = eval(self._code, {"np": np, "__builtins__": {}}, scope)  # our own expression
        return float(value) if self.output == "float" else np.asarray(value, dtype=float)

    def __repr__(self):
        return f"<test function f(theta) = {self.expr}>"


class Outcome(NamedTuple):
    """What happened when the learner's function ran on one case.

    ``kind`` is ``"value"`` (``value`` holds the output), ``"not_implemented"``
    or ``"error"`` (``error`` holds ``"TypeError: message"``).  ``calls`` holds,
    for every call of the learner's function, the ``(before, after)``
    snapshots of its array arguments, so the judge can tell whether it changed
    its inputs in place.
    """

    kind: str
    value: object = None
    error: str = ""
    calls: tuple = ()


def _length(value):
    try:
        return len(value)
    except Exception:
        return None


def encode(value, arrays: dict, _depth: int = 0):
    """A JSON-ready tree for ``value``; numeric arrays go into ``arrays`` (for np.savez)."""
    if _depth > 12:
        return {"t": "other", "type": type(value).__name__, "repr": "(nested too deeply)"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, numbers.Integral):
        return {"t": "int", "v": int(value), "np": isinstance(value, np.generic)}
    if isinstance(value, numbers.Real):
        return {"t": "float", "v": float(value), "np": isinstance(value, np.generic)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"t": "array", "k": key}
    if isinstance(value, Fn):
        return {"t": "fn", "expr": value.expr, "output": value.output,
                "params": {k: encode(v, arrays, _depth + 1) for k, v in value.params.items()}}
    if type(value) in (list, tuple) and len(value) <= MAX_ITEMS:
        return {"t": "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(v, arrays, _depth + 1) for v in value]}
    if type(value) is dict and all(isinstance(k, str) for k in value) and len(value) <= 1000:
        return {"t": "dict", "items": {k: encode(v, arrays, _depth + 1) for k, v in value.items()}}
    if isinstance(value, str):
        return {"t": "str", "v": value[:1000]}
    try:
        text = _short(repr(value), 80)
    except Exception:
        text = "?"
    tree = {"t": "other", "type": type(value).__name__, "repr": text}
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        tree["len"] = _length(value)
        if isinstance(value, np.ndarray):
            tree["type"] = f"array of dtype {value.dtype}"
    return tree


def decode(tree, arrays: dict):
    """The inverse of :func:`encode`, building only plain values (and :class:`Fn`)."""
    t = tree["t"]
    if t == "none":
        return None
    if t == "bool":
        return bool(tree["v"])
    if t == "int":
        return np.int64(tree["v"]) if tree.get("np") else int(tree["v"])
    if t == "float":
        return np.float64(tree["v"]) if tree.get("np") else float(tree["v"])
    if t == "array":
        return np.asarray(arrays[tree["k"]])
    if t == "fn":
        params = {k: decode(v, arrays) for k, v in tree["params"].items()}
        return Fn(str(tree["expr"]), output=tree["output"], **params)
    if t in ("list", "tuple"):
        items = [decode(v, arrays) for v in tree["items"]]
        return tuple(items) if t == "tuple" else items
    if t == "dict":
        return {str(k): decode(v, arrays) for k, v in tree["items"].items()}
    if t == "str":
        return str(tree["v"])
    length = tree.get("len")
    return Opaque(str(tree.get("type", "?"))[:60], str(tree.get("repr", "?"))[:200],
                  int(length) if isinstance(length, int) else None)


def encode_outcome(outcome: Outcome, arrays: dict) -> dict:
    calls = [[encode(before, arrays), encode(after, arrays)] for before, after in outcome.calls]
    if outcome.kind == "value":
        return {"kind": "value", "value": encode(outcome.value, arrays), "calls": calls}
    return {"kind": outcome.kind, "error": outcome.error, "calls": calls}


def decode_outcome(tree: dict, arrays: dict) -> Outcome:
    kind = tree["kind"]
    calls = tuple((decode(b, arrays), decode(a, arrays)) for b, a in tree.get("calls", ())[:64])
    if kind == "value":
        return Outcome("value", decode(tree["value"], arrays), calls=calls)
    if kind not in ("not_implemented", "error"):
        raise ValueError(f"unknown outcome kind {kind!r}")
    return Outcome(kind, error=_short(tree.get("error", ""), 200), calls=calls)


# ---------------------------------------------------------------------------
# for `gdcourse check`: evaluate in the learner's kernel, report as JSON
# ---------------------------------------------------------------------------

REPORT_PREFIX = "@@gdcourse-result@@"


def _report(exercise_id: str, namespace: dict) -> None:
    """Print one machine-readable result line (used by ``gdcourse check``)."""
    from ._core import Result, get

    try:
        exercise = get(exercise_id)
    except KeyError as exc:
        result = Result(exercise_id, "error", str(exc))
    else:
        result = exercise.evaluate(namespace.get(exercise.name))
    print(REPORT_PREFIX + json.dumps(result._asdict()))
