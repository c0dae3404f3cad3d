"""A throw-away JupyterLab serving a copy of the course, driven by Debian's headless chromium.

Shared by the browser tests (``tests/browser``) and the in-browser latency
benchmark (``benchmarks/bench_browser.py``).

* :class:`LabServer` starts ``gdcourse lab COPY --no-browser`` on 127.0.0.1, on
  a free port, with a random token, and with every Jupyter directory that it
  could write to (config, runtime, data, lab settings, lab workspaces,
  IPython) in a temporary folder.  The kernelspec and the lab extensions (the
  ipywidgets manager) still come from the environment's ``share/jupyter``,
  which Jupyter always searches.  The news/announcements pop-up is disabled
  through ``labconfig/page_config.json`` in the throw-away config.  ``stop()``
  asks the server to shut down (kernels included), then terminates and, as a
  last resort, kills what is left: every process of one server carries a
  marker variable in its environment, so stray kernels are found by it.
* :func:`launch_chromium` starts ``/usr/bin/chromium`` headless through
  Playwright's sync API with a fresh user-data-dir.  Nothing downloads a
  browser.
* :class:`LabPage` opens a notebook, waits for the kernel, runs all cells
  through the Run menu, and reads what the page shows: outputs, widgets,
  sliders, the panel images.

The server is started with ``--LabApp.expose_app_in_browser=True`` so the page
has ``window.jupyterapp``: the notebook *model* (execution counts, output
types, MIME types) is read from it, while everything a learner sees (widgets,
texts, images) is read from the DOM.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from gdcourse import _procs

__all__ = [
    "CHROMIUM", "CHROMIUM_FLAGS", "BROKEN_WIDGET_TEXTS", "REPO", "course_source", "missing_browser",
    "free_port", "LabServer", "Chromium", "launch_chromium", "LabPage", "Slider", "Control",
    "panel_controls", "HarnessError",
    "SELFTEST_ERROR", "SELFTEST_BROKEN_TEXT",
    "selftest_notebook", "controls_selftest_notebook", "image_floor_notebook", "CONTROLS_SELFTEST_DEAD",
    "CONTROLS_SELFTEST_NO_TOOLTIP", "floor_notebook", "lesson_notebooks",
    "exercise_notebooks",
]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("GDCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Texts that mean a widget did not render (ipywidgets' own placeholders and errors).
BROKEN_WIDGET_TEXTS = ("Loading widget", "Error displaying widget", "model not found")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_MARKER = "GDCOURSE_BROWSER_RUN"


class HarnessError(RuntimeError):
    """The server or the browser could not be brought up; the message says why."""


def course_source() -> Path:
    """The course under test: the repository, or ``$GDCOURSE_BROWSER_COURSE`` (a folder with
    lessons/ and exercises/) to try the suite on another copy."""
    return Path(os.environ.get("GDCOURSE_BROWSER_COURSE") or REPO).resolve()


def lesson_notebooks(root: Path | None = None) -> list[Path]:
    return sorted(((root or course_source()) / "lessons").glob("[0-9][0-9]_*.ipynb"))


def exercise_notebooks(root: Path | None = None) -> list[Path]:
    return sorted(((root or course_source()) / "exercises").glob("*.ipynb"))


def missing_browser() -> str | None:
    """Why the browser suite cannot run here, or None when it can."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (install Debian's chromium package: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the Python package playwright is missing ({exc}); pip install -e '.[test]'"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gdcourse_command() -> list[str]:
    script = Path(sys.executable).with_name("gdcourse")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gdcourse.cli"]


# ============================================================================================
# notebooks the harness writes itself
# ============================================================================================

def _notebook(cells: list[str]) -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{i}", "metadata": {},
                   "outputs": [], "source": src} for i, src in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


_SELFTEST_SETUP = '''\
import io
import ipywidgets as widgets
from matplotlib.figure import Figure
from matplotlib.backends.backend_agg import FigureCanvasAgg

def render(a):
    fig = Figure(figsize=(4, 2.5), dpi=60)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, a, 2 * a], "o-")
    ax.set_ylim(-12, 12)
    ax.set_title(f"a = {a:.2f}")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
'''

