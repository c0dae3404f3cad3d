r"""A small multilayer perceptron in numpy, for lesson 5 (vanishing and exploding gradients).

Conventions
-----------
Samples are rows.  ``X`` is (m, n₀); layer l (l = 1 … L) has weights ``W`` of
shape (fan_in, fan_out) = (n_{l-1}, n_l) and a bias ``b`` of shape (n_l,):

.. math::  z^l = a^{l-1} W^l + b^l, \qquad a^l = f(z^l), \qquad a^0 = X

The hidden layers use the chosen activation f; the output layer uses the
identity, so ``ŷ = z^L`` has shape (m, n_L).  ``layer_sizes`` lists every width,
``[n₀, n₁, …, n_L]``; the depth is L = ``len(layer_sizes) - 1`` weight layers.
``params`` is a list of ``(W, b)`` pairs and a gradient ``grads`` has the same
structure, input layer first.

The loss is the lessons' mean squared error, averaged over the m samples,

.. math::  J = \frac{1}{2m}\sum_{i=1}^{m}\lVert \hat y_i - y_i\rVert^2, \qquad
           \frac{\partial J}{\partial \hat y} = \frac{1}{m}(\hat y - y)

(for one output this is exactly :func:`gdcourse.losses.mse_cost`), or, with
``loss="cross_entropy"`` and one output, binary cross-entropy on the logit
``z^L``: J = (1/m)Σ[log(1 + e^z) − y z], ∂J/∂z = (σ(z) − y)/m.

Why gradients vanish or explode
-------------------------------
Backpropagation multiplies by one factor per layer on the way down:

.. math::  \delta^{l} = \big(\delta^{l+1} (W^{l+1})^\top\big) \odot f'(z^l), \qquad
           \nabla_{W^l} J = (a^{l-1})^\top \delta^l

so the gradient that reaches layer 1 is a product of L − 1 such factors.  With
the sigmoid, f' ≤ 1/4, so each factor is at most about ¼·(weight size)·√width;
small weights make the product shrink geometrically (vanishing), large ones make
it grow (exploding).  Xavier/Glorot and He initialisation pick the weight scale
that keeps the factor near 1; gradient clipping by norm caps a step whose
gradient has exploded anyway.

Two architectural fixes can be switched on, briefly, for comparison:

* ``residual=True``: every hidden layer whose fan_in equals its fan_out adds a
  skip connection, a^l = a^{l-1} + f(z^l), so δ gets an identity path around
  each layer and its size no longer depends on a long product.
* ``normalize=True``: a batch-norm-like step without learned scale: the hidden
  pre-activations are standardised over the batch before the bias,
  z^l = (u − μ_B)/√(σ²_B + ε) + b^l with u = a^{l-1}W^l, ε = 1e-5, so every layer
  sees inputs of unit scale whatever the weight scale.

Every public function checks its arguments; the underscored kernels do not, so
the training loop validates once and then runs them in a tight loop.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from ._validation import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_matrix,
    check_nonnegative,
    check_positive,
    describe,
)
from ._stopping import DIVERGENCE_FACTOR, divergence_limit
from ._validation import check_flag
from .losses import _ce_terms, sigmoid

__all__ = [
    "sigmoid",
    "sigmoid_derivative",
    "tanh",
    "tanh_derivative",
    "relu",
    "relu_derivative",
    "identity",
    "identity_derivative",
    "Activation",
    "ACTIVATIONS",
    "INITS",
    "LOSS_NAMES",
    "xavier_std",
    "he_std",
    "init_std",
    "init_weights",
    "chain_sizes",
    "Cache",
    "forward",
    "backward",
    "loss",
    "loss_and_grads",
    "layer_grad_norms",
    "global_norm",
    "clip_by_norm",
    "MLPHistory",
    "train_mlp",
    "make_chain_data",
    "ChainDemo",
    "make_deep_chain_demo",
]

NORM_EPS = 1e-5
"""ε inside the square root of the batch standardisation (``normalize=True``)."""

CLIP_EPS = 1e-6
"""ε added to the total norm in :func:`clip_by_norm`, as torch.nn.utils.clip_grad_norm_ does."""


# --- activations ---------------------------------------------------------

def sigmoid_derivative(z):
    r"""σ'(z) = σ(z)(1 − σ(z)).

    Since σ(z) ∈ (0, 1) and s(1 − s) ≤ 1/4 with equality only at s = ½, the
    derivative is **at most 1/4**, reached at z = 0.  Backpropagating through L
    sigmoid layers therefore multiplies the gradient by a factor ≤ (1/4)^L from
    the activations alone: the root of the vanishing-gradient problem.
    """
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """The hyperbolic tangent, tanh(z) ∈ (−1, 1)."""
    return np.tanh(np.asarray(z, dtype=float))


def tanh_derivative(z):
    """tanh'(z) = 1 − tanh²(z), at most 1 (at z = 0); it too saturates for large |z|."""
    t = np.tanh(np.asarray(z, dtype=float))
    return 1.0 - t * t


