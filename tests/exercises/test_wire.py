"""Across the process boundary (gdcourse.exercises._wire and the grader's child processes):
values, functions and outcomes survive the codec, the self-check report line, and real
child processes grade call procedures of every kind (plain, reseeded, stepped, a training loop)."""

from __future__ import annotations

import numpy as np
from nbformat.v4 import new_code_cell, new_notebook

from gdcourse import grading
from gdcourse.exercises import Fn, compare_values, lesson04, lesson05, lesson06
from gdcourse.exercises import _core

from .kit import submissions as subs

ALL = lesson04.EXERCISES + lesson05.EXERCISES + lesson06.EXERCISES


def test_fn_and_wire_round_trip():
    f = Fn("np.sum(a * theta ** 2)", a=np.array([1.0, 2.0]))
    assert f(np.array([1.0, 1.0])) == 3.0
    value = (np.arange(3.0), [1, 2.5], {"k": np.float64(2.0)}, None, True, f, "text", object())
    arrays = {}
    tree = _core.encode(value, arrays)
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    back = _core.decode(tree, arrays)
    np.testing.assert_array_equal(back[0], np.arange(3.0))
    assert back[1] == [1, 2.5] and isinstance(back[2]["k"], np.float64)
    assert back[3] is None and back[4] is True and back[6] == "text"
    assert back[5](np.array([1.0, 1.0])) == 3.0
    assert isinstance(back[7], _core.Opaque)
    # an opaque value is judged as a wrong type, not crashed on
    assert "NumPy array" in compare_values(back[7], np.zeros(2))


def test_self_check_report_line(capsys):
    """`gdcourse check` evaluates by id in the learner's kernel and reads one JSON line."""
    _core._report("lesson04.updates_per_epoch", {"updates_per_epoch": lambda m, bs: -(-m // bs)})
    _core._report("lesson05.he_init", {})
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith(_core.REPORT_PREFIX) for line in lines)
    assert '"status": "correct"' in lines[0] and '"status": "not_attempted"' in lines[1]


# --- real child processes --------------------------------------------------------------


_GOOD_SOURCES = {
    "lesson04.minibatch_indices": (
        "def minibatch_indices(m, batch_size, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    idx = np.arange(m)\n"
        "    rng.shuffle(idx)\n"
        "    return [idx[i:i + batch_size] for i in range(0, m, batch_size)]\n"),
    "lesson05.clip_by_norm": (
        "def clip_by_norm(grads, max_norm):\n"
        "    total = np.sqrt(sum((g ** 2).sum() for g in grads))\n"
        "    if total <= max_norm:\n"
        "        return [g.copy() for g in grads]\n"
        "    return [g * max_norm / total for g in grads]\n"),
    "lesson06.adam_step": (
        "def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):\n"
        "    t = t + 1\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    m_hat = m / (1 - beta1 ** t)\n"
        "    v_hat = v / (1 - beta2 ** t)\n"
        "    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t\n"),
}


_BAD_SOURCES = {
    "lesson04.minibatch_indices": (
        "def minibatch_indices(m, batch_size, seed):\n"
        "    order = np.random.default_rng(seed).permutation(m)\n"
        "    k = m // batch_size\n"
        "    return [order[i * batch_size:(i + 1) * batch_size] for i in range(k)]\n"),
    "lesson05.clip_by_norm": (
        "def clip_by_norm(grads, max_norm):\n"
        "    return [np.clip(g, -max_norm, max_norm) for g in grads]\n"),
    "lesson06.adam_step": (
        "def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    return theta - lr * m / (np.sqrt(v) + eps), m, v, t + 1\n"),
}


def test_grader_runs_lessons_4_to_6_in_child_processes(tmp_path):
    folder = tmp_path / "submissions"
    for student, sources in (("good", _GOOD_SOURCES), ("bad", _BAD_SOURCES)):
        cells = [new_code_cell("import numpy as np")]
        cells += [subs.answer_cell(ex_id, src) for ex_id, src in sources.items()]
        subs.write(new_notebook(cells=cells), folder / f"{student}.ipynb")
    stub = ("def updates_per_epoch(m, batch_size):\n    # your code here\n"
            "    raise NotImplementedError\n")
    subs.write(new_notebook(cells=[subs.answer_cell("lesson04.updates_per_epoch", stub)]),
               folder / "stub.ipynb")
    rows = grading.grade(folder, seed=99, timeout=20, jobs=2)
    by = {(r.student, r.exercise): r for r in rows}
    assert {r.exercise for r in rows} == {e.id for e in ALL}
    for ex_id in _GOOD_SOURCES:
        assert by[("good", ex_id)].status == "correct", by[("good", ex_id)]
        assert by[("bad", ex_id)].status == "incorrect", by[("bad", ex_id)]
    assert "partial batch is dropped" in by[("bad", "lesson04.minibatch_indices")].message
    assert "per element" in by[("bad", "lesson05.clip_by_norm")].message
    assert "no bias correction" in by[("bad", "lesson06.adam_step")].message
    assert by[("stub", "lesson04.updates_per_epoch")].status == "not_attempted"
    assert by[("good", "lesson05.he_init")].status == "missing"


def test_grader_runs_lesson07_in_child_processes(tmp_path):
    good = ("def train_early_stopping(theta0, grad_fn, val_loss_fn, step, num_epochs, patience):\n"
            "    theta, state = np.array(theta0, dtype=float), None\n"
            "    hist = [val_loss_fn(theta)]\n"
            "    best, bad = theta.copy(), 0\n"
            "    for _ in range(num_epochs):\n"
            "        theta, state = step(theta, grad_fn(theta), state)\n"
            "        hist.append(val_loss_fn(theta))\n"
            "        if hist[-1] < min(hist[:-1]):\n"
            "            best, bad = theta.copy(), 0\n"
            "        else:\n"
            "            bad += 1\n"
            "            if bad >= patience:\n"
            "                break\n"
            "    return best, np.array(hist)\n")
    bad = ("def confusion_matrix(y_true, y_pred, n_classes):\n"
           "    C = np.zeros((n_classes, n_classes))\n"
           "    np.add.at(C, (y_pred, y_true), 1)\n"
           "    return C\n")
    folder = tmp_path / "submissions"
    cells = [new_code_cell("import numpy as np"), subs.answer_cell("lesson07.train_early_stopping", good),
             subs.answer_cell("lesson07.confusion_matrix", bad)]
    subs.write(new_notebook(cells=cells), folder / "student.ipynb")
    rows = grading.grade(folder, seed=7, timeout=20, jobs=1, lesson=7)
    by = {r.exercise: r for r in rows}
    assert by["lesson07.train_early_stopping"].status == "correct", by["lesson07.train_early_stopping"]
    assert by["lesson07.confusion_matrix"].status == "incorrect"
    assert "swapped" in by["lesson07.confusion_matrix"].message
    assert by["lesson07.accuracy"].status == "missing"
