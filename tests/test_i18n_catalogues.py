"""The committed translations: complete, current, faithful to the English, and runnable.

For every catalogue ``i18n/<lang>/<folder>/<name>.po``:

* it is 100 % translated with no fuzzy entry (msgfmt --statistics, in Python);
* its template ``i18n/pot/...`` and its msgids are the English notebook as it is now (so an edited
  lesson whose catalogue was not updated fails here, not silently in front of a learner);
* each translation keeps the English's math, inline code, code blocks, links, heading levels, list
  items, table rows and every number the English writes in digits, and renders (CommonMark, as in
  JupyterLab) to the same elements: no emphasis left unclosed;
* French and Chinese follow their typography (no-break spaces before French : ; ? !, full-width
  Chinese punctuation);
* the built notebook passes the code-cell check (same cells and ids, code equal up to strings and
  comments), and that check fails on a change planted in the code of every translated code cell;
* a code cell's entry translates what the learner reads (its comments and strings differ from the
  English) and keeps CJK outside ``$...$`` in its strings (mathtext would draw boxes).

The Japanese lesson 1 and its exercises are also executed under nbval (slow), with every
matplotlib warning and missing-glyph log message of the kernel recorded and required to be none.
"""

from __future__ import annotations

import collections
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import polib
import pytest

from gdcourse import i18n

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "i18n"
CATALOGUES = sorted(p for lang in i18n.LANGUAGES for p in (I18N / lang).rglob("*.po"))


def english_of(po_path: Path) -> Path:
    return ROOT / po_path.parent.name / (po_path.stem + ".ipynb")


def is_code(entry: polib.POEntry) -> bool:
    """Whether an entry holds a code cell (the rest hold markdown)."""
    return entry.comment == i18n.CODE_CELL_COMMENT


_QUOTED = re.compile(r"""^([A-Za-z]*)('\'\'|"\"\"|'|")(.*)\2$""", re.S)


def code_text(source: str) -> list[str]:
    """What a translator writes in a code cell: each comment (without its ``#``) and the body of
    each string literal (an f-string's ``{...}`` fields set aside)."""
    pieces = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            pieces.append(tok.string[1:])
        elif tok.type == tokenize.STRING:
            prefix, _, body = _QUOTED.match(tok.string).groups()
            pieces.append(re.sub(r"\{[^{}]*\}", "\x00", body) if "f" in prefix.lower() else body)
        elif tok.type == getattr(tokenize, "FSTRING_MIDDLE", None):
            pieces.append(tok.string)
    return pieces


def test_code_text_reads_comments_and_string_bodies_only():
    src = 'x = f"J = {j:.4f} ok"  # note: here\nprint(r"$a$", \'b\', x[1:2])\n'
    assert code_text(src) == ["J = \x00 ok", " note: here", "$a$", "b"]


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_every_language_has_lesson_1_and_its_exercises(lang):
    """Each course language has at least lesson 1 and its exercises (so the CATALOGUES
    parametrisations below cover every language)."""
    mine = {p.relative_to(I18N / lang).as_posix() for p in CATALOGUES if p.parts[-3] == lang}
    assert {"lessons/01_cost_function.po", "exercises/01_cost_function.po"} <= mine


def test_each_catalogue_belongs_to_a_notebook():
    assert CATALOGUES
    for po_path in CATALOGUES:
        assert english_of(po_path).is_file(), f"{po_path} has no English notebook"


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_catalogue_is_complete(po_path):
    stats = i18n.statistics(po_path)
    assert stats.complete, f"{po_path.relative_to(ROOT)}: {stats}"
    assert polib.pofile(str(po_path)).metadata.get("Language") == po_path.parts[-3]


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_catalogue_and_template_follow_the_current_english(po_path):
    english = english_of(po_path)
    pot = i18n.extract(english, name=f"{english.parent.name}/{english.name}")
    want = [(e.msgctxt, e.msgid) for e in pot]
    template = i18n.template_path(I18N, english)
    assert [(e.msgctxt, e.msgid) for e in polib.pofile(str(template))] == want, (
        f"{template.relative_to(ROOT)} is out of date: python -m gdcourse.i18n extract {english.parent.name}")
    live = [(e.msgctxt, e.msgid) for e in polib.pofile(str(po_path)) if not e.obsolete]
    assert live == want, (f"{po_path.relative_to(ROOT)} is out of date: "
                          f"python -m gdcourse.i18n update {po_path.parts[-3]} {english.parent.name}")


