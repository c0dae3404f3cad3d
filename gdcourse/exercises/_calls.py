"""How to call a learner's function: the only exercise code the grader's child holds.

A *call procedure* takes the learner's ``fn`` and one case (a tuple of
arguments) and returns ``(value, calls)``: the raw output worth comparing and,
for every call of ``fn``, the ``(before, after)`` snapshots of its array
arguments (so the judge, in the grading process, can tell whether ``fn``
changed its inputs in place).  The same procedure runs the reference and the
mistakes in the grading process, so a reference and a learner's answer are
always called the same way.

Procedures are data (:meth:`Call.wire` / :func:`from_wire`), so the grader can
name one to its sandboxed child, which imports this module and nothing that
knows a reference or a mistake.

* :class:`Plain`: ``fn(*case)``;
* :class:`Warnings`: ``fn(*case)`` with numpy's warnings recorded;
* :class:`Reseeded`: ``fn(*case)`` twice and once with the last argument (a
  seed) plus one, for answers that draw random numbers;
* :class:`Steps`: a stateful step ``fn(theta, grad, *state, *hyper) ->
  (theta, *state)`` called several times, carrying what it returns;
* :class:`MomentumLoop`: a training loop handed a momentum step built from
  data (lesson 7's early stopping).

:func:`run_job` is the child's entry point.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from .. import _messages
from .._messages import _t
from ._compare import _Quiet, _kind, _short
from ._wire import Outcome, decode, encode, encode_outcome

# The grader's sandboxed child cannot read the package folder: the catalogue of the language the
# grader asked for (GDCOURSE_LANG) is read now, in the worker, before the sandbox closes.
_messages.preload()

__all__ = ["Call", "Plain", "Warnings", "Reseeded", "Steps", "MomentumLoop", "InProcess", "from_wire", "collect",
           "run_job", "answer_outcomes"]


def snap(value):
    """A deep copy of arrays (and lists/tuples of them); other values as they are."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in (list, tuple):
        return type(value)(snap(v) for v in value)
    return value


def _watched(args) -> tuple:
    """Copies of the arguments a function could change in place (arrays, lists); None elsewhere."""
    return tuple(snap(a) if isinstance(a, (np.ndarray, list)) else None for a in args)


class Call:
    """A call procedure; subclasses define :meth:`__call__` and their wire fields."""

    name = "call"

    def wire(self) -> dict:
        return {"name": self.name, **self._fields()}

    def _fields(self) -> dict:
        return {}

    def __call__(self, fn, case):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({self._fields() or ''})"


class Plain(Call):
    """``fn(*case)`` on copies of the case."""

    name = "plain"

    def __call__(self, fn, case):
        args = snap(tuple(case))
        before = _watched(args)
        out = fn(*args)
        return out, ((before, _watched(args)),)


class Warnings(Call):
    """``fn(*case)`` with numpy warnings on; the value is ``(output, warning messages)``."""

    name = "warnings"

    def __call__(self, fn, case):
        args = snap(tuple(case))
        before = _watched(args)
        with warnings.catch_warnings(record=True) as caught, \
                np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            warnings.simplefilter("always")
            out = fn(*args)
        texts = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        return (out, texts), ((before, _watched(args)),)


class Reseeded(Call):
    """``fn(*case)``, again, and with the last argument (the seed) + 1.

    The value is ``(*case[:echo], first, again, other)``; with ``head``, only
    the first ``head`` entries of ``again`` and ``other`` are kept.
    """

    name = "reseeded"

    def __init__(self, echo: int = 0, head: int | None = None):
        self.echo, self.head = int(echo), head

    def _fields(self):
        return {"echo": self.echo, "head": self.head}

    def _cut(self, value):
        if self.head is None or not isinstance(value, np.ndarray):
            return value
        return value.ravel()[: self.head].copy()

    def __call__(self, fn, case):
        case = tuple(case)
        first = fn(*case)
        again = fn(*case)
        other = fn(*case[:-1], case[-1] + 1)
        return (*case[: self.echo], first, self._cut(again), self._cut(other)), ()


