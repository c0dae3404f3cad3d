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
   cases, are computed once per class (:class:`gdcourse._gradepool._MemoJudge`).
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
import os
import queue
import secrets
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

from . import _messages, _sandbox
from ._gradefile import CSV_COLUMNS, GradeRow, _Appender, read_csv, write_csv
from ._gradepool import _PKG_DIR, _Pool, _prepare, _run_answer, _Verdict
from ._messages import _t
from ._submissions import (Student, _answer_cells, _lessons_to_grade, _printable,
                           discover_students, read_answers, review_flags)
from .exercises import _core
from .exercises._compare import _short

__all__ = ["GradeRow", "Student", "grade", "write_csv", "read_csv", "review_flags",
           "read_answers", "discover_students", "cli", "CSV_COLUMNS"]


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
