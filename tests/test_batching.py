"""Tests for gdcourse.batching: the splitter, updates per epoch and the training loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdcourse.batching import TrainHistory, minibatch_indices, train, updates_per_epoch
from gdcourse.data import make_classification, make_regression
from gdcourse.losses import Loss, get_loss, mse_cost
from gdcourse.optim import adam, momentum, sgd
from gdcourse.schedules import exponential

# --- the splitter ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 300), data=st.data())
def test_every_sample_exactly_once_and_last_partial_batch_kept(m, data):
    batch_size = data.draw(st.integers(1, m))
    seed = data.draw(st.integers(0, 2**32 - 1))
    batches = minibatch_indices(m, batch_size, random_state=seed)
    assert len(batches) == updates_per_epoch(m, batch_size) == -(-m // batch_size)
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(m))
    sizes = [len(b) for b in batches]
    assert sizes[:-1] == [batch_size] * (len(batches) - 1)
    assert sizes[-1] == (m % batch_size or batch_size)


def test_same_seed_same_order_and_new_order_each_epoch():
    a = minibatch_indices(50, 8, random_state=7)
    b = minibatch_indices(50, 8, random_state=7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    rng = np.random.default_rng(7)
    epoch1 = np.concatenate(minibatch_indices(50, 8, random_state=rng))
    epoch2 = np.concatenate(minibatch_indices(50, 8, random_state=rng))
    assert np.array_equal(epoch1, np.concatenate(a))      # a fresh Generator(7) is seed 7
    assert not np.array_equal(epoch1, epoch2)
    assert not np.array_equal(epoch1, np.arange(50))      # actually shuffled


def test_no_shuffle_keeps_the_order():
    batches = minibatch_indices(7, 3, shuffle=False)
    assert [b.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_updates_per_epoch_by_hand():
    assert updates_per_epoch(100, 1) == 100
    assert updates_per_epoch(100, 100) == 1
    assert updates_per_epoch(100, 32) == 4        # 32 + 32 + 32 + 4
    assert updates_per_epoch(100, 33) == 4        # 33 + 33 + 33 + 1
    assert updates_per_epoch(100, 50) == 2


@pytest.mark.parametrize("batch_size, error, match", [
    (0, ValueError, "batch_size must be >= 1"),
    (-3, ValueError, "batch_size must be >= 1"),
    (11, ValueError, r"batch_size must be <= 10 \(the number of samples m\)"),
    (2.5, TypeError, "batch_size must be an integer"),
])
def test_bad_batch_size(batch_size, error, match):
    with pytest.raises(error, match=match):
        minibatch_indices(10, batch_size)
    with pytest.raises(error, match=match):
        updates_per_epoch(10, batch_size)
    X, y = np.ones((10, 2)), np.ones(10)
    with pytest.raises(error, match=match):
        train(X, y, sgd(lr=0.1), batch_size=batch_size)


# --- the batch gradient against a per-sample loop --------------------------------------------

def _per_sample_mse_gradient(theta, X, y):
    """(1/b) Σ_i x_i (x_i·θ − y_i), one sample and one coordinate at a time."""
    b, n = X.shape
    total = [0.0] * n
    for i in range(b):
        prediction = sum(X[i, j] * theta[j] for j in range(n))
        for j in range(n):
            total[j] += (prediction - y[i]) * X[i, j]
    return np.array(total) / b


def _per_sample_ce_gradient(theta, X, y):
    b, n = X.shape
    total = [0.0] * n
    for i in range(b):
        z = sum(X[i, j] * theta[j] for j in range(n))
        p = 1.0 / (1.0 + np.exp(-z))
        for j in range(n):
            total[j] += (p - y[i]) * X[i, j]
    return np.array(total) / b


@pytest.mark.parametrize("loss, reference, make", [
    ("mse", _per_sample_mse_gradient, lambda: make_regression(40, 3, random_state=1)),
    ("cross_entropy", _per_sample_ce_gradient, lambda: make_classification(40, 3, random_state=1)),
])
def test_per_sample_loop_equals_vectorised_batch_gradient(loss, reference, make):
    data = make()
    theta = np.random.default_rng(0).standard_normal(data.X.shape[1])
    kernel = get_loss(loss).fast_gradient
    for batch in minibatch_indices(40, 16, random_state=3):
        Xb, yb = data.X[batch], data.y[batch]
        np.testing.assert_allclose(kernel(theta, Xb, yb), reference(theta, Xb, yb), rtol=1e-12, atol=1e-14)


def test_train_equals_a_plain_loop_over_the_same_batches():
    data = make_regression(53, 2, random_state=4)
    opt_lr, batch_size, epochs = 0.05, 8, 4
    h = train(data.X, data.y, sgd(lr=opt_lr), batch_size=batch_size, num_epochs=epochs,
              random_state=11, record_path=True)
    # the same arithmetic written out: per-sample gradients, the splitter's batches, plain SGD
    rng = np.random.default_rng(11)
    theta = np.zeros(3)
    path, batch_losses = [theta.copy()], []
    for _ in range(epochs):
        for batch in minibatch_indices(53, batch_size, random_state=rng):
            Xb, yb = data.X[batch], data.y[batch]
            batch_losses.append(mse_cost(theta, Xb, yb))
            theta = theta - opt_lr * _per_sample_mse_gradient(theta, Xb, yb)
            path.append(theta.copy())
    np.testing.assert_allclose(h.path, np.array(path), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.loss_per_update, batch_losses, rtol=1e-12)
    np.testing.assert_allclose(h.theta, theta, rtol=1e-12, atol=1e-12)


# --- convergence to least squares ------------------------------------------------------------

@pytest.fixture(scope="module")
def regression():
    data = make_regression(400, 3, noise=0.3, random_state=0)
    theta_ls = np.linalg.lstsq(data.X, data.y, rcond=None)[0]
    return data, theta_ls


def test_batch_gd_converges_to_least_squares(regression):
    data, theta_ls = regression
    h = train(data.X, data.y, sgd(lr=0.5), num_epochs=300)          # batch_size=None → m
    assert h.updates_per_epoch == 1 and h.batch_size == 400 and h.n_updates == 300
    np.testing.assert_allclose(h.theta, theta_ls, atol=1e-8)


def test_sgd_and_minibatch_converge_to_least_squares_with_a_decaying_lr(regression):
    data, theta_ls = regression
    for batch_size, epochs, lr in [(1, 60, exponential(0.02, 0.9997)), (32, 150, exponential(0.1, 0.997))]:
        h = train(data.X, data.y, sgd(lr=lr), batch_size=batch_size, num_epochs=epochs, random_state=2)
        assert h.updates_per_epoch == -(-400 // batch_size)
        assert np.linalg.norm(h.theta - theta_ls) < 5e-3, (batch_size, h.theta, theta_ls)


def test_noise_free_data_is_fitted_exactly_by_every_batch_size():
    data = make_regression(120, 2, noise=0.0, random_state=5)
    for batch_size in (1, 7, 120):
        h = train(data.X, data.y, momentum(lr=0.05, momentum=0.5), batch_size=batch_size,
                  num_epochs=400 if batch_size == 120 else 60, random_state=0)
        np.testing.assert_allclose(h.theta, data.theta_true, atol=1e-6)


def test_cross_entropy_training_reaches_a_stationary_point():
    data = make_classification(300, 2, random_state=3)
    h = train(data.X, data.y, adam(lr=0.05), loss="cross_entropy", batch_size=300, num_epochs=800)
    grad = get_loss("cross_entropy").gradient(h.theta, data.X, data.y)
    assert np.linalg.norm(grad) < 1e-4
    assert h.loss_per_epoch[-1] < h.loss_per_epoch[0]


# --- the history --------------------------------------------------------------------------------

def test_history_contents():
    data = make_regression(100, 2, random_state=9)
    theta0 = np.array([1.0, -1.0, 0.5])
    h = train(data.X, data.y, adam(lr=0.1), theta0=theta0, batch_size=30, num_epochs=5,
              random_state=1, record_path=True)
    assert isinstance(h, TrainHistory)
    assert h.updates_per_epoch == 4 and h.n_updates == 20 and h.n_epochs == 5
    assert h.loss_per_update.shape == (20,) and h.loss_per_epoch.shape == (6,)
    assert h.thetas.shape == (6, 3) and h.path.shape == (21, 3)
    assert h.epoch_times.shape == (5,) and np.all(h.epoch_times >= 0)
    assert np.all(np.diff(h.time) >= 0)
    np.testing.assert_array_equal(h.thetas[0], theta0)
    np.testing.assert_array_equal(h.path[::4], h.thetas)              # the end of each epoch
    for e in range(6):
        assert h.loss_per_epoch[e] == pytest.approx(mse_cost(h.thetas[e], data.X, data.y), rel=1e-12)
    first = minibatch_indices(100, 30, random_state=1)[0]
    assert h.loss_per_update[0] == pytest.approx(mse_cost(theta0, data.X[first], data.y[first]), rel=1e-12)
    assert not h.diverged and h.stop_reason == "num_epochs" and "5 epochs" in h.message
    assert h.state.count == 20


def test_train_does_not_modify_its_inputs():
    data = make_regression(30, 2, random_state=2)
    X, y, theta0 = data.X.copy(), data.y.copy(), np.ones(3)
    train(X, y, sgd(lr=0.1), theta0=theta0, batch_size=4, num_epochs=2, random_state=0)
    np.testing.assert_array_equal(X, data.X)
    np.testing.assert_array_equal(y, data.y)
    np.testing.assert_array_equal(theta0, np.ones(3))


def test_same_seed_same_training():
    data = make_regression(60, 2, random_state=2)
    a = train(data.X, data.y, sgd(lr=0.05), batch_size=5, num_epochs=3, random_state=4)
    b = train(data.X, data.y, sgd(lr=0.05), batch_size=5, num_epochs=3, random_state=4)
    c = train(data.X, data.y, sgd(lr=0.05), batch_size=5, num_epochs=3, random_state=5)
    np.testing.assert_array_equal(a.loss_per_update, b.loss_per_update)
    assert not np.array_equal(a.loss_per_update, c.loss_per_update)


# --- divergence ---------------------------------------------------------------------------------

def test_too_large_lr_stops_with_a_message():
    data = make_regression(200, 3, random_state=0)
    h = train(data.X, data.y, sgd(lr=5.0), batch_size=10, num_epochs=50, random_state=0, record_path=True)
    assert h.diverged and h.stop_reason == "diverged"
    assert "diverged" in h.message and "lr" in h.message
    assert h.n_updates < 50 * 20
    for arr in (h.loss_per_update, h.loss_per_epoch, h.thetas):
        assert np.all(np.isfinite(arr))


def test_nan_gradient_stops_training_with_a_message():
    mse = get_loss("mse")
    calls = {"n": 0}

    def poisoned_gradient(theta, X, y):
        calls["n"] += 1
        g = mse.fast_gradient(theta, X, y)
        return g * np.nan if calls["n"] == 7 else g

    loss = Loss("poisoned", mse.value, mse.gradient, mse.fast_value, poisoned_gradient)
    data = make_regression(50, 2, random_state=0)
    h = train(data.X, data.y, adam(lr=0.01), loss=loss, batch_size=10, num_epochs=5, random_state=0)
    assert h.diverged and h.n_updates == 6
    assert "gradient contains NaN" in h.message and "update 7" in h.message
    assert np.all(np.isfinite(h.state.m)) and np.all(np.isfinite(h.thetas))


# --- bad input -----------------------------------------------------------------------------------

def test_bad_training_arguments():
    X, y = np.ones((10, 2)), np.ones(10)
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        train(X, np.ones(9), sgd())
    with pytest.raises(ValueError, match="theta0 must have one entry per column of X"):
        train(X, y, sgd(), theta0=np.zeros(3))
    with pytest.raises(ValueError, match="num_epochs must be >= 1"):
        train(X, y, sgd(), num_epochs=0)
    with pytest.raises(ValueError, match="X must contain only finite"):
        train(np.full((10, 2), np.nan), y, sgd())
    with pytest.raises(ValueError, match="loss must be one of"):
        train(X, y, sgd(), loss="hinge")
    with pytest.raises(ValueError, match="y must hold class labels 0 or 1"):
        train(X, y * 3, sgd(), loss="cross_entropy")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train(X, y, "adamax")


def test_docstring_examples_run():
    import doctest

    from gdcourse import batching
    result = doctest.testmod(batching, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 5


# --- the prefix-scan engine of lesson 4's panel, held to train() ---------------------------------

from gdcourse import batching  # noqa: E402


@pytest.mark.parametrize("batch_size, lr, num_epochs", [(1, 0.01, 2), (32, 0.1, 5), (2000, 0.5, 20),
                                                         (64, 0.05, 1), (1024, 1.0, 3), (7, 0.3, 4)])
def test_prefix_scan_run_is_the_training_loop(batch_size, lr, num_epochs):
    d = make_regression(2000, 1, random_state=0)
    rng = np.random.default_rng(0)
    orders = np.array([rng.permutation(2000) for _ in range(num_epochs)])   # as train draws them
    run = batching._minibatch_linear_run(d.x.ravel(), d.y, orders, batch_size, lr, np.zeros(2))
    h = train(d.X, d.y, sgd(lr=lr), batch_size=batch_size, num_epochs=num_epochs, random_state=0,
              record_path=True)
    assert run.updates_per_epoch == h.updates_per_epoch
    assert bool(run.diverged_epoch) == h.diverged
    np.testing.assert_allclose(run.path, h.path, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.update_losses, h.loss_per_update, rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(run.epoch_losses, h.loss_per_epoch, rtol=1e-9)


def test_affine_prefix_scan_equals_the_sequential_loop():
    rng = np.random.default_rng(5)
    for K in (1, 2, 31, 32, 33, 100, 1000):
        A = rng.uniform(-1.1, 1.1, size=(4, K))
        c = rng.normal(size=(2, K))
        out = batching._affine_prefix(A, c)
        theta = np.zeros(2)
        seq = []
        for k in range(K):
            theta = np.array([[A[0, k], A[1, k]], [A[2, k], A[3, k]]]) @ theta + c[:, k]
            seq.append(theta)
        # with θ0 = 0 the prefix map's offset is θ_{k+1} itself
        np.testing.assert_allclose(np.column_stack(out[4:]), seq, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("batch_size", [1, 2000])
def test_prefix_scan_run_stops_where_the_training_loop_diverges(batch_size):
    d = make_regression(2000, 1, random_state=0)
    rng = np.random.default_rng(0)
    orders = np.array([rng.permutation(2000) for _ in range(20)])
    lr = 10 ** 0.5
    run = batching._minibatch_linear_run(d.x.ravel(), d.y, orders, batch_size, lr, np.zeros(2))
    h = train(d.X, d.y, sgd(lr=lr), batch_size=batch_size, num_epochs=20, random_state=0, record_path=True)
    assert h.diverged and run.diverged_epoch == len(h.epoch_times)
    assert len(run.path) == len(h.path) and len(run.epoch_losses) == len(h.loss_per_epoch)
    np.testing.assert_allclose(run.update_losses, h.loss_per_update, rtol=1e-7)
