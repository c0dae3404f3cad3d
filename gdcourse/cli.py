"""The ``gdcourse`` command.

::

    gdcourse lab [DIR] [--port N] [--no-browser] [--lang ja|zh|ko|fr]
                                                   open the course in JupyterLab at lesson 1
    gdcourse new DIR [--no-lab] [--lang ja|zh|ko|fr]
                                                   copy the course into DIR and open it there
    gdcourse list                                  the lessons, their titles and objectives
    gdcourse check [NOTEBOOK ...]                  self-check your exercises
    gdcourse grade SUBMISSIONS --out grades.csv    grade a folder of submitted notebooks
    gdcourse build-exercises [--check]             write exercises/ from solutions/ (authors)
    gdcourse hub --users N [--password PW]         a workshop JupyterHub on this machine
    gdcourse link --hub URL [--lesson N]           the nbgitpuller link that opens a lesson on a hub
    gdcourse merge-grades OUT.csv PART.csv ...     join the parts of a sharded grading run
    gdcourse gradebook GRADES.csv [--wide W.csv] [--feedback DIR]
                                                   LMS gradebook and feedback pages
    gdcourse export nbgrader SOLUTIONS_DIR COURSE_DIR
    gdcourse export otter SOLUTION_NB MASTER_NB    the course for nbgrader / Otter-Grader

    gdcourse site OUT_DIR                          the course as an offline website (site extra)
    gdcourse --version
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import textwrap

from . import __version__
from . import i18n
from .course import CourseNotFound, copy_course, find_course, lab_config_dir, lessons

__all__ = ["main", "lab_command"]

# verbs implemented in other modules: name -> ("module" or "module:function", one-line help);
# the function defaults to ``cli``
_DELEGATED = {
    "check": ("gdcourse.selfcheck", "run your exercise notebooks and print a score table"),
    "grade": ("gdcourse.grading", "grade a folder of submitted notebooks into a CSV (instructors)"),
    "build-exercises": ("gdcourse.authoring", "write exercises/ from solutions/, or --check they agree"),
    "hub": ("gdcourse.hub", "start a workshop JupyterHub: every learner gets the course at lesson 1"),
    "link": ("gdcourse.links", "print the nbgitpuller link that opens a lesson on a JupyterHub"),
    "merge-grades": ("gdcourse.gradebook:cli_merge",
                     "join the CSVs of `grade --shard K/N` into one, refusing gaps and overlaps"),
    "gradebook": ("gdcourse.gradebook:cli_gradebook",
                  "a wide LMS gradebook and/or HTML feedback pages from a grades CSV"),
    "export": ("gdcourse.interop", "write an nbgrader course or an Otter master notebook"),

    "site": ("gdcourse.site", "build the course as a static website that works offline"),
}


def lab_command(root, *, port=None, no_browser=False, extra=()) -> list[str]:
    """The JupyterLab command line that opens ``root`` at its first lesson."""
    first = sorted((root / "lessons").glob("[0-9][0-9]_*.ipynb"))
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}"]
    if first:
        cmd.append(f"--LabApp.default_url=/lab/tree/lessons/{first[0].name}")
    if port is not None:
        cmd.append(f"--port={port}")
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # containers and CI machines run as root; JupyterLab refuses that without this flag
        cmd.append("--allow-root")
    cmd.extend(extra)
    return cmd


#: environment variables JupyterLab (and so its kernels) starts with, set by ``_run_lab``
_LAB_ENV: dict = {}


def _exec(cmd) -> int:
    """Become JupyterLab (POSIX), so that a signal to ``gdcourse lab`` reaches the server itself
    and stopping it leaves no orphan server behind; elsewhere run it as a child."""
    os.environ.update(_LAB_ENV)
    if os.name == "posix":
        os.execv(cmd[0], cmd)
    return subprocess.call(cmd)  # pragma: no cover - Windows


def _user_settings_dir() -> str | None:
    """The learner's own JupyterLab user settings (to seed the course's copy), if JupyterLab is here."""
    try:
        from jupyterlab.commands import get_user_settings_dir
    except ImportError:  # pragma: no cover - a kernel-only install
        return None
    return get_user_settings_dir()


def _language_options(root, lang) -> list[str]:
    """The JupyterLab options that set its interface language for this course folder."""
    if lang is None:
        return []
    settings = i18n.lab_settings_dir(root, lang, seed_from=_user_settings_dir())
    if not i18n.language_pack_installed(lang):
        print(f"JupyterLab's own menus stay in English: its {lang} language pack is not installed "
              f"(pip install \"gdcourse[{lang}]\").", file=sys.stderr)
    return [f"--LabApp.user_settings_dir={settings}"]


def _run_lab(root, args, lang=None) -> int:
    extra = _language_options(root, lang) + list(args.jupyter_args)
    cmd = lab_command(root, port=args.port, no_browser=args.no_browser, extra=extra)
    if lang is not None:
        _LAB_ENV["GDCOURSE_LANG"] = lang   # the kernels' feedback, sliders and readouts too
    # JupyterLab's news pop-up off: a page config in a folder of gdcourse's own, searched first
    _LAB_ENV["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [str(lab_config_dir())] + [p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p])
    print(f"Opening the course in {root} (lesson 1 first). Stop the server with Ctrl-C.", flush=True)
    try:
        return _exec(cmd)
    except KeyboardInterrupt:
        return 0


def _cmd_lab(args) -> int:
    try:
        root = find_course(args.dir)
    except CourseNotFound as exc:
        print(f"gdcourse lab: {exc}", file=sys.stderr)
        return 2
    built = i18n.course_language(root)
    lang = args.lang or built
    if lang not in (None, "en") and built != lang:
        # the folder is not in that language: build the translated course next to it, from it
        # (or from the shipped English when the folder itself is a translation)
        target = root / "build" / lang
        source = root if built in (None, "en") else None
        copy_course(target, source=source, lang=lang)
        print(f"The {lang} notebooks are in {target} (existing files were kept).")
        root = target
    return _run_lab(root, args, lang=lang)


def _cmd_new(args) -> int:
    try:
        dest = copy_course(args.dir, overwrite=False, lang=args.lang)
    except (CourseNotFound, ValueError) as exc:
        print(f"gdcourse new: {exc}", file=sys.stderr)
        return 2
    print(f"The course notebooks are in {dest} (existing files were kept).")
    if args.no_lab:
        print(f"Open them with: gdcourse lab {dest}")
        if args.lang is not None:
            i18n.lab_settings_dir(dest, args.lang, seed_from=_user_settings_dir())
        return 0
    return _run_lab(dest, args, lang=args.lang)


def _cmd_list(args) -> int:
    try:
        found = lessons(args.dir)
    except CourseNotFound as exc:
        print(f"gdcourse list: {exc}", file=sys.stderr)
        return 2
    try:
        for info in found:
            time = f"  ({info.minutes})" if info.minutes else ""
            print(f"{info.number}. {info.title}{time}")
            for objective in info.objectives:
                print(textwrap.fill(objective, width=96, initial_indent="     - ",
                                    subsequent_indent="       "))
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped early (`gdcourse list | head -1`): what it read is what it wanted.
        # Point stdout at /dev/null so the flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _add_lab_options(p):
    p.add_argument("--port", type=int, default=None, help="port for JupyterLab (default: its own)")
    p.add_argument("--no-browser", action="store_true", help="start the server without opening a browser")
    p.add_argument("--lang", choices=i18n.LANG_CHOICES, default=None,
                   help="the language of the notebooks and of JupyterLab's menus (default: English, "
                        "or the language the folder was made in)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gdcourse", description="A hands-on course on gradient descent in JupyterLab.")
    parser.add_argument("--version", action="version", version=f"gdcourse {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")

    p = sub.add_parser("lab", help="open the course in JupyterLab at lesson 1")
    p.add_argument("dir", nargs="?", default=None, help="course folder (default: found automatically)")
    _add_lab_options(p)
    p.set_defaults(func=_cmd_lab)

    p = sub.add_parser("new", help="copy the course notebooks into DIR and open them there")
    p.add_argument("dir", help="a folder of your own, e.g. ~/gdcourse")
    p.add_argument("--no-lab", action="store_true", help="only copy, do not start JupyterLab")
    _add_lab_options(p)
    p.set_defaults(func=_cmd_new)

    p = sub.add_parser("list", help="the lessons in order, with their objectives")
    p.add_argument("dir", nargs="?", default=None, help="course folder (default: found automatically)")
    p.set_defaults(func=_cmd_list)

    for verb, (_, help_text) in _DELEGATED.items():
        sub.add_parser(verb, help=help_text, add_help=False)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _DELEGATED:
        module_name, _, function = _DELEGATED[argv[0]][0].partition(":")
        module = importlib.import_module(module_name)
        return int(getattr(module, function or "cli")(argv[1:]) or 0)
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.verb is None:
        parser.print_help()
        return 0
    if args.verb in ("lab", "new"):
        args.jupyter_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
