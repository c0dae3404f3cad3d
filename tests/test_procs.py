"""gdcourse._procs: the marker finds exactly a run's processes, and ending them ends them.

The processes here are real children of the test (``python -c "sleep"``), each run
under a marker value unique to the test, so nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest

from gdcourse import _procs

MARK = "GDCOURSE_PROCS_TEST"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _sleeper(value):
    env = dict(os.environ, **({MARK: value} if value is not None else {}))
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], env=env)


def test_log_tail_is_the_last_lines_or_says_there_is_none(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert _procs.log_tail(log, 3) == "line 97\nline 98\nline 99"
    assert _procs.log_tail(log).splitlines()[0] == "line 60"
    assert _procs.log_tail(tmp_path / "missing.log") == "(no log)"


@linux_only
def test_marked_pids_finds_the_run_and_nothing_else():
    run, other = uuid.uuid4().hex, uuid.uuid4().hex
    procs = [_sleeper(run), _sleeper(run), _sleeper(other), _sleeper(None)]
    try:
        assert _procs.marked_pids(MARK, run) == sorted(p.pid for p in procs[:2])
        assert _procs.marked_pids(MARK, other) == [procs[2].pid]
        assert _procs.marked_pids(MARK, uuid.uuid4().hex) == []
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert _procs.marked_pids(MARK, run) == []


@linux_only
def test_an_exited_unreaped_child_is_a_zombie_and_not_counted():
    run = uuid.uuid4().hex
    child = _sleeper(run)
    try:
        assert not _procs.is_zombie(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)   # exited, still unreaped
        assert _procs.is_zombie(child.pid)
        assert _procs.marked_pids(MARK, run) == []
    finally:
        child.wait()
    assert _procs.is_zombie(child.pid)        # gone altogether


@linux_only
def test_end_marked_ends_the_run_and_spares_the_rest():
    run = uuid.uuid4().hex
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                               "print('ready', flush=True); time.sleep(120)"],
        env=dict(os.environ, **{MARK: run}), stdout=subprocess.PIPE, text=True)
    polite, bystander = _sleeper(run), _sleeper(uuid.uuid4().hex)
    try:
        assert stubborn.stdout.readline() == "ready\n"          # its TERM handler is in place
        left = _procs.end_marked(MARK, run, grace=((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)))
        assert left == []
        assert polite.wait(timeout=5) == -signal.SIGTERM
        assert stubborn.wait(timeout=5) == -signal.SIGKILL     # TERM ignored: KILL it took
        assert bystander.poll() is None
    finally:
        for p in (stubborn, polite, bystander):
            p.kill()
            p.wait()
        stubborn.stdout.close()
