"""Fixtures of the browser suite: one throw-away JupyterLab and one headless chromium per session.

The suite is skipped (with the reason) when chromium or playwright is missing,
except in CI (``CI=true``), where a missing browser is a failure: CI must
never pass by testing nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import labharness  # noqa: E402


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def browser_available():
    reason = labharness.missing_browser()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"browser suite cannot run in CI: {reason}", pytrace=False)
        pytest.skip(f"browser suite skipped: {reason}")
    return True


@pytest.fixture(scope="session")
def artifacts(pytestconfig) -> Path:
    """test-artifacts/browser/ in the repository (gitignored): screenshots go there."""
    folder = Path(pytestconfig.rootpath) / "test-artifacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def lab_server(browser_available, tmp_path_factory):
    """JupyterLab (``gdcourse lab COPY --no-browser``) on a copy of the course, plus the
    harness's own self-test notebooks in ``harness/``."""
    server = labharness.LabServer(
        tmp_path_factory.mktemp("jupyterlab"),
        extra={"harness/selftest.ipynb": labharness.selftest_notebook(),
               "harness/controls.ipynb": labharness.controls_selftest_notebook()})
    try:
        server.start()
    except labharness.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium(browser_available, tmp_path_factory):
    # one browser per test module, not per session: Playwright's sync API keeps an asyncio loop
    # running in this thread while it is started, and later modules (the hub tests) need
    # asyncio.run() and a Playwright of their own
    browser = labharness.Chromium(tmp_path_factory.mktemp("chromium"))
    browser.start()
    yield browser
    browser.stop()


@pytest.fixture
def lab_page(lab_server, chromium):
    """A fresh page; afterwards the page is closed and every kernel shut down."""
    page = labharness.LabPage(lab_server, chromium.new_page())
    yield page
    page.close()
    code = lab_server.proc.poll()
    if code is not None:
        pytest.fail(f"JupyterLab exited with code {code} during the test; the end of its log "
                    f"({lab_server.log_path}):\n{lab_server.log_tail()}", pytrace=False)
    lab_server.shutdown_kernels()
