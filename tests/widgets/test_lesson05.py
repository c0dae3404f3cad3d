"""Lesson 5's panels (gradient norms): what they draw equals what is computed independently.
"""


import numpy as np
import pytest

from gdcourse import deepnet
from gdcourse.widgets import gradient_norms_panel

pytestmark = pytest.mark.filterwarnings("error")


# --- lesson 5 -----------------------------------------------------------------------------------


def _hand_mlp_loss(params, X, y, act):
    a = X
    for W, b in params[:-1]:
        a = act(a @ W + b)
    out = (a @ params[-1][0] + params[-1][1])[:, 0]
    return float(np.sum((out - y) ** 2)) / (2 * len(y))


def test_gradient_norm_bars_are_the_finite_difference_gradients():
    panel = gradient_norms_panel().set(depth=3, scale=1.0, activation="tanh", init="xavier")
    rng = np.random.default_rng(0)                 # the panel's seed: data first, then weights
    X, y = deepnet.make_chain_data(128, 8, random_state=rng)
    params = deepnet.init_weights([8, 16, 16, 1], scheme="xavier", random_state=rng)
    h = 1e-6
    expected = []
    for layer in range(3):
        W = params[layer][0]
        g = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            old = W[idx]
            W[idx] = old + h
            up = _hand_mlp_loss(params, X, y, np.tanh)
            W[idx] = old - h
            down = _hand_mlp_loss(params, X, y, np.tanh)
            W[idx] = old
            g[idx] = (up - down) / (2 * h)
        expected.append(np.linalg.norm(g))
    heights = [panel.artists[f"bar{i}"].get_height() for i in (1, 2, 3)]
    np.testing.assert_allclose(heights, expected, rtol=1e-5)
    assert [panel.artists[f"bar{i}"].get_visible() for i in range(1, 13)] == [True] * 3 + [False] * 9


@pytest.mark.parametrize("depth", [2, 12])
def test_gradient_norms_depth_extremes(depth):
    panel = gradient_norms_panel().set(depth=depth)
    visible = [panel.artists[f"bar{i}"].get_visible() for i in range(1, 13)]
    assert sum(visible) == depth and all(visible[:depth])
    # the training run starts from the same network as the bars
    np.testing.assert_allclose(panel.history.layer_grad_norms[0], panel.layer_grad_norms, rtol=1e-9)
    xs, losses = panel.artists["cost"].get_data()
    assert len(xs) == panel.history.n_epochs + 1


def test_gradient_norms_sigmoid_vanishes_with_depth():
    shallow = gradient_norms_panel().set(depth=2, activation="sigmoid", init="naive", scale=1.0)
    deep = gradient_norms_panel().set(depth=12, activation="sigmoid", init="naive", scale=1.0)
    ratio = lambda p: p.layer_grad_norms[0] / p.layer_grad_norms[-1]
    assert ratio(deep) < 1e-2 * ratio(shallow)


def test_gradient_norms_clipping_stops_the_explosion():
    panel = gradient_norms_panel().set(depth=12, activation="relu", init="he", scale=1.0, clip=False)
    assert panel.history.diverged
    assert panel.message.startswith("diverged after") and "clipping" in panel.message
    rng = np.random.default_rng(0)
    X, y = deepnet.make_chain_data(128, 8, random_state=rng)
    expected = deepnet.train_mlp(X, y, deepnet.chain_sizes(12, 16, 8), lr=0.2, num_epochs=30,
                                 activation="relu", init="he", clip=1.0, random_state=rng)
    panel.set(clip=True)
    assert not panel.history.diverged and panel.message == ""
    assert panel.history.n_clipped > 0 and "clipped" in panel.readouts["cost"]
    np.testing.assert_allclose(panel.history.losses, expected.losses, rtol=1e-12)
    np.testing.assert_allclose(panel.artists["cost"].get_ydata(), expected.losses, rtol=1e-12)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"width": 0}, ValueError, "width must be >= 1"),
    ({"lr": 0.0}, ValueError, "lr must be > 0"),
    ({"clip_norm": -1.0}, ValueError, "clip_norm must be > 0"),
    ({"num_epochs": 1.5}, TypeError, "num_epochs must be an integer"),
    ({"random_state": "seed"}, TypeError, "random_state"),
    ({"random_state": np.random.default_rng(0)}, TypeError, "int seed"),
])
def test_gradient_norms_panel_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        gradient_norms_panel(**kwargs)
