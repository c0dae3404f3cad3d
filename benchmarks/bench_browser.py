"""Slider latency in a real browser: key press on a slider handle → new figure on screen.

For the first panel of every lesson (its first slider) the page records, with
``performance.now()``, the time from the ``keydown`` on the slider handle to
the moment the panel's ``<img>`` gets a new ``src`` (a MutationObserver).  The
same is measured, in the same run and the same browser, for the *messaging
floor*: an ``IntSlider`` whose observer only sets the text of a ``Label``.
Everything between the two numbers is the panel's own work (compute, draw,
PNG encode, transfer, blob URL).

    python benchmarks/bench_browser.py               # table per lesson, exit 0
    python benchmarks/bench_browser.py --strict      # exit 1 when a panel is above 2× the floor
    python benchmarks/bench_browser.py --presses 40 --lessons 01 03

Presses alternate → and ← so the slider stays inside its range.  It needs
/usr/bin/chromium and the playwright package (no browser is downloaded) and
starts its own throw-away JupyterLab on a copy of the course.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import labharness  # noqa: E402

_INSTALL = """([handle, target, watchSrc]) => {
  const state = {t0: null, samples: []};
  window.__gdLatency = state;
  handle.addEventListener('keydown', (e) => {
    if (e.key.startsWith('Arrow')) state.t0 = performance.now(); }, true);
  const obs = new MutationObserver(() => {
    if (state.t0 !== null) { state.samples.push(performance.now() - state.t0); state.t0 = null; } });
  obs.observe(target, watchSrc ? {attributes: true, attributeFilter: ['src']}
                               : {childList: true, characterData: true, subtree: true});
  state.stop = () => obs.disconnect();
}"""


def _measure(lp, handle, target, *, watch_src: bool, presses: int) -> list[float]:
    """``presses`` latencies (ms) from keydown on ``handle`` to a change of ``target``."""
    page = lp.page
    page.evaluate(_INSTALL, [handle.element_handle(), target.element_handle(), watch_src])
    now = float(handle.get_attribute("aria-valuenow") or "nan")
    top = float(handle.get_attribute("aria-valuemax") or "nan")
    keys = ("ArrowLeft", "ArrowRight") if now >= top else ("ArrowRight", "ArrowLeft")
    handle.focus()
    for i in range(presses):
        page.keyboard.press(keys[i % 2])
        page.wait_for_function("(n) => window.__gdLatency.samples.length >= n", arg=i + 1,
                               timeout=30_000)
    samples = page.evaluate("() => { window.__gdLatency.stop(); return window.__gdLatency.samples; }")
    return [float(s) for s in samples]


def _open(lp, path: str) -> None:
    lp.open(path)
    lp.run_all()
    lp.wait_until_executed()
    expected = lp.widget_outputs_expected()
    if not lp.wait_for_widgets(expected):
        raise RuntimeError(f"{path}: {expected} widgets expected, shown: {lp.shown_mime_types()}")
    errors = lp.error_outputs()
    if errors:
        raise RuntimeError(f"{path}: errors after Run All: {errors}")


def measure_floor(server, browser, presses: int) -> list[float]:
    lp = labharness.LabPage(server, browser.new_page())
    try:
        _open(lp, "harness/floor.ipynb")
        box = lp.widget_outputs().first
        handle = box.locator(".widget-slider .noUi-handle").first
        label = box.locator(".widget-vbox > .widget-label").first
        return _measure(lp, handle, label, watch_src=False, presses=presses)
    finally:
        lp.close()
        server.shutdown_kernels()


def measure_lesson(server, browser, lesson: Path, presses: int):
    """(slider description, samples) for the lesson's first panel, or (None, []) without one."""
    lp = labharness.LabPage(server, browser.new_page())
    try:
        _open(lp, f"lessons/{lesson.name}")
        panels = lp.panels()
        if panels.count() == 0:
            return None, []
        slider = labharness.Slider(panels.first, 0)
        slider.root.scroll_into_view_if_needed()
        return slider.description, _measure(lp, slider.handle, slider.image, watch_src=True,
                                            presses=presses)
    finally:
        lp.close()
        server.shutdown_kernels()


def _ms(values):
    return statistics.median(values) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=20, help="key presses per slider (default 20)")
    parser.add_argument("--target", type=float, default=2.0, help="allowed ratio to the floor (default 2)")
    parser.add_argument("--lessons", nargs="*", default=None,
                        help="lesson number prefixes, e.g. 01 03 (default: all)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a panel misses the target")
    args = parser.parse_args(argv)

    reason = labharness.missing_browser()
    if reason:
        print(f"bench_browser: cannot run: {reason}", file=sys.stderr)
        return 2
    lessons = labharness.lesson_notebooks()
    if args.lessons:
        lessons = [p for p in lessons if any(p.name.startswith(n) for n in args.lessons)]
    if not lessons:
        print("bench_browser: no lesson notebooks found", file=sys.stderr)
        return 2

    results = []
    with tempfile.TemporaryDirectory(prefix="gdcourse-bench-browser-") as tmp:
        server = labharness.LabServer(Path(tmp) / "lab", extra={"harness/floor.ipynb": labharness.floor_notebook()})
        with server, labharness.Chromium(Path(tmp) / "chromium") as browser:
            floor_before = measure_floor(server, browser, args.presses)
            for lesson in lessons:
                results.append((lesson, *measure_lesson(server, browser, lesson, args.presses)))
            floor_after = measure_floor(server, browser, args.presses)

    floor = _ms(floor_before + floor_after)
    print(f"Browser slider latency: keydown on the handle -> new figure (img src), "
          f"median of {args.presses} presses (chromium headless, JupyterLab, 2 cores)")
    print(f"floor = IntSlider -> Label text: median {floor:.1f} ms "
          f"(before the lessons {_ms(floor_before):.1f} ms, after {_ms(floor_after):.1f} ms)\n")
    missed = 0
    for lesson, description, samples in results:
        print(f"{lesson.stem}: first panel, slider {description!r}")
        if not samples:
            print("  (no panel with a slider)\n")
            continue
        median = _ms(samples)
        ratio = median / floor
        verdict = "PASS" if ratio <= args.target else "FAIL"
        missed += verdict == "FAIL"
        print(f"  {'median ms':>10} {'p90 ms':>8} {'floor median ms':>16} {'ratio':>6}  result")
        p90 = statistics.quantiles(samples, n=10)[-1] if len(samples) >= 2 else median
        print(f"  {median:10.1f} {p90:8.1f} {floor:16.1f} {ratio:6.2f}  {verdict} (target <= {args.target:g}x)\n")
    measured = sum(bool(r[2]) for r in results)
    print(f"{measured - missed} of {measured} panels within {args.target:g}x the floor")
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
