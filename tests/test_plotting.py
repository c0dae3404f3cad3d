"""Static plot helpers: they draw the numbers they are given, take ax= and return it.

Most tests draw on a plain ``matplotlib.figure.Figure`` (no pyplot state);
one test per helper checks that ``ax=None`` makes a new pyplot figure, so the
picture shows inline in a notebook.
"""

import matplotlib

matplotlib.use("Agg")  # this module only: the tests need no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mpl_toolkits.mplot3d.art3d import Poly3DCollection  # noqa: E402

from gdcourse import data, descent, surfaces  # noqa: E402
from gdcourse.plotting import (plot_contour, plot_cost_history, plot_data, plot_paths,  # noqa: E402
                               plot_surface_3d)

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def ax():
    return Figure().subplots()


@pytest.fixture
def d():
    return data.five_points()


@pytest.fixture
def mse(d):
    return surfaces.mse_surface(d.X, d.y)


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


# --- plot_data ----------------------------------------------------------------------------

def test_plot_data_draws_points_line_and_residuals(ax, d):
    out = plot_data(d.x, d.y, [1.0, 1.0], residuals=True, ax=ax)
    assert out is ax
    points = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(points, np.column_stack([d.x, d.y]))
    fit = [line for line in ax.get_lines() if line.get_label().startswith("h(x)")][0]
    xs, ys = fit.get_data()
    np.testing.assert_allclose(ys, 1.0 + np.asarray(xs))
    # h = x + 1 = 2..6 against y = 2, 4, 5, 4, 5: residual lengths 0, 1, 1, 1, 1
    segments = [c for c in ax.collections if c.get_label() == "residuals"][0].get_segments()
    lengths = sorted(abs(s[1, 1] - s[0, 1]) for s in segments)
    np.testing.assert_allclose(lengths, [0, 1, 1, 1, 1])


def test_plot_data_without_theta_draws_only_points(ax, d):
    plot_data(d.x, d.y, ax=ax)
    assert ax.get_lines() == []


@pytest.mark.parametrize("kwargs, error, words", [
    ({"theta": None, "residuals": True}, ValueError, "residuals=True needs theta"),
    ({"theta": [1.0, 2.0, 3.0]}, ValueError, "theta must have length 2"),
    ({"theta": [1.0, 2.0], "ax": "left"}, TypeError, "ax must be a matplotlib Axes"),
])
def test_plot_data_refuses_bad_arguments(d, kwargs, error, words):
    with pytest.raises(error, match=words):
        plot_data(d.x, d.y, **kwargs)


def test_plot_data_refuses_mismatched_lengths(d):
    with pytest.raises(ValueError, match="y must have length 5"):
        plot_data(d.x, d.y[:4])


def test_plot_data_makes_an_inline_figure_without_ax(d):
    ax = plot_data(d.x, d.y, [2.2, 0.6])
    try:
        assert ax.figure in [plt.figure(n) for n in plt.get_fignums()]
    finally:
        plt.close(ax.figure)


# --- plot_cost_history ----------------------------------------------------------------------

def test_cost_history_plots_every_cost_against_its_iteration(ax, d):
    h = descent.linear_regression_gd(d.X, d.y, 0.01, num_iters=50)
    assert plot_cost_history(h, ax=ax, log=True) is ax
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(51))
    np.testing.assert_array_equal(line.get_ydata(), h.costs)
    assert ax.get_yscale() == "log"


def test_cost_history_leaves_out_blown_up_costs(ax):
    plot_cost_history([3.0, 2.0, np.inf, np.nan], ax=ax)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 1])
    assert ax.get_yscale() == "linear"


def test_cost_history_refuses_log_of_nonpositive_costs(ax):
    with pytest.raises(ValueError, match="log=True needs positive costs"):
        plot_cost_history([1.0, -0.5], ax=ax, log=True)
    with pytest.raises(TypeError, match="log must be True or False"):
        plot_cost_history([1.0], ax=ax, log="yes")


def test_cost_history_makes_an_inline_figure_without_ax():
    ax = plot_cost_history([3.0, 2.0, 1.0])
    plt.close(ax.figure)


# --- plot_contour, plot_paths -------------------------------------------------------------

def test_contour_draws_the_path_its_ends_and_the_minimiser(ax, d, mse):
    h = descent.linear_regression_gd(d.X, d.y, 0.1, num_iters=30)
    assert plot_contour(mse, h, ax=ax) is ax
    lines = ax.get_lines()
    path = [l for l in lines if len(l.get_xdata()) == 31][0]
    np.testing.assert_array_equal(path.get_xydata(), h.thetas)
    star = lines_by_label(ax)["global minimum"]
    np.testing.assert_allclose(star.get_xydata(), [[2.2, 0.6]], atol=1e-12)
    start = [l for l in lines if l.get_marker() == "s"][0]
    end = [l for l in lines if l.get_marker() == "X"][0]
    np.testing.assert_array_equal(start.get_xydata()[0], h.thetas[0])
    np.testing.assert_array_equal(end.get_xydata()[0], h.thetas[-1])
    assert ax.get_xlim() == mse.xlim and ax.get_ylim() == mse.ylim