#: gradient factors of the successive calls of a step function (the gradient of call k
#: is the case's gradient rolled by k and scaled)
STEP_FACTORS = (1.0, -0.6, 1.7, 0.4)


class Steps(Call):
    """A step function called ``len(STEP_FACTORS)`` times, carrying θ and its state.

    Records each output, or after the first call the exception it raised.
    ``zero_note = (index, value, text)``: a ZeroDivisionError on the first call
    when ``case[index] == value`` gets ``text`` appended.
    """

    name = "steps"

    def __init__(self, n_state: int, zero_note=None):
        self.n_state = int(n_state)
        self.zero_note = tuple(zero_note) if zero_note else None

    def _fields(self):
        return {"n_state": self.n_state, "zero_note": list(self.zero_note or ()) or None}

    def __call__(self, fn, case):
        theta, grad = case[0], case[1]
        state = list(case[2:2 + self.n_state])
        hyper = tuple(case[2 + self.n_state:])
        records, calls = [], []
        for k, factor in enumerate(STEP_FACTORS):
            g = np.roll(np.asarray(grad, dtype=float), k) * factor
            args = (snap(theta), g, *(snap(s) for s in state), *hyper)
            before = _watched(args)
            try:
                out = fn(*args)
            except ZeroDivisionError as exc:
                note = self.zero_note
                if k == 0 and note and case[int(note[0])] == note[1]:
                    raise ZeroDivisionError(f"{exc}; {note[2]}") from None
                if k == 0:
                    raise
                records.append({"error": f"{type(exc).__name__}: {_short(exc, 150)}"})
                break
            except NotImplementedError:
                raise
            except Exception as exc:  # the state from the previous call made it fail
                if k == 0:
                    raise
                records.append({"error": f"{type(exc).__name__}: {_short(exc, 150)}"})
                break
            calls.append((before, _watched(args)))
            records.append(snap(out))
            if not isinstance(out, (tuple, list)) or len(out) != 1 + self.n_state:
                break
            theta, *state = snap(out)
        return tuple(records), tuple(calls)


class MomentumLoop(Call):
    """A training loop ``fn(theta0, grad_fn, val_loss_fn, step, num_epochs, patience)``.

    The case carries the step as data, ``{"lr", "mu", "in_place"}``; this
    procedure builds that heavy-ball momentum step, ``v ← μv + g, θ ← θ − αv``
    (updating θ in place when ``in_place``, as the package's fast steps do), and
    hands it to the learner's loop.  The value is ``(best_theta, history)`` as
    float arrays (or whatever else came back, for the judge to describe).
    """

    name = "momentum_loop"

    @staticmethod
    def step_from(spec):
        lr, mu, in_place = float(spec["lr"]), float(spec["mu"]), bool(spec["in_place"])

        def step(theta, grad, state):
            velocity = np.zeros_like(theta) if state is None else state
            velocity = mu * velocity + grad
            if in_place:
                theta -= lr * velocity
                return theta, velocity
            return theta - lr * velocity, velocity
        return step

    def __call__(self, fn, case):
        theta0, grad_fn, val_loss_fn, spec, num_epochs, patience = case
        args = (snap(theta0), grad_fn, val_loss_fn, self.step_from(spec), num_epochs, patience)
        before = _watched(args)
        out = fn(*args)
        calls = ((before, _watched(args)),)
        if isinstance(out, (tuple, list)) and len(out) == 2:
            try:
                return (np.array(out[0], dtype=float, copy=True),
                        np.asarray(out[1], dtype=float)), calls
            except (TypeError, ValueError):
                pass
        return out, calls


