"""Japanese, Chinese and Korean figure text renders with no missing glyph (warnings are errors)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gdcourse import fonts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

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


# ---------------------------------------------------------------- $...$ math and CJK words

def glyph_problems(caplog) -> list[str]:
    """mathtext's missing-glyph reports (it logs them; it does not warn)."""
    return [r.getMessage() for r in caplog.records if "glyph" in r.getMessage().lower()]


MIXED = ["残差 $r_i$", r"$J(\theta)$ の値", r"$\theta_0$ と $\theta_1$",
         r"平均 $\frac{1}{2}(1-p)^2$ のコスト"]


@pytest.mark.parametrize("label", MIXED)
def test_words_around_math_draw_with_the_course_fonts(label, caplog):
    """The course's CJK set-up (the face first) draws words next to $...$ math in one label."""
    with matplotlib.rc_context():
        assert fonts.use_language_fonts("ja") == fonts.cjk_family("ja")
        assert matplotlib.rcParams["font.family"][0] == fonts.cjk_family("ja")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            draw(label, xlabel=label)
    assert glyph_problems(caplog) == []


@pytest.mark.parametrize("label", MIXED)
def test_a_fallback_face_at_the_end_is_not_enough_for_words_around_math(label, caplog):
    """Why the face goes first: appended, mathtext never reaches it (the check above can fail)."""
    with matplotlib.rc_context({"font.family": ["sans-serif"]}):
        fonts.use_cjk_fallback("ja")
        draw(label, xlabel="x")
    assert any("does not have a glyph" in m for m in glyph_problems(caplog))


@pytest.mark.parametrize("raw, safe", [
    (r"$J(\theta) の値$", r"$J(\theta)$ の値"),
    (r"$\text{最小値 } J$", r"最小値 $J$"),
    (r"$\mathrm{学習率}\ \alpha = 0.1$", r"学習率 $\ \alpha = 0.1$"),
    (r"$勾配 \nabla J$ と $\alpha$", r"勾配 $\nabla J$ と $\alpha$"),
    (r"$の値$", "の値"),
])
def test_cjk_words_at_the_edge_of_math_are_moved_out_and_then_draw(raw, safe, caplog):
    assert fonts.cjk_in_math(raw) != ""
    assert fonts.figure_text(raw) == safe
    assert fonts.cjk_in_math(safe) == ""
    with matplotlib.rc_context():
        fonts.use_language_fonts("ja")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            draw(fonts.figure_text(raw))
        assert glyph_problems(caplog) == []
        draw(raw)          # the raw string does draw boxes: the fix above is needed
    assert glyph_problems(caplog) != []


def test_text_without_cjk_in_math_is_left_alone():
    for text in ["", "residuals", r"$J(\theta)$", "残差 $r_i$", r"cost \$5 の値",
                 r"mean of $r_i^2$ = $2J$"]:
        assert fonts.figure_text(text) == text
    assert fonts.split_math(r"a \$ b") == [(False, r"a \$ b")]
    assert fonts.split_math("残差 $r_i$ と $x$") == [
        (False, "残差 "), (True, "r_i"), (False, " と "), (True, "x")]
    assert fonts.has_cjk("値") and fonts.has_cjk("비용") and not fonts.has_cjk("θ₀ − α")


def test_cjk_in_the_middle_of_a_formula_is_refused_with_the_reason():
    with pytest.raises(fonts.FigureTextError, match=r"inside \$\.\.\.\$ \('最小'\).*outside the"):
        fonts.figure_text(r"$J_{\mathrm{最小}} = 0.24$")
    with pytest.raises(TypeError, match="text must be a str, but got int"):
        fonts.figure_text(3)


def _package_catalogues() -> list[Path]:
    return sorted((ROOT / "gdcourse").rglob("*.po"))


def cjk_math_entries(po_path) -> list[str]:
    """Translations in a catalogue that put CJK inside $...$ (they would draw as boxes)."""
    import polib

    bad = []
    for entry in polib.pofile(str(po_path)):
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            if text and fonts.cjk_in_math(text):
                bad.append(f"{po_path.name}: {entry.msgid!r} -> {text!r}")
    return bad


