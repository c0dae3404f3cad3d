"""Control latency in a real browser: a learner's key press or click → new figure on screen.

Every control of every panel of every lesson is measured (sliders, dropdowns,
checkboxes, toggle buttons, buttons).  For each interaction the page records,
with ``performance.now()``, the time from the first ``keydown``, ``click`` or
``change`` event on the control to the moment the panel's ``<img>`` gets a new
``src`` (a MutationObserver).  The same is measured, in the same run and the
same browser, for the *messaging floor*: an ``IntSlider`` whose observer only
sets the text of a ``Label``.  Everything between the two numbers is the
panel's own work (compute, draw, PNG encode, transfer, blob URL).

    python benchmarks/bench_browser.py                       # one line per control, exit 0
    python benchmarks/bench_browser.py --strict              # exit 1 when a control misses 2x the floor
    python benchmarks/bench_browser.py --lessons 1,3 --presses 10

For information it also measures a *picture floor*: a slider whose observer
only swaps two PNGs that lesson 1's fit panel drew beforehand (same size, same
path through the websocket and the blob URL, no compute/draw/encode).  The
"own" column is a control's median minus the picture floor.

How each control is moved, ``--presses`` times:

* a slider: arrow keys on its handle, the first half one way (towards the
  side with more room) and the second half back, so half of the positions are
  new to the kernel (no cache can help) and the slider ends where it started;
  at an end of its range it turns round;
* a dropdown / toggle buttons / radio: the next option each time, wrapping
  round, so every option is visited; afterwards it is put back where it was;
* a checkbox: a click on its box; a button: a click.

A control whose interaction brings no new picture within ``--timeout`` ms is
reported as FAIL ("no new image") and not pressed again.  A disabled control
is listed with its tooltip and not timed (FAIL when it has no tooltip).  The
load average is printed with the figures: on a loaded machine both the floor
and the panels move.  It needs /usr/bin/chromium and the playwright package
(no browser is downloaded) and starts its own throw-away JupyterLab on a copy
of the course.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import labharness  # noqa: E402

# t0 at the first input event of an interaction on ``control``; a sample when ``target`` changes.
_INSTALL = """([control, target, watchSrc]) => {
  const state = {t0: null, samples: []};
  window.__gdLatency = state;
  const start = () => { if (state.t0 === null) state.t0 = performance.now(); };
  const events = ['keydown', 'click', 'change'];
  for (const ev of events) control.addEventListener(ev, start, true);
  const obs = new MutationObserver(() => {
    if (state.t0 !== null) { state.samples.push(performance.now() - state.t0); state.t0 = null; } });
  obs.observe(target, watchSrc ? {attributes: true, attributeFilter: ['src']}
                               : {childList: true, characterData: true, subtree: true});
  state.stop = () => { obs.disconnect();
    for (const ev of events) control.removeEventListener(ev, start, true); };
}"""
_PANEL_CALL = re.compile(r"\b(\w+_panel)\s*\(([^()]*(?:\([^()]*\))?[^()]*)\)")


def _wait_sample(page, n: int, timeout_ms: float) -> bool:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("(n) => window.__gdLatency.samples.length >= n", arg=n, timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


def _stop(page) -> list[float]:
    samples = page.evaluate("() => { window.__gdLatency.stop(); window.__gdLatency.t0 = null;"
                            " return window.__gdLatency.samples; }")
    return [float(s) for s in samples]


def measure_control(page, control: labharness.Control, presses: int, timeout_ms: float):
    """(samples in ms, whether every interaction brought a new image)."""
    page.evaluate(_INSTALL, [control.root.element_handle(), control.image.element_handle(), True])
    alive = True
    first_direction = 1
    if control.kind == "slider":
        now, lo, hi = control.slider_state()
        first_direction = 1 if hi - now >= now - lo else -1
    start_option = control.selected
    for i in range(presses):
        direction = first_direction if i < (presses + 1) // 2 else -first_direction
        control.move(direction=direction)
        if not _wait_sample(page, i + 1, timeout_ms):
            alive = False
            break
    samples = _stop(page)
    if alive and control.options and control.selected != start_option:
        before = control.image_src()  # put it back, untimed, so the next control sees the loaded state
        control.move(option=start_option)
        control.wait_image_change(before, timeout_ms)
    return samples, alive


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


def measure_floor(server, browser, presses: int, timeout_ms: float, *, image: bool = False) -> list[float]:
    """The text floor (slider → Label text) or, with ``image``, the picture floor
    (slider → one of two pre-drawn panel PNGs)."""
    lp = labharness.LabPage(server, browser.new_page())
    try:
        _open(lp, "harness/image_floor.ipynb" if image else "harness/floor.ipynb")
        page = lp.page
        box = lp.widget_outputs().first
        slider = box.locator(".widget-slider").first
        handle = slider.locator(".noUi-handle").first
        target = box.locator("img").first if image else box.locator(".widget-vbox > .widget-label").first
        page.evaluate(_INSTALL, [slider.element_handle(), target.element_handle(), image])
        handle.focus()
        for i in range(presses):  # the floor slider starts in the middle: walk right, then back
            handle.press("ArrowRight" if i < (presses + 1) // 2 else "ArrowLeft")
            if not _wait_sample(page, i + 1, timeout_ms):
                raise RuntimeError("the floor slider's output did not change: the harness is broken")
        return _stop(page)
    finally:
        lp.close()
        server.shutdown_kernels()


def _panel_name(lp, panel, index: int) -> str:
    """The ``*_panel(...)`` call of the cell that shows ``panel`` (else "panel N")."""
    cell = panel.evaluate("(o) => Array.from(o.closest('.jp-Notebook').querySelectorAll('.jp-Cell'))"
                          ".indexOf(o.closest('.jp-Cell'))")
    cells = lp.cells()
    if 0 <= cell < len(cells):
        found = _PANEL_CALL.findall(cells[cell]["source"])
        if found:
            name, args = found[-1]
            return f"{name}({args.strip()})"
    return f"panel {index}"


def measure_lesson(server, browser, lesson: Path, presses: int, timeout_ms: float) -> list[dict]:
    """One row per control of every panel of ``lesson``."""
    lp = labharness.LabPage(server, browser.new_page())
    rows = []
    try:
        _open(lp, f"lessons/{lesson.name}")
        panels = lp.panels()
        for p in range(panels.count()):
            panel = panels.nth(p)
            panel.scroll_into_view_if_needed()
            name = _panel_name(lp, panel, p)
            for control in labharness.panel_controls(panel):
                row = {"lesson": lesson.stem, "panel": name, "control": control.description,
                       "kind": control.kind, "samples": [], "alive": True, "note": ""}
                control.refresh()
                if control.hidden:
                    row["note"] = "hidden"
                elif control.disabled:
                    row["note"] = f"disabled: {control.tooltip or 'NO TOOLTIP'}"
                    row["alive"] = bool(control.tooltip)
                else:
                    row["samples"], row["alive"] = measure_control(lp.page, control, presses, timeout_ms)
                rows.append(row)
    finally:
        lp.close()
        server.shutdown_kernels()
    return rows


def _ms(values):
    return statistics.median(values) if values else float("nan")


def _p90(values):
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) >= 2 else _ms(values)


def _lesson_filter(tokens):
    """``["1,3"]`` or ``["01", "03"]`` → {"01", "03"}; None for all lessons."""
    if not tokens:
        return None
    wanted = set()
    for token in ",".join(tokens).split(","):
        token = token.strip()
        if not token:
            continue
        if not token.isdigit():
            raise SystemExit(f"bench_browser: --lessons expects lesson numbers such as 1,3 or 01 03, "
                             f"but got {token!r}")
        wanted.add(f"{int(token):02d}")
    return wanted


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=20,
                        help="interactions per control (default 20)")
    parser.add_argument("--target", type=float, default=2.0, help="allowed ratio to the floor (default 2)")
    parser.add_argument("--lessons", nargs="*", default=None,
                        help="lesson numbers, e.g. 1,3 or 01 03 (default: all)")
    parser.add_argument("--timeout", type=float, default=5000.0,
                        help="ms to wait for a new image before a control counts as dead (default 5000)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a control misses the target")
    args = parser.parse_args(argv)
    if args.presses < 1:
        parser.error(f"--presses must be at least 1, but got {args.presses}")

    reason = labharness.missing_browser()
    if reason:
        print(f"bench_browser: cannot run: {reason}", file=sys.stderr)
        return 2
    lessons = labharness.lesson_notebooks()
    wanted = _lesson_filter(args.lessons)
    if wanted is not None:
        lessons = [p for p in lessons if p.name[:2] in wanted]
    if not lessons:
        print("bench_browser: no lesson notebooks found", file=sys.stderr)
        return 2

    load_before, t_start = _load(), time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gdcourse-bench-browser-") as tmp:
        server = labharness.LabServer(Path(tmp) / "lab", extra={
            "harness/floor.ipynb": labharness.floor_notebook(),
            "harness/image_floor.ipynb": labharness.image_floor_notebook()})
        with server, labharness.Chromium(Path(tmp) / "chromium") as browser:
            floor_before = measure_floor(server, browser, args.presses, args.timeout)
            image_floor = measure_floor(server, browser, args.presses, args.timeout, image=True)
            for lesson in lessons:
                rows += measure_lesson(server, browser, lesson, args.presses, args.timeout)
            floor_after = measure_floor(server, browser, args.presses, args.timeout)
    load_after = _load()

    floor = _ms(floor_before + floor_after)
    print(f"Browser control latency: first keydown/click/change on the control -> new figure (img src), "
          f"median of {args.presses} interactions (chromium headless, JupyterLab)")
    print(f"floor = IntSlider -> Label text: median {floor:.1f} ms (before the lessons "
          f"{_ms(floor_before):.1f} ms, after {_ms(floor_after):.1f} ms); target: median <= "
          f"{args.target:g}x the floor = {args.target * floor:.1f} ms")
    picture = _ms(image_floor)
    print(f"picture floor (information) = IntSlider -> swap of two pre-drawn panel PNGs: median "
          f"{picture:.1f} ms; 'own' = a control's median minus it (compute + draw + encode + more)")
    print(f"{load_before} at the start; {load_after} at the end\n")
    header = (f"{'lesson':<24} {'panel':<34} {'control':<32} {'kind':<13} {'n':>3} {'median':>7} "
              f"{'p90':>7} {'max':>7} {'own':>6} {'ratio':>6}  result")
    print(header)
    print("-" * len(header))
    failed, measured = [], 0
    for r in rows:
        s = r["samples"]
        head = f"{r['lesson'][:24]:<24} {r['panel'][:34]:<34} {r['control'][:32]:<32} {r['kind']:<13}"
        if r["note"]:
            verdict = "-" if r["alive"] else "FAIL"
            print(f"{head} {'':>3} {'':>7} {'':>7} {'':>7} {'':>6} {'':>6}  {verdict} ({r['note']})")
            if not r["alive"]:
                failed.append(r)
            continue
        measured += 1
        if s:
            median = _ms(s)
            ratio = median / floor
            verdict = "PASS" if ratio <= args.target and r["alive"] else "FAIL"
            nums = (f"{len(s):>3} {median:7.1f} {_p90(s):7.1f} {max(s):7.1f} {median - picture:6.1f} "
                    f"{ratio:6.2f}")
        else:
            verdict, nums = "FAIL", f"{0:>3} {'-':>7} {'-':>7} {'-':>7} {'-':>6} {'-':>6}"
        note = "" if r["alive"] else f" (no new image within {args.timeout:.0f} ms after {len(s)} " \
                                     f"good interaction(s))"
        print(f"{head} {nums}  {verdict}{note}")
        if verdict == "FAIL":
            failed.append(r)
    print()
    print(f"{measured - sum(1 for r in failed if not r['note'])} of {measured} controls within "
          f"{args.target:g}x the floor ({floor:.1f} ms) in this run; "
          f"{len(rows) - measured} disabled or hidden; {time.monotonic() - t_start:.0f} s in all")
    timed = [r for r in rows if r["samples"] and not r["note"]]
    tight = [r for r in timed if _ms(r["samples"]) > args.target * picture or not r["alive"]]
    print(f"(information) against the picture floor ({picture:.1f} ms): "
          f"{len(timed) - len(tight)} of {len(timed)} timed controls within {args.target:g}x"
          + (": above it " + "; ".join(f"{r['lesson'][:2]} {r['control']!r} {_ms(r['samples']):.1f} ms"
                                       for r in tight) if tight else ""))
    if failed:
        print("FAIL: " + "; ".join(f"{r['lesson'][:2]} {r['panel']} {r['control']!r}" for r in failed))
    return 1 if (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
