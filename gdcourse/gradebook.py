"""What the instructor takes away from grading: shards, merged CSVs, an LMS gradebook, feedback.

Everything here works on **rows** with the grader's CSV columns
(``student, exercise, points, max_points, status, message, review``): a
:class:`Row`, any named tuple with those fields (``gdcourse.grading.GradeRow``),
or a dict.  So it works on the output of any grader that writes that CSV.

Sharding a class over N machines
--------------------------------
``shard_of(student, n)`` puts a student in shard 1..N from a SHA-256 hash of the
student key (the submission's name), never from list order: every machine
computes the same split whatever files it sees and in whatever order.  A
part written by :func:`write_grades_csv` with ``shard=(k, n)`` starts with the
line ``# gdcourse-shard: k/n``; :func:`merge_grades` needs that line in every
part, so it can prove that no shard is missing, that no two parts overlap and
that every student sits in the shard its hash says (a part graded with another
N is refused).  ``roster=`` additionally names every student who must appear.

``gdcourse merge-grades OUT.csv PART.csv ...`` is the command line;
``gdcourse gradebook GRADES.csv --wide W.csv --feedback DIR`` turns any grades
CSV into the wide gradebook and the feedback pages.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import io
import re
import sys
from pathlib import Path
from typing import Iterable, NamedTuple

__all__ = [
    "COLUMNS",
    "Row",
    "MergeError",
    "parse_shard",
    "shard_of",
    "select_shard",
    "write_grades_csv",
    "read_grades_csv",
    "merge_grades",
    "wide_table",
    "write_wide",
    "write_feedback",
    "feedback_page",
    "add_grade_options",
    "cli_merge",
    "cli_gradebook",
]

#: The grader's CSV columns, in order.
COLUMNS = ("student", "exercise", "points", "max_points", "status", "message", "review", "sandbox")

_SHARD_LINE = re.compile(r"#\s*gdcourse-shard:\s*(\d+)\s*/\s*(\d+)\s*$")


class Row(NamedTuple):
    """One student × exercise result, the grader's CSV columns."""

    student: str
    exercise: str
    points: float
    max_points: float
    status: str
    message: str
    review: str = ""
    sandbox: str = ""


class MergeError(ValueError):
    """Shard parts that do not make up exactly one whole class."""


def _row(value) -> Row:
    if isinstance(value, Row):
        return value
    if isinstance(value, dict):
        data = value
    elif hasattr(value, "_asdict"):
        data = value._asdict()
    else:
        raise TypeError(f"a grade row must be a named tuple or a dict with the columns "
                        f"{', '.join(COLUMNS)}, but got {type(value).__name__}.")
    missing = [c for c in COLUMNS[:6] if c not in data]
    if missing:
        raise ValueError(f"a grade row has no {', '.join(missing)} (expected the columns "
                         f"{', '.join(COLUMNS)}); got {sorted(data)}.")
    try:
        points, max_points = float(data["points"]), float(data["max_points"])
    except (TypeError, ValueError):
        raise ValueError(f"points and max_points must be numbers, but the row for "
                         f"{data['student']!r} · {data['exercise']!r} has "
                         f"{data['points']!r} and {data['max_points']!r}.") from None
    return Row(str(data["student"]), str(data["exercise"]), points, max_points,
               str(data["status"]), str(data["message"]), str(data.get("review") or ""),
               str(data.get("sandbox") or ""))


# ---------------------------------------------------------------------------
# shards
# ---------------------------------------------------------------------------

def parse_shard(text) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; a clear error for anything else."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match:
        raise ValueError(f"--shard must look like K/N (e.g. 1/4: the first of 4 shards), "
                         f"but got {text!r}.")
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N, but got {k}/{n}.")
    return k, n


def shard_of(student: str, n: int) -> int:
    """The shard (1..n) of a student key: stable on every machine and Python version."""
    if int(n) < 1:
        raise ValueError(f"the number of shards must be at least 1, but got {n!r}.")
    digest = hashlib.sha256(str(student).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % int(n) + 1


def select_shard(items: Iterable, shard, key=lambda item: item):
    """The items whose ``key(item)`` (a student key) falls in ``shard`` (``(k, n)`` or "k/n").

    ``None`` keeps everything.  Order is kept.  For the grader:
    ``students = select_shard(_discover(folder), shard, key=lambda s: s[0])``.
    """
    items = list(items)
    if shard is None:
        return items
    k, n = parse_shard(shard) if isinstance(shard, str) else parse_shard(f"{shard[0]}/{shard[1]}")
    return [item for item in items if shard_of(key(item), n) == k]


# ---------------------------------------------------------------------------
# reading and writing the grades CSV
# ---------------------------------------------------------------------------

def write_grades_csv(rows, path, *, shard=None) -> None:
    """The grader's CSV; a sharded part starts with ``# gdcourse-shard: k/n``."""
    rows = [_row(r) for r in rows]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if shard is not None:
            k, n = parse_shard(shard) if isinstance(shard, str) else parse_shard(
                f"{shard[0]}/{shard[1]}")
            fh.write(f"# gdcourse-shard: {k}/{n}\n")
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.student, r.exercise, f"{r.points:g}", f"{r.max_points:g}",
                             r.status, r.message, r.review, r.sandbox])


