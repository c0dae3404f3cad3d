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
