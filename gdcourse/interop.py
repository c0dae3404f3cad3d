"""The course in the instructor's own tools: ``gdcourse export nbgrader|otter``.

Our solutions notebooks stay the single source (see :mod:`gdcourse.authoring`):
answer cells carry ``metadata.gdcourse.exercise`` and/or a first line
``# exercise: lessonNN.name`` with ``### BEGIN SOLUTION`` / ``### END SOLUTION``
regions; a check cell calls ``ex.<name>.check(<fn>)``; points come from the
package (``gdcourse.exercises.get(id).points``).  These exporters only
translate that into the other tools' markup.

``gdcourse export nbgrader SOLUTIONS_DIR COURSE_DIR``
    writes ``COURSE_DIR/source/lessonNN/NN_*.ipynb`` with nbgrader cell
    metadata (schema 3): the set-up cell (the first code cell) locked, each
    answer cell a solution cell, each check cell a locked autograded cell worth
    the exercise's points; and ``COURSE_DIR/nbgrader_config.py`` whose
    ``ClearSolutions.code_stub`` is our stub, so ``nbgrader generate_assignment``
    releases exactly our ``exercises/`` notebooks.  Cells tagged
    ``solution-only`` are left out, as in ``exercises/``.
``gdcourse export otter SOLUTION_NB MASTER_NB``
    writes an Otter Assign (v1) master notebook: an ``# ASSIGNMENT CONFIG``
    raw cell, then per exercise raw-cell blocks ``# BEGIN QUESTION`` (name,
    points, no Otter check cell),
    ``# BEGIN SOLUTION`` (the answer with Otter's ``# BEGIN SOLUTION`` markers,
    written so that Otter's student version gets our stub),
    ``# BEGIN TESTS`` (one exception-based test calling our check) and
    ``# END QUESTION``; our own check cell follows, as in ``exercises/``.

Both refuse, naming the notebook and cell, a check cell for an exercise the
package does not know or an answer cell without its check.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

from .authoring import (
    BEGIN,
    CHECK_TAG,
    END,
    SOLUTION_ONLY_TAG,
    STUB_COMMENT,
    AuthoringError,
    _read,
    _sources,
    _text,
    answer_id,
    build_notebook,
)

__all__ = ["ExportError", "nbgrader_notebook", "export_nbgrader", "otter_master",
           "export_otter", "NBGRADER_STUB", "cli"]

#: What nbgrader puts in place of a solution region: the same stub as ``exercises/``.
NBGRADER_STUB = f"{STUB_COMMENT}\nraise NotImplementedError"

_CHECK = re.compile(r"^\s*(\w+)\.(\w+)\.check\s*\(\s*(\w+)", re.M)
_LESSON_IMPORT = re.compile(r"from\s+gdcourse\.exercises\s+import\s+(lesson\d\d)\s+as\s+(\w+)")


class ExportError(ValueError):
    """A solutions notebook that cannot be exported."""


def _src(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _tags(cell) -> list:
    return list((cell.get("metadata") or {}).get("tags") or [])


def _exercise(ex_id: str, where: str):
    from .exercises import _core
    try:
        return _core.get(ex_id)
    except KeyError:
        raise ExportError(f"{where}: exercise {ex_id!r} is not in the installed gdcourse "
                          f"package.") from None


def _plan(nb, name: str):
    """Classify the cells: ``[(kind, cell, exercise_or_None)]``, kind in setup/answer/check/other.

    A check cell is a code cell ``<alias>.<name>.check(<fn>)`` where ``<alias>``
    is the lesson module imported as ``from gdcourse.exercises import lessonNN
    as <alias>`` (or any alias when the notebook has no such import).
    """
    aliases = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for lesson, alias in _LESSON_IMPORT.findall(_src(cell)):
                aliases[alias] = lesson
    plan, setup_done, pending = [], False, None
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        if SOLUTION_ONLY_TAG in _tags(cell):
            continue
        if cell.cell_type != "code":
            plan.append(("other", cell, None))
            continue
        ex_id = answer_id(cell)
        source = _src(cell)
        match = _CHECK.search(source)
        if ex_id:
            if pending is not None:
                raise ExportError(f"{where}: answer cell {ex_id!r} comes before a check cell "
                                  f"for the previous answer {pending.id!r}.")
            pending = _exercise(ex_id, where)
            plan.append(("answer", cell, pending))
        elif match:
            alias, ex_name, _fn = match.groups()
            lesson = aliases.get(alias)
            if lesson is None:
                lesson = pending.lesson if pending is not None else None
            if lesson is None:
                raise ExportError(f"{where}: check cell for {alias}.{ex_name} without an "
                                  f"answer cell before it or a lesson import.")
            ex = _exercise(f"{lesson}.{ex_name}", where)
            if pending is not None and ex.id != pending.id:
                raise ExportError(f"{where}: the check is for {ex.id!r} but the answer cell "
                                  f"before it is {pending.id!r}.")
            plan.append(("check", cell, ex))
            pending = None
        else:
            plan.append(("other" if setup_done else "setup", cell, None))
        setup_done = True  # only the first code cell is the set-up cell
    if pending is not None:
        raise ExportError(f"{name}: answer cell {pending.id!r} has no check cell after it.")
    return plan


def _grade_id(ex_id: str) -> str:
    return ex_id.replace(".", "-")


def _clean(cell):
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


# ---------------------------------------------------------------------------
# nbgrader
# ---------------------------------------------------------------------------

def _nbgrader_meta(**fields) -> dict:
    meta = {"grade": False, "solution": False, "locked": False, "schema_version": 3,
            "task": False}
    meta.update(fields)
    return meta


def nbgrader_notebook(nb, name: str = "notebook"):
    """The nbgrader source notebook for one solutions notebook (a new object)."""
    nb = copy.deepcopy(nb)
    build_notebook(nb, name)  # the same validation as build-exercises: markers, ids
    cells = []
    for kind, cell, ex in _plan(nb, name):
        cell = _clean(cell)
        if kind == "setup":
            cell.metadata["nbgrader"] = _nbgrader_meta(locked=True, grade_id="setup")
        elif kind == "answer":
            cell.metadata["nbgrader"] = _nbgrader_meta(solution=True, grade_id=_grade_id(ex.id))
        elif kind == "check":
            cell.metadata["nbgrader"] = _nbgrader_meta(
                grade=True, locked=True, points=ex.points, grade_id=_grade_id(ex.id) + "-check")
            if CHECK_TAG not in _tags(cell):
                cell.metadata["tags"] = [*_tags(cell), CHECK_TAG]
        cells.append(cell)
    nb.cells = cells
    return nb


_NBGRADER_CONFIG = '''\
# nbgrader configuration written by `gdcourse export nbgrader`.
# Run nbgrader from this folder: nbgrader generate_assignment lesson01, nbgrader autograde lesson01
c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = {course_id!r}
# our stub, so the released notebooks equal the course's exercises/ notebooks
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
# a check runs the learner's function on a few inputs; allow slow kernels time to start
c.ExecutePreprocessor.timeout = 120
'''


def export_nbgrader(solutions, course, *, course_id: str = "gdcourse") -> list[Path]:
    """Write an nbgrader course from a folder of solutions notebooks; returns the notebooks."""
    solutions, course = Path(solutions), Path(course)
    try:
        sources = _sources(solutions)
    except AuthoringError as exc:
        raise ExportError(str(exc)) from None
    if not sources:
        raise ExportError(f"{solutions}: no solutions notebooks (NN_*.ipynb) in it.")
    written = []
    for path in sources:
        try:
            nb = nbgrader_notebook(_read(path), str(path))
        except AuthoringError as exc:
            raise ExportError(str(exc)) from None
        lessons = sorted({ex_id.split(".")[0] for cell in nb.cells
                          if (ex_id := answer_id(cell))})
        if len(lessons) != 1:
            raise ExportError(f"{path}: an assignment needs the answers of exactly one lesson, "
                              f"but found {lessons or 'none'}.")
        target = course / "source" / lessons[0] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_text(nb), encoding="utf-8")
        written.append(target)
    (course / "nbgrader_config.py").write_text(
        _NBGRADER_CONFIG.format(course_id=course_id, stub=NBGRADER_STUB), encoding="utf-8")
    return written


# ---------------------------------------------------------------------------
# Otter-Grader
# ---------------------------------------------------------------------------

_ASSIGNMENT_CONFIG = """\
# ASSIGNMENT CONFIG
init_cell: false
check_all_cell: false
export_cell: false
run_tests: true
tests:
  files: true
  ok_format: false
