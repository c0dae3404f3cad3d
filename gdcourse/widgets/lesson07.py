r"""Lesson 7's training panel, in the spirit of TensorFlow Playground.

``training_panel(steps=None)``: choose the optimiser, α (log scale), the batch
size, the hidden width (0 is softmax regression) and the weight decay, press
**Train**: a digit classifier trains in a background thread and the loss and
accuracy curves (training and validation) and the validation confusion matrix
are redrawn every ``redraw_every`` epochs.  **Stop** pauses; Train resumes.
Changing any setting stops the run and starts a fresh one with the new
settings (training again at once if it was training).  The kernel stays free
while it trains: the epochs run in a thread, which takes the panel's lock only
to redraw (a blit of the moving artists, a few milliseconds).

Optimisers: ``momentum``, ``rmsprop`` and ``adam`` use the step functions in
``steps`` (a :class:`gdcourse.classify.LearnerSteps`: the learner's lesson-6
answers where they pass, the reference otherwise); ``sgd`` is the package's.

Built only on the public :class:`gdcourse.widgets.Panel` API (``_build``,
``_update``, ``_moving``, ``_readout``, ``_say``, ``redraw``, ``set``).
"""

from __future__ import annotations

import math
import threading
import time

import ipywidgets as widgets
import numpy as np

from .. import classify
from ._panel import Panel

__all__ = ["TrainingPanel", "training_panel", "OPTIMIZERS", "BATCH_SIZES", "WIDTHS", "DECAYS"]

OPTIMIZERS = ("adam", "momentum", "rmsprop", "sgd")
BATCH_SIZES = (16, 32, 64, 128, 256)
WIDTHS = (0, 16, 32, 64, 128)
DECAYS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
_COLORS = {"train": "#1f77b4", "val": "#ff7f0e"}
_STYLE = {"description_width": "initial"}


def _digits_split(random_state):
    d = classify.load_digits()
    s = classify.split_indices(d.y, random_state=random_state)
    scaler = classify.Standardizer().fit(d.X[s.train])
    return (scaler.transform(d.X[s.train]), d.y[s.train], scaler.transform(d.X[s.val]), d.y[s.val])


