"""Sharding, merging, the wide gradebook and the feedback pages (gdcourse.gradebook)."""

from __future__ import annotations

import csv
import hashlib
import random
import re

import pytest

from gdcourse import cli, gradebook
from gdcourse.exercises import _core
from gdcourse.gradebook import MergeError, Row

EXERCISES = [ex for lesson in ("lesson01",) for ex in _core.lesson_exercises(lesson)]


def _class_rows(students):
    """Rows like the grader's: every student × every lesson-1 exercise, varied statuses."""
    statuses = ["correct", "incorrect", "error", "not_attempted", "timeout"]
    rows = []
    for i, student in enumerate(students):
        for j, ex in enumerate(EXERCISES):
            status = statuses[(i + j) % len(statuses)]
            rows.append(Row(student, ex.id, ex.points if status == "correct" else 0.0,
                            ex.points, status, f"message {i}-{j}", ""))
    return rows


STUDENTS = [f"student{n:03d}" for n in range(60)] + ["Zoë Ü", "o'brien", "a,b"]


# --- shards ----------------------------------------------------------------

def test_shard_of_is_the_sha256_of_the_key_not_list_order():
    key = "alice"
    digest = hashlib.sha256(key.encode()).digest()
    assert gradebook.shard_of(key, 7) == int.from_bytes(digest[:8], "big") % 7 + 1
    shuffled = STUDENTS[:]
    random.Random(3).shuffle(shuffled)
    for n in (1, 2, 3, 5):
        assert ({s: gradebook.shard_of(s, n) for s in STUDENTS}
                == {s: gradebook.shard_of(s, n) for s in shuffled})


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_shards_are_disjoint_and_cover_everyone(n):
    parts = [gradebook.select_shard(STUDENTS, f"{k}/{n}") for k in range(1, n + 1)]
    flat = [s for part in parts for s in part]
    assert sorted(flat) == sorted(STUDENTS) and len(flat) == len(set(flat))
    if n <= 3:  # 63 keys: no shard of 2 or 3 is empty
        assert all(parts)


def test_select_shard_keeps_order_and_uses_the_key():
    items = [(s, [f"{s}.ipynb"]) for s in STUDENTS]
    picked = gradebook.select_shard(items, (2, 3), key=lambda item: item[0])
    assert [s for s, _ in picked] == [s for s in STUDENTS if gradebook.shard_of(s, 3) == 2]
    assert gradebook.select_shard(items, None) == items


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1/0", "2", "a/b", "1/2/3", ""])
def test_parse_shard_refuses_bad_values(bad):
    with pytest.raises(ValueError, match="shard"):
        gradebook.parse_shard(bad)


def test_shard_of_refuses_zero_shards():
    with pytest.raises(ValueError, match="at least 1"):
        gradebook.shard_of("x", 0)


# --- merging ---------------------------------------------------------------

def _write_parts(tmp_path, rows, n):
    paths = []
    for k in range(1, n + 1):
        mine = gradebook.select_shard(rows, (k, n), key=lambda r: r.student)
        path = tmp_path / f"part{k}.csv"
        gradebook.write_grades_csv(mine, path, shard=(k, n))
        paths.append(path)
    return paths


def test_merge_of_the_shards_is_the_whole_class(tmp_path):
    rows = _class_rows(STUDENTS)
    parts = _write_parts(tmp_path, rows, 3)
    assert parts[0].read_text(encoding="utf-8").startswith("# gdcourse-shard: 1/3\n")
    merged = gradebook.merge_grades(tmp_path / "all.csv", reversed(parts), roster=STUDENTS)
    expected = sorted(rows, key=lambda r: (r.student, [e.id for e in EXERCISES].index(r.exercise)))
    assert merged == expected
    back, shard = gradebook.read_grades_csv(tmp_path / "all.csv")
    assert shard is None and back == expected


def test_merge_refuses_a_missing_shard(tmp_path):
    parts = _write_parts(tmp_path, _class_rows(STUDENTS), 3)
    with pytest.raises(MergeError, match=r"missing shard\(s\) 2/3"):
        gradebook.merge_grades(tmp_path / "all.csv", [parts[0], parts[2]])