"""


def _raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def _otter_markers(source: str) -> str:
    """Our solution regions in Otter's markup, so Otter's student version is our stub.

    ``### BEGIN SOLUTION`` becomes ``# BEGIN SOLUTION NO PROMPT`` (Otter drops the
    region without its ``...``) and ``### END SOLUTION`` becomes ``# END SOLUTION``
    followed by our stub inside a triple-quoted string whose first and last lines
    end with ``# BEGIN PROMPT`` and ``# END PROMPT``: Otter drops those two lines
    and keeps the stub for the learner, while in the solution the string is a
    no-op expression.  Indentation is kept.
    """
    lines = []
    for line in source.split("\n"):
        text = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if text == BEGIN:
            lines.append(indent + "# BEGIN SOLUTION NO PROMPT")
        elif text == END:
            lines += [indent + "# END SOLUTION", indent + '""" # BEGIN PROMPT',
                      *(indent + stub for stub in NBGRADER_STUB.split("\n")),
                      indent + '""" # END PROMPT']
        else:
            lines.append(line)
    return "\n".join(lines)


def _otter_test(ex, fn_name: str) -> str:
    return (f"def test_{ex.name}({fn_name}):\n"
            f"    from gdcourse.exercises import {ex.lesson} as checks\n"
            f"    checks.{ex.name}.check({fn_name})\n")


