"""Tests for gdcourse.deepnet: backprop against finite differences, initialisers,
clipping by norm, and the vanishing / exploding pictures of lesson 5."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdcourse import deepnet as dn
from gdcourse.gradcheck import numerical_gradient
from gdcourse.losses import mse_cost, mse_gradient

HIDDEN = ("sigmoid", "tanh", "relu", "identity")


def _random_problem(sizes, m, seed, loss="mse"):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((i, o)) * 0.8, rng.standard_normal(o) * 0.3)
              for i, o in zip(sizes[:-1], sizes[1:])]
    X = rng.standard_normal((m, sizes[0]))
    if loss == "cross_entropy":
        y = rng.random(m)
    else:
        y = rng.standard_normal((m, sizes[-1])) if sizes[-1] > 1 else rng.standard_normal(m)
    return params, X, y


def _numeric_grads(params, X, y, activation, **kw):
    """Central differences of the loss with respect to every W and b, independently of backward."""
    out = []
    for l in range(len(params)):
        pair = []
        for k in range(2):
            def f(t, l=l, k=k):
                trial = [list(p) for p in params]
                trial[l][k] = t
                return dn.loss([tuple(p) for p in trial], X, y, activation, **kw)
            pair.append(numerical_gradient(f, params[l][k], h=1e-6))
        out.append(pair)
    return out


def _assert_grads_close(analytic, numeric):
    assert len(analytic) == len(numeric)
    for (dW, db), (nW, nb) in zip(analytic, numeric):
        assert dW.shape == nW.shape and db.shape == nb.shape
        scale = 1.0 + max(np.max(np.abs(nW)), np.max(np.abs(nb)))
        np.testing.assert_allclose(dW, nW, rtol=0, atol=1e-6 * scale)
        np.testing.assert_allclose(db, nb, rtol=0, atol=1e-6 * scale)


# --- activations -----------------------------------------------------------

@pytest.mark.parametrize("name", HIDDEN)
def test_activation_derivatives_match_central_differences(name):
    f, df = dn.ACTIVATIONS[name]
    z = np.array([-5.0, -1.3, -0.2, 0.37, 1.1, 4.0])  # away from ReLU's kink
    h = 1e-6
    np.testing.assert_allclose(df(z), (f(z + h) - f(z - h)) / (2 * h), atol=1e-8)


def test_sigmoid_derivative_is_at_most_a_quarter_and_stable():
    z = np.linspace(-800, 800, 20001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = dn.sigmoid(z)
        ds = dn.sigmoid_derivative(z)
    assert np.all(ds <= 0.25) and np.isclose(dn.sigmoid_derivative(0.0), 0.25)
    np.testing.assert_allclose(dn.sigmoid(np.array([-2.0, 0.0, 3.0])),
                               1 / (1 + np.exp(-np.array([-2.0, 0.0, 3.0]))), rtol=1e-14)
    assert s[0] == 0.0 and s[-1] == 1.0


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_fast_kernels_agree_with_readable_activations(name):
    z = np.linspace(-30, 30, 601).reshape(601, 1)
    f, df = dn.ACTIVATIONS[name]
    fast_f, fast_delta = dn._KERNELS[name]
    h = fast_f(z, np.empty_like(z))
    np.testing.assert_allclose(h, f(z), atol=1e-15)
    g = np.linspace(-1, 1, 601).reshape(601, 1)
    np.testing.assert_allclose(fast_delta(g, h, np.empty_like(z)), g * df(z), atol=1e-15)


# --- backward against finite differences ------------------------------------

@pytest.mark.parametrize("activation", HIDDEN)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_backward_matches_finite_differences(activation, loss):
    params, X, y = _random_problem([3, 5, 4, 1], 7, seed=11, loss=loss)
    _, grads = dn.loss_and_grads(params, X, y, activation, loss=loss)
    _assert_grads_close(grads, _numeric_grads(params, X, y, activation, loss=loss))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    m=st.integers(1, 6),
    activation=st.sampled_from(HIDDEN),
    residual=st.booleans(),
    normalize=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_backward_matches_finite_differences_random_shapes(sizes, m, activation, residual,
                                                           normalize, seed):
    params, X, y = _random_problem(sizes, m, seed)
    kw = dict(residual=residual, normalize=normalize)
    cache = dn.forward(params, X, activation, **kw)
    grads = dn.backward(params, cache, y)
    _assert_grads_close(grads, _numeric_grads(params, X, y, activation, **kw))


def test_residual_and_normalize_paths_are_exercised_and_correct():
    params, X, y = _random_problem([4, 4, 4, 4, 2], 9, seed=3)
    for kw in (dict(residual=True), dict(normalize=True), dict(residual=True, normalize=True)):
        cache = dn.forward(params, X, "tanh", **kw)
        assert any(cache.skip) == kw.get("residual", False)
        assert any(n is not None for n in cache.norm) == kw.get("normalize", False)
        _, grads = dn.loss_and_grads(params, X, y, "tanh", **kw)
        _assert_grads_close(grads, _numeric_grads(params, X, y, "tanh", **kw))


def test_one_layer_network_is_linear_regression():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 3))
    y = rng.standard_normal(20)
    W, b = rng.standard_normal((3, 1)), rng.standard_normal(1)
    Xb = np.column_stack([np.ones(20), X])
    theta = np.concatenate([b, W[:, 0]])
    J, grads = dn.loss_and_grads([(W, b)], X, y, "relu")
    assert math.isclose(J, mse_cost(theta, Xb, y), rel_tol=1e-12)
    g = mse_gradient(theta, Xb, y)
    np.testing.assert_allclose(grads[0][1], g[:1], rtol=1e-12)
    np.testing.assert_allclose(grads[0][0][:, 0], g[1:], rtol=1e-12)


def test_backward_does_not_alias_between_calls():
    params, X, y = _random_problem([3, 4, 1], 5, seed=2)
    cache = dn.forward(params, X, "tanh")
    first = dn.backward(params, cache, y)
    saved = [(dW.copy(), db.copy()) for dW, db in first]
    dn.backward(params, cache, y * 10.0)
    for (dW, db), (sW, sb) in zip(first, saved):
        np.testing.assert_array_equal(dW, sW)
        np.testing.assert_array_equal(db, sb)


# --- initialisers ------------------------------------------------------------

def test_init_std_formulas():
    assert math.isclose(dn.xavier_std(400, 100), math.sqrt(2 / 500))
    assert math.isclose(dn.he_std(400), math.sqrt(2 / 400))


@pytest.mark.parametrize("scheme, scale, expected", [
    ("he", 1.0, math.sqrt(2 / 400)),
    ("he", 3.0, 3 * math.sqrt(2 / 400)),
    ("xavier", 1.0, math.sqrt(2 / (400 + 100))),
    ("naive", 0.5, 0.5),
])
def test_init_weights_draws_with_the_formula_std(scheme, scale, expected):
    # fan_in = 400 != fan_out = 100: √(2/fan_out) would be twice √(2/fan_in)
    (W, b), = dn.init_weights([400, 100], scheme=scheme, scale=scale, random_state=0)
    assert W.shape == (400, 100) and b.shape == (100,)
    assert np.all(b == 0)
    # 40 000 draws: the sample std is within ~0.35% of the truth (1 s.e.); allow 3%
    assert abs(W.std() / expected - 1) < 0.03
    assert abs(W.mean()) < 4 * expected / math.sqrt(W.size)


def test_init_weights_is_reproducible_and_shapes_chain():
    a = dn.init_weights([3, 7, 5, 2], random_state=4)
    b = dn.init_weights([3, 7, 5, 2], random_state=4)
    assert [W.shape for W, _ in a] == [(3, 7), (7, 5), (5, 2)]
    for (Wa, _), (Wb, _) in zip(a, b):
        np.testing.assert_array_equal(Wa, Wb)


# --- clipping by norm ---------------------------------------------------------

def _is_clip_by_global_norm(grads, clipped, max_norm):
    """The properties of clipping by the global norm (True/False), checked independently."""
    flat = np.concatenate([np.ravel(g) for pair in grads for g in pair])
    new = np.concatenate([np.ravel(g) for pair in clipped for g in pair])
    total, new_total = np.linalg.norm(flat), np.linalg.norm(new)
    if total <= max_norm:
        return np.allclose(new, flat, rtol=0, atol=0)
    same_direction = np.allclose(new / new_total, flat / total, atol=1e-12)
    return bool(same_direction and new_total <= max_norm and new_total > max_norm * (1 - 1e-5))


def test_clip_by_norm_scales_all_arrays_together():
    grads = [(np.array([[3.0, 0.1], [0.0, -0.2]]), np.array([4.0, 0.05])),
             (np.array([[12.0], [-0.3]]), np.array([0.01]))]
    clipped, total = dn.clip_by_norm(grads, 1.0)
    expected_total = math.sqrt(sum(float(np.sum(g ** 2)) for pair in grads for g in pair))
    assert math.isclose(total, expected_total, rel_tol=1e-12)
    assert _is_clip_by_global_norm(grads, clipped, 1.0)
    # torch semantics: factor = max_norm / (total + 1e-6)
    np.testing.assert_allclose(clipped[1][0], grads[1][0] / (expected_total + 1e-6))
    assert grads[0][0][0, 0] == 3.0  # the input is not modified


def test_clip_by_norm_leaves_small_gradients_alone():
    grads = [(np.array([[0.3]]), np.array([0.4]))]
    clipped, total = dn.clip_by_norm(grads, 1.0)
    assert math.isclose(total, 0.5)
    assert _is_clip_by_global_norm(grads, clipped, 1.0)
    assert clipped[0][0] is not grads[0][0]


def test_per_element_clipping_fails_the_same_check():
    grads = [(np.array([[3.0, 0.1]]), np.array([4.0]))]
    per_element = [tuple(np.clip(g, -1.0, 1.0) for g in pair) for pair in grads]
    assert not _is_clip_by_global_norm(grads, per_element, 1.0)
    clipped, _ = dn.clip_by_norm(grads, 1.0)
    assert _is_clip_by_global_norm(grads, clipped, 1.0)


def test_clip_by_norm_handles_huge_but_finite_gradients():
    grads = [(np.full((2, 2), 1e200), np.array([1e200, -1e200]))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped, total = dn.clip_by_norm(grads, 2.0)
    assert math.isclose(total, 1e200 * math.sqrt(6), rel_tol=1e-12)
    assert math.isclose(dn.global_norm(clipped), 2.0, rel_tol=1e-5)


def test_layer_grad_norms_are_frobenius_norms_of_dW():
    grads = [(np.array([[3.0, 4.0]]), np.array([100.0])), (np.array([[1.0], [0.0]]), np.array([5.0]))]
    np.testing.assert_allclose(dn.layer_grad_norms(grads), [5.0, 1.0])


# --- vanishing and exploding ---------------------------------------------------

def test_sigmoid_with_small_naive_init_vanishes_toward_the_input():
    norms = dn.make_deep_chain_demo(10, width=32, activation="sigmoid", init="naive",
                                    scale=0.1).layer_grad_norms
    assert norms.shape == (10,)
    # δ shrinks by about σ'·scale·√width ≤ ¼·0.1·√32 ≈ 0.14 per layer: orders of magnitude
    assert norms[0] < 1e-5 * norms[-1]
    hidden = norms[:-1]
    assert np.all(hidden[:-1] / hidden[1:] < 0.5)


def test_large_weight_scale_explodes_relu_gradients():
    he = dn.make_deep_chain_demo(10, width=32, activation="relu", init="he", scale=1.0)
    big = dn.make_deep_chain_demo(10, width=32, activation="relu", init="he", scale=4.0)
    naive = dn.make_deep_chain_demo(10, width=32, activation="relu", init="naive", scale=1.0)
    # each of 10 layers multiplies by the extra scale: (4)^10 ≈ 1e6 before squaring effects
    assert np.all(big.layer_grad_norms > 1e5 * he.layer_grad_norms)
    assert np.all(naive.layer_grad_norms > 1e5 * he.layer_grad_norms)
    scales = [0.5, 1.0, 2.0, 4.0]
    first = [dn.make_deep_chain_demo(8, activation="relu", init="he", scale=s).layer_grad_norms[0]
             for s in scales]
    assert np.all(np.diff(first) > 0)


def test_he_relu_keeps_norms_in_a_modest_band():
    logs = np.mean([np.log10(dn.make_deep_chain_demo(10, width=16, activation="relu", init="he",
                                                    random_state=s).layer_grad_norms)
                    for s in range(5)], axis=0)
    assert logs.max() - logs.min() < 1.5  # within ~30x, against > 8 decades for sigmoid/naive
    sig = np.mean([np.log10(dn.make_deep_chain_demo(10, width=16, activation="sigmoid",
                                                   init="naive", scale=0.1,
                                                   random_state=s).layer_grad_norms)
                   for s in range(5)], axis=0)
    assert sig.max() - sig.min() > 6


@pytest.mark.parametrize("kw", [dict(residual=True), dict(normalize=True)])
def test_residual_and_normalisation_keep_sigmoid_norms_flat(kw):
    plain = dn.make_deep_chain_demo(10, width=16, activation="sigmoid", init="naive", scale=0.1)
    fixed = dn.make_deep_chain_demo(10, width=16, activation="sigmoid", init="naive", scale=0.1, **kw)
    spread = lambda v: np.log10(v.max() / v.min())  # noqa: E731
    assert spread(fixed.layer_grad_norms[:-1]) < 2 < 6 < spread(plain.layer_grad_norms[:-1])


def test_chain_demo_data_does_not_depend_on_the_network():
    a = dn.make_deep_chain_demo(3, activation="tanh", init="xavier", random_state=1)
    b = dn.make_deep_chain_demo(3, activation="tanh", init="xavier", random_state=1)
    np.testing.assert_array_equal(a.layer_grad_norms, b.layer_grad_norms)
    X1, y1 = dn.make_chain_data(50, 4, random_state=7)
    X2, y2 = dn.make_chain_data(50, 4, random_state=7)
    np.testing.assert_array_equal(X1, X2) and np.testing.assert_array_equal(y1, y2)
    assert len(a.activation_stds) == 2 and a.layer_sizes == [8, 32, 32, 1]


# --- training ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def toy():
    return dn.make_chain_data(128, 4, random_state=3)


def test_training_loss_decreases(toy):
    X, y = toy
    h = dn.train_mlp(X, y, dn.chain_sizes(3, 16, 4), activation="tanh", init="xavier", lr=0.1,
                     num_epochs=150, random_state=0)
    assert not h.diverged and h.stop_reason == "num_epochs"
    assert h.losses.shape == (151,) and h.layer_grad_norms.shape == (151, 3)
    assert h.losses[-1] < 0.5 * h.losses[0]
    # the record is the loss of the returned weights
    assert math.isclose(h.losses[-1], dn.loss(h.params, X, y, "tanh"), rel_tol=1e-12)


def test_full_batch_loop_is_plain_gradient_descent(toy):
    X, y = toy
    sizes = dn.chain_sizes(3, 8, 4)
    params = dn.init_weights(sizes, scheme="he", random_state=1)
    h = dn.train_mlp(X, y, sizes, activation="relu", lr=0.05, num_epochs=3, params=params)
    p = [(W.copy(), b.copy()) for W, b in params]
    for epoch in range(3):
        J, grads = dn.loss_and_grads(p, X, y, "relu")
        assert math.isclose(h.losses[epoch], J, rel_tol=1e-12)
        np.testing.assert_allclose(h.layer_grad_norms[epoch], dn.layer_grad_norms(grads), rtol=1e-12)
        p = [(W - 0.05 * dW, b - 0.05 * db) for (W, b), (dW, db) in zip(p, grads)]
    for (W, b), (W2, b2) in zip(h.params, p):
        np.testing.assert_allclose(W, W2, rtol=1e-12, atol=1e-15)
    assert params[0][0] is not h.params[0][0]


def test_clipped_training_step_uses_clip_by_norm(toy):
    X, y = toy
    sizes = dn.chain_sizes(4, 8, 4)
    params = dn.init_weights(sizes, scheme="naive", scale=1.0, random_state=2)
    h = dn.train_mlp(X, y, sizes, activation="relu", lr=0.01, num_epochs=1, clip=0.5,
                     params=params)
    _, grads = dn.loss_and_grads(params, X, y, "relu")
    clipped, total = dn.clip_by_norm(grads, 0.5)
    assert total > 0.5 and h.n_clipped == 1
    assert math.isclose(h.grad_norms[0], total, rel_tol=1e-12)
    for (W, b), (dW, db), (W1, b1) in zip(params, clipped, h.params):
        np.testing.assert_allclose(W1, W - 0.01 * dW, rtol=1e-12, atol=1e-15)


def test_minibatch_of_the_whole_set_equals_full_batch(toy):
    X, y = toy
    sizes = dn.chain_sizes(2, 8, 4)
    full = dn.train_mlp(X, y, sizes, activation="sigmoid", init="xavier", lr=0.5,
                        num_epochs=5, random_state=9)
    whole = dn.train_mlp(X, y, sizes, activation="sigmoid", init="xavier", lr=0.5,
                         num_epochs=5, batch_size=len(y), random_state=9)
    np.testing.assert_allclose(full.losses, whole.losses, rtol=1e-10)
    full = dn.train_mlp(X, y, sizes, activation="sigmoid", init="xavier", lr=0.5,
                        num_epochs=20, random_state=9)
    mini = dn.train_mlp(X, y, sizes, activation="sigmoid", init="xavier", lr=0.5,
                        num_epochs=20, batch_size=8, random_state=9)
    assert mini.losses[-1] < 0.5 * full.losses[-1]  # 16 updates per epoch instead of 1


def test_minibatch_epoch_follows_the_shuffled_batches(toy):
    X, y = toy
    sizes = dn.chain_sizes(3, 6, 4)
    h = dn.train_mlp(X, y, sizes, activation="tanh", init="xavier", lr=0.2, num_epochs=1,
                     batch_size=50, random_state=np.random.default_rng(4))
    rng = np.random.default_rng(4)  # the same stream: weights first, then the shuffle
    p = dn.init_weights(sizes, scheme="xavier", random_state=rng)
    order = rng.permutation(len(y))
    batches = [order[i:i + 50] for i in range(0, len(y), 50)]
    assert [len(b) for b in batches] == [50, 50, 28]  # the last, partial batch is kept
    for idx in batches:
        _, grads = dn.loss_and_grads(p, X[idx], y[idx], "tanh")
        p = [(W - 0.2 * dW, b - 0.2 * db) for (W, b), (dW, db) in zip(p, grads)]
    for (W, b), (W2, b2) in zip(h.params, p):
        np.testing.assert_allclose(W, W2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b, b2, rtol=1e-12, atol=1e-15)


def test_divergence_is_flagged_without_warnings(toy):
    X, y = toy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = dn.train_mlp(X, y, dn.chain_sizes(8, 16, 4), activation="relu", init="naive",
                         lr=0.1, num_epochs=50, random_state=0)
        h2 = dn.train_mlp(X, y, dn.chain_sizes(3, 16, 4), activation="tanh", init="xavier",
                          lr=1e6, num_epochs=50, batch_size=16, random_state=0)
    for hist in (h, h2):
        assert hist.diverged and hist.stop_reason == "diverged"
        assert hist.n_epochs < 50
        assert "Diverged" in hist.message and "lr" in hist.message
        assert np.all(np.isfinite(hist.losses[:-1]))


def test_clipping_prevents_the_divergence(toy):
    X, y = toy
    common = dict(activation="relu", init="he", scale=1.5, lr=0.1, num_epochs=30, random_state=0)
    sizes = dn.chain_sizes(6, 16, 4)
    assert dn.train_mlp(X, y, sizes, **common).diverged
    h = dn.train_mlp(X, y, sizes, clip=1.0, **common)
    assert not h.diverged and h.n_clipped > 0 and "Clipping" in h.message
    assert h.losses[-1] < 0.1 * h.losses[0]


# --- bad inputs ----------------------------------------------------------------------

@pytest.mark.parametrize("call, exc, words", [
    (lambda: dn.init_weights([3]), ValueError, "at least 2"),
    (lambda: dn.init_weights([3, 0, 1]), ValueError, "layer_sizes[1]"),
    (lambda: dn.init_weights([3, 2.5, 1]), TypeError, "layer_sizes[1]"),
    (lambda: dn.init_weights(5), TypeError, "layer_sizes"),
    (lambda: dn.init_weights([3, 1], scheme="glorot"), ValueError, "scheme"),
    (lambda: dn.init_weights([3, 1], scale=0), ValueError, "scale"),
    (lambda: dn.chain_sizes(0, 16, 3), ValueError, "depth"),
    (lambda: dn.xavier_std(0, 3), ValueError, "fan_in"),
    (lambda: dn.forward(dn.init_weights([3, 1], random_state=0), np.ones((4, 2)), "relu"),
     ValueError, "3 columns"),
    (lambda: dn.forward(dn.init_weights([3, 1], random_state=0), np.ones(3), "relu"),
     ValueError, "2-D"),
    (lambda: dn.forward(dn.init_weights([3, 1], random_state=0), np.ones((4, 3)), "softmax"),
     ValueError, "activation"),
    (lambda: dn.forward([(np.ones((3, 2)), np.ones(2)), (np.ones((3, 1)), np.ones(1))],
                        np.ones((4, 3)), "relu"), ValueError, "fan_in, fan_out"),
    (lambda: dn.forward([(np.ones((3, 2)), np.ones(3))], np.ones((4, 3)), "relu"),
     ValueError, "b must have"),
    (lambda: dn.loss(dn.init_weights([3, 1], random_state=0), np.ones((4, 3)), np.ones(5), "relu"),
     ValueError, "same number of rows"),
    (lambda: dn.loss(dn.init_weights([3, 2], random_state=0), np.ones((4, 3)), np.ones(4), "relu"),
     ValueError, "(4, 2)"),
    (lambda: dn.loss(dn.init_weights([3, 1], random_state=0), np.ones((4, 3)), np.ones(4), "relu",
                     loss="hinge"), ValueError, "loss"),
    (lambda: dn.clip_by_norm([(np.ones(2), np.ones(1))], 0.0), ValueError, "max_norm"),
    (lambda: dn.clip_by_norm([(np.array([np.inf]), np.ones(1))], 1.0), ValueError, "inf or NaN"),
    (lambda: dn.clip_by_norm(np.ones(3), 1.0), TypeError, "grads"),
    (lambda: dn.train_mlp(np.ones((4, 3)), np.ones(4), [2, 1], lr=0.1), ValueError, "layer_sizes[0]"),
    (lambda: dn.train_mlp(np.ones((4, 3)), np.ones(4), [3, 1], lr=-1), ValueError, "lr"),
    (lambda: dn.train_mlp(np.ones((4, 3)), np.ones(4), [3, 1], lr=0.1, batch_size=5),
     ValueError, "batch_size"),
    (lambda: dn.train_mlp(np.ones((4, 3)), np.ones(4), [3, 1], lr=0.1, init="lecun"),
     ValueError, "init"),
    (lambda: dn.train_mlp(np.ones((4, 3)), np.ones(4), [3, 1], lr=0.1, clip=0), ValueError, "clip"),
    (lambda: dn.train_mlp(np.ones((4, 3)), np.ones((4, 1, 1)), [3, 1], lr=0.1), ValueError, "y must"),
    (lambda: dn.train_mlp(np.ones((4, 3)), np.ones(4), [3, 1], lr=0.1, residual="yes"),
     TypeError, "residual"),
])
def test_bad_inputs_give_clear_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)
