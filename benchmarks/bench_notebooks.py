"""How long each notebook takes under nbval, as the test suite runs it (issue 11's 20 s budget).

Run from the repository root, on a quiet machine (heavy: one kernel at a time):

    python benchmarks/bench_notebooks.py                      # lessons/ and solutions/, exit 0
    python benchmarks/bench_notebooks.py --strict             # exit 1 when one is over --budget
    python benchmarks/bench_notebooks.py exercises/ --budget 30

Each notebook is one ``pytest --nbval-lax`` process of its own, serial (``-n0``, no coverage),
timed from the process start to its end: interpreter and pytest start-up, the kernel's start,
every cell and the shut-down, which is what a learner waits for on Run All plus a few seconds.
The budget is per notebook (default 20 s).  A notebook that fails under nbval is a FAIL whatever
its time.  The load average is printed before and after: the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def nbval_run(path: Path) -> tuple[float, bool, str]:
    """(seconds, passed, pytest's last line) of one notebook under nbval."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-n0", "--no-cov",
                           "-p", "no:cacheprovider", "--nbval-lax"],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    return seconds, proc.returncode == 0, last


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", default=["lessons", "solutions"],
                        help="folders (or notebooks) to time (default: lessons solutions)")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per notebook (default 20)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a notebook misses the budget")
    args = parser.parse_args(argv)
    if args.budget <= 0:
        parser.error(f"--budget must be a positive number of seconds, got {args.budget}")

    notebooks = []
    for item in args.folders:
        path = (ROOT / item).resolve()
        if path.is_dir():
            notebooks += sorted(path.glob("*.ipynb"))
        elif path.suffix == ".ipynb" and path.is_file():
            notebooks.append(path)
        else:
            parser.error(f"folders: expected a folder of notebooks or an .ipynb file, got {item!r}")
    if not notebooks:
        parser.error(f"folders: no notebook found in {' '.join(args.folders)}")

    print(f"nbval per notebook, one pytest process each, serial; budget {args.budget:g} s")
    print(f"load average (1/5/15 min) before: {_load()} on {os.cpu_count()} CPUs")
    print(f"{'notebook':45s} {'seconds':>8s}  result  pytest")
    missed = 0
    for nb in notebooks:
        seconds, passed, last = nbval_run(nb)
        ok = passed and seconds <= args.budget
        missed += not ok
        verdict = "PASS" if ok else ("FAIL" if passed else "ERROR")
        print(f"{str(nb.relative_to(ROOT)):45s} {seconds:8.1f}  {verdict:6s}  {last}")
    print(f"load average after: {_load()}")
    print(f"{len(notebooks) - missed} of {len(notebooks)} notebooks pass nbval within {args.budget:g} s")
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