class TrainingPanel(Panel):
    """See the module docstring; make one with :func:`training_panel`."""

    figsize = (9.6, 3.1)
    dpi = 80

    def __init__(self, steps=None, *, random_state=0, max_epochs: int = 60, patience: int = 10,
                 redraw_every: int = 2, data=None):
        self.steps = steps if steps is not None else classify.learner_steps()
        self.random_state = random_state
        self.max_epochs = int(max_epochs)
        self.patience = int(patience)
        self.redraw_every = max(1, int(redraw_every))
        self.X, self.y, self.X_val, self.y_val = data if data is not None else _digits_split(random_state)
        self._lock = threading.RLock()
        self._generation = 0
        self._thread = None
        self._running = False
        self._config = None
        self._trainer = None
        self.redraw_seconds = []        # wall-clock of each live redraw while training (the benchmark's figure)
        controls = {
            "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value="adam", description="optimiser",
                                          style=_STYLE, layout=widgets.Layout(width="190px")),
            "lr": widgets.FloatLogSlider(value=1e-2, base=10, min=-4, max=0, step=0.25, description="α",
                                         continuous_update=False, readout_format=".2g", style=_STYLE,
                                         layout=widgets.Layout(width="300px")),
            "batch_size": widgets.Dropdown(options=list(BATCH_SIZES), value=64, description="batch",
                                           style=_STYLE, layout=widgets.Layout(width="150px")),
            "hidden": widgets.Dropdown(options=[("0 (softmax)", 0)] + [(str(w), w) for w in WIDTHS[1:]],
                                       value=0, description="hidden width", style=_STYLE,
                                       layout=widgets.Layout(width="210px")),
            "weight_decay": widgets.Dropdown(options=[(f"{d:g}", d) for d in DECAYS], value=0.0,
                                             description="weight decay λ", style=_STYLE,
                                             layout=widgets.Layout(width="200px")),
            "train": widgets.ToggleButton(value=False, description="Train", icon="play",
                                          tooltip="Train / Stop", layout=widgets.Layout(width="110px")),
        }
        super().__init__(controls)

    # --- the picture --------------------------------------------------------------------

    def _build(self):
        fig = self.figure
        fig.subplots_adjust(left=0.06, right=0.97, bottom=0.16, top=0.86, wspace=0.36)
        ax_loss, ax_acc, ax_cm = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.15, 1.15, 0.85]})
        epochs = self.max_epochs
        for ax, ylabel in ((ax_loss, "cross-entropy"), (ax_acc, "accuracy")):
            ax.set_xlim(0, epochs)
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
        ax_loss.set_ylim(0, 3.2)
        ax_loss.axhline(math.log(10), color="0.6", ls=":", lw=1)
        ax_acc.set_ylim(0, 1.0)
        for name in ("train", "val"):
            self._moving(f"loss_{name}", ax_loss.plot([], [], color=_COLORS[name], lw=1.6,
                                                     label="training" if name == "train" else "validation")[0])
            self._moving(f"acc_{name}", ax_acc.plot([], [], color=_COLORS[name], lw=1.6)[0])
        self._moving("best", ax_loss.plot([], [], "o", color="black", ms=5, label="best (early stopping)")[0])
        ax_loss.legend(loc="upper right", fontsize=7.5)
        # the settings of the run, in the picture (so a saved image says what trained)
        self._moving("settings", ax_acc.text(0.97, 0.05, "", transform=ax_acc.transAxes, fontsize=7.5,
                                             ha="right", color="0.25"))
        self._readout("loss", ax_loss, "loss per epoch (train / validation)")
        self._readout("acc", ax_acc, "accuracy per epoch (train / validation)")
        image = ax_cm.imshow(np.zeros((10, 10)), vmin=0, vmax=1, cmap="Blues", interpolation="nearest")
        self._moving("confusion", image)
        ax_cm.set_xticks(range(10))
        ax_cm.set_yticks(range(10))
        ax_cm.tick_params(labelsize=7)
        ax_cm.set_xlabel("predicted")
        ax_cm.set_ylabel("true")
        self._readout("confusion", ax_cm, "validation confusion")

    def _message_axes(self):
        return self.figure.axes[0]

    # --- training -----------------------------------------------------------------------

    def _step_for(self, name, lr):
        if name == "sgd":
            return classify.optimizer_step("sgd", lr=lr)
        fns = self.steps.functions
        if name == "adam":
            return classify.adam_step_fn(fns["adam_step"], lr)
        if name == "momentum":
            return classify.momentum_step_fn(fns["momentum_step"], lr, 0.9)
        return classify.rmsprop_step_fn(fns["rmsprop_step"], lr, 0.99)

    def _new_trainer(self, config):
        name, lr, batch_size, hidden, decay = config
        n = self.X.shape[1]
        model = (classify.SoftmaxRegression(n, weight_decay=decay) if hidden == 0
                 else classify.MLP(n, (hidden,), weight_decay=decay))
        return classify.Trainer(model, self.X, self.y, self.X_val, self.y_val, self._step_for(name, lr),
                                batch_size=min(batch_size, self.X.shape[0]), patience=self.patience,
                                random_state=self.random_state)

    @property
    def trainer(self) -> classify.Trainer:
        """The current run (a :class:`gdcourse.classify.Trainer`)."""
        return self._trainer

    @property
    def running(self) -> bool:
        """True while the background thread trains."""
        return self._running

    def _finished(self, trainer):
        return trainer.done or trainer.epoch_count >= self.max_epochs

    def _start(self):
        if self._finished(self._trainer):
            self._trainer = self._new_trainer(self._config)
        self._generation += 1
        self._running = True
        gen = self._generation
        self._thread = threading.Thread(target=self._worker, args=(gen,), daemon=True,
                                        name="gdcourse-training-panel")
        self._thread.start()

    def _worker(self, gen):
        while True:
            with self._lock:
                if gen != self._generation:
                    return
                trainer = self._trainer
            for _ in range(self.redraw_every):
                if not trainer.epoch() or self._finished(trainer):
                    break
            with self._lock:
                if gen != self._generation:
                    return
                if self._finished(trainer):
                    self._running = False
                    self._generation += 1
                    self.set(train=False)          # redraws once, as "stopped early" / "done"
                    return
                t0 = time.perf_counter()
                self.redraw()
                self.redraw_seconds.append(time.perf_counter() - t0)
            time.sleep(0.002)   # let the kernel's own threads in between redraws

    def train_epochs(self, n: int):
        """Train ``n`` epochs in this thread (no background run), then redraw; returns the panel."""
        with self._lock:
            self._generation += 1
            self._running = False
            if self._finished(self._trainer):
                self._trainer = self._new_trainer(self._config)
            trainer = self._trainer
        for _ in range(int(n)):
            if not trainer.epoch() or self._finished(trainer):
                break
        self.redraw()
        return self

    def start(self):
        """Press Train."""
        return self.set(train=True)

    def stop(self):
        """Press Stop."""
        return self.set(train=False)

    def wait(self, timeout: float = 60.0) -> bool:
        """Wait until the background run has finished; True if it did within ``timeout`` seconds."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # --- Panel hooks ----------------------------------------------------------------------

    def redraw(self):
        with self._lock:
            super().redraw()

    def _update(self, optimizer, lr, batch_size, hidden, weight_decay, train):
        config = (optimizer, float(lr), int(batch_size), int(hidden), float(weight_decay))
        if config != self._config:                 # a setting changed: a fresh run
            self._config = config
            self._generation += 1                  # the old thread, if any, stops at its next check
            self._running = False
            self._trainer = self._new_trainer(config)
            if train:
                self._start()
        elif train and not self._running:           # Train pressed
            self._start()
        elif not train and self._running:          # Stop pressed
            self._generation += 1
            self._running = False
        self.controls["train"].description = "Stop" if self._running else "Train"
        self.controls["train"].icon = "stop" if self._running else "play"
        self._draw(self._trainer)

    def _draw(self, trainer):
        h = trainer.history
        k = len(h["train_loss"])
        epochs = np.arange(k)
        for name in ("train", "val"):
            self.artists[f"loss_{name}"].set_data(epochs, np.minimum(h[f"{name}_loss"], 3.2))
            self.artists[f"acc_{name}"].set_data(epochs, h[f"{name}_acc"])
        name, lr, batch_size, hidden, decay = self._config
        model = "softmax" if hidden == 0 else f"MLP {hidden}"
        self.artists["settings"].set_text(f"{name} α={lr:.2g} b={batch_size} {model} λ={decay:g}")
        best = trainer.best_epoch
        self.artists["best"].set_data([best], [min(h["val_loss"][best], 3.2)])
        with np.errstate(all="ignore"):
            pred = trainer.model._scores(trainer.theta, self.X_val).argmax(axis=1)
        cm = classify.confusion_matrix(self.y_val, pred, 10)
        rows = cm.sum(axis=1, keepdims=True)
        self.artists["confusion"].set_data(cm / np.maximum(rows, 1))
        state = ("training…" if self._running else
                 ("stopped early" if trainer.stop_reason == "early_stopping" else
                  "diverged" if trainer.stop_reason == "diverged" else
                  "done" if trainer.epoch_count >= self.max_epochs else "paused" if trainer.epoch_count else "ready"))
        self._say("loss", f"epoch {trainer.epoch_count}/{self.max_epochs} ({state}): loss "
                          f"{h['train_loss'][-1]:.3f} / {h['val_loss'][-1]:.3f}, best {best}")
        self._say("acc", f"accuracy {h['train_acc'][-1]:.1%} / {h['val_acc'][-1]:.1%}")
        self._say("confusion", f"{int(np.trace(cm))}/{cm.sum()} validation digits right")
        if trainer.stop_reason == "diverged":
            self.message = "diverged: the loss blew up; lower α"


def training_panel(steps=None, *, random_state=0, max_epochs: int = 60, patience: int = 10,
                   redraw_every: int = 2) -> TrainingPanel:
    """The lesson-7 training panel on the digits (split and scaled with ``random_state``).

    ``steps`` is a :class:`gdcourse.classify.LearnerSteps` (default: found with
    :func:`gdcourse.classify.learner_steps`).  Each redraw is a blit of the moving
    artists and a PNG encode (see ``benchmarks/bench_capstone.py`` for the time);
    an epoch of the widest MLP takes about 10–20 ms on two cores.
    """
    return TrainingPanel(steps, random_state=random_state, max_epochs=max_epochs, patience=patience,
                         redraw_every=redraw_every)
