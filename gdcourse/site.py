"""The course as a website that works offline: ``gdcourse site OUT_DIR``.

::

    gdcourse site OUT_DIR [--course DIR] [--cache DIR] [--hub URL|none] [--binder URL|none]

Sphinx, myst-nb and sphinx-book-theme (the ``site`` extra) turn the course into
static HTML: the README as the home page, every ``docs/*.md`` that exists (the
concept map, the instructor guide) and every lesson, *executed*, with its math,
its figures and its slider panels as first drawn.

Offline
    No page loads anything from outside its own folder.  require.js, the
    widget manager (``@jupyter-widgets/html-manager``) and MathJax 3 are
    copied from ``gdcourse/_site/vendor/`` (unmodified files from the npm
    registry, committed with their licences; ``tools/vendor_site_js.py``
    refreshes them) into the site's ``_static/vendor/``.  ``gdcourse-site.js``
    points require.js at that folder, so the widget manager's icon fonts load
    from it too.

Execution cache
    Notebooks are executed through jupyter-cache (``nb_execution_mode =
    "cache"``): a rebuild re-executes only a lesson whose *code* changed; a
    lesson whose text changed is re-rendered from its cached outputs.  The
    cache lives in ``--cache DIR``, by default ``$XDG_CACHE_HOME/gdcourse/site``
    (``~/.cache/gdcourse/site``): ``jupyter_cache/`` (the executed notebooks),
    ``doctrees/`` (Sphinx's parsed pages), ``src/`` (the staged sources),
    ``html/`` and ``jupyter_execute/`` (Sphinx's output, copied to OUT_DIR),
    ``build.log`` and ``last-build.json`` (which lessons were executed and which
    came from the cache).  Delete the folder to start afresh.

Launch links
    Each lesson page starts with links that open the same notebook in a live
    JupyterLab, and each slider panel says that moving it needs a live kernel
    (the static page shows the panel's first picture; its sliders move but
    nothing redraws).  ``--hub`` and ``--binder`` take a URL *template* in
    which ``{path}`` is the notebook's path in the course (e.g.
    ``lessons/01_cost_function.ipynb``); a URL without ``{path}`` gets the
    usual suffix appended:

    * hub: ``URL/hub/user-redirect/lab/tree/{path}`` (JupyterHub's redirect into
      the learner's own server, where the course sits in the home folder);
      default ``http://localhost:8000``, the address of a hub on this machine;
    * Binder: ``URL?urlpath=lab/tree/{path}``, e.g. ``--binder
      https://mybinder.org/v2/gh/OWNER/REPO/HEAD``; by default derived from the
      course's git remote ``origin`` when it is on GitHub, else no Binder link.

    ``none`` drops a link.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._validation import describe
from .course import CourseNotFound, find_course

__all__ = ["build", "BuildReport", "SiteError", "launch_template", "launch_url", "default_binder",
           "default_cache_dir", "stage_sources", "sphinx_config", "cli", "DEFAULT_HUB", "setup"]

DEFAULT_HUB = "http://localhost:8000"
HUB_SUFFIX = "/hub/user-redirect/lab/tree/{path}"
BINDER_SUFFIX = "urlpath=lab/tree/{path}"
ASSETS = Path(__file__).resolve().parent / "_site"
#: docs/*.md pages, in this order first (the rest follow alphabetically)
DOC_ORDER = ("concepts", "instructor")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class SiteError(ValueError):
    """The site cannot be built as asked; the message says why and what to do."""


# ============================================================================================
# launch links
# ============================================================================================

def launch_template(value, *, name: str, suffix: str) -> str | None:
    """A checked URL template with a ``{path}`` placeholder, or None for ``"none"``.

    >>> launch_template("https://hub.example.org/", name="--hub", suffix=HUB_SUFFIX)
    'https://hub.example.org/hub/user-redirect/lab/tree/{path}'
    >>> launch_template("https://mybinder.org/v2/gh/o/r/HEAD", name="--binder", suffix=BINDER_SUFFIX)
    'https://mybinder.org/v2/gh/o/r/HEAD?urlpath=lab/tree/{path}'
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise SiteError(f"{name} must be a URL or 'none', but got {describe(value)}.")
    value = value.strip()
    if value.lower() == "none":
        return None
    if not re.match(r"https?://[^/\s]+", value) or re.search(r"\s", value):
        raise SiteError(f"{name} must be an http:// or https:// URL (or 'none'), but got {value!r}.")
    fields = _PLACEHOLDER.findall(value)
    unknown = sorted(set(fields) - {"path"})
    if unknown or value.count("{") != value.count("}"):
        raise SiteError(f"{name}: the only placeholder a URL template may hold is {{path}} (the "
                        f"notebook's path in the course), but {value!r} has "
                        f"{', '.join('{' + f + '}' for f in unknown) or 'unbalanced braces'}.")
    if fields:
        return value
    if suffix.startswith("/"):
        return value.rstrip("/") + suffix
    return value + ("&" if "?" in value else "?") + suffix