_SELFTEST_LIVE = '''\
a = widgets.FloatSlider(value=1.0, min=-5.0, max=5.0, step=0.25, description="a (live)",
                        continuous_update=True)
image = widgets.Image(value=render(a.value), format="png")
a.observe(lambda change: setattr(image, "value", render(change["new"])), names="value")
widgets.VBox([widgets.HBox([a]), image])
'''

_SELFTEST_FROZEN = '''\
# a broken panel on purpose: its slider never redraws the picture
b = widgets.FloatSlider(value=1.0, min=-5.0, max=5.0, step=0.25, description="b (frozen)")
frozen = widgets.Image(value=render(b.value), format="png")
widgets.VBox([widgets.HBox([b]), frozen])
'''


SELFTEST_ERROR = "harness self-test: this error must be reported"
SELFTEST_BROKEN_TEXT = "Loading widget (printed on purpose by the harness self-test)"


def selftest_notebook(*, faults: bool = True) -> dict:
    """A notebook with one live panel (FloatSlider → Agg PNG in an ipywidgets.Image) and,
    with ``faults``, what the harness must catch: a panel whose slider never redraws its
    picture, a "Loading widget" text and an error in the last cell."""
    cells = [_SELFTEST_SETUP, _SELFTEST_LIVE]
    if faults:
        cells += [_SELFTEST_FROZEN, f"print({SELFTEST_BROKEN_TEXT!r})",
                  f"raise ValueError({SELFTEST_ERROR!r})"]
    return _notebook(cells)


_CONTROLS_GOOD = '''\
# a panel whose every control changes the picture, or is disabled with a tooltip
def live_panel(controls, draw, disable=None):
    image = widgets.Image(format="png")
    clicks = [0]
    def redraw(change=None):
        values = {k: c.value for k, c in controls.items() if hasattr(c, "value")}
        if disable is not None:
            disable(controls, values)
        image.value = render(draw(clicks=clicks[0], **values))
    for c in controls.values():
        if hasattr(c, "value"):
            c.observe(redraw, names="value")
        else:
            c.on_click(lambda button: (clicks.__setitem__(0, clicks[0] + 1), redraw()))
    redraw()
    return widgets.VBox([widgets.HBox(list(controls.values())), image])

good = dict(
    a=widgets.FloatSlider(value=1.0, min=-5.0, max=5.0, step=0.25, description="a (good)"),
    shape=widgets.Dropdown(options=["line", "square", "cube"], value="line", description="shape"),
    mode=widgets.Dropdown(options=["uses a", "fixed"], value="uses a", description="mode"),
    flip=widgets.Checkbox(value=False, description="flip"),
    factor=widgets.ToggleButtons(options=["x1", "x2"], description="factor"),
    go=widgets.Button(description="go"),
)
def draw_good(a, shape, mode, flip, factor, clicks):
    v = (a if mode == "uses a" else 2.0) * {"line": 1, "square": 2, "cube": 3}[shape]
    return (-v if flip else v) * (1 if factor == "x1" else 2) + 0.1 * clicks
def disable_good(controls, values):
    fixed = values["mode"] == "fixed"
    controls["a"].disabled = fixed
    controls["a"].tooltip = "a has no effect when mode is fixed" if fixed else None
live_panel(good, draw_good, disable_good)
'''

_CONTROLS_BAD = '''\
# a panel with dead controls on purpose
bad = dict(
    b=widgets.FloatSlider(value=1.0, min=-5.0, max=5.0, step=0.25, description="b (bad)"),
    mode=widgets.Dropdown(options=["uses b", "ignores b"], value="uses b", description="bad mode"),
    dead_choice=widgets.Dropdown(options=["p", "q"], value="p", description="dead choice"),
    dead_box=widgets.Checkbox(value=False, description="dead box"),
    mute=widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description="mute",
                             disabled=True),
)
live_panel(bad, lambda b, mode, clicks, **ignored: b if mode == "uses b" else 3.0)
'''

