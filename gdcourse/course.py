"""Where the course's notebooks live, what the lessons are, and copying them out.

The notebooks are found, in this order:

1. a folder given explicitly;
2. the current folder, if it has a ``lessons/`` folder;
3. the clone the package was installed from (``pip install -e .``);
4. the copy shipped inside the installed package (``gdcourse/_course``).

The shipped copy is read-only material: ``gdcourse new DIR`` copies it into a
folder of the learner's own before they open it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ._notebook import markdown_cells, read_notebook

__all__ = ["LessonInfo", "find_course", "packaged_course", "lessons", "copy_course",
           "CourseNotFound", "COURSE_FOLDERS"]

COURSE_FOLDERS = ("lessons", "exercises")
_PACKAGE_DIR = Path(__file__).resolve().parent


class CourseNotFound(FileNotFoundError):
    """No folder with the course's lessons could be found."""


def _has_lessons(folder: Path) -> bool:
    return (folder / "lessons").is_dir() and any((folder / "lessons").glob("[0-9][0-9]_*.ipynb"))


def packaged_course() -> Path | None:
    """The notebooks shipped inside the installed package, or None in a source checkout."""
    folder = _PACKAGE_DIR / "_course"
    return folder if _has_lessons(folder) else None


def find_course(folder=None, *, allow_packaged: bool = False) -> Path:
    """The course folder (one that holds ``lessons/``), see the module docstring for the order."""
    if folder is not None:
        path = Path(folder).expanduser().resolve()
        if not _has_lessons(path):
            raise CourseNotFound(
                f"{path} has no lessons/ folder with numbered notebooks. "
                f"Get a copy of the course there with: gdcourse new {folder}"
            )
        return path
    cwd = Path.cwd()
    if _has_lessons(cwd):
        return cwd
    clone = _PACKAGE_DIR.parent
    if _has_lessons(clone) and (clone / "pyproject.toml").is_file():
        return clone
    shipped = packaged_course()
    if allow_packaged and shipped is not None:
        return shipped
    raise CourseNotFound(
        "No course folder here (a folder with lessons/). Get your own copy and open it with: "
        "gdcourse new ~/gdcourse"
    )


@dataclass
class LessonInfo:
    """A lesson notebook's number, title, estimated time and learning objectives."""

    number: int
    path: Path
    title: str
    minutes: str = ""
    objectives: list[str] = field(default_factory=list)


def _markdown_cells(path: Path) -> list[str]:
    return markdown_cells(read_notebook(path))


def _lesson_info(path: Path) -> LessonInfo:
    number = int(path.name[:2])
    text = "\n".join(_markdown_cells(path)[:4])
    title_match = re.search(r"^#\s+(.+)$", text, re.M)
    title = title_match.group(1).strip() if title_match else path.stem
    time_match = re.search(r"(?i)(?:estimated\s+)?time[^0-9\n]{0,20}(\d+\s*(?:[–-]\s*\d+\s*)?min\w*)", text)
    objectives: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"(?i)objectives|you will( be able to)?|by the end", line):
            for follow in lines[i + 1:]:
                bullet = re.match(r"^\s*(?:[-*]|\d+[.)])\s+(.+)$", follow)
                if bullet:
                    objectives.append(bullet.group(1).strip())
                elif objectives and follow.strip() == "":
                    break
                elif follow.startswith("#") and objectives:
                    break
            if objectives:
                break
    return LessonInfo(number, path, title, time_match.group(1) if time_match else "", objectives)


def lessons(folder=None) -> list[LessonInfo]:
    """The lessons in order, read from the notebooks themselves."""
    root = find_course(folder, allow_packaged=True)
    return [_lesson_info(p) for p in sorted((root / "lessons").glob("[0-9][0-9]_*.ipynb"))]


def copy_course(dest, *, source=None, overwrite: bool = False) -> Path:
    """Copy ``lessons/`` and ``exercises/`` into ``dest`` and return it.

    Existing files are kept (a learner's work is never overwritten) unless
    ``overwrite=True``.
    """
    src = find_course(source, allow_packaged=True) if source is not None else (
        packaged_course() or find_course(allow_packaged=True))
    dest = Path(dest).expanduser().resolve()
    if dest == src:
        raise ValueError(f"dest must differ from the course it is copied from ({src}).")
    dest.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FOLDERS:
        folder = src / name
        if not folder.is_dir():
            continue
        (dest / name).mkdir(exist_ok=True)
        for nb in sorted(folder.glob("*.ipynb")):
            target = dest / name / nb.name
            if target.exists() and not overwrite:
                continue
            shutil.copyfile(nb, target)
    return dest
