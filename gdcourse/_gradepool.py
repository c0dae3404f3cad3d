"""The grader's workers, for :mod:`gdcourse.grading`: warm, pre-imported interpreters (one per
core), each cloning a sandboxed child per answer (:mod:`gdcourse._sandbox`), and the judging
of what the child sends back, done here, in the grader, against references computed once per
class."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import queue
import shutil
import signal
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from . import _messages, _sandbox
from ._messages import N_, _t
from .exercises import _core
from .exercises._compare import _short
from .exercises._wire import decode, decode_outcome, encode

_PKG_DIR = Path(__file__).resolve().parent
_PKG_ROOT = str(_PKG_DIR.parent)

_BOOT = """\
import sys
sys.path.insert(0, sys.argv[1])
from gdcourse._sandbox import serve
serve()
"""

_MAX_PROCESSES = 32


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
