"""What the package says, in Japanese, Chinese, Korean and French (gdcourse/locale/).

The catalogues are complete and current (every wrapped English message is in the template and
translated, none fuzzy), a wrong lesson-1 answer gets its named mistake in the learner's language
through ``set_language``, ``GDCOURSE_LANG``, ``gdcourse check --lang`` and ``gdcourse grade
--lang``, the gradebook's status column stays in English, and a bad language is a clear error.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polib
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import submissions as subs  # noqa: E402

import gdcourse  # noqa: E402
from gdcourse import _messages, grading, selfcheck  # noqa: E402
from gdcourse.exercises import lesson01  # noqa: E402
from gdcourse.i18n import statistics  # noqa: E402

TRANSLATED = [lang for lang in _messages.LANGUAGES if lang != "en"]

#: the named mistake "no ½" of lesson01.compute_cost, as each language's catalogue words it
NO_HALF = {
    "en": "the ½ is missing: J = 1/(2m)·Σ(Xθ − y)²",
    "ja": "½ が抜けています。J = 1/(2m)·Σ(Xθ − y)² ですが",
    "zh": "漏掉了 ½：J = 1/(2m)·Σ(Xθ − y)²",
    "ko": "½이 빠졌습니다. J = 1/(2m)·Σ(Xθ − y)²인데",
    "fr": "il manque le ½ : J = 1/(2m)·Σ(Xθ − y)²",
}
#: how "(input: ...)" begins in each language
INPUT = {"en": "(input: theta=array of shape (2,)", "ja": "（入力: theta=形 (2,) の配列",
         "zh": "（输入：theta=形状为 (2,) 的数组", "ko": "(입력: theta=모양이 (2,)인 배열",
         "fr": "(entrée : theta=tableau de forme (2,)"}


def _no_half(theta, X, y):
    return float(np.mean((X @ theta - y) ** 2))


@pytest.fixture(autouse=True)
def english_by_default(monkeypatch):
    """Every test starts in English, with no GDCOURSE_LANG, and leaves no language behind."""
    monkeypatch.delenv("GDCOURSE_LANG", raising=False)
    gdcourse.set_language(None)
    yield
    gdcourse.set_language(None)


def _pot() -> polib.POFile:
    return polib.pofile(str(_messages.template_path()))


# ---------------------------------------------------------------- the catalogues


def test_template_holds_exactly_the_messages_the_source_wraps():
    # a new or changed English message must be extracted (python -m gdcourse._messages extract)
    # before it ships, and then it fails the completeness test below until it is translated
    in_source = set(_messages.extract_messages())
    in_template = {e.msgid for e in _pot() if not e.obsolete}
    assert in_source - in_template == set(), "run: python -m gdcourse._messages extract"
    assert in_template - in_source == set(), "run: python -m gdcourse._messages extract"
    assert len(in_source) > 100   # lesson 1, the shared core, check and grade


def test_extraction_sees_a_new_message(tmp_path):
    # the extraction check can fail: a module with one more wrapped message is noticed
    package = tmp_path / "gdcourse"
    package.mkdir()
    (package / "new.py").write_text('from ._messages import _t, N_\n'
                                    'A = N_("a brand-new mistake")\n'
                                    'def f(n):\n    return _t("{n} new things", n=n)\n',
                                    encoding="utf-8")
    found = _messages.extract_messages(package)
    assert set(found) == {"a brand-new mistake", "{n} new things"}
    assert "a brand-new mistake" not in {e.msgid for e in _pot()}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_is_complete_current_and_never_fuzzy(lang):
    po = polib.pofile(str(_messages.catalogue_path(lang)))
    st = statistics(po)
    assert st.fuzzy == 0 and st.untranslated == 0, str(st)
    assert st.complete
    live = {e.msgid for e in po if not e.obsolete}
    assert live == {e.msgid for e in _pot()}
    # every translation is usable: the same named placeholders as the English, so a learner
    # never gets the English fallback (or a crash) from a slip in a catalogue
    assert set(_messages.usable_entries(po)) == live
    assert po.metadata.get("Language") == lang


@pytest.mark.parametrize("lang", TRANSLATED)
def test_msgfmt_accepts_the_catalogue(lang):
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    run = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null",
                          str(_messages.catalogue_path(lang))],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "fuzzy" not in run.stderr and "untranslated" not in run.stderr
    assert f"{len(_pot())} translated messages" in run.stderr


def test_extract_reproduces_the_committed_catalogues_byte_for_byte(capsys):
    # the sync check: regenerating the template and merging it into every catalogue changes
    # nothing, so what is committed is what the source says (and in the tools' own format)
    files = [_messages.template_path()] + [_messages.catalogue_path(lang) for lang in TRANSLATED]
    before = {path: path.read_bytes() for path in files}
    try:
        assert _messages.cli(["extract"]) == 0
        changed = [str(path) for path in files if path.read_bytes() != before[path]]
    finally:
        for path, data in before.items():
            path.write_bytes(data)
    assert changed == []
    assert _messages.cli(["stats"]) == 0
    out = capsys.readouterr().out
    assert f"ja: {len(_pot())} translated messages, 0 fuzzy translations" in out
    assert _messages.cli(["frobnicate"]) == 2


def test_fuzzy_missing_and_broken_entries_fall_back_to_english():
    po = polib.POFile()
    po.append(polib.POEntry(msgid="good {n}", msgstr="bon {n}"))
    po.append(polib.POEntry(msgid="stale {n}", msgstr="périmé {n}", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="empty", msgstr=""))
    po.append(polib.POEntry(msgid="renamed {n}", msgstr="renommé {count}"))
    old = polib.POEntry(msgid="gone", msgstr="parti")
    old.obsolete = True
    po.append(old)
    assert _messages.usable_entries(po) == {"good {n}": "bon {n}"}


def test_a_message_without_a_translation_stays_english():
    gdcourse.set_language("ja")
    assert _messages._t("no catalogue has this {n}", n=3) == "no catalogue has this 3"


# ---------------------------------------------------------------- choosing the language


def test_set_language_with_a_bad_value_names_the_argument_the_choices_and_the_value():
    with pytest.raises(ValueError) as info:
        gdcourse.set_language("jp")
    text = str(info.value)
    assert text.startswith("lang must be one of")
    assert all(repr(lang) in text for lang in _messages.LANGUAGES)
    assert "but got 'jp'" in text
    with pytest.raises(ValueError, match="but got 3"):
        gdcourse.set_language(3)


def test_a_bad_environment_variable_is_named_in_the_error(monkeypatch):
    monkeypatch.setenv("GDCOURSE_LANG", "klingon")
    with pytest.raises(ValueError, match="the environment variable GDCOURSE_LANG must be one of "
                                         r"'en', .*but got 'klingon'"):
        lesson01.compute_cost.evaluate(_no_half)


def test_set_language_wins_over_the_environment_and_none_goes_back(monkeypatch):
    monkeypatch.setenv("GDCOURSE_LANG", "fr")
    assert gdcourse.get_language() == "fr"
    gdcourse.set_language("ko")
    assert gdcourse.get_language() == "ko"
    gdcourse.set_language(None)
    assert gdcourse.get_language() == "fr"
    with _messages.language("ja"):
        assert gdcourse.get_language() == "ja"
    assert gdcourse.get_language() == "fr"


@pytest.mark.parametrize("lang", _messages.LANGUAGES)
def test_a_wrong_answer_gets_its_named_mistake_in_the_learners_language(lang, monkeypatch):
    monkeypatch.setenv("GDCOURSE_LANG", lang)
    result = lesson01.compute_cost.evaluate(_no_half)
    assert result.status == "incorrect"
    assert result.message.startswith(NO_HALF[lang]), result.message
    assert INPUT[lang] in result.message
    with pytest.raises(AssertionError) as info:
        lesson01.compute_cost.check(_no_half)
    assert NO_HALF[lang] in str(info.value)


def test_english_feedback_is_unchanged_by_the_message_layer():
    # the exact English line, as the exercise tests have always seen it
    assert lesson01.predict.evaluate(lambda theta, X: (X @ theta)[:3]).message == (
        "your result should have shape (5,), but got shape (3,) "
        "(input: theta=array of shape (2,), X=array of shape (5, 2))")


@pytest.mark.parametrize("lang,fragment", [
    ("ja", "戻り値の形は (5,) のはずですが、(3,) になっています（入力:"),
    ("zh", "你的返回值的形状应该是 (5,)，但实际是 (3,)（输入："),
    ("ko", "반환값의 모양은 (5,)이어야 하는데, (3,)입니다 (입력:"),
    ("fr", "votre résultat devrait avoir la forme (5,), mais sa forme est (3,) (entrée :"),
])
def test_shared_core_messages_are_translated_with_their_numbers(lang, fragment):
    gdcourse.set_language(lang)
    message = lesson01.predict.evaluate(lambda theta, X: (X @ theta)[:3]).message
    assert fragment in message, message


def test_status_hints_and_success_lines_follow_the_language(capsys):
    gdcourse.set_language("ja")
    stub = lesson01.predict.evaluate(lambda theta, X: (_ for _ in ()).throw(NotImplementedError))
    assert stub.status == "not_attempted"
    assert stub.message.startswith("まだ取り組んでいません。")
    hint = str(lesson01.compute_cost.hint(1))
    assert hint.startswith("**ヒント 1/2**（次のヒントは `.hint(2)`）: まず残差")
    lesson01.predict.check(lambda theta, X: X @ theta)
    assert capsys.readouterr().out == "✓ lesson01.predict: 正解です。よくできました！\n"
    gdcourse.set_language("fr")
    assert str(lesson01.predict.hint(2)).startswith("**Indice 2/2** : Toutes les lignes")


def test_an_input_changed_in_place_is_explained_in_korean():
    def changes_theta(theta, X):
        theta *= 2
        return X @ theta
    gdcourse.set_language("ko")
    message = lesson01.predict.evaluate(changes_theta).message
    assert message.startswith("함수가 theta의 값을 제자리에서 바꿨습니다(최대 "), message


# ---------------------------------------------------------------- panels


def test_lesson1_sliders_and_readouts_in_japanese(monkeypatch):
    # the figure's Japanese text draws with no missing glyph: matplotlib's warning about one is
    # an error under this suite's filterwarnings, so the panel must have set up the CJK font
    import matplotlib
    from gdcourse import data, fonts, widgets
    try:
        fonts.cjk_family("ja")
    except fonts.FontNotFound as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("GDCOURSE_HEADLESS", "1")
    monkeypatch.setattr(matplotlib, "rcParams", matplotlib.rcParams.copy())
    gdcourse.set_language("ja")
    fit = widgets.fit_panel(data.five_points())
    assert fit.figure.axes[1].get_xlabel() == "θ₀（切片）"
    assert fit.static_png().startswith(b"\x89PNG")
    assert fit.controls["theta0"].description == "θ₀（切片）"
    assert fit.controls["theta1"].description == "θ₁（傾き）"
    assert "（★ θ* では " in fit.readouts["cost"]
    ce = widgets.cross_entropy_panel()
    assert ce.controls["weight"].description == "重み w"
    ce.set(weight=-5.0, bias=0.0)
    assert ce.message.startswith("自信満々に間違えています。")
    assert "（傾き " in ce.readouts["cost"]
    assert ce.static_png().startswith(b"\x89PNG")


# ---------------------------------------------------------------- gdcourse check and grade


def test_gdcourse_check_in_japanese_names_the_mistake_and_translates_the_table(tmp_path, capsys):
    answers = {"predict": subs.PREDICT, "compute_cost": subs.COST_NO_HALF,
               "cost_grid": subs.STUB["cost_grid"]}
    path = subs.write(subs.lesson01_notebook(answers), tmp_path / "01_cost.ipynb")
    assert selfcheck.cli([str(path), "--lang", "ja"]) == 1
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if "lesson01." in line}
    assert "✓ 正解" in lines["lesson01.predict"]
    assert "✗ 不正解" in lines["lesson01.compute_cost"]
    assert NO_HALF["ja"] in lines["lesson01.compute_cost"]
    assert "○ 未着手" in lines["lesson01.cost_grid"]
    assert "得点: 1/3" in out
    # the feedback column lines up in a terminal, where a CJK character takes two columns
    header = next(line for line in out.splitlines() if "フィードバック" in line)
    columns = {_messages.width(header[: header.index("フィードバック")])}
    for status, line in zip(("✓ 正解", "✗ 不正解", "○ 未着手"), lines.values()):
        end = line.index(status) + len(status)
        gap = len(line[end:]) - len(line[end:].lstrip(" "))
        columns.add(_messages.width(line[:end]) + gap)
    assert len(columns) == 1, out
    assert gdcourse.get_language() == "en"      # the command left no language behind


def test_gdcourse_check_refuses_an_unknown_language(tmp_path, capsys):
    with pytest.raises(SystemExit):
        selfcheck.cli(["--lang", "de", str(tmp_path / "x.ipynb")])
    assert "invalid choice: 'de'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def graded_in_japanese(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    subs.write(subs.lesson01_notebook({**subs.CORRECT, "compute_cost": subs.COST_NO_HALF}),
               folder / "no_half.ipynb")
    subs.write(subs.lesson01_notebook({"predict": "predictor = 3\n"}), folder / "no_def.ipynb")
    out = folder.parent / "grades.csv"
    code = grading.cli([str(folder), "--out", str(out), "--seed", "7", "--timeout", "5",
                        "--lang", "ja", "--jobs", "2"])
    with open(out, newline="", encoding="utf-8") as fh:
        rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(fh)}
    return code, rows


def test_grade_csv_keeps_english_statuses_and_translates_the_messages(graded_in_japanese):
    code, rows = graded_in_japanese
    assert code == 0
    assert {r["status"] for r in rows.values()} == {"correct", "incorrect", "missing", "error"}
    no_half = rows[("no_half", "lesson01.compute_cost")]
    assert no_half["status"] == "incorrect"
    assert no_half["message"].startswith(NO_HALF["ja"])
    assert rows[("no_half", "lesson01.predict")]["status"] == "correct"
    assert rows[("no_half", "lesson01.predict")]["message"] == "正解です。よくできました！"
    missing = rows[("no_def", "lesson01.compute_cost")]
    assert missing["status"] == "missing"
    assert missing["message"].startswith("ID が lesson01.compute_cost の解答セルがありません")
    # a message written inside the sandboxed child, which cannot read the package folder
    not_defined = rows[("no_def", "lesson01.predict")]
    assert not_defined["status"] == "error"
    assert not_defined["message"] == ("解答セルを実行できませんでした: 見つかりません: "
                                      "解答セルで `predict` が定義されていません")


def test_grade_summary_is_translated(graded_in_japanese, capsys):
    rows = [grading.GradeRow("a", "lesson01.predict", 1.0, 1.0, "correct", "", "", ""),
            grading.GradeRow("b", "lesson01.predict", 0.0, 1.0, "incorrect", "", "flag", "")]
    english = grading._summary(rows)
    assert english.splitlines()[0] == "exercise          correct  mean points  statuses"
    with _messages.language("ja"):
        japanese = grading._summary(rows)
    head, line = japanese.splitlines()[:2]
    assert head.split() == ["演習", "正解", "平均点", "状態"]
    assert "correct 1, incorrect 1" in line          # the CSV's own status words
    assert "1 件の解答に確認の印が付いています" in japanese
    # a wider title widens its column: the statuses sit where the English layout puts them
    # (whose "mean points" title is one column wider than the figures under it)
    eng_head, eng_line = english.splitlines()[:2]
    offset = eng_head.index("statuses") - eng_line.index("correct 1")
    assert _messages.width(head[: head.index("状態")]) - line.index("correct 1") == offset


def test_gdcourse_lab_with_a_language_starts_jupyterlab_with_gdcourse_lang(tmp_path, monkeypatch):
    # JupyterLab's kernels inherit its environment: the learner's checks and panels then speak
    # the course's language with no call to set_language in the notebook
    import argparse

    from gdcourse import cli
    started = []
    monkeypatch.setattr(cli, "_LAB_ENV", {})
    monkeypatch.setattr(cli, "_exec", lambda cmd: started.append(dict(cli._LAB_ENV)) or 0)
    monkeypatch.setattr(cli, "_user_settings_dir", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))   # the news pop-up's page config
    args = argparse.Namespace(port=None, no_browser=True, jupyter_args=[])
    assert cli._run_lab(tmp_path, args, lang="ko") == 0
    assert started[-1]["GDCOURSE_LANG"] == "ko"
    monkeypatch.setattr(cli, "_LAB_ENV", {})
    assert cli._run_lab(tmp_path, args, lang=None) == 0   # no --lang: the variable is left alone
    assert "GDCOURSE_LANG" not in started[-1]
    # both runs put gdcourse's own Jupyter config folder first, and only that is added
    for env in started:
        assert set(env) <= {"GDCOURSE_LANG", "JUPYTER_CONFIG_PATH"}
        assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(tmp_path / "cache" / "gdcourse" / "jupyter-config")