def relu(z):
    """ReLU(z) = max(0, z)."""
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def relu_derivative(z):
    """ReLU'(z) = 1 for z > 0, else 0 (the value 0 is used at the kink z = 0).

    The slope is exactly 1 where the unit is active, so ReLU does not shrink the
    gradient the way the sigmoid's ≤ 1/4 does.
    """
    return (np.asarray(z, dtype=float) > 0.0).astype(float)


def identity(z):
    """f(z) = z, used by the output layer."""
    return np.asarray(z, dtype=float)


def identity_derivative(z):
    """f'(z) = 1."""
    return np.ones_like(np.asarray(z, dtype=float))


class Activation(NamedTuple):
    """An activation and its derivative: ``f, df = ACTIVATIONS[name]``."""

    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(sigmoid, sigmoid_derivative),
    "tanh": Activation(tanh, tanh_derivative),
    "relu": Activation(relu, relu_derivative),
    "identity": Activation(identity, identity_derivative),
}
"""Name → (f, f'), where f' takes the pre-activation z."""

INITS = ("he", "xavier", "naive")
LOSS_NAMES = ("mse", "cross_entropy")


# --- initialisation ------------------------------------------------------

def _check_fan(value, name):
    return check_int(value, name, minimum=1)


def xavier_std(fan_in: int, fan_out: int) -> float:
    r"""Xavier/Glorot normal standard deviation, √(2 / (fan_in + fan_out)).

    Chosen so that the variance of the activations (forward) and of the
    gradients (backward) stays about the same from layer to layer for an
    activation with slope ≈ 1 near 0 (tanh).  Glorot & Bengio (2010).

    >>> round(xavier_std(100, 50), 6)
    0.11547
    """
    fan_in = _check_fan(fan_in, "fan_in")
    fan_out = _check_fan(fan_out, "fan_out")
    return math.sqrt(2.0 / (fan_in + fan_out))


def he_std(fan_in: int) -> float:
    r"""He (Kaiming) normal standard deviation, √(2 / fan_in).

    The factor 2 makes up for ReLU zeroing half of its inputs, so the
    activations keep their variance through a ReLU network.  He et al. (2015).

    >>> he_std(8)
    0.5
    """
    fan_in = _check_fan(fan_in, "fan_in")
    return math.sqrt(2.0 / fan_in)


def init_std(fan_in: int, fan_out: int, scheme: str = "he", scale: float = 1.0) -> float:
    """The standard deviation :func:`init_weights` draws W with, for one layer.

    ``"xavier"``: scale·√(2/(fan_in+fan_out)); ``"he"``: scale·√(2/fan_in);
    ``"naive"``: scale itself, whatever the widths.
    """
    check_choice(scheme, "scheme", INITS)
    scale = check_positive(scale, "scale")
    if scheme == "xavier":
        return scale * xavier_std(fan_in, fan_out)
    if scheme == "he":
        return scale * he_std(fan_in)
    _check_fan(fan_in, "fan_in")
    _check_fan(fan_out, "fan_out")
    return scale


def _check_layer_sizes(layer_sizes, name="layer_sizes") -> list[int]:
    if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__len__"):
        raise TypeError(
            f"{name} must be a list of layer widths such as [4, 32, 32, 1] "
            f"(inputs, hidden widths..., outputs), but got {describe(layer_sizes)}."
        )
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"{name} must list at least 2 widths (inputs and outputs, depth >= 1 layer), "
            f"but got {sizes!r}."
        )
    out = []
    for i, width in enumerate(sizes):
        if isinstance(width, bool) or not isinstance(width, numbers.Integral):
            raise TypeError(
                f"{name}[{i}] must be a positive integer width, but got {describe(width)}."
            )
        if width < 1:
            raise ValueError(f"{name}[{i}] must be a positive integer width, but got {width}.")
        out.append(int(width))
    return out


def chain_sizes(depth: int, width: int, n_features: int, n_outputs: int = 1) -> list[int]:
    """``layer_sizes`` for a chain of ``depth`` weight layers: [n_features, width, …, width, n_outputs].

    ``depth = 1`` is a linear model [n_features, n_outputs].

    >>> chain_sizes(3, 16, 4)
    [4, 16, 16, 1]
    """
    depth = check_int(depth, "depth", minimum=1)
    width = check_int(width, "width", minimum=1)
    n_features = check_int(n_features, "n_features", minimum=1)
    n_outputs = check_int(n_outputs, "n_outputs", minimum=1)
    return [n_features] + [width] * (depth - 1) + [n_outputs]


def init_weights(layer_sizes, *, scheme: str = "he", scale: float = 1.0, random_state=None):
    r"""Random weights and zero biases for every layer: a list of ``(W, b)``.

    ``W`` of layer l has shape (fan_in, fan_out) = (n_{l-1}, n_l), because the
    forward pass is ``a = f(a_prev @ W + b)``; its entries are drawn from
    N(0, std²) with

    * ``"xavier"`` (Glorot normal): std = scale·√(2 / (fan_in + fan_out))
    * ``"he"`` (Kaiming normal):    std = scale·√(2 / fan_in)
    * ``"naive"``:                  std = scale, the same for every layer.

    ``scale = 1`` gives the textbook schemes; the lesson's slider moves it to
    show what happens off the recommended value.  The same ``random_state``
    gives the same weights.

    >>> [W.shape for W, b in init_weights([3, 5, 1], random_state=0)]
    [(3, 5), (5, 1)]
    """
    sizes = _check_layer_sizes(layer_sizes)
    check_choice(scheme, "scheme", INITS)
    scale = check_positive(scale, "scale")
    rng = as_rng(random_state)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        std = init_std(fan_in, fan_out, scheme, scale)
        W = rng.standard_normal((fan_in, fan_out)) * std
        params.append((W, np.zeros(fan_out)))
    return params


