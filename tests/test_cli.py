"""The gdcourse command: version, list, new, and a real JupyterLab started as the README says."""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

import gdcourse
from gdcourse import cli, course

ROOT = Path(__file__).resolve().parents[1]


def make_course(folder: Path, n: int = 2) -> Path:
    """A tiny course folder whose lessons have titles, times and objectives."""
    for sub in ("lessons", "exercises"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i in range(1, n + 1):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(
            f"# Lesson {i}: topic {i}\n\n*Estimated time: {10 * i} minutes*\n\n"
            f"## Learning objectives\n\n- objective {i}a\n- objective {i}b\n\n## Next\n")]
        nbformat.write(nb, folder / "lessons" / f"0{i}_topic{i}.ipynb")
        nbformat.write(nbformat.v4.new_notebook(), folder / "exercises" / f"0{i}_topic{i}.ipynb")
    return folder


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gdcourse.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"gdcourse {gdcourse.__version__}"


def test_list_reads_titles_times_and_objectives(tmp_path):
    make_course(tmp_path)
    out = run_cli("list", str(tmp_path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "1. Lesson 1: topic 1  (10 minutes)"
    assert lines[1].strip() == "- objective 1a" and lines[2].strip() == "- objective 1b"
    assert lines[3].startswith("2. Lesson 2: topic 2")


def test_list_of_the_real_course_has_every_lesson_with_objectives():
    found = course.lessons(ROOT) if (ROOT / "lessons").is_dir() and list((ROOT / "lessons").glob("0*.ipynb")) else []
    if not found:
        pytest.skip("the lessons are not written yet")
    assert [info.number for info in found] == list(range(1, len(found) + 1))
    for info in found:
        assert info.title and info.objectives, f"lesson {info.number} lacks a title or objectives"


def test_list_without_a_course_explains_how_to_get_one(tmp_path):
    out = run_cli("list", str(tmp_path))
    assert out.returncode == 2 and "gdcourse new" in out.stderr


def test_new_copies_without_overwriting_work(tmp_path):
    src = make_course(tmp_path / "src")
    dest = tmp_path / "mine"
    course.copy_course(dest, source=src)
    assert sorted(p.name for p in (dest / "lessons").iterdir()) == ["01_topic1.ipynb", "02_topic2.ipynb"]
    mine = dest / "exercises" / "01_topic1.ipynb"
    mine.write_text("my work")
    course.copy_course(dest, source=src)
    assert mine.read_text() == "my work"
    course.copy_course(dest, source=src, overwrite=True)
    assert mine.read_text() != "my work"
    with pytest.raises(ValueError, match="dest must differ"):
        course.copy_course(src, source=src)


def test_new_with_no_lab_from_the_cli(tmp_path, monkeypatch):
    src = make_course(tmp_path / "src")
    monkeypatch.setattr(cli, "_exec", lambda cmd: pytest.fail(f"JupyterLab started: {cmd}"))
    monkeypatch.setattr(course, "packaged_course", lambda: src)
    assert cli.main(["new", str(tmp_path / "copy"), "--no-lab"]) == 0
    assert (tmp_path / "copy" / "lessons" / "01_topic1.ipynb").is_file()


def test_lab_command_opens_lesson_one_and_passes_options(tmp_path):
    make_course(tmp_path)
    cmd = cli.lab_command(tmp_path, port=8899, no_browser=True, extra=["--ServerApp.token=x"])
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path}" in cmd
    assert "--LabApp.default_url=/lab/tree/lessons/01_topic1.ipynb" in cmd
    assert "--port=8899" in cmd and "--no-browser" in cmd and cmd[-1] == "--ServerApp.token=x"


def test_lab_without_a_course_explains(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_exec", lambda cmd: pytest.fail(f"JupyterLab started: {cmd}"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(course, "_PACKAGE_DIR", tmp_path / "site" / "gdcourse")
    assert cli.main(["lab"]) == 2
    assert "gdcourse new" in capsys.readouterr().err


def test_unknown_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        cli.main(["list", "a", "b"])
    assert cli.main([]) == 0
    assert "lab" in capsys.readouterr().out


def readme_command(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(re.escape(marker) + r"\s*```bash\n(.+?)\n```", text)
    assert match, f"README.md has no command after {marker}"
    return match.group(1)


def test_readme_has_exactly_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert setup.count("```bash") == 2
    lab = readme_command("<!-- lab-command -->")
    test = readme_command("<!-- test-command -->")
    assert lab.endswith("gdcourse lab") and "pip install -e ." in lab
    assert 'pip install -e ".[test]"' in test and test.endswith("python -m pytest")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    return urllib.request.urlopen(req, timeout=5)


@pytest.mark.slow
def test_readme_lab_command_serves_the_lessons(tmp_path):
    """Run the README's first command's launcher with --no-browser and ask the server's REST API."""
    words = shlex.split(readme_command("<!-- lab-command -->").split("&&")[-1])
    exe = Path(sys.executable).parent / Path(words[0]).name  # the venv's gdcourse script
    launcher = [str(exe)] if exe.is_file() else [sys.executable, "-m", "gdcourse.cli"]
    has_lessons = any((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    course_dir = ROOT if has_lessons else make_course(tmp_path / "course")
    port, token = free_port(), "gdcourse-test-token"
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "ws")):
        env[var] = str(tmp_path / sub)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")   # where the command writes its page config
    cmd = launcher + words[1:] + [str(course_dir), "--no-browser", f"--port={port}",
                                  "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                status = json.load(get(f"{base}/api/status", token))
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    out = log.read()
                    pytest.fail(f"JupyterLab did not start (exit {proc.poll()}):\n{out[-3000:]}")
                time.sleep(0.5)
        assert "started" in status
        listing = json.load(get(f"{base}/api/contents/lessons", token))
        names = sorted(item["name"] for item in listing["content"])
        expected = sorted(p.name for p in (course_dir / "lessons").glob("*.ipynb"))
        assert names == expected and names[0].startswith("01_")
        nb = json.load(get(f"{base}/api/contents/lessons/{names[0]}", token))
        assert nb["type"] == "notebook"
        # the landing page is lesson 1
        opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                                  {"redirect_request": lambda *a, **k: None}))
        try:
            opener.open(urllib.request.Request(f"{base}/?token={token}"), timeout=5)
            location = ""
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location", "")
        assert location.split("?")[0].endswith(f"/lab/tree/lessons/{names[0]}")
        # the page JupyterLab serves names the news pop-up among its disabled plugins
        page = get(f"{base}/lab/tree/lessons/{names[0]}", token).read().decode("utf-8")
        config = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                           page, re.S)
        assert config, "no jupyter-config-data in JupyterLab's page"
        disabled = json.loads(config.group(1)).get("disabledExtensions", [])
        assert course.ANNOUNCEMENTS_PLUGIN in disabled, f"the news pop-up is on: {disabled}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_list_into_a_closed_pipe_is_quiet(tmp_path):
    """`gdcourse list | head -1`: the reader goes away; no traceback, exit code 0.

    The pipe's reading end is closed before the command starts, so its very first
    write fails, as with a reader that stopped after one line.
    """
    course_dir = make_course(tmp_path / "course", n=3)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "gdcourse.cli", "list", str(course_dir)],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.stderr == "" and proc.returncode == 0, proc.stderr


