"""`gdcourse new/lab --lang`: translated notebooks in the learner's folder, JupyterLab's language set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import zipfile
from pathlib import Path

import pytest

from gdcourse import cli, i18n
from gdcourse._notebook import cell_source, read_notebook

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = Path("@jupyterlab", "translation-extension", "plugin.jupyterlab-settings")


def first_markdown(path: Path) -> str:
    return next(cell_source(c) for c in read_notebook(path)["cells"] if c["cell_type"] == "markdown")


def locale_in(settings_dir: Path) -> str:
    return json.loads((settings_dir / PLUGIN).read_text(encoding="utf-8"))["locale"]


@pytest.fixture
def no_lab(monkeypatch, tmp_path):
    """Capture the JupyterLab command instead of starting it; the learner's own settings are a
    folder holding a theme choice."""
    started = []
    monkeypatch.setattr(cli, "_exec", lambda cmd: started.append(cmd) or 0)
    own = tmp_path / "own-settings" / "@jupyterlab" / "apputils-extension"
    own.mkdir(parents=True)
    (own / "themes.jupyterlab-settings").write_text('{"theme": "JupyterLab Dark"}', encoding="utf-8")
    monkeypatch.setattr(cli, "_user_settings_dir", lambda: str(tmp_path / "own-settings"))
    return started


def option(cmd, name) -> str:
    values = [a.split("=", 1)[1] for a in cmd if a.startswith(f"--{name}=")]
    assert len(values) == 1, cmd
    return values[0]


#: each language's title of lesson 1, of its exercises, and JupyterLab's locale
TITLES = {
    "ja": ("# 第1回 · コスト関数", "# 第1回の演習", "ja_JP"),
    "zh": ("# 第 1 课 · 代价函数", "# 第 1 课练习", "zh_CN"),
    "ko": ("# 1강 · 비용 함수", "# 1강 연습 문제", "ko_KR"),
    "fr": ("# Leçon 1 · La fonction de coût", "# Exercices de la leçon 1", "fr_FR"),
}


def test_every_language_is_tested():
    assert set(TITLES) == set(i18n.LANGUAGES)


@pytest.mark.parametrize("lang", sorted(TITLES))
def test_new_with_lang_builds_translated_notebooks_and_sets_the_interface(tmp_path, no_lab, lang):
    lesson_title, exercises_title, locale = TITLES[lang]
    dest = tmp_path / "mine"
    assert cli.main(["new", str(dest), "--lang", lang, "--no-lab"]) == 0
    assert no_lab == []
    assert first_markdown(dest / "lessons/01_cost_function.ipynb").startswith(lesson_title)
    assert first_markdown(dest / "exercises/01_cost_function.ipynb").startswith(exercises_title)
    # lessons without a catalogue in that language stay English
    assert first_markdown(dest / "lessons/02_gradient.ipynb") == first_markdown(ROOT / "lessons/02_gradient.ipynb")
    for folder in ("lessons", "exercises"):
        names = sorted(p.name for p in (dest / folder).glob("*.ipynb"))
        assert names == sorted(p.name for p in (ROOT / folder).glob("*.ipynb"))
        for name in names:
            assert i18n.check(ROOT / folder / name, dest / folder / name) == [], name
    assert i18n.course_language(dest) == lang
    settings = dest / ".gdcourse" / "lab-user-settings"
    assert locale_in(settings) == locale
    # the learner's own settings were carried over, not rewritten
    assert (settings / "@jupyterlab/apputils-extension/themes.jupyterlab-settings").is_file()
    assert not (tmp_path / "own-settings" / PLUGIN).exists()


def test_new_with_lang_keeps_existing_work_and_opens_lab_in_that_language(tmp_path, no_lab):
    dest = tmp_path / "mine"
    (dest / "exercises").mkdir(parents=True)
    (dest / "exercises/01_cost_function.ipynb").write_text("my work", encoding="utf-8")
    assert cli.main(["new", str(dest), "--lang", "ja", "--no-browser"]) == 0
    assert (dest / "exercises/01_cost_function.ipynb").read_text(encoding="utf-8") == "my work"
    [cmd] = no_lab
    assert option(cmd, "ServerApp.root_dir") == str(dest.resolve())
    assert locale_in(Path(option(cmd, "LabApp.user_settings_dir"))) == "ja_JP"


def test_lab_in_a_folder_made_with_lang_uses_that_language(tmp_path, no_lab):
    dest = tmp_path / "mine"
    assert cli.main(["new", str(dest), "--lang", "ja", "--no-lab"]) == 0
    assert cli.main(["lab", str(dest)]) == 0
    [cmd] = no_lab
    assert option(cmd, "ServerApp.root_dir") == str(dest.resolve())      # no second copy
    assert not (dest / "build").exists()
    assert locale_in(Path(option(cmd, "LabApp.user_settings_dir"))) == "ja_JP"


def test_lab_with_lang_on_an_english_course_builds_beside_it(tmp_path, no_lab):
    course = tmp_path / "course"
    for folder in ("lessons", "exercises", "i18n"):
        shutil.copytree(ROOT / folder, course / folder)
    assert cli.main(["lab", str(course), "--lang", "ja"]) == 0
    [cmd] = no_lab
    target = course / "build" / "ja"
    assert option(cmd, "ServerApp.root_dir") == str(target)
    assert first_markdown(target / "lessons/01_cost_function.ipynb").startswith("# 第1回")
    assert first_markdown(course / "lessons/01_cost_function.ipynb").startswith("# Lesson 1")  # source untouched
    assert locale_in(target / ".gdcourse/lab-user-settings") == "ja_JP"
    # English: no language option at all, the learner's JupyterLab as it is
    assert cli.main(["lab", str(course)]) == 0
    assert not any(a.startswith("--LabApp.user_settings_dir=") for a in no_lab[1])


def test_lab_in_a_language_without_a_catalogue_gives_the_english_notebook(tmp_path, no_lab):
    dest = tmp_path / "mine"
    assert cli.main(["new", str(dest), "--lang", "fr", "--no-lab"]) == 0
    assert first_markdown(dest / "lessons/01_cost_function.ipynb").startswith("# Leçon 1")
    assert first_markdown(dest / "lessons/02_gradient.ipynb") == \
        first_markdown(ROOT / "lessons/02_gradient.ipynb")
    assert locale_in(dest / ".gdcourse/lab-user-settings") == "fr_FR"


def test_unknown_language_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["new", str(tmp_path / "x"), "--lang", "de", "--no-lab"])
    assert exc.value.code == 2 and "invalid choice: 'de'" in capsys.readouterr().err
    with pytest.raises(i18n.I18nError, match="lang must be one of en, ja, zh, ko, fr, got 'de'"):
        i18n.lab_settings_dir(tmp_path, "de")


def test_settings_file_keeps_other_keys_and_survives_a_damaged_one(tmp_path):
    settings = i18n.lab_settings_dir(tmp_path, "ko")
    (settings / PLUGIN).write_text('{"locale": "ja_JP", "displayStringsInEnglish": true}', encoding="utf-8")
    i18n.lab_settings_dir(tmp_path, "zh")
    assert json.loads((settings / PLUGIN).read_text(encoding="utf-8")) == {
        "locale": "zh_CN", "displayStringsInEnglish": True}
    (settings / PLUGIN).write_text("// a JSON5 comment\n{", encoding="utf-8")
    i18n.lab_settings_dir(tmp_path, "en")
    assert locale_in(settings) == "en"


def test_the_extras_name_real_language_packs():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for lang, (_, dist) in i18n.LANGUAGES.items():
        assert f'{lang} = ["{dist}>=' in text


#: the pack's word for "Run All Cells", as a real server must serve it
RUN_ALL = {"ja": "すべてのセルを実行", "zh": "运行所有单元格", "ko": "모든 셀 실행",
           "fr": "Exécuter toutes les cellules"}


@pytest.mark.slow
@pytest.mark.parametrize("lang", sorted(RUN_ALL))
def test_a_real_jupyterlab_reports_the_interface_language(tmp_path, lang):
    """`gdcourse new --lang LANG`, then a real server: its settings API says the locale and that
    locale's pack is served (no browser needed). CI installs the Japanese pack (gdcourse[test]);
    the others run where their extra is installed."""
    from test_cli import free_port, get

    locale = i18n.LANGUAGES[lang][0]
    if not i18n.language_pack_installed(lang):
        if lang == "ja":
            pytest.fail("jupyterlab-language-pack-ja-JP is not installed (it comes with gdcourse[test])")
        pytest.skip(f'{i18n.LANGUAGES[lang][1]} is not installed (pip install -e ".[{lang}]")')
    dest = tmp_path / "mine"
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "own-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "ws")):
        env[var] = str(tmp_path / sub)
    port, token = free_port(), "gdcourse-i18n-token"
    cmd = [sys.executable, "-m", "gdcourse.cli", "new", str(dest), "--lang", lang, "--no-browser",
           f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"JupyterLab did not start (exit {proc.poll()}):\n{log.read()[-3000:]}")
                time.sleep(0.5)
        plugin = json.load(get(f"{base}/lab/api/settings/@jupyterlab/translation-extension:plugin", token))
        assert plugin["settings"]["locale"] == locale
        langs = json.load(get(f"{base}/lab/api/translations", token))["data"]
        assert locale in langs
        pack = json.load(get(f"{base}/lab/api/translations/{locale}", token))["data"]
        assert pack["jupyterlab"]["Run All Cells"] == [RUN_ALL[lang]]
        nb = json.load(get(f"{base}/api/contents/lessons/01_cost_function.ipynb", token))
        assert nb["content"]["cells"][0]["source"].startswith(TITLES[lang][0])
        # the learner's own settings folder was not touched
        assert not (tmp_path / "own-settings" / PLUGIN).exists()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.slow
def test_the_wheel_ships_the_catalogues(tmp_path):
    """`pip install gdcourse` (no clone) then `new --lang ja` still gives Japanese notebooks."""
    pytest.importorskip("hatchling")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    wheel = next(tmp_path.glob("gdcourse-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "gdcourse/_course/i18n/ja/lessons/01_cost_function.po" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import gdcourse.course as c; "
            "print(c.copy_course(sys.argv[2], source=c.packaged_course(), lang='ja'))")
    res = subprocess.run([sys.executable, "-I", "-c", code, str(target), str(tmp_path / "learner")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert first_markdown(tmp_path / "learner/lessons/01_cost_function.ipynb").startswith("# 第1回")


def test_readme_says_how_to_choose_a_language_in_each_language():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Choosing a language", 1)[1].split("\n## ", 1)[0]
    for marker, lang in (("日本語", "ja"), ("中文", "zh"), ("한국어", "ko"), ("Français", "fr")):
        line = next(l for l in section.splitlines() if l.startswith(f"- {marker}"))
        assert f"gdcourse lab --lang {lang}" in line and f'pip install -e ".[{lang}]"' in line


def test_lab_without_the_language_pack_says_which_extra_to_install(tmp_path, no_lab, monkeypatch, capsys):
    dest = tmp_path / "mine"
    assert cli.main(["new", str(dest), "--lang", "fr", "--no-lab"]) == 0
    installed = i18n.language_pack_installed
    monkeypatch.setattr(i18n, "language_pack_installed", lambda lang: False)
    assert cli.main(["lab", str(dest)]) == 0
    assert 'pip install "gdcourse[fr]"' in capsys.readouterr().err
    assert locale_in(Path(option(no_lab[0], "LabApp.user_settings_dir"))) == "fr_FR"
    assert installed("en")
    assert installed("ja") == bool(__import__("importlib.util").util.find_spec(
        "jupyterlab_language_pack_ja_JP"))


def test_translate_course_keeps_existing_files_and_falls_back_to_english(tmp_path):
    dest = tmp_path / "ja"
    (dest / "lessons").mkdir(parents=True)
    (dest / "lessons/02_gradient.ipynb").write_text("mine", encoding="utf-8")
    written = i18n.translate_course(ROOT, ROOT / "i18n", "ja", dest, folders=("lessons",))
    assert dest / "lessons/02_gradient.ipynb" not in written
    assert (dest / "lessons/02_gradient.ipynb").read_text(encoding="utf-8") == "mine"
    assert first_markdown(dest / "lessons/01_cost_function.ipynb").startswith("# 第1回")
    assert first_markdown(dest / "lessons/03_update_rule.ipynb") == \
        first_markdown(ROOT / "lessons/03_update_rule.ipynb")
