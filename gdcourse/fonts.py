"""Figure text in Japanese, Chinese and Korean without missing glyphs.

matplotlib's default font (DejaVu Sans) has no CJK glyphs: a Japanese title draws as boxes and
matplotlib warns ``Glyph ... missing from font(s) DejaVu Sans``. :func:`use_cjk_fallback` appends
a Noto Sans CJK face to ``font.family``; since matplotlib 3.6 every family listed there is a
fallback (a generic name such as ``sans-serif`` counts as its first installed face), so Latin
text keeps DejaVu Sans and only CJK characters come from Noto.

``$…$`` math is the exception: mathtext has no font fallback. The words around the math in one
label ("残差 $r_i$") are drawn with the *first* face of ``font.family`` only, and the math itself
with the math fonts, which have no CJK at all. So the course, in a CJK language, puts the Noto face
first (:func:`use_language_fonts`, called by gdcourse.plotting and the panels for the
:func:`active_language`), and figure text built from translations goes through
:func:`figure_text`, which moves CJK words out of ``$…$`` or says why it cannot.

The font comes from Debian's ``fonts-noto-cjk`` package (``apt-get install fonts-noto-cjk``; the
same package the browser uses). No well-kept PyPI package ships one font for all three scripts:
``matplotlib-fontja`` is Japanese only, ``koreanize-matplotlib`` Korean only.
"""

from __future__ import annotations

import os
import re
import warnings

__all__ = ["CJK_FAMILIES", "cjk_family", "use_cjk_fallback", "FontNotFound", "LANG_ENV",
           "active_language", "use_language_fonts", "has_cjk", "split_math", "cjk_in_math",
           "figure_text", "FigureTextError"]

#: the Noto Sans CJK face whose glyph shapes follow each language's conventions
CJK_FAMILIES = {"ja": "Noto Sans CJK JP", "zh": "Noto Sans CJK SC", "ko": "Noto Sans CJK KR"}


class FontNotFound(LookupError):
    """No CJK font that matplotlib can use is installed."""


def cjk_family(lang: str = "ja") -> str:
    """The installed Noto Sans CJK family for ``lang``, or FontNotFound saying what to install."""
    if lang not in CJK_FAMILIES:
        raise ValueError(f"lang must be one of {', '.join(CJK_FAMILIES)}, got {lang!r}")
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    wanted = CJK_FAMILIES[lang]
    if wanted in installed:
        return wanted
    for other in CJK_FAMILIES.values():   # any Noto CJK face covers all three scripts
        if other in installed:
            return other
    raise FontNotFound(
        f"no Noto Sans CJK font for matplotlib (wanted {wanted!r}); install Debian's "
        "fonts-noto-cjk (sudo apt-get install fonts-noto-cjk), then remove matplotlib's font "
        "cache (~/.cache/matplotlib/fontlist-*.json) so it is found")


def use_cjk_fallback(lang: str = "ja", rc=None, *, first: bool = False) -> str:
    """Append the CJK face to ``font.family`` in ``rc`` (default: matplotlib.rcParams) and
    return its name. Idempotent; the families already there stay first. With ``first=True`` the
    CJK face goes before them instead (see :func:`use_language_fonts` for why)."""
    import matplotlib

    family = cjk_family(lang)
    rc = matplotlib.rcParams if rc is None else rc
    current = rc["font.family"]
    current = [current] if isinstance(current, str) else list(current)
    others = [f for f in current if f != family]
    rc["font.family"] = [family] + others if first else others + [family]
    return family


# ---------------------------------------------------------------- the course's language

#: the environment variable that chooses the course language (as ``--lang`` does)
LANG_ENV = "GDCOURSE_LANG"


def active_language(start=None) -> str | None:
    """The language the course speaks here: the one :func:`gdcourse.set_language` chose, else
    ``$GDCOURSE_LANG`` when it names one (``ja``,
    ``ja_JP.UTF-8``), else the language recorded in the course folder around ``start`` (default:
    the working directory, which for a kernel is the notebook's folder): ``gdcourse new --lang``,
    ``gdcourse lab --lang`` and ``gdcourse hub --lang`` write ``.gdcourse/lang`` there. None when
    neither says."""
    from pathlib import Path

    from . import _messages, i18n

    if _messages._chosen is not None:   # gdcourse.set_language("ja") speaks for the messages and figures
        return None if _messages._chosen == "en" else _messages._chosen
    raw = os.environ.get(LANG_ENV, "").strip().lower()
    code = re.split(r"[_.@-]", raw, maxsplit=1)[0] if raw else ""
    if code in i18n.LANG_CHOICES:
        return code
    try:
        here = Path(start if start is not None else os.getcwd()).resolve()
    except OSError:      # the working directory was removed
        return None
    for folder in (here, *here.parents):
        lang = i18n.course_language(folder)
        if lang is not None:
            return lang
    return None


_warned_missing = set()