def launch_url(template: str | None, path: str) -> str | None:
    """The template filled in for one notebook (``path`` relative to the course, with ``/``).

    >>> launch_url("https://h.org/hub/user-redirect/lab/tree/{path}", "lessons/01_cost function.ipynb")
    'https://h.org/hub/user-redirect/lab/tree/lessons/01_cost%20function.ipynb'
    """
    if template is None:
        return None
    from urllib.parse import quote

    return template.replace("{path}", quote(path, safe="/"))


def default_binder(course: Path) -> str | None:
    """``https://mybinder.org/v2/gh/OWNER/REPO/HEAD`` when the course's git remote ``origin`` is
    on GitHub, else None."""
    try:
        url = subprocess.run(["git", "-C", str(course), "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"(?:https://|ssh://git@|git@)github\.com[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", url)
    if match is None:
        return None
    return f"https://mybinder.org/v2/gh/{match.group(1)}/{match.group(2)}/HEAD"


# ============================================================================================
# sources and configuration
# ============================================================================================

def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gdcourse/site``, by default ``~/.cache/gdcourse/site``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "gdcourse" / "site"


def _pages(course: Path) -> dict[str, Path]:
    """Site path -> source file: README as the home page, docs/*.md, lessons/NN_*.ipynb."""
    pages: dict[str, Path] = {}
    readme = course / "README.md"
    if readme.is_file():
        pages["index.md"] = readme
    docs = sorted((course / "docs").glob("*.md")) if (course / "docs").is_dir() else []
    rank = {name: i for i, name in enumerate(DOC_ORDER)}
    for doc in sorted(docs, key=lambda p: (rank.get(p.stem, len(rank)), p.name)):
        pages[f"docs/{doc.name}"] = doc
    for lesson in sorted((course / "lessons").glob("[0-9][0-9]_*.ipynb")):
        pages[f"lessons/{lesson.name}"] = lesson
    return pages


def _toctree(caption: str, entries: list[str]) -> str:
    if not entries:
        return ""
    body = "\n".join(entries)
    return f"\n\n```{{toctree}}\n:hidden:\n:caption: {caption}\n\n{body}\n```\n"


def _index_text(pages: dict[str, Path]) -> str:
    lessons = [p.removesuffix(".ipynb") for p in pages if p.startswith("lessons/")]
    docs = [p.removesuffix(".md") for p in pages if p.startswith("docs/")]
    if "index.md" in pages:
        text = pages["index.md"].read_text(encoding="utf-8")
    else:  # an installed course has no README: a plain home page
        text = "# gdcourse: gradient descent, hands on\n\nThe lessons of the course, executed.\n"
    return text.rstrip("\n") + _toctree("Lessons", lessons) + _toctree("Guides", docs)


_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")


def unlink_missing(text: str, page: str, site: set[str]) -> str:
    """Markdown ``text`` of the site page ``page`` with every relative link to a file that is not
    part of the site (``benchmarks/README.md``, ``tests/...``) turned into its plain link text;
    web links, anchors and links between site pages are kept.

    >>> unlink_missing("see [a](b/c.md), [d](docs/x.md#y) and [w](https://w.org)", "index.md", {"docs/x.md"})
    'see a, [d](docs/x.md#y) and [w](https://w.org)'
    """
    import posixpath

    def keep_or_drop(match):
        target = match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return match.group(0)
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page), target.split("#")[0]))
        if path == "README.md":
            path = "index.md"
        return match.group(0) if path in site else match.group(1)

    return _LINK.sub(keep_or_drop, text)


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file already holds it, so that Sphinx re-reads only changed pages."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def stage_sources(course: Path, srcdir: Path, settings: dict) -> list[str]:
    """Copy the pages into ``srcdir`` (a Sphinx source folder) with a ``conf.py``; return the
    site paths.  Files that did not change keep their time stamps; stale ones are removed."""
    course = Path(course)
    srcdir = Path(srcdir)
    pages = _pages(course)
    if not any(p.startswith("lessons/") for p in pages):
        raise SiteError(f"{course} has no lessons/NN_*.ipynb to build a site from.")
    wanted = {"conf.py"} | set(pages)
    site = set(pages) | {"index.md"}
    for rel, source in pages.items():
        if rel.endswith(".md"):
            text = _index_text(pages) if rel == "index.md" else source.read_text(encoding="utf-8")
            data = unlink_missing(text, rel, site).encode("utf-8")
        else:
            data = source.read_bytes()
        _write_if_changed(srcdir / rel, data)
    if "index.md" not in pages:
        _write_if_changed(srcdir / "index.md", _index_text(pages).encode("utf-8"))
        wanted.add("index.md")
    conf = ("# written by gdcourse.site: the settings live in gdcourse.site.sphinx_config\n"
            "from gdcourse.site import sphinx_config\n\n"
            f"globals().update(sphinx_config({json.dumps(settings, sort_keys=True)!r}))\n")
    _write_if_changed(srcdir / "conf.py", conf.encode("utf-8"))
    for path in sorted(srcdir.rglob("*"), reverse=True):
        rel = path.relative_to(srcdir).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return sorted(wanted - {"conf.py"})


