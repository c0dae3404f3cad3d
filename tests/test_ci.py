"""The CI scripts agree with the project files they depend on."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_minimum_versions_pin_exactly_the_lower_bounds_of_pyproject():
    # tomllib is 3.11+, and the course supports 3.10: read the dependencies list directly
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    deps = re.findall(r'"([^"]+)"', block)
    bounds = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", d.split(";")[0].strip()).groups()
                  for d in deps)
    pins = dict(line.split("==") for line in (ROOT / ".ci" / "minimum-versions.txt").read_text().split("\n")
                if line.strip() and not line.startswith("#"))
    def norm(version):  # 6.20 and 6.20.0 are the same release
        parts = [int(p) for p in version.split(".")]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return tuple(parts)

    assert {k: norm(v) for k, v in pins.items()} == {k: norm(v) for k, v in bounds.items()}


def test_ci_runs_the_readme_test_command_and_handles_no_tests():
    run = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in run and '"$status" = 5' in run and "CI=true" in run
    assert "<!-- test-command -->" in (ROOT / "README.md").read_text()


def test_files_sharing_the_website_build_run_on_one_worker():
    # under `pytest -n auto` a file that reads the session's website build on another worker
    # would build the site a second time (a minute of CI); conftest.py groups them
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    readers = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py")
                     if re.search(r"^\s+\w+ = sitebuild\.built_site\(", p.read_text(), re.M))
    assert readers, "no test reads tests/sitebuild.py's build any more: update conftest.py"
    assert {conftest._xdist_group(r) for r in readers} == {"website"}, readers
    for name in conftest._WEBSITE | conftest._SERVERS:
        assert (ROOT / name).is_file(), f"conftest.py groups {name}, which does not exist"
    assert conftest._xdist_group("tests/test_losses.py") == "tests/test_losses.py"
    assert set(conftest._FIRST) <= {conftest._xdist_group(r) for r in conftest._WEBSITE | conftest._SERVERS} | {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("test_*.py")}
