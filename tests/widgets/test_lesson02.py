"""Lesson 2's panels (tangent and finite differences): what they draw equals what is computed independently.
"""

import math

import numpy as np
import pytest

from gdcourse.widgets import finite_difference_panel, tangent_panel
from .panelkit import hand_cost

pytestmark = pytest.mark.filterwarnings("error")


# --- lesson 2 ---------------------------------------------------------------------------------


def test_tangent_slope_is_the_finite_difference_of_j(d):
    panel = tangent_panel(d)
    panel.set(theta1=0.2)
    theta0 = panel.theta0
    assert theta0 == pytest.approx(2.2)
    h = 1e-6
    slope = (hand_cost([theta0, 0.2 + h], d.X, d.y) - hand_cost([theta0, 0.2 - h], d.X, d.y)) / (2 * h)
    (t0, t1), (j0, j1) = panel.artists["tangent"].get_data()
    assert (j1 - j0) / (t1 - t0) == pytest.approx(slope, rel=1e-6)
    # the line touches the curve at the point
    px, py = panel.artists["point"].get_xydata()[0]
    assert py == pytest.approx(hand_cost([theta0, 0.2], d.X, d.y))
    assert j0 + (j1 - j0) / (t1 - t0) * (px - t0) == pytest.approx(py)
    assert f"{slope:+.3f}" in panel.readouts["slice"]


def test_tangent_arrow_points_along_minus_the_gradient(d):
    panel = tangent_panel(d).set(theta1=1.4)
    theta = np.array([panel.theta0, 1.4])
    h = 1e-6
    grad = np.array([(hand_cost(theta + h * e, d.X, d.y) - hand_cost(theta - h * e, d.X, d.y)) / (2 * h)
                     for e in np.eye(2)])
    arrow = panel.artists["arrow"]
    direction = np.asarray(arrow.xy) - np.asarray(arrow.xyann)
    np.testing.assert_allclose(arrow.xyann, theta)
    cos = direction @ -grad / (np.linalg.norm(direction) * np.linalg.norm(grad))
    assert cos == pytest.approx(1.0, abs=1e-9)


def test_finite_difference_markers_show_the_true_errors():
    panel = finite_difference_panel()
    for log_h in (-12.0, -5.0, -1.0):
        panel.set(log10_h=log_h)
        h = 10.0 ** log_h
        # numpy's sin, as the panel uses: the quotient multiplies a one-ulp difference between
        # libm's and numpy's sin (numpy 1.24 has its own) by 1/h, far above rel=1e-12
        fwd = abs((np.sin(1 + h) - np.sin(1)) / h - math.cos(1))
        cen = abs((np.sin(1 + h) - np.sin(1 - h)) / (2 * h) - math.cos(1))
        assert panel.artists["forward_point"].get_ydata()[0] == pytest.approx(fwd, rel=1e-12)
        assert panel.artists["central_point"].get_ydata()[0] == pytest.approx(cen, rel=1e-12)
        assert panel.artists["vline"].get_xdata()[0] == pytest.approx(h)
    # large h: truncation makes central (∝ h²) far better than forward (∝ h)
    panel.set(log10_h=-3.0)
    assert panel.errors["central"] < 1e-3 * panel.errors["forward"]


def test_finite_difference_says_when_h_is_lost_in_rounding():
    panel = finite_difference_panel().set(log10_h=-16.0)
    assert "rounds to x" in panel.message
    panel.set(log10_h=-8.0)
    assert panel.message == ""


def test_finite_difference_refuses_a_bad_point():
    with pytest.raises(ValueError, match="x0"):
        finite_difference_panel(x0=float("nan"))
