"""Instructor grading: ``gdcourse grade SUBMISSIONS_DIR --out grades.csv``.

How a submission is graded
--------------------------
1. :func:`discover_students` finds the students: each regular file at the top
   of ``SUBMISSIONS_DIR`` is one (keyed by its name without the suffix), and
   each folder is one (keyed by its name), whose notebooks are found
   recursively, so nbgrader's ``submitted/<student>/<assignment>/*.ipynb``
   grades as it is.  Keys that clash (``ana.ipynb`` next to a folder ``ana/``)
   fall back to the full names and are reported; names that are not valid
   UTF-8 are written escaped.  Only regular files inside the folder are read:
   symbolic links, FIFOs and devices are refused, reads are bounded.
2. From each notebook only the **answer cells** are taken, found by exercise
   id.  When an answer cell appears twice, the last copy is graded (it is the
   one the notebook runs) and the ``review`` column says so.
3. Each answer runs in a sandboxed child cloned from a warm worker
   (:mod:`gdcourse._sandbox`): its lesson's earlier answer cells first, then
   the answer, on inputs drawn from the instructor's ``--seed``.  The child
   holds the inputs and how to call the function, never a reference or a
   mistake; it returns raw outputs as data (JSON + raw arrays of plain dtypes,
   :func:`gdcourse._sandbox.read_result`, no pickles), and this process
   computes the references and judges, so nothing the student runs can change
   a verdict.  The references, and the named mistakes' outputs on the grading
   cases, are computed once per class (:class:`_MemoJudge`).
4. Every student gets one row per exercise, whatever happens: ``correct``,
   ``incorrect``, ``error``, ``not_attempted``, ``timeout``, ``crashed``,
   ``missing``, ``unreadable``.  A crashed answer is retried once, alone, at
   the end.  The ``review`` column flags code worth reading by eye, on every
   row whose run included it; the ``sandbox`` column lists what the sandbox
   could not enforce on this kernel for that row (empty: everything).
5. :func:`grade` returns the rows; ``on_row`` receives each one the moment it
   is final, which the CLI appends and flushes to the CSV, so a killed grader
   loses only the answers in flight, and ``--resume`` grades what is missing.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import hashlib
import json
import os
import queue
import re
import secrets
import shutil
import signal
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from . import _messages, _sandbox
from ._messages import N_, _t
from ._notebook import NotebookError, answer_cells, read_notebook
from .exercises import _core
from .exercises._compare import _short
from .exercises._wire import decode, decode_outcome, encode

__all__ = ["GradeRow", "Student", "grade", "write_csv", "read_csv", "review_flags",
           "read_answers", "discover_students", "cli", "CSV_COLUMNS"]

_PKG_DIR = Path(__file__).resolve().parent
_PKG_ROOT = str(_PKG_DIR.parent)

_BOOT = """\
import sys
sys.path.insert(0, sys.argv[1])
from gdcourse._sandbox import serve
serve()
"""

CSV_COLUMNS = ("student", "exercise", "points", "max_points", "status", "message", "review",
               "sandbox")

_MAX_PROCESSES = 32


class GradeRow(NamedTuple):
    student: str
    exercise: str
    points: float
    max_points: float
    status: str
    message: str
    review: str = ""
    sandbox: str = ""


class Student(NamedTuple):
    """One student: the key written in the gradebook, the notebooks to read, notes for review."""

    key: str
    files: tuple
    notes: tuple = ()
    problem: str | None = None     # no notebook can be read at all


# ---------------------------------------------------------------------------
# finding and reading submissions
# ---------------------------------------------------------------------------

def _printable(name: str) -> str:
    """A file name as text a CSV can hold: bytes that are not UTF-8 written as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _skipped(name: str) -> bool:
    return name.startswith((".", "__"))


def _notebooks_in(folder: Path, notes: list) -> list[Path]:
    found = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for d in dirs:
            if os.path.islink(os.path.join(here, d)):
                notes.append(f"skipped {_printable(os.path.relpath(os.path.join(here, d), folder))}"
                             f": a symbolic link")
        for name in sorted(files):
            if _skipped(name) or not name.endswith(".ipynb"):
                continue
            path = Path(here) / name
            if path.is_symlink():
                notes.append(f"skipped {_printable(str(path.relative_to(folder)))}: a symbolic "
                             f"link")
                continue
            found.append(path)
    return found


def discover_students(folder) -> list[Student]:
    """The students of a submissions folder, in a stable order (see the module docstring)."""
    folder = Path(folder)
    entries = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if _skipped(entry.name):
            continue
        path = Path(entry.path)
        notes: list = []
        if entry.is_symlink():
            entries.append((Path(entry.name).stem, entry.name, (), notes,
                            "unreadable: a symbolic link, not a regular file in the folder"))
        elif entry.is_dir(follow_symlinks=False):
            files = _notebooks_in(path, notes)
            problem = None if files else "unreadable: the folder holds no notebook"
            entries.append((entry.name, entry.name + "/", tuple(files), notes, problem))
        else:
            entries.append((Path(entry.name).stem, entry.name, (path,), notes, None))
    counts = Counter(key for key, *_ in entries)
    students = []
    for key, full, files, notes, problem in entries:
        if counts[key] > 1:
            others = [f for k, f, *_ in entries if k == key and f != full]
            notes = [f"name clash: {', '.join(_printable(o) for o in others)} has the same "
                     f"name, so this row is keyed by the full name"] + notes
            key = full
        students.append(Student(_printable(key), files, tuple(notes), problem))
    return students


