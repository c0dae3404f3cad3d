"""The exports against the real nbgrader and Otter-Grader (slow: a throw-away environment).

nbgrader 0.9 needs jupyterlab >= 4.2 and otter-grader 7 needs ipywidgets >= 8.1.5, above the
lower bounds that .ci/min-versions tests, so neither can live in the ``[test]`` extra.  The
fixture below builds one virtual environment with both plus this checkout (from the package
registry, at set-up), or reuses the one named by ``GDCOURSE_INTEROP_VENV`` (created there if it
does not hold the tools yet).  Submissions: ``alice`` fills every answer from solutions/,
``bob`` hands the released notebook in untouched, ``carol`` gets ``predict`` wrong.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gdcourse import interop
from gdcourse.authoring import answer_id
from gdcourse.exercises import _core

pytestmark = [pytest.mark.slow, pytest.mark.interop]

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
TOOLS = ["nbgrader>=0.9.6,<0.10", "otter-grader>=7.0,<8"]
WRONG_PREDICT = ("# exercise: lesson01.predict\ndef predict(theta, X):\n"
                 "    return X[:, 1:] @ theta[1:]   # forgets the intercept\n")


@pytest.fixture(scope="session")
def tools(tmp_path_factory):
    """``run(cmd, cwd)`` in an environment with nbgrader, otter-grader and this checkout."""
    wanted = os.environ.get("GDCOURSE_INTEROP_VENV")
    venv = Path(wanted) if wanted else tmp_path_factory.mktemp("interop-tools") / "venv"
    bin_dir = venv / "bin"
    if not (bin_dir / "nbgrader").exists() or not (bin_dir / "otter").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *TOOLS,
                        "-e", str(ROOT)], check=True)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONNOUSERSITE="1")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)

    def run(cmd, cwd):
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, (f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                                      f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    # the environment must import this checkout, not another gdcourse
    where = run([str(bin_dir / "python"), "-c", "import gdcourse; print(gdcourse.__file__)"],
                ROOT).stdout.strip()
    assert Path(where).resolve().parent == (ROOT / "gdcourse").resolve()
    return run


def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _sources(path):
    return ["".join(c["source"]) for c in _load(path)["cells"]]


def _lesson01_points():
    points = {ex.id: ex.points for ex in _core.lesson_exercises("lesson01")}
    total = sum(points.values())
    return {"alice": total, "bob": 0.0, "carol": total - points["lesson01.predict"]}


def _submissions(released: Path, write):
    """The three learners' lesson-1 notebooks, made from a released one; ``write(name, nb)``."""
    answers = {answer_id(c): "".join(c["source"])
               for c in _load(SOLUTIONS / "01_cost_function.ipynb")["cells"] if answer_id(c)}
    base = _load(released)
    for name, mine in (("alice", answers), ("bob", {}),
                       ("carol", dict(answers, **{"lesson01.predict": WRONG_PREDICT}))):
        nb = copy.deepcopy(base)
        for cell in nb["cells"]:
            ex_id = answer_id(cell)
            if ex_id in mine:
                cell["source"] = mine[ex_id]
        write(name, nb)


def test_nbgrader_releases_exercises_and_autogrades_three_learners(tools, tmp_path):
    course = tmp_path / "course"
    written = interop.export_nbgrader(SOLUTIONS, course)
    nbgrader = "nbgrader"  # on the tools environment's PATH (it runs `alembic` from there too)
    for path in written:
        tools([nbgrader, "generate_assignment", path.parent.name, "--force"], course)
        released = course / "release" / path.parent.name / path.name
        assert _sources(released) == _sources(EXERCISES / path.name), path.name

    released = course / "release" / "lesson01" / "01_cost_function.ipynb"

    def write(name, nb):
        folder = course / "submitted" / name / "lesson01"
        folder.mkdir(parents=True)
        (folder / released.name).write_text(json.dumps(nb), encoding="utf-8")
        # what `nbgrader collect` leaves beside the notebook
        (folder / "timestamp.txt").write_text("2026-12-01 09:00:00.000000 UTC", encoding="utf-8")

    _submissions(released, write)
    tools([nbgrader, "autograde", "lesson01", "--force"], course)
    tools([nbgrader, "export"], course)
    with open(course / "grades.csv", newline="", encoding="utf-8") as fh:
        # nbgrader export lists every assignment in its database; only lesson01 was handed in
        scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh)
                  if r["assignment"] == "lesson01"}
    assert scores == _lesson01_points()

    # our own grader reads nbgrader's submitted/<student>/<assignment>/ layout directly
    out = tmp_path / "ours.csv"
    tools([sys.executable, "-c", "import sys; from gdcourse.cli import main; sys.exit(main())",
           "grade", str(course / "submitted"), "--out", str(out), "--seed", "1"], ROOT)
    with open(out, newline="", encoding="utf-8") as fh:
        ours: dict = {}
        for r in csv.DictReader(fh):
            ours[r["student"]] = ours.get(r["student"], 0.0) + float(r["points"])
    assert ours == scores


def test_otter_assign_and_run_give_the_same_three_scores(tools, tmp_path):
    master = interop.export_otter(SOLUTIONS / "01_cost_function.ipynb", tmp_path / "lesson01.ipynb")
    tools(["otter", "assign", str(master), "dist"], tmp_path)
    student_nb = tmp_path / "dist" / "student" / "lesson01.ipynb"
    assert _sources(student_nb) == _sources(EXERCISES / "01_cost_function.ipynb")
    zips = sorted((tmp_path / "dist" / "autograder").glob("*.zip"))
    assert len(zips) == 1
    subs = tmp_path / "subs"
    subs.mkdir()
    _submissions(student_nb, lambda name, nb: (subs / f"{name}.ipynb").write_text(
        json.dumps(nb), encoding="utf-8"))
    scores = {}
    for name in ("alice", "bob", "carol"):
        out = tmp_path / "out" / name
        out.mkdir(parents=True)
        tools(["otter", "run", "-a", str(zips[0]), "-o", str(out), str(subs / f"{name}.ipynb")],
              tmp_path)
        results = _load(out / "results.json")["tests"]
        scores[name] = sum(t["score"] for t in results if "score" in t)
        assert {t["name"] for t in results if "score" in t} == {
            ex.id.replace(".", "_") for ex in _core.lesson_exercises("lesson01")}
    assert scores == _lesson01_points()
    carol = json.dumps(_load(tmp_path / "out" / "carol" / "results.json"))
    assert "lesson01.predict: " in carol  # our one-line feedback reaches Otter's results
