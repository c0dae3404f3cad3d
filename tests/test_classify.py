"""Lesson 7's engine: data, softmax cross-entropy, models, the training loop and its oracles.

Expected values come from closed forms (log k, one-hot sums), central
differences (gradcheck), independent plain-numpy re-derivations and, where
installed, scikit-learn (same data, reference accuracy) and torch
(the same Adam loss curve).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gdcourse import classify as C
from gdcourse import gradcheck, optim
from gdcourse.exercises import get

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    d = C.load_digits()
    s = C.split_indices(d.y, random_state=0)
    st = C.Standardizer().fit(d.X[s.train])
    X = [st.transform(d.X[i]) for i in s]
    y = [d.y[i] for i in s]
    return d, s, X, y


# --- data ------------------------------------------------------------------------

def test_digits_are_sklearn_digits():
    d = C.load_digits()
    assert d.X.shape == (1797, 64) and d.images.shape == (1797, 8, 8)
    assert d.X.min() == 0 and d.X.max() == 16 and np.bincount(d.y).sum() == 1797
    assert np.array_equal(d.images.reshape(1797, 64), d.X)
    sk = pytest.importorskip("sklearn.datasets", reason="scikit-learn is the oracle for the shipped file")
    ref = sk.load_digits()
    assert np.array_equal(ref.data, d.X) and np.array_equal(ref.target, d.y)


def test_split_is_seeded_stratified_and_disjoint():
    y = C.load_digits().y
    a, b = C.split_indices(y, random_state=0), C.split_indices(y, random_state=0)
    other = C.split_indices(y, random_state=1)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a.train, other.train)
    everything = np.concatenate(a)
    assert np.array_equal(np.sort(everything), np.arange(y.size))
    for part, share in zip(a, (0.6, 0.2, 0.2)):
        counts = np.bincount(y[part], minlength=10)
        assert np.all(np.abs(counts - share * np.bincount(y)) <= 1)
    with pytest.raises(ValueError, match="fractions must add up to 1"):
        C.split_indices(y, (0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        C.split_indices(np.array([0.5, 1.0]))


def test_standardizer_uses_training_statistics_only():
    X = np.array([[0.0, 3.0, 1.0], [2.0, 3.0, 5.0], [4.0, 3.0, 9.0]])
    s = C.Standardizer().fit(X)
    Z = s.transform(X)
    assert np.allclose(Z.mean(axis=0), 0) and np.allclose(Z.std(axis=0), [1, 0, 1])
    assert np.allclose(s.transform(np.array([[2.0, 4.0, 5.0]])), [[0.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="not fitted"):
        C.Standardizer().transform(X)
    with pytest.raises(ValueError, match="3 columns"):
        s.transform(np.ones((2, 2)))


# --- softmax and cross-entropy --------------------------------------------------

def test_logsumexp_and_softmax_are_stable():
    Z = np.array([[1000.0, 1000.0, -1000.0], [-5.0, 0.0, 5.0]])
    assert np.allclose(C.logsumexp(Z), [1000 + math.log(2), math.log(np.exp([-5, 0, 5]).sum())])
    P = C.softmax(Z)
    assert np.allclose(P.sum(axis=1), 1) and np.allclose(P[0], [0.5, 0.5, 0.0])
    with np.errstate(all="ignore"):
        naive = np.log(np.exp(Z).sum(axis=1))
    assert np.isinf(naive[0])                               # what goes wrong without the max
    assert np.allclose(C.log_softmax(np.array([[1000.0, 0.0]])), [[0.0, -1000.0]])


def test_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(3)
    Z, y = rng.normal(size=(7, 4)), rng.integers(0, 4, size=7)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    by_hand = -np.mean([math.log(P[i, y[i]]) for i in range(7)])
    assert math.isclose(C.softmax_cross_entropy(Z, y), by_hand, rel_tol=1e-12)
    assert math.isclose(C.softmax_cross_entropy(np.zeros((5, 10)), np.arange(5)), math.log(10))
    num = gradcheck.numerical_gradient(lambda z: C.softmax_cross_entropy(z, y), Z)
    assert gradcheck.relative_error(C.softmax_cross_entropy_grad(Z, y), num) < 1e-8
    assert math.isclose(C.softmax_cross_entropy(np.array([[1000.0, 0.0]]), [1]), 1000.0)
    with pytest.raises(ValueError, match="class labels 0 … 3"):
        C.softmax_cross_entropy(Z, np.full(7, 4))
    with pytest.raises(ValueError, match="one label per row"):
        C.softmax_cross_entropy(Z, y[:3])
    assert np.array_equal(C.one_hot([1, 0], 3), [[0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize("model", [C.SoftmaxRegression(6, 4, weight_decay=0.3),
                                   C.MLP(6, (5,), 4, weight_decay=0.2),
                                   C.MLP(6, (5, 3), 4, activation="tanh")], ids=repr)
def test_model_gradients_pass_the_lesson2_check(model):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(9, 6)), rng.integers(0, 4, size=9)
    theta = model.init(rng) + 0.1 * rng.normal(size=model.n_params)
    J, g = model.loss_and_grad(theta, X, y)
    assert math.isclose(J, model.loss(theta, X, y))
    err = gradcheck.gradient_check(lambda t: model.loss(t, X, y), lambda t: model.loss_and_grad(t, X, y)[1], theta)
    assert gradcheck.verdict(err) == "good", err


def test_softmax_regression_gradient_is_the_matrix_formula():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 5, size=8)
    model = C.SoftmaxRegression(3, 5)
    theta = rng.normal(size=model.n_params)
    Xb, W = C.add_bias(X), theta.reshape(4, 5)
    P = C.softmax(Xb @ W)
    assert np.allclose(model.loss_and_grad(theta, X, y)[1].reshape(4, 5), Xb.T @ (P - C.one_hot(y, 5)) / 8)
    assert math.isclose(model.loss(model.init(), X, y), math.log(5))
    with pytest.raises(ValueError, match="theta must have 20 entries"):
        model.loss(np.zeros(3), X, y)
    with pytest.raises(ValueError, match="same number of samples"):
        model.loss(theta, X, y[:2])


def test_mlp_uses_deepnet_weights_and_he_init():
    model = C.MLP(64, (32,))
    theta = model.init(np.random.default_rng(0))
    (W1, b1), (W2, b2) = model.params(theta)
    assert W1.shape == (64, 32) and W2.shape == (32, 10) and not b1.any()
    assert abs(W1.std() - math.sqrt(2 / 64)) < 0.02
    grads = model.grads(theta, np.ones((3, 64)), [0, 1, 2])
    from gdcourse import deepnet
    assert deepnet.layer_grad_norms(grads).shape == (2,)


# --- steps -------------------------------------------------------------------------

def test_learner_step_adapters_match_the_package(digits):
    _, _, (Xtr, Xva, _), (ytr, yva, _) = digits
    model = C.SoftmaxRegression(64)
    pairs = [
        (C.adam_step_fn(get("lesson06.adam_step").reference, 1e-2), optim.adam(lr=1e-2)),
        (C.momentum_step_fn(get("lesson06.momentum_step").reference, 1e-2, 0.9), optim.momentum(lr=1e-2, momentum=0.9)),
        (C.rmsprop_step_fn(get("lesson06.rmsprop_step").reference, 1e-3, 0.99), optim.rmsprop(lr=1e-3, rho=0.99)),
    ]
    for mine, package in pairs:
        a = C.fit(model, Xtr, ytr, Xva, yva, mine, num_epochs=4, random_state=5)
        b = C.fit(model, Xtr, ytr, Xva, yva, package, num_epochs=4, random_state=5)
        assert np.allclose(a.train_loss, b.train_loss, rtol=1e-12, atol=1e-13)
        assert np.allclose(a.theta, b.theta, rtol=1e-9, atol=1e-12)


def _lesson6_notebook(tmp_path, answers):
    """A copy of the lesson-6 exercise notebook with the given answer cells replaced."""
    nb = json.loads((ROOT / "exercises" / "06_adam.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        for name, code in answers.items():
            if source.startswith(f"# exercise: lesson06.{name}"):
                cell["source"] = f"# exercise: lesson06.{name}\n{code}"
    path = tmp_path / "06_adam.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


ADAM = """def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
    t += 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    theta = theta - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return theta, m, v, t