class InProcess(Call):
    """An exercise's own ``run(fn, case) -> value`` function (the older form of ``run=``).

    It works for the learner's in-notebook check, but being code, not data, it
    cannot be sent to the grader's sandboxed child: :meth:`wire` refuses, and
    the grader reports that exercise as not gradable.
    """

    name = "in_process"

    def __init__(self, run):
        self.run = run

    def wire(self) -> dict:
        raise ValueError("this exercise's check calls the answer through its own Python "
                         "function (run=...), which the sandboxed grader cannot send to the "
                         "child; use a gdcourse.exercises._calls procedure (Plain, Warnings, "
                         "Reseeded, Steps, MomentumLoop)")

    def __call__(self, fn, case):
        return self.run(fn, case), ()


_PROCEDURES = {cls.name: cls for cls in (Plain, Warnings, Reseeded, Steps, MomentumLoop)}


def from_wire(tree: dict) -> Call:
    """The procedure named by :meth:`Call.wire`."""
    fields = dict(tree)
    cls = _PROCEDURES[fields.pop("name")]
    return cls(**fields)


def collect(fn, cases, call: Call) -> list[Outcome]:
    """Run the learner's ``fn`` on every case through ``call`` and record what happened."""
    outcomes = []
    for case in cases:
        try:
            with _Quiet():
                value, calls = call(fn, case)
        except NotImplementedError:
            outcomes.append(Outcome("not_implemented"))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit from learner code counts as an error
            outcomes.append(Outcome("error", error=f"{type(exc).__name__}: {_short(exc)}"))
        else:
            outcomes.append(Outcome("value", value, calls=calls))
    return outcomes


# ---------------------------------------------------------------------------
# the grader's child: run one answer, write raw outputs
# ---------------------------------------------------------------------------

def run_job(job_dir, owner: int | None = None) -> None:  # pragma: no cover  (runs in the sandboxed child)
    """Run one learner answer on the job's cases and write the raw outcomes as data.

    Reads ``job.json`` (the function's name, the call procedure, the preamble,
    the answer cells to run, the cases) and ``cases.npz``; writes
    ``result.json`` + ``result.npz``, atomically (a crash leaves no half result).
    ``owner``: the pid allowed to write them (not a process the answer forked).
    """
    job_dir = Path(job_dir)
    job = json.loads((job_dir / "job.json").read_text(encoding="utf-8"))
    with np.load(job_dir / "cases.npz", allow_pickle=False) as z:
        case_arrays = {k: z[k] for k in z.files}
    cases = [tuple(decode(c, case_arrays)) for c in job["cases"]]
    result, arrays = answer_outcomes(job, cases)
    if owner is not None and os.getpid() != owner:
        os._exit(0)   # a process the answer forked came back here: only the job's own reports
    tmp_npz = job_dir / f"result.{os.getpid()}.tmp.npz"
    np.savez(tmp_npz, **arrays)
    os.replace(tmp_npz, job_dir / "result.npz")
    tmp_json = job_dir / f"result.{os.getpid()}.tmp.json"
    tmp_json.write_text(json.dumps(result), encoding="utf-8")
    os.replace(tmp_json, job_dir / "result.json")


def answer_outcomes(job: dict, cases: list) -> tuple[dict, dict]:  # pragma: no cover  (runs in the sandboxed child)
    """Run the job's answer cells, then its function on ``cases``: ``(result, arrays)``.

    ``job`` holds the function's name, the call procedure, the preamble and the
    answer cells (``sources``, ``labels``); ``result`` is ``{"load_error",
    "outcomes"}`` with the outcomes encoded for the wire, their arrays in ``arrays``.
    The grader's warm worker (:mod:`gdcourse._sandbox`) calls this in the child with
    the cases it decoded once; :func:`run_job` reads them from a job folder.
    """
    call = from_wire(job["call"])
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
            result["load_error"] = _t("missing: the answer cell does not define `{name}`",
                                      name=job["name"])
        elif not callable(fn):
            result["load_error"] = _t("`{name}` is {got}, not a function", name=job["name"],
                                      got=_kind(fn))
        else:
            outcomes = collect(fn, cases, call)
            result["outcomes"] = [encode_outcome(o, arrays) for o in outcomes]
    return result, arrays


__all__ += ["encode", "snap"]
