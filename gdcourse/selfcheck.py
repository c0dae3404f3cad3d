"""Learner self-check: ``gdcourse check [NOTEBOOK ...]``.

Runs each exercise notebook headless (nbclient) and prints a table: exercise,
✓ / ✗ / not attempted, the feedback line, and a score.  With no argument it
checks every ``exercises/*.ipynb`` under the current folder.

After the notebook's own cells, one extra cell per exercise asks
:mod:`gdcourse.exercises` to check the function the learner defined (the name
of the exercise, e.g. ``predict``), so the table does not depend on the check
cells being intact.

It cannot hang: every cell has a time limit (a cell that overruns is
interrupted and the run goes on), the whole notebook has a time limit (the
kernel is killed), the kernel runs with ``GDCOURSE_HEADLESS=1`` (slider panels
skip live widgets, the ``interact`` hang of nbclient issue 312) and the
non-interactive matplotlib backend.  Exit status: 0 if every exercise passes,
1 otherwise, 2 if a notebook cannot be read or run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import NamedTuple

import nbformat
from nbformat.v4.rwbase import rejoin_lines

from . import _messages
from ._messages import N_, _t, pad, width
from ._notebook import answer_id, read_notebook
from .exercises._wire import REPORT_PREFIX

__all__ = ["ExerciseReport", "NotebookReport", "check_notebook", "format_report", "cli"]

_PKG_ROOT = str(Path(__file__).resolve().parent.parent)
_SYMBOLS = {"correct": N_("✓ correct"), "incorrect": N_("✗ incorrect"), "error": N_("✗ error"),
            "not_attempted": N_("○ not attempted"), "timeout": N_("✗ timed out"),
            "not_run": N_("✗ not run")}


class ExerciseReport(NamedTuple):
    exercise: str
    status: str
    message: str


class NotebookReport(NamedTuple):
    path: Path
    exercises: list
    notes: list          # errors outside the exercises, and run problems
    problem: str | None  # the notebook could not be read or run at all

    @property
    def score(self) -> tuple[int, int]:
        return sum(r.status == "correct" for r in self.exercises), len(self.exercises)


def _read(path: Path):
    raw = read_notebook(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rejoin_lines(nbformat.convert(nbformat.from_dict(raw), 4))


def _kill_kernel(client) -> None:
    try:
        process = client.km.provisioner.process
        os.killpg(process.pid, signal.SIGKILL)
    except Exception:
        try:
            client.km.provisioner.process.kill()
        except Exception:
            pass


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def _error(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("ename", "Error"), output.get("evalue", "")
    return None


def check_notebook(path, *, cell_timeout: float = 60, total_timeout: float = 600,
                   kernel_name: str = "python3", lang: str | None = None) -> NotebookReport:
    """Execute one notebook headless and report on each of its exercises.

    ``lang``: the language of the feedback (default: :func:`gdcourse.get_language`)."""
    lang = _messages.get_language() if lang is None else _messages._validate(lang, "lang")
    from nbclient import NotebookClient

    path = Path(path)
    try:
        nb = _read(path)
    except Exception as exc:
        return NotebookReport(path, [], [], _t("cannot read {path}: {error}", path=path,
                                               error=f"{type(exc).__name__}: {exc}"))
    ids = [i for i in (answer_id(c) for c in nb.cells) if i]
    ids = list(dict.fromkeys(ids))
    n_own = len(nb.cells)
    for ex_id in ids:
        nb.cells.append(nbformat.v4.new_code_cell(
            f"import gdcourse.exercises._wire as _gdcourse_wire\n"
            f"_gdcourse_wire._report({ex_id!r}, globals())"))
    env = dict(os.environ)
    env["GDCOURSE_HEADLESS"] = "1"
    env["GDCOURSE_LANG"] = lang
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PKG_ROOT, env.get("PYTHONPATH")) if p)
    client = NotebookClient(nb, timeout=int(cell_timeout), kernel_name=kernel_name,
                            allow_errors=True, interrupt_on_timeout=True, startup_timeout=60,
                            # the kernel app's start-up warnings (e.g. "running over TCP") are
                            # noise in a learner's terminal; errors still come through
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    failure = []

    def run():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # a private event loop, closed at the end (no leaked sockets)
                asyncio.run(client.async_execute(env=env))
        except BaseException as exc:  # dead kernel, startup failure, ...
            failure.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")

    thread = threading.Thread(target=run, name=f"gdcourse-check-{path.name}", daemon=True)
    thread.start()
    thread.join(total_timeout)
    notes = []
    if thread.is_alive():
        _kill_kernel(client)
        thread.join(15)
        notes.append(_t("the notebook did not finish within {seconds} s; its kernel was stopped",
                        seconds=f"{total_timeout:g}"))
    elif failure:
        notes.append(_t("the run stopped: {error}", error=failure[0]))

    for index, cell in enumerate(nb.cells[:n_own]):
        err = _error(cell)
        if err and cell.cell_type == "code" and err[0] not in (
                "NotAttempted", "Incorrect", "CodeRaised", "NotImplementedError"):
            if err[0] == "KeyboardInterrupt":
                notes.append(_t("cell {index} took longer than {seconds} s and was interrupted",
                                index=index, seconds=f"{cell_timeout:g}"))
            else:
                notes.append(_t("cell {index} raised {error}", index=index,
                                error=f"{err[0]}: {err[1][:120]}"))

    reports = []
    for ex_id, cell in zip(ids, nb.cells[n_own:]):
        line = next((ln for ln in _stdout(cell).splitlines() if ln.startswith(REPORT_PREFIX)), None)
        err = _error(cell)
        if line is not None:
            data = json.loads(line[len(REPORT_PREFIX):])
            reports.append(ExerciseReport(ex_id, data["status"], data["message"]))
        elif err and err[0] == "KeyboardInterrupt":
            reports.append(ExerciseReport(ex_id, "timeout",
                                          _t("the check took longer than {seconds} s "
                                             "(an infinite loop?)",
                                             seconds=f"{cell_timeout:g}")))
        elif err:
            reports.append(ExerciseReport(ex_id, "error", f"{err[0]}: {err[1][:160]}"))
        else:
            reports.append(ExerciseReport(ex_id, "not_run", _t("the notebook stopped before "
                                                               "this exercise was checked")))
    problem = None
    if not ids:
        problem = _t("{path} has no exercise cells (first line '# exercise: lessonNN.name')",
                     path=path)
    return NotebookReport(path, reports, notes[:8], problem)


def format_report(report: NotebookReport) -> str:
    """The table ``gdcourse check`` prints, in the current language (status words included)."""
    lines = [str(report.path)]
    notes = ["  " + _t("note: {note}", note=n) for n in report.notes]
    if report.problem:
        return "\n".join(lines + [f"  {report.problem}"] + notes)
    head, result = _t("exercise"), _t("result")
    first = max([width(head)] + [len(r.exercise) for r in report.exercises])
    results = {r.status: _t(_SYMBOLS[r.status]) if r.status in _SYMBOLS else r.status
               for r in report.exercises}
    column = max([16, width(result)] + [width(v) for v in results.values()])
    lines.append(f"  {pad(head, first)}  {pad(result, column)}  {_t('feedback')}")
    for r in report.exercises:
        lines.append(f"  {r.exercise:<{first}}  {pad(results[r.status], column)}  {r.message}")
    done, total = report.score
    lines.append("  " + _t("score: {done}/{total}", done=done, total=total))
    lines += notes
    return "\n".join(lines)


def _default_notebooks() -> list[Path]:
    for folder in (Path.cwd() / "exercises", Path(_PKG_ROOT) / "gdcourse" / "_course" / "exercises"):
        if folder.is_dir():
            found = sorted(folder.glob("*.ipynb"))
            if found:
                return found
    return []


def _default_language() -> str:
    """GDCOURSE_LANG if set, else the language ``gdcourse new --lang`` made this folder in."""
    if os.environ.get("GDCOURSE_LANG", "").strip():
        return _messages.get_language()
    from .i18n import course_language
    return course_language(Path.cwd()) or "en"


def cli(argv=None) -> int:
    """``gdcourse check``: 0 all exercises pass, 1 something fails, 2 nothing to run."""
    parser = argparse.ArgumentParser(
        prog="gdcourse check",
        description="Run exercise notebooks headless and report each exercise.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to check (default: exercises/*.ipynb)")
    parser.add_argument("--cell-timeout", type=float, default=60,
                        help="seconds allowed per cell (default 60)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds allowed per notebook (default 600)")
    parser.add_argument("--lang", choices=_messages.LANGUAGES, default=None,
                        help="the language of the feedback (default: GDCOURSE_LANG, else the "
                             "language the course folder was made in, else English)")
    args = parser.parse_args(argv)
    try:
        lang = args.lang or _default_language()
    except ValueError as exc:     # a GDCOURSE_LANG that is not a course language
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with _messages.language(lang):
        return _check_all(args, lang)


def _check_all(args, lang) -> int:
    notebooks = args.notebooks or _default_notebooks()
    if not notebooks:
        print(_t("error: no notebooks given and no exercises/ folder here; run this from the "
                 "course folder or pass notebook paths"), file=sys.stderr)
        return 2
    status = 0
    for path in notebooks:
        if not path.is_file():
            print(_t("error: {path} does not exist", path=path), file=sys.stderr)
            status = 2
            continue
        print(_t("checking {path} ...", path=path), file=sys.stderr, flush=True)
        report = check_notebook(path, cell_timeout=args.cell_timeout, total_timeout=args.timeout,
                                lang=lang)
        print(format_report(report), flush=True)
        if report.problem:
            status = 2
        elif status == 0 and report.score[0] < report.score[1]:
            status = 1
    return status
