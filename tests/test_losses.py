"""Losses: closed forms, agreement with central differences (property-based), stability."""

import warnings

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from gdcourse import data, gradcheck, losses

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw, labels=False):
    m = draw(st.integers(1, 25))
    n = draw(st.integers(1, 5))
    X = draw(hnp.arrays(float, (m, n), elements=finite))
    if labels:
        y = draw(hnp.arrays(float, (m,), elements=st.sampled_from([0.0, 1.0])))
    else:
        y = draw(hnp.arrays(float, (m,), elements=finite))
    theta = draw(hnp.arrays(float, (n,), elements=finite))
    return X, y, theta


def test_running_example_closed_form():
    d = data.five_points()
    assert np.isclose(losses.mse_cost([2.2, 0.6], d.X, d.y), 0.24)
    np.testing.assert_allclose(losses.mse_gradient([2.2, 0.6], d.X, d.y), [0, 0], atol=1e-12)
    # by hand at θ = 0: J = (4 + 16 + 25 + 16 + 25) / 10 = 8.6, ∇J = -(1/5)[Σy, Σxy] = -[4, 13.2]
    assert np.isclose(losses.mse_cost([0, 0], d.X, d.y), 8.6)
    np.testing.assert_allclose(losses.mse_gradient([0, 0], d.X, d.y), [-4.0, -13.2])


@settings(max_examples=60, deadline=None)
@given(problems())
def test_mse_gradient_matches_central_differences(p):
    X, y, theta = p
    err = gradcheck.gradient_check(lambda t: losses.mse_cost(t, X, y),
                                   lambda t: losses.mse_gradient(t, X, y), theta)
    scale = np.linalg.norm(losses.mse_gradient(theta, X, y))
    assert err < 1e-6 or scale < 1e-6


@settings(max_examples=60, deadline=None)
@given(problems(labels=True))
def test_cross_entropy_gradient_matches_central_differences(p):
    X, y, theta = p
    err = gradcheck.gradient_check(lambda t: losses.cross_entropy_cost(t, X, y),
                                   lambda t: losses.cross_entropy_gradient(t, X, y), theta)
    scale = np.linalg.norm(losses.cross_entropy_gradient(theta, X, y))
    assert err < 1e-5 or scale < 1e-6


def test_cross_entropy_matches_the_textbook_form_for_moderate_logits():
    d = data.make_classification(200, 3, random_state=1)
    theta = np.array([0.3, -0.5, 0.8, 0.1])
    p = 1 / (1 + np.exp(-(d.X @ theta)))
    textbook = -np.mean(d.y * np.log(p) + (1 - d.y) * np.log(1 - p))
    assert np.isclose(losses.cross_entropy_cost(theta, d.X, d.y), textbook)


def test_cross_entropy_is_stable_for_huge_logits():
    X = np.array([[1.0, 800.0], [1.0, -800.0], [1.0, 800.0]])
    y = np.array([1.0, 0.0, 0.0])
    theta = np.array([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = losses.cross_entropy_cost(theta, X, y)
        grad = losses.cross_entropy_gradient(theta, X, y)
        s = losses.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    # two confident right answers cost ~0; the confident wrong one costs its logit, 800
    assert np.isclose(cost, 800.0 / 3)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [1 / 3, 800 / 3])
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0])


def test_mse_is_stable_to_large_values_without_warnings():
    X = np.array([[1.0, 1e150], [1.0, 2e150]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = losses.mse_gradient(np.zeros(2), X, np.array([1.0, 2.0]))
    assert np.all(np.isfinite(g))


def test_residuals_and_registry():
    d = data.five_points()
    np.testing.assert_allclose(losses.residuals([2.2, 0.6], d.X, d.y), [0.8, -0.6, -1.0, 0.6, 0.2], atol=1e-12)
    spec = losses.get_loss("mse")
    assert spec is losses.get_loss(spec)
    theta = np.array([0.5, 0.5])
    assert spec.fast_value(theta, d.X, d.y) == spec.value(theta, d.X, d.y)
    np.testing.assert_array_equal(spec.fast_gradient(theta, d.X, d.y), spec.gradient(theta, d.X, d.y))