def test_readme_lesson_times_are_the_notebooks_times():
    """The README's time column is copied from each lesson's "Estimated time" line, which is
    also what `gdcourse list` prints: the notebook is the source, the README must follow it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d) \| [^|]+ \| [^|]+ \| ([^|]+) \|$", readme, re.M)
    assert [int(n) for n, _ in rows] == [info.number for info in course.lessons(ROOT)]
    for (number, cell), info in zip(rows, course.lessons(ROOT)):
        first = "\n".join(course._markdown_cells(info.path)[:4])
        short = re.search(r"\((\d+) on the short path\)", first)
        full = re.match(r"(\d+) min", info.minutes).group(1)
        want = f"{full} · {short.group(1)} min" if short else f"{full} min (no short path)"
        assert cell.strip() == want, (number, cell, info.minutes)


def test_instructor_guide_times_are_the_notebooks_times():
    guide = (ROOT / "docs" / "instructor.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d) · [^|]+ \| (\d+) min \| (\d+) min \|", guide, re.M)
    assert [int(n) for n, *_ in rows] == [1, 2, 3, 4, 5, 6]
    shorts = []
    for number, full, short in rows:
        info = course.lessons(ROOT)[int(number) - 1]
        first = "\n".join(course._markdown_cells(info.path)[:4])
        assert (full, short) == (re.match(r"(\d+) min", info.minutes).group(1),
                                 re.search(r"\((\d+) on the short path\)", first).group(1)), number
        shorts.append(int(short))
    total = sum(shorts)
    assert f"about {total // 60} h {total % 60} min" in guide