# --- validation of params, X, y -----------------------------------------

def _check_params(params, name="params"):
    if isinstance(params, (str, bytes, np.ndarray)) or not hasattr(params, "__len__"):
        raise TypeError(
            f"{name} must be a list of (W, b) pairs, one per layer, as init_weights returns, "
            f"but got {describe(params)}."
        )
    if len(params) < 1:
        raise ValueError(f"{name} must hold at least one (W, b) layer, but got an empty list.")
    out = []
    prev = None
    for i, layer in enumerate(params):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise TypeError(
                f"{name}[{i}] must be a (W, b) pair, but got {describe(layer)}."
            )
        W = check_array(layer[0], f"{name}[{i}][0] (W)", ndim=2)
        b = check_array(layer[1], f"{name}[{i}][1] (b)", ndim=1)
        if b.shape[0] != W.shape[1]:
            raise ValueError(
                f"{name}[{i}]: b must have one entry per column of W (fan_out = {W.shape[1]}), "
                f"but W has shape {W.shape} and b has shape {b.shape}."
            )
        if prev is not None and W.shape[0] != prev:
            raise ValueError(
                f"{name}[{i}]: W must have {prev} rows (the fan_out of the layer before), but got "
                f"shape {W.shape}. Weights are stored as (fan_in, fan_out)."
            )
        prev = W.shape[1]
        out.append((W, b))
    return out


def _check_X(X, params):
    X = check_matrix(X, "X")
    n_in = params[0][0].shape[0]
    if X.shape[1] != n_in:
        raise ValueError(
            f"X must have {n_in} columns (the fan_in of the first layer), but got shape {X.shape}."
        )
    return X


def _check_y(y, m, n_out, loss_name):
    y = check_array(y, "y")
    if y.ndim == 1:
        if n_out != 1:
            raise ValueError(
                f"y must have shape ({m}, {n_out}) for a network with {n_out} outputs, but got "
                f"1-D shape {y.shape}."
            )
        y = y.reshape(-1, 1)
    elif y.ndim != 2 or y.shape[1] != n_out:
        raise ValueError(
            f"y must have shape ({m},) or ({m}, {n_out}) for a network with {n_out} output(s), "
            f"but got shape {y.shape}."
        )
    if y.shape[0] != m:
        raise ValueError(
            f"X and y must have the same number of rows (samples), but X has {m} and y has "
            f"{y.shape[0]} (shape {y.shape})."
        )
    if loss_name == "cross_entropy":
        if n_out != 1:
            raise ValueError(
                f"loss='cross_entropy' needs a single output (the logit), but the network has "
                f"{n_out} outputs."
            )
        if np.any((y < 0) | (y > 1)):
            raise ValueError("y must hold labels in [0, 1] for loss='cross_entropy'.")
    return y


# --- forward / backward kernels -------------------------------------------

# The kernels write into preallocated buffers (``out=``): a training loop then
# reuses the same memory every epoch instead of allocating ~4L fresh arrays per
# pass, which at these small sizes costs more than the arithmetic itself.

