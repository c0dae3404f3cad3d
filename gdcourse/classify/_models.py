"""The classifiers, :class:`SoftmaxRegression` and :class:`MLP` (on :mod:`gdcourse.deepnet`):
all weights in one flat vector θ, so any step function ``step(theta, grad, state)`` trains them."""

from __future__ import annotations

import numpy as np

from .. import deepnet
from .._validation import check_array, check_choice, check_int, check_matrix, check_nonnegative
from ._data import _check_labels
from ._softmax import _ce_and_delta


class _Model:
    """Shared by the classifiers: θ is one flat vector; subclasses give scores and gradients."""

    n_features: int
    n_classes: int
    weight_decay: float

    def _check_theta(self, theta):
        theta = check_array(theta, "theta", ndim=1)
        if theta.size != self.n_params:
            raise ValueError(f"theta must have {self.n_params} entries for {self!r}, but got {theta.size}.")
        return theta

    def _check_data(self, X, y=None):
        X = check_matrix(X, "X", n_cols=self.n_features)
        if y is None:
            return X
        y = _check_labels(y, "y", self.n_classes)
        if y.size != X.shape[0]:
            raise ValueError(f"X and y must have the same number of samples, but X has {X.shape[0]} rows "
                             f"and y has {y.size} labels.")
        return X, y

    def loss(self, theta, X, y) -> float:
        """The mean cross-entropy plus the weight-decay term (λ/2)‖weights‖² (biases are not decayed)."""
        return self.loss_and_grad(theta, X, y)[0]

    def loss_and_grad(self, theta, X, y):
        """``(J, ∇J)`` at θ on (X, y), checked."""
        theta = self._check_theta(theta)
        X, y = self._check_data(X, y)
        return self._loss_and_grad(theta, X, y)

    def scores(self, theta, X) -> np.ndarray:
        """The (m, k) logits Z."""
        return self._scores(self._check_theta(theta), self._check_data(X))

    def predict(self, theta, X) -> np.ndarray:
        """The predicted class of each row: argmax over the k scores."""
        return self.scores(theta, X).argmax(axis=1)


class SoftmaxRegression(_Model):
    r"""Softmax (multinomial logistic) regression, Z = X_b W with W of shape (n + 1, k).

    θ is W flattened (row 0 of W is the bias).  The gradient is
    (1/m)·X_bᵀ(softmax(X_b W) − Y) + λ·W (with the bias row of the λ-term set to 0).

    >>> model = SoftmaxRegression(64, 10)
    >>> theta = model.init()
    >>> round(model.loss(theta, np.ones((3, 64)), [0, 1, 2]), 6)   # W = 0: every class 1/10
    2.302585
    """

    def __init__(self, n_features: int, n_classes: int = 10, *, weight_decay: float = 0.0):
        self.n_features = check_int(n_features, "n_features", minimum=1)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")
        self.n_params = (self.n_features + 1) * self.n_classes

    def __repr__(self):
        wd = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"SoftmaxRegression({self.n_features}, {self.n_classes}{wd})"

    def init(self, random_state=None) -> np.ndarray:
        """W = 0: every class gets probability 1/k, so the first loss is exactly log k."""
        return np.zeros(self.n_params)

    def weights(self, theta) -> np.ndarray:
        """θ as the (n + 1, k) matrix W (a view)."""
        return self._check_theta(theta).reshape(self.n_features + 1, self.n_classes)

    def _scores(self, theta, X):
        W = theta.reshape(self.n_features + 1, self.n_classes)
        return X @ W[1:] + W[0]

    def _penalty(self, theta):
        if not self.weight_decay:
            return 0.0
        W = theta[self.n_classes:]          # every row of W but the bias row
        return 0.5 * self.weight_decay * float(W @ W)

    def _loss_and_grad(self, theta, X, y):
        W = theta.reshape(self.n_features + 1, self.n_classes)
        value, D = _ce_and_delta(X @ W[1:] + W[0], y)
        grad = np.empty_like(W)
        grad[0] = D.sum(axis=0)
        np.matmul(X.T, D, out=grad[1:])
        if self.weight_decay:
            lam = self.weight_decay
            grad[1:] += lam * W[1:]
            value += 0.5 * lam * float(np.vdot(W[1:], W[1:]))
        return value, grad.reshape(-1)


