"""Finding the course, reading lesson metadata, and shipping the notebooks inside the wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gdcourse import cli, course

from test_cli import make_course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_real_lab(monkeypatch):
    """`gdcourse lab` replaces the process with JupyterLab: never let a test do that."""
    def refuse(cmd):
        raise AssertionError(f"a test tried to start JupyterLab: {cmd}")
    monkeypatch.setattr(cli, "_exec", refuse)


def test_find_course_order(tmp_path, monkeypatch):
    make_course(tmp_path / "here")
    monkeypatch.chdir(tmp_path / "here")
    assert course.find_course() == (tmp_path / "here").resolve()
    assert course.find_course(tmp_path / "here") == (tmp_path / "here").resolve()
    with pytest.raises(course.CourseNotFound, match="gdcourse new"):
        course.find_course(tmp_path)


def test_packaged_copy_is_used_only_when_allowed(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "gdcourse"
    make_course(pkg / "_course")
    monkeypatch.setattr(course, "_PACKAGE_DIR", pkg)
    monkeypatch.chdir(tmp_path)
    assert course.packaged_course() == pkg / "_course"
    assert course.find_course(allow_packaged=True) == pkg / "_course"
    with pytest.raises(course.CourseNotFound):
        course.find_course()
    dest = course.copy_course(tmp_path / "mine")
    assert (dest / "lessons" / "01_topic1.ipynb").is_file()
    infos = course.lessons()
    assert [i.title for i in infos] == ["Lesson 1: topic 1", "Lesson 2: topic 2"]
    assert infos[1].minutes == "20 minutes"


def test_lesson_without_objectives_still_lists(tmp_path):
    import nbformat
    make_course(tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("No heading here")]
    nbformat.write(nb, tmp_path / "lessons" / "03_bare.ipynb")
    info = course.lessons(tmp_path)[-1]
    assert info.title == "03_bare" and info.objectives == [] and info.minutes == ""


def test_lab_and_new_start_jupyterlab_in_the_right_folder(tmp_path, monkeypatch):
    src = make_course(tmp_path / "src")
    calls = []
    monkeypatch.setattr(cli, "_exec", lambda cmd: calls.append(cmd) or 0)
    assert cli.main(["lab", str(src), "--port", "8123", "--no-browser", "--ServerApp.token=t"]) == 0
    assert f"--ServerApp.root_dir={src.resolve()}" in calls[-1]
    assert "--port=8123" in calls[-1] and "--ServerApp.token=t" in calls[-1]
    monkeypatch.setattr(course, "packaged_course", lambda: src)
    assert cli.main(["new", str(tmp_path / "copy")]) == 0
    assert f"--ServerApp.root_dir={(tmp_path / 'copy').resolve()}" in calls[-1]


def test_interrupting_lab_exits_cleanly(tmp_path, monkeypatch):
    src = make_course(tmp_path)

    def interrupted(cmd):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_exec", interrupted)
    assert cli.main(["lab", str(src)]) == 0


def test_cli_list_and_errors_in_process(tmp_path, capsys, monkeypatch):
    make_course(tmp_path)
    monkeypatch.setattr(course, "packaged_course", lambda: tmp_path.resolve())
    assert cli.main(["list", str(tmp_path)]) == 0
    assert "1. Lesson 1: topic 1" in capsys.readouterr().out
    assert cli.main(["list", str(tmp_path / "nowhere")]) == 2
    assert cli.main(["new", str(tmp_path)]) == 2  # copying a course onto itself
    assert "dest must differ" in capsys.readouterr().err


@pytest.mark.slow
def test_the_wheel_ships_the_notebooks(tmp_path):
    """A learner without a clone gets the lessons and exercises from the installed package."""
    pytest.importorskip("hatchling")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    wheel = next(tmp_path.glob("gdcourse-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("lessons", "exercises"):
        ours = sorted(p.name for p in (ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
        shipped = sorted(Path(n).name for n in names if n.startswith(f"gdcourse/_course/{folder}/"))
        assert shipped == ours
    # install it somewhere else and copy the course out, as a learner would
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    # ... and lesson 7 finds its digits (gdcourse/_data/, one level above the classify sub-package)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import gdcourse.course as c; "
            "print(c.copy_course(sys.argv[2], source=c.packaged_course())); "
            "import gdcourse.classify as k; assert k.load_digits().X.shape == (1797, 64), k.__file__")
    res = subprocess.run([sys.executable, "-I", "-c", code, str(target), str(tmp_path / "learner")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "learner" / "lessons").iterdir()) == \
        sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def test_objectives_print_unicode_math_not_latex():
    from gdcourse.course import lessons, unicode_math
    assert unicode_math(r"the update $\theta \leftarrow \theta - \alpha\nabla J(\theta)$, $\lceil m/b\rceil$") == (
        "the update θ ← θ − α∇J(θ), ⌈m/b⌉")
    assert unicode_math(r"$\theta_0$, $x^2$, $W^{l}$ and $10^{-3}$") == "θ₀, x², W^l and 10⁻³"
    assert unicode_math("no math: 3 $ and 4") == "no math: 3 $ and 4"
    for info in lessons(ROOT):
        for objective in info.objectives:
            assert "$" not in objective and "\\" not in objective, (info.number, objective)