_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
_FENCE = re.compile(r"```.*?```", re.S)
_CODE = re.compile(r"`[^`\n]+`")
# a number standing alone (also the 3 of "3D", as a translation may write "3-D")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:\.\d+)?(?:(?![A-Za-z0-9_])|(?=D\b))")
_LIST_ITEM = re.compile(r"^( *)([-*+]|\d+\.) ", re.M)


def markup(text: str) -> dict:
    """What a translation must carry over: math, code, links, headings, numbers, and the markdown
    structure (list items with their nesting and numbering, table rows with their column counts)."""
    fences = _FENCE.findall(text)
    rest = _FENCE.sub(" ", text)
    math = _MATH.findall(rest)
    rest = _MATH.sub(" ", rest)
    code = _CODE.findall(rest)
    rest = _CODE.sub(" ", rest)
    return {"code blocks": collections.Counter(fences), "math": collections.Counter(math),
            "inline code": collections.Counter(code), "numbers": collections.Counter(_NUMBER.findall(rest)),
            "links": re.findall(r"\]\(([^)]+)\)", text),
            "heading levels": [len(h) for h in re.findall(r"^(#+) ", text, re.M)],
            "list items": [(len(indent) > 0, marker) for indent, marker in _LIST_ITEM.findall(rest)],
            "table rows": [line.count("|") for line in rest.splitlines() if line.startswith("|")]}


def markup_lost(english: str, translated: str) -> list[str]:
    """What the translation dropped or changed (it may add math or numbers: "five" → "5つ")."""
    a, b = markup(english), markup(translated)
    lost = []
    for key in a:
        if isinstance(a[key], collections.Counter):
            if key == "code blocks" and a[key] != b[key]:
                lost.append(f"{key}: {sorted(a[key] ^ b[key])}")
            elif a[key] - b[key]:
                lost.append(f"{key}: {sorted((a[key] - b[key]).elements())}")
        elif a[key] != b[key]:
            lost.append(f"{key}: English {a[key]}, translated {b[key]}")
    return lost


def test_markup_check_catches_known_wrong_translations():
    english = "Cost $J(\\theta) = 0.24$ for `predict` at 13.75, see [x](../a.ipynb).\n## Head"
    assert markup_lost(english, "コスト $J(\\theta) = 0.24$、`predict`、13.75、[x](../a.ipynb)\n## 見出し") == []
    assert markup_lost(english, "コスト $J(\\theta) = 0.42$、`predict`、13.75、[x](../a.ipynb)\n## 見出し")
    assert markup_lost(english, "コスト $J(\\theta) = 0.24$、`predict`、13.57、[x](../a.ipynb)\n## 見出し")
    assert markup_lost(english, "コスト $J(\\theta) = 0.24$、predict、13.75、[x](../a.ipynb)\n## 見出し")
    assert markup_lost(english, "コスト $J(\\theta) = 0.24$、`predict`、13.75、[x](a.ipynb)\n## 見出し")
    assert markup_lost(english, "コスト $J(\\theta) = 0.24$、`predict`、13.75、[x](../a.ipynb)\n### 見出し")
    # "3-D" may become "3D" or "3次元", not lose its number
    assert markup_lost("a 3-D surface", "une surface en 3D") == []
    assert markup_lost("a 3-D surface", "3次元の曲面") == []
    assert markup_lost("a 3-D surface", "三维曲面")
    assert markup_lost("a 3-D surface", "a 3DX surface")
    # the markdown structure: list items, their nesting and numbering, table rows and columns
    listed = "Intro:\n\n1. one\n2. two\n   - sub\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert markup_lost(listed, "導入:\n\n1. 一\n2. 二\n   - 下位\n\n| あ | い |\n|---|---|\n| 1 | 2 |") == []
    assert markup_lost(listed, "導入:\n\n1. 一\n2. 二\n- 下位\n\n| あ | い |\n|---|---|\n| 1 | 2 |")
    assert markup_lost(listed, "導入:\n\n1. 一\n3. 二 2\n   - 下位\n\n| あ | い |\n|---|---|\n| 1 | 2 |")
    assert markup_lost(listed, "導入:\n\n1. 一\n2. 二\n   - 下位\n\n| あ | い |\n|---|---|\n| 1 2 |")


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_translations_keep_math_code_links_and_numbers(po_path):
    problems = [f"{e.msgctxt}: {lost}" for e in polib.pofile(str(po_path)) if not e.obsolete
                for lost in markup_lost(e.msgid, e.msgstr)]
    assert problems == []