def test_merge_refuses_a_shard_given_twice(tmp_path):
    parts = _write_parts(tmp_path, _class_rows(STUDENTS), 2)
    with pytest.raises(MergeError, match="given twice"):
        gradebook.merge_grades(tmp_path / "all.csv", [parts[0], parts[0], parts[1]])


def test_merge_refuses_overlapping_students(tmp_path):
    rows = _class_rows(STUDENTS)
    parts = _write_parts(tmp_path, rows, 2)
    # a part that claims 2/2 but repeats one student of 1/2 (e.g. graded from the wrong list)
    one = gradebook.select_shard(rows, (1, 2), key=lambda r: r.student)[:3]
    two = gradebook.select_shard(rows, (2, 2), key=lambda r: r.student)
    gradebook.write_grades_csv(two + one, parts[1], shard=(2, 2))
    with pytest.raises(MergeError, match=f"{one[0].student!r} is in two parts|belongs to shard 1/2"):
        gradebook.merge_grades(tmp_path / "all.csv", parts)


def test_merge_refuses_a_student_in_the_wrong_shard(tmp_path):
    rows = _class_rows(STUDENTS)
    stranger = next(s for s in STUDENTS if gradebook.shard_of(s, 2) == 2)
    one = [r for r in rows if gradebook.shard_of(r.student, 2) == 1 or r.student == stranger]
    two = [r for r in rows if gradebook.shard_of(r.student, 2) == 2 and r.student != stranger]
    gradebook.write_grades_csv(one, tmp_path / "p1.csv", shard="1/2")
    gradebook.write_grades_csv(two, tmp_path / "p2.csv", shard="2/2")
    with pytest.raises(MergeError, match=f"{stranger!r}, who belongs to shard 2/2"):
        gradebook.merge_grades(tmp_path / "all.csv", [tmp_path / "p1.csv", tmp_path / "p2.csv"])


def test_merge_refuses_parts_of_different_shard_counts_and_unsharded_files(tmp_path):
    rows = _class_rows(STUDENTS)
    (tmp_path / "two").mkdir()
    (tmp_path / "three").mkdir()
    two = _write_parts(tmp_path / "two", rows, 2)
    three = _write_parts(tmp_path / "three", rows, 3)
    with pytest.raises(MergeError, match="different numbers of shards"):
        gradebook.merge_grades(tmp_path / "all.csv", [two[0], three[1], three[2]])
    gradebook.write_grades_csv(rows, tmp_path / "plain.csv")
    with pytest.raises(MergeError, match="no '# gdcourse-shard: K/N' first line"):
        gradebook.merge_grades(tmp_path / "all.csv", [tmp_path / "plain.csv"])
    with pytest.raises(MergeError, match="at least one"):
        gradebook.merge_grades(tmp_path / "all.csv", [])


def test_merge_refuses_duplicated_rows_and_checks_the_roster(tmp_path):
    rows = _class_rows(STUDENTS)
    parts = _write_parts(tmp_path, rows, 2)
    one = gradebook.select_shard(rows, (1, 2), key=lambda r: r.student)
    gradebook.write_grades_csv(one + one[:1], parts[0], shard=(1, 2))
    with pytest.raises(MergeError, match="appears twice"):
        gradebook.merge_grades(tmp_path / "all.csv", parts)
    gradebook.write_grades_csv(one, parts[0], shard=(1, 2))
    with pytest.raises(MergeError, match="rostered student.*'nobody'"):
        gradebook.merge_grades(tmp_path / "all.csv", parts, roster=[*STUDENTS, "nobody"])
    with pytest.raises(MergeError, match="not on the roster"):
        gradebook.merge_grades(tmp_path / "all.csv", parts, roster=STUDENTS[1:])


