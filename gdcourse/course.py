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

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ._notebook import markdown_cells, read_notebook

__all__ = ["LessonInfo", "find_course", "packaged_course", "lessons", "copy_course",
           "CourseNotFound", "COURSE_FOLDERS", "ANNOUNCEMENTS_PLUGIN", "lab_config_dir"]

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


# LaTeX in the objectives, as a terminal can print it: commands first, then sub- and superscripts
_SYMBOLS = [
    (r"\tfrac12", "½"), (r"\frac12", "½"), (r"\tfrac1m", "1/m"), (r"\frac1m", "(1/m)"),
    (r"\leftarrow", "←"), (r"\rightarrow", "→"), (r"\nabla", "∇"), (r"\partial", "∂"),
    (r"\alpha", "α"), (r"\beta", "β"), (r"\gamma", "γ"), (r"\delta", "δ"), (r"\epsilon", "ε"),
    (r"\theta", "θ"), (r"\kappa", "κ"), (r"\lambda", "λ"), (r"\mu", "μ"), (r"\rho", "ρ"),
    (r"\sigma", "σ"), (r"\top", "ᵀ"), (r"\cdot", "·"), (r"\times", "×"), (r"\approx", "≈"),
    (r"\le", "≤"), (r"\ge", "≥"), (r"\odot", "⊙"), (r"\sqrt", "√"), (r"\lceil", "⌈"), (r"\rceil", "⌉"),
    (r"\left", ""), (r"\right", ""), (r"\,", " "), (r"\;", " "),
]
_SUB = str.maketrans("0123456789+-=()aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-=()nt*", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿᵗ*")


def _script(text: str, table: dict, mark: str) -> str:
    """Turn _x / _{xy} (or ^x / ^{xy}) into Unicode sub/superscripts when every character has one."""
    def repl(match):
        body = match.group(1) if match.group(1) is not None else match.group(2)
        converted = body.translate(table)
        if all(c != b or c == "*" for c, b in zip(converted, body)):
            return converted
        return match.group(0)
    return re.sub(re.escape(mark) + r"(?:\{([^{}]*)\}|([^\s{\\]))", repl, text)


def unicode_math(text: str) -> str:
    r"""Replace the $…$ math of a line by plain Unicode, for a terminal.

    >>> unicode_math(r"compute $\nabla J(\theta) = \frac1m X^\top(X\theta - y)$ and $h_\theta(x) = \theta_0 + \theta_1 x$")
    'compute ∇J(θ) = (1/m) Xᵀ(Xθ − y) and h_θ(x) = θ₀ + θ₁ x'
    """
    def convert(match):
        body = match.group(1)
        for latex, plain in _SYMBOLS:
            guard = "" if latex.endswith(" ") else r"(?![a-zA-Z])"
            body = re.sub(re.escape(latex) + guard, lambda _m, p=plain: p, body)
        body = _script(body, _SUB, "_")
        body = _script(body, _SUP, "^")
        body = re.sub(r"_(θ|α|β|λ|μ)", r"_\1", body)        # no Unicode subscript theta: keep h_θ
        body = re.sub(r"([∇∂⌈√]) ", r"\1", body).replace("^ᵀ", "ᵀ")   # "\nabla J" → "∇J"
        body = body.replace(" - ", " − ").replace("{", "").replace("}", "")
        return body
    return re.sub(r"\$([^$]+)\$", convert, text)


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
                    objectives.append(unicode_math(bullet.group(1).strip()))
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


def i18n_folder(src: Path) -> Path:
    """The translation catalogues for the course at ``src``: its own ``i18n/``, else the shipped or
    cloned package's."""
    for candidate in (src, packaged_course(), _PACKAGE_DIR.parent):
        if candidate is not None and (candidate / "i18n").is_dir():
            return candidate / "i18n"
    return src / "i18n"


def copy_course(dest, *, source=None, overwrite: bool = False, lang: str | None = None) -> Path:
    """Copy ``lessons/`` and ``exercises/`` into ``dest`` and return it.

    With ``lang`` (``"ja"``, ``"zh"``, ``"ko"``, ``"fr"``) each notebook that has a catalogue in
    that language is written translated (gdcourse.i18n), the others in English, and the folder
    remembers its language. Existing files are kept (a learner's work is never overwritten)
    unless ``overwrite=True``.
    """
    from . import i18n

    if lang is not None and lang not in i18n.LANG_CHOICES:
        raise ValueError(f"lang must be one of {', '.join(i18n.LANG_CHOICES)}, got {lang!r}")
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
            if lang in (None, "en"):
                shutil.copyfile(nb, target)
            else:
                i18n.build(nb, i18n.catalogue_path(i18n_folder(src), lang, nb), target)
    if lang is not None:
        i18n.mark_course_language(dest, lang)
    return dest


#: JupyterLab's "Would you like to get notified about official Jupyter news?" pop-up: off in
#: ``gdcourse lab`` and on the workshop hub, where it would be the first thing a learner answers
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"


def lab_config_dir(config_dir=None) -> Path:
    """A Jupyter config folder whose ``labconfig/page_config.json`` switches the news pop-up off.

    Put it first on ``JUPYTER_CONFIG_PATH``. Default: ``$XDG_CACHE_HOME/gdcourse/jupyter-config``
    (``~/.cache/...``), so that neither the course folder nor the learner's own Jupyter settings
    are written to.
    """
    if config_dir is None:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        config_dir = Path(base) / "gdcourse" / "jupyter-config"
    config_dir = Path(config_dir)
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {ANNOUNCEMENTS_PLUGIN: True}}, indent=1), encoding="utf-8")
    return config_dir
