"""solutions/ -> exercises/: stubs, sync check, refusal of malformed sources, nbval hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import submissions as subs  # noqa: E402

from gdcourse import authoring  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def course(tmp_path):
    subs.write(subs.tiny_solutions_notebook(), tmp_path / "solutions" / "01_cost.ipynb")
    return tmp_path


def _build(course, *extra):
    return authoring.cli(["--solutions", str(course / "solutions"),
                          "--exercises", str(course / "exercises"), *extra])


def _cells(path):
    return nbformat.read(str(path), as_version=4).cells


def test_build_writes_stubs_and_keeps_everything_else(course, capsys):
    assert _build(course) == 0
    assert "lesson01.predict, lesson01.compute_cost" in capsys.readouterr().out
    source_cells = _cells(course / "solutions" / "01_cost.ipynb")
    cells = _cells(course / "exercises" / "01_cost.ipynb")
    kept = [c for c in source_cells if "solution-only" not in c.metadata.get("tags", [])]
    assert len(cells) == len(kept) == len(source_cells) - 1
    for src, out in zip(kept, cells):
        assert out.get("id") == src.get("id") and out.cell_type == src.cell_type
        if out.cell_type == "code":
            assert out.outputs == [] and out.execution_count is None
        if ".check(" in src.source:
            # check cells gain the tag that lets JupyterLab's Run All continue past them
            assert out.source == src.source
            assert out.metadata.get("tags") == [*src.metadata.get("tags", []), "raises-exception"]
            assert {k: v for k, v in out.metadata.items() if k != "tags"} == \
                {k: v for k, v in src.metadata.items() if k != "tags"}
        elif "BEGIN SOLUTION" not in src.source:
            assert out.source == src.source and out.metadata == src.metadata
    predict = cells[2]
    assert predict.source.splitlines() == [
        "# exercise: lesson01.predict",
        "def predict(theta, X):",
        '    """Predictions Xθ."""',
        "    # your code here",
        "    raise NotImplementedError",
        "",
    ][: len(predict.source.splitlines())]
    assert predict.metadata["gdcourse"]["exercise"] == "lesson01.predict"
    assert "X @ theta" not in predict.source
    cost = cells[4].source
    assert "    m = len(y)\n    # your code here\n    raise NotImplementedError" in cost
    nbformat.validate(nbformat.read(str(course / "exercises" / "01_cost.ipynb"), as_version=4))


def test_stub_keeps_indentation_top_level_and_several_regions():
    cell = subs.solutions_cell("lesson01.cost_grid", (
        "### BEGIN SOLUTION\nA = 1\n### END SOLUTION\n"
        "def cost_grid(X, y, a, b):\n"
        "    for i in range(3):\n"
        "        ### BEGIN SOLUTION\n"
        "        pass\n"
        "        ### END SOLUTION\n"
        "    return None\n"), metadata=False)
    nb, ids = authoring.build_notebook(new_notebook(cells=[cell]))
    lines = nb.cells[0].source.splitlines()
    assert ids == ["lesson01.cost_grid"]
    assert lines[1:3] == ["# your code here", "raise NotImplementedError"]
    assert "        # your code here" in lines and "        raise NotImplementedError" in lines
    assert nb.cells[0].metadata["gdcourse"]["exercise"] == "lesson01.cost_grid"


def test_check_passes_when_in_sync_and_names_notebook_and_cell_when_not(course, capsys):
    assert _build(course) == 0
    assert _build(course, "--check") == 0
    target = course / "exercises" / "01_cost.ipynb"
    nb = nbformat.read(str(target), as_version=4)
    nb.cells[4].source = nb.cells[4].source.replace("raise NotImplementedError", "return 0.0")
    nbformat.write(nb, str(target))
    capsys.readouterr()
    assert _build(course, "--check") == 1
    err = capsys.readouterr().err
    assert "01_cost.ipynb" in err and "cell 4 (lesson01.compute_cost)" in err
    # a missing exercise notebook, and an orphan one
    target.unlink()
    subs.write(new_notebook(), course / "exercises" / "07_orphan.ipynb")
    assert _build(course, "--check") == 1
    err = capsys.readouterr().err
    assert "01_cost.ipynb: missing" in err and "07_orphan.ipynb: has no source" in err


def test_outputs_left_in_exercises_are_out_of_sync(course, capsys):
    assert _build(course) == 0
    target = course / "exercises" / "01_cost.ipynb"
    nb = nbformat.read(str(target), as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    nbformat.write(nb, str(target))
    assert _build(course, "--check") == 1
    assert "cell 1 differs in its outputs" in capsys.readouterr().err


@pytest.mark.parametrize("cells, fragment", [
    ([subs.solutions_cell("lesson01.predict", "### BEGIN SOLUTION\nx = 1\n")], "never closed"),
    ([subs.solutions_cell("lesson01.predict",
                          "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n")], "nested"),
    ([subs.solutions_cell("lesson01.predict", "x = 1\n### END SOLUTION\n")], "without a"),
    ([new_markdown_cell("### BEGIN SOLUTION\n### END SOLUTION")], "outside an answer cell"),
    ([new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n")], "outside an answer cell"),
    ([subs.solutions_cell("lesson01.predict", "### BEGIN SOLUTION\n### END SOLUTION\n"),
      subs.solutions_cell("lesson01.predict", "### BEGIN SOLUTION\n### END SOLUTION\n")],
     "duplicate exercise id"),
    ([subs.solutions_cell("lesson01.predict", "x = 1\n")], "has no ### BEGIN SOLUTION"),
    ([subs.solutions_cell("predict", "### BEGIN SOLUTION\n### END SOLUTION\n")], "should look like"),
])
def test_malformed_sources_are_refused_clearly(tmp_path, capsys, cells, fragment):
    subs.write(new_notebook(cells=cells), tmp_path / "solutions" / "02_bad.ipynb")
    code = authoring.cli(["--solutions", str(tmp_path / "solutions"),
                          "--exercises", str(tmp_path / "exercises")])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "02_bad.ipynb" in err and "cell" in err
    assert not (tmp_path / "exercises" / "02_bad.ipynb").exists()


def test_id_comment_and_metadata_must_agree_and_ids_are_unique_across_notebooks(tmp_path):
    cell = subs.solutions_cell("lesson01.predict", "### BEGIN SOLUTION\n### END SOLUTION\n")
    cell.metadata["gdcourse"]["exercise"] = "lesson01.compute_cost"
    with pytest.raises(authoring.AuthoringError, match="metadata says"):
        authoring.build_notebook(new_notebook(cells=[cell]), "x")
    ok = subs.solutions_cell("lesson01.predict", "### BEGIN SOLUTION\n### END SOLUTION\n")
    subs.write(new_notebook(cells=[ok]), tmp_path / "s" / "01_a.ipynb")
    subs.write(new_notebook(cells=[ok]), tmp_path / "s" / "02_b.ipynb")
    with pytest.raises(authoring.AuthoringError, match="also in"):
        authoring.build_all(tmp_path / "s", tmp_path / "e")


def test_not_a_notebook_is_refused(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01_x.ipynb").write_text("{broken")
    assert authoring.cli(["--solutions", str(tmp_path / "solutions"),
                          "--exercises", str(tmp_path / "exercises")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_build_is_deterministic_for_notebooks_without_cell_ids(tmp_path):
    raw = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                      "source": ["# exercise: lesson01.predict\n", "### BEGIN SOLUTION\n",
                                 "x = 1\n", "### END SOLUTION\n"]}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "01_a.ipynb").write_text(json.dumps(raw))
    authoring.build_all(tmp_path / "s", tmp_path / "e")
    first = (tmp_path / "e" / "01_a.ipynb").read_text()
    assert authoring.check_all(tmp_path / "s", tmp_path / "e") == []
    authoring.build_all(tmp_path / "s", tmp_path / "e")
    assert (tmp_path / "e" / "01_a.ipynb").read_text() == first


def test_nbval_hook_requires_checks_to_fail_as_not_attempted(course):
    """Run nbval (in a subprocess) on built exercises, with the repository's conftest."""
    assert _build(course) == 0
    shutil.copy(ROOT / "conftest.py", course / "conftest.py")
    # a second notebook: predict is solved (its check passes) and compute_cost is wrong
    # (its check fails as Incorrect, not NotAttempted): both are failures
    bad = nbformat.read(str(course / "solutions" / "01_cost.ipynb"), as_version=4)
    bad.cells = [c for c in bad.cells if "solution-only" not in c.metadata.get("tags", [])]
    bad.cells[4].source = "def compute_cost(theta, X, y):\n    return 0.0\n"
    subs.write(bad, course / "exercises" / "02_solved.ipynb")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-current-env", "--nbval-cell-timeout=60", "-q", "-o", "addopts=",
         "exercises"],
        cwd=course, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout
    # nbval numbers code cells only: 2 and 4 are the check cells
    assert "FAILED exercises/02_solved.ipynb::Cell 2" in out
    assert "this check passed in an untouched exercise notebook" in out
    assert "FAILED exercises/02_solved.ipynb::Cell 4" in out
    assert "must fail as NotAttempted, but it failed with Incorrect" in out
    assert "01_cost.ipynb" not in out.split("short test summary")[-1]
    assert "2 failed" in out, out[-2000:]


def test_repository_exercises_are_in_sync_with_solutions(capsys):
    """The committed exercises/ must be what `gdcourse build-exercises` writes."""
    if not sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        pytest.skip("no solutions notebooks yet")
    code = authoring.cli(["--check", "--solutions", str(ROOT / "solutions"),
                          "--exercises", str(ROOT / "exercises")])
    assert code == 0, capsys.readouterr().err
