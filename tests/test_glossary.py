"""docs/glossary.md: every term in five languages, each linked to a lesson that really teaches it.

A row is ``| English | 日本語 | 中文 | 한국어 | Français | Definition | Lesson |``. The checks:

* every row has all seven cells filled, and the Japanese, Chinese and Korean cells are written in
  their own scripts (a row copied from English is caught);
* the lesson link points to a lesson notebook that exists;
* the English term (or each of ``a / b``, a singular standing for its plural) appears in the
  markdown of that lesson, so a renamed or moved concept makes the row fail;
* the terms the course is built on are all there;
* where that lesson is translated, the translation uses the glossary's word for the term (a
  parenthesised gloss such as ``（epoch）`` is optional), so the glossary and the lessons agree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
HEADER = ["English", "日本語", "中文", "한국어", "Français", "Definition", "Lesson"]

#: a character of each script: kana or kanji; Han; Hangul
SCRIPTS = {"日本語": r"[\u3040-\u30ff\u4e00-\u9fff]", "中文": r"[\u4e00-\u9fff]", "한국어": r"[\uac00-\ud7af]"}
#: names that stay Latin in every language (optimisers and functions named after letters or people)
LATIN_NAMES = {"AdaGrad", "RMSProp", "Adam", "AdamW", "ReLU"}


def table(text: str) -> list[list[str]]:
    """The glossary table's rows (header and separator excluded), each a list of cells."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == HEADER, f"glossary header is {header}, expected {HEADER}"
    assert set(lines[1].replace("|", "").strip()) <= set("-: ")
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines[2:]]


def lesson_markdown(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def forms(term: str) -> list[str]:
    """The spellings a term may take in running text: itself and its plural."""
    term = term.lower()
    plural = term[:-2] + "a" if term.endswith("um") else term + "s"
    return [term, plural]


def problems_of(row: list[str], lessons_dir: Path) -> list[str]:
    """What is wrong with one glossary row (empty: nothing)."""
    if len(row) != len(HEADER):
        return [f"{row[:1]}: {len(row)} cells, expected {len(HEADER)}"]
    english, *_, lesson = row
    found = [f"{english}: empty {name} cell" for name, cell in zip(HEADER, row) if not cell]
    for name, script in SCRIPTS.items():
        cell = row[HEADER.index(name)]
        if english not in LATIN_NAMES and cell and not re.search(script, cell):
            found.append(f"{english}: the {name} cell {cell!r} is not written in its own script")
    link = re.fullmatch(r"\[(\d+)\]\(\.\./lessons/((\d\d)_[\w]+\.ipynb)\)", lesson)
    if link is None or int(link.group(1)) != int(link.group(3)):
        return found + [f"{english}: lesson cell {lesson!r} is not [N](../lessons/NN_name.ipynb)"]
    notebook = lessons_dir / link.group(2)
    if not notebook.is_file():
        return found + [f"{english}: {notebook.name} does not exist"]
    text = lesson_markdown(notebook).lower()
    for term in (t.strip() for t in english.split("/")):
        if not any(form in text for form in forms(term)):
            found.append(f"{english}: {term!r} does not appear in the text of {notebook.name}")
    return found


ROWS = table(GLOSSARY.read_text(encoding="utf-8"))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r[0])
def test_row_has_five_languages_and_a_lesson_that_teaches_the_term(row):
    assert problems_of(row, ROOT / "lessons") == []


def test_the_course_terms_are_all_there():
    terms = {r[0] for r in ROWS}
    must = {"gradient descent", "cost function", "loss", "gradient", "learning rate", "step / iteration",
            "convergence", "divergence", "epoch", "batch gradient descent", "mini-batch",
            "stochastic gradient descent", "momentum", "Nesterov momentum", "AdaGrad", "RMSProp",
            "Adam", "AdamW", "bias correction", "weight decay", "warm-up", "feature scaling",
            "condition number", "saddle point", "vanishing gradient", "exploding gradient",
            "gradient clipping", "backpropagation", "cross-entropy", "sigmoid", "softmax"}
    assert must <= terms, sorted(must - terms)
    assert len(terms) == len(ROWS), "a term appears twice"


