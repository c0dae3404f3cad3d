"""The built website in Debian's chromium, offline: every request that leaves 127.0.0.1 is blocked
and recorded, and each page must typeset its math, load its figures and panel pictures, and log
no error.

The site is the session's cold build (``tests/sitebuild.py``), served by a plain HTTP server on
127.0.0.1 (a random free port), as an instructor would host the folder.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sitebuild  # noqa: E402

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def site_server(browser_available, tmp_path_factory):
    pytest.importorskip("myst_nb", reason="the site extra is not installed (pip install -e '.[site]')")
    built = sitebuild.built_site(tmp_path_factory)
    handler = functools.partial(_QuietHandler, directory=str(built.out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield built, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class OfflinePage:
    """A chromium page whose every non-loopback request is aborted and recorded, with its console
    errors, page errors and failed (4xx/5xx or aborted) requests collected."""

    def __init__(self, context):
        self.page = context.new_page()
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page.on("requestfailed", self._request_failed)
        self._in_flight: dict = {}
        self._last_activity = time.monotonic()
        self.page.on("request", lambda r: self._activity(r, True))
        self.page.on("requestfinished", lambda r: self._activity(r, False))
        self.page.on("requestfailed", lambda r: self._activity(r, False))

    def _activity(self, request, started: bool):
        if started:
            self._in_flight[id(request)] = request.url
        else:
            self._in_flight.pop(id(request), None)
        self._last_activity = time.monotonic()

    def wait_quiet(self, quiet_s: float = 0.5, timeout_s: float = 90.0):
        """Wait until no request has been in flight for ``quiet_s``: Playwright's "networkidle"
        without its lifecycle event, which a page reused across navigations sometimes never
        raises. ``timeout_s`` only guards against a hang (a page that never goes quiet)."""
        deadline = time.monotonic() + timeout_s
        while self._in_flight or time.monotonic() - self._last_activity < quiet_s:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.page.url} never went quiet; still loading: "
                                     f"{sorted(self._in_flight.values())[:5]}")
            self.page.wait_for_timeout(100)  # lets Playwright deliver the request events

    def _route(self, route):
        url = route.request.url
        host = urllib.parse.urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def _request_failed(self, request):
        if request.url not in self.blocked:
            self.failed.append(f"failed {request.url}: {request.failure}")

    def close(self):
        self.page.close()


@pytest.fixture
def offline_page(chromium):
    page = OfflinePage(chromium.context)
    yield page
    page.close()


# JS: wait for MathJax's first typeset, then count what it produced
_MATH_JS = """async () => {
  const formulas = document.querySelectorAll('span.math, div.math').length;
  if (!window.MathJax || !MathJax.startup) return {loaded: false, formulas, typeset: 0};
  await MathJax.startup.promise;
  return {loaded: true, formulas,
          typeset: document.querySelectorAll('mjx-container').length,
          errors: document.querySelectorAll('mjx-merror').length,
          raw_tex: Array.from(document.querySelectorAll('span.math, div.math'))
                        .filter(e => !e.querySelector('mjx-container')).length};
}"""

_IMAGES_JS = """() => Array.from(document.images).map(img => ({
  src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth,
  widget: !!img.closest('.jupyter-widgets')}))"""

_WIDGETS_JS = """() => ({
  views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  images: Array.from(document.querySelectorAll('.jupyter-widgets img, img.widget-image'))
                .filter(img => img.complete && img.naturalWidth > 0).length,
  sliders: document.querySelectorAll('.widget-slider, .jupyter-widget-slider').length,
  broken: /Error displaying widget|Loading widget|model not found/.test(document.body.innerText),
  notes: document.querySelectorAll('.gdcourse-panel-note').length,
  launch: Array.from(document.querySelectorAll('.gdcourse-launch a')).map(a => a.href),
  icon_fonts: Array.from(document.fonts).filter(f => /Font Awesome/.test(f.family))
                   .map(f => f.family + ':' + f.status)})"""


def _pages(built) -> list[str]:
    return [p.removesuffix(".md").removesuffix(".ipynb") + ".html" for p in built.report.pages]


def _open(page: OfflinePage, url: str):
    page.page.goto(url, wait_until="load")
    page.wait_quiet()


def test_the_guard_blocks_and_records_requests_that_leave_the_machine(site_server, offline_page):
    """The harness can fail: a page that asks the internet for something is caught."""
    built, base = site_server
    _open(offline_page, f"{base}/index.html")
    offline_page.page.evaluate("""() => { const s = document.createElement('script');
      s.src = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js';
      document.head.appendChild(s); }""")
    offline_page.page.wait_for_timeout(500)
    assert offline_page.blocked == ["https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"]
    assert any("ERR_BLOCKED_BY_CLIENT" in e for e in offline_page.errors), offline_page.errors


def test_every_page_loads_offline_without_errors(site_server, chromium):
    built, base = site_server
    pages = _pages(built)
    assert "index.html" in pages and "docs/concepts.html" in pages
    lessons = sorted((Path(__file__).resolve().parents[2] / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert sum(p.startswith("lessons/") for p in pages) == len(lessons) >= 7
    problems = []
    for rel in pages:
        page = OfflinePage(chromium.context)
        try:
            _open(page, f"{base}/{rel}")
            math = page.page.evaluate(_MATH_JS)
            page.wait_quiet()
            images = page.page.evaluate(_IMAGES_JS)
        finally:
            page.close()
        for what, items in (("blocked", page.blocked), ("failed", page.failed), ("error", page.errors)):
            problems += [f"{rel}: {what}: {item}" for item in items]
        if math["formulas"] and not math["loaded"]:
            problems.append(f"{rel}: {math['formulas']} formulas but MathJax did not load")
        elif math.get("errors") or math.get("raw_tex"):
            problems.append(f"{rel}: {math.get('errors')} TeX errors, {math.get('raw_tex')} formulas not typeset")
        if rel.startswith("lessons/") and math.get("typeset", 0) == 0:
            problems.append(f"{rel}: no typeset math on a lesson page")
        bad = [i["src"] for i in images if not (i["complete"] and i["width"] > 0)]
        problems += [f"{rel}: image did not load: {src}" for src in bad]
        if rel.startswith("lessons/") and not any(not i["widget"] for i in images):
            problems.append(f"{rel}: a lesson page without a single static figure")
    assert problems == []


def test_panels_show_their_first_picture_and_say_they_need_a_kernel(site_server, offline_page):
    built, base = site_server
    lessons = [p for p in _pages(built) if p.startswith("lessons/")]
    seen_views = 0
    for rel in lessons:
        _open(offline_page, f"{base}/{rel}")
        offline_page.page.wait_for_function(
            """() => document.querySelectorAll(
                 'script[type="application/vnd.jupyter.widget-view+json"]').length === 0 ||
               document.querySelectorAll('.jupyter-widgets img').length > 0""", timeout=30_000)
        offline_page.wait_quiet()
        state = offline_page.page.evaluate(_WIDGETS_JS)
        seen_views += state["views"]
        assert not state["broken"], rel
        assert state["notes"] == state["views"], rel  # one note under each panel
        if state["views"]:
            assert state["images"] >= 1 and state["sliders"] >= 1, (rel, state)
        notebook = rel.removesuffix(".html") + ".ipynb"
        assert state["launch"][:2] == [
            f"http://127.0.0.1:8000/hub/user-redirect/lab/tree/{notebook}",
            f"https://mybinder.org/v2/gh/o/r/HEAD?urlpath=lab/tree/{notebook}"], rel
        # the widget manager's icon fonts, when a page asks for them, come from the site
        assert not [f for f in state["icon_fonts"] if f.endswith(":error")], state
    assert seen_views >= 6  # every lesson has at least one panel
    assert offline_page.blocked == [] and offline_page.failed == [] and offline_page.errors == []