def _sigmoid_out(z, out):
    # σ(z) = 1 / (1 + e^(−z)); e^(−z) overflows to inf for z < −709, giving exactly 0
    # (callers run under np.errstate).  About twice as fast as np.tanh on float64.
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _tanh_out(z, out):
    # tanh(z) = 2σ(2z) − 1 = 2 / (1 + e^(−2z)) − 1, with one exp (absolute error ~1e-16)
    np.multiply(z, -2.0, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.divide(2.0, out, out=out)
    out -= 1.0
    return out


def _sigmoid_delta(g, h, out):
    # ∂J/∂z = ∂J/∂a ⊙ σ'(z), with σ'(z) = h(1 − h)
    np.subtract(1.0, h, out=out)
    out *= h
    out *= g
    return out


def _tanh_delta(g, h, out):
    # tanh'(z) = 1 − h²
    np.multiply(h, h, out=out)
    np.subtract(1.0, out, out=out)
    out *= g
    return out


def _relu_delta(g, h, out):
    # ReLU'(z) = 1 where h = max(z, 0) > 0
    return np.multiply(g, h > 0.0, out=out)


def _identity_delta(g, h, out):
    np.copyto(out, g)
    return out


# name -> (f(z, out), delta(g, h, out) = g ⊙ f'(z) written with the output h = f(z))
_KERNELS = {
    "sigmoid": (_sigmoid_out, _sigmoid_delta),
    "tanh": (_tanh_out, _tanh_delta),
    "relu": (lambda z, out: np.maximum(z, 0.0, out=out), _relu_delta),
    "identity": (lambda z, out: np.copyto(out, z) or out, _identity_delta),
}


class _Buffers:
    """Scratch arrays for one batch size m and one architecture (forward and backward)."""

    def __init__(self, m, params):
        widths = [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]
        L = len(params)
        self.m = m
        self.ones = np.ones(m)
        self.z = [np.empty((m, n)) for n in widths[1:]]          # z of each layer
        self.h = [np.empty((m, n)) for n in widths[1:-1]]        # f(z) of each hidden layer
        self.a = [np.empty((m, n)) for n in widths[1:-1]]        # a = a_prev + f(z) (residual)
        self.u_hat = [np.empty((m, n)) for n in widths[1:-1]]    # standardised pre-activation
        self.delta = [np.empty((m, n)) for n in widths[1:]]      # ∂J/∂z of each layer
        self.g = [np.empty((m, n)) for n in widths[:-1]]         # ∂J/∂a of each layer's input
        # all gradients live in one flat vector [dW¹, db¹, dW², db², …], so the
        # training loop can take its norm and the update step in one operation each
        self.flat = np.empty(_n_params(params))
        views = _split(self.flat, params)
        self.dW = [dW for dW, _ in views]
        self.db = [db for _, db in views]
        self.L = L


def _n_params(params):
    return sum(W.size + b.size for W, b in params)


def _offsets(params):
    """Start of each array in the flat layout [W¹, b¹, W², b², …]."""
    starts, pos = [], 0
    for W, b in params:
        starts += [pos, pos + W.size]
        pos += W.size + b.size
    return np.array(starts)


def _split(flat, params):
    """Views of ``flat`` shaped like ``params``: a list of (W, b)."""
    out, pos = [], 0
    for W, b in params:
        Wv = flat[pos:pos + W.size].reshape(W.shape)
        pos += W.size
        bv = flat[pos:pos + b.size]
        pos += b.size
        out.append((Wv, bv))
    return out


class Cache(NamedTuple):
    """What :func:`forward` keeps for :func:`backward`.

    ``a`` holds a⁰ = X, a¹, …, a^L (a^L = ŷ, the output); ``z`` holds z¹ … z^L;
    ``h`` holds f(z^l) of each hidden layer (the same array as a^l unless the layer
    has a skip connection); ``norm`` holds, for each layer, ``(û, 1/√(σ²+ε))`` when
    ``normalize`` was on (None for the output layer or when off); ``skip`` flags the
    layers with a residual connection.
    """

    a: list
    z: list
    h: list
    norm: list
    skip: list
    activation: str

    @property
    def output(self) -> np.ndarray:
        """ŷ, shape (m, n_L)."""
        return self.a[-1]


def _forward(params, X, activation, residual=False, normalize=False, buf=None):
    if buf is None:
        buf = _Buffers(X.shape[0], params)
    f = _KERNELS[activation][0]
    L = len(params)
    m = X.shape[0]
    a_list, z_list, h_list, norm_list, skip_list = [X], [], [], [], []
    a = X
    for l, (W, b) in enumerate(params):
        z = np.matmul(a, W, out=buf.z[l])
        last = l == L - 1
        if normalize and not last:
            # û = (u − μ_B) / √(σ²_B + ε), statistics over the m rows of the batch
            z -= (buf.ones @ z) / m
            inv = 1.0 / np.sqrt((buf.ones @ (z * z)) / m + NORM_EPS)
            z *= inv
            norm_list.append((np.copyto(buf.u_hat[l], z) or buf.u_hat[l], inv))
        else:
            norm_list.append(None)
        z += b
        z_list.append(z)
        if last:
            a = z
            h_list.append(None)
            skip_list.append(False)
        else:
            h = f(z, buf.h[l])
            skip = residual and W.shape[0] == W.shape[1]
            a = np.add(a, h, out=buf.a[l]) if skip else h
            h_list.append(h)
            skip_list.append(skip)
        a_list.append(a)
    return Cache(a_list, z_list, h_list, norm_list, skip_list, activation)


def _loss_value(out, y, loss_name):
    m = out.shape[0]
    if loss_name == "mse":
        r = out - y
        return float(np.vdot(r, r)) / (2 * m)
    return float(np.mean(_ce_terms(out, y)))


def _output_delta(out, y, loss_name, into):
    m = out.shape[0]
    if loss_name == "mse":
        np.subtract(out, y, out=into)          # ∂J/∂ŷ = (ŷ − y)/m
    else:
        np.subtract(sigmoid(out), y, out=into)  # ∂J/∂z = (σ(z) − y)/m
    into /= m
    return into


def _backward(params, cache, y, loss_name="mse", buf=None):
    m = y.shape[0]
    if buf is None:
        buf = _Buffers(m, params)
    delta_of = _KERNELS[cache.activation][1]
    L = len(params)
    grads = [None] * L
    g = None  # ∂J/∂a of the current layer's output
    for l in range(L - 1, -1, -1):
        if l == L - 1:
            delta = _output_delta(cache.a[-1], y, loss_name, buf.delta[l])  # ∂J/∂z^L
        else:
            delta = delta_of(g, cache.h[l], buf.delta[l])  # ∂J/∂z = ∂J/∂a ⊙ f'(z)
        db = np.matmul(buf.ones, delta, out=buf.db[l])
        norm = cache.norm[l]
        if norm is None:
            du = delta
        else:
            # standardisation backward: û = (u − μ)·inv, inv = (σ² + ε)^(−1/2), so
            # ∂J/∂u = (inv/m)·(m·∂J/∂û − Σ_i ∂J/∂û − û·Σ_i(∂J/∂û ⊙ û))
            u_hat, inv = norm
            du = (inv / m) * (m * delta - db - u_hat * (buf.ones @ (delta * u_hat)))
        grads[l] = (np.matmul(cache.a[l].T, du, out=buf.dW[l]), db)
        if l > 0:
            g_prev = np.matmul(du, params[l][0].T, out=buf.g[l])
            if cache.skip[l]:
                # a = a_prev + f(z): the skip passes ∂J/∂a to a_prev unchanged
                g_prev += g
            g = g_prev
    return grads


# --- public forward / backward / loss ---------------------------------------

def forward(params, X, activation: str, *, residual: bool = False, normalize: bool = False) -> Cache:
    r"""Run the network on ``X`` and keep what the backward pass needs.

    z^l = a^{l-1} W^l + b^l and a^l = f(z^l) for the hidden layers, ŷ = z^L for the
    output.  ``cache.output`` is ŷ, shape (m, n_L).  See the module docstring for
    ``residual`` and ``normalize``.

    >>> params = init_weights([2, 3, 1], random_state=0)
    >>> forward(params, np.ones((4, 2)), "relu").output.shape
    (4, 1)
    """
    params = _check_params(params)
    X = _check_X(X, params)
    check_choice(activation, "activation", tuple(ACTIVATIONS))
    residual = check_flag(residual, "residual")
    normalize = check_flag(normalize, "normalize")
    with np.errstate(over="ignore", invalid="ignore"):
        return _forward(params, X, activation, residual, normalize)


def backward(params, cache: Cache, y, loss: str = "mse") -> list:
    r"""Backpropagation: ∂J/∂W and ∂J/∂b for every layer, as a list of ``(dW, db)``.

    Starting from δ^L = ∂J/∂ŷ = (ŷ − y)/m (MSE), each layer gives

    .. math::  \nabla_{W^l}J = (a^{l-1})^\top \delta^l,\quad \nabla_{b^l}J = \textstyle\sum_i \delta^l_i,
               \quad \delta^{l-1} = (\delta^l (W^l)^\top) \odot f'(z^{l-1})

    ``cache`` must come from :func:`forward` with the same ``params``; ``y`` has
    shape (m,) for one output or (m, n_L).  The list is input layer first.
    """
    params = _check_params(params)
    if not isinstance(cache, Cache):
        raise TypeError(f"cache must be the Cache that forward() returns, but got {describe(cache)}.")
    if len(cache.z) != len(params):
        raise ValueError(
            f"cache has {len(cache.z)} layers but params has {len(params)}: pass the cache that "
            f"forward() returned for these params."
        )
    check_choice(loss, "loss", LOSS_NAMES)
    out = cache.output
    y = _check_y(y, out.shape[0], out.shape[1], loss)
    with np.errstate(over="ignore", invalid="ignore"):
        return _backward(params, cache, y, loss)


def loss(params, X, y, activation: str, *, loss: str = "mse", residual: bool = False,
         normalize: bool = False) -> float:
    """J of the network on (X, y): ``"mse"`` (1/(2m))Σ‖ŷ − y‖², or binary ``"cross_entropy"``."""
    cache = forward(params, X, activation, residual=residual, normalize=normalize)
    check_choice(loss, "loss", LOSS_NAMES)
    out = cache.output
    y = _check_y(y, out.shape[0], out.shape[1], loss)
    with np.errstate(over="ignore", invalid="ignore"):
        return _loss_value(out, y, loss)


def loss_and_grads(params, X, y, activation: str, *, loss: str = "mse", residual: bool = False,
                   normalize: bool = False):
    """``(J, grads)`` from one forward and one backward pass."""
    cache = forward(params, X, activation, residual=residual, normalize=normalize)
    check_choice(loss, "loss", LOSS_NAMES)
    out = cache.output
    y = _check_y(y, out.shape[0], out.shape[1], loss)
    with np.errstate(over="ignore", invalid="ignore"):
        return _loss_value(out, y, loss), _backward(params, cache, y, loss)


# --- gradient norms and clipping --------------------------------------------

def _flatten_grads(grads, name="grads"):
    """The arrays of ``grads`` (a list of (dW, db) pairs or of arrays), checked."""
    if isinstance(grads, (str, bytes, np.ndarray)) or not hasattr(grads, "__len__"):
        raise TypeError(
            f"{name} must be a list of (dW, db) pairs (as backward returns) or a list of arrays, "
            f"but got {describe(grads)}."
        )
    if len(grads) == 0:
        raise ValueError(f"{name} must not be empty.")
    arrays = []
    for i, item in enumerate(grads):
        parts = item if isinstance(item, (tuple, list)) else (item,)
        for j, g in enumerate(parts):
            where = f"{name}[{i}][{j}]" if isinstance(item, (tuple, list)) else f"{name}[{i}]"
            arrays.append(check_array(g, where, allow_empty=True, finite=False))
    return arrays


def layer_grad_norms(grads) -> np.ndarray:
    r"""‖∂J/∂W^l‖_F for each layer, input layer first: shape (L,).

    Only the weights are measured (not the biases), as in the lesson's bar chart.
    ``grads`` is the list of ``(dW, db)`` that :func:`backward` returns.
    """
    if isinstance(grads, (str, bytes, np.ndarray)) or not hasattr(grads, "__len__") or not grads:
        raise TypeError(f"grads must be a non-empty list of (dW, db) pairs, but got {describe(grads)}.")
    out = np.empty(len(grads))
    for i, item in enumerate(grads):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"grads[{i}] must be a (dW, db) pair, but got {describe(item)}.")
        dW = check_array(item[0], f"grads[{i}][0] (dW)", finite=False)
        out[i] = _safe_norm(dW)
    return out


