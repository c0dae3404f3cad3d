r"""Slider panels: controls that move a picture, redrawn fast enough to feel instant.

Every panel is a :class:`Panel`: a dict of ipywidgets ``controls``, one
matplotlib ``figure`` drawn with the Agg renderer, and an ``ipywidgets.Image``
that shows it.  Display a panel by leaving it as the last expression of a
cell::

    from gdcourse.data import five_points
    from gdcourse.widgets import fit_panel
    fit_panel(five_points())

How a slider step is redrawn (no pyplot, no ipympl, no re-plotting):

1. the panel computes the new numbers and updates its *moving* artists in
   place (``set_data``, ``set_segments``, ``set_text``);
2. the *static* layer — contours, axes, data — was drawn once and saved as a
   pixel buffer; it is pasted back and only the moving artists are drawn on
   top (blitting).  When one axes must change its limits, only that axes is
   drawn again;
3. the RGBA pixels are encoded as a PNG (zlib level 1) and sent as the image.

Where no live widget runs (nbval, an HTML export) the panel's display
bundle still holds a PNG of its current state.  With the environment variable
``GDCOURSE_HEADLESS=1`` a panel displays only that PNG.

Panels of lessons 1–3
---------------------
================================  =============================================================
``fit_panel(data)``               θ0, θ1 → fit line and residuals; the point on the contour of J
``cross_entropy_panel()``         weight, bias → sigmoid over labelled points; CE vs MSE as J(w)
``tangent_panel(data)``           θ1 → tangent to the slice J(θ1); −∇J arrow on the contour
``finite_difference_panel()``     log10(h) → error of forward and central differences
``descent_panel(data)``           α, iterations, start → GD path on the contour and J vs k
``learning_rate_panel()``         α → iterates on ½λx² and |x_t|: slow, oscillating, diverging
``local_minima_panel()``          start → where plain GD ends on a surface with two minima
``feature_scaling_panel(data)``   scaling (raw → z-scored x), α share → contours turning round,
                                  κ, and the steps GD needs
================================  =============================================================

Panels of lessons 4–6
---------------------
================================  =============================================================
``batch_size_panel()``            batch size, α, epochs → mini-batch path on the contour; J per
                                  update (faint) and per epoch (bold); lesson 4's data
``sgd_escape_panel()``            gradient noise σ, α → plain GD stays in the shallow minimum,
                                  noisy updates hop the saddle
``batch_lr_panel()``              batch size, linear scaling on/off → gradient noise ∝ 1/b and the
                                  excess cost α = α₁·b gives, up to the stability limit
``gradient_norms_panel()``        depth, scale, activation, init, clipping → per-layer gradient
                                  norms at initialisation; the training curve
``optimizer_panel()``             optimiser, α, β1, β2, surface → path and loss per step
``bias_correction_panel()``       β1, β2 → Adam's first steps with and without bias correction
``compare_optimizers_panel()``    α scale, surface → SGD, momentum, RMSProp, Adam together
``warmup_panel()``                warm-up length, peak α, cosine on/off → the schedule, Adam's step
                                  lengths and its batch loss on lesson 6's noisy problem
``training_panel()``              optimiser, α, batch size, hidden width, weight decay, Train/Stop
                                  → live loss and accuracy curves and a confusion matrix (lesson 7)
================================  =============================================================

A control that cannot change the picture in the current state is disabled,
and its tooltip says why (``panel.inactive`` maps its name to that reason);
it is enabled again as soon as it can matter: the β sliders of lesson 6's
optimiser panel that the chosen optimiser ignores, lesson 5's clipping box
when no gradient of the run reaches the clip norm.  Choosing an optimiser in
lesson 6's panel sets α to that optimiser's default for the surface
(``OptimizerPanel.default_lr``).

Panels that retrain (lessons 4 and 5) or run optimisers (lesson 6) cache
their runs with ``functools.lru_cache``, keyed by the control values, so
moving a slider back is a lookup.  Timings are in ``benchmarks/README.md``.

Where things are
----------------
================================  =============================================================
``_panel.py``                     :class:`Panel`: controls, the ``_build``/``_update`` hooks,
                                  readouts, ``set``/``redraw``, the static PNG
``_blit.py``                      the one render path: a bounded cache of static layers, the
                                  redraw of one axes, the fast PNG encoder
``_parts.py``                     slider and dropdown factories, axis-window helpers, ``_as_xy``
``lesson01.py`` … ``lesson07.py``  each lesson's panels; their numbers come from the module the
                                  lesson teaches (``descent``, ``batching``, ``deepnet``, ``optim``,
                                  ``classify``)
================================  =============================================================
"""

from __future__ import annotations

from .._stopping import DIVERGENCE_FACTOR
from ..plotting import GD_COLOR, OPTIMIZER_COLORS
from ._panel import Panel, headless
from .lesson01 import CrossEntropyPanel, FitPanel, cross_entropy_panel, fit_panel
from .lesson02 import FiniteDifferencePanel, TangentPanel, finite_difference_panel, tangent_panel
from .lesson03 import (DescentPanel, FeatureScalingPanel, LearningRatePanel, LocalMinimaPanel, descent_panel,
                       feature_scaling_panel, learning_rate_panel, local_minima_panel)
from .lesson04 import (BatchLRPanel, BatchSizePanel, SGDEscapePanel, batch_lr_panel, batch_size_panel,
                       sgd_escape_panel)
from .lesson05 import GradientNormsPanel, gradient_norms_panel
from .lesson06 import (BiasCorrectionPanel, CompareOptimizersPanel, OptimizerPanel, WarmupPanel,
                       bias_correction_panel, compare_optimizers_panel, optimizer_panel, warmup_panel)
from .lesson07 import TrainingPanel, training_panel

__all__ = [
    "Panel",
    "headless",
    "fit_panel",
    "cross_entropy_panel",
    "tangent_panel",
    "finite_difference_panel",
    "descent_panel",
    "learning_rate_panel",
    "local_minima_panel",
    "feature_scaling_panel",
    "batch_size_panel",
    "sgd_escape_panel",
    "batch_lr_panel",
    "gradient_norms_panel",
    "optimizer_panel",
    "bias_correction_panel",
    "compare_optimizers_panel",
    "warmup_panel",
    "training_panel",
]

# also importable from here, as before the split (not in __all__, as before)
_REEXPORTED = (DIVERGENCE_FACTOR, GD_COLOR, OPTIMIZER_COLORS, FitPanel, CrossEntropyPanel, TangentPanel,
               FiniteDifferencePanel, DescentPanel, LearningRatePanel, LocalMinimaPanel, FeatureScalingPanel,
               BatchSizePanel, SGDEscapePanel, GradientNormsPanel, OptimizerPanel, BiasCorrectionPanel, CompareOptimizersPanel,
               TrainingPanel, BatchLRPanel, WarmupPanel)