#: What the controls self-test must report in the bad panel (control description → state).
CONTROLS_SELFTEST_DEAD = {
    "b (bad)": "bad mode = 'ignores b'", "dead choice": "as loaded", "dead box": "as loaded",
}
CONTROLS_SELFTEST_NO_TOOLTIP = "mute"


def controls_selftest_notebook() -> dict:
    """Two panels for the every-control-alive check: one whose controls all change the
    picture (slider, dropdowns, checkbox, toggle buttons, button; the slider is disabled
    with a tooltip while a dropdown makes it irrelevant), and one with dead controls
    (see :data:`CONTROLS_SELFTEST_DEAD`) and a disabled slider without a tooltip."""
    return _notebook([_SELFTEST_SETUP, _CONTROLS_GOOD, _CONTROLS_BAD])


def image_floor_notebook() -> dict:
    """The picture floor: an IntSlider whose observer only swaps two PNGs that a real panel
    (lesson 1's fit panel) drew beforehand, so each move moves a panel-sized picture
    through the same path (websocket, blob URL) with no compute, draw or encode."""
    return _notebook(['''\
import ipywidgets as widgets
from gdcourse.data import five_points
from gdcourse.widgets import fit_panel
p = fit_panel(five_points())
frames = [p.set(theta1=0.2).render_png(), p.set(theta1=0.8).render_png()]
m = widgets.IntSlider(value=50, min=0, max=100, description="m (image floor)", continuous_update=True)
picture = widgets.Image(value=frames[0], format="png")
m.observe(lambda change: setattr(picture, "value", frames[change["new"] % 2]), names="value")
print(f"{len(frames[0])} + {len(frames[1])} bytes")
widgets.VBox([m, picture])
'''])


def floor_notebook() -> dict:
    """The messaging floor: an IntSlider whose observer only updates a Label."""
    return _notebook(['''\
import ipywidgets as widgets
n = widgets.IntSlider(value=50, min=0, max=100, description="n (floor)", continuous_update=True)
label = widgets.Label(value="n = 50")
n.observe(lambda change: setattr(label, "value", f"n = {change['new']}"), names="value")
widgets.VBox([n, label])
'''])


# ============================================================================================
# the server
# ============================================================================================