def read_grades_csv(path) -> tuple[list[Row], tuple[int, int] | None]:
    """``(rows, shard)`` from a grades CSV; ``shard`` is ``None`` for an unsharded file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MergeError(f"{path}: cannot read the grades CSV ({exc}).") from None
    shard = None
    first, _, rest = text.partition("\n")
    if first.lstrip().startswith("#"):
        match = _SHARD_LINE.fullmatch(first.strip())
        if not match:
            raise MergeError(f"{path}: the first line {first.strip()!r} is a comment but not "
                             f"'# gdcourse-shard: K/N'.")
        try:
            shard = parse_shard(f"{match.group(1)}/{match.group(2)}")
        except ValueError as exc:
            raise MergeError(f"{path}: {exc}") from None
        text = rest
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    missing = [c for c in COLUMNS[:6] if c not in header]
    if missing:
        raise MergeError(f"{path}: not a gdcourse grades CSV: the header {list(header)} lacks "
                         f"{', '.join(missing)} (expected {', '.join(COLUMNS)}).")
    rows = []
    for number, record in enumerate(reader, start=2 + (shard is not None)):
        try:
            rows.append(_row(record))
        except ValueError as exc:
            raise MergeError(f"{path}, line {number}: {exc}") from None
    return rows, shard


def merge_grades(out, parts, *, roster=None) -> list[Row]:
    """Join shard parts into one CSV at ``out``; refuse overlaps and missing students.

    Every part must carry its ``k/n`` header, all with the same ``n``, each
    ``k`` exactly once; each student must hash to the shard of the part it is
    in and appear in one part only; with ``roster`` (student keys), every
    rostered student must appear and nobody else.  Rows are ordered by student,
    then by exercise in the order the parts list them.  Returns the rows.
    """
    parts = [Path(p) for p in parts]
    if not parts:
        raise MergeError("merge-grades needs at least one PART.csv.")
    read = []
    for path in parts:
        rows, shard = read_grades_csv(path)
        if shard is None:
            raise MergeError(f"{path}: has no '# gdcourse-shard: K/N' first line, so it cannot "
                             f"be proven to be one shard of the class (grade it with "
                             f"--shard K/N).")
        read.append((path, rows, shard))
    totals = {n for _p, _r, (_k, n) in read}
    if len(totals) > 1:
        listing = ", ".join(f"{p.name} is {k}/{n}" for p, _r, (k, n) in read)
        raise MergeError(f"the parts come from different numbers of shards: {listing}.")
    n = totals.pop()
    seen_shard: dict[int, Path] = {}
    for path, _rows, (k, _n) in read:
        if k in seen_shard:
            raise MergeError(f"shard {k}/{n} is given twice: {seen_shard[k]} and {path}.")
        seen_shard[k] = path
    absent = [k for k in range(1, n + 1) if k not in seen_shard]
    if absent:
        raise MergeError(f"missing shard(s) {', '.join(f'{k}/{n}' for k in absent)}: the "
                         f"students in them would be missing from the gradebook.")
    owner: dict[str, Path] = {}
    merged: dict[str, list[Row]] = {}
    order: list[str] = []
    for path, rows, (k, _n) in read:
        in_part = set()
        for row in rows:
            if row.student not in in_part:
                if row.student in owner:
                    raise MergeError(f"student {row.student!r} is in two parts: "
                                     f"{owner[row.student]} and {path}.")
                expected = shard_of(row.student, n)
                if expected != k:
                    raise MergeError(f"{path} (shard {k}/{n}) holds student {row.student!r}, "
                                     f"who belongs to shard {expected}/{n}: was it graded "
                                     f"with another --shard?")
                owner[row.student] = path
                in_part.add(row.student)
                merged[row.student] = []
            merged[row.student].append(row)
            if row.exercise not in order:
                order.append(row.exercise)
        seen = set()
        for row in rows:
            key = (row.student, row.exercise)
            if key in seen:
                raise MergeError(f"{path}: {row.student!r} · {row.exercise} appears twice.")
            seen.add(key)
    if roster is not None:
        roster = [str(s) for s in roster]
        missing = [s for s in roster if s not in merged]
        extra = sorted(set(merged) - set(roster))
        if missing:
            raise MergeError(f"{len(missing)} rostered student(s) are in no part: "
                             f"{', '.join(map(repr, missing[:20]))}"
                             f"{' ...' if len(missing) > 20 else ''}.")
        if extra:
            raise MergeError(f"{len(extra)} student(s) are not on the roster: "
                             f"{', '.join(map(repr, extra[:20]))}.")
    rank = {ex: i for i, ex in enumerate(order)}
    result = [row for student in sorted(merged)
              for row in sorted(merged[student], key=lambda r: rank[r.exercise])]
    write_grades_csv(result, out)
    return result


def _read_roster(path) -> list[str]:
    """One student key per line (blank lines and ``#`` comments skipped), or a CSV's first column."""
    keys = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keys.append(next(csv.reader([line]))[0].strip())
    return keys


# ---------------------------------------------------------------------------
# the wide gradebook (LMS import)
# ---------------------------------------------------------------------------

def _fmt(value: float) -> str:
    return f"{value:.6g}"


def wide_table(rows) -> tuple[list[str], list[list[str]]]:
    """``(header, table)``: one row per student, a column per exercise, total and percent.

    The first column is ``student`` (the key the grader used: map it to the
    LMS's student identifier); an exercise a student has no row for is blank.
    ``percent`` is the total over the sum of every exercise's ``max_points``.
    """
    rows = [_row(r) for r in rows]
    exercises: list[str] = []
    max_points: dict[str, float] = {}
    by_student: dict[str, dict[str, Row]] = {}
    for r in rows:
        if r.exercise not in max_points:
            exercises.append(r.exercise)
            max_points[r.exercise] = r.max_points
        elif max_points[r.exercise] != r.max_points:
            raise ValueError(f"exercise {r.exercise} is out of {max_points[r.exercise]:g} "
                             f"points in one row and {r.max_points:g} in another (rows from "
                             f"different versions of the course?).")
        if r.exercise in by_student.setdefault(r.student, {}):
            raise ValueError(f"{r.student!r} · {r.exercise} appears twice in the grades.")
        by_student[r.student][r.exercise] = r
    possible = sum(max_points.values())
    header = ["student", *exercises, "total", "percent"]
    table = []
    for student in sorted(by_student):
        got = by_student[student]
        total = sum(r.points for r in got.values())
        percent = 100.0 * total / possible if possible else 0.0
        table.append([student, *(_fmt(got[e].points) if e in got else "" for e in exercises),
                      _fmt(total), f"{percent:.2f}"])
    return header, table


def write_wide(rows, path) -> None:
    """Write :func:`wide_table` as a CSV (UTF-8, comma-separated, one header row)."""
    header, table = wide_table(rows)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(table)


# ---------------------------------------------------------------------------
# feedback pages
# ---------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.45rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.pts{white-space:nowrap}code{background:#f2f2f2;padding:0 .2em}
.correct{color:#11692b;font-weight:600}.other{color:#a11;font-weight:600}
.hint{margin-top:.3rem;color:#444}.total{font-size:1.1rem;margin:1rem 0}
""".strip()

_STATUS_TEXT = {
    "correct": "correct", "incorrect": "incorrect", "error": "error (the answer raised)",
    "not_attempted": "not attempted", "timeout": "timed out", "crashed": "crashed",
    "missing": "missing", "unreadable": "unreadable",
}


def _inline_markdown(text: str) -> str:
    """Escape everything, then show `code` spans as <code> (the hints use them)."""
    parts = re.split(r"(`[^`]+`)", str(text))
    out = []
    for part in parts:
        if len(part) > 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
        else:
            out.append(html.escape(part))
    return "".join(out)


def _first_hint(exercise_id: str) -> str | None:
    from .exercises import _core
    try:
        hints = _core.get(exercise_id).hints
    except (KeyError, ValueError, ImportError):
        return None
    return hints[0] if hints else None


def feedback_page(student: str, rows, *, title: str = "gdcourse feedback") -> str:
    """One self-contained HTML page (inline CSS, no scripts, no links) for one student.

    Each exercise with its status, points, the one-line message and, when the
    answer did not score, the exercise's first hint.  Never the reference
    solution.  Every text is HTML-escaped.
    """
    rows = [_row(r) for r in rows]
    total = sum(r.points for r in rows)
    possible = sum(r.max_points for r in rows)
    lines = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}: {html.escape(student)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}: {html.escape(student)}</h1>",
             f'<p class="total">Total: <strong>{_fmt(total)} / {_fmt(possible)}</strong>'
             f"{f' ({100 * total / possible:.0f}%)' if possible else ''}</p>",
             "<table><thead><tr><th>exercise</th><th>status</th><th>points</th>"
             "<th>feedback</th></tr></thead><tbody>"]
    for r in rows:
        css = "correct" if r.status == "correct" else "other"
        cell = html.escape(r.message)
        if r.status != "correct":
            hint = _first_hint(r.exercise)
            if hint:
                cell += f'<div class="hint"><strong>Hint:</strong> {_inline_markdown(hint)}</div>'
        lines.append(f"<tr><td><code>{html.escape(r.exercise)}</code></td>"
                     f'<td class="{css}">{html.escape(_STATUS_TEXT.get(r.status, r.status))}</td>'
                     f'<td class="pts">{_fmt(r.points)} / {_fmt(r.max_points)}</td>'
                     f"<td>{cell}</td></tr>")
    lines += ["</tbody></table>", "</body></html>", ""]
    return "\n".join(lines)


def _page_name(student: str, taken: set) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._") or "student"
    stem = stem[:80]
    if stem != student or stem.lower() in taken:
        stem = f"{stem}-{hashlib.sha256(student.encode('utf-8')).hexdigest()[:8]}"
    taken.add(stem.lower())
    return stem + ".html"


def write_feedback(rows, folder, *, title: str = "gdcourse feedback") -> dict[str, Path]:
    """One page per student in ``folder`` (created); returns ``{student: page}``.

    A page is ``<student>.html`` when the key is a safe file name, otherwise the
    key with unsafe characters replaced plus 8 hex digits of its hash (so two
    keys never share a page, even on a case-insensitive file system).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Row]] = {}
    for r in (_row(r) for r in rows):
        by_student.setdefault(r.student, []).append(r)
    pages, taken = {}, set()
    for student in sorted(by_student):
        page = folder / _page_name(student, taken)
        page.write_text(feedback_page(student, by_student[student], title=title),
                        encoding="utf-8")
        pages[student] = page
    return pages


# ---------------------------------------------------------------------------
# command lines
# ---------------------------------------------------------------------------

def add_grade_options(parser: argparse.ArgumentParser) -> None:
    """The options ``gdcourse grade`` gets from this module: --shard, --wide, --feedback."""
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="grade only the K-th of N disjoint shards of the students "
                             "(by a hash of each student's name); merge the parts with "
                             "`gdcourse merge-grades`")
    _add_output_options(parser)