# ---------------------------------------------------------------- as JupyterLab renders it

def rendered(text: str) -> collections.Counter:
    """The HTML elements a markdown cell renders to (CommonMark with tables, as JupyterLab's
    renderer; math is set aside first, as JupyterLab does). Emphasis is where translations break:
    CommonMark does not close ``**`` between a punctuation mark and a letter (``**時間:**24``,
    ``*…*은``), which scripts written without spaces meet often."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(_MATH.sub("@@0@@", text))
    return collections.Counter(re.findall(
        r"<(strong|em|li|ol|ul|table|tr|th|td|h[1-6]|pre|code|a|blockquote|hr)\b", html))


def test_rendering_check_catches_broken_emphasis_and_structure():
    pytest.importorskip("markdown_it")
    english = "**Estimated time:** 24 minutes. Use *Run ▸ Run All Cells* first.\n\n- one\n- two"
    assert rendered(english) == rendered("**预计用时**：24 分钟。先用 *运行 ▸ 运行所有单元格*。\n\n- 一\n- 二")
    assert rendered(english) != rendered("**预计用时：**24 分钟。先用 *运行 ▸ 运行所有单元格*。\n\n- 一\n- 二")
    assert rendered(english) != rendered("**예상 시간:** 24분. 먼저 *실행 ▸ 모든 셀 실행…*을 씁니다.\n\n- 하나\n- 둘")
    assert rendered(english) != rendered("**Durée :** 24 minutes. *Exécuter ▸ Tout*.\n\n- un, deux")


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_translations_render_to_the_same_elements(po_path):
    pytest.importorskip("markdown_it")
    problems = []
    for e in polib.pofile(str(po_path)):
        if not e.obsolete and not is_code(e) and rendered(e.msgid) != rendered(e.msgstr):
            a, b = rendered(e.msgid), rendered(e.msgstr)
            problems.append(f"{e.msgctxt}: English only {dict(a - b)}, translation only {dict(b - a)}")
    assert problems == []


# ---------------------------------------------------------------- JupyterLab's own words

_MENU_PATH = re.compile(r"\*([^*\n]+?) ▸ ([^*\n]+?)\*")


def language_pack(lang: str) -> dict | None:
    """JupyterLab's interface strings in ``lang`` (its language pack), or None if not installed."""
    import importlib.util
    import json

    locale = i18n.LANGUAGES[lang][0]
    spec = importlib.util.find_spec(f"jupyterlab_language_pack_{locale}")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "locale" / locale / "LC_MESSAGES" / "jupyterlab.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_menu_paths_are_the_ones_jupyterlab_shows(po_path):
    """"*Run ▸ Run All Cells*" must name the menu as the language pack labels it, since
    `gdcourse lab --lang` switches JupyterLab to that language (CI installs the ja pack only)."""
    lang = po_path.parts[-3]
    pack = language_pack(lang)
    if pack is None:
        pytest.skip(f"{i18n.LANGUAGES[lang][1]} is not installed (pip install -e \".[{lang}]\")")
    problems = []
    for e in polib.pofile(str(po_path)):
        if e.obsolete:
            continue
        want = [(pack[f"menu\x04{menu}"][0], pack[item][0]) for menu, item in _MENU_PATH.findall(e.msgid)]
        got = _MENU_PATH.findall(e.msgstr)
        if got != want:
            problems.append(f"{e.msgctxt}: JupyterLab shows {want}, the translation names {got}")
    assert problems == []


