"""Lesson 1 in Japanese, as a Japanese learner meets it: ``gdcourse lab --lang ja`` in chromium.

The lab is started the way the command does it (``labharness.LabServer(lang="ja")`` runs
``gdcourse lab COPY --lang ja``, with every Jupyter folder thrown away afterwards): it builds the
Japanese notebooks into ``COPY/build/ja`` and points JupyterLab's interface language at ja_JP.

* the menu bar is in Japanese (the language pack from the ``[ja]`` extra): ファイル, not File;
* lesson 1 opens with its markdown in Japanese, Run All (through the Japanese 実行 menu) ends
  with no error, the panels render, and a slider move changes the picture;
* no figure has a missing-glyph box: matplotlib says so on stderr, either as a warning
  (``Glyph … missing from font(s) …``) or, for ``$…$`` math, through its log (``… does not have
  a glyph for …``); the kernel's outputs must carry neither;
* a planted notebook proves that check can fail: a Japanese title with the CJK fallback off,
  and a label mixing words with math when the CJK face is only a fallback, are both caught,
  while the same text with the course's own font set-up is clean.

Screenshots go to ``test-artifacts/browser/`` (``ja-*.png``).
"""

from __future__ import annotations

import re

import pytest

import labharness

pytestmark = pytest.mark.browser

LESSON1 = labharness.lesson_notebooks()[0].name
#: what matplotlib writes to stderr when a figure has a character its fonts lack
GLYPH_PROBLEM = re.compile(r"Glyph \d+ .*missing from (?:current )?font|does not have a glyph for")
#: JupyterLab's Japanese labels of the menus the test uses (jupyterlab-language-pack-ja-JP)
FILE_MENU_JA, RUN_MENU_JA = "ファイル", "実行"
_KANA = re.compile(r"[\u3040-\u30ff]")

_PLANTED = [
    # 0: set-up
    "import matplotlib.pyplot as plt\nfrom gdcourse import fonts\n"
    "def draw(title):\n"
    "    fig, ax = plt.subplots(figsize=(3, 2))\n"
    "    ax.set_title(title)\n"
    "    fig.canvas.draw()\n"
    "    plt.close(fig)\n",
    # 1: the CJK fallback off (DejaVu Sans only): a plain Japanese title -> warning
    "with plt.rc_context({'font.family': ['DejaVu Sans']}):\n"
    "    draw('日本語のタイトル')\n",
    # 2: the CJK face only as a fallback: words around $...$ math -> mathtext's log
    "with plt.rc_context({'font.family': ['sans-serif']}):\n"
    "    fonts.use_cjk_fallback('ja')\n"
    "    draw(r'$J(\\theta)$ の値')\n",
    # 3: the course's own set-up, chosen from the folder's language: clean
    "with plt.rc_context({'font.family': ['sans-serif']}):\n"
    "    assert fonts.use_language_fonts() is not None, fonts.active_language()\n"
    "    draw('日本語のタイトル')\n"
    "    draw(fonts.figure_text(r'$J(\\theta)$ の値'))\n"
    "print('clean')\n",
]


def planted_notebook() -> dict:
    return labharness._notebook(_PLANTED)


# ============================================================================================
# fixtures and helpers
# ============================================================================================

@pytest.fixture(scope="module")
def ja_lab(browser_available, tmp_path_factory):
    server = labharness.LabServer(tmp_path_factory.mktemp("jupyterlab-ja"), lang="ja")
    try:
        server.start()
    except labharness.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    # JupyterLab serves COPY/build/ja; the planted notebook goes there, through its contents API
    server.api("PUT", "api/contents/harness", {"type": "directory"})
    server.api("PUT", "api/contents/harness/glyphs.ipynb",
               {"type": "notebook", "format": "json", "content": planted_notebook()})
    yield server
    server.stop()


@pytest.fixture
def ja_page(ja_lab, chromium):
    page = JaLabPage(ja_lab, chromium.new_page())
    yield page
    page.close()
    code = ja_lab.proc.poll()
    if code is not None:
        pytest.fail(f"JupyterLab exited with code {code}; the end of its log:\n{ja_lab.log_tail()}",
                    pytrace=False)
    ja_lab.shutdown_kernels()