def _add_output_options(parser):
    parser.add_argument("--wide", type=Path, default=None, metavar="GRADEBOOK.csv",
                        help="also write one row per student, a column per exercise, total "
                             "and percent (for an LMS import)")
    parser.add_argument("--feedback", type=Path, default=None, metavar="DIR",
                        help="also write one HTML feedback page per student into DIR")


def write_outputs(rows, args, stream=None) -> None:
    """Write ``--wide`` and ``--feedback`` if the parsed ``args`` ask for them."""
    stream = sys.stdout if stream is None else stream
    if getattr(args, "wide", None) is not None:
        write_wide(rows, args.wide)
        print(f"wrote {args.wide}: the wide gradebook", file=stream)
    if getattr(args, "feedback", None) is not None:
        pages = write_feedback(rows, args.feedback)
        print(f"wrote {len(pages)} feedback page(s) into {args.feedback}", file=stream)


def cli_merge(argv=None) -> int:
    """``gdcourse merge-grades OUT.csv PART.csv ...``: 0 merged, 2 refused."""
    parser = argparse.ArgumentParser(
        prog="gdcourse merge-grades",
        description="Join the grades CSVs of `gdcourse grade --shard K/N` into one, refusing "
                    "missing shards, overlaps and students in the wrong shard.")
    parser.add_argument("out", type=Path, help="the merged CSV to write")
    parser.add_argument("parts", type=Path, nargs="+", help="the shard CSVs, any order")
    parser.add_argument("--roster", type=Path, default=None,
                        help="a file with one student key per line: each must appear, "
                             "nobody else may")
    _add_output_options(parser)
    args = parser.parse_args(argv)
    try:
        roster = _read_roster(args.roster) if args.roster else None
        rows = merge_grades(args.out, args.parts, roster=roster)
        write_outputs(rows, args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    students = len({r.student for r in rows})
    print(f"wrote {args.out}: {len(rows)} rows for {students} student(s) from "
          f"{len(args.parts)} part(s)")
    return 0


def cli_gradebook(argv=None) -> int:
    """``gdcourse gradebook GRADES.csv --wide W.csv --feedback DIR``: 0 done, 2 bad input."""
    parser = argparse.ArgumentParser(
        prog="gdcourse gradebook",
        description="Turn a grades CSV (from `gdcourse grade` or `merge-grades`) into a wide "
                    "gradebook for an LMS and/or one HTML feedback page per student.")
    parser.add_argument("grades", type=Path, help="a grades CSV")
    _add_output_options(parser)
    args = parser.parse_args(argv)
    if args.wide is None and args.feedback is None:
        print("error: pass --wide GRADEBOOK.csv and/or --feedback DIR", file=sys.stderr)
        return 2
    try:
        rows, _shard = read_grades_csv(args.grades)
        write_outputs(rows, args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