def test_menu_path_check_reads_a_real_pack():
    pack = language_pack("ja")
    if pack is None:
        pytest.skip("jupyterlab-language-pack-ja-JP is not installed (it comes with gdcourse[test])")
    assert pack["menu\x04Run"] == ["実行"] and pack["Run All Cells"] == ["すべてのセルを実行"]
    assert _MENU_PATH.findall("menu *Run ▸ Run All Cells*.") == [("Run", "Run All Cells")]


# ---------------------------------------------------------------- typography

_ASIDE = re.compile(r"```.*?```|\$\$.+?\$\$|\$[^$]+\$|`[^`\n]+`|\]\([^)]+\)|<[^>]+>", re.S)
_NO_BREAK = "\u00a0\u202f"
_TYPOGRAPHY = {
    # French: a no-break space before : ; ? ! and inside « », the typographic apostrophe
    "fr": [(re.compile(f"(?<![{_NO_BREAK}])[:;?!]"), "no no-break space before : ; ? !"),
           (re.compile(f"«(?![{_NO_BREAK}])|(?<![{_NO_BREAK}])»"), "no no-break space inside « »"),
           (re.compile(r"\w'\w"), "straight apostrophe (’ is the French one)")],
    # Chinese: full-width punctuation after Chinese text
    "zh": [(re.compile(r"[\u4e00-\u9fff][,.;:?!()]"), "ASCII punctuation after Chinese text"),
           (re.compile(r"[\u4e00-\u9fff] ?\"|\" ?[\u4e00-\u9fff]"), "straight quotes in Chinese text")],
}


def typography_faults(lang: str, text: str) -> list[str]:
    """The typography rules of ``lang`` that the prose of ``text`` (math, code, links and HTML set
    aside) breaks, each with the place it breaks."""
    prose = _ASIDE.sub("\x00", text)
    faults = []
    for pattern, rule in _TYPOGRAPHY.get(lang, []):
        for m in pattern.finditer(prose):
            faults.append(f"{rule}: …{prose[max(0, m.start() - 12):m.end() + 4]!r}")
    return faults


def test_typography_check_catches_known_faults():
    nb = "\u00a0"
    assert typography_faults("fr", f"Durée{nb}: 24 minutes{nb}; la recette «{nb}coût{nb}» $a:b$ `x?`") == []
    assert typography_faults("fr", "Durée : 24 minutes")
    assert typography_faults("fr", f"Durée{nb}: pourquoi?")
    assert typography_faults("fr", f"la recette « coût{nb}»")
    assert typography_faults("fr", "l'entropie croisée")
    assert typography_faults("zh", "第 2 课：梯度（见 `grad()`），$J(\\theta)$。“代价”") == []
    assert typography_faults("zh", "第 2 课: 梯度")
    assert typography_faults("zh", "梯度(gradient)")
    assert typography_faults("zh", '所谓"代价"')


@pytest.mark.parametrize("po_path", [p for p in CATALOGUES if p.parts[-3] in _TYPOGRAPHY],
                         ids=lambda p: str(p.relative_to(I18N)))
def test_translations_follow_the_language_typography(po_path):
    lang = po_path.parts[-3]
    problems = [f"{e.msgctxt}: {fault}" for e in polib.pofile(str(po_path)) if not e.obsolete
                for text in (translated_text(e) if is_code(e) else [e.msgstr])
                for fault in typography_faults(lang, text)]
    assert problems == []


def translated_text(entry: polib.POEntry) -> list[str]:
    """The comments and strings of a code cell's translation that are not the English ones (the
    English left as it is, such as ``"tab:orange"`` or ``# exercise: lesson01.predict``, is code
    for the machine, not prose)."""
    english = set(code_text(entry.msgid))
    return [t for t in code_text(entry.msgstr) if t not in english]


