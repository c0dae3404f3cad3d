"""`gdcourse grade --shard K/N` + `merge-grades` give the unsharded gradebook (real grader)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import submissions as subs  # noqa: E402

from gdcourse import cli, gradebook  # noqa: E402


def test_two_shards_merged_equal_one_unsharded_run(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    right = {"predict": subs.PREDICT}
    wrong = {"predict": subs.PREDICT_COLUMN}
    for name, answers in (("ann", right), ("ben", wrong), ("cat", right), ("dan", {}),
                          ("eve", wrong)):
        subs.write(subs.lesson01_notebook(answers), folder / f"{name}.ipynb")
    args = ["--lesson", "1", "--seed", "5", "--jobs", "2"]
    whole = tmp_path / "whole.csv"
    assert cli.main(["grade", str(folder), "--out", str(whole), *args,
                     "--wide", str(tmp_path / "wide.csv"), "--feedback", str(tmp_path / "fb")]) == 0
    parts = []
    for k in (1, 2):
        part = tmp_path / f"part-{k}.csv"
        assert cli.main(["grade", str(folder), "--out", str(part), "--shard", f"{k}/2", *args]) == 0
        rows, shard = gradebook.read_grades_csv(part)
        assert shard == (k, 2)
        assert {r.student for r in rows} == {s for s in ("ann", "ben", "cat", "dan", "eve")
                                             if gradebook.shard_of(s, 2) == k}
        parts.append(part)
    merged = gradebook.merge_grades(tmp_path / "merged.csv", parts)
    expected, _ = gradebook.read_grades_csv(whole)
    assert merged == sorted(expected, key=lambda r: r.student)  # already in exercise order
    assert {r.status for r in merged if r.exercise == "lesson01.predict"} == {
        "correct", "incorrect", "missing"}
    header, table = gradebook.wide_table(expected)
    assert (tmp_path / "wide.csv").read_text(encoding="utf-8").splitlines()[0] == ",".join(header)
    assert len(list((tmp_path / "fb").glob("*.html"))) == 5 == len(table)
    capsys.readouterr()
    assert cli.main(["grade", str(folder), "--out", str(tmp_path / "x.csv"), "--shard", "3/2"]) == 2
    assert "1 <= K <= N" in capsys.readouterr().err
