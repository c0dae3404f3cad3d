"""Lesson 7's training panel: it trains, redraws what it trained, restarts on a change, stops on Stop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gdcourse import classify
from gdcourse.exercises import get
from gdcourse.widgets import TrainingPanel, training_panel
from gdcourse.widgets import Panel


@pytest.fixture(scope="module")
def steps():
    return classify.learner_steps(None)


def _panel(steps, **kwargs):
    kwargs.setdefault("max_epochs", 8)
    return training_panel(steps, **kwargs)


def test_is_a_panel_with_the_playground_controls(steps):
    p = _panel(steps)
    assert isinstance(p, Panel)
    assert list(p.controls) == ["optimizer", "lr", "batch_size", "hidden", "weight_decay", "train"]
    assert p.trainer.epoch_count == 0 and p.controls["train"].description == "Train"
    assert p.render_png().startswith(b"\x89PNG") and p.static_png().startswith(b"\x89PNG")


def test_train_epochs_draws_the_curves_and_the_confusion_matrix(steps):
    p = _panel(steps)
    p.train_epochs(3)
    h = p.trainer.history
    x, y = p.artists["loss_val"].get_data()
    assert list(x) == [0, 1, 2, 3] and np.allclose(y, h["val_loss"])
    assert np.allclose(p.artists["acc_train"].get_data()[1], h["train_acc"])
    cm = np.asarray(p.artists["confusion"].get_array())
    assert cm.shape == (10, 10) and np.allclose(cm.sum(axis=1), 1)
    pred = p.trainer.model.predict(p.trainer.theta, p.X_val)
    assert np.isclose(np.trace(classify.confusion_matrix(p.y_val, pred)) / len(pred), h["val_acc"][-1])
    assert "epoch 3/8" in p.readouts["loss"] and f"{h['val_acc'][-1]:.1%}" in p.readouts["acc"]


def test_changing_a_setting_restarts_with_it(steps):
    p = _panel(steps)
    p.train_epochs(2)
    p.set(hidden=32, weight_decay=1e-3, batch_size=128)
    assert p.trainer.epoch_count == 0
    assert isinstance(p.trainer.model, classify.MLP) and p.trainer.model.hidden == (32,)
    assert p.trainer.model.weight_decay == 1e-3 and p.trainer.batch_size == 128
    p.set(hidden=0)
    assert isinstance(p.trainer.model, classify.SoftmaxRegression)


def test_train_runs_in_the_background_until_done(steps):
    p = _panel(steps, max_epochs=6, redraw_every=2)
    p.start()
    assert p.controls["train"].description == "Stop"
    assert p.wait(120)
    assert not p.running and p.controls["train"].value is False
    assert p.trainer.epoch_count == 6 and "(done)" in p.readouts["loss"]
    assert len(p.redraw_seconds) >= 2                          # live redraws happened while training
    assert p.controls["train"].description == "Train"


def test_stop_pauses_and_train_resumes(steps):
    gate = threading.Event()
    calls = []
    reference = get("lesson06.adam_step").reference

    def slow_adam(*args):
        calls.append(1)
        if len(calls) == 20:
            gate.wait(30)                  # hold the thread inside epoch 2 until Stop is pressed
        return reference(*args)

    mine = classify.LearnerSteps({**steps.functions, "adam_step": slow_adam},
                                 {**steps.origin, "adam_step": "yours"}, "test")
    p = _panel(mine, max_epochs=50)
    p.start()
    while len(calls) < 20:
        pass
    p.stop()
    gate.set()
    assert p.wait(30) and not p.running
    frozen = p.trainer.epoch_count
    assert 1 <= frozen <= 3 and "paused" in p.readouts["loss"]
    assert len(calls) >= 20                                   # the learner's adam_step did the training
    p.train_epochs(2)
    assert p.trainer.epoch_count == frozen + 2                # resumed, not restarted


def test_a_change_while_training_starts_a_fresh_run(steps):
    p = _panel(steps, max_epochs=40)
    p.start()
    first = p.trainer
    p.set(optimizer="momentum")
    assert p.trainer is not first and p.running
    assert p.wait(120)
    assert p.trainer.epoch_count > 0 and p.trainer.step.__name__ == "momentum"
    assert p.trainer.epoch_count <= 40


def test_divergence_is_shown(steps):
    p = _panel(steps)
    p.set(optimizer="momentum", lr=1.0, hidden=128)
    p.train_epochs(8)
    assert p.trainer.stop_reason == "diverged" and "lower α" in p.message
    assert p.trainer.epoch_count < 8 and "(diverged)" in p.readouts["loss"]
    p.set(lr=1e-2)                                  # a change starts a healthy run
    p.train_epochs(2)
    assert p.message == "" and p.trainer.stop_reason == ""