def test_typography_of_a_code_cell_is_judged_on_its_translated_strings_and_comments():
    nb = "\u00a0"
    english = 'ax.plot(x, color="tab:red", label="cost: $J$")  # the slope: θ1\nX[:, 1]\n'
    good = f'ax.plot(x, color="tab:red", label="coût{nb}: $J$")  # la pente{nb}: θ1\nX[:, 1]\n'
    faults = [f for t in translated_text(polib.POEntry(msgid=english, msgstr=good))
              for f in typography_faults("fr", t)]
    assert faults == []
    faults = [f for t in translated_text(polib.POEntry(msgid=english, msgstr=good.replace(nb, " ")))
              for f in typography_faults("fr", t)]
    assert len(faults) == 2
    zh = polib.POEntry(msgid='print("residuals:", r)\n', msgstr='print("残差:", r)\n')
    assert [f for t in translated_text(zh) for f in typography_faults("zh", t)]


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_built_notebook_passes_the_code_cell_check(po_path, tmp_path):
    english = english_of(po_path)
    out = i18n.build(english, po_path, tmp_path / english.name)
    assert i18n.check(english, out) == []
    # and every markdown cell of the built notebook is the translation, none left in English
    built = i18n._load_notebook(out)
    english_md = {c["id"]: i18n.cell_source(c) for c in i18n._load_notebook(english)["cells"]
                  if c["cell_type"] == "markdown" and i18n.cell_source(c).strip()}
    for cell in built["cells"]:
        if cell["id"] in english_md:
            assert i18n.cell_source(cell) != english_md[cell["id"]], cell["id"]


_PYTEST_INI = """[pytest]
filterwarnings =
    error
    ignore:Jupyter is migrating its paths:DeprecationWarning
"""


#: run in the kernel before any cell (an IPython startup file): every warning and every WARNING
#: from matplotlib's log is written to $GDCOURSE_TEST_KERNEL_LOG. Raising would not do: a figure is
#: drawn by IPython's display formatter, which prints an exception and lets the cell pass.
_KERNEL_STARTUP = """
import logging, os, warnings

_log_path = os.environ["GDCOURSE_TEST_KERNEL_LOG"]

def _record(text):
    with open(_log_path, "a", encoding="utf-8") as f:
        f.write(text.replace("\\n", " ") + "\\n")

def _showwarning(message, category, filename, lineno, file=None, line=None):
    _record(f"warning {category.__name__}: {message} ({filename}:{lineno})")

warnings.simplefilter("always")
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
warnings.showwarning = _showwarning

class _Record(logging.Handler):
    def emit(self, record):
        _record(f"log {record.name}: {record.getMessage()}")

logging.getLogger("matplotlib").addHandler(_Record(level=logging.WARNING))
"""


def kernel_env(tmp_path) -> tuple[dict, Path]:
    """The environment for nbval's kernel: the repository importable, the recording startup file,
    and the file it writes to."""
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-record.py").write_text(_KERNEL_STARTUP, encoding="utf-8")
    log = tmp_path / "kernel-warnings.log"
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"), GDCOURSE_TEST_KERNEL_LOG=str(log),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("GDCOURSE_LANG", None)          # the course folder says which language
    return env, log


