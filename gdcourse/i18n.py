"""Translated notebooks built from gettext catalogues keyed by cell id.

The English notebooks are the only source. Each notebook and language has one catalogue::

    i18n/pot/lessons/01_cost_function.pot      generated: one entry per markdown cell and per
                                               code cell with comments or strings
    i18n/ja/lessons/01_cost_function.po        edited by translators (Poedit, Weblate, msgmerge)
    i18n/ja/exercises/01_cost_function.po

An entry's ``msgctxt`` is the cell id and its ``msgid`` the English markdown, so ordinary gettext
tools work on them. The steps:

* :func:`extract` — a template (``.pot``) from an English notebook;
* :func:`update` — msgmerge semantics, keyed by cell id: a cell whose English changed keeps its
  old translation but turns *fuzzy* (with the old English as ``#| msgid``); a new cell gets an
  empty entry; a removed cell's entry becomes obsolete (``#~``);
* :func:`build` — the English notebook with each markdown cell replaced by its translation (and
  each code cell, when its translation differs from the English only in strings and comments); a
  fuzzy, missing, obsolete or empty entry, or one whose ``msgid`` is not the cell's current English,
  leaves the English text: a learner never sees stale text;
* :func:`check` — a built notebook against its English source: same cells, same ids and types,
  and every code cell's token stream (Python ``tokenize``) equal once strings and comments are set
  aside (those may be translated); anything else is a difference;
* :func:`statistics` — ``msgfmt --statistics`` as numbers, for the "100 % translated" tests.

From a terminal: ``python -m gdcourse.i18n extract|update|build|check|stats`` (``--help``).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import polib

from ._notebook import cell_source, read_notebook

__all__ = ["LANGUAGES", "LANG_CHOICES", "course_language", "mark_course_language", "lab_settings_dir",
           "language_pack_installed", "extract", "update", "build", "build_notebook", "check", "statistics",
           "translated_code", "CODE_CELL_COMMENT",
           "Statistics", "catalogue_path", "template_path", "translate_course", "I18nError"]

#: the course's languages: code -> (JupyterLab locale, language-pack distribution on PyPI)
LANGUAGES = {
    "ja": ("ja_JP", "jupyterlab-language-pack-ja-JP"),
    "zh": ("zh_CN", "jupyterlab-language-pack-zh-CN"),
    "ko": ("ko_KR", "jupyterlab-language-pack-ko-KR"),
    "fr": ("fr_FR", "jupyterlab-language-pack-fr-FR"),
}

#: what ``--lang`` accepts: English (the source) and the translations
LANG_CHOICES = ("en", *LANGUAGES)

_HEADER = {
    "Project-Id-Version": "gdcourse",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
}


class I18nError(ValueError):
    """A notebook or catalogue that cannot be translated as asked."""


def template_path(i18n_dir, notebook: Path) -> Path:
    """``i18n/pot/<folder>/<name>.pot`` for ``<folder>/<name>.ipynb``."""
    notebook = Path(notebook)
    return Path(i18n_dir) / "pot" / notebook.parent.name / (notebook.stem + ".pot")


def catalogue_path(i18n_dir, lang: str, notebook: Path) -> Path:
    """``i18n/<lang>/<folder>/<name>.po`` for ``<folder>/<name>.ipynb``."""
    notebook = Path(notebook)
    return Path(i18n_dir) / lang / notebook.parent.name / (notebook.stem + ".po")


def _load_notebook(notebook) -> dict:
    if isinstance(notebook, dict):
        return notebook
    return read_notebook(notebook)


def _keyed_cells(nb: dict, where: str, kind: str, wanted, seen: set) -> list[tuple[str, str]]:
    """(cell id, source) of every ``kind`` cell whose source ``wanted`` accepts; each must carry
    an id that is not in ``seen`` (which collects them): cell ids key the catalogues."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != kind:
            continue
        cell_id, source = cell.get("id"), cell_source(cell)
        if not wanted(source):
            continue
        if not isinstance(cell_id, str) or not cell_id:
            raise I18nError(f"{where}: {kind} cell {index} has no id; cell ids key the "
                            "catalogues (nbformat 4.5 or newer)")
        if cell_id in seen:
            raise I18nError(f"{where}: cell id {cell_id!r} appears twice")
        seen.add(cell_id)
        found.append((cell_id, source))
    return found


def _markdown(nb: dict, where: str) -> list[tuple[str, str]]:
    """(cell id, source) of every markdown cell; every one must have a unique id."""
    return _keyed_cells(nb, where, "markdown", lambda source: True, set())