class LabServer:
    """``gdcourse lab`` on a copy of the course in ``workdir``; see the module docstring.

    ``extra`` maps a path relative to the course copy (``"harness/selftest.ipynb"``)
    to a notebook dict to write there before the server starts.
    """

    def __init__(self, workdir, *, source: Path | None = None, extra: dict | None = None,
                 lang: str | None = None):
        self.workdir = Path(workdir)
        self.lang = lang   # ``gdcourse lab --lang``: it serves course/build/LANG, the translation
        self.source = Path(source) if source is not None else course_source()
        self.extra = dict(extra or {})
        self.course = self.workdir / "course"
        self.log_path = self.workdir / "jupyterlab.log"
        self.port = None
        self.token = secrets.token_hex(24)
        self.run_id = uuid.uuid4().hex
        self.proc = None
        self._log = None

    # --- set-up ----------------------------------------------------------------------------

    def _copy_course(self):
        from gdcourse.course import copy_course

        copy_course(self.course, source=self.source, overwrite=True)
        for rel, nb in self.extra.items():
            target = self.course / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(nb, indent=1), encoding="utf-8")

    def _environment(self) -> dict:
        dirs = {name: self.workdir / sub for name, sub in [
            ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_DATA_DIR", "data"), ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"), ("IPYTHONDIR", "ipython")]}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
        labconfig.mkdir(exist_ok=True)
        (labconfig / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "IPYTHON")) and k not in ("GDCOURSE_HEADLESS", "MPLBACKEND")}
        env.update({k: str(v) for k, v in dirs.items()})
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        env[_MARKER] = self.run_id
        return env

    def start(self, timeout: float = 120.0) -> "LabServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._copy_course()
        self.port = free_port()
        cmd = _gdcourse_command() + [
            "lab", str(self.course), "--no-browser", "--port", str(self.port),
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", "--LabApp.expose_app_in_browser=True",
        ] + (["--lang", self.lang] if self.lang else [])
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, env=self._environment(), cwd=self.workdir,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise HarnessError(f"JupyterLab exited with code {self.proc.returncode} before it "
                                   f"answered; its log ({self.log_path}):\n{self.log_tail()}")
            try:
                self.api("GET", "api/status", timeout=2)
                # the lab page itself (extensions, page config) must be served too
                with urllib.request.urlopen(self.url("lab"), timeout=10) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise HarnessError(f"JupyterLab did not answer on port {self.port} within "
                                   f"{timeout:.0f} s; its log:\n{self.log_tail()}")
            time.sleep(0.25)  # polling a socket: there is no event to wait for

    # --- use -------------------------------------------------------------------------------

    def url(self, path: str = "lab", **query) -> str:
        query = {"token": self.token, **query}
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}?{urllib.parse.urlencode(query)}"

    def api(self, method: str, path: str, body=None, timeout: float = 10.0):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def shutdown_kernels(self):
        """Stop every kernel (between notebooks: the machine has two cores)."""
        for kernel in self.api("GET", "api/kernels") or []:
            try:
                self.api("DELETE", f"api/kernels/{kernel['id']}", timeout=30)
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise

    def log_tail(self, lines: int = 40) -> str:
        return _procs.log_tail(self.log_path, lines)

    # --- tear-down -------------------------------------------------------------------------

    def stop(self):
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                self.api("POST", "api/shutdown", timeout=10)
            except (urllib.error.URLError, OSError):
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._signal_group(proc, signal.SIGKILL)
                    proc.wait(timeout=15)
        if proc is not None:
            self._reap_strays()
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _signal_group(proc, sig):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    def _reap_strays(self):
        """End this server's stray processes (kernels it did not stop), found by the marker."""
        _procs.end_marked(_MARKER, self.run_id)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ============================================================================================
# the browser
# ============================================================================================