def _answer_cells(path: Path):
    """``([(cell index, exercise id, source)], None)`` or ``([], why unreadable)``."""
    try:
        nb = read_notebook(path)
        return answer_cells(nb), None
    except NotebookError as exc:
        return [], f"unreadable: {exc}"
    except Exception as exc:  # a per-file catch-all: one odd file never stops the batch
        return [], f"unreadable: {type(exc).__name__} while reading it"


def read_answers(path) -> tuple[dict, str | None]:
    """``({exercise_id: (cell_index, source)}, None)`` or ``({}, why_unreadable)``.

    A duplicated answer cell gives its last copy, the one the notebook runs.
    """
    cells, problem = _answer_cells(Path(path))
    return {ex_id: (index, source) for index, ex_id, source in cells}, problem


# ---------------------------------------------------------------------------
# review flags
# ---------------------------------------------------------------------------

_MODULES_TO_REVIEW = {"gdcourse", "importlib", "os", "sys", "subprocess", "shutil", "pathlib",
                      "io", "builtins", "ctypes", "pickle", "socket", "marshal", "inspect",
                      "multiprocessing", "signal", "threading", "gc", "types", "code", "runpy",
                      "glob", "tempfile", "urllib", "http", "requests", "mmap", "pty"}
_CALLS_TO_REVIEW = {"open": "opens files", "exec": "uses exec", "eval": "uses eval",
                    "compile": "uses compile", "__import__": "uses __import__",
                    "breakpoint": "uses breakpoint", "input": "uses input",
                    "getattr": "uses getattr", "setattr": "uses setattr",
                    "delattr": "uses delattr", "globals": "uses globals", "vars": "uses vars",
                    "locals": "uses locals", "__builtins__": "uses __builtins__",
                    "importlib": "uses importlib"}
_NUMPY_FILE_IO = {"load", "save", "savez", "loadtxt", "savetxt", "genfromtxt", "fromfile",
                  "tofile", "memmap"}
_PROCESS_CALLS = {"fork", "forkpty", "system", "popen", "spawnl", "spawnv", "spawnve", "execv",
                  "execve", "execl", "execvp", "kill", "killpg", "setsid", "Popen", "run"}


