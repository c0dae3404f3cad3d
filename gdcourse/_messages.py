"""What the package says, in the learner's language: gettext catalogues read at run time.

Every message a learner meets (check feedback, hints, slider labels, readouts, the ``gdcourse
check`` and ``gdcourse grade`` output) is written in English in the code, wrapped in :func:`_t`::

    _t("{name} has the wrong value (off by {diff}).", name=name, diff=f"{diff:.3g}")

The English text is the ``msgid``; numbers go in *named* placeholders (``str.format`` fields), so
a translator can move them. Text defined at import time (a mistake, a hint) is marked with
:func:`N_` and translated when it is shown, so ``set_language`` after the import still applies.

The catalogues are ``gdcourse/locale/<lang>/LC_MESSAGES/gdcourse.po`` (template:
``gdcourse/locale/gdcourse.pot``), read with polib when first needed. There is no compiled ``.mo``:
polib is already a dependency (it builds the translated notebooks), so the ``.po`` a translator
edits is the very file the package reads, and no binary copy can fall out of step with it.

The language, in order: :func:`set_language` (``gdcourse.set_language("ja")``), then the
``GDCOURSE_LANG`` environment variable (``gdcourse lab --lang``, ``check --lang`` and
``grade --lang`` set it for the kernel and the grading workers), then English. A missing, empty
or fuzzy entry, or one whose placeholders differ from the English, falls back to the English
text: a learner never sees a stale or broken translation.

``python -m gdcourse._messages extract`` rewrites the template from the source and merges it into
every catalogue (a changed English message turns its entry fuzzy, keeping the old text for the
translator); ``python -m gdcourse._messages stats`` prints ``msgfmt --statistics`` per language.
"""

from __future__ import annotations

import ast
import contextlib
import os
import string
import sys
import unicodedata
from pathlib import Path

__all__ = ["LANGUAGES", "set_language", "get_language", "_t", "N_", "catalogue_path",
           "template_path", "extract_messages", "pad", "width", "language"]

#: English (the source) and the translations, as ``--lang`` and ``GDCOURSE_LANG`` spell them
LANGUAGES = ("en", "ja", "zh", "ko", "fr")

_LOCALE = Path(__file__).resolve().parent / "locale"
_ENV = "GDCOURSE_LANG"
_chosen: str | None = None
_catalogues: dict[str, dict[str, str]] = {}


def _validate(lang, argument: str) -> str:
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise ValueError(f"{argument} must be one of {', '.join(map(repr, LANGUAGES))}, "
                         f"but got {lang!r}.")
    return lang


def set_language(lang: str | None) -> None:
    """Choose the language of the package's messages: ``"en"``, ``"ja"``, ``"zh"``, ``"ko"``,
    ``"fr"``; ``None`` goes back to ``GDCOURSE_LANG`` (or English).

    >>> import gdcourse
    >>> gdcourse.set_language("xx")
    Traceback (most recent call last):
    ...
    ValueError: lang must be one of 'en', 'ja', 'zh', 'ko', 'fr', but got 'xx'.
    """
    global _chosen
    _chosen = None if lang is None else _validate(lang, "lang")


def get_language() -> str:
    """The language messages are in now (see the module docstring for the order)."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(_ENV, "").strip()
    return _validate(env, f"the environment variable {_ENV}") if env else "en"


def catalogue_path(lang: str) -> Path:
    return _LOCALE / lang / "LC_MESSAGES" / "gdcourse.po"


def template_path() -> Path:
    return _LOCALE / "gdcourse.pot"


def placeholders(text: str) -> set[str]:
    """The named fields of a ``str.format`` text (``{name}``, ``{diff}``)."""
    try:
        return {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field}
    except ValueError:   # an unbalanced brace: no usable fields
        return {"<unbalanced braces>"}


def usable_entries(po) -> dict[str, str]:
    """msgid → msgstr for the entries a learner may see: translated, not fuzzy, not obsolete,
    with exactly the placeholders of the English."""
    table = {}
    for entry in po:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.msgstr:
            continue
        if placeholders(entry.msgstr) != placeholders(entry.msgid):
            continue
        table[entry.msgid] = entry.msgstr
    return table


def _catalogue(lang: str) -> dict[str, str]:
    if lang not in _catalogues:
        path = catalogue_path(lang)
        table = {}
        try:
            if path.is_file():
                import polib
                table = usable_entries(polib.pofile(str(path)))
        except (OSError, ImportError):   # unreadable (inside the grader's sandbox): English
            pass
        _catalogues[lang] = table
    return _catalogues[lang]


def preload() -> None:
    """Read the catalogue of ``GDCOURSE_LANG`` now (for a process that loses file access later)."""
    try:
        lang = get_language()
    except ValueError:
        return      # the error is raised where a message is wanted, not at import
    if lang != "en":
        _catalogue(lang)


def _t(msgid: str, /, **fields) -> str:
    """``msgid`` in the current language (English when there is no usable translation),
    with ``fields`` filled in by ``str.format`` when any are given."""
    lang = get_language()
    text = msgid if lang == "en" else _catalogue(lang).get(msgid, msgid)
    return text.format(**fields) if fields else text


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now (it is shown later via
    :func:`_t`)."""
    return message


