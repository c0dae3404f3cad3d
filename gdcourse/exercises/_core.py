"""The shared core of the graded exercises.

One :class:`Exercise` object describes one exercise completely, and the same
description serves two very different callers:

* the learner, in the notebook: ``ex.predict.check(predict)`` runs the
  learner's function in-process on a few fixed and random inputs and raises a
  :class:`CheckFailed` (an ``AssertionError``) with one clear line of feedback;
* the instructor's grader (:mod:`gdcourse.grading`): the learner's function
  runs in an isolated child process on inputs drawn from the instructor's
  seed; the child sends back plain data (JSON plus ``.npz`` arrays, never a
  pickle) and the grading process judges it with the very same code.

So a check is split in two halves that never need to live in one process:

``collect(fn, cases)``
    calls the learner's function on every case (through ``run``) and records
    an :class:`Outcome` per case: a value, "not implemented", or an error;
``judge(cases, outcomes)``
    compares every value with ``run(reference, case)`` using ``compare`` and,
    when it is wrong, tries each named :class:`Mistake`: a function that
    computes the classic wrong answer.  If the learner's output matches one,
    the feedback names the mistake.

Writing an exercise
-------------------
::

    def _predict(theta, X):              # the reference solution, shown by .solution()
        return X @ theta

    predict = Exercise(
        "lesson01.predict", _predict,
        cases=lambda rng: [(theta, X), ...],           # fixed ones + draws from rng
        mistakes=[Mistake("returns a column (m, 1) ...", lambda theta, X: ...)],
        hints=["..."],
    )

``run(fn, case)`` defaults to ``fn(*case)``.  A stateful exercise (an
optimiser step that carries its state) passes its own ``run`` that calls ``fn``
several times and returns everything worth comparing; mistakes and the
reference go through the same ``run``, so a mistake such as "the step counter
is never incremented" is simply a function with that bug.

Callable arguments (a loss ``f`` for a numerical gradient) must travel to the
grader's child process as data, so cases use :class:`Fn`: an expression of
``theta`` plus named arrays.
"""

from __future__ import annotations

import importlib
import inspect
import json
import numbers
import os
import pkgutil
import re
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

__all__ = [
    "CheckFailed",
    "NotAttempted",
    "Incorrect",
    "CodeRaised",
    "Exercise",
    "Mistake",
    "Fn",
    "Outcome",
    "Result",
    "Note",
    "compare_values",
    "summarise",
    "get",
    "lesson_exercises",
    "available_lessons",
    "STATUSES",
]

#: Result statuses, shared by the learner's check, ``gdcourse check`` and the grader.
STATUSES = ("correct", "incorrect", "error", "not_attempted")

_RED, _GREEN, _YELLOW, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m"


# ---------------------------------------------------------------------------
# outcomes of a check
# ---------------------------------------------------------------------------

class CheckFailed(AssertionError):
    """A check that did not pass.  Subclasses tell *why*.

    In IPython/JupyterLab the learner sees one line (``_render_traceback_``),
    not a traceback: the feedback is the message, the stack is noise.
    """

    status = "incorrect"
    symbol = "✗"
    colour = _RED

    def __init__(self, exercise_id: str, feedback: str):
        self.exercise_id = exercise_id
        self.feedback = feedback
        super().__init__(f"{exercise_id}: {feedback}")

    def line(self) -> str:
        """The one line the learner reads."""
        return f"{self.symbol} {self.exercise_id}: {self.feedback}"

    def _render_traceback_(self):
        # IPython calls this instead of formatting the traceback
        return [f"{self.colour}{self.line()}{_RESET}"]


class NotAttempted(CheckFailed):
    """The function still raises ``NotImplementedError`` (the stub)."""

    status = "not_attempted"
    symbol = "○"
    colour = _YELLOW


class Incorrect(CheckFailed):
    """The function ran but returned a wrong answer."""

    status = "incorrect"


class CodeRaised(Incorrect):
    """The learner's function raised an exception on one of the inputs."""

    status = "error"


_EXCEPTIONS = {"not_attempted": NotAttempted, "incorrect": Incorrect, "error": CodeRaised}


class Outcome(NamedTuple):
    """What happened when the learner's function ran on one case.

    ``kind`` is ``"value"`` (``value`` holds the output), ``"not_implemented"``
    or ``"error"`` (``error`` holds ``"TypeError: message"``).
    """

    kind: str
    value: object = None
    error: str = ""