def test_the_checks_catch_wrong_rows(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    nb = {"cells": [{"cell_type": "markdown", "source": ["Saddle points and local minima."]},
                    {"cell_type": "code", "source": ["momentum = 0.9"]}]}
    (lessons / "03_update_rule.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    link = "[3](../lessons/03_update_rule.ipynb)"
    good = ["saddle point", "鞍点", "鞍点", "안장점", "point selle", "Zero gradient, not a minimum.", link]
    assert problems_of(good, lessons) == []
    assert problems_of(["local minimum", "局所最小値", "局部极小值", "지역 최솟값", "minimum local", "d", link],
                       lessons) == []                                       # "minima" in the text
    missing = good[:3] + [""] + good[4:]
    assert "saddle point: empty 한국어 cell" in problems_of(missing, lessons)
    short = good[:4] + good[5:]
    assert "6 cells" in problems_of(short, lessons)[0]
    copied = good[:1] + ["saddle point"] + good[2:]
    assert "not written in its own script" in problems_of(copied, lessons)[0]
    nowhere = good[:6] + ["[4](../lessons/04_batch.ipynb)"]
    assert "04_batch.ipynb does not exist" in problems_of(nowhere, lessons)[0]
    mislabelled = good[:6] + ["[2](../lessons/03_update_rule.ipynb)"]
    assert "is not [N]" in problems_of(mislabelled, lessons)[0]
    # the term only in a code cell, or not at all, is not taught there
    code_only = ["momentum", "モーメンタム", "动量", "모멘텀", "momentum", "d", link]
    assert "'momentum' does not appear" in problems_of(code_only, lessons)[0]
    both = ["saddle point / epoch", *good[1:]]
    assert "'epoch' does not appear" in problems_of(both, lessons)[0]


LANGS = {"日本語": "ja", "中文": "zh", "한국어": "ko", "Français": "fr"}


def words_of(cell: str) -> list[str]:
    """The words a translation must use: the cell without its parenthesised gloss, each of a / b.

    >>> words_of("轮次（epoch）"), words_of("pas / itération"), words_of("그래디언트(기울기)")
    (['轮次'], ['pas', 'itération'], ['그래디언트'])
    """
    return [w.strip().lower() for w in re.sub(r"[（(].*?[)）]", "", cell).split("/") if w.strip()]


def translated_rows():
    for row in ROWS:
        notebook = re.search(r"lessons/(\w+)\.ipynb", row[-1])
        for column, lang in LANGS.items():
            po = ROOT / "i18n" / lang / "lessons" / f"{notebook.group(1)}.po"
            if po.is_file():
                yield pytest.param(row[HEADER.index(column)], po, id=f"{lang}-{row[0]}")


def missing_words(cell: str, po: Path) -> list[str]:
    """The glossary words of ``cell`` that the translated catalogue ``po`` never uses."""
    text = " ".join(e.msgstr for e in polib.pofile(str(po)) if not e.obsolete).lower()
    return [w for w in words_of(cell) if w not in text]


@pytest.mark.parametrize("cell, po", list(translated_rows()))
def test_translated_lessons_use_the_glossary_words(cell, po):
    assert missing_words(cell, po) == [], f"{po.relative_to(ROOT)} (see docs/glossary.md)"


def test_glossary_words_check_can_fail():
    ja = ROOT / "i18n" / "ja" / "lessons" / "01_cost_function.po"
    assert missing_words("交差エントロピー", ja) == []
    assert missing_words("クロスエントロピー損失", ja) == ["クロスエントロピー損失"]
    assert missing_words("残差 / 逆伝播（backprop）", ja) == ["逆伝播"]


def test_the_readme_links_the_glossary():
    assert "](docs/glossary.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
