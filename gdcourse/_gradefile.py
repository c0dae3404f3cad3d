"""The gradebook file, for :mod:`gdcourse.grading`: one CSV row per student and exercise,
appended and flushed as each is final (so a killed grader loses only answers in flight), and
read back for ``--resume``, sharding and merging."""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path

# one definition of the gradebook's row and columns, shared with gdcourse.gradebook (shards,
# merge, the wide file, feedback pages), which reads what this module writes
from .gradebook import COLUMNS as CSV_COLUMNS
from .gradebook import Row as GradeRow


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