def test_checker_finds_cjk_inside_math_in_a_catalogue(tmp_path):
    po = tmp_path / "planted.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "value of $J$"\nmsgstr "$J$ の値"\n\n'
                  'msgid "minimum $J_{min}$"\nmsgstr "最小 $J_{最小}$"\n', encoding="utf-8")
    assert cjk_math_entries(po) == ["planted.po: 'minimum $J_{min}$' -> '最小 $J_{最小}$'"]


def test_package_catalogues_keep_cjk_outside_math():
    """Panel labels, titles and messages come from these catalogues: none may put CJK in $...$."""
    catalogues = _package_catalogues()
    if not catalogues:
        pytest.skip("the package has no message catalogue (gdcourse/**/*.po) yet")
    bad = [b for po in catalogues for b in cjk_math_entries(po)]
    assert bad == [], "CJK inside $...$ draws as boxes; move it out:\n" + "\n".join(bad)


# ---------------------------------------------------------------- the course's language

def course_folder(tmp_path, lang) -> Path:
    from gdcourse import i18n

    folder = tmp_path / "course"
    (folder / "lessons").mkdir(parents=True)
    i18n.mark_course_language(folder, lang)
    return folder


def test_active_language_comes_from_the_environment_then_the_course_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(fonts.LANG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert fonts.active_language() is None
    folder = course_folder(tmp_path, "ko")
    monkeypatch.chdir(folder / "lessons")          # a kernel's working directory
    assert fonts.active_language() == "ko"
    assert fonts.active_language(tmp_path) is None
    for value, lang in [("ja", "ja"), ("ja_JP.UTF-8", "ja"), ("ZH", "zh"), ("fr", "fr"),
                        ("en", "en"), ("de", "ko"), ("", "ko")]:
        monkeypatch.setenv(fonts.LANG_ENV, value)
        assert fonts.active_language() == lang, value


def test_english_and_french_change_no_font():
    rc = {"font.family": ["sans-serif"]}
    for lang in ("en", "fr"):
        assert fonts.use_language_fonts(lang, rc) is None
    assert rc == {"font.family": ["sans-serif"]}


def test_missing_cjk_font_warns_once_with_what_to_install(monkeypatch):
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(fonts, "_warned_missing", set())
    rc = {"font.family": ["sans-serif"]}
    with pytest.warns(UserWarning, match="boxes for the ja words.*fonts-noto-cjk"):
        assert fonts.use_language_fonts("ja", rc) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fonts.use_language_fonts("ja", rc) is None      # once only
    assert rc == {"font.family": ["sans-serif"]}


def test_plotting_uses_the_course_font_without_being_asked(tmp_path, monkeypatch, caplog):
    """In a Japanese course folder a figure from gdcourse.plotting draws Japanese text (also
    next to $...$ math) with no missing glyph, though the notebook never named a font."""
    from gdcourse import data, plotting, surfaces

    d = data.five_points()
    monkeypatch.delenv(fonts.LANG_ENV, raising=False)
    with matplotlib.rc_context({"font.family": ["sans-serif"]}):
        monkeypatch.chdir(tmp_path)
        ax = plotting.plot_data(d.x, d.y, theta=np.array([1.0, 0.5]))   # English: untouched
        plt.close(ax.get_figure())
        assert list(matplotlib.rcParams["font.family"]) == ["sans-serif"]

        monkeypatch.chdir(course_folder(tmp_path, "ja") / "lessons")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ax = plotting.plot_contour(surfaces.mse_surface(d.X, d.y))
            ax.set_title(r"コスト $J(\theta)$ の等高線")
            ax.set_xlabel("切片 θ₀")
            ax.get_figure().canvas.draw()
            plt.close(ax.get_figure())
        assert matplotlib.rcParams["font.family"][0] == fonts.cjk_family("ja")
    assert glyph_problems(caplog) == []


def test_panels_use_the_course_font_without_being_asked(monkeypatch, caplog):
    from gdcourse import data, widgets

    monkeypatch.setenv(fonts.LANG_ENV, "zh")
    with matplotlib.rc_context({"font.family": ["sans-serif"]}):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            panel = widgets.fit_panel(data.five_points())
            assert matplotlib.rcParams["font.family"][0] == fonts.cjk_family("zh")
            panel.figure.axes[0].set_title("代价函数 $J(\\theta)$ 的等高线图")
            panel._show_message(r"学习率 $\alpha$ 太大")
            png = panel.static_png()
    assert png.startswith(b"\x89PNG") and glyph_problems(caplog) == []
