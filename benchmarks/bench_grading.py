"""Benchmark the grader: 30 lesson-1 submissions (wall time), or a class over every lesson.

Without ``--class``: grade 30 generated lesson-1 submissions; print the wall time.

Target (issue 4): at most 30 s on the 2-core machine.  The class mixes right
answers, classic mistakes and unfinished stubs, like a real workshop; no
infinite loops (those cost exactly the --timeout each, by design).

With ``--baseline DIR`` (a checkout of another commit, e.g. main), the same
class is graded by that commit's grader too, alternating runs in this one
invocation, and the ratio of the medians is printed (issue 13: the sandboxed
grader stays within 1.5x of the previous one).

    python benchmarks/bench_grading.py [--repeat 1] [--jobs 2] [--baseline /path/to/main]

With ``--class N`` (issue 14) it instead generates a class of N learners over
every lesson (tests/fixtures/learners.py, deterministic from ``--class-seed``:
reference answers, the exercises' named mistakes written out as source, crashes,
two endless loops, untouched stubs), grades the whole class with the fork-server
path and a deterministic sample of ``--fresh-learners`` of them with the
fresh-interpreter path, in this one run, asserts that the sampled learners'
grades are identical on both paths, and prints answers per second for both and
their ratio against the targets (>= 50 answers/s, >= 10x).  ``--strict`` exits 1
on a miss.

    python benchmarks/bench_grading.py --class 300 [--fresh-learners 12] [--jobs N] [--strict]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

import learners  # noqa: E402
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


_RATE_TARGET = 50.0       # answers per second, fork-server path (issue 14)
_RATIO_TARGET = 10.0      # fork-server rate / fresh-interpreter rate


def _graded(rows) -> int:
    """Answers that ran (rows that a missing cell or an unreadable file did not settle)."""
    return sum(r.status not in ("missing", "unreadable") for r in rows)


def class_mode(args) -> int:
    jobs = args.jobs or os.cpu_count() or 1
    plan = learners.ClassPlan(args.class_size, seed=args.class_seed, loops=args.loops)
    sampled = learners.sample(plan.learners, args.fresh_learners)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        whole = plan.write(Path(tmp) / "class")
        part = Path(tmp) / "sample"
        part.mkdir()
        for learner in sampled:
            shutil.copytree(whole / learner, part / learner)
        start = time.perf_counter()
        warm = grading.grade(whole, seed=args.seed, timeout=args.timeout, jobs=jobs)
        warm_s = time.perf_counter() - start
        start = time.perf_counter()
        fresh = grading.grade(part, seed=args.seed, timeout=args.timeout, jobs=jobs,
                              fresh_interpreters=True)
        fresh_s = time.perf_counter() - start
    load_after = os.getloadavg()
    in_sample = set(sampled)
    same = [r for r in warm if r.student in in_sample] == fresh
    n_warm, n_fresh = _graded(warm), _graded(fresh)
    warm_rate, fresh_rate = n_warm / warm_s, n_fresh / fresh_s
    ratio = warm_rate / fresh_rate
    counts = Counter(r.status for r in warm)
    print(f"class: {len(plan.learners)} learners x {len(plan.exercises)} lessons "
          f"({sum(len(e) for e in plan.exercises.values())} exercises), seed {args.class_seed}: "
          f"{plan.n_answers()} answers; planned kinds {plan.kinds()}; endless loops in "
          f"{', '.join(plan.looping) or 'none'}")
    print(f"grading seed {args.seed}, --timeout {args.timeout:g} s, jobs={jobs}, "
          f"cpus={os.cpu_count()}, load average before {load_before[0]:.2f} "
          f"{load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} "
          f"{load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"statuses (fork server, whole class): {dict(sorted(counts.items()))}")
    print(f"fork server: {n_warm} answers in {warm_s:.1f} s = {warm_rate:.1f} answers/s "
          f"(whole class)")
    print(f"fresh interpreter per answer: {n_fresh} answers in {fresh_s:.1f} s = "
          f"{fresh_rate:.2f} answers/s (a sample of {len(sampled)} of {len(plan.learners)} "
          f"learners, every {len(plan.learners) / max(len(sampled), 1):g}th: "
          f"{', '.join(sampled[:3])}{', ...' if len(sampled) > 3 else ''}; "
          f"{plan.kinds(sampled)})")
    print(f"grades of the {len(sampled)} sampled learners identical on both paths: "
          f"{'yes' if same else 'NO'}")
    ok_rate, ok_ratio = warm_rate >= _RATE_TARGET, ratio >= _RATIO_TARGET
    print(f"{'PASS' if ok_rate else 'FAIL'}: fork server {warm_rate:.1f} answers/s "
          f"(target >= {_RATE_TARGET:g})")
    print(f"{'PASS' if ok_ratio else 'FAIL'}: ratio fork server / fresh interpreter "
          f"{ratio:.1f}x (target >= {_RATIO_TARGET:g}x)")
    if not same:
        for w, f in zip([r for r in warm if r.student in in_sample], fresh):
            if w != f:
                print(f"  differs: {w} != {f}")
        return 1
    return 1 if args.strict and not (ok_rate and ok_ratio) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=None,
                        help="workers (default: 2 for the lesson-1 mode, the number of cores "
                             "for --class)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of the commit to compare with (e.g. main)")
    parser.add_argument("--class", dest="class_size", type=int, default=None, metavar="N",
                        help="class mode: N generated learners over every lesson (e.g. 300)")
    parser.add_argument("--class-seed", type=int, default=0,
                        help="seed of the generated class (default 0)")
    parser.add_argument("--seed", type=int, default=1, help="grading seed (default 1)")
    parser.add_argument("--fresh-learners", type=int, default=12,
                        help="learners graded on the fresh-interpreter path (default 12)")
    parser.add_argument("--loops", type=int, default=2,
                        help="learners with an endless loop (default 2)")
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="seconds per answer in class mode (default 3)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.class_size is not None:
        if args.class_size < 1 or args.fresh_learners < 1:
            parser.error(f"--class and --fresh-learners must be at least 1, but got "
                         f"{args.class_size} and {args.fresh_learners}")
        return class_mode(args)
    args.jobs = args.jobs or 2
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