"""


def test_learner_steps_uses_a_passing_answer_and_falls_back_otherwise(tmp_path):
    stub = C.learner_steps(ROOT / "exercises" / "06_adam.ipynb")
    assert set(stub.origin.values()) == {"reference"} and "reference steps are used" in stub.note
    assert stub.adam_step is get("lesson06.adam_step").reference

    mixed = C.learner_steps(_lesson6_notebook(tmp_path, {
        "adam_step": ADAM,
        "momentum_step": "def momentum_step(theta, grad, velocity, lr, mu):\n"
                         "    velocity = mu * velocity + grad\n    return theta + lr * velocity, velocity\n",
        "rmsprop_step": "def rmsprop_step(theta, grad, s, lr, rho, eps):\n    raise ValueError('half done')\n",
    }))
    assert mixed.origin == {"adam_step": "yours", "momentum_step": "reference", "rmsprop_step": "reference"}
    assert mixed.adam_step is not get("lesson06.adam_step").reference
    assert "your own adam_step" in mixed.note and "does not pass its check" in mixed.note
    assert "rmsprop_step (it does not pass its check yet)" in mixed.note

    solved = C.learner_steps(ROOT / "solutions" / "06_adam.ipynb")
    assert set(solved.origin.values()) == {"yours"} and solved.note.startswith("Training with your own")


def test_learner_steps_finds_the_notebook_next_to_lessons(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "lessons").mkdir()
    _lesson6_notebook(tmp_path / "exercises", {"adam_step": ADAM})
    monkeypatch.chdir(tmp_path / "lessons")
    found = C.learner_steps()
    assert found.origin["adam_step"] == "yours" and found.notebook == tmp_path / "exercises" / "06_adam.ipynb"


# --- the training loop -------------------------------------------------------------------

def test_fit_records_epochs_and_keeps_the_best_weights(digits):
    _, _, (Xtr, Xva, _), (ytr, yva, _) = digits
    model = C.SoftmaxRegression(64)
    r = C.fit(model, Xtr, ytr, Xva, yva, optim.adam(lr=0.05), num_epochs=200, patience=3, random_state=0)
    assert r.stop_reason == "early_stopping" and r.n_epochs == r.best_epoch + 3
    assert math.isclose(r.train_loss[0], math.log(10)) and r.val_loss[r.best_epoch] == r.val_loss.min()
    assert math.isclose(model.loss(r.theta, Xva, yva), r.val_loss[r.best_epoch], rel_tol=1e-12)
    assert not np.array_equal(r.theta, r.last_theta)
    assert r.n_updates == r.n_epochs * math.ceil(len(ytr) / 64)
    again = C.fit(model, Xtr, ytr, Xva, yva, optim.adam(lr=0.05), num_epochs=200, patience=3, random_state=0)
    assert np.array_equal(again.train_loss, r.train_loss)
    full = C.fit(model, Xtr, ytr, Xva, yva, optim.adam(lr=0.05), num_epochs=12, patience=None, random_state=0)
    assert full.stop_reason == "num_epochs" and full.n_epochs == 12


def test_fit_stops_on_divergence_with_a_message(digits):
    _, _, (Xtr, Xva, _), (ytr, yva, _) = digits
    r = C.fit(C.MLP(64, (16,)), Xtr, ytr, Xva, yva, optim.sgd(lr=1e6), num_epochs=20, random_state=0)
    assert r.stop_reason == "diverged" and "lower the learning rate" in r.message
    with pytest.raises(TypeError, match="step must be callable|step must be a function"):
        C.fit(C.SoftmaxRegression(64), Xtr, ytr, Xva, yva, "adam")
    with pytest.raises(ValueError, match="batch_size"):
        C.fit(C.SoftmaxRegression(64), Xtr, ytr, Xva, yva, optim.adam(), batch_size=0)


def test_accuracy_and_confusion_matrix():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert C.accuracy(scores, [0, 1, 1, 1]) == 0.75
    assert C.accuracy(np.array([1, 1, 0]), [1, 0, 0]) == pytest.approx(2 / 3)
    cm = C.confusion_matrix([0, 1, 1, 1, 2], [0, 0, 1, 1, 1], 3)
    assert cm.tolist() == [[1, 0, 0], [1, 2, 0], [0, 1, 0]]
    assert cm.sum() == 5 and np.trace(cm) == 3
    with pytest.raises(ValueError, match="same length"):
        C.confusion_matrix([0, 1], [0], 2)


def test_lr_range_test_finds_a_rate_below_the_blow_up(digits):
    _, _, (Xtr, _, _), (ytr, _, _) = digits
    r = C.lr_range_test(C.SoftmaxRegression(64), Xtr, ytr, lambda lr: C.optimizer_step("adam", lr=lr),
                        lr_min=1e-5, lr_max=10.0, num_updates=120, random_state=0)
    assert np.all(np.diff(r.lrs) > 0) and r.lrs[0] == pytest.approx(1e-5)
    assert r.smoothed.min() < 0.5 * r.smoothed[0]
    assert 1e-3 < r.suggestion < r.lr_at_min < 10.0
    slope = np.gradient(r.smoothed, np.log(r.lrs))
    assert slope[np.searchsorted(r.lrs, r.suggestion)] == slope.min()
    with pytest.raises(ValueError, match="lr_max must be larger"):
        C.lr_range_test(C.SoftmaxRegression(64), Xtr, ytr, lambda lr: None, lr_min=1.0, lr_max=0.1)


# --- oracles and the figures of the issue --------------------------------------------------

def test_softmax_and_mlp_reach_the_accuracy_targets(digits):
    _, _, (Xtr, Xva, Xte), (ytr, yva, yte) = digits
    soft = C.SoftmaxRegression(64, weight_decay=1e-3)
    r = C.fit(soft, Xtr, ytr, Xva, yva, optim.adam(lr=1e-2), num_epochs=200, patience=15, random_state=0)
    soft_acc = C.accuracy(soft.scores(r.theta, Xte), yte)
    assert soft_acc >= 0.95
    mlp = C.MLP(64, (64,), weight_decay=1e-3)
    r = C.fit(mlp, Xtr, ytr, Xva, yva, optim.adam(lr=3e-3), num_epochs=200, patience=15, random_state=0)
    assert C.accuracy(mlp.scores(r.theta, Xte), yte) >= 0.97
    ref = C.sklearn_reference(Xtr, ytr, Xte, yte, weight_decay=1e-3)
    if ref is not None:
        assert abs(soft_acc - ref) <= 0.01


def test_sklearn_reference_is_none_without_sklearn(monkeypatch, digits):
    import builtins
    real = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    _, _, (Xtr, _, Xte), (ytr, _, yte) = digits
    assert C.sklearn_reference(Xtr, ytr, Xte, yte) is None


def test_torch_adam_gives_the_same_loss_curve(digits):
    torch = pytest.importorskip("torch", reason="torch is an optional oracle")
    _, _, (Xtr, _, _), (ytr, _, _) = digits
    model = C.SoftmaxRegression(64)
    rng = np.random.default_rng(0)
    theta0 = 0.01 * rng.normal(size=model.n_params)
    theta, state, ours = theta0.copy(), None, []
    step = C.optimizer_step("adam", lr=0.01)
    for _ in range(30):
        value, grad = model.loss_and_grad(theta, Xtr, ytr)
        ours.append(value)
        theta, state = step(theta, grad, state)
    W = torch.tensor(theta0.reshape(65, 10), dtype=torch.float64, requires_grad=True)
    Xb = torch.tensor(C.add_bias(Xtr), dtype=torch.float64)
    target = torch.tensor(ytr)
    opt = torch.optim.Adam([W], lr=0.01)
    theirs = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(Xb @ W, target)
        theirs.append(loss.item())
        loss.backward()
        opt.step()
    assert np.allclose(ours, theirs, rtol=0, atol=1e-10)


def test_gdcourse_list_knows_lesson_7():
    from gdcourse import course
    info = {i.number: i for i in course.lessons(ROOT)}[7]
    assert info.path.name == "07_capstone.ipynb" and "Capstone" in info.title
    assert info.minutes == "50 minutes" and len(info.objectives) == 7
