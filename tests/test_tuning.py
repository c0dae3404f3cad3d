"""Tests for gdcourse.tuning: the fair learning-rate sweep behind lesson 6 §7."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from gdcourse import data, optim, surfaces, tuning

matplotlib.use("Agg")


def test_log_grid_is_geometric_and_includes_both_ends():
    g = tuning.log_grid(1e-3, 10, per_decade=4)
    assert g.size == 17 and np.isclose(g[0], 1e-3) and np.isclose(g[-1], 10)
    np.testing.assert_allclose(g[1:] / g[:-1], 10 ** 0.25)


@pytest.mark.parametrize("args, word", [((0.0, 1.0), "low"), ((1.0, -2.0), "high"), ((1.0, 0.5), "larger"),
                                        ((0.1, 1.0, 0), "per_decade")])
def test_log_grid_rejects_bad_input_by_name(args, word):
    with pytest.raises(ValueError, match=word):
        tuning.log_grid(*args)


def test_sgd_on_a_quadratic_matches_the_theory():
    # f = ½·4θ²: GD diverges for α > 2/4, and the error after k steps is |1 − 4α|^k
    surface = surfaces.quadratic(np.diag([4.0, 4.0]))
    surface.start = np.array([1.0, 1.0])
    lrs = np.array([0.05, 0.1, 0.25, 0.4, 0.6])
    s = tuning.sweep_surface("sgd", surface, lrs, 10, n_starts=1)
    assert s.best_lr == 0.25 and s.best_score == 0.0          # α = 1/L lands in one step
    assert np.isinf(s.scores[-1]) and s.largest_stable_lr == 0.4
    np.testing.assert_allclose(s.scores[:2], 4 * (1 - 4 * lrs[:2]) ** 20, rtol=1e-10)
    assert not s.at_edge


def test_a_too_narrow_grid_is_flagged():
    s = tuning.sweep_surface("sgd", surfaces.ill_conditioned(), [1e-4, 1e-3, 1e-2], 50, n_starts=2)
    assert s.at_edge and s.best_lr == 1e-2


def test_a_run_that_blows_up_and_comes_back_counts_as_failed():
    bowl = surfaces.ill_conditioned()
    # RMSProp at α = 10 flings θ far out, then converges; with max_growth it is a failure
    loose = tuning.sweep_surface("rmsprop", bowl, [0.1, 1.0, 10.0], 100, n_starts=1, max_growth=1e12)
    strict = tuning.sweep_surface("rmsprop", bowl, [0.1, 1.0, 10.0], 100, n_starts=1, max_growth=100)
    assert np.isfinite(loose.scores[-1]) and np.isinf(strict.scores[-1])


def test_one_failing_start_fails_the_learning_rate():
    per_run = np.array([[1.0, 2.0], [np.inf, 3.0], [1.0, 4.0]])
    scores = tuning._median(per_run)
    assert np.isinf(scores[0]) and scores[1] == 3.0


def test_starts_are_seeded_and_the_first_is_the_surface_start():
    bowl = surfaces.ill_conditioned()
    a = tuning.sweep_surface("adam", bowl, [0.01, 0.1, 1.0], 30, n_starts=3, random_state=5)
    b = tuning.sweep_surface("adam", bowl, [0.01, 0.1, 1.0], 30, n_starts=3, random_state=5)
    c = tuning.sweep_surface("adam", bowl, [0.01, 0.1, 1.0], 30, n_starts=3, random_state=6)
    np.testing.assert_array_equal(a.per_run, b.per_run)
    np.testing.assert_array_equal(a.per_run[0], c.per_run[0])
    assert not np.array_equal(a.per_run[1:], c.per_run[1:])
    direct = optim.run(optim.adam(lr=0.1), bowl.grad, bowl.start, 30, loss_fn=bowl.value)
    assert a.per_run[0, 1] == direct.losses[-1] - bowl.minimum


def test_sweep_training_uses_the_seeds_and_the_baseline():
    d = data.make_regression(200, n_features=1, noise=0.5, random_state=0)
    s = tuning.sweep_training("sgd", d.X, d.y, [0.01, 0.1, 0.5, 5.0], batch_size=20, num_epochs=3, seeds=(0, 1))
    assert s.per_run.shape == (2, 4) and np.isinf(s.scores[-1])
    assert s.best_lr in (0.1, 0.5) and not np.array_equal(s.per_run[0, :3], s.per_run[1, :3])
    shifted = tuning.sweep_training("sgd", d.X, d.y, [0.01, 0.1, 0.5, 5.0], batch_size=20, num_epochs=3,
                                    seeds=(0, 1), baseline=0.1)
    np.testing.assert_allclose(shifted.scores[:3], np.maximum(s.scores[:3] - 0.1, 0))


def test_robustness_ranges():
    s = tuning.Sweep("x", np.array([0.01, 0.1, 1.0, 10.0]), np.zeros((1, 4)), np.array([5.0, 0.2, 0.1, np.inf]))
    assert s.best_lr == 1.0 and s.within(3) == (0.1, 1.0) and np.isclose(s.decades_within(3), 1.0)
    assert s.good_range(1.0) == (0.1, 1.0) and s.good_range(0.01) is None and s.largest_stable_lr == 1.0


@pytest.mark.parametrize("lrs", [[0.1, 1.0], [0.1, 0.05, 1.0], [0.0, 0.1, 1.0]])
def test_bad_grids_are_refused(lrs):
    with pytest.raises(ValueError, match="lrs must be at least 3 positive"):
        tuning.sweep_surface("sgd", surfaces.ill_conditioned(), lrs, 10)


def test_bad_seeds_are_refused():
    d = data.make_regression(50, n_features=1, random_state=0)
    with pytest.raises(ValueError, match="seeds"):
        tuning.sweep_training("sgd", d.X, d.y, [0.01, 0.1, 1.0], batch_size=10, num_epochs=1, seeds=[])


def test_plot_sweeps_draws_one_curve_per_sweep_without_failed_points():
    import matplotlib.pyplot as plt
    bowl = surfaces.ill_conditioned()
    sweeps = [tuning.sweep_surface(name, bowl, [0.01, 0.1, 0.3, 1.0], 20, n_starts=1) for name in ("sgd", "adam")]
    fig, ax = plt.subplots()
    assert tuning.plot_sweeps(sweeps, ax=ax, colors={"sgd": "red"}) is ax
    curves = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in curves] == ["sgd", "adam"]
    assert len(curves[0].get_xdata()) == 3          # SGD fails at α = 1 on curvature 4
    assert curves[0].get_color() == "red"
    plt.close(fig)
    with pytest.raises(TypeError, match="Sweep"):
        tuning.plot_sweeps([1, 2])


def test_gradient_noise_falls_as_one_over_b_and_vanishes_at_m():
    d = data.make_regression(2000, n_features=2, noise=1.0, random_state=3)
    theta = np.array([0.5, -1.0, 2.0])
    sizes = [1, 4, 16, 64, 2000]
    noise = tuning.gradient_noise(d.X, d.y, theta, sizes, n_draws=400, random_state=0)
    m = 2000
    expected = noise[0] / np.array(sizes[:-1]) * (m - np.array(sizes[:-1])) / (m - 1)
    np.testing.assert_allclose(noise[:-1], expected, rtol=0.25)
    assert noise[-1] < 1e-20                       # the whole data set is the full gradient
    again = tuning.gradient_noise(d.X, d.y, theta, sizes, n_draws=400, random_state=0)
    np.testing.assert_array_equal(noise, again)


def test_gradient_noise_checks_its_arguments():
    d = data.make_regression(50, n_features=1, random_state=0)
    with pytest.raises(ValueError, match="batch_sizes"):
        tuning.gradient_noise(d.X, d.y, np.zeros(2), [1, 51])
    with pytest.raises(ValueError, match="theta"):
        tuning.gradient_noise(d.X, d.y, np.zeros(3), [1, 5])
