"""Lesson 7's figures: accuracy and training time on the digits, the panel's redraw, nbval per notebook.

Run from the repository root (heavy: under the shared lock on the course machines):

    python benchmarks/bench_capstone.py            # table, exit 0
    python benchmarks/bench_capstone.py --strict   # exit 1 if a target is missed
    python benchmarks/bench_capstone.py --nbval    # also time nbval on the notebooks

Targets (issue 12):
  * softmax regression trained with the package's Adam: test accuracy >= 95 %;
  * the MLP (64 hidden ReLU units): test accuracy >= 97 %;
  * each trains in a few seconds (target here: median <= 5 s wall on 2 cores);
  * softmax regression within 1 percentage point of scikit-learn's LogisticRegression on the same
    split and the same L2 penalty (skipped when scikit-learn is not installed);
  * every live redraw of the training panel <= 30 ms (median and 90th percentile reported);
  * with --nbval: lessons/07 and solutions/07 each run under nbval in <= 40 s.
All runs are seeded (split seed 0, shuffling seeds 0-2); accuracies are the same on every machine,
times are medians over the seeds. Timings move with the load of a shared machine: the load average
is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench_notebooks import nbval_run  # the same nbval timing as every other notebook's
from gdcourse import classify, optim

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)


def digits_split():
    d = classify.load_digits()
    s = classify.split_indices(d.y, random_state=0)
    scaler = classify.Standardizer().fit(d.X[s.train])
    return [scaler.transform(d.X[i]) for i in s], [d.y[i] for i in s]


def train_runs(model, lr, X, y):
    (Xtr, Xva, Xte), (ytr, yva, yte) = X, y
    accs, secs, epochs = [], [], []
    for seed in SEEDS:
        t0 = time.perf_counter()
        r = classify.fit(model, Xtr, ytr, Xva, yva, optim.adam(lr=lr), batch_size=64, num_epochs=200,
                         patience=10, random_state=seed)
        secs.append(time.perf_counter() - t0)
        accs.append(classify.accuracy(model.scores(r.theta, Xte), yte))
        epochs.append(r.n_epochs)
    return np.array(accs), statistics.median(secs), epochs


def panel_redraws():
    from gdcourse.widgets import training_panel
    steps = classify.learner_steps(ROOT / "solutions" / "06_adam.ipynb")
    times = []
    for hidden in (0, 64, 128):
        panel = training_panel(steps, max_epochs=40, patience=40, redraw_every=1)
        panel.set(hidden=hidden)
        panel.start()
        panel.wait(300)
        times += panel.redraw_seconds
    ms = np.array(times) * 1e3
    return float(np.median(ms)), float(np.percentile(ms, 90)), float(ms.max()), len(ms)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--nbval", action="store_true", help="also time nbval on lesson 7's notebooks")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}, {os.getloadavg()[2]:.2f}")
    X, y = digits_split()
    rows, ok = [], []

    def row(name, figure, target, passed):
        rows.append((name, figure, target, "PASS" if passed else ("FAIL" if passed is not None else "—")))
        if passed is not None:
            ok.append(passed)

    soft = classify.SoftmaxRegression(64, weight_decay=1e-3)
    acc, sec, ep = train_runs(soft, 1e-2, X, y)
    row("softmax regression + Adam (α=1e-2, λ=1e-3): test accuracy, seeds 0-2",
        f"{acc.min():.1%} … {acc.max():.1%} (mean {acc.mean():.1%})", "≥ 95 %", acc.min() >= 0.95)
    row("   training time (median of 3; epochs until early stop)", f"{sec:.2f} s ({ep})", "≤ 5 s", sec <= 5)
    soft_acc = acc
    mlp = classify.MLP(64, (64,), weight_decay=1e-3)
    acc, sec, ep = train_runs(mlp, 3e-3, X, y)
    row("MLP 64 ReLU + Adam (α=3e-3, λ=1e-3): test accuracy, seeds 0-2",
        f"{acc.min():.1%} … {acc.max():.1%} (mean {acc.mean():.1%})", "≥ 97 %", acc.min() >= 0.97)
    row("   training time (median of 3; epochs until early stop)", f"{sec:.2f} s ({ep})", "≤ 5 s", sec <= 5)
    ref = classify.sklearn_reference(X[0], y[0], X[2], y[2], weight_decay=1e-3)
    if ref is None:
        row("scikit-learn LogisticRegression, same split and penalty", "not installed", "—", None)
    else:
        gap = float(np.max(np.abs(soft_acc - ref)))
        row("scikit-learn LogisticRegression, same split and penalty",
            f"{ref:.1%}; largest gap to ours {100 * gap:.2f} pt", "≤ 1 pt", gap <= 0.01)
    med, p90, worst, n = panel_redraws()
    row(f"training panel: live redraw while training ({n} redraws; softmax, MLP 64, MLP 128)",
        f"median {med:.1f} ms, 90th pct {p90:.1f} ms, max {worst:.1f} ms", "≤ 30 ms", p90 <= 30)
    if args.nbval:
        for nb in ("lessons/07_capstone.ipynb", "solutions/07_capstone.ipynb", "exercises/07_capstone.ipynb"):
            secs, passed, last = nbval_run(ROOT / nb)
            row(f"nbval {nb}", f"{secs:.1f} s ({last})", "≤ 40 s", passed and secs <= 40)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    width = max(len(r[0]) for r in rows)
    fig_w = max(len(r[1]) for r in rows)
    for name, figure, target, verdict in rows:
        print(f"{name:<{width}}  {figure:<{fig_w}}  {target:<8} {verdict}")
    print(f"{sum(ok)}/{len(ok)} targets met")
    return 0 if (not args.strict or all(ok)) else 1


if __name__ == "__main__":
    sys.exit(main())