def test_contour_marks_local_minima_and_saddles(ax):
    s = surfaces.non_convex()
    plot_contour(s, ax=ax)
    marks = lines_by_label(ax)
    np.testing.assert_allclose(marks["local minimum"].get_xydata(), s.minimisers[1:])
    np.testing.assert_allclose(marks["saddle"].get_xydata(), s.saddles)


def _levels(ax):
    return [c for c in ax.get_children() if isinstance(c, ContourSet)][0].levels


def test_contour_levels_are_logarithmic_for_a_steep_valley_and_even_for_a_bowl():
    r = surfaces.rosenbrock()
    ax = Figure().subplots()
    plot_contour(r, ax=ax, levels=12)
    _, _, F = r.grid(120)
    gaps = _levels(ax) - F.min()
    ratios = gaps[1:] / gaps[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # a geometric series
    assert ratios[0] > 1.5
    ax = Figure().subplots()
    plot_contour(surfaces.quadratic(np.diag([2.0, 4.0])), ax=ax, levels=12, log_levels=False)
    steps = np.diff(_levels(ax))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-9)


def test_contour_drops_blown_up_rows_of_a_path(ax, mse):
    path = np.array([[0.0, 0.0], [1.0, 0.5], [np.inf, np.nan]])
    plot_contour(mse, path, ax=ax)
    assert any(len(l.get_xdata()) == 2 for l in ax.get_lines())


@pytest.mark.parametrize("kwargs, error, words", [
    ({"surface": "no such"}, ValueError, "surface must be one of"),
    ({"surface": 3}, TypeError, "surface must be a gdcourse.surfaces.Surface"),
    ({"path": np.zeros((4, 3))}, ValueError, r"path must have shape \(k, 2\)"),
    ({"levels": 1}, ValueError, "levels must be >= 2"),
    ({"log_levels": "maybe"}, ValueError, "log_levels must be True, False or 'auto'"),
    ({"xlim": (2.0, 1.0)}, ValueError, "xlim must be a pair"),
])
def test_contour_refuses_bad_arguments(kwargs, error, words):
    args = {"surface": surfaces.non_convex(), **kwargs}
    with pytest.raises(error, match=words):
        plot_contour(args.pop("surface"), ax=Figure().subplots(), **args)


def test_paths_get_one_line_and_legend_entry_each(ax, d, mse):
    runs = {f"α = {lr}": descent.linear_regression_gd(d.X, d.y, lr, num_iters=20) for lr in (0.01, 0.1)}
    assert plot_paths(mse, runs, ax=ax) is ax
    labelled = lines_by_label(ax)
    for label, h in runs.items():
        np.testing.assert_array_equal(labelled[label].get_xydata(), h.thetas)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(label in legend for label in runs)


def test_paths_refuses_a_non_dict(mse):
    with pytest.raises(TypeError, match="paths must be a non-empty dict"):
        plot_paths(mse, [np.zeros((3, 2))])


def test_contour_makes_an_inline_figure_without_ax():
    ax = plot_contour("non_convex")
    plt.close(ax.figure)


# --- plot_surface_3d ------------------------------------------------------------------------

def test_surface_3d_draws_the_path_in_red_on_the_surface(d, mse):
    fig = Figure()
    ax3 = fig.add_subplot(projection="3d")
    h = descent.linear_regression_gd(d.X, d.y, 0.01, num_iters=100)
    assert plot_surface_3d(mse, h, ax=ax3) is ax3
    (path,) = [l for l in ax3.get_lines() if l.get_label() == "descent path"]
    xs, ys, zs = path.get_data_3d()
    np.testing.assert_array_equal(np.column_stack([xs, ys]), h.thetas)
    # heights are J(θ_k) computed by hand
    expected = [float(np.sum((d.X @ t - d.y) ** 2)) / 10 for t in h.thetas]
    np.testing.assert_allclose(zs, expected, rtol=1e-12)
    assert matplotlib.colors.same_color(path.get_color(), "red")
    (surface,) = [c for c in ax3.collections if isinstance(c, Poly3DCollection)]
    assert not ax3.computed_zorder and path.get_zorder() > surface.get_zorder()  # drawn on top


def test_surface_3d_leaves_out_points_outside_the_window(mse):
    ax3 = Figure().add_subplot(projection="3d")
    plot_surface_3d(mse, np.array([[0.0, 0.0], [100.0, 50.0]]), ax=ax3)
    (path,) = [l for l in ax3.get_lines() if l.get_label() == "descent path"]
    assert len(path.get_data_3d()[0]) == 1


def test_surface_3d_needs_a_3d_axes(ax, mse):
    with pytest.raises(TypeError, match="ax must be a 3-D axes"):
        plot_surface_3d(mse, ax=ax)


def test_surface_3d_makes_an_inline_figure_without_ax(mse):
    ax3 = plot_surface_3d(mse)
    assert ax3.name == "3d"
    plt.close(ax3.figure)
