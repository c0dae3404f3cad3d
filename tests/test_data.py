import numpy as np

from gdcourse import data


def test_five_points_is_the_running_example():
    d = data.five_points()
    np.testing.assert_array_equal(d.x, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(d.y, [2, 4, 5, 4, 5])
    np.testing.assert_array_equal(d.X[:, 0], np.ones(5))
    np.testing.assert_array_equal(d.X[:, 1], d.x)
    # least squares, independently: normal equations solved by lstsq
    theta, *_ = np.linalg.lstsq(d.X, d.y, rcond=None)
    np.testing.assert_allclose(theta, [2.2, 0.6], atol=1e-12)


def test_regression_is_seeded_and_shaped():
    a = data.make_regression(300, 4, noise=0.1, random_state=7)
    b = data.make_regression(300, 4, noise=0.1, random_state=7)
    c = data.make_regression(300, 4, noise=0.1, random_state=8)
    for u, w in zip(a, b):
        np.testing.assert_array_equal(u, w)
    assert not np.array_equal(a.y, c.y)
    assert a.X.shape == (300, 5) and a.y.shape == (300,) and a.theta_true.shape == (5,)
    # the noise level is what was asked for: residuals of the true model
    resid = a.y - a.X @ a.theta_true
    assert 0.08 < resid.std() < 0.12
    # with little noise, least squares recovers theta_true
    theta, *_ = np.linalg.lstsq(a.X, a.y, rcond=None)
    np.testing.assert_allclose(theta, a.theta_true, atol=0.05)


def test_regression_without_bias_and_shared_generator():
    rng = np.random.default_rng(3)
    a = data.make_regression(50, 2, bias=False, random_state=rng)
    b = data.make_regression(50, 2, bias=False, random_state=rng)
    assert a.X.shape == (50, 2)
    assert not np.array_equal(a.X, b.X)  # one stream, two different draws


def test_classification_labels_and_separation():
    d = data.make_classification(2000, 2, separation=6.0, random_state=0)
    assert set(np.unique(d.y)) == {0.0, 1.0}
    # the true model classifies most points right when classes are well separated
    acc = np.mean((d.X @ d.theta_true > 0) == (d.y == 1))
    assert acc > 0.85
    assert np.isclose(np.linalg.norm(d.theta_true[1:]) ** 2 + (2 * d.theta_true[0]) ** 2, 36.0)
    e = data.make_classification(2000, 2, separation=6.0, random_state=0)
    np.testing.assert_array_equal(d.y, e.y)


def test_add_bias_on_matrix():
    X = data.add_bias(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(X, [[1, 0, 1], [1, 2, 3], [1, 4, 5]])