def use_language_fonts(lang=None, rc=None) -> str | None:
    """Make figure text in ``lang`` (default: :func:`active_language`) draw without missing glyphs.

    For Japanese, Chinese and Korean the Noto Sans CJK face goes *first* in ``font.family``
    (``use_cjk_fallback(first=True)``): a label that mixes words and ``$…$`` math is drawn by
    mathtext, which uses only the first face for the words around the math, with no fallback,
    so a fallback face at the end would leave "残差 $r_i$" with boxes. Latin text then uses Noto's
    Latin letters; characters Noto lacks (``θ₀``'s subscript) still come from the faces after it.
    Returns the CJK family, or None when the language needs none. When no CJK font is installed
    it warns once, saying what to install, and changes nothing.

    gdcourse.plotting and the panels call this before they make a figure, so a notebook never
    has to.
    """
    lang = active_language() if lang is None else lang
    if lang not in CJK_FAMILIES:
        return None
    try:
        return use_cjk_fallback(lang, rc, first=True)
    except FontNotFound as exc:
        if lang not in _warned_missing:
            _warned_missing.add(lang)
            warnings.warn(f"figures in {lang!r} will show boxes for the {lang} words: {exc}",
                          UserWarning, stacklevel=2)
        return None


# ---------------------------------------------------------------- CJK and $…$ math

#: Hiragana, Katakana, CJK ideographs, Hangul, CJK punctuation and full-width forms
_CJK_CHARS = ("\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u318f\u31a0-\u31ff"
              "\u3200-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f"
              "\uff00-\uffef")
_CJK = re.compile(f"[{_CJK_CHARS}]")
# a run of CJK (with spaces inside), bare or as the whole argument of \text{} / \mathrm{} ...
_RUN = f"[{_CJK_CHARS}](?:[{_CJK_CHARS}\\s]*[{_CJK_CHARS}])?"
_WRAPPED = rf"(?:\\(?:text|math(?:rm|it|bf|sf|tt|default|normal))\s*\{{\s*({_RUN})\s*\}}|({_RUN}))"
_LEADING = re.compile(rf"^\s*{_WRAPPED}\s*")
_TRAILING = re.compile(rf"\s*{_WRAPPED}\s*$")


class FigureTextError(ValueError):
    """Figure text puts CJK characters inside ``$…$`` where they cannot be moved out."""


def has_cjk(text: str) -> bool:
    """Whether ``text`` has a Japanese, Chinese or Korean character."""
    return bool(_CJK.search(text))


def split_math(text: str) -> list[tuple[bool, str]]:
    """``text`` as matplotlib reads it: ``(is_math, piece)`` pairs, in order. A string is math
    only when it has an even, non-zero number of unescaped ``$`` (matplotlib's rule); ``\\$``
    is a literal dollar and stays in its piece."""
    from matplotlib import cbook

    if not cbook.is_math_text(text):
        return [(False, text)]
    pieces, current, math = [], [], False
    i = 0
    while i < len(text):
        if text.startswith(r"\$", i):
            current.append(r"\$")
            i += 2
            continue
        if text[i] == "$":
            pieces.append((math, "".join(current)))
            current, math = [], not math
        else:
            current.append(text[i])
        i += 1
    pieces.append((math, "".join(current)))
    return [(m, p) for m, p in pieces if p or m]


def cjk_in_math(text: str) -> str:
    """The CJK characters that ``text`` puts inside ``$…$`` (empty: none)."""
    return "".join(c for math, piece in split_math(text) if math for c in _CJK.findall(piece))


def figure_text(text: str) -> str:
    """``text`` with its CJK words kept outside ``$…$``, ready for a title, label or legend.

    matplotlib's math fonts have no CJK glyphs (and mathtext has no font fallback), so a CJK word
    inside math draws as a box. Words at the start or end of a math piece, bare or in
    ``\\text{}``/``\\mathrm{}``, are moved out of it: ``"$J(\\theta)$ の値"`` stays as it is,
    ``"$J(\\theta) の値$"`` becomes ``"$J(\\theta)$ の値"``, ``"$\\text{最小値 } J$"`` becomes
    ``"最小値 $J$"``. A CJK word in the middle of a formula (``"$J_{最小}$"``) cannot be moved:
    FigureTextError says so. Text without math, or without CJK in its math, comes back unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, but got {type(text).__name__}: {text!r}.")
    if not cjk_in_math(text):
        return text
    out = []
    for math, piece in split_math(text):
        if not math:
            out.append(piece)
            continue
        before, after = [], []
        while True:
            m = _LEADING.match(piece)
            if m and m.end() > 0 and (m.group(1) or m.group(2)):
                before.append(m.group(1) or m.group(2))
                piece = piece[m.end():]
                continue
            m = _TRAILING.search(piece)
            if m and (m.group(1) or m.group(2)):
                after.insert(0, m.group(1) or m.group(2))
                piece = piece[:m.start()]
                continue
            break
        stuck = "".join(_CJK.findall(piece))
        if stuck:
            raise FigureTextError(
                f"figure text {text!r} has CJK characters inside $...$ ({stuck!r}) in the middle "
                "of a formula: matplotlib's math fonts have no CJK glyphs, so they would draw as "
                "boxes. Put the words outside the $...$, e.g. '$J(\\theta)$ の値'.")
        if before:
            out.append(" ".join(before) + (" " if piece.strip() else ""))
        if piece.strip():
            out.append(f"${piece.strip()}$")
        if after:
            out.append((" " if piece.strip() else "") + " ".join(after))
    joined = "".join(out)
    return re.sub(r"(?<=\S) {2,}(?=\S)", " ", joined)