class Chromium:
    """Playwright + a persistent chromium context in a fresh user-data-dir."""

    def __init__(self, workdir, *, viewport=(1400, 1000)):
        self.profile = Path(workdir) / "chromium-profile"
        self.viewport = viewport
        self._pw = None
        self.context = None

    def start(self) -> "Chromium":
        from playwright.sync_api import sync_playwright

        shutil.rmtree(self.profile, ignore_errors=True)
        self.profile.mkdir(parents=True)
        self._pw = sync_playwright().start()
        try:
            self.context = self._pw.chromium.launch_persistent_context(
                str(self.profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": self.viewport[0], "height": self.viewport[1]})
        except Exception:
            self._pw.stop()
            self._pw = None
            raise
        return self

    def new_page(self):
        return self.context.new_page()

    def stop(self):
        if self.context is not None:
            self.context.close()
            self.context = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def launch_chromium(workdir, **kwargs) -> Chromium:
    return Chromium(workdir, **kwargs).start()


# ============================================================================================
# one notebook in one page
# ============================================================================================

# JS run in the page: the state of the current notebook's cells from the model.
_CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.widgets) return null;
  return panel.content.widgets.map((cell, index) => {
    const m = cell.model;
    const out = {index, type: m.type, source: m.sharedModel.getSource(), count: null,
                 state: null, outputs: []};
    if (m.type === 'code') {
      out.count = m.executionCount;
      out.state = m.executionState === undefined ? null : m.executionState;
      for (let i = 0; i < m.outputs.length; i++) {
        const o = m.outputs.get(i).toJSON();
        const text = o.output_type === 'error' ? (o.traceback || []).join('\\n')
                   : o.output_type === 'stream' ? [].concat(o.text).join('') : '';
        out.outputs.push({type: o.output_type, name: o.name || null,
                          mimes: Object.keys(o.data || {}), text});
      }
    }
    return out;
  });
}"""

_WIDGET_OUTPUT = ".jp-OutputArea-output:has(> .jupyter-widgets)"


class LabPage:
    """One Playwright page showing one notebook of a :class:`LabServer`."""

    def __init__(self, server: LabServer, page, *, default_timeout: float = 60_000):
        self.server = server
        self.page = page
        self.page.set_default_timeout(default_timeout)
        self.path = None

    # --- opening and running ---------------------------------------------------------------

    def open(self, path: str, *, kernel_timeout: float = 90_000):
        """Open the notebook at ``path`` (relative to the course copy) and wait for "| Idle"."""
        from playwright.sync_api import expect

        self.path = path
        self.page.goto(self.server.url(f"lab/tree/{path}", reset=""))
        name = Path(path).name
        self.page.wait_for_function(
            """(name) => { const app = window.jupyterapp; const w = app && app.shell.currentWidget;
                return !!(w && w.context && w.context.path.endsWith(name) && w.content &&
                          w.content.widgets.length > 0); }""", arg=name)
        # The toolbar says idle before the session is ready; the status bar does not.
        expect(self.page.locator("#jp-main-statusbar")).to_contain_text(
            re.compile(r"\|\s*Idle"), timeout=kernel_timeout)

    def run_all(self):
        """Run ▸ Run All Cells through the menu, as a learner does."""
        self.page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

    def wait_until_executed(self, timeout: float = 240_000):
        """Wait until Run All is over and the kernel is idle.

        Over means: no code cell is running or queued, and either every
        non-empty code cell has an execution count or an error in a cell not
        tagged ``raises-exception`` stopped the run (the kernel then skips the
        cells after it; they keep no count, and :meth:`unexecuted_cells` lists
        them). An error in a tagged cell does not end the wait: the queue goes
        on after it, and a queued cell out of view shows no ``[*]``.
        """
        from playwright.sync_api import expect

        self.page.wait_for_function(
            """() => { const cells = window.jupyterapp.shell.currentWidget.content.widgets
                         .filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim() !== '');
                const busy = c => c.model.executionState === 'running' ||
                  /\\[\\*\\]/.test((c.node.querySelector('.jp-InputPrompt') || {}).textContent || '');
                if (cells.some(busy)) return false;
                if (cells.every(c => c.model.executionCount !== null)) return true;
                const errored = c => { const o = c.model.outputs;
                  for (let i = 0; i < o.length; i++) if (o.get(i).type === 'error') return true;
                  return false; };
                // only an error in a cell *not* tagged raises-exception stops Run All; after a tagged
                // one (a check cell) the queue goes on, and a cell scrolled out of view shows no [*]
                const tags = c => (c.model.getMetadata ? c.model.getMetadata('tags') : null) || [];
                return cells.some(c => c.model.executionCount !== null && errored(c) &&
                                       !tags(c).includes('raises-exception'));
            }""", timeout=timeout)
        expect(self.page.locator("#jp-main-statusbar")).to_contain_text(re.compile(r"\|\s*Idle"))

    def cells(self) -> list[dict]:
        return self.page.evaluate(_CELLS_JS) or []

    def unexecuted_cells(self) -> list[int]:
        return [c["index"] for c in self.cells()
                if c["type"] == "code" and c["source"].strip() and c["count"] is None]

    # --- what the page shows ---------------------------------------------------------------

    def notebook(self):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first

    def notebook_text(self) -> str:
        """All text of the notebook, including cells scrolled out of view."""
        return self.notebook().evaluate("(el) => el.textContent")

    def error_outputs(self) -> list[str]:
        """Tracebacks and error outputs: from the model (error outputs, stderr with a traceback)
        and from the DOM (rendered stderr showing "Traceback")."""
        found = []
        for cell in self.cells():
            for out in cell["outputs"]:
                if out["type"] == "error":
                    found.append(f"cell {cell['index'] + 1}: error output: {_first_lines(out['text'])}")
                elif out["type"] == "stream" and out["name"] == "stderr" and "Traceback" in out["text"]:
                    found.append(f"cell {cell['index'] + 1}: stderr: {_first_lines(out['text'])}")
        shown = self.notebook().locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        for i in range(shown.count()):
            text = shown.nth(i).text_content() or ""
            if "Traceback" in text:
                found.append(f"stderr output #{i} shows: {_first_lines(text)}")
        return found

    def broken_widget_texts(self) -> list[str]:
        text = self.notebook_text()
        return [t for t in BROKEN_WIDGET_TEXTS if t.lower() in text.lower()]

    def widget_outputs_expected(self) -> int:
        """How many outputs in the model carry a widget view (what should render as widgets)."""
        return sum(WIDGET_MIME in out["mimes"] for c in self.cells() for out in c["outputs"])

    def widget_outputs(self):
        """Outputs rendered as live widgets (not nested in another widget)."""
        return self.notebook().locator(_WIDGET_OUTPUT)

    def panels(self):
        """Rendered widget outputs holding a picture (an ``ipywidgets.Image``) and a slider."""
        return self.widget_outputs().filter(has=self.page.locator("img")).filter(
            has=self.page.locator(".widget-slider .noUi-handle"))

    def shown_mime_types(self) -> list[str]:
        """What each top-level output shows: a mime type, or "widget" for a live widget."""
        return self.notebook().evaluate(
            """(nb) => Array.from(nb.querySelectorAll('.jp-OutputArea-output'))
                 .filter(o => !o.parentElement.closest('.jupyter-widgets'))
                 .map(o => o.querySelector(':scope > .jupyter-widgets') ? 'widget'
                           : (o.getAttribute('data-mime-type') || o.textContent.trim().slice(0, 60)))""")

    def wait_for_widgets(self, expected: int, timeout: float = 30_000) -> bool:
        """Wait until ``expected`` outputs show live widgets and none says "Loading widget";
        False when that has not happened within ``timeout`` ms."""
        return self.notebook().evaluate(
            """(nb, [sel, n, timeout]) => new Promise((resolve, reject) => {
                 // widget renderers are the outputs without a data-mime-type attribute
                 const done = () => nb.querySelectorAll(sel).length >= n &&
                   !Array.from(nb.querySelectorAll('.jp-OutputArea-output:not([data-mime-type])'))
                      .some(o => /Loading widget/i.test(o.textContent));
                 if (done()) return resolve(true);
                 const obs = new MutationObserver(() => { if (done()) { obs.disconnect(); resolve(true); } });
                 obs.observe(nb, {childList: true, subtree: true, characterData: true});
                 setTimeout(() => { obs.disconnect(); resolve(done()); }, timeout);
               })""", [_WIDGET_OUTPUT, expected, timeout])

    def screenshot(self, path: Path, locator=None) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        target = locator if locator is not None else self.page
        target.screenshot(path=str(path))
        return path

    def close(self):
        self.page.close()


class Slider:
    """One ``.widget-slider`` inside a panel: its handle, readout and picture."""

    def __init__(self, panel, index: int):
        self.panel = panel
        self.index = index
        self.root = panel.locator(".widget-slider").nth(index)
        self.handle = self.root.locator(".noUi-handle").first
        self.readout = self.root.locator(".widget-readout").first
        self.image = panel.locator("img").first

    @property
    def description(self) -> str:
        label = self.root.locator(".widget-label").first
        text = (label.text_content() or "").strip() if label.count() else ""
        return text or f"slider {self.index}"

    def readout_text(self) -> str:
        return (self.readout.text_content() or "").strip()

    @property
    def disabled(self) -> bool:
        """ipywidgets marks a disabled slider's noUiSlider element with ``disabled``."""
        return self.root.locator("[disabled]").count() > 0

    def image_src(self) -> str:
        return self.image.get_attribute("src") or ""

    def press(self, key: str | None = None) -> str:
        """Focus the handle and press an arrow key (away from the end it sits at); returns it."""
        if key is None:
            now = float(self.handle.get_attribute("aria-valuenow") or "nan")
            top = float(self.handle.get_attribute("aria-valuemax") or "nan")
            key = "ArrowLeft" if now >= top else "ArrowRight"
        self.handle.focus()
        self.handle.press(key)
        return key

    def type_value(self, text: str):
        """Click the readout, select its text, type ``text`` and press Enter."""
        self.readout.click()
        self.readout.press("ControlOrMeta+a")
        self.readout.press_sequentially(text)
        self.readout.press("Enter")

    def wait_image_change(self, old_src: str, timeout: float = 2_000) -> bool:
        """True when the picture's src differs from ``old_src`` within ``timeout`` ms."""
        return _wait_src_change(self.image, old_src, timeout)


