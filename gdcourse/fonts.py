"""Figure text in Japanese, Chinese and Korean without missing glyphs.

matplotlib's default font (DejaVu Sans) has no CJK glyphs: a Japanese title draws as boxes and
matplotlib warns ``Glyph ... missing from font(s) DejaVu Sans``. :func:`use_cjk_fallback` appends
a Noto Sans CJK face to ``font.family``; since matplotlib 3.6 every family listed there is a
fallback (a generic name such as ``sans-serif`` counts as its first installed face), so Latin
text keeps DejaVu Sans and only CJK characters come from Noto.

The font comes from Debian's ``fonts-noto-cjk`` package (``apt-get install fonts-noto-cjk``; the
same package the browser uses). No well-kept PyPI package ships one font for all three scripts:
``matplotlib-fontja`` is Japanese only, ``koreanize-matplotlib`` Korean only.
"""

from __future__ import annotations

__all__ = ["CJK_FAMILIES", "cjk_family", "use_cjk_fallback", "FontNotFound"]

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


def use_cjk_fallback(lang: str = "ja", rc=None) -> str:
    """Append the CJK face to ``font.family`` in ``rc`` (default: matplotlib.rcParams) and
    return its name. Idempotent; the families already there stay first."""
    import matplotlib

    family = cjk_family(lang)
    rc = matplotlib.rcParams if rc is None else rc
    current = rc["font.family"]
    current = [current] if isinstance(current, str) else list(current)
    rc["font.family"] = [f for f in current if f != family] + [family]
    return family
