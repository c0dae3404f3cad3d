"""Lesson 1's panels (fit line and cross-entropy): what they draw equals what is computed independently.
"""


import numpy as np
import pytest

from gdcourse import data
from gdcourse.widgets import cross_entropy_panel, descent_panel, fit_panel, tangent_panel
from .panelkit import hand_cost

pytestmark = pytest.mark.filterwarnings("error")


# --- lesson 1 ---------------------------------------------------------------------------------


def test_fit_panel_draws_the_line_the_residuals_and_the_point(d):
    panel = fit_panel(d)
    panel.set(theta0=1.0, theta1=0.5)
    xs, ys = panel.artists["line"].get_data()
    np.testing.assert_allclose(ys, 1.0 + 0.5 * np.asarray(xs))
    segments = panel.artists["residuals"].get_segments()
    assert len(segments) == 5
    for (x, y), seg in zip(zip([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), segments):
        np.testing.assert_allclose(seg, [[x, y], [x, 1.0 + 0.5 * x]])
    assert panel.artists["point"].get_xydata().tolist() == [[1.0, 0.5]]
    # residuals -0.5, -2, -2.5, -1, -1.5 → J = (0.25 + 4 + 6.25 + 1 + 2.25) / 10
    assert panel.cost == pytest.approx(13.75 / 10)
    assert "1.3750" in panel.readouts["cost"]


def test_fit_panel_at_least_squares_shows_the_minimum_cost(d):
    panel = fit_panel(d).set(theta0=2.2, theta1=0.6)
    assert panel.cost == pytest.approx(0.24, abs=1e-12)
    assert panel.cost == pytest.approx(hand_cost([2.2, 0.6], d.X, d.y))


def test_fit_panel_starts_where_asked_and_accepts_a_tuple(d):
    panel = fit_panel((d.X, d.y), theta=[1.0, 1.0])
    assert panel.values == {"theta0": pytest.approx(1.0), "theta1": pytest.approx(1.0)}
    assert panel.cost == pytest.approx(hand_cost([1.0, 1.0], d.X, d.y))


def test_fit_panel_sliders_reach_the_least_squares_fit(d):
    panel = fit_panel(d)
    c0, c1 = panel.controls["theta0"], panel.controls["theta1"]
    for c, target in ((c0, 2.2), (c1, 0.6)):
        assert c.min < target < c.max
        k = (target - c.min) / c.step
        assert abs(k - round(k)) < 1e-6, "θ* must lie on a slider step"


@pytest.mark.parametrize("bad, error, words", [
    (None, TypeError, "data must be a Dataset"),
    ((np.ones((5, 3)), np.ones(5)), ValueError, "2 columns"),
    ((np.column_stack([np.arange(5.0), np.arange(5.0)]), np.ones(5)), ValueError, "column of ones"),
    ((np.ones((5, 2)), np.ones(4)), ValueError, "same number of rows"),
    (data.Dataset(data.five_points().X, data.five_points().y, np.zeros(5)), ValueError,
     r"data.x must be the feature column"),
])
def test_fit_and_other_data_panels_refuse_bad_data(bad, error, words):
    for factory in (fit_panel, tangent_panel, descent_panel):
        with pytest.raises(error, match=words):
            factory(bad)


def test_fit_panel_refuses_a_bad_start(d):
    with pytest.raises(ValueError, match=r"theta must have shape \(2,\)"):
        fit_panel(d, theta=[1.0, 2.0, 3.0])


def _hand_ce(w, b, x, y):
    p = 1.0 / (1.0 + np.exp(-(w * x + b)))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), float(0.5 * np.mean((p - y) ** 2))


def test_cross_entropy_panel_draws_the_sigmoid_and_both_costs():
    panel = cross_entropy_panel(random_state=0)
    assert set(np.unique(panel.y)) == {0.0, 1.0}
    panel.set(weight=2.0, bias=-0.5)
    xs, ps = panel.artists["sigmoid"].get_data()
    np.testing.assert_allclose(ps, 1.0 / (1.0 + np.exp(-(2.0 * np.asarray(xs) - 0.5))), rtol=1e-12)
    ce, mse = _hand_ce(2.0, -0.5, panel.x, panel.y)
    assert panel.artists["ce_point"].get_ydata()[0] == pytest.approx(ce, rel=1e-10)
    assert panel.artists["mse_point"].get_ydata()[0] == pytest.approx(mse, rel=1e-10)
    ws, curve = panel.artists["ce_curve"].get_data()
    i = int(np.argmin(np.abs(np.asarray(ws) - 1.0)))
    assert curve[i] == pytest.approx(_hand_ce(ws[i], -0.5, panel.x, panel.y)[0], rel=1e-10)
    assert panel.message == ""


def test_cross_entropy_keeps_a_slope_where_mse_goes_flat():
    panel = cross_entropy_panel(random_state=0).set(weight=-5.0, bias=0.0)
    h = 1e-5
    d_ce = (_hand_ce(-5 + h, 0, panel.x, panel.y)[0] - _hand_ce(-5 - h, 0, panel.x, panel.y)[0]) / (2 * h)
    d_mse = (_hand_ce(-5 + h, 0, panel.x, panel.y)[1] - _hand_ce(-5 - h, 0, panel.x, panel.y)[1]) / (2 * h)
    assert abs(d_mse) < 0.1 * abs(d_ce)
    assert "MSE is flat" in panel.message and "cross-entropy" in panel.message
    assert panel.artists["message"].get_visible()


def test_cross_entropy_panel_is_deterministic_and_checks_random_state():
    a, b = cross_entropy_panel(random_state=3), cross_entropy_panel(random_state=3)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, cross_entropy_panel(random_state=4).x)
    with pytest.raises(TypeError, match="random_state"):
        cross_entropy_panel(random_state="seed")