class Result(NamedTuple):
    """The verdict on one exercise: ``status`` in :data:`STATUSES` and one feedback line."""

    exercise_id: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "correct"


class Mistake(NamedTuple):
    """A classic wrong answer: ``fn`` has the learner's signature and makes the mistake.

    ``message`` names the mistake in the learner's terms, e.g.
    ``"looks like the sign is flipped: you step uphill (θ + α∇J)"``.
    """

    message: str
    fn: Callable


class Note:
    """Text shown as Markdown in a notebook and as plain text elsewhere."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self):
        return self.text

    __repr__ = __str__

    def _repr_markdown_(self):
        return self.text


class Fn:
    """A scalar or vector test function of ``theta``, written as an expression.

    Being data (an expression and named arrays), it can be sent to the
    grader's child process without pickling::

        f = Fn("np.sum(a * np.sin(theta)) + 0.25 * np.sum(theta ** 4)", a=np.array([1.0, 2.0]))
        f(np.zeros(2))   # -> 0.0

    ``output="float"`` returns a Python float, ``"array"`` a float array.
    """

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


# ---------------------------------------------------------------------------
# comparing values
# ---------------------------------------------------------------------------

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
    if isinstance(value, Fn):
        return "a test function f(θ)"
    if callable(value):
        return "a function"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value) -> str:
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
                   name: str = "your result") -> str | None:
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
            msg = compare_values(g, e, rtol=rtol, atol=atol, name=f"{name}[{i}]")
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
        close = np.isclose(arr, expected, rtol=rtol, atol=atol)
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
                              np.asarray(expected, dtype=float), rtol=rtol, atol=atol, name=name)
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


def _copy_case(case):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in case)


def _default_run(fn, case):
    return fn(*case)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------
# the exercise object
# ---------------------------------------------------------------------------

class Exercise:
    """One graded exercise; see the module docstring.

    Parameters
    ----------
    exercise_id : ``"lessonNN.name"``; ``name`` is the learner's function name.
    reference : the solution, with the learner's signature (shown by :meth:`solution`).
    cases : ``cases(rng) -> list of argument tuples``: fixed ones plus random draws.
    mistakes : named wrong variants, tried in order when an answer is wrong.
    hints : hint texts (Markdown), shown one at a time by :meth:`hint`.
    run : ``run(fn, case) -> output``; default ``fn(*case)``.
    compare : ``compare(got, expected) -> None | str``; default :func:`compare_values`
        with ``rtol``/``atol``.
    points : points for a correct answer when grading.
    """

    def __init__(self, exercise_id: str, reference: Callable, *, cases: Callable,
                 mistakes: Sequence[Mistake] = (), hints: Sequence[str] = (),
                 run: Callable | None = None, compare: Callable | None = None,
                 rtol: float = 1e-7, atol: float = 1e-9, points: float = 1.0,
                 success: str | None = None):
        if not re.fullmatch(r"[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*", exercise_id):
            raise ValueError(f"exercise_id must look like 'lesson01.predict', but got {exercise_id!r}.")
        self.id = exercise_id
        self.lesson, self.name = exercise_id.split(".")
        self.reference = reference
        self._cases = cases
        self.mistakes = tuple(Mistake(*m) for m in mistakes)
        self.hints = tuple(hints)
        self.run = run or _default_run
        self.rtol, self.atol = rtol, atol
        self._compare = compare
        self.points = float(points)
        self.success = success or "Correct, well done!"

    def __repr__(self):
        return f"<Exercise {self.id}: {self.name}{inspect.signature(self.reference)}>"

    # -- building blocks ---------------------------------------------------

    def compare(self, got, expected) -> str | None:
        if self._compare is not None:
            return self._compare(got, expected)
        return compare_values(got, expected, rtol=self.rtol, atol=self.atol)

    def cases(self, random_state=0) -> list[tuple]:
        """The argument tuples to try: fixed ones plus draws from ``random_state``."""
        from .._validation import as_rng
        cases = [tuple(c) for c in self._cases(as_rng(random_state))]
        if not cases:
            raise ValueError(f"{self.id}: cases() returned no cases.")
        return cases

    def expected(self, case):
        """The reference output on one case."""
        with _Quiet():
            return self.run(self.reference, _copy_case(case))

    def collect(self, fn, cases) -> list[Outcome]:
        """Run the learner's ``fn`` on every case and record what happened."""
        outcomes = []
        for case in cases:
            try:
                with _Quiet():
                    value = self.run(fn, _copy_case(case))
            except NotImplementedError:
                outcomes.append(Outcome("not_implemented"))
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit from learner code counts as an error
                outcomes.append(Outcome("error", error=f"{type(exc).__name__}: {_short(exc)}"))
            else:
                outcomes.append(Outcome("value", value))
        return outcomes

    def _describe_case(self, case) -> str:
        try:
            names = list(inspect.signature(self.reference).parameters)
        except (TypeError, ValueError):
            names = []
        parts = []
        for i, arg in enumerate(case):
            label = names[i] if i < len(names) else f"arg{i}"
            parts.append(f"{label}={summarise(arg)}")
        return ", ".join(parts)

    def _matches(self, mistake, case, got) -> bool:
        try:
            with _Quiet():
                wrong = self.run(mistake.fn, _copy_case(case))
                return self.compare(got, wrong) is None
        except Exception:
            return False

    def _name_mistake(self, index, cases, outcomes) -> str | None:
        """The mistake that explains the wrong output on ``cases[index]``.

        When several variants match there (a coincidence, e.g. θ = 0 makes
        θ + α∇J equal α∇J), the one that matches the most other cases wins.
        """
        got = outcomes[index].value
        candidates = [m for m in self.mistakes if self._matches(m, cases[index], got)]
        if len(candidates) <= 1:
            return candidates[0].message if candidates else None
        others = [(c, o.value) for c, o in zip(cases, outcomes) if o.kind == "value"]
        scores = [sum(self._matches(m, c, g) for c, g in others) for m in candidates]
        return candidates[scores.index(max(scores))].message

    def judge(self, cases, outcomes, expected=None) -> Result:
        """The verdict on a list of outcomes (one per case).

        ``expected`` may hold the precomputed reference outputs (the grader
        computes them once for a whole class).
        """
        if len(outcomes) != len(cases):
            return Result(self.id, "error", "the answer did not produce a result for every input.")
        for outcome in outcomes:
            if outcome.kind == "not_implemented":
                return Result(self.id, "not_attempted",
                              "not attempted yet: replace `raise NotImplementedError` with your "
                              "code, run that cell, then run this check again.")
        for index, (case, outcome) in enumerate(zip(cases, outcomes)):
            where = self._describe_case(case)
            if outcome.kind == "error":
                return Result(self.id, "error",
                              f"your function raised {outcome.error.rstrip('.')} (input: {where})")
            got = outcome.value
            want = self.expected(case) if expected is None else expected[index]
            if got is None and want is not None:
                return Result(self.id, "incorrect",
                              f"your function returned None: did you forget a `return`? "
                              f"(input: {where})")
            try:
                with _Quiet():
                    problem = self.compare(got, want)
            except Exception as exc:  # an odd return value must not crash the checker
                problem = f"your result could not be compared ({type(exc).__name__}: {_short(exc, 80)})."
            if problem is None:
                continue
            named = self._name_mistake(index, cases, outcomes)
            if named:
                return Result(self.id, "incorrect", f"{named} (input: {where})")
            return Result(self.id, "incorrect", f"{problem.rstrip('.')} (input: {where})")
        return Result(self.id, "correct", self.success)

    def evaluate(self, fn, random_state=0) -> Result:
        """Check ``fn`` without raising: the :class:`Result`."""
        if fn is None or not callable(fn):
            if fn is None:
                return Result(self.id, "not_attempted",
                              f"no function to check: define `{self.name}` first.")
            return Result(self.id, "incorrect",
                          f"check() needs your function itself, e.g. "
                          f"`{self.name}` without parentheses, but got {_kind(fn)}.")
        cases = self.cases(random_state)
        return self.judge(cases, self.collect(fn, cases))

    # -- what the learner calls -------------------------------------------

    def check(self, fn, random_state=0) -> None:
        """Check the learner's function; print one line if right, raise if not.

        Raises :class:`NotAttempted`, :class:`Incorrect` or :class:`CodeRaised`
        (all ``AssertionError``), so a notebook run stops being green.
        """
        result = self.evaluate(fn, random_state)
        if result.passed:
            print(f"✓ {self.id}: {result.message}")
            return None
        raise _EXCEPTIONS[result.status](self.id, result.message)

    def hint(self, n: int = 1) -> Note:
        """Hint number ``n`` (1-based)."""
        if not self.hints:
            return Note("No hint for this exercise, sorry.")
        n = max(1, min(int(n), len(self.hints)))
        more = f" (call `.hint({n + 1})` for another)" if n < len(self.hints) else ""
        return Note(f"**Hint {n}/{len(self.hints)}**{more}: {self.hints[n - 1]}")

    def solution(self) -> Note:
        """The reference solution's source code, as Markdown.

        With ``GDCOURSE_HIDE_SOLUTIONS=1`` (or true/yes/on) in the environment, e.g. set
        by the hub for a marked assessment, it says that solutions are hidden instead.
        """
        if os.environ.get("GDCOURSE_HIDE_SOLUTIONS", "").strip().lower() in (
                "1", "true", "yes", "on"):
            return Note(f"Solutions are hidden for this course (a marked assessment), so "
                        f"`{self.id}` shows none. `.hint()` still gives hints.")
        try:
            source = textwrap.dedent(inspect.getsource(self.reference))
        except (OSError, TypeError):
            source = f"# (source not available for {self.reference!r})"
        source = re.sub(r"^def _?\w+\(", f"def {self.name}(", source, count=1, flags=re.M)
        return Note(f"**Solution to `{self.id}`:**\n\n```python\n{source.rstrip()}\n```")

    def _assert_check_failed(self, fn, contains: str | None = None,
                             status: str | None = None) -> Result:
        """For tests and solution notebooks: assert that this check rejects ``fn``.

        Like learntools' ``assert_check_failed``: proves a checker can fail.
        ``contains`` must appear in the feedback, ``status`` must match.
        """
        result = self.evaluate(fn)
        if result.passed:
            raise AssertionError(f"{self.id}: expected the check to reject this answer, "
                                 f"but it passed.")
        if status is not None and result.status != status:
            raise AssertionError(f"{self.id}: expected status {status!r}, got {result.status!r}: "
                                 f"{result.message}")
        if contains is not None and contains not in result.message:
            raise AssertionError(f"{self.id}: expected the feedback to mention {contains!r}, "
                                 f"got: {result.message}")
        return result

    # for the grader: a stable per-exercise stream from the instructor's seed
    def grading_cases(self, seed: int) -> list[tuple]:
        import zlib
        return self.cases(np.random.default_rng([int(seed), zlib.crc32(self.id.encode())]))


