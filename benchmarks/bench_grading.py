"""Benchmark: grade 30 generated lesson-1 submissions; print the wall time.

Target (issue 4): at most 30 s on the 2-core machine.  The class mixes right
answers, classic mistakes and unfinished stubs, like a real workshop; no
infinite loops (those cost exactly the --timeout each, by design).

With ``--baseline DIR`` (a checkout of another commit, e.g. main), the same
class is graded by that commit's grader too, alternating runs in this one
invocation, and the ratio of the medians is printed (issue 13: the sandboxed
grader stays within 1.5x of the previous one).

    python benchmarks/bench_grading.py [--repeat 1] [--jobs 2] [--baseline /path/to/main]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

import submissions as subs  # noqa: E402

from gdcourse import grading  # noqa: E402

VARIANTS = [
    {},                                          # all correct
    {"compute_cost": subs.COST_NO_HALF},
    {"compute_cost": subs.COST_SUM},
    {"cost_grid": subs.GRID_IJ},
    {"predict": subs.PREDICT_COLUMN},
    {"predict": subs.PREDICT_NO_RETURN},
    {"predict": subs.PREDICT_CRASH},
    {"predict": subs.PREDICT_HARDCODED},
    {"cost_grid": subs.STUB["cost_grid"]},
    {},
]


def make_class(folder: Path, n: int = 30) -> None:
    for i in range(n):
        answers = {**subs.CORRECT, **VARIANTS[i % len(VARIANTS)]}
        subs.write(subs.lesson01_notebook(answers), folder / f"student{i:02d}.ipynb")


_TIMED = """\
import sys, time
sys.path.insert(0, sys.argv[1])
from gdcourse import grading
start = time.perf_counter()
rows = grading.grade(sys.argv[2], seed=1, jobs=int(sys.argv[3]))
print(time.perf_counter() - start, len(rows))
"""


def _timed_run(repo: Path, folder: Path, jobs: int) -> float:
    """Grade ``folder`` with the grader of ``repo`` in a fresh interpreter; its wall time."""
    out = subprocess.run([sys.executable, "-c", _TIMED, str(repo), str(folder), str(jobs)],
                         capture_output=True, text=True, check=True, cwd=str(repo))
    return float(out.stdout.split()[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of the commit to compare with (e.g. main)")
    args = parser.parse_args(argv)
    times, base = [], []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        make_class(folder)
        rows = grading.grade(folder, seed=1, jobs=args.jobs)   # statuses, and a warm disk cache
        for _ in range(args.repeat):
            times.append(_timed_run(ROOT, folder, args.jobs))
            if args.baseline is not None:
                base.append(_timed_run(args.baseline.resolve(), folder, args.jobs))
    times.sort()
    median = times[len(times) // 2]
    counts = Counter(r.status for r in rows)
    print(f"graded 30 submissions x 3 exercises = {len(rows)} answers, jobs={args.jobs}, "
          f"cpus={os.cpu_count()}, load average before: {load:.1f}")
    print(f"statuses: {dict(sorted(counts.items()))}")
    print(f"wall time: median {median:.2f} s over {len(times)} run(s) "
          f"(all: {', '.join(f'{t:.2f}' for t in times)}); target <= 30 s: "
          f"{'met' if median <= 30 else 'NOT met'}")
    if base:
        base.sort()
        b = base[len(base) // 2]
        print(f"baseline {args.baseline}: median {b:.2f} s (all: "
              f"{', '.join(f'{t:.2f}' for t in base)}); ratio this/baseline {median / b:.2f} "
              f"(target <= 1.5: {'met' if median / b <= 1.5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
