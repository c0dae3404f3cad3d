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

``run`` is a call procedure from :mod:`gdcourse.exercises._calls` (default
``Plain()``: ``fn(*case)``).  A stateful exercise (an optimiser step that
carries its state) uses ``Steps``, which calls ``fn`` several times; mistakes
and the reference go through the same procedure, so a mistake such as "the
step counter is never incremented" is simply a function with that bug.  Being
data, the procedure is what the grader's sandboxed child receives: the child
never holds a reference or a mistake.

Every judge checks that the learner's function left its inputs unchanged, and
names a mistake only when that mistake reproduces the learner's output on
every case where the learner is wrong (NaN never matching NaN).

The module layout follows learntools: outcomes, the :class:`Exercise` and the
registry here; comparing in :mod:`._compare`; the wire codec in :mod:`._wire`;
how to call a learner's function in :mod:`._calls`; cases and checks several
lessons share in :mod:`._shared`.

Callable arguments (a loss ``f`` for a numerical gradient) must travel to the
grader's child process as data, so cases use :class:`Fn`: an expression of
``theta`` plus named arrays.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import textwrap
import zlib
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from .._messages import N_, _t
from ._calls import Call, InProcess, Plain, collect
from ._calls import run_job as _child_main  # noqa: F401  (the name grading's boot code once used)
from ._compare import Opaque, _kind, _Quiet, _short, compare_values, summarise  # noqa: F401
from ._shared import input_change
from ._wire import REPORT_PREFIX, Fn, Outcome, _report, decode, decode_outcome, encode  # noqa: F401
from ._wire import encode_outcome  # noqa: F401

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


def _copy_case(case):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in case)


# ---------------------------------------------------------------------------
# the exercise object
# ---------------------------------------------------------------------------