# ---------------------------------------------------------------------------
# registry: lesson modules
# ---------------------------------------------------------------------------

_LESSON_RE = re.compile(r"lesson\d\d")


def available_lessons() -> list[str]:
    """Names of the lesson modules, e.g. ``['lesson01', 'lesson02']``."""
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if _LESSON_RE.fullmatch(m.name))


def lesson_exercises(lesson: str) -> tuple:
    """The exercises of one lesson module, in order (its ``EXERCISES``)."""
    if not _LESSON_RE.fullmatch(str(lesson)):
        raise ValueError(f"lesson must look like 'lesson01', but got {lesson!r}.")
    module = importlib.import_module(f"{__package__}.{lesson}")
    return tuple(module.EXERCISES)


def get(exercise_id: str) -> Exercise:
    """The :class:`Exercise` with this id, e.g. ``get("lesson01.predict")``."""
    lesson, _, name = str(exercise_id).partition(".")
    try:
        exercises = lesson_exercises(lesson)
    except (ValueError, ImportError):
        exercises = ()
    for ex in exercises:
        if ex.id == exercise_id:
            return ex
    raise KeyError(f"unknown exercise id {exercise_id!r}; known lessons: {available_lessons()}")


def preamble(lesson: str) -> str:
    """Code run before a learner's answers when grading (the notebook's imports)."""
    module = importlib.import_module(f"{__package__}.{lesson}")
    return getattr(module, "PREAMBLE", "import numpy as np\n")


