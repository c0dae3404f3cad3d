"""Repository-wide pytest hooks.

nbval runs every notebook cell as a test item.  In ``exercises/`` the answers
are stubs, so each *check cell* (a cell calling ``.check(``) must fail, and
fail **as not attempted** (``gdcourse.exercises.NotAttempted``):

* a check cell that fails with NotAttempted is reported as passed;
* a check cell that passes, or fails for any other reason, is a failure
  (the stub is not a stub, or the exercise is broken);
* any other exercise cell that fails only because a stub raised
  ``NotImplementedError`` is reported as passed.

Generated check cells carry the ``raises-exception`` tag (so JupyterLab's Run
All does not stop at them); nbval then reports them as passed whatever they
raised, so the verdict is read from the error the cell actually produced.
"""

from __future__ import annotations

import pytest

from gdcourse._notebook import CHECK_CALL as _CHECK_CALL


def _exercise_cell(item) -> bool:
    path = getattr(item, "path", None)
    return (type(item).__name__ == "IPyNbCell" and path is not None
            and path.suffix == ".ipynb" and path.parent.name == "exercises")


def _error_name(item, report) -> str | None:
    for output in getattr(item, "test_outputs", None) or []:
        if output.get("output_type") == "error":
            return output.get("ename")
    text = str(report.longrepr or "")
    if "not attempted yet" in text:
        return "NotAttempted"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when != "call" or not _exercise_cell(item):
        return
    report = outcome.get_result()
    is_check = bool(_CHECK_CALL.search(str(item.cell.source)))
    ename = _error_name(item, report) if (report.failed or is_check) else None
    if is_check and report.passed and ename is not None:
        # a tagged cell raised: nbval let it pass; judge it by what it raised
        report.outcome = "failed"
    if is_check and report.passed:
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid}: this check passed in an untouched exercise notebook; "
                           f"its answer cell should be a stub (run `gdcourse build-exercises`).")
    elif is_check and ename == "NotAttempted":
        report.outcome, report.longrepr = "passed", None
    elif is_check and report.failed:
        report.longrepr = (f"{item.nodeid}: a check cell in an exercise notebook must fail as "
                           f"NotAttempted, but it failed with {ename}.\n\n{report.longrepr}")
    elif ename == "NotImplementedError":
        report.outcome, report.longrepr = "passed", None


# --- running the suite on several cores (pytest-xdist: `-n auto` in pyproject's addopts) ---------
# The course's own scheduler sends each *group* of tests to one worker, whole: every test file is a
# group (a notebook's cells share one kernel; a module's fixtures are built once), and the files
# below are grouped further.  Groups go out longest first, so the two cores finish together.
# (xdist's own `--dist loadgroup` marks do not take effect under pytest 9, whose node ids are no
# longer the `_nodeid` attribute xdist rewrites; a scheduler is xdist's documented hook.)

# the website's cold build (tests/sitebuild.py) is made once per worker and read by both files
_WEBSITE = {"tests/test_site.py", "tests/browser/test_site_in_browser.py"}
# files that start a real JupyterLab or JupyterHub (and chromium): one at a time, so that a page
# waiting for a kernel is not starved by another server starting on the other core
_SERVERS = {"tests/test_hub.py"}
# the longest groups, in the order they are handed out (measured with --durations; the rest keep
# their collection order): the servers take about 8 minutes, the nbgrader/Otter environment 4
_FIRST = ["servers", "tests/test_interop_tools.py", "website"]


def _xdist_group(rel: str) -> str:
    """The group of the test file at ``rel`` (a path relative to the repository, with '/')."""
    if rel in _WEBSITE:
        return "website"
    if rel in _SERVERS or rel.startswith("tests/browser/"):
        return "servers"
    return rel


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        """LoadScopeScheduling whose unit of work is the course's test group."""

        def _split_scope(self, nodeid: str) -> str:
            return _xdist_group(nodeid.split("::", 1)[0])

    config.option.loadscopereorder = False  # keep the order pytest_collection_modifyitems sets
    return CourseScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    # the longest groups first; stable, so a file's tests keep their order
    rank = {group: i for i, group in enumerate(_FIRST)}
    items.sort(key=lambda item: rank.get(_xdist_group(item.nodeid.split("::", 1)[0]), len(rank)))
