"""The committed translations: complete, current, faithful to the English, and runnable.

For every catalogue ``i18n/<lang>/<folder>/<name>.po``:

* it is 100 % translated with no fuzzy entry (msgfmt --statistics, in Python);
* its template ``i18n/pot/...`` and its msgids are the English notebook as it is now (so an edited
  lesson whose catalogue was not updated fails here, not silently in front of a learner);
* each translation keeps the English's math, inline code, code blocks, links, heading levels and
  every number the English writes in digits;
* the built notebook passes the code-cell check (same cells and ids, code equal up to strings and
  comments).

The Japanese lesson 1 and its exercises are also executed under nbval (slow).
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from gdcourse import i18n

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "i18n"
CATALOGUES = sorted(p for lang in i18n.LANGUAGES for p in (I18N / lang).rglob("*.po"))


def english_of(po_path: Path) -> Path:
    return ROOT / po_path.parent.name / (po_path.stem + ".ipynb")


def test_there_are_catalogues_and_each_belongs_to_a_notebook():
    assert any(p.parts[-3] == "ja" and p.name == "01_cost_function.po" for p in CATALOGUES)
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
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:\.\d+)?(?![A-Za-z0-9_])")


def markup(text: str) -> dict:
    """What a translation must carry over: math, code, links, headings, numbers."""
    fences = _FENCE.findall(text)
    rest = _FENCE.sub(" ", text)
    math = _MATH.findall(rest)
    rest = _MATH.sub(" ", rest)
    code = _CODE.findall(rest)
    rest = _CODE.sub(" ", rest)
    return {"code blocks": collections.Counter(fences), "math": collections.Counter(math),
            "inline code": collections.Counter(code), "numbers": collections.Counter(_NUMBER.findall(rest)),
            "links": re.findall(r"\]\(([^)]+)\)", text),
            "heading levels": [len(h) for h in re.findall(r"^(#+) ", text, re.M)]}


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


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(I18N)))
def test_translations_keep_math_code_links_and_numbers(po_path):
    problems = [f"{e.msgctxt}: {lost}" for e in polib.pofile(str(po_path)) if not e.obsolete
                for lost in markup_lost(e.msgid, e.msgstr)]
    assert problems == []


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


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_japanese_lesson_1_and_its_exercises_run_under_nbval(tmp_path):
    """The built notebooks execute as the English ones do (the repository's conftest judges the
    exercise check cells: each must fail as not attempted)."""
    written = i18n.translate_course(ROOT, I18N, "ja", tmp_path / "ja")
    targets = [p for p in written if p.name == "01_cost_function.ipynb"]
    assert {p.parent.name for p in targets} == {"lessons", "exercises"}
    (tmp_path / "pytest.ini").write_text(_PYTEST_INI, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
           "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "--nbval-lax",
           "--nbval-current-env", "--nbval-cell-timeout=120", *map(str, targets)]
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=580)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", run.stdout) and " failed" not in run.stdout