def extract(notebook, *, name: str | None = None) -> polib.POFile:
    """The template of a notebook, in cell order (msgctxt = cell id): one entry per non-empty
    markdown cell, and one per code cell that has a comment or a string literal (its whole source,
    see :func:`_code_cells`)."""
    where = name or str(notebook)
    nb = _load_notebook(notebook)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = dict(_HEADER)
    markdown = dict(_markdown(nb, where))
    code = dict(_code_cells(nb, where))
    for cell in nb["cells"]:
        cell_id = cell.get("id")
        if cell.get("cell_type") == "markdown" and markdown.get(cell_id, "").strip():
            pot.append(polib.POEntry(msgctxt=cell_id, msgid=markdown[cell_id], msgstr="",
                                     occurrences=[(Path(where).name, cell_id)]))
        elif cell.get("cell_type") == "code" and cell_id in code:
            pot.append(polib.POEntry(msgctxt=cell_id, msgid=code[cell_id], msgstr="",
                                     comment=CODE_CELL_COMMENT,
                                     occurrences=[(Path(where).name, cell_id)]))
    return pot


# ---------------------------------------------------------------- code cells in the catalogues
#
# A code cell is one catalogue entry holding its whole source (msgctxt = cell id), not one entry
# per string: the translator sees each string and comment in its context (a title next to the call
# that draws it), ordinary PO tools need nothing special, and "same code" is enforced by the
# token-stream check rather than by rebuilding the cell from fragments. A code edit in English
# turns the entry fuzzy like any other change; a translation whose code differs from the English
# beyond strings and comments is never used (build_notebook falls back to the English cell).

#: the extracted comment (``#.``) of a code-cell entry: what a translator may change
CODE_CELL_COMMENT = ("code cell: translate only comments and string literals that a learner "
                     "reads; keep every name, number, dictionary key and format spec (checked), "
                     "the '# exercise:' line (checked) and the '# your code here' marker")

# the line that tells the grader and self-check which exercise a cell answers
_EXERCISE_LINE = re.compile(r"^[ \t]*# exercise:.*$", re.M)


