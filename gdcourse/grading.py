"""Instructor grading: ``gdcourse grade SUBMISSIONS_DIR --out grades.csv``.

How a submission is graded
--------------------------
1. Each entry of ``SUBMISSIONS_DIR`` is one student: a file (the student is
   its name without the suffix) or a folder of notebooks (the folder's name).
2. From each notebook only the **answer cells** are taken, found by exercise
   id (metadata ``gdcourse.exercise`` or the first-line comment
   ``# exercise: lessonNN.name``).  Check cells, edits to them, and every
   other cell are ignored: the checks come from :mod:`gdcourse.exercises`.
3. Each answer runs in a fresh ``python -I`` child process (its lesson's
   earlier answer cells first, so helpers it calls exist), with a wall-clock
   time limit, a CPU-time limit and an address-space limit
   (``resource.setrlimit``), on inputs drawn from the instructor's ``--seed``.
   The child writes its outputs as data, JSON plus an ``.npz`` loaded with
   ``allow_pickle=False``; the grading process compares them with the
   package's reference, so nothing the student runs can change a verdict.
4. Every student gets one row per exercise, whatever happens: ``correct``,
   ``incorrect``, ``error`` (the answer raised), ``not_attempted`` (the stub),
   ``timeout``, ``crashed`` (the process died, e.g. ``os._exit``, a signal),
   ``missing`` (no answer cell), ``unreadable`` (a corrupt or non-notebook file).
   The ``review`` column flags answers that import gdcourse or
   importlib/os/sys-like modules, open files, or use exec/eval/__import__.

Answers run two at a time (``--jobs``, default 2).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .authoring import answer_id
from .exercises import _core

__all__ = ["GradeRow", "grade", "write_csv", "review_flags", "read_answers", "cli"]

_PKG_ROOT = str(Path(__file__).resolve().parent.parent)

_BOOT = """\
import resource, sys
job, root, mem_mb, cpu_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for limit, value in ((resource.RLIMIT_AS, mem_mb << 20), (resource.RLIMIT_CPU, cpu_s),
                     (resource.RLIMIT_FSIZE, 64 << 20), (resource.RLIMIT_CORE, 0)):
    resource.setrlimit(limit, (value, value))
sys.path.insert(0, root)
from gdcourse.exercises._core import _child_main
_child_main(job)
"""

CSV_COLUMNS = ("student", "exercise", "points", "max_points", "status", "message", "review")


class GradeRow(NamedTuple):
    student: str
    exercise: str
    points: float
    max_points: float
    status: str
    message: str
    review: str = ""


# ---------------------------------------------------------------------------
# reading submissions
# ---------------------------------------------------------------------------

def read_answers(path: Path) -> tuple[dict, str | None]:
    """``({exercise_id: (cell_index, source)}, None)`` or ``({}, why_unreadable)``."""
    try:
        if path.stat().st_size > 50 << 20:
            return {}, "unreadable: the file is larger than 50 MB"
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"unreadable: {type(exc).__name__} ({exc})"
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return {}, f"unreadable: not a notebook (invalid JSON: {exc})"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return {}, "unreadable: not a Jupyter notebook (no list of cells)"
    answers = {}
    for index, cell in enumerate(raw["cells"]):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        cell = dict(cell, source=source)
        try:
            ex_id = answer_id(cell)
        except (AttributeError, TypeError):
            ex_id = None
        if ex_id and ex_id not in answers:
            answers[ex_id] = (index, source)
    return answers, None


def _discover(folder: Path) -> list[tuple[str, list[Path]]]:
    students = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "__")):
            continue
        if entry.is_dir():
            files = sorted(p for p in entry.rglob("*") if p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(entry).parts))
            students.append((entry.name, files))
        else:
            students.append((entry.stem, [entry]))
    return students


_MODULES_TO_REVIEW = {"gdcourse", "importlib", "os", "sys", "subprocess", "shutil", "pathlib",
                      "io", "builtins", "ctypes", "pickle", "socket", "marshal", "inspect"}
_CALLS_TO_REVIEW = {"open": "opens files", "exec": "uses exec", "eval": "uses eval",
                    "compile": "uses compile", "__import__": "uses __import__",
                    "breakpoint": "uses breakpoint", "input": "uses input"}
_NUMPY_FILE_IO = {"load", "save", "savez", "loadtxt", "savetxt", "genfromtxt", "fromfile",
                  "tofile", "memmap"}


def review_flags(source: str) -> list[str]:
    """Reasons for an instructor to read this answer by eye (empty if none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"does not parse (line {exc.lineno})"]
    except (ValueError, RecursionError):
        return ["does not parse"]
    flags = []
    for node in ast.walk(tree):
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
            if node.attr in _NUMPY_FILE_IO or node.attr in ("read_text", "write_text", "open"):
                flags.append(f"file access (.{node.attr})")
            if node.attr.startswith("__") and node.attr.endswith("__") and node.attr not in (
                    "__init__", "__name__"):
                flags.append(f"uses {node.attr}")
    return list(dict.fromkeys(flags))


