"""Japanese, Chinese and Korean figure text renders with no missing glyph (warnings are errors)."""

from __future__ import annotations

import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gdcourse import fonts  # noqa: E402

TITLES = {"ja": "コスト関数 J(θ) の等高線（学習率 α = 0.1）",
          "zh": "代价函数 J(θ) 的等高线图",
          "ko": "비용 함수 J(θ)의 등고선"}


def draw(title: str, xlabel: str = "θ₀ と θ₁") -> None:
    fig, ax = plt.subplots()
    try:
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.plot([0, 1], [1, 0], label="勾配降下法")
        ax.legend()
        fig.canvas.draw()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("lang", sorted(TITLES))
def test_cjk_text_draws_without_missing_glyphs(lang, caplog):
    with matplotlib.rc_context():
        assert fonts.use_cjk_fallback(lang).startswith("Noto Sans CJK")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            draw(TITLES[lang])
    # mathtext reports its missing glyphs through logging, not warnings: none either
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []


@pytest.mark.xfail(strict=True, reason="mathtext renders the text around $...$ with its own math "
                   "fonts, which have no CJK glyphs: keep CJK words out of strings with $...$")
def test_cjk_words_inside_a_mathtext_string_are_not_supported(caplog):
    with matplotlib.rc_context():
        fonts.use_cjk_fallback("ja")
        draw(TITLES["ja"], xlabel=r"$\theta_0$ と $\theta_1$")
    assert [r.getMessage() for r in caplog.records if "glyph" in r.getMessage()] == []


def test_without_the_fallback_matplotlib_does_warn():
    """The check above can fail: DejaVu Sans alone lacks the glyphs and says so."""
    with matplotlib.rc_context({"font.family": ["sans-serif"], "font.sans-serif": ["DejaVu Sans"]}):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(UserWarning, match="missing from font"):
                draw(TITLES["ja"])


def test_fallback_is_appended_once_and_keeps_latin_first():
    rc = {"font.family": ["sans-serif", "Arial"]}
    family = fonts.use_cjk_fallback("ja", rc)
    fonts.use_cjk_fallback("ja", rc)
    assert rc["font.family"] == ["sans-serif", "Arial", family]
    rc = {"font.family": "serif"}
    korean = fonts.use_cjk_fallback("ko", rc)
    assert korean == fonts.cjk_family("ko") and rc["font.family"] == ["serif", korean]


def test_bad_language_and_missing_font_are_explained(monkeypatch):
    with pytest.raises(ValueError, match="lang must be one of ja, zh, ko, got 'fr'"):
        fonts.cjk_family("fr")
    from matplotlib import font_manager
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    with pytest.raises(fonts.FontNotFound, match="fonts-noto-cjk"):
        fonts.cjk_family("ja")