class MLP(_Model):
    r"""A ReLU network from :mod:`gdcourse.deepnet` with a softmax cross-entropy on its k outputs.

    ``hidden`` lists the hidden widths, e.g. ``(64,)``.  The forward and backward
    passes are :func:`gdcourse.deepnet.forward` and :func:`gdcourse.deepnet.backward`;
    the backward pass is started from ∂J/∂Z = (P − Y)/m (deepnet's MSE output
    delta is (Z − T)/m, so the target T = Z − (P − Y) gives exactly that delta).
    θ holds [W¹, b¹, W², b², …] flattened; He initialisation by default (lesson 5).
    """

    def __init__(self, n_features: int, hidden=(64,), n_classes: int = 10, *, weight_decay: float = 0.0,
                 init: str = "he", activation: str = "relu"):
        self.n_features = check_int(n_features, "n_features", minimum=1)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        if isinstance(hidden, (int, np.integer)):
            hidden = (int(hidden),)
        self.hidden = tuple(check_int(h, f"hidden[{i}]", minimum=1) for i, h in enumerate(hidden))
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")
        self.init_scheme = check_choice(init, "init", deepnet.INITS)
        self.activation = check_choice(activation, "activation", ("relu", "tanh", "sigmoid"))
        self.layer_sizes = [self.n_features, *self.hidden, self.n_classes]
        self.shapes = [((a, b), (b,)) for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:])]
        self.n_params = sum(a * b + b for (a, b), _ in self.shapes)

    def __repr__(self):
        wd = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"MLP({self.n_features}, hidden={self.hidden}, n_classes={self.n_classes}{wd})"

    def init(self, random_state=None) -> np.ndarray:
        """Weights from :func:`gdcourse.deepnet.init_weights` (He by default), biases 0, flattened."""
        params = deepnet.init_weights(self.layer_sizes, scheme=self.init_scheme, random_state=random_state)
        return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in params])

    def params(self, theta):
        """θ as the list of (W, b) pairs deepnet uses (views into θ)."""
        return self._params(self._check_theta(theta))

    def _params(self, theta):
        out, pos = [], 0
        for (a, b), _ in self.shapes:
            W = theta[pos:pos + a * b].reshape(a, b)
            pos += a * b
            out.append((W, theta[pos:pos + b]))
            pos += b
        return out

    def _scores(self, theta, X):
        return deepnet.forward(self._params(theta), X, self.activation).output

    def _penalty(self, theta):
        if not self.weight_decay:
            return 0.0
        return 0.5 * self.weight_decay * sum(float(np.vdot(W, W)) for W, _ in self._params(theta))

    def grads(self, theta, X, y):
        """The gradient as deepnet's list of (dW, db), for :func:`gdcourse.deepnet.layer_grad_norms`."""
        theta = self._check_theta(theta)
        X, y = self._check_data(X, y)
        return self._params(self._loss_and_grad(theta, X, y)[1])

    def _loss_and_grad(self, theta, X, y):
        params = self._params(theta)
        cache = deepnet.forward(params, X, self.activation)
        Z = cache.output
        value, D = _ce_and_delta(Z, y)
        # deepnet's MSE output delta is (Z − T)/m; the target T = Z − m·D makes it D = (P − Y)/m
        grads = deepnet.backward(params, cache, Z - y.size * D, "mse")
        flat = np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])
        if self.weight_decay:
            lam = self.weight_decay
            pos = 0
            for (a, b), _ in self.shapes:
                W = theta[pos:pos + a * b]
                flat[pos:pos + a * b] += lam * W
                value += 0.5 * lam * float(W @ W)
                pos += a * b + b
        return value, flat