def sphinx_config(settings_json: str) -> dict:
    """The Sphinx settings of the course site (``conf.py`` calls this with the build's options)."""
    settings = json.loads(settings_json)
    return {
        "project": "gdcourse",
        "author": "gdcourse developers",
        "html_title": "gdcourse: gradient descent, hands on",
        "extensions": ["myst_nb", "gdcourse.site"],
        "root_doc": "index",
        "exclude_patterns": ["_build", "**.ipynb_checkpoints"],
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        # execution: through jupyter-cache, every lesson, a failing cell fails the build
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": settings["jupyter_cache"],
        "nb_execution_timeout": 180,
        "nb_execution_raise_on_error": True,
        "nb_execution_show_tb": True,
        "nb_merge_streams": True,
        # everything a page loads comes from _static/ (gdcourse/_site is copied there)
        "html_static_path": [str(ASSETS)],
        "html_css_files": ["gdcourse-site.css"],
        "mathjax_path": "vendor/mathjax/tex-mml-chtml.js",
        "nb_ipywidgets_js": {
            "vendor/require.js": {},
            "gdcourse-site.js": {},
            # the widget manager would fetch widget modules it lacks from this folder (a local
            # 404, never a CDN); the course's panels use only the modules bundled with it
            "vendor/html-manager/embed-amd.js": {"data-jupyter-widgets-cdn": "_missing-widget-modules/"},
        },
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {
            "use_download_button": True,
            "use_fullscreen_button": False,
            "use_repository_button": False,
            "home_page_in_toc": True,
            "show_navbar_depth": 1,
        },
        # the theme's page template reads this (not a theme option); without it its script logs
        # "Got invalid theme mode" as a console error on every page
        "html_context": {"default_mode": "light"},
        "html_last_updated_fmt": None,
        "gdcourse_launch": settings["launch"],
    }


# ============================================================================================
# the Sphinx extension: launch links and panel notes
# ============================================================================================

def _launch_links(launch: dict, path: str) -> list[tuple[str, str, str]]:
    links = []
    for key, label in (("hub", "on the hub"), ("binder", "on Binder")):
        url = launch_url(launch.get(key), path)
        if url is not None:
            links.append((key, label, url))
    return links


def _links_html(links, verb="open this lesson") -> str:
    if not links:
        return "run it in JupyterLab (<code>gdcourse lab</code>)"
    parts = [f'<a class="gdcourse-launch-{key}" href="{html.escape(url)}">{label}</a>'
             for key, label, url in links]
    return f"{verb} " + " or ".join(parts)


def launch_box_html(launch: dict, path: str) -> str:
    """The box at the top of a lesson page."""
    return ('<div class="admonition tip gdcourse-launch">'
            '<p class="admonition-title">Run this lesson</p>'
            "<p>This page is a static copy of the lesson, executed when the site was built. To run "
            f"the code and move the sliders, {_links_html(_launch_links(launch, path))} "
            "(or on your own machine: <code>gdcourse lab</code>).</p></div>")


def panel_note_html(launch: dict, path: str) -> str:
    """The note under a slider panel."""
    return ('<p class="gdcourse-panel-note">This panel shows its first picture. Moving its '
            "controls needs a live kernel: "
            f"{_links_html(_launch_links(launch, path), 'open this lesson')}.</p>")