def _safe_norm(arr) -> float:
    """The L2 norm of all entries, without overflow for entries near 1e200."""
    if arr.size == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        big = float(np.max(np.abs(arr)))
        if not np.isfinite(big):
            return big  # inf, or nan
        if big == 0.0:
            return 0.0
        scaled = arr / big
        return big * math.sqrt(float(np.vdot(scaled, scaled)))


def global_norm(grads) -> float:
    r"""The L2 norm of all the gradients together, √(Σ_l ‖dW^l‖² + ‖db^l‖²)."""
    arrays = _flatten_grads(grads)
    norms = np.array([_safe_norm(a) for a in arrays])
    return _safe_norm(norms)


def _map_grads(grads, fn):
    out = []
    for item in grads:
        if isinstance(item, (tuple, list)):
            out.append(tuple(fn(np.asarray(g, dtype=float)) for g in item))
        else:
            out.append(fn(np.asarray(item, dtype=float)))
    return out


def clip_by_norm(grads, max_norm: float):
    r"""Scale all gradients together so that their global L2 norm is at most ``max_norm``.

    With N = √(Σ ‖g‖²) over every array (all layers, weights and biases),

    .. math::  g \leftarrow g \cdot \frac{\text{max\_norm}}{N + 10^{-6}} \quad\text{if } N > \text{max\_norm}

    and unchanged otherwise, the rule of ``torch.nn.utils.clip_grad_norm_``.
    Every array is multiplied by the same factor, so the direction of the step
    is kept and only its length is capped.  (Clipping each element to
    [−c, c] instead would change the direction.)

    Returns ``(clipped, total_norm)``: new arrays in the same structure as
    ``grads`` (which is not modified), and N measured before clipping.

    >>> clipped, total = clip_by_norm([(np.array([[3.0]]), np.array([4.0]))], 1.0)
    >>> round(total, 6), [round(float(g.item()), 4) for g in clipped[0]]
    (5.0, [0.6, 0.8])
    """
    max_norm = check_positive(max_norm, "max_norm")
    arrays = _flatten_grads(grads)
    for i, a in enumerate(arrays):
        if not np.all(np.isfinite(a)):
            raise ValueError(
                "grads contain inf or NaN; clipping cannot repair them (N is not finite). "
                "Lower lr or start from smaller weights."
            )
    total = _safe_norm(np.array([_safe_norm(a) for a in arrays]))
    if total > max_norm:
        factor = max_norm / (total + CLIP_EPS)
        return _map_grads(grads, lambda g: g * factor), total
    return _map_grads(grads, lambda g: g.copy()), total