def review_flags(source: str) -> list[str]:
    """Reasons for an instructor to read this answer by eye (empty if none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"does not parse (line {exc.lineno})"]
    except (ValueError, RecursionError, MemoryError):
        return ["does not parse"]
    flags = []
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        return ["nested too deeply to read"]
    for node in nodes:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        for name in names:
            top = name.split(".")[0]
            if top == "gdcourse":
                flags.append(f"imports {name} (the grader's package)")
            elif top in _MODULES_TO_REVIEW:
                flags.append(f"imports {name}")
        if isinstance(node, ast.Name) and node.id in _CALLS_TO_REVIEW:
            flags.append(_CALLS_TO_REVIEW[node.id])
        if isinstance(node, ast.Attribute):
            if node.attr in _NUMPY_FILE_IO or node.attr in ("read_text", "write_text", "open",
                                                            "read_bytes", "write_bytes"):
                flags.append(f"file access (.{node.attr})")
            if node.attr in _PROCESS_CALLS and isinstance(node.value, ast.Name) \
                    and node.value.id in ("os", "subprocess", "pty"):
                flags.append(f"spawns or signals processes ({node.value.id}.{node.attr})")
            if node.attr.startswith("__") and node.attr.endswith("__") and node.attr not in (
                    "__init__", "__name__"):
                flags.append(f"uses {node.attr}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and re.search(r"gdcourse|solutions|\.ipynb|__builtins__", node.value):
            flags.append("a string naming the package, solutions or notebooks")
    return list(dict.fromkeys(flags))


def _lessons_to_grade(students, answers_by_student, lesson) -> list[str]:
    if lesson:
        digits = re.sub(r"\D", "", str(lesson))
        return [f"lesson{int(digits):02d}"] if digits else [str(lesson)]
    found = set()
    for answers in answers_by_student.values():
        found.update(ex_id.split(".")[0] for ex_id in answers)
    if not found:
        for student in students:
            for path in student.files:
                match = re.search(r"(?:^|[_\-\s])(\d\d)_", path.name) or re.match(r"(\d\d)_",
                                                                                  path.name)
                if match:
                    found.add(f"lesson{match.group(1)}")
    known = set(_core.available_lessons())
    return sorted(found & known)


# ---------------------------------------------------------------------------
# the pool of fork-server workers
# ---------------------------------------------------------------------------

class _Verdict(NamedTuple):
    status: str
    message: str


class _WorkerProcess:
    def __init__(self, config: dict, log_path: Path, cwd: str, folder: str):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": cwd, "TMPDIR": cwd,
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "GDCOURSE_HEADLESS": "1", "LC_ALL": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "GDCOURSE_LANG": _messages.get_language()}
        self.folder = folder    # the answers' folder: one answer at a time, emptied between
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", _BOOT, _PKG_ROOT],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, cwd=cwd, env=env, start_new_session=True)
        self.proc.stdin.write((json.dumps(dict(config, folder=folder)) + "\n").encode())
        self.proc.stdin.flush()
        self._pending = b""
        line = self._readline(600.0)
        if not line.startswith(b'{"ready"'):
            self.close()
            raise RuntimeError(f"the grading worker did not start (see {log_path})")

    def _readline(self, wait: float) -> bytes:
        """One line from the worker within ``wait`` seconds (b"" if it closed or is late)."""
        fd = self.proc.stdout.fileno()
        poller = select.poll()          # not select(): no limit on descriptor numbers
        poller.register(fd, select.POLLIN)
        deadline = time.monotonic() + wait
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(int(remaining * 1000) + 1):
                return b""
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b""
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line + b"\n"

    def request(self, request: dict, wait: float) -> dict:
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        line = self._readline(wait)
        if not line:
            raise RuntimeError("the grading worker stopped answering")
        return json.loads(line)

    def close(self, grace: float = 2.0):
        # end of input first: an idle worker then leaves and removes its pids cgroup
        # (gdcourse._sandbox._Worker.leave_cgroup) and exits; the group is killed either way
        try:
            self.proc.stdin.close()
            self.proc.wait(grace)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        cgroup_root = _sandbox.probe().get("pids_cgroup")
        if cgroup_root:    # a worker killed before it could remove its own cgroup
            cgroup = os.path.join(cgroup_root, f"gdcourse-{self.proc.pid}")
            if os.path.isdir(cgroup):
                _sandbox.remove_cgroup(cgroup)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.log.close()


class _Pool:
    """``jobs`` warm workers; :meth:`run` sends one job to a free one (thread-safe).

    Workers are started by one long-lived thread: a worker dies with the thread
    that started it (``PR_SET_PDEATHSIG``), so that a killed grader leaves none behind.
    """

    def __init__(self, jobs: int, features: dict, preambles: list, forbidden: list, tmp: str,
                 fresh: bool = False):
        self.fresh = fresh
        self.config = {"features": features, "preambles": preambles, "processes": _MAX_PROCESSES,
                       "readable": _sandbox.readable_roots(forbidden)}
        self.tmp, self.jobs = tmp, jobs
        self.idle: queue.Queue = queue.Queue()
        self.orders: queue.Queue = queue.Queue()
        self.all: list = []
        self.lock = threading.Lock()
        self.started = 0
        self.spawner = threading.Thread(target=self._spawn_loop, name="gdcourse-workers",
                                        daemon=True)
        self.spawner.start()
        for _ in range(jobs):
            self.orders.put(True)

    def _spawn_loop(self):
        while self.orders.get():
            self.started += 1
            folder = str(Path(self.tmp) / f"worker{self.started}")
            try:
                worker = _WorkerProcess(self.config, Path(self.tmp) / "workers.log", self.tmp,
                                        folder)
            except Exception as exc:
                self.idle.put(exc)
                continue
            with self.lock:
                self.all.append(worker)
            self.idle.put(worker)

    def run(self, request: dict, wait: float, collect: Callable) -> tuple:
        """``(reply, collect(folder, reply))``: ``collect`` reads what the answer left in its
        folder while the worker is still reserved (its next answer empties the folder)."""
        worker = self.idle.get()
        if self.fresh and not isinstance(worker, Exception):   # one interpreter per answer
            self.orders.put(True)
            try:
                reply = worker.request(request, wait)
                return reply, collect(worker.folder, reply)
            finally:
                worker.close()
                with self.lock:
                    self.all.remove(worker)
                shutil.rmtree(worker.folder, ignore_errors=True)
        if isinstance(worker, Exception):
            self.orders.put(True)
            raise worker
        try:
            reply = worker.request(request, wait)
            found = collect(worker.folder, reply)
        except Exception:
            worker.close(grace=0)
            with self.lock:
                self.all.remove(worker)
            self.orders.put(True)
            raise
        self.idle.put(worker)
        return reply, found

    def close(self):
        self.orders.put(False)
        self.spawner.join(30)
        with self.lock:
            for worker in self.all:
                worker.close()


_SIGNAL_WHY = {"SIGXCPU": N_(" (CPU time limit)"), "SIGKILL": "",
               "SIGSEGV": N_(" (a crash)"), "SIGXFSZ": N_(" (file size limit)")}


class _Prepared(NamedTuple):
    """What every answer to one exercise shares, computed once per class."""

    cases_path: str         # <tmp>/cases/<id>: .json (the tree) + .npz (its arrays), for workers
    cases: list             # the decoded cases, for judging
    expected: list          # the reference outputs
    preamble: str
    judge: object           # the exercise with its mistakes' outputs remembered (_MemoJudge)
    verdicts: dict          # digest of an answer's result file -> its verdict


def _case_key(case) -> tuple:
    """A key equal for copies of one case: arrays by content, anything else by identity
    (the judge copies only the arrays of a case, see ``_core._copy_case``)."""
    return tuple(("a", a.dtype.str, a.shape, a.tobytes()) if isinstance(a, np.ndarray)
                 else ("i", id(a)) for a in case)


class _MemoJudge:
    """An exercise's judge that runs each named mistake once per grading case.

    To name a mistake the judge runs every mistake function on the cases the answer
    gets wrong and compares with the reference; the cases are the same for the whole
    class, so those outputs and comparisons are remembered (mistakes are deterministic
    functions of the case, like the reference).  Everything the learner's output takes
    part in is computed afresh.
    """

    def __init__(self, exercise, expected: list):
        self.exercise = exercise
        self.view = copy.copy(exercise)
        self._mistakes = {id(m.fn) for m in exercise.mistakes}
        self._runs: dict = {}
        self._compares: dict = {}
        self._kept: list = list(expected)          # alive, so that their ids stay theirs
        self._stable = {id(w) for w in expected}
        self.view.run = self._run
        self.view.compare = self._compare

    def _run(self, fn, case):
        if id(fn) not in self._mistakes:
            return self.exercise.run(fn, case)
        key = (id(fn), _case_key(case))
        hit = self._runs.get(key)
        if hit is None:
            try:
                hit = ("value", self.exercise.run(fn, case))
            except Exception as exc:
                hit = ("raised", exc)
            self._runs[key] = hit
            if hit[0] == "value" and isinstance(hit[1], tuple) and hit[1]:
                self._kept.append(hit[1][0])
                self._stable.add(id(hit[1][0]))
        if hit[0] == "raised":
            raise hit[1]
        return hit[1]

    def _compare(self, got, want):
        if id(got) in self._stable and id(want) in self._stable:
            key = (id(got), id(want))
            if key not in self._compares:
                self._compares[key] = self.exercise.compare(got, want)
            return self._compares[key]
        return self.exercise.compare(got, want)

    def judge(self, cases, outcomes, expected):
        return self.view.judge(cases, outcomes, expected)


def _prepare(exercise, seed: int, folder: Path) -> _Prepared:
    cases = exercise.grading_cases(seed)
    arrays: dict = {}
    tree = [encode(case, arrays) for case in cases]
    path = folder / exercise.id
    path.with_name(exercise.id + ".json").write_text(json.dumps(tree), encoding="utf-8")
    np.savez(path.with_name(exercise.id + ".npz"), **arrays)
    decoded = [tuple(decode(c, arrays)) for c in tree]
    expected = [exercise.expected(c) for c in decoded]
    return _Prepared(str(path), decoded, expected, _core.preamble(exercise.lesson),
                     _MemoJudge(exercise, expected), {})


_MAX_RESULT_BYTES = 220 << 20


def _collect_files(folder: str, reply: dict):
    """What the answer left: ``(bytes of its result file, None)``, or ``(None, the last
    line of its stderr)`` when it did not report, or ``(the exception, None)``."""
    path = Path(folder) / _sandbox.RESULT_NAME
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_RESULT_BYTES + 1)
    except FileNotFoundError:
        return None, _stderr_tail(Path(folder) / "stderr.txt")
    except OSError as exc:
        return exc, None
    if len(raw) > _MAX_RESULT_BYTES:
        return ValueError("the results are too large"), None
    return raw, None


def _run_answer(pool, number, exercise, sources, labels, prepared: _Prepared, timeout,
                memory_mb) -> _Verdict:
    limits = {"cpu": int(np.ceil(timeout)) + 1, "memory_mb": int(memory_mb),
              "processes": _MAX_PROCESSES}
    job = {"name": exercise.name, "call": exercise.run.wire(), "sources": sources,
           "labels": labels, "preamble": prepared.preamble, "cases": prepared.cases_path}
    reply, (found, tail) = pool.run({"job": job, "timeout": timeout, "limits": limits,
                                     "number": number}, wait=timeout + 30,
                                    collect=_collect_files)
    if reply.get("sandbox_error"):
        return _Verdict("crashed", _t("the sandbox could not be set up: {error}",
                                      error=_short(reply['sandbox_error'], 160)))
    if reply.get("timeout"):
        return _Verdict("timeout", _t("stopped after the time limit of {seconds} s "
                                      "(an infinite loop?)", seconds=f"{timeout:g}"))
    if found is None or reply.get("exit") not in (0, None) or reply.get("signal"):
        sig = reply.get("signal")
        if sig:
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            return _Verdict("crashed", _t("the answer's process was killed by {signal}",
                                          signal=name) + (_t(_SIGNAL_WHY[name]) if _SIGNAL_WHY.get(name) else ""))
        tail = tail or ""
        if "MemoryError" in tail:
            return _Verdict("crashed", _t("ran out of memory (limit {mb} MB)", mb=f"{memory_mb:g}"))
        return _Verdict("crashed", _t("the answer's process exited (code {code}) before reporting "
                                      "results (os._exit or sys.exit?)", code=reply.get('exit'))
                        + (': ' + tail if tail else ''))
    return _judge_result(found, prepared)


def _stderr_tail(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 2000))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        return _short(lines[-1], 160) if lines else ""
    except OSError:
        return ""


def _judge_result(found, prepared: _Prepared) -> _Verdict:
    """The verdict on one result file; the same bytes (answers whose outputs are
    identical, e.g. two copies of the reference or of one mistake) get the verdict
    judged the first time: decoding and judging are functions of those bytes alone."""
    if isinstance(found, bytes):
        digest = hashlib.blake2b(found, digest_size=32).digest()
        verdict = prepared.verdicts.get(digest)
        if verdict is None:
            verdict = prepared.verdicts[digest] = _judge_bytes(found, prepared)
        return verdict
    return _judge_bytes(found, prepared)


def _judge_bytes(found, prepared: _Prepared) -> _Verdict:
    try:
        if isinstance(found, Exception):
            if "too large" in str(found):
                return _Verdict("crashed", _t("the answer's results are too large"))
            raise found
        data, arrays = _sandbox.parse_result(found)
        load_error = data.get("load_error")
        if load_error == "not_implemented":
            return _Verdict("not_attempted", _t("not attempted: the stub still raises "
                                                "NotImplementedError"))
        if load_error:
            return _Verdict("error", _t("the answer cell failed to run: {error}",
                                        error=_short(load_error)))
        outcomes = [decode_outcome(o, arrays) for o in data["outcomes"]]
    except Exception as exc:  # anything odd in what the child wrote
        return _Verdict("crashed", _t("the answer's results could not be read ({error})",
                                      error=type(exc).__name__))
    try:
        result = prepared.judge.judge(prepared.cases, outcomes, prepared.expected)
    except Exception as exc:
        return _Verdict("error", _t("the result could not be judged ({error})",
                                    error=f"{type(exc).__name__}: {_short(exc, 100)}"))
    return _Verdict(result.status, result.message)


# ---------------------------------------------------------------------------
# the whole batch
# ---------------------------------------------------------------------------

class _Progress:
    """A bar redrawn in place on a terminal; in a log (not a TTY), a line per tenth of the work."""

    def __init__(self, total, stream):
        self.total, self.done, self.stream = total, 0, stream
        self.lock = threading.Lock()
        isatty = getattr(stream, "isatty", None)
        self.live = bool(isatty and isatty())

    def step(self):
        with self.lock:
            self.done += 1
            if self.stream is None:
                return
            if not self.live:
                tenth = max(self.total // 10, 1)
                if self.done % tenth == 0 or self.done == self.total:
                    self.stream.write(f"grading: {self.done}/{self.total} answers\n")
                    self.stream.flush()
                return
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] "
                              f"{self.done}/{self.total} answers")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def _collect_answers(student: Student):
    """``({ex_id: (file label, index, source, copies)}, [problems], [notes])`` for one student."""
    answers, problems, notes = {}, [], list(student.notes)
    for path in student.files:
        label = _printable(path.name)
        cells, problem = _answer_cells(path)
        if problem:
            problems.append(f"{label}: {problem}")
            continue
        per_id = defaultdict(list)
        for index, ex_id, source in cells:
            per_id[ex_id].append((index, source))
        for ex_id, copies in per_id.items():
            index, source = copies[-1]
            if ex_id in answers:
                notes.append(f"{ex_id} is also answered in {label}; graded the copy in "
                             f"{answers[ex_id][0]}")
                continue
            answers[ex_id] = (label, index, source, len(copies))
            if len(copies) > 1:
                notes.append(f"{ex_id}: its answer cell appears {len(copies)} times in {label}; "
                             f"graded the last copy (cell {index}), the one the notebook runs")
    return answers, problems, notes


def _wireable_error(exercise) -> str:
    try:
        exercise.run.wire()
        return ""
    except Exception as exc:
        return str(exc)


def _wireable(exercise) -> bool:
    return not _wireable_error(exercise)


def grade(submissions, *, seed: int, timeout: float = 10.0, memory_mb: float = 1024,
          lesson=None, jobs: int | None = None, progress=None,
          on_row: Callable[[GradeRow], None] | None = None,
          done: dict | None = None, features: dict | None = None,
          fresh_interpreters: bool = False, shard=None) -> list[GradeRow]:
    """Grade every submission in the folder; one :class:`GradeRow` per student × exercise.

    ``on_row(row)`` is called the moment each row is final; ``done`` maps
    ``(student, exercise)`` to rows already graded (they are returned, not
    re-run).  ``features`` overrides what the sandbox uses (for tests);
    default: everything :func:`gdcourse._sandbox.probe` finds.
    ``fresh_interpreters=True`` starts a new worker for every answer instead of
    forking warm ones (the slow path, to compare with; same sandbox, same grades).
    ``shard`` (``"K/N"`` or ``(K, N)``) keeps only the students of that shard
    (:func:`gdcourse.gradebook.select_shard`).
    """
    folder = Path(submissions)
    done = dict(done or {})
    students = discover_students(folder)
    if shard is not None:
        from .gradebook import select_shard
        students = select_shard(students, shard, key=lambda student: student.key)
    answers_by_student, unreadable, notes_by_student = {}, {}, {}
    for student in students:
        try:
            answers, problems, notes = _collect_answers(student)
        except Exception as exc:  # never lose a student
            answers, problems, notes = {}, [f"unreadable: {type(exc).__name__}"], []
        answers_by_student[student.key] = answers
        notes_by_student[student.key] = notes
        if student.problem:
            unreadable[student.key] = student.problem
        elif problems and not answers:
            unreadable[student.key] = "; ".join(problems)
        elif problems:
            notes_by_student[student.key] = notes + [f"skipped {p}" for p in problems]
    lessons = _lessons_to_grade(students, answers_by_student, lesson)
    if not lessons:
        raise ValueError("cannot tell which lesson these submissions are for: no answer cells "
                         "with a known exercise id; pass --lesson NN.")
    exercises = [ex for name in lessons for ex in _core.lesson_exercises(name)]
    features = _sandbox.probe() if features is None else dict(features)
    missing = _sandbox.not_enforced(features)
    sandbox_note = ("not enforced: " + "; ".join(missing)) if missing else ""
    flag_cache: dict = {}

    def flags_of(source):
        if source not in flag_cache:
            flag_cache[source] = review_flags(source)
        return flag_cache[source]

    rows: dict[tuple[str, str], GradeRow] = {}

    def final(row: GradeRow):
        rows[(row.student, row.exercise)] = row
        if on_row is not None:
            on_row(row)

    tasks = []
    for student in students:
        key = student.key
        answers = answers_by_student[key]
        for ex in exercises:
            if (key, ex.id) in done:
                rows[(key, ex.id)] = done[(key, ex.id)]
                continue
            notes = "; ".join(notes_by_student[key])
            if key in unreadable:
                final(GradeRow(key, ex.id, 0.0, ex.points, "unreadable", unreadable[key], notes))
            elif not _wireable(ex):
                final(GradeRow(key, ex.id, 0.0, ex.points, "error",
                               f"cannot grade {ex.id} in the sandbox: {_wireable_error(ex)}",
                               notes))
            elif ex.id not in answers:
                final(GradeRow(key, ex.id, 0.0, ex.points, "missing",
                               _t("no answer cell with id {id} (first line "
                                  "'# exercise: {id}')", id=ex.id), notes))
            else:
                tasks.append((key, ex))

    def job_of(key, ex):
        notebook, index, _source, _copies = answers_by_student[key][ex.id]
        ran = sorted((i, ex_id, src) for ex_id, (nb, i, src, _c) in answers_by_student[key].items()
                     if nb == notebook and ex_id.split(".")[0] == ex.lesson and i <= index)
        sources = [src for _i, _id, src in ran]
        labels = [ex_id for _i, ex_id, _src in ran]
        review = []
        for label, src in zip(labels, sources):
            where = "" if label == ex.id else f" (in the {label} cell, which runs first)"
            review += [flag + where for flag in flags_of(src)]
        review += [n for n in notes_by_student[key] if not n.startswith("lesson")
                   or n.startswith(ex.id)]
        return sources, labels, "; ".join(dict.fromkeys(review))

    if not tasks:
        if progress is not None:
            progress.write("grading: no answers to run\n")
        return [rows[(s.key, ex.id)] for s in students for ex in exercises]

    n_jobs = max(1, int(jobs or os.cpu_count() or 1))
    n_jobs = min(n_jobs, len(tasks))
    progress_bar = _Progress(len(tasks), progress)
    forbidden = [str(_PKG_DIR), str(folder.resolve())]
    if (_PKG_DIR.parent / "pyproject.toml").is_file():
        # an editable install: the repo also holds solutions/ (the repo is never readable
        # anyway; this keeps a root above it, or a .venv inside it, from opening them)
        forbidden += [str(_PKG_DIR.parent / name) for name in ("solutions", "exercises",
                                                                "lessons", "tests")]
    with tempfile.TemporaryDirectory(prefix="gdcourse-grade-") as tmp:
        forbidden.append(tmp)
        (Path(tmp) / "cases").mkdir()
        prepared = {ex.id: _prepare(ex, seed, Path(tmp) / "cases")
                    for ex in {ex.id: ex for _k, ex in tasks}.values()}
        preambles = sorted({p.preamble for p in prepared.values()})
        pool = _Pool(n_jobs, features, preambles, forbidden, tmp, fresh=fresh_interpreters)
        counter = iter(range(10 ** 9))
        counter_lock = threading.Lock()

        def attempt(key, ex):
            with counter_lock:
                number = next(counter)
            sources, labels, review = job_of(key, ex)
            try:
                verdict = _run_answer(pool, number, ex, sources, labels, prepared[ex.id],
                                      timeout, memory_mb)
            except Exception as exc:  # never lose a row
                verdict = _Verdict("crashed", f"grading failed: {type(exc).__name__}: "
                                              f"{_short(exc, 120)}")
            points = ex.points if verdict.status == "correct" else 0.0
            return GradeRow(key, ex.id, points, ex.points, verdict.status, verdict.message,
                            review, sandbox_note)

        retry = []
        retry_lock = threading.Lock()
        work: queue.Queue = queue.Queue()
        for task in tasks:
            work.put(task)

        errors: list = []

        def runner():
            while True:
                try:
                    key, ex = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    row = attempt(key, ex)
                except Exception as exc:   # never let a thread die with a row in hand
                    row = GradeRow(key, ex.id, 0.0, ex.points, "crashed",
                                   f"grading failed: {type(exc).__name__}", "", sandbox_note)
                if row.status == "crashed":
                    with retry_lock:
                        retry.append((key, ex, row))
                    continue
                progress_bar.step()
                try:
                    final(row)
                except Exception as exc:   # e.g. the gradebook's disk is full: say so at the end
                    errors.append(exc)

        try:
            # two threads per worker: while one judges an answer (Python, under the GIL),
            # the other keeps the worker busy with the next one
            threads = [threading.Thread(target=runner, daemon=True) for _ in range(2 * n_jobs)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # a crash may come from a sibling's answer: each crashed one runs again, alone
            for key, ex, first in sorted(retry, key=lambda r: (r[0], r[1].id)):
                row = attempt(key, ex)
                if row.status == "crashed":
                    row = row._replace(message=row.message + _t(" (also when retried alone)"))
                progress_bar.step()
                final(row)
            if errors:
                raise errors[0]
        finally:
            pool.close()
    return [rows[(s.key, ex.id)] for s in students for ex in exercises]


# ---------------------------------------------------------------------------
# the gradebook file
# ---------------------------------------------------------------------------

def _csv_fields(row: GradeRow) -> list:
    return [row.student, row.exercise, f"{row.points:g}", f"{row.max_points:g}", row.status,
            row.message, row.review, row.sandbox]


def write_csv(rows, path, shard=None) -> None:
    """Write the whole gradebook atomically (a temporary file, then a rename).

    With ``shard`` ``(k, n)`` the file is a part for ``gdcourse merge-grades``: its
    first line is ``# gdcourse-shard: k/n``.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8", errors="backslashreplace") as fh:
        if shard is not None:
            fh.write(f"# gdcourse-shard: {shard[0]}/{shard[1]}\n")
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow(_csv_fields(row))
    os.replace(tmp, path)


