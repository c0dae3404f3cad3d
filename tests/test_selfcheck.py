"""`gdcourse check`: headless run, a table per notebook, and no hang."""

from __future__ import annotations

import sys
from pathlib import Path

from nbformat.v4 import new_code_cell

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import submissions as subs  # noqa: E402

from gdcourse import selfcheck  # noqa: E402


def test_table_statuses_score_timeout_and_exit_code(tmp_path, monkeypatch, capsys):
    # one learner notebook with a right, a wrong and an untouched answer, plus a cell that
    # never ends (like an `interact` cell that hangs) and a cell with an unrelated error
    answers = {"predict": subs.PREDICT, "compute_cost": subs.COST_NO_HALF,
               "cost_grid": subs.STUB["cost_grid"]}
    extra = [new_code_cell("import time\nwhile True:\n    time.sleep(0.1)"),
             new_code_cell("import os\nprint(os.environ.get('GDCOURSE_HEADLESS'))"),
             new_code_cell("undefined_name")]
    subs.write(subs.lesson01_notebook(answers, extra_cells=extra),
               tmp_path / "exercises" / "01_cost.ipynb")
    monkeypatch.chdir(tmp_path)
    code = selfcheck.cli(["--cell-timeout", "3"])          # no argument: exercises/*.ipynb
    out = capsys.readouterr().out
    assert code == 1
    lines = {line.split()[0]: line for line in out.splitlines() if "lesson01." in line}
    assert "✓ correct" in lines["lesson01.predict"]
    assert "✗ incorrect" in lines["lesson01.compute_cost"]
    assert "½ is missing" in lines["lesson01.compute_cost"]
    assert "○ not attempted" in lines["lesson01.cost_grid"]
    assert "score: 1/3" in out
    assert "took longer than 3 s and was interrupted" in out
    assert "NameError" in out


def test_all_correct_exits_zero_and_headless_flag_reaches_the_kernel(tmp_path, capsys):
    extra = [new_code_cell("import os\nassert os.environ['GDCOURSE_HEADLESS'] == '1'")]
    path = subs.write(subs.lesson01_notebook(subs.CORRECT, extra_cells=extra),
                      tmp_path / "01_cost.ipynb")
    assert selfcheck.cli([str(path)]) == 0
    out = capsys.readouterr().out
    assert "score: 3/3" in out and "note" not in out


def test_overall_timeout_kills_the_kernel(tmp_path):
    # the cell timeout is longer than the notebook's: only the overall limit can stop it
    extra = [new_code_cell("import time\ntime.sleep(600)")]
    path = subs.write(subs.lesson01_notebook(subs.CORRECT, extra_cells=extra),
                      tmp_path / "01_cost.ipynb")
    report = selfcheck.check_notebook(path, cell_timeout=600, total_timeout=8)
    assert any("did not finish" in note for note in report.notes)
    assert [r.status for r in report.exercises] == ["not_run"] * 3


def test_missing_and_unreadable_notebooks(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert selfcheck.cli([]) == 2
    assert "no exercises/ folder" in capsys.readouterr().err
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    assert selfcheck.cli([str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().out
