"""``gdcourse site``: launch links, staging, the Sphinx extension, the vendored JavaScript, and (slow)
a real build whose rebuild is proven to come from the execution cache."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gdcourse import cli, site
from gdcourse.site import (BINDER_SUFFIX, HUB_SUFFIX, SiteError, launch_template, launch_url,
                           stage_sources, unlink_missing)

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sitebuild  # noqa: E402

VENDOR = site.ASSETS / "vendor"


# --------------------------------------------------------------------------------------------
# launch links
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, suffix, expected", [
    ("https://hub.example.org", HUB_SUFFIX, "https://hub.example.org/hub/user-redirect/lab/tree/{path}"),
    ("http://localhost:8000/", HUB_SUFFIX, "http://localhost:8000/hub/user-redirect/lab/tree/{path}"),
    ("https://mybinder.org/v2/gh/o/r/HEAD", BINDER_SUFFIX,
     "https://mybinder.org/v2/gh/o/r/HEAD?urlpath=lab/tree/{path}"),
    ("https://b.org/v2/gh/o/r/main?filepath=x", BINDER_SUFFIX,
     "https://b.org/v2/gh/o/r/main?filepath=x&urlpath=lab/tree/{path}"),
    ("https://h.org/hub/user-redirect/git-pull?repo=r&urlpath=lab/tree/gd/{path}", HUB_SUFFIX,
     "https://h.org/hub/user-redirect/git-pull?repo=r&urlpath=lab/tree/gd/{path}"),
    ("none", HUB_SUFFIX, None),
    (" None ", BINDER_SUFFIX, None),
    (None, HUB_SUFFIX, None),
])
def test_launch_template_appends_the_suffix_only_without_a_placeholder(value, suffix, expected):
    assert launch_template(value, name="--hub", suffix=suffix) == expected


@pytest.mark.parametrize("value, words", [
    ("hub.example.org", ["--hub", "http:// or https://", "'hub.example.org'"]),
    ("ftp://h.org", ["--hub", "http:// or https://", "ftp://h.org"]),
    ("https://h.org/{lesson}", ["--hub", "{path}", "{lesson}"]),
    ("https://h.org/{path", ["--hub", "unbalanced braces"]),
    ("https://h.org/a b", ["--hub", "http:// or https://"]),
    (8000, ["--hub", "URL or 'none'", "int"]),
])
def test_launch_template_refuses_bad_urls_naming_the_option(value, words):
    with pytest.raises(SiteError) as info:
        launch_template(value, name="--hub", suffix=HUB_SUFFIX)
    for word in words:
        assert word in str(info.value)


def test_launch_url_quotes_the_path_but_keeps_slashes():
    assert (launch_url("https://h.org/t/{path}?x=1", "lessons/0 ü.ipynb")
            == "https://h.org/t/lessons/0%20%C3%BC.ipynb?x=1")
    assert launch_url(None, "lessons/a.ipynb") is None


def _git_repo(folder: Path, remote: str | None) -> Path:
    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(folder), "remote", "add", "origin", remote], check=True)
    return folder


@pytest.mark.parametrize("remote, expected", [
    ("https://github.com/acme/gdcourse.git", "https://mybinder.org/v2/gh/acme/gdcourse/HEAD"),
    ("git@github.com:acme/gd.course.git", "https://mybinder.org/v2/gh/acme/gd.course/HEAD"),
    ("https://github.com/acme/gdcourse", "https://mybinder.org/v2/gh/acme/gdcourse/HEAD"),
    ("https://gitlab.com/acme/gdcourse.git", None),
    (None, None),
])
def test_default_binder_comes_from_a_github_origin(tmp_path, remote, expected):
    assert site.default_binder(_git_repo(tmp_path / "repo", remote)) == expected


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert site.default_cache_dir() == tmp_path / "gdcourse" / "site"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert site.default_cache_dir() == Path.home() / ".cache" / "gdcourse" / "site"


# --------------------------------------------------------------------------------------------
# staging the sources
# --------------------------------------------------------------------------------------------

def _tiny_course(root: Path) -> Path:
    (root / "lessons").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "README.md").write_text(
        "# Course\n\nSee [the map](docs/concepts.md), [speed](benchmarks/README.md) and "
        "[the web](https://example.org).\n", encoding="utf-8")
    (root / "docs" / "instructor.md").write_text("# Guide\n\n[home](../README.md)\n", encoding="utf-8")
    (root / "docs" / "concepts.md").write_text(
        "# Map\n\n[1](../lessons/01_a.ipynb) and [t](../tests/test_concepts.py)\n", encoding="utf-8")
    (root / "docs" / "another.md").write_text("# Another\n", encoding="utf-8")
    (root / "lessons" / "01_a.ipynb").write_text('{"cells": []}', encoding="utf-8")
    (root / "lessons" / "notes.ipynb").write_text('{"cells": []}', encoding="utf-8")
    return root


def test_stage_sources_copies_readme_docs_and_numbered_lessons(tmp_path):
    course = _tiny_course(tmp_path / "course")
    src = tmp_path / "src"
    pages = stage_sources(course, src, {"jupyter_cache": "/c", "launch": {}})
    assert pages == ["docs/another.md", "docs/concepts.md", "docs/instructor.md", "index.md",
                     "lessons/01_a.ipynb"]
    index = (src / "index.md").read_text(encoding="utf-8")
    assert "[the map](docs/concepts.md)" in index
    assert "speed" in index and "benchmarks/README.md" not in index  # not in the site: unlinked
    assert "[the web](https://example.org)" in index
    toc = index[index.index("```{toctree}"):]
    assert toc.index("lessons/01_a") < toc.index("docs/concepts") < toc.index("docs/instructor") \
        < toc.index("docs/another")  # the concept map and the instructor guide first
    assert "[home](../README.md)" in (src / "docs" / "instructor.md").read_text(encoding="utf-8")
    concepts = (src / "docs" / "concepts.md").read_text(encoding="utf-8")
    assert "[1](../lessons/01_a.ipynb)" in concepts and "tests/test_concepts.py" not in concepts
    conf = (src / "conf.py").read_text(encoding="utf-8")
    assert "sphinx_config(" in conf and "/c" in conf


def test_restaging_keeps_unchanged_files_and_drops_stale_ones(tmp_path):
    course = _tiny_course(tmp_path / "course")
    src = tmp_path / "src"
    stage_sources(course, src, {"jupyter_cache": "/c", "launch": {}})
    lesson = src / "lessons" / "01_a.ipynb"
    os.utime(lesson, (1_000_000, 1_000_000))
    (course / "docs" / "another.md").unlink()
    (course / "docs" / "concepts.md").write_text("# Map, edited\n", encoding="utf-8")
    stage_sources(course, src, {"jupyter_cache": "/c", "launch": {}})
    assert lesson.stat().st_mtime == 1_000_000  # untouched: Sphinx need not re-read it
    assert not (src / "docs" / "another.md").exists()
    assert (src / "docs" / "concepts.md").read_text(encoding="utf-8") == "# Map, edited\n"


def test_a_course_without_readme_gets_a_home_page(tmp_path):
    course = tmp_path / "course"
    (course / "lessons").mkdir(parents=True)
    (course / "lessons" / "01_a.ipynb").write_text('{"cells": []}', encoding="utf-8")
    pages = stage_sources(course, tmp_path / "src", {"jupyter_cache": "/c", "launch": {}})
    assert pages == ["index.md", "lessons/01_a.ipynb"]
    assert "lessons/01_a" in (tmp_path / "src" / "index.md").read_text(encoding="utf-8")


def test_no_lessons_is_refused(tmp_path):
    (tmp_path / "course" / "lessons").mkdir(parents=True)
    with pytest.raises(SiteError, match="no lessons/NN_"):
        stage_sources(tmp_path / "course", tmp_path / "src", {"jupyter_cache": "/c", "launch": {}})


def test_unlink_missing_keeps_anchors_and_site_links():
    text = "[a](#x) [b](lessons/01_a.ipynb#s) [c](mailto:x@y.z) [d](../x.md)"
    assert unlink_missing(text, "index.md", {"lessons/01_a.ipynb"}) == \
        "[a](#x) [b](lessons/01_a.ipynb#s) [c](mailto:x@y.z) d"


@pytest.mark.parametrize("case", ["inside-course", "contains-course", "inside-cache", "foreign", "file"])
def test_out_dir_that_would_clobber_something_is_refused(tmp_path, case):
    course, cache = tmp_path / "course", tmp_path / "cache"
    course.mkdir()
    out = {"inside-course": course / "site", "contains-course": tmp_path,
           "inside-cache": cache / "out", "foreign": tmp_path / "mine", "file": tmp_path / "f"}[case]
    if case == "foreign":
        out.mkdir()
        (out / "thesis.tex").write_text("mine", encoding="utf-8")
    if case == "file":
        out.write_text("x", encoding="utf-8")
    with pytest.raises(SiteError, match="OUT_DIR"):
        site._check_out_dir(out.resolve(), course.resolve(), cache.resolve())


def test_an_earlier_site_may_be_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / site.SITE_MARKER).write_text("x", encoding="utf-8")
    (out / "old.html").write_text("old", encoding="utf-8")
    site._check_out_dir(out, tmp_path / "course", tmp_path / "cache")
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("new", encoding="utf-8")
    site._publish(html, out)
    assert sorted(p.name for p in out.iterdir()) == [site.SITE_MARKER, "index.html"]


# --------------------------------------------------------------------------------------------
# the Sphinx extension and configuration
# --------------------------------------------------------------------------------------------

class _Env:
    def __init__(self, sources):
        self.sources = sources

    def doc2path(self, docname, base=True):
        return Path(self.sources[docname])


class _App:
    def __init__(self, sources, launch):
        self.env = _Env(sources)
        self.config = type("Config", (), {"gdcourse_launch": launch})()


def _lesson_doctree(widget_outputs: int):
    from docutils import nodes
    from docutils.utils import new_document
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    doc = new_document("lesson", get_default_settings(Parser))
    section = nodes.section()
    section += nodes.title(text="Lesson 1")
    section += nodes.paragraph(text="intro")
    for i in range(widget_outputs):
        cell = nodes.container(classes=["cell"])
        output = nodes.container(classes=["cell_output"])
        output += nodes.raw("", f'<script type="{site.WIDGET_VIEW}">{{"model_id": "{i}"}}</script>',
                            format="html")
        cell += output
        section += cell
    section += nodes.paragraph(text="outro")
    doc += section
    return doc


def test_lesson_pages_get_a_launch_box_and_a_note_under_every_panel():
    from docutils import nodes

    launch = {"hub": "https://h.org/hub/user-redirect/lab/tree/{path}", "binder": None}
    doc = _lesson_doctree(widget_outputs=2)
    site.add_launch_notes(_App({"lessons/01": "lessons/01_a.ipynb"}, launch), doc, "lessons/01")
    section = doc[0]
    assert isinstance(section[0], nodes.title)
    assert "gdcourse-launch" in section[1].astext()
    assert 'href="https://h.org/hub/user-redirect/lab/tree/lessons/01_a.ipynb"' in section[1].astext()
    assert "Binder" not in section[1].astext()
    children = list(section.children)
    cells = [i for i, c in enumerate(children) if "cell" in c.get("classes", [])]
    assert len(cells) == 2
    for i in cells:  # the note is inside the cell, right after its output
        cell = children[i]
        assert "cell_output" in cell[0]["classes"]
        assert "gdcourse-panel-note" in cell[1].astext() and "live kernel" in cell[1].astext()


def test_launch_box_without_any_link_says_how_to_run_locally():
    box = site.launch_box_html({"hub": None, "binder": None}, "lessons/01_a.ipynb")
    assert "<a " not in box and "gdcourse lab" in box
    both = site.launch_box_html({"hub": "https://h.org/{path}", "binder": "https://b.org/?u={path}"},
                                "lessons/01_a.ipynb")
    assert 'href="https://h.org/lessons/01_a.ipynb"' in both
    assert 'href="https://b.org/?u=lessons/01_a.ipynb"' in both  # & and ? survive html.escape


def test_pages_that_are_not_notebooks_are_left_alone():
    doc = _lesson_doctree(widget_outputs=1)
    before = doc.pformat()
    site.add_launch_notes(_App({"index": "index.md"}, {"hub": "https://h.org/{path}"}), doc, "index")
    assert doc.pformat() == before


def test_sphinx_config_loads_nothing_from_outside_the_site():
    conf = site.sphinx_config(json.dumps({"jupyter_cache": "/c", "launch": {"hub": None}}))
    assert conf["nb_execution_mode"] == "cache" and conf["nb_execution_cache_path"] == "/c"
    assert conf["nb_execution_raise_on_error"] is True
    static = Path(conf["html_static_path"][0])
    scripts = [conf["mathjax_path"], *conf["nb_ipywidgets_js"], *conf["html_css_files"]]
    for rel in scripts:
        assert (static / rel).is_file(), rel
    assert not re.search(r"https?://|//cdn", json.dumps(conf))


# --------------------------------------------------------------------------------------------
# the vendored JavaScript
# --------------------------------------------------------------------------------------------

def test_vendored_files_are_the_npm_files_the_manifest_names():
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    listed = {}
    for name, package in manifest["packages"].items():
        assert package["npm_integrity"].startswith("sha512-"), name
        listed.update(package["files"])
    for rel, digest in listed.items():
        assert hashlib.sha256((VENDOR / rel).read_bytes()).hexdigest() == digest, rel
    present = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    assert present - set(listed) == {"MANIFEST.json", "LICENSES.md"}
    assert set(manifest["packages"]) == {"requirejs", "@jupyter-widgets/html-manager", "mathjax",
                                         "@fortawesome/fontawesome-free"}


def test_every_vendored_package_carries_its_licence():
    licences = (VENDOR / "LICENSES.md").read_text(encoding="utf-8")
    assert "## requirejs: MIT" in licences and "Permission is hereby granted" in licences
    assert "## @jupyter-widgets/html-manager: BSD-3-Clause" in licences
    assert "Apache License" in (VENDOR / "mathjax" / "LICENSE").read_text(encoding="utf-8")
    assert "SIL OFL 1.1" in (VENDOR / "html-manager" / "fontawesome" / "LICENSE.txt").read_text(
        encoding="utf-8")
    assert "jQuery" in (VENDOR / "html-manager" / "embed.js.LICENSE.txt").read_text(encoding="utf-8")


def test_require_config_covers_every_module_the_widget_manager_bundles():
    """The icon-font fix: every AMD module defined in embed-amd.js is mapped to the vendored file,
    so each takes the vendored folder as its own (and its fonts' ) address."""
    bundle = (VENDOR / "html-manager" / "embed-amd.js").read_text(encoding="utf-8")
    defined = set(re.findall(r'define\("([^"]+)"', bundle))
    script = (site.ASSETS / "gdcourse-site.js").read_text(encoding="utf-8")
    mapped = set(re.findall(r'"(@jupyter-widgets/[^"]+)"', script))
    assert defined and defined == mapped
    fonts = set(re.findall(r'\.p\+"([0-9a-f]{20}\.woff2)"', bundle))
    assert fonts and all((VENDOR / "html-manager" / f).is_file() for f in fonts)


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------

def test_cli_reports_a_bad_option_and_builds_nothing(tmp_path, capsys):
    code = cli.main(["site", str(tmp_path / "out"), "--hub", "hub.example.org",
                     "--cache", str(tmp_path / "cache")])
    assert code == 2
    err = capsys.readouterr().err
    assert "gdcourse site: --hub must be an http:// or https:// URL" in err
    assert not (tmp_path / "out").exists()


def test_cli_names_the_missing_extra(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "myst_nb" else real(name, *a))
    assert cli.main(["site", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "gdcourse site needs myst_nb" in err and "pip install -e '.[site]'" in err


# --------------------------------------------------------------------------------------------
# a real build, and two rebuilds
# --------------------------------------------------------------------------------------------

def _edit_cell(notebook: Path, kind: str, text: str) -> None:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == kind)
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = source + text
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.mark.slow
def test_a_rebuild_takes_unchanged_code_from_the_execution_cache(tmp_path_factory):
    built = sitebuild.built_site(tmp_path_factory)
    lessons = sorted(f"lessons/{p.name}" for p in (built.course / "lessons").glob("[0-9][0-9]_*.ipynb"))
    # the cold build executed every lesson, each into one jupyter-cache record
    assert built.report.executed == lessons and built.report.cached == []
    records = site._cache_records(built.cache / "jupyter_cache")
    assert len(records) == len(lessons)
    for lesson in lessons:
        page = (built.out / lesson).with_suffix(".html").read_text(encoding="utf-8")
        assert "cell_output" in page and "gdcourse-launch" in page

    # 1. new text in lesson 2: re-rendered from the cache, nothing executed
    _edit_cell(built.course / lessons[1], "markdown", "\n\nCache probe: text edited after the build.")
    again = site.build(built.workdir / "out-text", course=built.course, cache_dir=built.cache,
                       hub="none", binder="none", echo=False)
    assert again.executed == []
    assert again.cached == [lessons[1]]
    assert again.unchanged == [p for p in lessons if p != lessons[1]]
    assert site._cache_records(built.cache / "jupyter_cache") == records  # no record added
    page = (again.out_dir / lessons[1]).with_suffix(".html").read_text(encoding="utf-8")
    assert "Cache probe: text edited after the build." in page
    assert page.count("<img") >= 1 and "cell_output" in page  # outputs came back from the cache
    assert "gdcourse-launch-hub" not in page  # --hub none

    # 2. new code in lesson 1: that lesson, and only that one, is executed again
    _edit_cell(built.course / lessons[0], "code", "\nprint('cache probe: code edited')")
    third = site.build(built.workdir / "out-code", course=built.course, cache_dir=built.cache,
                       hub="none", binder="none", echo=False)
    assert third.executed == [lessons[0]]
    assert "cache probe: code edited" in (third.out_dir / lessons[0]).with_suffix(".html").read_text(
        encoding="utf-8")
    last = json.loads((built.cache / "last-build.json").read_text(encoding="utf-8"))
    assert last["executed"] == [lessons[0]] and last["jupyter_cache_records"] >= len(lessons)
