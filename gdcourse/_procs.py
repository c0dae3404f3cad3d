"""Finding and ending the processes of one server run, and reading the end of its log.

A server the course starts (``gdcourse hub``'s JupyterHub, the browser tests'
JupyterLab) puts a *marker* variable, ``NAME=<run id>``, into its environment;
everything it starts (proxy, single-user servers, kernels) inherits it.  After
the server is stopped, the processes still carrying the marker are strays:
:func:`marked_pids` finds them through ``/proc`` (Linux) and :func:`end_marked`
ends them, TERM first, then KILL.

Used by :mod:`gdcourse.hub` and ``tests/browser/labharness.py``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

__all__ = ["log_tail", "marked_pids", "is_zombie", "end_marked"]


def log_tail(path, lines: int = 40) -> str:
    """The last ``lines`` lines of the log file at ``path``, or ``"(no log)"`` if it cannot be read."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def is_zombie(pid: int) -> bool:
    """True if ``pid`` has exited but not been reaped, or is gone (or unreadable) altogether."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def marked_pids(name: str, value: str, proc: Path | str = "/proc") -> list[int]:
    """Live processes (other than this one) whose environment holds ``name=value``.

    Empty where there is no ``/proc`` (only Linux has one) and for processes of
    other users, whose environment cannot be read.
    """
    needle = f"{name}={value}".encode()
    root = Path(proc)
    if not root.is_dir():
        return []
    pids = []
    for entry in root.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in environ and not is_zombie(int(entry.name)):
            pids.append(int(entry.name))
    return sorted(pids)


def end_marked(name: str, value: str, grace=((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0))) -> list[int]:
    """Signal every process marked ``name=value``: each ``(signal, seconds)`` of ``grace`` in turn,
    waiting up to that long for them to go.  Returns the processes still alive at the end."""
    if not sys.platform.startswith("linux"):
        return []
    for sig, seconds in grace:
        pids = marked_pids(name, value)
        if not pids:
            return []
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and marked_pids(name, value):
            time.sleep(0.1)  # /proc offers no event for "this process is gone"
    return marked_pids(name, value)