# --- training -------------------------------------------------------------

@dataclass(frozen=True)
class MLPHistory:
    """What :func:`train_mlp` did, epoch by epoch.

    Attributes
    ----------
    losses : ndarray, shape (k + 1,)
        J on the whole data set before training and after each of the k epochs.
    layer_grad_norms : ndarray, shape (k + 1, L)
        ‖∂J/∂W^l‖_F of the full-batch gradient at those same points, input layer
        first, measured *before* any clipping.  Row 0 is the picture at initialisation.
    grad_norms : ndarray, shape (k + 1,)
        The global norm of the full-batch gradient (all layers, weights and biases).
    params : list of (W, b)
        The weights after the last epoch.
    stop_reason : str
        ``"num_epochs"`` or ``"diverged"``.
    message : str
        One sentence for the learner.
    n_clipped : int
        How many updates had their gradient scaled down by clipping.
    """

    losses: np.ndarray
    layer_grad_norms: np.ndarray
    grad_norms: np.ndarray
    params: list
    stop_reason: str
    message: str
    layer_sizes: tuple = ()
    n_clipped: int = 0

    @property
    def diverged(self) -> bool:
        """True when the loss or gradient became inf/NaN or blew up."""
        return self.stop_reason == "diverged"

    @property
    def n_epochs(self) -> int:
        """How many epochs ran."""
        return len(self.losses) - 1

    @property
    def loss(self) -> float:
        """The last loss."""
        return float(self.losses[-1])

    def __repr__(self) -> str:
        return (f"MLPHistory(n_epochs={self.n_epochs}, stop_reason={self.stop_reason!r}, "
                f"loss={self.loss:.6g}, layer_sizes={list(self.layer_sizes)})")


