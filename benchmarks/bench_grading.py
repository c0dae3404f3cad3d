"""Benchmark: grade 30 generated lesson-1 submissions; print the wall time.

Target (issue 4): at most 30 s on the 2-core machine.  The class mixes right
answers, classic mistakes and unfinished stubs, like a real workshop; no
infinite loops (those cost exactly the --timeout each, by design).

    python benchmarks/bench_grading.py [--repeat 1] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        make_class(folder)
        for _ in range(args.repeat):
            start = time.perf_counter()
            rows = grading.grade(folder, seed=1, jobs=args.jobs)
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    counts = Counter(r.status for r in rows)
    print(f"graded 30 submissions x 3 exercises = {len(rows)} answers, jobs={args.jobs}, "
          f"cpus={os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    print(f"statuses: {dict(sorted(counts.items()))}")
    print(f"wall time: median {median:.1f} s over {len(times)} run(s) "
          f"(all: {', '.join(f'{t:.1f}' for t in times)}); target <= 30 s: "
          f"{'met' if median <= 30 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
