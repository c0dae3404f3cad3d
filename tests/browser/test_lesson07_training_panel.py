"""Lesson 7's training panel in a real JupyterLab: Train trains, the picture updates live,
the kernel answers while it trains, Stop stops it.

(The generic lesson test in test_course_in_browser.py runs the notebook and moves the α slider;
this one presses the buttons.)
"""

from __future__ import annotations

import re

import pytest

import labharness

pytestmark = pytest.mark.browser

LESSON = next((p for p in labharness.lesson_notebooks() if p.name.startswith("07_")), None)

_EXECUTE_JS = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  let text = '';
  const t0 = performance.now();
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
  await future.done;
  return [text, performance.now() - t0];
}"""

_COUNT_SRC_CHANGES_JS = """(img, ms) => new Promise((resolve) => {
  let n = 0, last = img.getAttribute('src');
  const obs = new MutationObserver(() => {
    const now = img.getAttribute('src');
    if (now !== last) { n += 1; last = now; } });
  obs.observe(img, {attributes: true, attributeFilter: ['src']});
  setTimeout(() => { obs.disconnect(); resolve(n); }, ms);
})"""


def _epoch(text: str) -> int:
    m = re.search(r"epoch (\d+)/", text)
    return int(m.group(1)) if m else -1


@pytest.mark.skipif(LESSON is None, reason="lesson 7 is not in lessons/")
def test_training_panel_trains_updates_and_stops(lab_page, artifacts):
    from test_course_in_browser import check_clean, open_and_run_all

    lp, label = lab_page, "lesson 07 training panel"
    open_and_run_all(lp, f"lessons/{LESSON.name}", label, artifacts)
    check_clean(lp, label, artifacts, expect_panels=True)
    panel = lp.panels().last
    panel.scroll_into_view_if_needed()
    image = panel.locator("img").first
    readout = panel.locator(".widget-html").first
    button = panel.locator("button.widget-toggle-button").first
    assert "epoch 6/" in (readout.text_content() or ""), readout.text_content()

    # a long run, so it is still training while we look (test-only settings of the panel object)
    out, _ = lp.page.evaluate(_EXECUTE_JS, "panel.max_epochs = 400; panel.patience = 400; "
                                            "panel.set(hidden=128, batch_size=16); print(panel.trainer.epoch_count)")
    assert out.strip() == "0", out
    lp.screenshot(artifacts / "lesson07-panel-before-train.png", panel)

    button.click()
    lp.page.wait_for_function("(b) => /Stop/.test(b.textContent)", arg=button.element_handle(), timeout=10_000)
    changes = image.evaluate(_COUNT_SRC_CHANGES_JS, 3_000)
    text = readout.text_content() or ""
    assert changes >= 2, f"{label}: the picture changed {changes} times in 3 s of training; readout {text!r}"
    assert "training" in text and _epoch(text) >= 2, text

    # the kernel answers while the panel trains: a cell's worth of code runs and sees it running
    out, ms = lp.page.evaluate(_EXECUTE_JS, "print(panel.running, panel.trainer.epoch_count)")
    running, epochs = out.split()
    assert running == "True" and int(epochs) >= 2, out
    lp.screenshot(artifacts / "lesson07-panel-training.png", panel)

    button.click()
    lp.page.wait_for_function("(b) => /Train/.test(b.textContent)", arg=button.element_handle(), timeout=10_000)
    out, _ = lp.page.evaluate(_EXECUTE_JS, "panel.wait(30); print(panel.running, panel.trainer.epoch_count)")
    running, stopped_at = out.split()
    assert running == "False", out
    assert image.evaluate(_COUNT_SRC_CHANGES_JS, 1_500) == 0, "the picture kept changing after Stop"
    out, _ = lp.page.evaluate(_EXECUTE_JS, "print(panel.trainer.epoch_count)")
    assert out.strip() == stopped_at, (out, stopped_at)
    assert "paused" in (readout.text_content() or "")
    assert lp.error_outputs() == [], lp.error_outputs()
