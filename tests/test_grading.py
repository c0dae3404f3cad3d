"""Instructor grading: isolation, hidden inputs, and no submission ever lost."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import submissions as subs  # noqa: E402

from gdcourse import grading  # noqa: E402
from gdcourse.exercises import lesson01  # noqa: E402

SEED = 20240607


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    expect = subs.make_submissions(folder)
    out = folder.parent / "grades.csv"
    code = grading.cli([str(folder), "--out", str(out), "--seed", str(SEED), "--timeout", "3"])
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return code, expect, rows


def test_cli_succeeds_and_writes_every_row(graded):
    code, expect, rows = graded
    students = [s for s in expect if not s.startswith("_")]
    assert code == 0
    assert len(rows) == 3 * len(students)
    assert {(r["student"], r["exercise"]) for r in rows} == {
        (s, f"lesson01.{name}") for s in students
        for name in ("predict", "compute_cost", "cost_grid")}
    assert list(rows[0]) == list(grading.CSV_COLUMNS)


def test_every_submission_gets_its_expected_status_and_points(graded):
    _code, expect, rows = graded
    got = {(r["student"], r["exercise"]): r for r in rows}
    wrong = []
    for student, statuses in expect.items():
        if student.startswith("_"):
            continue
        for name, status in statuses.items():
            row = got[(student, f"lesson01.{name}")]
            points = 1.0 if status == "correct" else 0.0
            if row["status"] != status or float(row["points"]) != points:
                wrong.append((student, name, status, row["status"], row["message"]))
    assert not wrong


def test_feedback_names_the_mistake(graded):
    _code, expect, rows = graded
    got = {(r["student"], r["exercise"]): r["message"] for r in rows}
    for key, fragment in expect["_messages"].items():
        assert fragment in got[key], (key, got[key])


def test_risky_answers_are_flagged_for_review(graded):
    _code, _expect, rows = graded
    review = {(r["student"], r["exercise"]): r["review"] for r in rows}
    assert "opens files" in review[("opens_file", "lesson01.compute_cost")]
    assert "gdcourse" in review[("monkeypatch", "lesson01.predict")]
    assert "os" in review[("os_exit", "lesson01.predict")]
    assert review[("correct", "lesson01.predict")] == ""


def test_summary_is_printed(graded, capsys):
    # the module fixture printed before capsys; print a summary again from the rows
    _code, _expect, rows = graded
    text = grading._summary([grading.GradeRow(r["student"], r["exercise"], float(r["points"]),
                                              float(r["max_points"]), r["status"], r["message"],
                                              r["review"]) for r in rows])
    assert "lesson01.compute_cost" in text and "flagged for review" in text


def test_hidden_inputs_come_from_the_instructors_seed():
    ex = lesson01.compute_cost
    public = ex.cases(0)
    hidden_a, hidden_b = ex.grading_cases(1), ex.grading_cases(2)
    assert len(public) == len(hidden_a)

    def random_part(cases):
        return [c[1] for c in cases[3:]]

    for a, b in zip(random_part(public), random_part(hidden_a)):
        assert a.shape != b.shape or not np.allclose(a, b)
    for a, b in zip(random_part(hidden_a), random_part(ex.grading_cases(1))):
        np.testing.assert_array_equal(a, b)
    assert any(a.shape != b.shape or not np.allclose(a, b)
               for a, b in zip(random_part(hidden_a), random_part(hidden_b)))


def test_review_flags():
    assert grading.review_flags("def f(x):\n    return x\n") == []
    assert "uses exec" in grading.review_flags("exec('1')")
    assert "uses eval" in grading.review_flags("y = eval('1')")
    assert "uses __import__" in grading.review_flags("m = __import__('os')")
    assert any("importlib" in f for f in grading.review_flags("import importlib"))
    assert any("gdcourse" in f for f in grading.review_flags("from gdcourse.grading import cli"))
    assert "opens files" in grading.review_flags("open('x')")
    assert grading.review_flags("def f(:\n")[0].startswith("does not parse")


def test_read_answers_handles_bad_files(tmp_path):
    bad = tmp_path / "x.ipynb"
    bad.write_text('{"cells": 3}')
    answers, problem = grading.read_answers(bad)
    assert answers == {} and "not a Jupyter notebook" in problem
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert grading.read_answers(bad)[1].startswith("unreadable")


def test_folder_per_student_and_lesson_option(tmp_path):
    folder = tmp_path / "subs"
    subs.write(subs.lesson01_notebook(subs.CORRECT), folder / "ann" / "01_cost.ipynb")
    (folder / "bo").mkdir()
    (folder / "bo" / "notes.txt").write_text("nothing here")
    rows = grading.grade(folder, seed=1, timeout=5, lesson="1")
    by = {(r.student, r.exercise): r for r in rows}
    assert all(by[("ann", f"lesson01.{n}")].status == "correct"
               for n in ("predict", "compute_cost", "cost_grid"))
    assert all(by[("bo", f"lesson01.{n}")].status == "unreadable"
               for n in ("predict", "compute_cost", "cost_grid"))


def test_cli_refuses_bad_usage(tmp_path, capsys):
    assert grading.cli([str(tmp_path / "nope"), "--out", str(tmp_path / "g.csv")]) == 2
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("x")
    assert grading.cli([str(tmp_path / "empty"), "--out", str(tmp_path / "g.csv")]) == 2
    assert "--lesson" in capsys.readouterr().err


def test_progress_is_a_live_bar_on_a_terminal_and_sparse_lines_in_a_log():
    import io

    from gdcourse.grading import _Progress

    log = io.StringIO()
    bar = _Progress(25, log)
    for _ in range(25):
        bar.step()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and lines[0] == "grading: 2/25 answers"
    assert lines[-1] == "grading: 25/25 answers" and len(lines) == 13

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    bar = _Progress(4, term)
    for _ in range(4):
        bar.step()
    assert term.getvalue().count("\r") == 4 and term.getvalue().endswith("4/4 answers\n")
    assert "[##############################]" in term.getvalue()
