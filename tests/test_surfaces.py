"""Surfaces: gradients and Hessians against finite differences, and their critical points."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gdcourse import data, gradcheck, surfaces

ALL = sorted(surfaces.SURFACES)
coord = st.floats(-2, 2, allow_nan=False)


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=40, deadline=None)
@given(x=coord, y=coord)
def test_gradient_matches_central_differences(name, x, y):
    s = surfaces.get_surface(name)
    p = np.array([x, y])
    err = gradcheck.gradient_check(s.value, s.grad, p, h=1e-6)
    assert err < 1e-6 or np.linalg.norm(s.grad(p)) < 1e-6


@pytest.mark.parametrize("name", ALL)
def test_hessian_matches_differences_of_the_gradient(name):
    s = surfaces.get_surface(name)
    for p in (np.array([0.3, -0.7]), np.array([-1.1, 0.4])):
        H = s.hessian(p)
        num = np.column_stack([gradcheck.numerical_gradient(lambda t: s.grad(t)[i], p) for i in range(2)]).T
        np.testing.assert_allclose(H, num, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ALL)
def test_minimisers_are_minima_and_saddles_are_saddles(name):
    s = surfaces.get_surface(name)
    for p in s.minimisers:
        assert np.linalg.norm(s.grad(p)) < 1e-9
        assert np.all(np.linalg.eigvalsh(s.hessian(p)) > 0)
        # and no nearby point is lower
        ring = p + 1e-3 * np.stack([np.cos(np.linspace(0, 2 * np.pi, 16)),
                                    np.sin(np.linspace(0, 2 * np.pi, 16))], axis=1)
        assert np.all(s.value(ring) > s.value(p))
    for p in s.saddles:
        assert np.linalg.norm(s.grad(p)) < 1e-9
        eig = np.linalg.eigvalsh(s.hessian(p))
        assert eig[0] < 0 < eig[1]
    assert s.minimum == pytest.approx(s.value(s.minimiser))
    # the global minimiser comes first
    assert all(s.value(s.minimisers[0]) <= s.value(q) for q in s.minimisers)


def test_non_convex_has_a_shallow_local_minimum():
    s = surfaces.non_convex()
    assert len(s.minimisers) == 2 and len(s.saddles) == 1
    (g, _), (loc, _) = s.minimisers
    assert g < s.saddles[0, 0] < loc
    assert s.value(s.minimisers[1]) > s.value(s.minimisers[0])


def test_known_closed_forms():
    s = surfaces.ill_conditioned()
    assert s.value([1.0, 1.0]) == pytest.approx(2.1)
    np.testing.assert_allclose(s.hessian(np.zeros(2)), np.diag([0.2, 4.0]))
    r = surfaces.rosenbrock(a=2.0, b=10.0)
    np.testing.assert_allclose(r.minimiser, [2.0, 4.0])
    q = surfaces.quadratic([[3.0, 1.0], [1.0, 2.0]], center=[1.0, -1.0])
    np.testing.assert_allclose(q.minimiser, [1.0, -1.0])
    assert q.value([2.0, -1.0]) == pytest.approx(1.5)


def test_grid_and_vectorised_values():
    s = surfaces.rosenbrock()
    T1, T2, F = s.grid(num=7)
    assert T1.shape == T2.shape == F.shape == (7, 7)
    assert F[3, 2] == pytest.approx(s.value([T1[3, 2], T2[3, 2]]))
    pts = np.stack([T1, T2], axis=-1)
    assert s.grad(pts).shape == (7, 7, 2)
    assert "rosenbrock" in repr(s) and s(np.array([1.0, 1.0])) == 0.0


def test_mse_surface_of_the_running_example():
    d = data.five_points()
    s = surfaces.mse_surface(d.X, d.y)
    np.testing.assert_allclose(s.minimiser, [2.2, 0.6])
    assert s.minimum == pytest.approx(0.24)
    eig = np.linalg.eigvalsh(d.X.T @ d.X / 5)
    np.testing.assert_allclose(s.eigenvalues, eig)
    np.testing.assert_allclose(eig, [0.169048, 11.830952], atol=1e-6)
    assert eig[1] / eig[0] == pytest.approx(69.99, abs=0.01)
    # J from the surface equals J from the data, on a grid
    from gdcourse.losses import mse_cost
    for t in ([0.0, 0.0], [1.0, -2.0], [3.5, 0.25]):
        assert s.value(t) == pytest.approx(mse_cost(t, d.X, d.y))