def read_csv(path) -> dict:
    """``{(student, exercise): GradeRow}`` from a gradebook (a partial one, for ``--resume``)."""
    rows = {}
    with open(path, newline="", encoding="utf-8") as fh:
        first = fh.readline()
        if not first.startswith("#"):     # a shard part's '# gdcourse-shard: k/n' line
            fh.seek(0)
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or list(reader.fieldnames)[:7] != list(CSV_COLUMNS)[:7]:
            raise ValueError(f"{path} is not a gdcourse gradebook (columns "
                             f"{', '.join(CSV_COLUMNS)})")
        for r in reader:
            try:
                row = GradeRow(r["student"], r["exercise"], float(r["points"]),
                               float(r["max_points"]), r["status"], r["message"],
                               r.get("review") or "", r.get("sandbox") or "")
            except (TypeError, ValueError, KeyError):
                continue   # a line cut short by a kill: graded again
            if row.status:
                rows[(row.student, row.exercise)] = row
    return rows


class _Appender:
    """Append each row to the CSV and flush it at once."""

    def __init__(self, path: Path, fresh: bool):
        self.lock = threading.Lock()
        exists = path.exists() and path.stat().st_size > 0 and not fresh
        if exists:
            with open(path, "rb") as fh:    # a line cut short by a kill: start on a new line
                fh.seek(-1, os.SEEK_END)
                ends = fh.read(1) == b"\n"
        self.fh = open(path, "a" if exists else "w", newline="", encoding="utf-8",
                       errors="backslashreplace")
        if exists and not ends:
            self.fh.write("\r\n")
        self.writer = csv.writer(self.fh)
        if not exists:
            self.writer.writerow(CSV_COLUMNS)
            self.fh.flush()

    def __call__(self, row: GradeRow):
        with self.lock:
            self.writer.writerow(_csv_fields(row))
            self.fh.flush()

    def close(self):
        self.fh.close()