def _lessons_to_grade(students, answers_by_student, lesson) -> list[str]:
    if lesson:
        digits = re.sub(r"\D", "", str(lesson))
        return [f"lesson{int(digits):02d}"] if digits else [str(lesson)]
    found = set()
    for answers in answers_by_student.values():
        found.update(ex_id.split(".")[0] for ex_id in answers)
    if not found:
        for _student, files in students:
            for path in files:
                match = re.search(r"(?:^|[_\-\s])(\d\d)_", path.name) or re.match(r"(\d\d)_", path.name)
                if match:
                    found.add(f"lesson{match.group(1)}")
    known = set(_core.available_lessons())
    return sorted(found & known)


# ---------------------------------------------------------------------------
# running one answer in a child process
# ---------------------------------------------------------------------------

class _Verdict(NamedTuple):
    status: str
    message: str


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_answer(exercise, job_dir: Path, sources, labels, cases_tree, case_arrays, expected,
                preamble, timeout, memory_mb) -> _Verdict:
    job_dir.mkdir(parents=True)
    (job_dir / "job.json").write_text(json.dumps({
        "exercise": exercise.id, "name": exercise.name, "sources": sources, "labels": labels,
        "preamble": preamble, "cases": cases_tree}))
    np.savez(job_dir / "cases.npz", **case_arrays)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(job_dir),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "GDCOURSE_HEADLESS": "1", "LC_ALL": "C.UTF-8"}
    cpu = int(np.ceil(timeout)) + 1
    with open(job_dir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(job_dir), _PKG_ROOT, str(int(memory_mb)),
             str(cpu)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=job_dir,
            env=env, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
            return _Verdict("timeout", f"stopped after the time limit of {timeout:g} s "
                                       f"(an infinite loop?)")
        _kill_group(proc)  # anything the answer left running
    result_json, result_npz = job_dir / "result.json", job_dir / "result.npz"
    if not result_json.exists() or not result_npz.exists():
        code = proc.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            why = {"SIGXCPU": " (CPU time limit)", "SIGKILL": "", "SIGSEGV": " (a crash)",
                   "SIGXFSZ": " (file size limit)"}.get(name, "")
            return _Verdict("crashed", f"the answer's process was killed by {name}{why}")
        tail = _stderr_tail(job_dir / "stderr.txt")
        if "MemoryError" in tail:
            return _Verdict("crashed", f"ran out of memory (limit {memory_mb:g} MB)")
        return _Verdict("crashed", f"the answer's process exited (code {code}) before reporting "
                                   f"results (os._exit or sys.exit?){': ' + tail if tail else ''}")
    return _judge_files(exercise, result_json, result_npz, cases_tree, case_arrays, expected)


def _stderr_tail(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 2000))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        return _core._short(lines[-1], 160) if lines else ""
    except OSError:
        return ""