# ---------------------------------------------------------------------------
# data on the wire (grader <-> child): JSON + npz, never pickle
# ---------------------------------------------------------------------------

class Opaque:
    """A value that could not travel as data (an object of some other type)."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return self.text


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
    if isinstance(value, (list, tuple)) and len(value) <= 100_000:
        return {"t": "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(v, arrays, _depth + 1) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value) and len(value) <= 1000:
        return {"t": "dict", "items": {k: encode(v, arrays, _depth + 1) for k, v in value.items()}}
    if isinstance(value, str):
        return {"t": "str", "v": value[:1000]}
    try:
        text = _short(repr(value), 80)
    except Exception:
        text = "?"
    return {"t": "other", "type": type(value).__name__, "repr": text}


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
        return Fn(tree["expr"], output=tree["output"], **params)
    if t in ("list", "tuple"):
        items = [decode(v, arrays) for v in tree["items"]]
        return tuple(items) if t == "tuple" else items
    if t == "dict":
        return {k: decode(v, arrays) for k, v in tree["items"].items()}
    if t == "str":
        return str(tree["v"])
    return Opaque(str(tree.get("type", "?")), str(tree.get("repr", "?")))


def encode_outcome(outcome: Outcome, arrays: dict) -> dict:
    if outcome.kind == "value":
        return {"kind": "value", "value": encode(outcome.value, arrays)}
    return {"kind": outcome.kind, "error": outcome.error}


def decode_outcome(tree: dict, arrays: dict) -> Outcome:
    kind = tree["kind"]
    if kind == "value":
        return Outcome("value", decode(tree["value"], arrays))
    if kind not in ("not_implemented", "error"):
        raise ValueError(f"unknown outcome kind {kind!r}")
    return Outcome(kind, error=_short(tree.get("error", ""), 200))


# ---------------------------------------------------------------------------
# the grader's child process
# ---------------------------------------------------------------------------

def _child_main(job_dir: str) -> None:
    """Run one learner answer on the job's cases and write the outcomes as data.

    Called in a fresh ``python -I`` interpreter, under resource limits set by
    the boot code.  Reads ``job.json`` + ``cases.npz``; writes ``result.json``
    + ``result.npz`` (atomically, so a crash leaves no half result).
    """
    job_dir = Path(job_dir)
    job = json.loads((job_dir / "job.json").read_text())
    with np.load(job_dir / "cases.npz", allow_pickle=False) as z:
        case_arrays = {k: z[k] for k in z.files}
    cases = [tuple(decode(c, case_arrays)) for c in job["cases"]]
    exercise = get(job["exercise"])
    result = {"load_error": None, "outcomes": []}
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    exec(compile(job["preamble"], "<preamble>", "exec"), namespace)
    sources = job["sources"]
    for i, source in enumerate(sources):
        last = i == len(sources) - 1
        try:
            exec(compile(source, f"<answer cell {job['labels'][i]}>", "exec"), namespace)
        except KeyboardInterrupt:
            raise
        except NotImplementedError:
            if last:
                result["load_error"] = "not_implemented"
        except BaseException as exc:
            if last:
                result["load_error"] = f"{type(exc).__name__}: {_short(exc)}"
    fn = namespace.get(job["name"])
    arrays: dict = {}
    if result["load_error"] is None:
        if fn is None:
            result["load_error"] = f"missing: the answer cell does not define `{job['name']}`"
        elif not callable(fn):
            result["load_error"] = f"`{job['name']}` is {_kind(fn)}, not a function"
        else:
            outcomes = exercise.collect(fn, cases)
            result["outcomes"] = [encode_outcome(o, arrays) for o in outcomes]
    tmp_npz = job_dir / "result.tmp.npz"
    np.savez(tmp_npz, **arrays)
    os.replace(tmp_npz, job_dir / "result.npz")
    tmp_json = job_dir / "result.tmp.json"
    tmp_json.write_text(json.dumps(result))
    os.replace(tmp_json, job_dir / "result.json")
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# for `gdcourse check`: evaluate in the learner's kernel, report as JSON
# ---------------------------------------------------------------------------

REPORT_PREFIX = "@@gdcourse-result@@"


def _report(exercise_id: str, namespace: dict) -> None:
    """Print one machine-readable result line (used by ``gdcourse check``)."""
    try:
        exercise = get(exercise_id)
    except KeyError as exc:
        result = Result(exercise_id, "error", str(exc))
    else:
        result = exercise.evaluate(namespace.get(exercise.name))
    print(REPORT_PREFIX + json.dumps(result._asdict()))