def otter_master(nb, name: str = "notebook"):
    """The Otter Assign master notebook for one solutions notebook (a new object)."""
    nb = copy.deepcopy(nb)
    build_notebook(nb, name)  # the same validation as build-exercises: markers, ids
    plan = _plan(nb, name)
    cells = [_raw(_ASSIGNMENT_CONFIG)]
    question = None
    for kind, cell, ex in plan:
        cell = _clean(cell)
        if kind == "answer":
            question = ex
            answer = copy.deepcopy(cell)
            answer.source = _otter_markers(_src(cell))
            answer.metadata.setdefault("gdcourse", {})["exercise"] = ex.id
            cells += [_raw(f"# BEGIN QUESTION\nname: {_grade_id(ex.id).replace('-', '_')}\n"
                           f"points: {ex.points:g}\ncheck_cell: false"),
                      _raw("# BEGIN SOLUTION"), answer, _raw("# END SOLUTION")]
            continue
        if kind == "check":
            fn_name = _CHECK.search(_src(cell)).group(3)
            test = nbformat.v4.new_code_cell(_otter_test(ex, fn_name))
            cells += [_raw("# BEGIN TESTS"), test, _raw("# END TESTS"), _raw("# END QUESTION")]
            question = None
            if CHECK_TAG not in _tags(cell):
                cell.metadata["tags"] = [*_tags(cell), CHECK_TAG]
        cells.append(cell)
    assert question is None  # _plan refuses an answer without its check
    nb.cells = cells
    if nb.get("nbformat_minor", 0) >= 5:
        for index, cell in enumerate(nb.cells):
            cell["id"] = f"otter-{index:03d}"
    return nb


def export_otter(solution_nb, master_nb) -> Path:
    """Write the Otter master notebook for one solutions notebook; returns its path."""
    solution_nb, master_nb = Path(solution_nb), Path(master_nb)
    try:
        nb = otter_master(_read(solution_nb), str(solution_nb))
    except AuthoringError as exc:
        raise ExportError(str(exc)) from None
    master_nb.parent.mkdir(parents=True, exist_ok=True)
    master_nb.write_text(_text(nb), encoding="utf-8")
    return master_nb


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def cli(argv=None) -> int:
    """``gdcourse export nbgrader|otter ...``: 0 written, 2 bad input."""
    parser = argparse.ArgumentParser(
        prog="gdcourse export",
        description="Write the course's exercises in nbgrader's or Otter-Grader's format.")
    sub = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)
    p = sub.add_parser("nbgrader", help="an nbgrader course: source/<lesson>/ + nbgrader_config.py")
    p.add_argument("solutions", type=Path, help="the solutions folder (NN_*.ipynb)")
    p.add_argument("course", type=Path, help="the nbgrader course folder to write")
    p.add_argument("--course-id", default="gdcourse", help="nbgrader course id (default gdcourse)")
    p = sub.add_parser("otter", help="an Otter Assign master notebook")
    p.add_argument("solution", type=Path, help="one solutions notebook")
    p.add_argument("master", type=Path, help="the master notebook to write")
    args = parser.parse_args(argv)
    try:
        if args.tool == "nbgrader":
            written = export_nbgrader(args.solutions, args.course, course_id=args.course_id)
            for path in written:
                print(f"wrote {path}")
            print(f"wrote {args.course / 'nbgrader_config.py'}\nnext: cd {args.course} && "
                  f"nbgrader generate_assignment {written[0].parent.name}")
        else:
            master = export_otter(args.solution, args.master)
            print(f"wrote {master}\nnext: otter assign {master} dist")
    except (ExportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
