"""Notebook translation through gettext catalogues keyed by cell id (gdcourse.i18n)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import polib
import pytest

from gdcourse import i18n
from gdcourse._notebook import cell_source

ROOT = Path(__file__).resolve().parent.parent


def notebook(*cells) -> dict:
    """A small nbformat-4.5 notebook from (type, id, source) triples."""
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": t, "id": i, "metadata": {}, "source": s,
                       **({"outputs": [], "execution_count": None} if t == "code" else {})}
                      for t, i, s in cells]}


@pytest.fixture
def english():
    return notebook(("markdown", "a", "# Title\n\nSome *text*."),
                    ("code", "b", "x = 1  # one\nprint('hello', x)\n"),
                    ("markdown", "c", "Second cell."),
                    ("markdown", "d", ""))


#: the fixture's code cell "b" with its comment and string translated (the code itself unchanged)
CODE_JA = "x = 1  # 一\nprint('こんにちは', x)\n"


def translated_po(english, **texts) -> polib.POFile:
    """A Japanese catalogue of ``english``: the markdown entries as given (others empty), the
    code cell translated unless told otherwise."""
    texts.setdefault("b", CODE_JA)
    po = i18n.update(None, i18n.extract(english), lang="ja")
    for entry in po:
        entry.msgstr = texts.get(entry.msgctxt, "")
    return po


def test_extract_one_entry_per_nonempty_markdown_cell_keyed_by_id(english):
    pot = i18n.extract(english)
    assert [(e.msgctxt, e.msgid) for e in pot] == [("a", "# Title\n\nSome *text*."),
                                                   ("b", "x = 1  # one\nprint('hello', x)\n"),
                                                   ("c", "Second cell.")]
    assert all(e.msgstr == "" for e in pot)
    # the code cell's entry tells the translator what may change; markdown entries say nothing
    assert [e.comment == i18n.CODE_CELL_COMMENT for e in pot] == [False, True, False]


def test_extract_refuses_markdown_without_or_with_duplicate_ids(english):
    del english["cells"][0]["id"]
    with pytest.raises(i18n.I18nError, match="markdown cell 0 has no id"):
        i18n.extract(english, name="x.ipynb")
    english["cells"][0]["id"] = "c"
    with pytest.raises(i18n.I18nError, match="'c' appears twice"):
        i18n.extract(english)


def test_build_translates_markdown_and_keeps_code(english):
    po = translated_po(english, a="# 題名\n\n本文。", c="二つ目。")
    built = i18n.build_notebook(english, po, lang="ja")
    assert [cell_source(c) for c in built["cells"]] == ["# 題名\n\n本文。", CODE_JA, "二つ目。", ""]
    assert built["metadata"]["gdcourse"]["lang"] == "ja"
    assert i18n.check(english, built) == []
    assert cell_source(english["cells"][0]) == "# Title\n\nSome *text*."  # the source is untouched


def test_a_changed_english_cell_turns_fuzzy_and_falls_back_to_english(english):
    po = translated_po(english, a="# 題名\n\n本文。", c="二つ目。")
    assert i18n.statistics(po).complete
    changed = copy.deepcopy(english)
    changed["cells"][2]["source"] = "Second cell, reworded."
    merged = i18n.update(po, i18n.extract(changed))
    entry = next(e for e in merged if e.msgctxt == "c")
    assert "fuzzy" in entry.flags and entry.msgstr == "二つ目。"
    assert entry.previous_msgid == "Second cell."
    stats = i18n.statistics(merged)
    assert (stats.translated, stats.fuzzy, stats.untranslated) == (2, 1, 0)
    assert not stats.complete
    built = i18n.build_notebook(changed, merged)
    assert cell_source(built["cells"][2]) == "Second cell, reworded."   # English, not stale text
    assert cell_source(built["cells"][0]) == "# 題名\n\n本文。"
    # a catalogue not yet merged is not trusted either: its msgid is not the current English
    assert cell_source(i18n.build_notebook(changed, po)["cells"][2]) == "Second cell, reworded."
    # once the translator fixes it and clears the flag, the translation is back
    entry.msgstr, entry.flags = "二つ目（改）。", []
    assert cell_source(i18n.build_notebook(changed, merged)["cells"][2]) == "二つ目（改）。"


def test_update_adds_new_cells_and_obsoletes_removed_ones(english):
    po = translated_po(english, a="題名", c="二つ目。")
    later = copy.deepcopy(english)
    later["cells"][2] = {"cell_type": "markdown", "id": "new", "metadata": {}, "source": "New."}
    merged = i18n.update(po, i18n.extract(later))
    live = {e.msgctxt: e for e in merged if not e.obsolete}
    assert set(live) == {"a", "b", "new"} and live["new"].msgstr == "" and live["a"].msgstr == "題名"
    assert [e.msgctxt for e in merged if e.obsolete] == ["c"]
    assert str(i18n.statistics(merged)) == ("2 translated messages, 0 fuzzy translations, "
                                            "1 untranslated messages")


def test_missing_catalogue_or_entry_gives_english(english, tmp_path):
    out = i18n.build(english, tmp_path / "none.po", tmp_path / "out" / "x.ipynb")
    built = json.loads(out.read_text(encoding="utf-8"))
    assert [cell_source(c) for c in built["cells"]] == [cell_source(c) for c in english["cells"]]
    po = translated_po(english, a="題名")
    assert cell_source(i18n.build_notebook(english, po)["cells"][2]) == "Second cell."


def test_statistics_agree_with_msgfmt(english, tmp_path):
    po = translated_po(english, a="題名", c="二つ目。")
    po[2].flags.append("fuzzy")
    path = tmp_path / "x.po"
    po.save(str(path))
    assert str(i18n.statistics(path)) == ("2 translated messages, 1 fuzzy translations, "
                                          "0 untranslated messages")
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    out = subprocess.run([msgfmt, "--statistics", "-o", "/dev/null", str(path)],
                         capture_output=True, text=True, check=True)
    assert "2 translated messages, 1 fuzzy translation" in out.stderr


def test_empty_catalogue_is_not_complete():
    assert not i18n.statistics(polib.POFile()).complete


# ------------------------------------------------------------------ the code-cell check

@pytest.mark.parametrize("changed", [
    "x = 1  # 一\nprint('こんにちは', x)\n",           # comment and string translated
    "x = 1\nprint(\"hello\", x)  # 表示\n",            # quotes changed, comment moved
    "x = 1\n# 説明\n\nprint(f'{x} 個', x)\n",          # an added comment line, an f-string
])
def test_check_accepts_changes_to_strings_and_comments_only(english, changed):
    other = copy.deepcopy(english)
    other["cells"][1]["source"] = changed
    assert i18n.check(english, other) == []


@pytest.mark.parametrize("changed, what", [
    ("x = 2  # one\nprint('hello', x)\n", "'1'"),          # a number
    ("y = 1  # one\nprint('hello', y)\n", "'x'"),          # a name
    ("x = 1  # one\nprint('hello', x, x)\n", "','"),       # an argument added
    ("x = 1  # one\nif x:\n    print('hello', x)\n", "if"),  # structure
])
def test_check_fails_on_any_other_code_difference(english, changed, what):
    other = copy.deepcopy(english)
    other["cells"][1]["source"] = changed
    problems = i18n.check(english, other)
    assert len(problems) == 1 and "cell 1 (id 'b')" in problems[0] and what in problems[0]


def test_check_fails_on_cell_count_ids_and_types(english):
    fewer = copy.deepcopy(english)
    del fewer["cells"][2]
    assert any("English has 4 cells, the translation 3" in p for p in i18n.check(english, fewer))
    renamed = copy.deepcopy(english)
    renamed["cells"][2]["id"] = "zz"
    assert any("markdown cell ids differ" in p for p in i18n.check(english, renamed))
    retyped = copy.deepcopy(english)
    retyped["cells"][1]["cell_type"] = "markdown"
    assert any("English is a code cell" in p for p in i18n.check(english, retyped))


# ------------------------------------------------------------------ code cells in the catalogues

def test_code_cells_without_comments_or_strings_get_no_entry():
    nb = notebook(("code", "p", "panel = make(d)\npanel\n"), ("code", "q", "x = 1  # one\n"),
                  ("code", "r", "s = f'{x}'\n"))
    assert [e.msgctxt for e in i18n.extract(nb)] == ["q", "r"]
    del nb["cells"][1]["id"]
    with pytest.raises(i18n.I18nError, match="code cell 1 has no id"):
        i18n.extract(nb, name="x.ipynb")
    nb["cells"][1]["id"] = "r"
    with pytest.raises(i18n.I18nError, match="'r' appears twice"):
        i18n.extract(nb)


@pytest.mark.parametrize("bad", [
    "x = 2  # 一\nprint('こんにちは', x)\n",            # a number "translated"
    "数 = 1  # 一\nprint('こんにちは', 数)\n",           # an identifier translated
    "x = 1  # 一\nprint('こんにちは', x, x)\n",         # an argument added
    "x = 1  # 一\nprint('こんにちは', x\n",             # broken code
])
def test_a_code_translation_that_changes_code_is_never_used(english, bad):
    po = translated_po(english, a="題名", b=bad)
    built = i18n.build_notebook(english, po)
    assert cell_source(built["cells"][1]) == "x = 1  # one\nprint('hello', x)\n"
    assert cell_source(built["cells"][0]) == "題名"       # the rest of the notebook is translated
    assert i18n.check(english, built) == []
    assert i18n.translated_code(po[1], cell_source(english["cells"][1])) is None
    assert i18n.translated_code(translated_po(english)[1], cell_source(english["cells"][1])) == CODE_JA


def test_the_exercise_line_of_a_code_cell_stays_english():
    src = '# exercise: lesson01.predict\ndef predict(theta, X):\n    """Return Xθ."""\n'
    nb = notebook(("code", "e", src))
    po = i18n.update(None, i18n.extract(nb), lang="ja")
    good = src.replace("Return Xθ.", "Xθ を返す。")
    po[0].msgstr = good
    assert cell_source(i18n.build_notebook(nb, po)["cells"][0]) == good
    po[0].msgstr = good.replace("# exercise:", "# 演習:")     # a comment, but the grader reads it
    assert cell_source(i18n.build_notebook(nb, po)["cells"][0]) == src
    other = copy.deepcopy(nb)
    other["cells"][0]["source"] = po[0].msgstr
    assert any("'# exercise:' line differs" in p for p in i18n.check(nb, other))


def test_a_changed_english_code_cell_turns_fuzzy_and_falls_back_to_english(english):
    po = translated_po(english, a="題名", c="二つ目。")
    changed = copy.deepcopy(english)
    changed["cells"][1]["source"] = "x = 2  # one\nprint('hello', x)\n"
    merged = i18n.update(po, i18n.extract(changed))
    entry = next(e for e in merged if e.msgctxt == "b")
    assert "fuzzy" in entry.flags and entry.msgstr == CODE_JA
    assert entry.comment == i18n.CODE_CELL_COMMENT
    built = i18n.build_notebook(changed, merged)
    assert cell_source(built["cells"][1]) == "x = 2  # one\nprint('hello', x)\n"


def test_code_tokens_handle_magics_and_untokenizable_code():
    assert i18n.code_tokens("%matplotlib inline\nx = 1\n") != i18n.code_tokens("%matplotlib widget\nx = 1\n")
    assert i18n.code_tokens("!pip list\n") == i18n.code_tokens("!pip list\n")
    broken = "x = (1,\n"
    assert i18n.code_tokens(broken)[0][0] == "UNTOKENIZABLE"
    assert i18n.code_tokens(broken) != i18n.code_tokens("x = (2,\n")


# ------------------------------------------------------------------ the command line

def test_cli_extract_update_build_check_stats(tmp_path, capsys):
    src = tmp_path / "lessons"
    src.mkdir()
    nb = notebook(("markdown", "a", "Hello."), ("code", "b", "x = 1\n"))
    (src / "01_x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    base = ["--i18n", str(tmp_path / "i18n")]
    assert i18n.cli(base + ["extract", str(src)]) == 0
    assert (tmp_path / "i18n/pot/lessons/01_x.pot").is_file()
    assert i18n.cli(base + ["update", "ja", str(src)]) == 0
    po_path = tmp_path / "i18n/ja/lessons/01_x.po"
    assert i18n.cli(base + ["stats", "ja"]) == 1            # not translated yet
    po = polib.pofile(str(po_path))
    po[0].msgstr = "こんにちは。"
    po.save(str(po_path))
    assert i18n.cli(base + ["stats", "ja"]) == 0
    assert i18n.cli(base + ["build", "ja", str(tmp_path / "build/ja"), str(src)]) == 0
    built = json.loads((tmp_path / "build/ja/lessons/01_x.ipynb").read_text(encoding="utf-8"))
    assert cell_source(built["cells"][0]) == "こんにちは。"
    assert i18n.cli(base + ["check", str(tmp_path / "build/ja"), str(src)]) == 0
    assert "check: ok" in capsys.readouterr().out
    built["cells"][1]["source"] = "x = 2\n"
    (tmp_path / "build/ja/lessons/01_x.ipynb").write_text(json.dumps(built), encoding="utf-8")
    assert i18n.cli(base + ["check", str(tmp_path / "build/ja"), str(src)]) == 1


def test_translate_course_refuses_an_unknown_language(tmp_path):
    with pytest.raises(i18n.I18nError, match="lang must be one of fr, ja, ko, zh, got 'xx'"):
        i18n.translate_course(ROOT, ROOT / "i18n", "xx", tmp_path)