def test_read_grades_csv_names_the_problem(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("# something else\nstudent,exercise\n", encoding="utf-8")
    with pytest.raises(MergeError, match="not '# gdcourse-shard: K/N'"):
        gradebook.read_grades_csv(bad)
    bad.write_text("name,score\nx,1\n", encoding="utf-8")
    with pytest.raises(MergeError, match="lacks student, exercise, points"):
        gradebook.read_grades_csv(bad)
    bad.write_text("# gdcourse-shard: 3/2\n" + ",".join(gradebook.COLUMNS) + "\n",
                   encoding="utf-8")
    with pytest.raises(MergeError, match="1 <= K <= N"):
        gradebook.read_grades_csv(bad)
    bad.write_text(",".join(gradebook.COLUMNS) + "\nx,lesson01.predict,one,1,correct,ok,\n",
                   encoding="utf-8")
    with pytest.raises(MergeError, match="line 2: points and max_points must be numbers"):
        gradebook.read_grades_csv(bad)
    with pytest.raises(MergeError, match="cannot read"):
        gradebook.read_grades_csv(tmp_path / "absent.csv")


def test_merge_grades_command(tmp_path, capsys):
    rows = _class_rows(STUDENTS)
    parts = _write_parts(tmp_path, rows, 2)
    roster = tmp_path / "roster.txt"
    roster.write_text("# the class\n" + "\n".join(f'"{s}"' if "," in s else s for s in STUDENTS)
                      + "\n\n", encoding="utf-8")
    out = tmp_path / "all.csv"
    code = cli.main(["merge-grades", str(out), *map(str, parts), "--roster", str(roster),
                     "--wide", str(tmp_path / "wide.csv"), "--feedback", str(tmp_path / "fb")])
    assert code == 0
    assert f"{len(rows)} rows for {len(STUDENTS)} student(s) from 2 part(s)" in capsys.readouterr().out
    assert len(list((tmp_path / "fb").glob("*.html"))) == len(STUDENTS)
    assert cli.main(["merge-grades", str(out), str(parts[0])]) == 2
    assert "missing shard(s) 2/2" in capsys.readouterr().err


# --- the wide gradebook ----------------------------------------------------

def test_wide_table_one_row_per_student_with_total_and_percent(tmp_path):
    rows = _class_rows(STUDENTS[:5])
    rows = [r for r in rows if not (r.student == STUDENTS[4] and r.exercise == EXERCISES[1].id)]
    header, table = gradebook.wide_table(rows)
    assert header == ["student", *(e.id for e in EXERCISES), "total", "percent"]
    assert [line[0] for line in table] == sorted(STUDENTS[:5])
    possible = sum(e.points for e in EXERCISES)
    for line in table:
        mine = {r.exercise: r.points for r in rows if r.student == line[0]}
        cells = dict(zip(header[1:-2], line[1:-2]))
        for ex in EXERCISES:
            assert cells[ex.id] == (f"{mine[ex.id]:.6g}" if ex.id in mine else "")
        assert float(line[-2]) == pytest.approx(sum(mine.values()))
        assert float(line[-1]) == pytest.approx(100 * sum(mine.values()) / possible, abs=0.006)
    gradebook.write_wide(rows, tmp_path / "wide.csv")
    with open(tmp_path / "wide.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [header, *table]


def test_wide_table_refuses_inconsistent_rows():
    row = Row("a", "lesson01.predict", 1, 1, "correct", "ok")
    with pytest.raises(ValueError, match="out of 1 points in one row and 2"):
        gradebook.wide_table([row, row._replace(student="b", max_points=2)])
    with pytest.raises(ValueError, match="appears twice"):
        gradebook.wide_table([row, row])


def test_rows_may_be_dicts_or_any_named_tuple():
    from gdcourse.grading import GradeRow
    row = GradeRow("a", "lesson01.predict", 1.0, 1.0, "correct", "ok", "")
    as_dict = dict(row._asdict(), points="1")
    assert gradebook.wide_table([row]) == gradebook.wide_table([as_dict])
    with pytest.raises(TypeError, match="named tuple or a dict"):
        gradebook.wide_table([("a", "b")])
    with pytest.raises(ValueError, match="has no status, message"):
        gradebook.wide_table([{"student": "a", "exercise": "x", "points": 1, "max_points": 1}])


# --- feedback pages ----------------------------------------------------------

def _solution_lines(ex):
    """The reference solution's body lines (not its signature or docstring)."""
    text = str(ex.solution())
    code = text.split("```python\n", 1)[1].rsplit("```", 1)[0]
    return [line.strip() for line in code.splitlines()[1:]
            if line.strip() and not line.strip().startswith(('"""', "#"))
            and len(line.strip()) > 12]


def test_feedback_pages_show_status_points_message_and_the_first_hint_only(tmp_path):
    student = "<script>alert('x')</script> & co"
    rows = [Row(student, EXERCISES[0].id, 0, 1, "incorrect", "wrong <b>values</b> & more"),
            Row(student, EXERCISES[1].id, 1, 1, "correct", "Correct, well done!"),
            Row(student, EXERCISES[2].id, 0, 1, "not_attempted", "not attempted yet"),
            Row(student, "lesson99.unknown", 0, 2, "missing", "no answer cell")]
    pages = gradebook.write_feedback(rows, tmp_path / "fb")
    page = pages[student]
    assert page.parent == tmp_path / "fb" and re.fullmatch(r"script_alert_x_script_co-[0-9a-f]{8}"
                                                           r"\.html", page.name)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "wrong &lt;b&gt;values&lt;/b&gt; &amp; more" in text
    assert "Total: <strong>1 / 5</strong> (20%)" in text
    # the first hint of the wrong answers, with `code` shown as <code>
    hint0 = EXERCISES[0].hints[0]
    first_code = re.search(r"`([^`]+)`", hint0).group(1)
    assert f"<code>{first_code}</code>" in text
    assert "Hint:" in text and text.count("Hint:") == 2  # incorrect and not attempted, not correct
    assert gradebook._inline_markdown(EXERCISES[1].hints[0]) not in text
    for ex in EXERCISES:
        if len(ex.hints) > 1:
            assert gradebook._inline_markdown(ex.hints[1]) not in text
    # self-contained: no scripts, no links, no external resources
    assert not re.search(r"<script|<link|src=|href=|https?://", text)


def test_feedback_never_shows_a_reference_solution(tmp_path):
    lessons = _core.available_lessons()
    rows = [Row("s", ex.id, 0, ex.points, "incorrect", "wrong")
            for lesson in lessons for ex in _core.lesson_exercises(lesson)]
    text = gradebook.feedback_page("s", rows)
    assert "Solution to" not in text and "solution" not in text.lower()
    for lesson in lessons:
        for ex in _core.lesson_exercises(lesson):
            lines = _solution_lines(ex)
            # a hint may quote one step (lesson03.gd_step's hint gives the gradient line),
            # but the page never holds the reference solution itself
            assert lines and not all(line in text for line in lines), ex.id


def test_feedback_page_names_never_collide(tmp_path):
    rows = [Row(name, "lesson01.predict", 1, 1, "correct", "ok")
            for name in ("alice", "Alice", "a/b", "a?b", "..")]
    pages = gradebook.write_feedback(rows, tmp_path)
    names = [p.name.lower() for p in pages.values()]
    # the first of two keys equal but for case keeps its plain name, the other gets a hash
    assert len(set(names)) == 5 and pages["Alice"].name == "Alice.html"
    assert re.fullmatch(r"alice-[0-9a-f]{8}\.html", pages["alice"].name)
    assert all(p.exists() and p.parent == tmp_path for p in pages.values())


def test_gradebook_command(tmp_path, capsys):
    rows = _class_rows(STUDENTS[:4])
    gradebook.write_grades_csv(rows, tmp_path / "grades.csv")
    assert cli.main(["gradebook", str(tmp_path / "grades.csv"), "--wide",
                     str(tmp_path / "w.csv"), "--feedback", str(tmp_path / "fb")]) == 0
    out = capsys.readouterr().out
    assert "wide gradebook" in out and "4 feedback page(s)" in out
    assert cli.main(["gradebook", str(tmp_path / "grades.csv")]) == 2
    assert "--wide" in capsys.readouterr().err
    assert cli.main(["gradebook", str(tmp_path / "absent.csv"), "--wide", "w.csv"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_add_grade_options_parses_what_grade_needs(tmp_path):
    import argparse
    parser = argparse.ArgumentParser()
    gradebook.add_grade_options(parser)
    args = parser.parse_args(["--shard", "2/3", "--wide", "w.csv", "--feedback", "fb"])
    assert gradebook.parse_shard(args.shard) == (2, 3)
    assert str(args.wide) == "w.csv" and str(args.feedback) == "fb"