# JS run in the page: mark and describe every control of one panel (a rendered widget output).
_CONTROL_KINDS = {
    "widget-slider": "slider", "widget-dropdown": "dropdown", "widget-checkbox": "checkbox",
    "widget-toggle-buttons": "togglebuttons", "widget-toggle-button": "togglebutton",
    "widget-button": "button", "widget-radio": "radio",
}
_CONTROLS_JS = """(panel, kinds) => {
  const sel = Object.keys(kinds).map(c => '.' + c).join(', ');
  const roots = Array.from(panel.querySelectorAll(sel))
    .filter(el => !(el.parentElement && el.parentElement.closest(sel) &&
                    panel.contains(el.parentElement.closest(sel))));
  // ipywidgets writes U+00A0 for spaces in options and U+200B into empty labels
  const clean = (t) => (t || '').replace(/\u00a0/g, ' ').replace(/\u200b/g, '').trim();
  return roots.map((el, index) => {
    el.setAttribute('data-gd-control', String(index));
    const kind = kinds[Object.keys(kinds).find(c => el.classList.contains(c))];
    const label = el.querySelector(':scope > .widget-label');
    let description = label ? clean(label.textContent) : '';
    if (!description) {
      const span = el.querySelector('.widget-label-basic span');
      description = clean(span ? span.textContent : el.textContent);
    }
    const titles = [el, ...el.querySelectorAll('[title]')]
      .map(e => clean(e.getAttribute('title')))
      .filter(t => t && t !== 'null' && t !== description);  // ipywidgets writes "null" for no tooltip
    const disabled = el.hasAttribute('disabled') || el.querySelector('[disabled]') !== null;
    const style = getComputedStyle(el);
    const hidden = el.offsetParent === null || style.visibility === 'hidden' || style.display === 'none';
    let options = [], selected = -1;
    if (kind === 'dropdown') {
      const s = el.querySelector('select');
      options = Array.from(s.options).map(o => clean(o.textContent));
      selected = s.selectedIndex;
    } else if (kind === 'togglebuttons') {
      const b = Array.from(el.querySelectorAll('button'));
      options = b.map(x => clean(x.textContent));
      selected = b.findIndex(x => x.classList.contains('mod-active'));
    } else if (kind === 'radio') {
      const b = Array.from(el.querySelectorAll('input[type=radio]'));
      options = b.map(x => clean(x.parentElement.textContent || x.value));
      selected = b.findIndex(x => x.checked);
    } else if (kind === 'checkbox') {
      options = ['off', 'on'];
      selected = el.querySelector('input[type=checkbox]').checked ? 1 : 0;
    }
    return {index, kind, description: description || kind + ' ' + index,
            tooltip: titles.join(' / '), disabled, hidden, options, selected};
  });
}"""