def run_nbval(tmp_path, notebooks, env) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text(_PYTEST_INI, encoding="utf-8")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
           "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "--nbval-lax",
           "--nbval-current-env", "--nbval-cell-timeout=120", *map(str, notebooks)]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=580)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_missing_glyphs_in_the_kernel_are_recorded(tmp_path):
    """The recording can fail: Japanese drawn with DejaVu Sans only, and inside $...$, is logged."""
    import json

    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "g", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                   "plt.rcParams['font.family'] = ['DejaVu Sans']\nfig, ax = plt.subplots()\n"
                   "ax.set_title('残差')\nax.set_xlabel(r'$残差$')\nfig.canvas.draw()\n"}]}
    path = tmp_path / "glyphs.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    env, log = kernel_env(tmp_path)
    run = run_nbval(tmp_path, [path], env)
    assert run.returncode == 0, run.stdout[-3000:]
    text = log.read_text(encoding="utf-8")
    assert "missing from font" in text and "does not have a glyph" in text, text


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_japanese_lesson_1_and_its_exercises_run_under_nbval(tmp_path):
    """The built notebooks execute as the English ones do (the repository's conftest judges the
    exercise check cells: each must fail as not attempted), in a course folder marked Japanese as
    ``gdcourse new --lang ja`` marks it, with no matplotlib warning and no missing glyph."""
    course = tmp_path / "ja"
    written = i18n.translate_course(ROOT, I18N, "ja", course)
    i18n.mark_course_language(course, "ja")
    targets = [p for p in written if p.name == "01_cost_function.ipynb"]
    assert {p.parent.name for p in targets} == {"lessons", "exercises"}
    # the Japanese code cells are the ones built, not English left in place
    lesson = i18n._load_notebook(course / "lessons" / "01_cost_function.ipynb")
    assert any("5つの点と当て推量" in i18n.cell_source(c) for c in lesson["cells"] if c["cell_type"] == "code")
    env, log = kernel_env(tmp_path)
    run = run_nbval(tmp_path, targets, env)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", run.stdout) and " failed" not in run.stdout
    recorded = log.read_text(encoding="utf-8") if log.exists() else ""
    assert recorded == "", "the kernel warned or logged:\n" + recorded


# ---------------------------------------------------------------- code cells

def plant(source: str, kind: str) -> str | None:
    """``source`` with one change to its code (not its strings or comments): the first number
    changed, or the first name that is not a keyword "translated"; None if it has no such token."""
    import keyword

    lines = source.splitlines(keepends=True)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if kind == "number" and tok.type == tokenize.NUMBER:
            new = "7" if tok.string != "7" else "8"
        elif kind == "name" and tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
            new = tok.string + "_訳"
        else:
            continue
        row, col = tok.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[col + len(tok.string):]
        return "".join(lines)
    return None


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_code_cells_are_translated_and_keep_cjk_outside_math(po_path):
    from gdcourse import fonts

    code = [e for e in polib.pofile(str(po_path)) if not e.obsolete and is_code(e)]
    assert code, f"{po_path.relative_to(ROOT)} has no code-cell entry"
    untranslated = [e.msgctxt for e in code if e.msgstr == e.msgid]
    assert untranslated == [], "code cells whose comments and strings are all still English"
    boxes = [f"{e.msgctxt}: {t!r}" for e in code for t in code_text(e.msgstr) if fonts.cjk_in_math(t)]
    assert boxes == [], "CJK inside $...$ draws as boxes"


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_the_code_cell_check_fails_on_a_change_planted_in_translated_code(po_path):
    """For every translated code cell, a changed number or a translated identifier is found by
    the check, and a catalogue carrying it gives the English cell instead."""
    english = english_of(po_path)
    po = polib.pofile(str(po_path))
    good = i18n.build_notebook(english, po)
    cells = {c["id"]: i for i, c in enumerate(good["cells"])}
    planted_any = 0
    for entry in (e for e in po if not e.obsolete and is_code(e)):
        index = cells[entry.msgctxt]
        assert i18n.cell_source(good["cells"][index]) == entry.msgstr   # the translation is used
        for kind in ("number", "name"):
            changed = plant(entry.msgstr, kind)
            if changed is None:
                continue
            planted_any += 1
            bad = i18n.build_notebook(english, po)
            bad["cells"][index]["source"] = changed
            problems = i18n.check(english, bad)
            assert len(problems) == 1 and f"id {entry.msgctxt!r}" in problems[0], (kind, problems)
            saved, entry.msgstr = entry.msgstr, changed
            fallback = i18n.build_notebook(english, po)
            entry.msgstr = saved
            assert i18n.cell_source(fallback["cells"][index]) == entry.msgid
            assert i18n.check(english, fallback) == []
    assert planted_any