def _set_aside_shared_nonfinite(got, wrong):
    """``(got, wrong)`` with the NaN/inf entries they share set to 0, or ``None``.

    ``None`` when the two do not have non-finite entries in exactly the same
    places (with the same signs for inf) or hold nothing non-finite at all.
    Tuples and lists are walked element by element.
    """
    if isinstance(got, (tuple, list)) and isinstance(wrong, (tuple, list)):
        if len(got) != len(wrong):
            return None
        pairs = [_set_aside_shared_nonfinite(g, w) for g, w in zip(got, wrong)]
        if all(p is None for p in pairs):
            return None
        pairs = [(g, w) if p is None else p for p, g, w in zip(pairs, got, wrong)]
        kind = tuple if isinstance(got, tuple) else list
        return kind(p[0] for p in pairs), (tuple if isinstance(wrong, tuple) else list)(p[1] for p in pairs)
    try:
        g, w = np.asarray(got), np.asarray(wrong)
    except Exception:
        return None
    if g.shape != w.shape or g.dtype.kind not in "fc" or w.dtype.kind not in "fc":
        return None
    bad_g, bad_w = ~np.isfinite(g), ~np.isfinite(w)
    if not bad_g.any() or not np.array_equal(bad_g, bad_w):
        return None
    if not np.array_equal(np.isnan(g), np.isnan(w)) or not np.array_equal(g[np.isinf(g)], w[np.isinf(w)]):
        return None
    g, w = g.copy(), w.copy()
    g[bad_g], w[bad_w] = 0.0, 0.0
    if np.ndim(got) == 0 and not isinstance(got, np.ndarray):
        return type(got)(g) if isinstance(got, float) else g[()], float(w) if isinstance(wrong, float) else w[()]
    return g, w


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
        if run is not None and not isinstance(run, Call):
            if not callable(run):
                raise TypeError(f"{exercise_id}: run must be a call procedure from "
                                f"gdcourse.exercises._calls (Plain, Warnings, Reseeded, Steps), "
                                f"but got {_kind(run)}.")
            run = InProcess(run)   # checks in the notebook; the grader refuses it, clearly
        self.run = run or Plain()
        self.rtol, self.atol = rtol, atol
        self._compare = compare
        self.points = float(points)
        self.success = success or N_("Correct, well done!")

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
            return self.run(self.reference, _copy_case(case))[0]

    def collect(self, fn, cases) -> list[Outcome]:
        """Run the learner's ``fn`` on every case and record what happened."""
        return collect(fn, cases, self.run)

    def _names(self) -> list[str]:
        try:
            return list(inspect.signature(self.reference).parameters)
        except (TypeError, ValueError):
            return []

    def _describe_case(self, case) -> str:
        names = self._names()
        parts = []
        for i, arg in enumerate(case):
            label = names[i] if i < len(names) else f"arg{i}"
            parts.append(f"{label}={summarise(arg)}")
        return ", ".join(parts)

    def _problem(self, got, want) -> str | None:
        try:
            with _Quiet():
                return self.compare(got, want)
        except Exception as exc:  # an odd return value must not crash the checker
            return _t("your result could not be compared ({error}).",
                      error=f"{type(exc).__name__}: {_short(exc, 80)}")

    def _reproduces(self, mistake, case, got, want) -> str | None:
        """How ``mistake`` explains ``got`` on ``case`` (where the reference gives ``want``).

        ``"exactly"``: the mistake gives ``got`` there and differs from the
        reference.  ``"non-finite"``: it does so only once the NaN/inf entries,
        which both have in the very same places, are set aside (NaN is never
        *equal* to NaN, so such a case cannot identify a mistake by itself).
        ``None``: the mistake does not explain this case.
        """
        try:
            with _Quiet():
                wrong = self.run(mistake.fn, _copy_case(case))[0]
                if self.compare(wrong, want) is None:
                    return None
                if self.compare(got, wrong) is None:
                    return "exactly"
                masked = _set_aside_shared_nonfinite(got, wrong)
                if masked is not None and self.compare(*masked) is None:
                    return "non-finite"
        except Exception:
            pass
        return None

    def _name_mistake(self, wrong_cases) -> str | None:
        """The first mistake that reproduces the learner's output on EVERY wrong case.

        ``wrong_cases`` lists ``(case, got, want)``.  A mistake that explains
        only some of them (often a degenerate input such as z = 0) is not
        named: the feedback then says what is wrong without guessing why.  A
        case where both outputs are NaN or inf in the same entries is
        consistent with a mistake but never identifies one: at least one wrong
        case must be reproduced exactly.
        """
        for mistake in self.mistakes:
            how = [self._reproduces(mistake, case, got, want) for case, got, want in wrong_cases]
            if None not in how and "exactly" in how:
                return _t(mistake.message)
        return None

    def judge(self, cases, outcomes, expected=None) -> Result:
        """The verdict on a list of outcomes (one per case).

        ``expected`` may hold the precomputed reference outputs (the grader
        computes them once for a whole class).  The first case that fails
        decides the kind of feedback; a mistake is named from all the cases
        the answer gets wrong.
        """
        if len(outcomes) != len(cases):
            return Result(self.id, "error",
                          _t("the answer did not produce a result for every input."))
        for outcome in outcomes:
            if outcome.kind == "not_implemented":
                return Result(self.id, "not_attempted",
                              _t("not attempted yet: replace `raise NotImplementedError` with "
                                 "your code, run that cell, then run this check again."))
        names = self._names()
        first = None                # (kind, index, message) of the first failing case
        wrong = []                  # (index, case, got, want, problem) of every wrong value
        for index, (case, outcome) in enumerate(zip(cases, outcomes)):
            if outcome.kind == "error":
                first = first or ("error", index, _t("your function raised {error}",
                                                     error=outcome.error.rstrip('.')))
                continue
            changed = input_change(names, outcome.calls)
            if changed:
                first = first or ("changed", index, changed)
                continue
            got = outcome.value
            want = self.expected(case) if expected is None else expected[index]
            if got is None and want is not None:
                problem = _t("your function returned None: did you forget a `return`?")
            else:
                problem = self._problem(got, want)
            if problem is not None:
                wrong.append((index, case, got, want, problem))
                first = first or ("wrong", index, problem)
        if first is None:
            return Result(self.id, "correct", _t(self.success))
        kind, index, message = first
        where = self._describe_case(cases[index])
        if kind == "error":
            return Result(self.id, "error", _t("{message} (input: {where})", message=message,
                                               where=where))
        if kind == "wrong" and outcomes[index].value is not None:
            named = self._name_mistake([(c, g, w) for _i, c, g, w, _p in wrong])
            if named:
                return Result(self.id, "incorrect", _t("{message} (input: {where})",
                                                       message=named, where=where))
        return Result(self.id, "incorrect", _t("{message} (input: {where})",
                                               message=message.rstrip('.。'), where=where))

    def evaluate(self, fn, random_state=0) -> Result:
        """Check ``fn`` without raising: the :class:`Result`."""
        if fn is None or not callable(fn):
            if fn is None:
                return Result(self.id, "not_attempted",
                              _t("no function to check: define `{name}` first.", name=self.name))
            return Result(self.id, "incorrect",
                          _t("check() needs your function itself, e.g. `{name}` without "
                             "parentheses, but got {got}.", name=self.name, got=_kind(fn)))
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
            return Note(_t("No hint for this exercise, sorry."))
        n = max(1, min(int(n), len(self.hints)))
        fields = dict(n=n, total=len(self.hints), next=n + 1, hint=_t(self.hints[n - 1]))
        if n < len(self.hints):
            return Note(_t("**Hint {n}/{total}** (call `.hint({next})` for another): {hint}",
                           **fields))
        return Note(_t("**Hint {n}/{total}**: {hint}", **fields))

    def solution(self) -> Note:
        """The reference solution's source code, as Markdown.

        With ``GDCOURSE_HIDE_SOLUTIONS=1`` (or true/yes/on) in the environment, e.g. set
        by the hub for a marked assessment, it says that solutions are hidden instead.
        """
        if os.environ.get("GDCOURSE_HIDE_SOLUTIONS", "").strip().lower() in (
                "1", "true", "yes", "on"):
            return Note(_t("Solutions are hidden for this course (a marked assessment), so "
                           "`{id}` shows none. `.hint()` still gives hints.", id=self.id))
        try:
            source = textwrap.dedent(inspect.getsource(self.reference))
        except (OSError, TypeError):
            source = f"# (source not available for {self.reference!r})"
        source = re.sub(r"^def _?\w+\(", f"def {self.name}(", source, count=1, flags=re.M)
        return Note(_t("**Solution to `{id}`:**", id=self.id)
                    + f"\n\n```python\n{source.rstrip()}\n```")

    def assert_check_failed(self, fn, contains: str | None = None,
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

    _assert_check_failed = assert_check_failed  # the name solution notebooks already use

    # for the grader: a stable per-exercise stream from the instructor's seed
    def grading_cases(self, seed: int) -> list[tuple]:
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


