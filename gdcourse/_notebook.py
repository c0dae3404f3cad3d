"""The one reader of the notebook format, for authoring, selfcheck, grading, course and conftest.

* :func:`read_bytes` reads a regular file only (no symlink, FIFO or device),
  at most ``max_bytes``, without ever blocking;
* :func:`read_notebook` parses and validates a notebook (a dict with a list of
  cells, each cell a dict whose ``source`` is a string or a list of strings)
  and raises :class:`NotebookError` (a ``ValueError``) with one clear line;
* :func:`cell_source`, :func:`answer_id`, :func:`answer_cells`,
  :func:`markdown_cells`: what the tools look for in cells;
* ``ID_COMMENT``, ``ID_FORM``, ``CHECK_CALL``: the answer-id comment, the id's
  form, and a check call (``ex.predict.check(predict)``).
"""

from __future__ import annotations

import json
import os
import re
import stat

__all__ = ["NotebookError", "ID_COMMENT", "ID_FORM", "CHECK_CALL", "MAX_BYTES", "read_bytes",
           "read_notebook", "cell_source", "answer_id", "answer_cells", "markdown_cells"]

ID_COMMENT = re.compile(r"^#\s*exercise:\s*(\S+)\s*$")
ID_FORM = re.compile(r"lesson\d\d\.[A-Za-z_][A-Za-z0-9_]*")
CHECK_CALL = re.compile(r"\.check\s*\(")

#: notebooks larger than this are refused (50 MB)
MAX_BYTES = 50 << 20


class NotebookError(ValueError):
    """A file that is not a readable Jupyter notebook."""


def read_bytes(path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, refusing symlinks, FIFOs, devices and files over ``max_bytes``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise NotebookError("a symbolic link, not a regular file") from None
        raise NotebookError(f"cannot open it ({type(exc).__name__}: {exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device"
                    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                    else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
            raise NotebookError(f"{kind}, not a regular file")
        if info.st_size > max_bytes:
            raise NotebookError(f"the file is larger than {max_bytes >> 20} MB")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise NotebookError(f"the file is larger than {max_bytes >> 20} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _check_cells(raw) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookError("not a Jupyter notebook (no list of cells)")
    for index, cell in enumerate(raw["cells"]):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {index} is a {type(cell).__name__}, not a cell")
        if not isinstance(cell.get("cell_type", "code"), str):
            raise NotebookError(f"cell {index} has a cell_type that is not a string")
        source = cell.get("source", "")
        if isinstance(source, list):
            bad = next((s for s in source if not isinstance(s, str)), None)
            if bad is not None or any(not isinstance(s, str) for s in source):
                raise NotebookError(f"cell {index}: its source list holds a "
                                    f"{type(bad).__name__}, not only strings")
        elif not isinstance(source, str):
            raise NotebookError(f"cell {index}: its source is a {type(source).__name__}, "
                                f"not a string or a list of strings")
        meta = cell.get("metadata", {})
        if meta is not None and not isinstance(meta, dict):
            raise NotebookError(f"cell {index}: its metadata is not a mapping")


def read_notebook(path, *, max_bytes: int = MAX_BYTES, version: int | None = None) -> dict:
    """The notebook at ``path`` as a plain dict, validated; :class:`NotebookError` if it is not one."""
    data = read_bytes(path, max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("not UTF-8 text") from None
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise NotebookError(f"not a notebook (invalid JSON: {exc})") from None
    _check_cells(raw)
    if version is not None and raw.get("nbformat") != version:
        raise NotebookError(f"not a version-{version} Jupyter notebook")
    return raw


def cell_source(cell) -> str:
    """A cell's source as one string (notebooks store it as a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def answer_id(cell) -> str | None:
    """The exercise id of a cell (first-line comment, else metadata ``gdcourse.exercise``), or None."""
    if cell.get("cell_type") != "code":
        return None
    meta = cell.get("metadata", {}) or {}
    meta_id = (meta.get("gdcourse") or {}).get("exercise") if isinstance(meta, dict) else None
    first = cell_source(cell).lstrip("\n").split("\n", 1)[0].strip()
    match = ID_COMMENT.match(first)
    return (match.group(1) if match else None) or (meta_id if isinstance(meta_id, str) else None)


def answer_cells(nb) -> list[tuple[int, str, str]]:
    """``(cell index, exercise id, source)`` of every answer cell, in notebook order."""
    out = []
    for index, cell in enumerate(nb.get("cells", [])):
        try:
            ex_id = answer_id(cell)
        except (AttributeError, TypeError):
            ex_id = None
        if ex_id:
            out.append((index, ex_id, cell_source(cell)))
    return out


def markdown_cells(nb) -> list[str]:
    """The sources of the markdown cells, in order."""
    return [cell_source(c) for c in nb.get("cells", []) if c.get("cell_type") == "markdown"]