_KERNEL_IDLE_JS = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const s = w && w.sessionContext;
  return !!(s && s.isReady && s.session && s.session.kernel && s.session.kernel.status === 'idle'); }"""


class JaLabPage(labharness.LabPage):
    """LabPage for an interface in Japanese: the kernel's state is read from the model (the status
    bar says アイドル, not Idle) and Run All goes through the 実行 menu."""

    def open(self, path: str, *, kernel_timeout: float = 90_000):
        self.path = path
        self.page.goto(self.server.url(f"lab/tree/{path}", reset=""))
        name = path.rsplit("/", 1)[-1]
        self.page.wait_for_function(
            """(name) => { const app = window.jupyterapp; const w = app && app.shell.currentWidget;
                return !!(w && w.context && w.context.path.endsWith(name) && w.content &&
                          w.content.widgets.length > 0); }""", arg=name)
        self.page.wait_for_function(_KERNEL_IDLE_JS, timeout=kernel_timeout)

    def menu_labels(self) -> list[str]:
        labels = self.page.locator("#jp-menu-panel .lm-MenuBar-itemLabel")
        return [(labels.nth(i).text_content() or "").strip() for i in range(labels.count())]

    def run_all(self):
        self.page.locator(f'.lm-MenuBar-itemLabel:text-is("{RUN_MENU_JA}")').click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

    def wait_until_executed(self, timeout: float = 240_000):
        self.page.wait_for_function(
            """() => { const cells = window.jupyterapp.shell.currentWidget.content.widgets
                         .filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim() !== '');
                if (cells.some(c => c.model.executionState === 'running' ||
                    /\\[\\*\\]/.test((c.node.querySelector('.jp-InputPrompt') || {}).textContent || '')))
                  return false;
                if (cells.every(c => c.model.executionCount !== null)) return true;
                return cells.some(c => { const o = c.model.outputs;
                  for (let i = 0; i < o.length; i++) if (o.get(i).type === 'error') return true;
                  return false; }); }""", timeout=timeout)
        self.page.wait_for_function(_KERNEL_IDLE_JS)

    def glyph_problems(self) -> list[str]:
        """matplotlib's missing-glyph reports in the outputs: from the model (every stream and
        error output of every cell) and from the page (rendered stderr)."""
        found = []
        for cell in self.cells():
            for out in cell["outputs"]:
                for line in out["text"].splitlines():
                    if GLYPH_PROBLEM.search(line):
                        found.append(f"cell {cell['index'] + 1} ({out['type']}): {line.strip()[:160]}")
        shown = self.notebook().locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        for i in range(shown.count()):
            for line in (shown.nth(i).text_content() or "").splitlines():
                if GLYPH_PROBLEM.search(line):
                    found.append(f"stderr output #{i} shows: {line.strip()[:160]}")
        return found


def _fail(lp, artifacts, what, message):
    shot = artifacts / f"ja-FAILED-{what}.png"
    try:
        lp.screenshot(shot)
        message += f"\nscreenshot: {shot}"
    except Exception as exc:  # the message counts more than the picture
        message += f" (no screenshot: {exc})"
    pytest.fail(message, pytrace=False)


# ============================================================================================
# tests
# ============================================================================================

def test_lesson_1_in_japanese_in_the_japanese_interface(ja_page, artifacts):
    lp = ja_page
    lp.open(f"lessons/{LESSON1}")

    labels = lp.menu_labels()
    lp.screenshot(artifacts / "ja-lesson01-opened.png")
    if FILE_MENU_JA not in labels or "File" in labels:
        _fail(lp, artifacts, "menu", f"the menu bar is not in Japanese: {labels} (the ja language "
              f"pack is jupyterlab-language-pack-ja-JP, from the [ja] extra)")

    markdown = [c for c in lp.cells() if c["type"] == "markdown"]
    english = [c["index"] + 1 for c in markdown if not _KANA.search(c["source"])]
    rendered = lp.notebook().locator(".jp-MarkdownCell .jp-RenderedMarkdown")
    shown = [rendered.nth(i).text_content() or "" for i in range(rendered.count())]
    assert markdown and not english, f"markdown cells {english} of lesson 1 have no Japanese"
    assert len(shown) == len(markdown) and all(_KANA.search(t) for t in shown), \
        f"{len(shown)} rendered markdown cells for {len(markdown)}; without Japanese: " \
        f"{[t[:60] for t in shown if not _KANA.search(t)]}"

    lp.run_all()
    lp.wait_until_executed()
    problems = lp.error_outputs() + [f"cell {i + 1} did not run" for i in lp.unexecuted_cells()]
    if problems:
        _fail(lp, artifacts, "errors", "after Run All:\n  " + "\n  ".join(problems))
    expected = lp.widget_outputs_expected()
    if not expected or not lp.wait_for_widgets(expected) or lp.broken_widget_texts():
        _fail(lp, artifacts, "widgets", f"{expected} widget output(s), {lp.widget_outputs().count()} "
              f"rendered, broken texts: {lp.broken_widget_texts()}")
    assert lp.panels().count() >= 1, lp.shown_mime_types()

    slider = labharness.Slider(lp.panels().first, 0)
    slider.root.scroll_into_view_if_needed()
    lp.screenshot(artifacts / "ja-lesson01-panel-before.png", lp.panels().first)
    before = slider.image_src()
    key = slider.press()
    if not slider.wait_image_change(before, 5_000):
        _fail(lp, artifacts, "slider", f"pressed {key} on {slider.description!r}: the figure did "
              "not change within 5 s")
    slider.image.evaluate("(img) => img.decode().catch(() => null)")
    lp.screenshot(artifacts / "ja-lesson01-panel-after.png", lp.panels().first)

    glyphs = lp.glyph_problems()
    if glyphs:
        _fail(lp, artifacts, "glyphs", "figures with missing glyphs (boxes):\n  " + "\n  ".join(glyphs))
    assert lp.error_outputs() == []


def test_the_missing_glyph_check_catches_boxes(ja_page, artifacts):
    """The check can fail: the planted figures that draw boxes are reported, cell by cell, and the
    same text drawn with the course's font set-up is not."""
    lp = ja_page
    lp.open("harness/glyphs.ipynb")
    lp.run_all()
    lp.wait_until_executed()
    lp.screenshot(artifacts / "ja-glyph-check.png")
    assert lp.error_outputs() == [], lp.error_outputs()
    found = lp.glyph_problems()
    by_cell = {int(m.group(1)) for m in (re.match(r"cell (\d+)", f) for f in found) if m}
    assert by_cell == {2, 3}, found
    assert any("missing from font" in f and "cell 2" in f for f in found), found
    assert any("does not have a glyph" in f and "cell 3" in f for f in found), found
    assert "clean" in lp.cells()[3]["outputs"][-1]["text"]
