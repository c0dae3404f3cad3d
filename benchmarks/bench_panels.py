"""In-process latency of every slider panel's callback (compute + draw + PNG encode).

    python benchmarks/bench_panels.py            # prints the table, always exits 0
    python benchmarks/bench_panels.py --strict   # exits 1 if a main slider misses the target
    python benchmarks/bench_panels.py --strict-all  # exits 1 if any control of any panel misses it
    python benchmarks/bench_panels.py --steps 80 # more slider positions per sweep
    python benchmarks/bench_panels.py --only warmup batch_lr  # just the panels whose call contains a word

For each panel the main slider is swept over ``--steps`` evenly spaced values
(forward, then the same values backward, so the median covers both
directions), timing ``panel.set(name=value)``: that runs exactly what a slider
event runs in the kernel — the panel recomputes, updates its moving artists,
blits, encodes the PNG and assigns it to the ``ipywidgets.Image``.  The other
controls are swept too, every control of every panel (a dropdown, a checkbox or a
selection slider visits each option, forward and back), each on its own line with
its verdict: ``PASS``/``FAIL`` for a main slider (``--strict`` fails on those), ``ok``/``over``
for the others (``--strict-all`` fails on any ``over`` too).  A control the panel
has disabled in the state the sweep starts from is swept all the same (``set`` moves
it), and marked ``(disabled)``: its time is what a move costs if it were enabled.

Panels that retrain or rerun optimisers (lessons 4–6) cache their runs, so in
the sweep of such a control the forward half are first, uncached calls and the
backward half are cache hits; the table's median covers both, and a second
table prints the two halves apart.

Target (issues 5 and 6): median ≤ 30 ms per main slider.  The browser-side latency
(key press to new image) is measured by the browser suite, not here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import ipywidgets  # noqa: E402

from gdcourse import widgets  # noqa: E402
from gdcourse.data import five_points  # noqa: E402

TARGET_MS = 30.0

#: panels whose controls retrain or rerun and cache the result: their first calls are reported apart
RETRAINING = {"batch_size_panel()", "gradient_norms_panel()", "optimizer_panel()",
              "compare_optimizers_panel()", "batch_lr_panel()", "warmup_panel()"}


def panels(only=None):
    """(lesson, factory call, panel, main control) for every panel of lessons 1–6 (or those named in ``only``)."""
    d = five_points()
    chosen = [(lesson, call, factory, name) for lesson, call, factory, name in PANELS
              if not only or any(word in call for word in only)]
    if not chosen:
        raise SystemExit(f"--only {' '.join(only)} matches no panel; the panels are: "
                         + ", ".join(call for _, call, _, _ in PANELS))
    return [(lesson, call, factory(d), name) for lesson, call, factory, name in chosen]


#: (lesson, factory call, factory of d (the five points), main control); built only when timed
PANELS = [
    (1, "fit_panel(five_points())", lambda d: widgets.fit_panel(d), "theta1"),
    (1, "cross_entropy_panel()", lambda d: widgets.cross_entropy_panel(), "weight"),
    (2, "tangent_panel(five_points())", lambda d: widgets.tangent_panel(d), "theta1"),
    (2, "finite_difference_panel()", lambda d: widgets.finite_difference_panel(), "log10_h"),
    (3, "descent_panel(five_points())", lambda d: widgets.descent_panel(d), "lr"),
    (3, "learning_rate_panel()", lambda d: widgets.learning_rate_panel(), "lr"),
    (3, "local_minima_panel()", lambda d: widgets.local_minima_panel(), "start_theta1"),
    (3, "feature_scaling_panel(five_points())", lambda d: widgets.feature_scaling_panel(d), "scaling"),
    (4, "batch_size_panel()", lambda d: widgets.batch_size_panel(), "batch_size"),
    (4, "sgd_escape_panel()", lambda d: widgets.sgd_escape_panel(), "noise"),
    (4, "batch_lr_panel()", lambda d: widgets.batch_lr_panel(), "batch_size"),
    (5, "gradient_norms_panel()", lambda d: widgets.gradient_norms_panel(), "depth"),
    (6, "optimizer_panel()", lambda d: widgets.optimizer_panel(), "lr"),
    (6, "bias_correction_panel()", lambda d: widgets.bias_correction_panel(), "beta2"),
    (6, "compare_optimizers_panel()", lambda d: widgets.compare_optimizers_panel(), "lr_scale"),
    (6, "warmup_panel()", lambda d: widgets.warmup_panel(), "warmup_steps"),
]


def sweep_values(control, steps):
    """``steps`` positions over the control's range (log-spaced for a log slider), or every option."""
    if isinstance(control, ipywidgets.Checkbox):
        values = [not control.value, control.value]
        return values + values[::-1]
    if hasattr(control, "options"):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return values + values[::-1]
    if isinstance(control, ipywidgets.FloatLogSlider):
        values = control.base ** np.linspace(control.min, control.max, steps)
    elif isinstance(control, ipywidgets.IntSlider):
        values = np.unique(np.linspace(control.min, control.max, steps).round().astype(int))
    else:
        values = np.linspace(control.min, control.max, steps)
    values = [v.item() for v in values]
    return values + values[::-1]


