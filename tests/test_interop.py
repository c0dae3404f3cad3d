"""The nbgrader and Otter exporters' output, without the tools (see test_interop_tools.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from gdcourse import cli, interop
from gdcourse.authoring import BEGIN, END, answer_id
from gdcourse.exercises import _core

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _clear_like_nbgrader(source, stub):
    """What nbgrader's ClearSolutions does to a solution cell: each region becomes the stub."""
    out, inside = [], False
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line:
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + s for s in stub.split("\n")]
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def test_nbgrader_course_has_schema_3_metadata_and_the_package_points(tmp_path):
    written = interop.export_nbgrader(SOLUTIONS, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"source/lesson{p.name[:2]}/{p.name}" for p in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))]
    for path in written:
        nb = _load(path)
        nbformat.validate(nbformat.from_dict(nb))
        ids = []
        kinds = []
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader")
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
            if meta is None:
                kinds.append("-")
                continue
            assert meta["schema_version"] == 3 and meta["task"] is False and meta["grade_id"]
            ids.append(meta["grade_id"])
            if meta["grade_id"] == "setup":
                assert (meta["locked"], meta["solution"], meta["grade"]) == (True, False, False)
                kinds.append("setup")
            elif meta["solution"]:
                ex = _core.get(answer_id(cell))
                assert meta["grade_id"] == ex.id.replace(".", "-")
                assert (meta["locked"], meta["grade"]) == (False, False)
                assert BEGIN in _src(cell)
                kinds.append("answer")
            else:
                assert (meta["locked"], meta["grade"]) == (True, True)
                ex_id = meta["grade_id"][: -len("-check")].replace("-", ".", 1)
                assert meta["points"] == _core.get(ex_id).points
                assert f".{ex_id.split('.')[1]}.check(" in _src(cell)
                kinds.append("check")
        assert len(ids) == len(set(ids))
        code_kinds = [k for k in kinds if k != "-"]
        assert code_kinds[0] == "setup" and code_kinds[1:] == ["answer", "check"] * (
            (len(code_kinds) - 1) // 2)
    config = (tmp_path / "nbgrader_config.py").read_text(encoding="utf-8")
    assert f'c.ClearSolutions.code_stub = {{"python": {interop.NBGRADER_STUB!r}}}' in config


def test_nbgrader_stub_turns_the_source_into_exercises(tmp_path):
    """The released notebooks equal exercises/ if nbgrader swaps regions for our stub
    (the real nbgrader is run in test_interop_tools.py)."""
    for path in interop.export_nbgrader(SOLUTIONS, tmp_path):
        released = [_clear_like_nbgrader(_src(c), interop.NBGRADER_STUB)
                    if (c["metadata"].get("nbgrader") or {}).get("solution") else _src(c)
                    for c in _load(path)["cells"]]
        assert released == [_src(c) for c in _load(EXERCISES / path.name)["cells"]]


def _otter_student_version(source):
    """Otter Assign's rule for solution cells (otter.assign.solutions.replace_solutions)."""
    out, inside = [], False
    for line in source.split("\n"):
        if line.rstrip().endswith(("# BEGIN PROMPT", "# END PROMPT", "# SOLUTION NO PROMPT")):
            continue
        if inside and not line.rstrip().endswith("# END SOLUTION"):
            continue
        if line.rstrip().endswith("# END SOLUTION"):
            inside = False
            continue
        match = re.match(r"(\s*)# BEGIN SOLUTION( NO PROMPT)?", line)
        if match:
            inside = True
            if match.group(2):
                continue
            line = match.group(1) + "..."
        out.append(line)
    return "\n".join(out)


def test_otter_master_has_the_blocks_and_exception_based_tests(tmp_path):
    for solution in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        master = interop.export_otter(solution, tmp_path / f"{solution.stem}-master.ipynb")
        nb = _load(master)
        nbformat.validate(nbformat.from_dict(nb))
        cells = nb["cells"]
        assert cells[0]["cell_type"] == "raw" and _src(cells[0]).startswith("# ASSIGNMENT CONFIG")
        raws = [_src(c).split("\n")[0] for c in cells if c["cell_type"] == "raw"][1:]
        n = len(raws) // 6
        assert raws == ["# BEGIN QUESTION", "# BEGIN SOLUTION", "# END SOLUTION",
                        "# BEGIN TESTS", "# END TESTS", "# END QUESTION"] * n and n >= 3
        student, expected = [], [_src(c) for c in _load(EXERCISES / solution.name)["cells"]]
        for index, cell in enumerate(cells):
            text = _src(cell)
            if cell["cell_type"] == "raw":
                if text.startswith("# BEGIN QUESTION"):
                    name = re.search(r"^name: (\w+)$", text, re.M).group(1)
                    ex = _core.get(name.replace("_", ".", 1))
                    assert f"points: {ex.points:g}" in text and "check_cell: false" in text
                continue
            if _src(cells[index - 1]) == "# BEGIN SOLUTION":
                assert "### BEGIN SOLUTION" not in text and "# BEGIN SOLUTION NO PROMPT" in text
                compile(text, "answer", "exec")  # the master's solution still runs
                student.append(_otter_student_version(text))
            elif _src(cells[index - 1]) == "# BEGIN TESTS":
                match = re.fullmatch(r"def test_(\w+)\((\w+)\):\n    from gdcourse\.exercises "
                                     r"import (lesson\d\d) as checks\n    checks\.(\w+)\.check"
                                     r"\((\w+)\)\n", text)
                assert match and match.group(1) == match.group(4) and match.group(2) == match.group(5)
            else:
                student.append(text)
        assert student == expected


def test_exporters_refuse_malformed_notebooks(tmp_path):
    base = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("from gdcourse.exercises import lesson01 as ex")
    answer = nbformat.v4.new_code_cell(f"# exercise: lesson01.predict\ndef predict(theta, X):\n"
                                       f"    {BEGIN}\n    return X @ theta\n    {END}")
    check = nbformat.v4.new_code_cell("ex.predict.check(predict)")
    other = nbformat.v4.new_code_cell("ex.compute_cost.check(compute_cost)")
    unknown = nbformat.v4.new_code_cell(answer.source.replace("predict", "nosuch"))
    cases = {
        "has no check cell after it": [setup, answer],
        "the check is for 'lesson01.compute_cost'": [setup, answer, other],
        "comes before a check cell": [setup, answer, nbformat.v4.new_code_cell(
            answer.source.replace("predict(theta, X)", "compute_cost(theta, X, y)").replace(
                "lesson01.predict", "lesson01.compute_cost")), check],
        "is not in the installed gdcourse package": [setup, unknown],
        "without an answer cell before it or a lesson import": [
            nbformat.v4.new_code_cell("import numpy"), nbformat.v4.new_code_cell("q.x.check(x)")],
        "is never closed": [setup, nbformat.v4.new_code_cell(answer.source.replace(END, ""))],
    }
    for message, cells in cases.items():
        nb = base.copy()
        nb.cells = cells
        for export in (interop.nbgrader_notebook, interop.otter_master):
            with pytest.raises(ValueError, match=re.escape(message)):
                export(nb, "bad.ipynb")


def test_export_command(tmp_path, capsys):
    assert cli.main(["export", "nbgrader", str(SOLUTIONS), str(tmp_path / "course")]) == 0
    assert "nbgrader generate_assignment lesson01" in capsys.readouterr().out
    assert (tmp_path / "course" / "source" / "lesson06" / "06_adam.ipynb").exists()
    master = tmp_path / "otter" / "master.ipynb"
    assert cli.main(["export", "otter", str(SOLUTIONS / "01_cost_function.ipynb"),
                     str(master)]) == 0
    assert master.exists() and "otter assign" in capsys.readouterr().out
    assert cli.main(["export", "nbgrader", str(tmp_path / "none"), str(tmp_path / "c2")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main(["export", "nbgrader", str(tmp_path / "empty"), str(tmp_path / "c3")]) == 2
    assert "no solutions notebooks" in capsys.readouterr().err
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("{}", encoding="utf-8")
    assert cli.main(["export", "otter", str(bad), str(tmp_path / "m.ipynb")]) == 2
    assert "cannot read the notebook (not a Jupyter notebook" in capsys.readouterr().err