def train_mlp(X, y, layer_sizes, *, lr: float, num_epochs: int = 100, activation: str = "relu",
              init: str = "he", scale: float = 1.0, batch_size: int | None = None,
              clip: float | None = None, loss: str = "mse", residual: bool = False,
              normalize: bool = False, params=None, divergence_factor: float = DIVERGENCE_FACTOR,
              random_state=None) -> MLPHistory:
    r"""Train the MLP by (mini-batch) gradient descent and record per-layer gradient norms.

    Each update is W ← W − α·∂J/∂W (and the same for b) on one batch, after
    optional clipping of the batch gradient to global norm ``clip``
    (:func:`clip_by_norm`).  ``batch_size=None`` is full-batch gradient descent,
    one update per epoch; otherwise the rows are shuffled every epoch and split
    into batches of ``batch_size`` (the last, partial batch is kept).

    Before training and after every epoch the loss and the full-batch gradient
    are measured on all of (X, y) and stored in the :class:`MLPHistory`.
    The loop stops early, without any numpy warning, when the loss or gradient
    becomes inf/NaN or the loss exceeds ``divergence_factor``·max(J₀, 1).

    ``random_state`` draws the initial weights (``init``, ``scale``; see
    :func:`init_weights`) and the shuffling; pass ``params`` to start from given
    weights instead (they are copied).

    Cost: one forward and one backward pass per update plus one per epoch for the
    record (full batch: the record *is* the update's pass).  The time per epoch is
    measured by ``benchmarks/bench_deepnet.py`` (figures in ``benchmarks/README.md``);
    a slider that retrains should stay at small sizes and few epochs, or cache runs
    keyed by its settings.
    """
    X = check_matrix(X, "X")
    m = X.shape[0]
    lr = check_positive(lr, "lr")
    num_epochs = check_int(num_epochs, "num_epochs", minimum=0)
    check_choice(activation, "activation", tuple(ACTIVATIONS))
    check_choice(init, "init", INITS)
    scale = check_positive(scale, "scale")
    check_choice(loss, "loss", LOSS_NAMES)
    residual = check_flag(residual, "residual")
    normalize = check_flag(normalize, "normalize")
    divergence_factor = check_positive(divergence_factor, "divergence_factor")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=m,
                               max_name="the number of samples m")
    if clip is not None:
        clip = check_positive(clip, "clip")
    rng = as_rng(random_state)
    sizes = _check_layer_sizes(layer_sizes)
    if sizes[0] != X.shape[1]:
        raise ValueError(
            f"layer_sizes[0] must equal the number of columns of X ({X.shape[1]}), but got "
            f"layer_sizes={sizes}."
        )
    y = _check_y(y, m, sizes[-1], loss)
    if params is None:
        params = init_weights(sizes, scheme=init, scale=scale, random_state=rng)
    else:
        params = _check_params(params)
        given = [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]
        if given != sizes:
            raise ValueError(f"params have layer sizes {given}, but layer_sizes is {sizes}.")
    return _train(X, y, params, lr, num_epochs, activation, batch_size, clip, loss,
                  residual, normalize, divergence_factor, rng, tuple(sizes))


def _train(X, y, params, lr, num_epochs, activation, batch_size, clip, loss_name,
           residual, normalize, divergence_factor, rng, sizes):
    m = X.shape[0]
    L = len(params)
    # θ: every weight and bias in one flat vector; params are views into it
    theta = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in params])
    params = _split(theta, params)
    starts = _offsets(params)
    losses = np.empty(num_epochs + 1)
    norms = np.empty((num_epochs + 1, L))
    gnorms = np.empty(num_epochs + 1)
    n_clipped = 0
    reason = "num_epochs"
    last = num_epochs
    limit = None
    full = _Buffers(m, params)
    buffers = {m: full}

    def step(grad):
        # θ ← θ − α·g, with g scaled to norm ``clip`` first when it is longer
        nonlocal n_clipped
        factor = lr
        if clip is not None:
            total = math.sqrt(float(grad @ grad))
            if total > clip:
                factor = lr * clip / (total + CLIP_EPS)
                n_clipped += 1
        grad *= factor  # a scratch buffer, overwritten by the next pass
        np.subtract(theta, grad, out=theta)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(num_epochs + 1):
            cache = _forward(params, X, activation, residual, normalize, full)
            value = _loss_value(cache.a[-1], y, loss_name)
            _backward(params, cache, y, loss_name, full)
            sums = np.add.reduceat(full.flat * full.flat, starts)  # ‖dW¹‖², ‖db¹‖², …
            total_sq = float(sums.sum())
            losses[epoch] = value
            gnorms[epoch] = math.sqrt(total_sq) if total_sq >= 0 else math.nan
            norms[epoch] = np.sqrt(sums[0::2])
            if limit is None:
                if not (math.isfinite(value) and math.isfinite(total_sq)):
                    raise ValueError(
                        f"the initial weights give a non-finite loss or gradient (J = {value}); "
                        "lower scale or choose init='he' or 'xavier'."
                    )
                limit = divergence_limit(value, divergence_factor)
            elif not (math.isfinite(value) and math.isfinite(total_sq)) or value > limit:
                reason, last = "diverged", epoch
                break
            if epoch == num_epochs:
                break
            if batch_size is None:
                step(full.flat)
                continue
            order = rng.permutation(m)
            for start in range(0, m, batch_size):
                idx = order[start:start + batch_size]
                size = len(idx)
                if size not in buffers:
                    buffers[size] = _Buffers(size, params)
                cb = _forward(params, X[idx], activation, residual, normalize, buffers[size])
                _backward(params, cb, y[idx], loss_name, buffers[size])
                step(buffers[size].flat)

    losses, norms, gnorms = losses[:last + 1], norms[:last + 1], gnorms[:last + 1]
    params = [(W.copy(), b.copy()) for W, b in params]  # independent of the flat θ
    return MLPHistory(losses, norms, gnorms, params, reason,
                      _train_message(reason, losses, lr, clip, n_clipped), sizes, n_clipped)


