"""One cold build of the course website per test session, shared by ``tests/test_site.py`` (the
execution cache) and ``tests/browser/test_site_in_browser.py`` (the pages in chromium).

The build runs on a copy of the course's README, docs/ and lessons/ (so a test may edit the copy,
never the repository) with a fresh execution cache, both in pytest's temporary folder.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_BUILT: dict[str, "BuiltSite"] = {}


@dataclass
class BuiltSite:
    course: Path
    cache: Path
    out: Path
    report: object  # gdcourse.site.BuildReport
    workdir: Path


def copy_course(dest: Path) -> Path:
    """README.md, docs/*.md and lessons/NN_*.ipynb of the repository, copied into ``dest``."""
    dest.mkdir(parents=True)
    shutil.copyfile(REPO / "README.md", dest / "README.md")
    shutil.copytree(REPO / "docs", dest / "docs", ignore=shutil.ignore_patterns("*.ipynb_checkpoints"))
    (dest / "lessons").mkdir()
    for notebook in sorted((REPO / "lessons").glob("[0-9][0-9]_*.ipynb")):
        shutil.copyfile(notebook, dest / "lessons" / notebook.name)
    return dest


def built_site(tmp_path_factory) -> BuiltSite:
    """The session's site, built cold on the first call (about a minute on 2 cores)."""
    if "site" not in _BUILT:
        from gdcourse.site import build

        workdir = tmp_path_factory.mktemp("site")
        course = copy_course(workdir / "course")
        report = build(workdir / "out", course=course, cache_dir=workdir / "cache",
                       hub="http://127.0.0.1:8000", binder="https://mybinder.org/v2/gh/o/r/HEAD",
                       echo=False)
        _BUILT["site"] = BuiltSite(course=course, cache=workdir / "cache", out=workdir / "out",
                                   report=report, workdir=workdir)
    return _BUILT["site"]