def _is_widget_view(node) -> bool:
    from docutils import nodes

    return isinstance(node, nodes.raw) and f'type="{WIDGET_VIEW}"' in node.astext()


def add_launch_notes(app, doctree, docname) -> None:
    """``doctree-resolved``: on a lesson page, a launch box under the title and a note under
    every widget output."""
    from docutils import nodes

    source = app.env.doc2path(docname, False)
    if not str(source).endswith(".ipynb"):
        return
    path = Path(source).as_posix()
    launch = app.config.gdcourse_launch or {}
    for raw in list(doctree.findall(_is_widget_view)):
        holder = raw.parent
        while holder.parent is not None and "cell_output" not in holder.get("classes", []):
            holder = holder.parent
        target = holder if holder.parent is not None else raw
        target.parent.insert(target.parent.index(target) + 1,
                             nodes.raw("", panel_note_html(launch, path), format="html"))
    box = nodes.raw("", launch_box_html(launch, path), format="html")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, box)
    else:
        doctree.insert(0, box)


def setup(app):
    """Sphinx extension entry point (``extensions = ["gdcourse.site"]``)."""
    app.add_config_value("gdcourse_launch", {}, "html")
    # after MathJax (priority 500, deferred): the MathJax 2 call the widget manager makes
    app.add_js_file("gdcourse-mathjax-widgets.js", loading_method="defer", priority=501)
    app.connect("doctree-resolved", add_launch_notes)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# ============================================================================================
# building
# ============================================================================================

@dataclass
class BuildReport:
    """What one build did to each lesson notebook (by site path, e.g. ``lessons/01_….ipynb``):

    * ``executed``: run by a kernel in this build (a new jupyter-cache record appeared);
    * ``cached``: re-rendered from its cached outputs (it changed, but not its code: myst-nb
      logged "Using cached notebook");
    * ``unchanged``: not even re-read (Sphinx kept its parsed page from the last build).
    """

    out_dir: Path
    cache_dir: Path
    pages: list[str]
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: Path | None = None


def _missing_extra() -> str | None:
    import importlib.util

    missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme", "jupyter_cache")
               if importlib.util.find_spec(name) is None]
    if missing:
        return (f"gdcourse site needs {', '.join(missing)}: install the site extra with "
                "pip install -e '.[site]' (or pip install 'gdcourse[site]')")
    return None


def _cache_records(path: Path) -> dict[int, str]:
    """jupyter-cache's records in ``path``: primary key -> the notebook it was executed from."""
    if not (path / "global.db").is_file():
        return {}
    from jupyter_cache import get_cache

    return {record.pk: record.uri for record in get_cache(str(path)).list_cache_records()}


SITE_MARKER = ".gdcourse-site"


