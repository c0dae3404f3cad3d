"""The close-the-loop helpers use the learner's own function, and never fail the cell:
a stub says "not attempted" in one line, a crash says what it raised in one line."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from gdcourse import closeloop, data
from gdcourse.exercises import lesson01, lesson02, lesson03, lesson04, lesson05, lesson06

matplotlib.use("agg")

five = data.five_points()
big = data.make_regression(300, n_features=2, random_state=0)

#: (helper, the exercise whose reference it uses, the helper's arguments after the function)
CALLS = [
    (closeloop.prediction_line, lesson01.predict, (five.X, five.y)),
    (closeloop.cost_slice, lesson01.compute_cost, (five.X, five.y)),
    (closeloop.cost_grid_contour, lesson01.cost_grid, (five.X, five.y)),
    (closeloop.gradient_arrows, lesson02.gradient, (five.X, five.y)),
    (closeloop.error_vs_h, lesson02.numerical_gradient, ()),
    (closeloop.check_two_gradients, lesson02.gradient_check, ()),
    (closeloop.step_path, lesson03.gd_step, (five.X, five.y)),
    (closeloop.divergence_above_2_over_L, lesson03.gradient_descent, (five.X, five.y)),
    (closeloop.lr_at_the_edge, lesson03.max_stable_lr, (five.X, five.y)),
    (closeloop.batches_of, lesson04.minibatch_indices, ()),
    (closeloop.time_minibatch_epoch, lesson04.minibatch_epoch, (big.X, big.y)),
    (closeloop.updates_table, lesson04.updates_per_epoch, ()),
    (closeloop.training_histories, lesson04.train_epochs, (big.X, big.y)),
    (closeloop.sigmoid_derivative_curve, lesson05.sigmoid_derivative, ()),
    (closeloop.signal_through_layers, lesson05.xavier_init, ("tanh",)),
    (closeloop.signal_through_layers, lesson05.he_init, ("relu",)),
    (closeloop.clip_exploding, lesson05.clip_by_norm, ()),
    (closeloop.layer_norms, lesson05.backward_pass, ()),
    (closeloop.optimizer_path, lesson06.momentum_step, ("momentum", 0.02, 0.9)),
    (closeloop.optimizer_path, lesson06.rmsprop_step, ("rmsprop", 0.1, 0.9, 1e-8)),
    (closeloop.optimizer_path, lesson06.adam_step, ("adam", 0.3, 0.9, 0.999, 1e-8)),
]


def test_every_exercise_of_lessons_1_to_6_has_a_helper():
    from gdcourse.exercises import available_lessons, lesson_exercises
    ids = {ex.id for lesson in available_lessons()[:6] for ex in lesson_exercises(lesson)}
    assert ids == {exercise.id for _helper, exercise, _args in CALLS}


@pytest.mark.parametrize("helper, exercise, args", CALLS, ids=lambda v: getattr(v, "id", ""))
def test_helper_uses_the_function_and_never_fails(helper, exercise, args, capsys):
    calls = []

    def own(*a, **k):
        calls.append(a)
        return exercise.reference(*a, **k)

    own.__name__ = exercise.name
    assert helper(own, *args) is None
    assert calls, "the helper never called the learner's function"
    assert "not attempted" not in capsys.readouterr().out

    def stub(*a, **k):
        raise NotImplementedError

    stub.__name__ = exercise.name
    assert helper(stub, *args) is None
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and "not attempted yet" in out and exercise.name in out

    def crashes(*a, **k):
        raise ValueError("shapes (3,) and (2,) not aligned")

    assert helper(crashes, *args) is None
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and "ValueError: shapes (3,) and (2,) not aligned" in out


def test_divergence_helper_shows_the_learners_own_numbers(capsys):
    seen = []

    def gradient_descent(theta0, X, y, lr, num_iters, tol=None):
        seen.append(lr)
        return lesson03.gradient_descent.reference(theta0, X, y, lr, num_iters, tol)

    closeloop.divergence_above_2_over_L(gradient_descent, five.X, five.y)
    L = np.linalg.eigvalsh(five.X.T @ five.X / 5)[-1]
    assert seen[0] < 2 / L < seen[1]


def test_solution_and_exercise_notebooks_follow_each_check_with_a_use():
    import json
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    for folder in ("solutions", "exercises"):
        for path in sorted((root / folder).glob("0[1-6]_*.ipynb")):
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            for i, cell in enumerate(cells):
                if cell["cell_type"] == "code" and ".check(" in "".join(cell["source"]):
                    after = "".join(cells[i + 1]["source"])
                    assert "closeloop." in after, (path.name, i)
