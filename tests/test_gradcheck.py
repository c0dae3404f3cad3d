import numpy as np
import pytest

from gdcourse import gradcheck


def test_central_difference_is_second_order():
    f = np.sin
    x = np.array([0.7])
    errs = [abs(gradcheck.numerical_gradient(lambda t: float(f(t[0])), x, h)[0] - np.cos(0.7))
            for h in (1e-2, 1e-3)]
    # shrinking h by 10 shrinks the error by ~100 (O(h²)); a forward difference would give ~10
    assert 60 < errs[0] / errs[1] < 140


def test_theta_is_not_modified_and_shape_is_kept():
    theta = np.arange(6.0).reshape(2, 3)
    before = theta.copy()
    g = gradcheck.numerical_gradient(lambda t: float((t ** 2).sum()), theta)
    np.testing.assert_array_equal(theta, before)
    np.testing.assert_allclose(g, 2 * theta, atol=1e-8)


def test_gradient_check_tells_right_from_wrong():
    f = lambda t: float(t[0] ** 2 * t[1] + np.exp(t[1]))
    right = lambda t: np.array([2 * t[0] * t[1], t[0] ** 2 + np.exp(t[1])])
    flipped = lambda t: -right(t)
    off = lambda t: right(t) * np.array([1.0, 1.001])
    p = np.array([0.8, -0.3])
    assert gradcheck.gradient_check(f, right, p) < 1e-8
    assert gradcheck.gradient_check(f, flipped, p) == pytest.approx(1.0)
    e = gradcheck.gradient_check(f, off, p)
    assert 1e-5 < e < 1e-3
    assert gradcheck.verdict(gradcheck.gradient_check(f, right, p)) == "good"
    assert gradcheck.verdict(e) == "suspicious"
    assert gradcheck.verdict(1.0) == "wrong"


def test_relative_error_edge_cases():
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error([1.0, 0.0], [-1.0, 0.0]) == 1.0
    with pytest.raises(ValueError, match="a must have the same shape as b"):
        gradcheck.relative_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"grad_fn must return an array shaped like theta"):
        gradcheck.gradient_check(lambda t: 0.0, lambda t: np.zeros(5), np.zeros(2))