def panel_controls(panel) -> list["Control"]:
    """Every control of a panel (a rendered widget output), in page order: sliders,
    dropdowns, checkboxes, toggle buttons, buttons, radio buttons."""
    infos = panel.evaluate(_CONTROLS_JS, _CONTROL_KINDS)
    return [Control(panel, info) for info in infos]


class Control:
    """One control of a panel, moved the way a learner moves it.

    * a slider: one arrow key on its handle (→, or ← at the top end);
    * a dropdown / radio / toggle buttons: the next option (wrapping round);
    * a checkbox: a click on its box; a (toggle) button: a click.

    ``info`` is what the page showed when the panel's controls were listed;
    :meth:`refresh` reads it again (a move of another control may disable this one).
    """

    def __init__(self, panel, info: dict):
        self.panel = panel
        self.index = info["index"]
        self.root = panel.locator(f'[data-gd-control="{self.index}"]').first
        self.image = panel.locator("img").first
        self.info = info

    kind = property(lambda self: self.info["kind"])
    description = property(lambda self: self.info["description"])
    disabled = property(lambda self: self.info["disabled"])
    hidden = property(lambda self: self.info["hidden"])
    tooltip = property(lambda self: self.info["tooltip"])
    options = property(lambda self: self.info["options"])
    selected = property(lambda self: self.info["selected"])

    @property
    def discrete(self) -> bool:
        """A control with a few states (dropdown, checkbox, ...), as opposed to a slider or a button."""
        return self.kind in ("dropdown", "checkbox", "togglebuttons", "radio")

    def refresh(self) -> "Control":
        infos = self.panel.evaluate(_CONTROLS_JS, _CONTROL_KINDS)
        self.info = infos[self.index]
        return self

    def __repr__(self):
        return f"Control({self.kind} {self.description!r})"

    def image_src(self) -> str:
        return self.image.get_attribute("src") or ""

    def slider_state(self) -> tuple[float, float, float]:
        handle = self.root.locator(".noUi-handle").first
        return tuple(float(handle.get_attribute(a) or "nan")
                     for a in ("aria-valuenow", "aria-valuemin", "aria-valuemax"))

    def move(self, *, direction: int = 1, option: int | None = None) -> str:
        """Move the control once; returns what was done (for messages).

        ``direction`` (+1 / -1) is the arrow a slider is pressed with; at the end of
        its range it turns round.  ``option`` picks the option index of a
        dropdown / radio / toggle buttons (default: the next one)."""
        kind = self.kind
        if kind == "slider":
            now, lo, hi = self.slider_state()
            if direction > 0 and now >= hi:
                direction = -1
            elif direction < 0 and now <= lo:
                direction = 1
            key = "ArrowRight" if direction > 0 else "ArrowLeft"
            self.root.locator(".noUi-handle").first.press(key)
            return f"pressed {key} on the handle"
        if kind in ("dropdown", "togglebuttons", "radio"):
            n = len(self.options)
            target = (self.selected + 1) % n if option is None else option
            if kind == "dropdown":
                self.root.locator("select").select_option(index=target)
            elif kind == "togglebuttons":
                self.root.locator("button").nth(target).click()
            else:
                self.root.locator("input[type=radio]").nth(target).click()
            self.info = {**self.info, "selected": target}
            return f"chose {self.options[target]!r}"
        if kind == "checkbox":
            self.root.locator("input[type=checkbox]").click()
            now = 1 - self.selected
            self.info = {**self.info, "selected": now}
            return "ticked the box" if now else "cleared the box"
        self.root.click()
        return "clicked it"

    def wait_image_change(self, old_src: str, timeout: float = 2_000) -> bool:
        """True when the panel's picture has a src other than ``old_src`` within ``timeout`` ms."""
        return _wait_src_change(self.image, old_src, timeout)


def _wait_src_change(image, old_src: str, timeout: float) -> bool:
    return image.evaluate(
        """(img, [old, timeout]) => new Promise((resolve) => {
             if (img.getAttribute('src') !== old) return resolve(true);
             const obs = new MutationObserver(() => {
               if (img.getAttribute('src') !== old) { obs.disconnect(); resolve(true); } });
             obs.observe(img, {attributes: true, attributeFilter: ['src']});
             setTimeout(() => { obs.disconnect(); resolve(img.getAttribute('src') !== old); }, timeout);
           })""", [old_src, timeout])


def _first_lines(text: str, n: int = 3) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text or "")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:]) if lines else "(empty)"