def width(text: str) -> int:
    """How many terminal columns ``text`` takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    """``text`` left-aligned in ``columns`` terminal columns."""
    return text + " " * max(0, columns - width(text))


@contextlib.contextmanager
def language(lang: str | None):
    """``with language("ja"):`` messages in Japanese inside, the previous choice restored after."""
    global _chosen
    before = _chosen
    set_language(lang)
    try:
        yield
    finally:
        _chosen = before


# ---------------------------------------------------------------- the template

_MARKERS = ("_t", "N_")


def extract_messages(root: Path | None = None) -> dict[str, list[str]]:
    """Every ``_t("...")`` and ``N_("...")`` literal in the package: msgid → the files using it
    (no line numbers, so that the template changes only when a message does)."""
    root = Path(root) if root is not None else Path(__file__).resolve().parent
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if "_course" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in _MARKERS and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                where = path.relative_to(root.parent).as_posix()
                places = found.setdefault(node.args[0].value, [])
                if where not in places:
                    places.append(where)
    return found


def _pot():
    import polib
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {"Project-Id-Version": "gdcourse", "MIME-Version": "1.0",
                    "Content-Type": "text/plain; charset=UTF-8",
                    "Content-Transfer-Encoding": "8bit"}
    for msgid, where in extract_messages().items():
        flags = ["python-brace-format"] if placeholders(msgid) else []
        pot.append(polib.POEntry(msgid=msgid, msgstr="", flags=flags,
                                 occurrences=[(w, "") for w in where]))
    return pot


def _merge(po, pot):
    """``po`` brought up to date with ``pot`` (msgmerge without fuzzy matching of new ids)."""
    import polib
    old = {e.msgid: e for e in po if not e.obsolete}
    merged = polib.POFile(wrapwidth=0)
    merged.metadata = dict(po.metadata) or dict(pot.metadata)
    for entry in pot:
        keep = old.pop(entry.msgid, None)
        new = polib.POEntry(msgid=entry.msgid, msgstr=keep.msgstr if keep else "",
                            flags=list(dict.fromkeys(entry.flags + (keep.flags if keep else []))),
                            occurrences=entry.occurrences)
        merged.append(new)
    for gone in old.values():
        gone.obsolete = True
        merged.append(gone)
    return merged


def cli(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verb = argv[0] if argv else "--help"
    if verb == "extract":
        import polib
        pot = _pot()
        template_path().parent.mkdir(parents=True, exist_ok=True)
        pot.save(str(template_path()))
        for lang in LANGUAGES[1:]:
            path = catalogue_path(lang)
            po = polib.pofile(str(path)) if path.is_file() else polib.POFile(wrapwidth=0)
            if not po.metadata:
                po.metadata = {**pot.metadata, "Language": lang}
            path.parent.mkdir(parents=True, exist_ok=True)
            _merge(po, pot).save(str(path))
        print(f"{template_path()}: {len(pot)} messages")
        return 0
    if verb == "stats":
        from .i18n import statistics
        status = 0
        for lang in LANGUAGES[1:]:
            st = statistics(catalogue_path(lang))
            print(f"{lang}: {st}")
            status |= 0 if st.complete else 1
        return status
    print("usage: python -m gdcourse._messages extract|stats", file=sys.stderr)
    return 0 if verb in ("-h", "--help") else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
