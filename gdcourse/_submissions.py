"""What was handed in, for :mod:`gdcourse.grading`: the students in a submissions folder
(one file or one folder each; nbgrader's ``submitted/<student>/<assignment>/`` as it is),
their answer cells, and the code worth a human look (:func:`review_flags`)."""

from __future__ import annotations

import ast
import os
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple


from ._notebook import NotebookError, answer_cells, read_notebook
from .exercises import _core

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
