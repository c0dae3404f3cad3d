"""Write ``exercises/`` from ``solutions/``: exercises are authored once.

``gdcourse build-exercises [--check] [--solutions DIR] [--exercises DIR]``

The source format (``solutions/NN_*.ipynb``)
--------------------------------------------
* **Answer cell**: a code cell whose first line is the visible id comment
  ``# exercise: lessonNN.name`` (e.g. ``# exercise: lesson01.predict``; ``name``
  is the function the learner writes and the attribute checked by
  ``gdcourse.exercises.lessonNN``).  The id may also be stored in the cell
  metadata as ``{"gdcourse": {"exercise": "lessonNN.name"}}``; when both are
  present they must agree.  The generated exercise cell always carries both.
* **Answer region**: inside an answer cell, the lines strictly between a line
  ``### BEGIN SOLUTION`` and a line ``### END SOLUTION`` (compared after
  stripping whitespace; the nbgrader markers).  An answer cell holds one or more
  regions; regions do not nest.  Each region, markers included, becomes::

      <indent># your code here
      <indent>raise NotImplementedError

  where ``<indent>`` is the indentation of the ``### BEGIN SOLUTION`` line.
* **Solution-only cell**: any cell tagged ``solution-only`` (in
  ``metadata.tags``) is dropped from the exercise notebook.
* **Check cell**: a code cell calling ``.check(`` (e.g. ``ex.predict.check(predict)``)
  is copied with the tag ``raises-exception`` added, so that JupyterLab's
  "Run All" goes on past an exercise the learner has not done yet instead of
  stopping at its check.
* Everything else (markdown, cell ids, metadata) is copied unchanged;
  outputs and execution counts are cleared.

Refused, with the notebook and cell named: an unclosed, unmatched or nested
marker; a marker outside an answer cell; an answer cell without a region; an
id that is malformed, disagrees with its metadata, or is used twice (in one
notebook or across the folder).

``--check`` writes nothing and exits 1 if any ``exercises/NN_*.ipynb`` differs
from what its source would generate (naming the notebook and the first cell
that differs), is missing, or has no source.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4.rwbase import rejoin_lines

from ._notebook import CHECK_CALL as _CHECK_CALL
from ._notebook import ID_COMMENT as _ID_COMMENT
from ._notebook import ID_FORM as _ID_FORM
from ._notebook import NotebookError, answer_id, read_notebook
from ._notebook import cell_source as _source

__all__ = [
    "AuthoringError",
    "BEGIN",
    "END",
    "SOLUTION_ONLY_TAG",
    "CHECK_TAG",
    "STUB_COMMENT",
    "answer_id",
    "build_notebook",
    "build_all",
    "check_all",
    "cli",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SOLUTION_ONLY_TAG = "solution-only"
CHECK_TAG = "raises-exception"
STUB_COMMENT = "# your code here"
_NOTEBOOK_NAME = re.compile(r"\d\d_.*\.ipynb")


class AuthoringError(ValueError):
    """A malformed solutions notebook."""


def _read(path: Path):
    try:
        raw = read_notebook(path, version=4)
    except NotebookError as exc:
        raise AuthoringError(f"{path}: cannot read the notebook ({exc}).") from None
    return rejoin_lines(nbformat.from_dict(raw))


def _stub_regions(source: str, where: str) -> tuple[str, int]:
    lines = source.split("\n")
    out, inside, regions, begin_line = [], False, 0, 0
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text == BEGIN:
            if inside:
                raise AuthoringError(f"{where}: nested {BEGIN} at line {number} (the one at line "
                                     f"{begin_line} is not closed yet).")
            inside, begin_line = True, number
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + STUB_COMMENT, indent + "raise NotImplementedError"]
            regions += 1
        elif text == END:
            if not inside:
                raise AuthoringError(f"{where}: {END} at line {number} without a {BEGIN} before it.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AuthoringError(f"{where}: {BEGIN} at line {begin_line} is never closed by {END}.")
    return "\n".join(out), regions


def _has_marker(source: str) -> bool:
    return any(line.strip() in (BEGIN, END) for line in source.split("\n"))


def build_notebook(nb, name: str = "notebook"):
    """The exercise notebook for one solutions notebook (a new object), and its ids."""
    nb = copy.deepcopy(nb)
    cells, ids = [], []
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        tags = (cell.get("metadata") or {}).get("tags") or []
        if SOLUTION_ONLY_TAG in tags:
            continue
        source = _source(cell)
        if cell.cell_type != "code":
            if _has_marker(source):
                raise AuthoringError(f"{where}: solution marker outside an answer cell (a "
                                     f"{cell.cell_type} cell).")
            cells.append(cell)
            continue
        first = source.lstrip("\n").split("\n", 1)[0].strip()
        match = _ID_COMMENT.match(first)
        meta_id = (cell.metadata.get("gdcourse") or {}).get("exercise")
        ex_id = match.group(1) if match else None
        if ex_id and meta_id and ex_id != meta_id:
            raise AuthoringError(f"{where}: the id comment says {ex_id!r} but the metadata says "
                                 f"{meta_id!r}.")
        ex_id = ex_id or meta_id
        if ex_id is None:
            if _has_marker(source):
                raise AuthoringError(f"{where}: solution marker outside an answer cell; make it "
                                     f"an answer cell with a first line '# exercise: lessonNN.name'.")
        else:
            if not _ID_FORM.fullmatch(str(ex_id)):
                raise AuthoringError(f"{where}: exercise id {ex_id!r} should look like "
                                     f"'lesson01.predict'.")
            if ex_id in ids:
                raise AuthoringError(f"{where}: duplicate exercise id {ex_id!r} in this notebook.")
            source, regions = _stub_regions(source, where)
            if regions == 0:
                raise AuthoringError(f"{where}: answer cell {ex_id!r} has no {BEGIN} ... {END} "
                                     f"region.")
            if not match:
                source = f"# exercise: {ex_id}\n" + source
            cell.source = source
            cell.metadata.setdefault("gdcourse", {})["exercise"] = ex_id
            ids.append(ex_id)
        if _CHECK_CALL.search(source) and CHECK_TAG not in tags:
            cell.metadata["tags"] = [*tags, CHECK_TAG]
        cell.outputs = []
        cell.execution_count = None
        cells.append(cell)
    nb.cells = cells
    if nb.get("nbformat_minor", 0) >= 5:
        for index, cell in enumerate(nb.cells):
            if not cell.get("id"):
                cell["id"] = hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]
    return nb, ids


def _text(nb) -> str:
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _sources(solutions: Path) -> list[Path]:
    if not solutions.is_dir():
        raise AuthoringError(f"solutions folder {solutions} does not exist.")
    return sorted(p for p in solutions.iterdir() if _NOTEBOOK_NAME.fullmatch(p.name))


def _generate(solutions: Path) -> dict[str, tuple[object, list[str]]]:
    built, seen = {}, {}
    for path in _sources(solutions):
        nb, ids = build_notebook(_read(path), str(path))
        for ex_id in ids:
            if ex_id in seen:
                raise AuthoringError(f"{path}: duplicate exercise id {ex_id!r} (also in {seen[ex_id]}).")
            seen[ex_id] = path
        built[path.name] = (nb, ids)
    return built


def build_all(solutions: Path, exercises: Path) -> list[tuple[Path, list[str]]]:
    """Write every exercise notebook; returns (path, ids) per notebook."""
    built = _generate(Path(solutions))
    exercises = Path(exercises)
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (nb, ids) in built.items():
        target = exercises / name
        target.write_text(_text(nb), encoding="utf-8")
        written.append((target, ids))
    return written


def _first_difference(expected, actual) -> str:
    if expected.get("metadata") != actual.get("metadata"):
        return "the notebook metadata differs"
    for index, (e, a) in enumerate(zip(expected.cells, actual.get("cells", []))):
        for key in ("cell_type", "source", "metadata", "outputs", "execution_count"):
            if _normalise(e.get(key)) != _normalise(a.get(key)):
                label = answer_id(e)
                what = f" ({label})" if label else ""
                return f"cell {index}{what} differs in its {key}"
    n_e, n_a = len(expected.cells), len(actual.get("cells", []))
    if n_e != n_a:
        return f"it has {n_a} cells, the source gives {n_e} (first extra/missing: cell {min(n_e, n_a)})"
    return "the file's formatting differs"


def _normalise(value):
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return value


def check_all(solutions: Path, exercises: Path) -> list[str]:
    """Problems that make ``exercises/`` out of sync with ``solutions/`` (empty if in sync)."""
    built = _generate(Path(solutions))
    exercises = Path(exercises)
    problems = []
    for name, (nb, _ids) in built.items():
        target = exercises / name
        if not target.exists():
            problems.append(f"{target}: missing (it is generated from {Path(solutions) / name}).")
            continue
        text = target.read_text(encoding="utf-8")
        if text == _text(nb):
            continue
        try:
            actual = rejoin_lines(nbformat.from_dict(json.loads(text)))
        except json.JSONDecodeError:
            problems.append(f"{target}: not valid JSON.")
            continue
        problems.append(f"{target}: out of sync with {Path(solutions) / name}: "
                        f"{_first_difference(nb, actual)}.")
    if exercises.is_dir():
        for path in sorted(exercises.iterdir()):
            if _NOTEBOOK_NAME.fullmatch(path.name) and path.name not in built:
                problems.append(f"{path}: has no source {Path(solutions) / path.name}.")
    return problems


def cli(argv=None) -> int:
    """``gdcourse build-exercises``: 0 done/in sync, 1 out of sync, 2 malformed source."""
    parser = argparse.ArgumentParser(
        prog="gdcourse build-exercises",
        description="Write exercises/NN_*.ipynb from solutions/NN_*.ipynb "
                    "(answer regions become stubs, outputs cleared).")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if exercises/ is out of sync")
    parser.add_argument("--solutions", default="solutions", type=Path,
                        help="folder of source notebooks (default: solutions)")
    parser.add_argument("--exercises", default="exercises", type=Path,
                        help="folder to write (default: exercises)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check_all(args.solutions, args.exercises)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("Run `gdcourse build-exercises` to regenerate exercises/.", file=sys.stderr)
                return 1
            print(f"{args.exercises} is in sync with {args.solutions}.")
            return 0
        for path, ids in build_all(args.solutions, args.exercises):
            print(f"wrote {path} ({len(ids)} exercise{'s' if len(ids) != 1 else ''}: "
                  f"{', '.join(ids)})")
        return 0
    except AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