def _summary(rows) -> str:
    by_exercise = defaultdict(list)
    for row in rows:
        by_exercise[row.exercise].append(row)
    width = max(len(e) for e in by_exercise)
    head = _t("exercise")
    width = max(width, _messages.width(head))
    # the column titles in the current language; a wider title widens its column (the status
    # words stay the CSV's own, in English)
    correct, points = _t("correct"), _t("mean points")
    w_ok, w_mean = max(7, _messages.width(correct)), max(11, _messages.width(points))
    lines = [f"{_messages.pad(head, width)}  {_messages.pad(correct, w_ok)}  "
             f"{_messages.pad(points, w_mean)}  {_t('statuses')}"]
    for ex_id, ex_rows in by_exercise.items():
        n_ok = sum(r.status == "correct" for r in ex_rows)
        mean = sum(r.points for r in ex_rows) / len(ex_rows)
        counts = Counter(r.status for r in ex_rows)
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        lines.append(f"{ex_id:<{width}}  {f'{n_ok:>3}/{len(ex_rows):<3}':<{w_ok}}  "
                     f"{f'{mean:>5.2f}/{ex_rows[0].max_points:<4g}':<{w_mean - 1}}  {statuses}")
    flagged = [r for r in rows if r.review]
    if flagged:
        lines.append(_t("{n} answer(s) flagged for review (see the 'review' column):",
                        n=len(flagged)))
        lines += [f"  {r.student} · {r.exercise}: {_short(r.review, 160)}" for r in flagged[:20]]
        if len(flagged) > 20:
            lines.append("  " + _t("... and {n} more", n=len(flagged) - 20))
    return "\n".join(lines)