def time_sweep(panel, name, steps):
    control = panel.controls[name]
    start = control.value
    times = []
    for value in sweep_values(control, steps):
        t0 = time.perf_counter()
        panel.set(**{name: value})
        times.append(time.perf_counter() - t0)
    panel.set(**{name: start})
    ms = np.array(times) * 1e3
    return float(np.median(ms)), float(np.percentile(ms, 90)), ms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="slider positions per sweep (default 40)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a main slider misses the target")
    parser.add_argument("--strict-all", action="store_true",
                        help="exit 1 if any control (main or not) misses the target")
    parser.add_argument("--only", nargs="+", metavar="WORD",
                        help="time only the panels whose factory call contains one of these words")
    args = parser.parse_args(argv)

    rows, failed, over, halves = [], [], [], []
    for lesson, call, panel, main_name in panels(args.only):
        panel.set(**{main_name: panel.controls[main_name].value})  # warm caches once
        for name in panel.controls:
            disabled = bool(panel.controls[name].disabled)
            med, p90, ms = time_sweep(panel, name, args.steps)
            if call in RETRAINING and name == main_name:
                half = len(ms) // 2
                halves.append((lesson, call, name, ms[:half], ms[half:]))
            main = name == main_name
            slow = med > TARGET_MS
            verdict = ("FAIL" if slow else "PASS") if main else ("over" if slow else "ok")
            if disabled:
                verdict += " (disabled)"
            if slow:
                (failed if main else over).append(f"{call} {name}")
            rows.append((lesson, call, name + (" *" if main else ""), med, p90, verdict))

    print(f"Control callback latency: compute + blit + PNG encode, {args.steps} positions each way "
          f"(target: median <= {TARGET_MS:.0f} ms for every control; --strict checks the main slider, "
          f"marked *, --strict-all every control)")
    print(f"{'lesson':<7}{'panel':<38}{'control':<16}{'median ms':>10}{'p90 ms':>9}  verdict")
    for lesson, call, name, med, p90, verdict in rows:
        print(f"{lesson:<7}{call:<38}{name:<16}{med:>10.1f}{p90:>9.1f}  {verdict}")
    if halves:
        print()
        print("Retraining panels, main control: first (uncached) calls vs the same positions again (cached)")
        print(f"{'lesson':<7}{'panel':<38}{'control':<16}{'first med':>10}{'first max':>10}"
              f"{'cached med':>11}")
        for lesson, call, name, first, again in halves:
            print(f"{lesson:<7}{call:<38}{name:<16}{np.median(first):>10.1f}{first.max():>10.1f}"
                  f"{np.median(again):>11.1f}")
    try:
        load = os.getloadavg()[0]
        print(f"load average (1 min) during the run: {load:.2f} on {os.cpu_count()} CPUs")
    except OSError:
        pass
    n = len(rows)
    print(f"{n - len(failed) - len(over)} of {n} controls within the target")
    if failed:
        print("main sliders that missed the target: " + "; ".join(failed))
    if over:
        print("other controls that missed the target: " + "; ".join(over))
    return 1 if ((args.strict or args.strict_all) and failed) or (args.strict_all and over) else 0


if __name__ == "__main__":
    sys.exit(main())