def _check_out_dir(out_dir: Path, course: Path, cache_dir: Path) -> None:
    for inner, outer, what in ((out_dir, course, "the course folder"),
                               (out_dir, cache_dir, "the cache folder"),
                               (course, out_dir, "the course folder"),
                               (cache_dir, out_dir, "the cache folder")):
        if inner == outer or outer in inner.parents:
            raise SiteError(f"OUT_DIR and {what} must not contain one another, but got OUT_DIR "
                            f"{out_dir} and {what} {course if 'course' in what else cache_dir}.")
    if out_dir.exists() and not out_dir.is_dir():
        raise SiteError(f"OUT_DIR must be a folder, but {out_dir} is a file.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SITE_MARKER).is_file():
        raise SiteError(f"OUT_DIR {out_dir} is not empty and holds no earlier gdcourse site (no "
                        f"{SITE_MARKER} file): give an empty or new folder, so that nothing of "
                        "yours is overwritten.")


def _publish(html_dir: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` (empty, or an earlier site) with a copy of Sphinx's output."""
    if out_dir.is_dir():
        shutil.rmtree(out_dir)
    shutil.copytree(html_dir, out_dir)
    (out_dir / SITE_MARKER).write_text("written by gdcourse site; the whole folder is replaced "
                                       "by the next build\n", encoding="utf-8")


def build(out_dir, *, course=None, cache_dir=None, hub=DEFAULT_HUB, binder="auto",
          echo: bool = True) -> BuildReport:
    """Build the site into ``out_dir``; see the module docstring.  ``binder="auto"`` derives the
    Binder link from the course's git remote."""
    problem = _missing_extra()
    if problem:
        raise SiteError(problem)
    course = find_course(course)
    out_dir = Path(out_dir).expanduser().resolve()
    cache_dir = Path(cache_dir).expanduser().resolve() if cache_dir else default_cache_dir()
    _check_out_dir(out_dir, course, cache_dir)
    launch = {"hub": launch_template(hub, name="--hub", suffix=HUB_SUFFIX),
              "binder": launch_template(default_binder(course) if binder == "auto" else binder,
                                        name="--binder", suffix=BINDER_SUFFIX)}
    jcache = cache_dir / "jupyter_cache"
    srcdir = cache_dir / "src"
    settings = {"jupyter_cache": str(jcache), "launch": launch}
    cache_dir.mkdir(parents=True, exist_ok=True)
    pages = stage_sources(course, srcdir, settings)
    before = _cache_records(jcache)
    log_path = cache_dir / "build.log"
    # Sphinx writes into the cache (myst-nb puts its image files next to the output folder, in
    # ../jupyter_execute); the finished site is then copied to OUT_DIR
    html_dir = cache_dir / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-j", "1", "-d", str(cache_dir / "doctrees"),
           str(srcdir), str(html_dir)]
    # the kernels must draw with matplotlib's inline backend, or no static figure is saved; the
    # panels must be live widgets, so that their first picture is stored in the widget state
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "GDCOURSE_HEADLESS")}
    env["PYTHONUNBUFFERED"] = "1"
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=cache_dir) as proc:
            for line in proc.stdout:
                log.write(line)
                if echo:
                    print(line, end="", flush=True)
        code = proc.returncode
    seconds = time.monotonic() - start
    if code != 0:
        raise SiteError(f"sphinx-build failed (exit code {code}); the whole log is in {log_path}")
    _publish(html_dir, out_dir)
    after = _cache_records(jcache)
    lessons = [p for p in pages if p.endswith(".ipynb")]

    def site_path(uri):
        return Path(uri).resolve().relative_to(srcdir.resolve()).as_posix()

    executed = sorted({site_path(uri) for pk, uri in after.items() if pk not in before})
    text = log_path.read_text(encoding="utf-8")
    looked_up = {p for p in lessons
                 if re.search(re.escape(str(srcdir / p)) + r": Using cached notebook", text)}
    report = BuildReport(out_dir=out_dir, cache_dir=cache_dir, pages=pages, executed=executed,
                         cached=sorted(looked_up - set(executed)),
                         unchanged=[p for p in lessons if p not in executed and p not in looked_up],
                         seconds=seconds, log=log_path)
    (cache_dir / "last-build.json").write_text(json.dumps(
        {"out_dir": str(out_dir), "pages": pages, "executed": report.executed,
         "cached": report.cached, "unchanged": report.unchanged, "seconds": round(seconds, 2),
         "jupyter_cache_records": len(after)}, indent=1), encoding="utf-8")
    return report


def cli(argv=None) -> int:
    """``gdcourse site OUT_DIR``: 0 built, 2 bad arguments or a failed build."""
    parser = argparse.ArgumentParser(
        prog="gdcourse site",
        description="Build the course as a static website that works offline (README, docs/ and "
                    "every lesson, executed). Needs the site extra: pip install -e '.[site]'.")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the site into")
    parser.add_argument("--course", default=None, help="course folder (default: found automatically)")
    parser.add_argument("--cache", default=None,
                        help=f"execution cache and build files (default: {default_cache_dir()})")
    parser.add_argument("--hub", default=DEFAULT_HUB,
                        help="JupyterHub URL or URL template with {path}, or 'none' "
                             f"(default: {DEFAULT_HUB})")
    parser.add_argument("--binder", default="auto",
                        help="Binder URL (e.g. https://mybinder.org/v2/gh/OWNER/REPO/HEAD) or URL "
                             "template with {path}, or 'none' (default: from the git remote "
                             "origin when it is on GitHub)")
    args = parser.parse_args(argv)
    try:
        report = build(args.out_dir, course=args.course, cache_dir=args.cache, hub=args.hub,
                       binder=args.binder)
    except (SiteError, CourseNotFound) as exc:
        print(f"gdcourse site: {exc}", file=sys.stderr)
        return 2
    print(f"\nThe site is in {report.out_dir} (open {report.out_dir / 'index.html'}); built in "
          f"{report.seconds:.1f} s. Lessons executed: {len(report.executed)}; re-rendered from "
          f"the execution cache ({report.cache_dir / 'jupyter_cache'}): {len(report.cached)}; "
          f"unchanged since the last build: {len(report.unchanged)}.")
    return 0