def _judge_files(exercise, result_json, result_npz, cases_tree, case_arrays, expected) -> _Verdict:
    try:
        if result_json.stat().st_size > 20 << 20 or result_npz.stat().st_size > 200 << 20:
            return _Verdict("crashed", "the answer's results are too large")
        data = json.loads(result_json.read_text(encoding="utf-8"))
        with np.load(result_npz, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        load_error = data.get("load_error")
        if load_error == "not_implemented":
            return _Verdict("not_attempted", "not attempted: the stub still raises "
                                             "NotImplementedError")
        if load_error:
            return _Verdict("error", f"the answer cell failed to run: {_core._short(load_error)}")
        outcomes = [_core.decode_outcome(o, arrays) for o in data["outcomes"]]
        cases = [tuple(_core.decode(c, case_arrays)) for c in cases_tree]
    except Exception as exc:  # anything odd in what the child wrote
        return _Verdict("crashed", f"the answer's results could not be read "
                                   f"({type(exc).__name__})")
    try:
        result = exercise.judge(cases, outcomes, expected)
    except Exception as exc:
        return _Verdict("error", f"the result could not be judged ({type(exc).__name__}: "
                                 f"{_core._short(exc, 100)})")
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


def grade(submissions, *, seed: int, timeout: float = 10.0, memory_mb: float = 1024,
          lesson=None, jobs: int = 2, progress=None, shard=None) -> list[GradeRow]:
    """Grade every submission in the folder; one :class:`GradeRow` per student × exercise.

    ``shard`` (``"K/N"`` or ``(K, N)``) keeps only the students of that shard
    (:func:`gdcourse.gradebook.select_shard`).
    """
    folder = Path(submissions)
    students = _discover(folder)
    if shard is not None:
        from .gradebook import select_shard
        students = select_shard(students, shard, key=lambda entry: entry[0])
    answers_by_student, unreadable = {}, {}
    for student, files in students:
        merged, problems = {}, []
        for path in files:
            answers, problem = read_answers(path)
            if problem:
                problems.append(f"{path.name}: {problem}")
            for ex_id, (index, source) in answers.items():
                merged.setdefault(ex_id, (path.name, index, source))
        answers_by_student[student] = merged
        if problems and not merged:
            unreadable[student] = "; ".join(problems)
        if not files:
            unreadable[student] = "unreadable: the folder holds no notebook"
    lessons = _lessons_to_grade(students, answers_by_student, lesson)
    if not lessons:
        raise ValueError("cannot tell which lesson these submissions are for: no answer cells "
                         "with a known exercise id; pass --lesson NN.")
    exercises = [ex for name in lessons for ex in _core.lesson_exercises(name)]

    prepared = {}
    for ex in exercises:
        cases = ex.grading_cases(seed)
        arrays: dict = {}
        tree = [_core.encode(case, arrays) for case in cases]
        prepared[ex.id] = (tree, arrays, [ex.expected(c) for c in cases],
                           _core.preamble(ex.lesson))

    rows: dict[tuple[str, str], GradeRow] = {}
    tasks = []
    for student, _files in students:
        answers = answers_by_student[student]
        for ex in exercises:
            key = (student, ex.id)
            if student in unreadable:
                rows[key] = GradeRow(student, ex.id, 0.0, ex.points, "unreadable",
                                     unreadable[student])
            elif ex.id not in answers:
                rows[key] = GradeRow(student, ex.id, 0.0, ex.points, "missing",
                                     f"no answer cell with id {ex.id} (first line "
                                     f"'# exercise: {ex.id}')")
            else:
                tasks.append((student, ex))

    progress_bar = _Progress(len(tasks), progress)
    with tempfile.TemporaryDirectory(prefix="gdcourse-grade-") as tmp:
        def work(number, student, ex):
            notebook, index, source = answers_by_student[student][ex.id]
            same_lesson = sorted((i, ex_id, src) for ex_id, (nb, i, src)
                                 in answers_by_student[student].items()
                                 if nb == notebook and ex_id.split(".")[0] == ex.lesson and i <= index)
            sources = [src for _i, _id, src in same_lesson]
            labels = [ex_id for _i, ex_id, _src in same_lesson]
            tree, arrays, expected, preamble = prepared[ex.id]
            try:
                verdict = _run_answer(ex, Path(tmp) / f"job{number}", sources, labels, tree,
                                      arrays, expected, preamble, timeout, memory_mb)
            except Exception as exc:  # never lose a row
                verdict = _Verdict("crashed", f"grading failed: {type(exc).__name__}: {exc}")
            flags = "; ".join(review_flags(source))
            points = ex.points if verdict.status == "correct" else 0.0
            progress_bar.step()
            return GradeRow(student, ex.id, points, ex.points, verdict.status,
                            verdict.message, flags)

        with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
            futures = {pool.submit(work, n, s, ex): (s, ex) for n, (s, ex) in enumerate(tasks)}
            for future in as_completed(futures):
                student, ex = futures[future]
                try:
                    rows[(student, ex.id)] = future.result()
                except Exception as exc:
                    rows[(student, ex.id)] = GradeRow(student, ex.id, 0.0, ex.points, "crashed",
                                                      f"grading failed: {exc}")
    if progress is not None and not tasks:
        progress.write("grading: no answers to run\n")
    return [rows[(student, ex.id)] for student, _f in students for ex in exercises]


def write_csv(rows, path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([row.student, row.exercise, f"{row.points:g}", f"{row.max_points:g}",
                             row.status, row.message, row.review])


def _summary(rows) -> str:
    by_exercise = defaultdict(list)
    for row in rows:
        by_exercise[row.exercise].append(row)
    width = max(len(e) for e in by_exercise)
    lines = [f"{'exercise':<{width}}  correct  mean points  statuses"]
    for ex_id, ex_rows in by_exercise.items():
        n_ok = sum(r.status == "correct" for r in ex_rows)
        mean = sum(r.points for r in ex_rows) / len(ex_rows)
        counts = Counter(r.status for r in ex_rows)
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        lines.append(f"{ex_id:<{width}}  {n_ok:>3}/{len(ex_rows):<3}  "
                     f"{mean:>5.2f}/{ex_rows[0].max_points:<4g}  {statuses}")
    flagged = [r for r in rows if r.review]
    if flagged:
        lines.append(f"{len(flagged)} answer(s) flagged for review (see the 'review' column):")
        lines += [f"  {r.student} · {r.exercise}: {r.review}" for r in flagged[:20]]
        if len(flagged) > 20:
            lines.append(f"  ... and {len(flagged) - 20} more")
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
    parser.add_argument("--jobs", type=int, default=2, help="answers run in parallel (default 2)")
    from . import gradebook
    gradebook.add_grade_options(parser)  # --shard K/N, --wide GRADEBOOK.csv, --feedback DIR
    args = parser.parse_args(argv)
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
    seed = args.seed if args.seed is not None else secrets.randbelow(2 ** 31)
    try:
        rows = grade(args.submissions, seed=seed, timeout=args.timeout, memory_mb=args.memory,
                     lesson=args.lesson, jobs=args.jobs, progress=sys.stderr, shard=shard)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if shard is None:
        write_csv(rows, args.out)
    else:  # the part starts with '# gdcourse-shard: K/N' for `gdcourse merge-grades`
        gradebook.write_grades_csv(rows, args.out, shard=shard)
    gradebook.write_outputs(rows, args)
    print(_summary(rows) if rows else "no students in this shard")
    students = len({r.student for r in rows})
    print(f"wrote {args.out}: {len(rows)} rows for {students} submission(s); seed {seed} "
          f"(pass --seed {seed} to reproduce)")
    return 0