def cli(argv=None) -> int:
    """``gdcourse grade``: 0 when every row was written, 2 on bad usage."""
    parser = argparse.ArgumentParser(
        prog="gdcourse grade",
        description="Grade a folder of submitted exercise notebooks into a CSV gradebook.")
    parser.add_argument("submissions", type=Path, help="folder with one notebook (or folder) "
                                                       "per student")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden inputs (default: a fresh one, printed)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds allowed per answer (default 10)")
    parser.add_argument("--memory", type=float, default=1024, help="MB allowed per answer "
                                                                   "(default 1024)")
    parser.add_argument("--lesson", default=None, help="lesson number, e.g. 1 (default: from "
                                                       "the notebooks)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="answers run in parallel (default: the number of cores)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows already in --out and grade only the missing ones "
                             "(needs the --seed of the first run)")
    parser.add_argument("--lang", choices=_messages.LANGUAGES, default=None,
                        help="the language of the messages (default: GDCOURSE_LANG, else English); "
                             "the status column stays in English")
    from . import gradebook
    gradebook.add_grade_options(parser)  # --shard K/N, --wide GRADEBOOK.csv, --feedback DIR
    args = parser.parse_args(argv)
    try:
        lang = args.lang or _messages.get_language()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with _messages.language(lang):
        return _grade_cli(args)