def _has_text(source: str) -> bool:
    """Whether a code cell has a comment or a string literal (something a translator may touch)."""
    text = "".join(_ipython_line(line) for line in source.splitlines(keepends=True))
    try:
        return any(tok.type in (tokenize.COMMENT, tokenize.STRING)
                   or (_FSTRING_START is not None and tok.type == _FSTRING_START)
                   for tok in tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return False


def _code_cells(nb: dict, where: str) -> list[tuple[str, str]]:
    """(cell id, source) of every code cell with a comment or string literal; each must have a
    unique id. Cells with neither have nothing to translate and get no entry."""
    return _keyed_cells(nb, where, "code", _has_text, {i for i, _ in _markdown(nb, where)})


def translated_code(entry: polib.POEntry | None, english: str) -> str | None:
    """The translated source of a code cell, or None when it must stay English: the entry is not
    current (see :func:`_usable`) or its code differs from the English beyond strings and comments."""
    if not _usable(entry, english):
        return None
    if code_tokens(entry.msgstr) != code_tokens(english):
        return None
    if _EXERCISE_LINE.findall(entry.msgstr) != _EXERCISE_LINE.findall(english):
        return None
    return entry.msgstr


def update(po: polib.POFile | None, pot: polib.POFile, *, lang: str | None = None) -> polib.POFile:
    """A catalogue brought up to date with ``pot`` (msgmerge semantics, matched by cell id).

    * same cell id, same English: the translation and its flags are kept;
    * same cell id, changed English: the old translation is kept but marked ``fuzzy``, with the
      old English as ``previous_msgid``, so a translator sees what changed;
    * a new cell: an empty entry; a cell no longer in the notebook: an obsolete entry.
    """
    old = {}
    if po is not None:
        for entry in po:
            if not entry.obsolete:
                old[entry.msgctxt] = entry
    new = polib.POFile(wrapwidth=0)
    new.metadata = dict(po.metadata) if po is not None and po.metadata else dict(_HEADER)
    if lang is not None:
        new.metadata["Language"] = lang
    for ref in pot:
        entry = polib.POEntry(msgctxt=ref.msgctxt, msgid=ref.msgid, msgstr="",
                              comment=ref.comment, occurrences=list(ref.occurrences))
        before = old.pop(ref.msgctxt, None)
        if before is not None:
            entry.msgstr = before.msgstr
            entry.tcomment = before.tcomment
            if before.msgid == ref.msgid:
                entry.flags = list(before.flags)
                entry.previous_msgid = before.previous_msgid
            elif before.msgstr:
                entry.flags = sorted(set(before.flags) | {"fuzzy"})
                entry.previous_msgid = before.msgid
        new.append(entry)
    for gone in old.values():
        gone.obsolete = True
        new.append(gone)
    return new


def _usable(entry: polib.POEntry | None, english: str) -> bool:
    return (entry is not None and not entry.obsolete and "fuzzy" not in entry.flags
            and bool(entry.msgstr) and entry.msgid == english)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def build_notebook(notebook, po: polib.POFile | None, *, lang: str | None = None) -> dict:
    """The English notebook with its markdown translated where ``po`` has a current translation."""
    nb = copy.deepcopy(_load_notebook(notebook))
    entries = {} if po is None else {e.msgctxt: e for e in po if not e.obsolete}
    for cell in nb["cells"]:
        english = cell_source(cell)
        entry = entries.get(cell.get("id"))
        if cell.get("cell_type") == "code":
            code = translated_code(entry, english)
            if code is not None:
                cell["source"] = _lines(code)
            continue
        if cell.get("cell_type") != "markdown":
            continue
        if _usable(entry, english):
            cell["source"] = _lines(entry.msgstr)
    if lang is not None:
        nb.setdefault("metadata", {}).setdefault("gdcourse", {})["lang"] = lang
    return nb


def _write_notebook(nb: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def build(notebook, po_path, out_path) -> Path:
    """Write the translated notebook of ``notebook`` to ``out_path`` (English where untranslated)."""
    po_path = Path(po_path)
    po = polib.pofile(str(po_path)) if po_path.is_file() else None
    lang = (po.metadata.get("Language") or None) if po is not None else None
    out_path = Path(out_path)
    _write_notebook(build_notebook(notebook, po, lang=lang), out_path)
    return out_path


# ---------------------------------------------------------------- the code-cell check

_SET_ASIDE = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def _ipython_line(line: str) -> str:
    """IPython's ``%magic``/``!shell`` lines are not Python; each becomes one name that spells
    the whole line (hex-encoded), so any change to it is a difference."""
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")):
        indent = line[: len(line) - len(stripped)]
        return f"{indent}__ipython_{stripped.rstrip().encode('utf-8').hex()}\n"
    return line


def code_tokens(source: str) -> list[tuple[str, str]]:
    """The token stream of a code cell with every string and comment set aside.

    Strings (f-strings whole) become one ``<str>`` token, comments and blank-line tokens are
    dropped; names, numbers, operators, newlines and indentation stay, so any change to them is a
    difference.

    >>> code_tokens("x = f(2)  # two") == code_tokens("x = f(2)  # 二")
    True
    >>> code_tokens("x = f(2)") == code_tokens("x = f(3)")
    False
    """
    text = "".join(_ipython_line(line) for line in source.splitlines(keepends=True))
    out: list[tuple[str, str]] = []
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if _FSTRING_START is not None and tok.type == _FSTRING_START:
                if depth == 0:
                    out.append(("STRING", "<str>"))
                depth += 1
                continue
            if _FSTRING_END is not None and tok.type == _FSTRING_END:
                depth -= 1
                continue
            if depth or tok.type in _SET_ASIDE:
                continue
            if tok.type == tokenize.STRING:
                out.append(("STRING", "<str>"))
            elif tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                              tokenize.ENDMARKER):
                out.append((tokenize.tok_name[tok.type], tok.string if tok.type == tokenize.INDENT
                            else ""))
            else:
                out.append((tokenize.tok_name[tok.type], tok.string))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        # not Python the tokenizer accepts: then only the exact text is "the same"
        return [("UNTOKENIZABLE", f"{type(exc).__name__}"), ("TEXT", source)]
    # a blank-line NEWLINE at the end (after a final comment) is layout, not code
    while len(out) >= 2 and out[-2] == ("NEWLINE", "") and out[-1][0] == "ENDMARKER":
        if len(out) >= 3 and out[-3] == ("NEWLINE", ""):
            out.pop(-2)
        else:
            break
    return out


def _first_difference(a: list, b: list) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"token {i}: English {x[1]!r} ({x[0]}), translated {y[1]!r} ({y[0]})"
    return f"English has {len(a)} tokens, translated {len(b)}"


def check(english, translated) -> list[str]:
    """The differences between a translated notebook and its English source (empty: none).

    Cells must match one for one in number, type and id (so markdown count and ids match);
    code cells must have the same token stream with strings and comments set aside; raw cells
    must be identical.
    """
    en = _load_notebook(english)
    tr = _load_notebook(translated)
    problems: list[str] = []
    if len(en["cells"]) != len(tr["cells"]):
        problems.append(f"English has {len(en['cells'])} cells, the translation {len(tr['cells'])}")
    en_md = [i for i, _ in _markdown(en, "English")]
    tr_md = [i for i, _ in _markdown(tr, "translation")]
    if en_md != tr_md:
        problems.append(f"markdown cell ids differ: English {en_md}, translated {tr_md}")
    for index, (a, b) in enumerate(zip(en["cells"], tr["cells"])):
        label = f"cell {index} (id {a.get('id')!r})"
        if a.get("cell_type") != b.get("cell_type") or a.get("id") != b.get("id"):
            problems.append(f"{label}: English is a {a.get('cell_type')} cell with id "
                            f"{a.get('id')!r}, the translation a {b.get('cell_type')} cell with "
                            f"id {b.get('id')!r}")
            continue
        if a["cell_type"] == "code":
            ta, tb = code_tokens(cell_source(a)), code_tokens(cell_source(b))
            if ta != tb:
                problems.append(f"{label}: code differs beyond strings and comments: "
                                f"{_first_difference(ta, tb)}")
            elif _EXERCISE_LINE.findall(cell_source(a)) != _EXERCISE_LINE.findall(cell_source(b)):
                problems.append(f"{label}: its '# exercise:' line differs from the English "
                                "(the grader reads it)")
        elif a["cell_type"] == "raw" and cell_source(a) != cell_source(b):
            problems.append(f"{label}: raw cell differs")
    return problems


# ---------------------------------------------------------------- statistics

@dataclass(frozen=True)
class Statistics:
    """What ``msgfmt --statistics`` reports, plus the total."""

    translated: int
    fuzzy: int
    untranslated: int

    @property
    def total(self) -> int:
        return self.translated + self.fuzzy + self.untranslated

    @property
    def complete(self) -> bool:
        """Every entry translated and none fuzzy (and at least one entry)."""
        return self.total > 0 and self.translated == self.total

    def __str__(self) -> str:
        return (f"{self.translated} translated messages, {self.fuzzy} fuzzy translations, "
                f"{self.untranslated} untranslated messages")


def statistics(po) -> Statistics:
    """Counts of a catalogue's live (non-obsolete) entries, as ``msgfmt --statistics`` counts them:
    a fuzzy entry is fuzzy even with a msgstr; an empty msgstr is untranslated."""
    if not isinstance(po, polib.POFile):
        po = polib.pofile(str(po))
    translated = fuzzy = untranslated = 0
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            fuzzy += 1
        elif entry.msgstr:
            translated += 1
        else:
            untranslated += 1
    return Statistics(translated, fuzzy, untranslated)


# ---------------------------------------------------------------- a whole course

def translate_course(course: Path, i18n_dir: Path, lang: str, dest: Path, *,
                     folders=("lessons", "exercises"), overwrite: bool = False) -> list[Path]:
    """Write ``dest/<folder>/*.ipynb`` for ``lang``: translated where a catalogue exists, English
    otherwise. Existing files are kept unless ``overwrite`` (a learner's work is never lost).
    Returns the notebooks written."""
    if lang not in LANGUAGES:
        raise I18nError(f"lang must be one of {', '.join(sorted(LANGUAGES))}, got {lang!r}")
    written = []
    for folder in folders:
        for nb_path in sorted((Path(course) / folder).glob("*.ipynb")):
            target = Path(dest) / folder / nb_path.name
            if target.exists() and not overwrite:
                continue
            build(nb_path, catalogue_path(i18n_dir, lang, nb_path), target)
            written.append(target)
    return written


# ---------------------------------------------------------------- a learner's folder

_STATE = ".gdcourse"           # hidden from JupyterLab's file browser
_TRANSLATION_PLUGIN = ("@jupyterlab", "translation-extension", "plugin.jupyterlab-settings")


def course_language(folder) -> str | None:
    """The language a course folder was built in by ``gdcourse new --lang`` (None: not recorded)."""
    marker = Path(folder) / _STATE / "lang"
    try:
        lang = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return lang if lang in LANG_CHOICES else None


def mark_course_language(folder, lang: str) -> None:
    """Record that ``folder``'s notebooks are in ``lang``."""
    state = Path(folder) / _STATE
    state.mkdir(parents=True, exist_ok=True)
    (state / "lang").write_text(lang + "\n", encoding="utf-8")


def lab_settings_dir(folder, lang: str, *, seed_from=None) -> Path:
    """A JupyterLab user-settings folder of the course's own, whose interface language is ``lang``.

    It lives in ``folder/.gdcourse/lab-user-settings`` and is passed to JupyterLab as
    ``--LabApp.user_settings_dir``, so the learner's global settings are never rewritten. The first
    time, it starts as a copy of ``seed_from`` (the learner's own user settings, so their theme and
    shortcuts carry over); every call then sets the translation plugin's ``locale``.
    """
    if lang not in LANG_CHOICES:
        raise I18nError(f"lang must be one of {', '.join(LANG_CHOICES)}, got {lang!r}")
    settings = Path(folder) / _STATE / "lab-user-settings"
    if not settings.exists() and seed_from is not None and Path(seed_from).is_dir():
        import shutil
        shutil.copytree(seed_from, settings, symlinks=False, dirs_exist_ok=True)
    plugin = settings.joinpath(*_TRANSLATION_PLUGIN)
    plugin.parent.mkdir(parents=True, exist_ok=True)
    current = {}
    if plugin.is_file():
        try:
            current = json.loads(plugin.read_text(encoding="utf-8"))
        except ValueError:     # JSON5 with comments, or damaged: start the file afresh
            current = {}
        if not isinstance(current, dict):
            current = {}
    current["locale"] = "en" if lang == "en" else LANGUAGES[lang][0]
    plugin.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return settings


def language_pack_installed(lang: str) -> bool:
    """Whether JupyterLab's language pack for ``lang`` is installed (English needs none)."""
    if lang == "en":
        return True
    from importlib import metadata
    try:
        metadata.distribution(LANGUAGES[lang][1])
    except metadata.PackageNotFoundError:
        return False
    return True


# ---------------------------------------------------------------- command line

def _cli_notebooks(paths) -> list[Path]:
    found = []
    for p in map(Path, paths):
        found.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return found


def cli(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gdcourse.i18n",
                                     description="gettext catalogues for the course notebooks")
    parser.add_argument("--i18n", default="i18n", help="the catalogue folder (default: i18n)")
    sub = parser.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("extract", help="write i18n/pot/<folder>/<name>.pot for each notebook")
    p.add_argument("notebooks", nargs="+")
    p = sub.add_parser("update", help="create or update i18n/<lang>/… from the templates (msgmerge)")
    p.add_argument("lang")
    p.add_argument("notebooks", nargs="+")
    p = sub.add_parser("build", help="write the translated notebooks into OUT/<folder>/")
    p.add_argument("lang")
    p.add_argument("out")
    p.add_argument("notebooks", nargs="+")
    p = sub.add_parser("check", help="compare translated notebooks with their English sources")
    p.add_argument("translated_dir", help="folder holding <folder>/<name>.ipynb")
    p.add_argument("notebooks", nargs="+")
    p = sub.add_parser("stats", help="msgfmt --statistics for each catalogue of a language")
    p.add_argument("lang")
    args = parser.parse_args(argv)
    i18n = Path(args.i18n)
    if args.verb == "stats":
        status = 0
        for po_path in sorted((i18n / args.lang).rglob("*.po")):
            st = statistics(po_path)
            print(f"{po_path}: {st}")
            status |= 0 if st.complete else 1
        return status
    notebooks = _cli_notebooks(args.notebooks)
    status = 0
    for nb in notebooks:
        if args.verb == "extract":
            out = template_path(i18n, nb)
            out.parent.mkdir(parents=True, exist_ok=True)
            extract(nb, name=f"{nb.parent.name}/{nb.name}").save(str(out))
            print(out)
        elif args.verb == "update":
            pot = extract(nb, name=f"{nb.parent.name}/{nb.name}")
            po_path = catalogue_path(i18n, args.lang, nb)
            old = polib.pofile(str(po_path)) if po_path.is_file() else None
            po_path.parent.mkdir(parents=True, exist_ok=True)
            new = update(old, pot, lang=args.lang)
            new.save(str(po_path))
            print(f"{po_path}: {statistics(new)}")
        elif args.verb == "build":
            print(build(nb, catalogue_path(i18n, args.lang, nb),
                        Path(args.out) / nb.parent.name / nb.name))
        elif args.verb == "check":
            translated = Path(args.translated_dir) / nb.parent.name / nb.name
            problems = check(nb, translated)
            for line in problems:
                print(f"{translated}: {line}")
            status |= 1 if problems else 0
    if args.verb == "check" and not status:
        print("check: ok")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