def _train_message(reason, losses, lr, clip, n_clipped):
    k = len(losses) - 1
    if reason == "diverged":
        what = ("became inf or NaN" if not np.isfinite(losses[-1])
                else f"grew from {losses[0]:.4g} to {losses[-1]:.4g}")
        fix = "switch on clipping (clip=1.0), " if clip is None else ""
        return (f"Diverged after {k} epochs: the loss {what}. The gradients exploded for lr={lr:g}; "
                f"{fix}lower lr, or use a smaller weight scale or He/Xavier initialisation.")
    clipped = "" if clip is None else f" Clipping to norm {clip:g} scaled {n_clipped} updates."
    return f"Trained {k} epochs; the loss went from {losses[0]:.4g} to {losses[-1]:.4g}.{clipped}"


# --- lesson 5 demo --------------------------------------------------------

def make_chain_data(n_samples: int = 256, n_features: int = 8, *, noise: float = 0.05,
                    random_state=0):
    r"""A seeded regression problem for the deep-chain demo: ``(X, y)``.

    X ~ N(0, 1) of shape (m, n); y = sin(X v) + noise with v ~ N(0, 1/n), so the
    target is smooth, of unit scale, and a small MLP can fit it.
    """
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    n_features = check_int(n_features, "n_features", minimum=1)
    noise = check_nonnegative(noise, "noise")
    rng = as_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    v = rng.standard_normal(n_features) / math.sqrt(n_features)
    y = np.sin(2.0 * (X @ v)) + noise * rng.standard_normal(n_samples)
    return X, y


class ChainDemo(NamedTuple):
    """Per-layer gradient norms of a freshly initialised chain (lesson 5's bar chart)."""

    layer_grad_norms: np.ndarray   # (L,) ‖∂J/∂W^l‖_F, input layer first
    activation_stds: np.ndarray    # (L - 1,) standard deviation of each hidden layer's output
    loss: float                    # J at initialisation
    layer_sizes: list


def make_deep_chain_demo(depth: int, *, width: int = 32, activation: str = "sigmoid",
                         init: str = "naive", scale: float = 1.0, n_samples: int = 256,
                         n_features: int = 8, residual: bool = False, normalize: bool = False,
                         random_state=0) -> ChainDemo:
    """Initialise a chain of ``depth`` layers and backpropagate once on a fixed seeded batch.

    The data come from :func:`make_chain_data` with ``random_state``, drawn before the
    weights, so changing depth, activation, init or scale changes only the network.
    Cost: one forward and one backward pass (well under a millisecond at depth 10, width 32).

    >>> demo = make_deep_chain_demo(6, activation="sigmoid", init="naive", scale=0.5)
    >>> bool(demo.layer_grad_norms[0] < demo.layer_grad_norms[-2])
    True
    """
    depth = check_int(depth, "depth", minimum=1)
    width = check_int(width, "width", minimum=1)
    check_choice(activation, "activation", tuple(ACTIVATIONS))
    check_choice(init, "init", INITS)
    scale = check_positive(scale, "scale")
    residual = check_flag(residual, "residual")
    normalize = check_flag(normalize, "normalize")
    rng = as_rng(random_state)
    X, y = make_chain_data(n_samples, n_features, random_state=rng)
    sizes = chain_sizes(depth, width, n_features)
    params = init_weights(sizes, scheme=init, scale=scale, random_state=rng)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        cache = _forward(params, X, activation, residual, normalize)
        yy = y.reshape(-1, 1)
        value = _loss_value(cache.a[-1], yy, "mse")
        grads = _backward(params, cache, yy, "mse")
        norms = np.array([math.sqrt(float(np.vdot(dW, dW))) for dW, _ in grads])
        stds = np.array([float(a.std()) for a in cache.a[1:-1]])
    return ChainDemo(norms, stds, value, sizes)