def _grade_cli(args) -> int:
    from . import gradebook
    try:
        shard = gradebook.parse_shard(args.shard) if args.shard is not None else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.submissions.is_dir():
        print(f"error: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    if args.timeout <= 0 or args.memory < 64:
        print("error: --timeout must be > 0 and --memory at least 64 (MB)", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print(f"error: --jobs must be at least 1, but got {args.jobs}", file=sys.stderr)
        return 2
    done = {}
    if args.resume:
        if args.seed is None:
            print("error: --resume needs the --seed of the first run (it is printed when "
                  "grading starts)", file=sys.stderr)
            return 2
        if args.out.exists():
            try:
                done = read_csv(args.out)
            except (OSError, ValueError) as exc:
                print(f"error: cannot resume from {args.out}: {exc}", file=sys.stderr)
                return 2
    seed = args.seed if args.seed is not None else secrets.randbelow(2 ** 31)
    missing = _sandbox.not_enforced()
    print(f"grading with seed {seed}" + (f" (resuming: {len(done)} rows kept)" if done else ""),
          file=sys.stderr, flush=True)
    if missing:
        print("note: the sandbox cannot enforce on this kernel: " + "; ".join(missing)
              + " (the 'sandbox' column marks the rows)", file=sys.stderr, flush=True)
    appender = _Appender(args.out, fresh=not args.resume)
    try:
        rows = grade(args.submissions, seed=seed, timeout=args.timeout, memory_mb=args.memory,
                     lesson=args.lesson, jobs=args.jobs, progress=sys.stderr, on_row=appender,
                     done=done, shard=shard)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        appender.close()
    write_csv(rows, args.out, shard=shard)  # a part starts '# gdcourse-shard: K/N'
    gradebook.write_outputs(rows, args)
    print(_summary(rows) if rows else _t("no students in this shard"))
    students = len({r.student for r in rows})
    print(_t("wrote {out}: {rows} rows for {students} submission(s); seed {seed} "
             "(pass --seed {seed} to reproduce)", out=args.out, rows=len(rows),
             students=students, seed=seed))
    return 0
