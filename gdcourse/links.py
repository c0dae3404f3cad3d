"""``gdcourse link --hub URL [--lesson N]``: the nbgitpuller link that opens a lesson on a hub.

A learner who clicks the link gets the course repository cloned into their
home on the first click (``<repo name>/``), or pulled on later clicks, and
lands in the lesson.  nbgitpuller merges: a notebook the learner has changed
keeps their version, new files from the course appear.  The hub's user
environment needs nbgitpuller (it is in ``gdcourse[hub]``, the Binder image
and the Zero to JupyterHub image built from this repository).

>>> print(link("https://hub.example.org", "https://github.com/me/gdcourse", lesson_file="01_x.ipynb"))
https://hub.example.org/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fme%2Fgdcourse&branch=main&urlpath=lab%2Ftree%2Fgdcourse%2Flessons%2F01_x.ipynb
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import urllib.parse

from .course import CourseNotFound, find_course, lessons

__all__ = ["link", "repo_folder", "origin_url", "cli"]


def repo_folder(repo: str) -> str:
    """The folder nbgitpuller clones ``repo`` into: its last path part without ``.git``."""
    name = re.sub(r"\.git$", "", repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    if not name:
        raise ValueError(f"--repo must be a git repository URL, but got {repo!r}.")
    return name


def link(hub: str, repo: str, *, lesson_file: str, branch: str = "main",
         folder: str = "lessons", targetpath: str | None = None) -> str:
    """The nbgitpuller link on ``hub`` that pulls ``repo`` and opens ``folder/lesson_file``."""
    if not isinstance(hub, str) or not re.match(r"^https?://[^/\s]+", hub):
        raise ValueError(f"--hub must be the hub's address starting with http:// or https://, "
                         f"e.g. https://hub.example.org, but got {hub!r}.")
    if not isinstance(repo, str) or not repo.strip():
        raise ValueError(f"--repo must be a git repository URL, but got {repo!r}.")
    if not isinstance(branch, str) or not branch.strip():
        raise ValueError(f"--branch must be a branch name, but got {branch!r}.")
    target = targetpath or repo_folder(repo)
    query = {"repo": repo, "branch": branch}
    if targetpath:
        query["targetpath"] = targetpath
    query["urlpath"] = f"lab/tree/{target}/{folder}/{lesson_file}"
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{urllib.parse.urlencode(query)}"


def origin_url(course) -> str | None:
    """The ``origin`` remote of the git clone the course sits in, or None."""
    try:
        out = subprocess.run(["git", "-C", str(course), "remote", "get-url", "origin"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    url = out.stdout.strip()
    return url if out.returncode == 0 and url else None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gdcourse link",
        description="Print the nbgitpuller link that opens a lesson on a JupyterHub, pulling "
                    "course updates without overwriting the learner's work.")
    p.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example.org")
    p.add_argument("--lesson", type=int, default=1, metavar="N", help="lesson number (default 1)")
    p.add_argument("--exercises", action="store_true",
                   help="open the lesson's exercise notebook instead of the lesson")
    p.add_argument("--repo", default=None,
                   help="the course's git repository (default: this clone's origin remote)")
    p.add_argument("--branch", default="main", help="branch to pull (default main)")
    p.add_argument("--targetpath", default=None,
                   help="folder in the learner's home (default: the repository's name)")
    p.add_argument("--course", default=None, help="course folder (default: found automatically)")
    return p


def cli(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        found = lessons(args.course)
        course = find_course(args.course, allow_packaged=True)
    except CourseNotFound as exc:
        print(f"gdcourse link: {exc}", file=sys.stderr)
        return 2
    numbers = [info.number for info in found]
    match = [info for info in found if info.number == args.lesson]
    if not match:
        print(f"gdcourse link: --lesson must be one of {numbers}, but got {args.lesson}.",
              file=sys.stderr)
        return 2
    name = match[0].path.name
    folder = "lessons"
    if args.exercises:
        folder = "exercises"
        if not (course / "exercises" / name).is_file():
            print(f"gdcourse link: lesson {args.lesson} has no exercise notebook "
                  f"(exercises/{name}).", file=sys.stderr)
            return 2
    repo = args.repo or origin_url(course)
    if not repo:
        print("gdcourse link: --repo is needed: this course folder is not a git clone with an "
              "origin remote. Give the course repository's URL, e.g. "
              "--repo https://github.com/OWNER/gdcourse", file=sys.stderr)
        return 2
    try:
        print(link(args.hub, repo, lesson_file=name, branch=args.branch, folder=folder,
                   targetpath=args.targetpath))
    except ValueError as exc:
        print(f"gdcourse link: {exc}", file=sys.stderr)
        return 2
    return 0
