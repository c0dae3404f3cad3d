"""Grading a hostile and a careless class: every attack leaves a row per student and
exercise, no credit to a cheat, full credit to the correct neighbour; a SIGKILLed grader
resumes to the same CSV; the sandbox says what it enforces."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import submissions as subs  # noqa: E402

from gdcourse import _notebook, _sandbox, grading  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SEED = 77


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attacks") / "submissions"
    features = _sandbox.probe()
    confined = bool(features["namespaces"] and features["signals"] and features["processes"])
    expected = subs.make_attack_class(folder, REPO, confined=confined)
    out = folder.parent / "grades.csv"
    code = grading.cli([str(folder), "--out", str(out), "--seed", str(SEED), "--timeout", "4",
                        "--jobs", "2"])
    return code, expected, _rows(out)


def test_every_attack_leaves_its_expected_rows(attacked):
    code, expected, rows = attacked
    assert code == 0
    got = {(r["student"], r["exercise"]): r for r in rows}
    want = {(s, f"lesson01.{n}"): v for s, exs in expected.items() for n, v in exs.items()}
    assert set(got) == set(want), set(got) ^ set(want)
    wrong = []
    for key, (status, message, review) in want.items():
        row = got[key]
        points = 1.0 if status == "correct" else 0.0
        if row["status"] != status or float(row["points"]) != points \
                or (message and message not in row["message"]) \
                or (review and review not in row["review"]):
            wrong.append((key, status, message, review, row["status"], row["message"],
                          row["review"]))
    assert not wrong


def test_columns_keep_their_order_with_sandbox_last(attacked):
    _code, _expected, rows = attacked
    assert list(rows[0]) == list(grading.CSV_COLUMNS)
    assert grading.CSV_COLUMNS[-1] == "sandbox" and grading.CSV_COLUMNS[:7] == (
        "student", "exercise", "points", "max_points", "status", "message", "review")


def test_the_sandbox_enforces_everything_on_this_kernel(attacked):
    features = _sandbox.probe()
    assert features["landlock_abi"] >= 6, features
    assert _sandbox.not_enforced() == []
    _code, _expected, rows = attacked
    assert all(r["sandbox"] == "" for r in rows)


def test_a_kernel_without_features_is_said_once_and_marked_on_rows(tmp_path):
    """With namespaces and Landlock off, a setsid() grandchild is still killed (subreaper)."""
    folder = tmp_path / "subs"
    pid_file = tmp_path / "grandchild.pid"
    answer = subs.hostile_predict(
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "        while True:\n"
        "            pass\n"
        "    os._exit(0)\n"
        "import time\n"
        "time.sleep(0.3)")
    subs.write(subs.lesson01_notebook({"predict": answer}), folder / "ann.ipynb")
    features = dict(_sandbox.probe(), namespaces=False, filesystem=False, signals=False,
                    network=False, network_tcp_only=False)
    rows = grading.grade(folder, seed=1, timeout=5, jobs=1, features=features)
    predict = next(r for r in rows if r.exercise == "lesson01.predict")
    assert predict.status == "incorrect"
    assert predict.sandbox.startswith("not enforced: file-system confinement")
    assert "PID namespace" in predict.sandbox
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists() or \
        Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_the_child_holds_no_reference_nor_mistake(tmp_path):
    folder = tmp_path / "subs"
    answer = ("import sys\n\ndef predict(theta, X):\n"
              "    leaked = [m for m in sys.modules if m.startswith('gdcourse.exercises.lesson')]\n"
              "    if leaked:\n        raise RuntimeError(f'leaked {leaked}')\n"
              "    return X @ theta\n")
    subs.write(subs.lesson01_notebook({"predict": answer}), folder / "ann.ipynb")
    rows = grading.grade(folder, seed=1, timeout=5, jobs=1)
    assert rows[0].status == "correct", rows[0]


def _class(folder: Path, n: int = 10):
    slow = ("import time\n\ndef predict(theta, X):\n    time.sleep(0.15)\n"
            "    return X @ theta\n")
    for i in range(n):
        answers = {**subs.CORRECT, "predict": slow}
        if i % 3 == 1:
            answers["compute_cost"] = subs.COST_NO_HALF
        subs.write(subs.lesson01_notebook(answers), folder / f"student{i:02d}.ipynb")


def test_sigkill_mid_batch_then_resume_gives_the_same_csv(tmp_path):
    folder = tmp_path / "subs"
    _class(folder)
    clean, killed = tmp_path / "clean.csv", tmp_path / "killed.csv"
    args = [str(folder), "--seed", "5", "--timeout", "5", "--jobs", "1"]
    assert grading.cli(args + ["--out", str(clean)]) == 0
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from gdcourse.grading import cli; "
                             "sys.exit(cli(sys.argv[1:]))", *args, "--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while proc.poll() is None:   # wait until some rows, not all, are on disk
            if killed.exists() and 8 <= len(killed.read_text().splitlines()) < 25:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the grader finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    partial = _rows(killed)
    assert 0 < len(partial) < 30
    assert grading.cli(args + ["--out", str(killed), "--resume"]) == 0
    assert killed.read_text() == clean.read_text()


def test_resume_needs_the_seed(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    assert grading.cli([str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"),
                        "--resume"]) == 2
    assert "--seed" in capsys.readouterr().err


def test_read_csv_skips_a_line_cut_short(tmp_path):
    path = tmp_path / "g.csv"
    grading.write_csv([grading.GradeRow("a", "lesson01.predict", 1.0, 1.0, "correct", "ok")],
                      path)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("b,lesson01.predict,1")
    assert list(grading.read_csv(path)) == [("a", "lesson01.predict")]


# --- discovery and the notebook reader ------------------------------------------------

def test_discovery_keys_by_relative_path_and_reports_clashes(tmp_path):
    subs.write(subs.lesson01_notebook(subs.CORRECT), tmp_path / "ana.ipynb")
    subs.write(subs.lesson01_notebook(subs.CORRECT), tmp_path / "ana" / "a" / "b" / "x.ipynb")
    (tmp_path / ".hidden.ipynb").write_text("{}")
    students = grading.discover_students(tmp_path)
    assert [s.key for s in students] == ["ana/", "ana.ipynb"]
    assert students[0].files[0].name == "x.ipynb"
    assert all("name clash" in s.notes[0] for s in students)


def test_reader_refuses_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "f.ipynb")
    os.symlink("/dev/zero", tmp_path / "z.ipynb")
    for name, fragment in (("f.ipynb", "FIFO"), ("z.ipynb", "symbolic link")):
        with pytest.raises(_notebook.NotebookError, match=fragment):
            _notebook.read_bytes(tmp_path / name)
    with pytest.raises(_notebook.NotebookError, match="device"):
        _notebook.read_bytes("/dev/null")
    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * 2000)
    with pytest.raises(_notebook.NotebookError, match="larger than"):
        _notebook.read_bytes(big, max_bytes=1000)


def test_reader_validates_cell_sources(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": ["a", 1]}]}')
    with pytest.raises(_notebook.NotebookError, match="holds a int"):
        _notebook.read_notebook(path)
    path.write_text('{"cells": [{"cell_type": "code", "source": {"a": 1}}]}')
    with pytest.raises(_notebook.NotebookError, match="source is a dict"):
        _notebook.read_notebook(path)
    path.write_text('{"cells": [{"cell_type": "code", "source": ["# exercise: lesson01.predict\\n",'
                    ' "x = 1"]}, {"cell_type": "code", "source": "# exercise: lesson01.predict"}]}')
    cells = _notebook.answer_cells(_notebook.read_notebook(path))
    assert [(i, e) for i, e, _s in cells] == [(0, "lesson01.predict"), (1, "lesson01.predict")]
    assert grading.read_answers(path)[0]["lesson01.predict"][0] == 1   # the last copy


def test_review_flags_cover_builtins_getattr_and_processes():
    assert "uses __builtins__" in grading.review_flags("__builtins__['open']")
    assert "uses getattr" in grading.review_flags("getattr(x, 'y')")
    assert any("os.fork" in f for f in grading.review_flags("import os\nos.fork()"))


def test_fresh_interpreters_give_the_same_grades(tmp_path):
    folder = tmp_path / "subs"
    for name, answers in (("a", subs.CORRECT), ("b", {**subs.CORRECT, "predict": subs.PREDICT_COLUMN,
                                                      "compute_cost": subs.COST_SUM})):
        subs.write(subs.lesson01_notebook(answers), folder / f"{name}.ipynb")
    warm = grading.grade(folder, seed=3, timeout=5, jobs=2)
    fresh = grading.grade(folder, seed=3, timeout=5, jobs=2, fresh_interpreters=True)
    assert warm == fresh and {r.status for r in warm} == {"correct", "incorrect"}


def test_a_crashed_answer_is_retried_once_alone_at_the_end(tmp_path):
    folder = tmp_path / "subs"
    marker = tmp_path / "crashed-once"
    # crashes the first time only (it leaves a mark outside its job folder, which needs the
    # file-system confinement off): the retry gives the real verdict
    once = subs.hostile_predict(f"if not os.path.exists({str(marker)!r}):\n"
                                f"    open({str(marker)!r}, 'w').close()\n"
                                f"    os._exit(9)")
    subs.write(subs.lesson01_notebook({"predict": once}), folder / "once.ipynb")
    subs.write(subs.lesson01_notebook({"predict": subs.PREDICT_EXIT}), folder / "always.ipynb")
    features = dict(_sandbox.probe(), filesystem=False)
    rows = {r.student: r for r in grading.grade(folder, seed=1, timeout=5, jobs=2,
                                                features=features)
            if r.exercise == "lesson01.predict"}
    assert marker.exists()
    assert rows["once"].status == "incorrect"            # the zeros it returns, judged
    assert rows["always"].status == "crashed"
    assert rows["always"].message.endswith("(also when retried alone)")
