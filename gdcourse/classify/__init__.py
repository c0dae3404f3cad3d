r"""Lesson 7: train a digit classifier end to end (softmax regression and a small MLP).

Symbols follow the lessons: ``X`` is the (m, n) feature matrix (one row per
image), ``y`` the (m,) integer labels 0 … k − 1, ``Y`` their (m, k) one-hot
matrix, ``Z`` the (m, k) scores (logits) and ``P = softmax(Z)`` the predicted
probabilities, row by row.

Softmax and its cross-entropy
-----------------------------
.. math::  P_{ic} = \frac{e^{Z_{ic}}}{\sum_j e^{Z_{ij}}}, \qquad
           J = -\frac{1}{m}\sum_i \log P_{i y_i}
             = \frac{1}{m}\sum_i \Big(\operatorname{logsumexp}(Z_i) - Z_{i y_i}\Big)

``logsumexp`` subtracts the row maximum first, log Σ e^{z_j} = M + log Σ e^{z_j − M},
so no exponential overflows, whatever the size of the logits.  The gradient
with respect to the logits is (P − Y)/m; for a linear model Z = X_b W (X_b is X
with a column of ones in front, W holds the bias in its first row) it is

.. math::  \nabla_W J = \frac{1}{m} X_b^\top (P - Y).

Models
------
:class:`SoftmaxRegression` and :class:`MLP` (one or more hidden layers, built
on :mod:`gdcourse.deepnet`) keep all their weights in one flat vector θ, so any
optimiser step ``step(theta, grad, state) -> (theta, state)`` can train them:
the package's optimisers through :func:`optimizer_step`, or the learner's own
lesson-6 functions through :func:`adam_step_fn`, :func:`momentum_step_fn` and
:func:`rmsprop_step_fn`.  ``state`` is ``None`` before the first step.

Training
--------
:func:`fit` makes one step per shuffled mini-batch (:func:`gdcourse.batching.minibatch_indices`),
records the loss and accuracy on the training and validation sets after every
epoch and stops early when the validation loss has not improved for
``patience`` epochs, returning the weights of the best epoch.
:class:`Trainer` is the same loop one epoch at a time (the training panel uses it).

Where things live
-----------------
Everything is imported from ``gdcourse.classify``; the private modules hold one idea each:

=================  ==========================================================================
``_data``          the shipped digits (``gdcourse/_data/digits.npz``), :func:`split_indices`,
                   :class:`Standardizer`, :func:`add_bias`, :func:`one_hot`, the label check
``_softmax``       :func:`logsumexp`, :func:`softmax`, :func:`log_softmax`, the cross-entropy
                   and its gradient
``_models``        :class:`SoftmaxRegression` and :class:`MLP` (on their shared ``_Model``)
``_steps``         :func:`optimizer_step`, the ``*_step_fn`` adapters, :func:`learner_steps`
``_training``      :func:`fit`, :class:`Trainer`, :class:`FitResult`
``_evaluate``      :func:`predict`, :func:`accuracy`, :func:`confusion_matrix`,
                   :func:`lr_range_test`, :func:`sklearn_reference`
=================  ==========================================================================
"""

from ._data import Digits, Split, Standardizer, add_bias, load_digits, one_hot, split_indices
from ._evaluate import LRRangeResult, accuracy, confusion_matrix, lr_range_test, predict, sklearn_reference
from ._models import MLP, SoftmaxRegression
from ._softmax import log_softmax, logsumexp, softmax, softmax_cross_entropy, softmax_cross_entropy_grad
from ._steps import (LearnerSteps, adam_step_fn, learner_steps, momentum_step_fn, optimizer_step,
                     rmsprop_step_fn)
from ._training import FitResult, Trainer, fit

__all__ = [
    "Digits", "load_digits", "Split", "split_indices", "Standardizer",
    "add_bias", "one_hot", "logsumexp", "softmax", "log_softmax",
    "softmax_cross_entropy", "softmax_cross_entropy_grad",
    "SoftmaxRegression", "MLP",
    "optimizer_step", "adam_step_fn", "momentum_step_fn", "rmsprop_step_fn",
    "LearnerSteps", "learner_steps",
    "Trainer", "FitResult", "fit",
    "predict", "accuracy", "confusion_matrix",
    "LRRangeResult", "lr_range_test",
    "sklearn_reference",
]
