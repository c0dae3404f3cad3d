"""The concept map: every concept the syllabus assigns to a lesson is taught in a named section.

``CONCEPTS`` maps a concept to the place that teaches it: the lesson notebook,
the heading of the section (without the leading ``#``), and keywords that the
section's markdown must contain (ignoring case and line breaks).  A section runs from its
heading to the next heading of the same or a higher level, across cells.

A concept the syllabus assigns to several lessons has one entry per lesson,
its key ending in ``(lesson N)``.  Lessons 4–7 add their rows to the same dict.

``docs/concepts.md`` renders the dict as a table (section "## Concept map");
``python tests/test_concepts.py`` prints that table, and a test checks the two
agree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "concepts.md"


class Section(NamedTuple):
    notebook: str        # path from the repository root
    heading: str         # heading text, without the leading #'s
    keywords: tuple      # words the section's markdown must contain


L1 = "lessons/01_cost_function.ipynb"
L2 = "lessons/02_gradient.ipynb"
L3 = "lessons/03_update_rule.ipynb"
L4 = "lessons/04_batch_sgd_minibatch.ipynb"
L5 = "lessons/05_vanishing_exploding.ipynb"
L6 = "lessons/06_adam.ipynb"
L7 = "lessons/07_capstone.ipynb"

CONCEPTS: dict[str, Section] = {
    # ---- lesson 1: the cost function
    "Iterative minimisation of a loss by adjusting weights and biases (lesson 1)": Section(
        L1, "1. Training is a walk downhill", ("iterative minimisation", "weights and biases", "cost")),
    "Blind trekker / hiker in fog analogy (lesson 1)": Section(
        L1, "1. Training is a walk downhill", ("trekker", "blindfold", "terrain", "step downhill")),
    "Hypothesis h_θ(x) = θ0 + θ1·x, bias column, Xθ": Section(
        L1, "2. The running example: five points and a line",
        ("hypothesis", r"h_\theta(x) = \theta_0 + \theta_1 x", "column of ones", "bias")),
    "Residuals r = Xθ − y": Section(
        L1, "3. Residuals: how far off is each point?", ("residual", r"X\theta - y")),
    "MSE J(θ) = 1/(2m)·Σ(h_θ(x_i) − y_i)², why ½ and 1/m": Section(
        L1, "4. Mean squared error: one number for a whole line",
        ("mean squared error", r"\frac{1}{2m}", r"\tfrac12", r"\tfrac1m", "average", "derivative")),
    "Cost surface as the trekker's terrain (3-D surface and contour)": Section(
        L1, "6. The cost surface: the trekker's terrain", ("trekker", "3-D", "contour", "bowl")),
    "Least squares θ* = [2.2, 0.6], J(θ*) = 0.24": Section(
        L1, "7. The bottom of the bowl", ("normal equations", "least-squares", "2.2", "0.6", "0.24")),
    "MSE and cross-entropy for classification": Section(
        L1, "8. Classification: cross-entropy", ("cross-entropy", "sigmoid", "squared error", "MSE")),
    "Where gradient descent is used": Section(
        L1, "9. Where gradient descent is used",
        ("medical imaging", "perception", "forecasting", "recognition", "sentiment")),
    # ---- lesson 2: the gradient
    "Blind trekker / hiker in fog analogy (lesson 2)": Section(
        L2, "1. Feeling the slope", ("trekker", "slope")),
    "Gradient = vector of partial derivatives": Section(
        L2, "1. Feeling the slope", ("gradient", "vector of **partial derivatives**")),
    "Partial derivatives by hand (chain rule on the MSE)": Section(
        L2, "3. Partial derivatives by hand",
        ("chain rule", "partial derivative", r"\partial J/\partial\theta_0", "-13.2")),
    "Vector form ∇J(θ) = (1/m)·Xᵀ(Xθ − y)": Section(
        L2, "4. The vector form", (r"\nabla J(\theta) = \frac{1}{m} X^\top (X\theta - y)", "any number of features")),
    "Gradient points to the steepest increase (tangent / arrow pictures)": Section(
        L2, "5. The gradient points uphill", ("steepest", "increase", "contour", "tangent")),
    "Central finite differences and the gradient check (1e-7 / 1e-4 / 1e-2)": Section(
        L2, "6. Checking a gradient with finite differences",
        ("central", "relative error", "10^{-7}", "10^{-4}", "10^{-2}")),
    "Finite-difference step h: truncation vs round-off": Section(
        L2, "How small should $h$ be?", ("truncation", "round-off", "10^{-5}")),
    "Backprop computes the gradient, descent takes the step": Section(
        L2, "7. Backpropagation finds the slope; gradient descent takes the step",
        ("backpropagation", "computes the gradient", "gradient descent", "stride")),
    "Single PyTorch-style step: w = 5, (w − 2)², α = 0.1 → gradient 6, w = 4.4": Section(
        L2, "7. Backpropagation finds the slope; gradient descent takes the step",
        ("loss.backward()", "w -= lr * w.grad", "slope is 6", "4.4")),
    # ---- lesson 3: the update rule
    "Blind trekker / hiker in fog analogy (lesson 3)": Section(
        L3, "1. One step downhill", ("trekker", "slope")),
    "Update rule θ ← θ − α∇J(θ)": Section(
        L3, "1. One step downhill", ("update rule", r"\theta - \alpha", "learning rate")),
    "Iterative minimisation of a loss by adjusting weights and biases (lesson 3)": Section(
        L3, "2. The whole walk: the five points end to end", ("repeat the step", "update", "epoch")),
    "The numpy GD on the 5-point data: cost history, cost vs iteration, data + fit, 3-D path in red": Section(
        L3, "2. The whole walk: the five points end to end",
        ("cost against the iteration", "fitted line", "3-D cost surface", "in red", "contour map")),
    "Learning rate: overshoot vs slow, many epochs, the 2/L bound": Section(
        L3, "4. Choosing the learning rate",
        ("overshoot", "too small", "many more epochs", "oscillation", "divergence", "2/L")),
    "Epochs and convergence when the cost change is negligible": Section(
        L3, "5. When to stop", ("convergence", "negligible", "epochs")),
    "Stopping rules: iterations, change in cost, gradient norm": Section(
        L3, "5. When to stop", ("num_iters", "`tol`", "`grad_tol`", "gradient")),
    "Conditioning: Hessian eigenvalues ≈ 0.169 and 11.83, κ ≈ 70; divergence above α ≈ 0.169": Section(
        L3, "3. Why 1000 steps fall short: the shape of the bowl",
        ("Hessian", "0.169", "11.83", "condition number", "70", "diverges", "lesson 6")),
    "Local minima and momentum (lesson 3)": Section(
        L3, "7. Local minima: a terrain with two valleys",
        ("local minimum", "global minimum", "momentum", "lesson 6")),
    # ---- lesson 4: batch vs stochastic vs mini-batch
    "One update per epoch vs per sample vs per batch, ⌈m/b⌉ updates": Section(
        L4, "1. One epoch, three ways",
        ("batch gradient descent", "stochastic", "mini-batch", "one update per epoch", r"\lceil m/b\rceil",
         "last one of 32")),
    "SGD: one random sample per update, a noisy loss curve": Section(
        L4, "2. Noisy steps: the loss per update and per epoch",
        ("one random sample", "noisy loss curve", "per update", "per epoch", "never settles")),
    "Paths on the contour for batch sizes 1, a middle size and m": Section(
        L4, "3. Paths on the contour", ("cost surface", "mini-batch", "sgd", "batch gradient descent")),
    "Cost per update vs per epoch vs wall-clock; vectorised batches against a per-sample loop": Section(
        L4, "4. What an epoch costs: vectorised batches against a loop over samples",
        ("wall-clock", "vectorised matrix work", "python `for` loop", "measured live")),
    "Batch GD stable but slow and memory-hungry on large data": Section(
        L4, "4. What an epoch costs: vectorised batches against a loop over samples",
        ("stable but slow", "memory-hungry", "602 gb", "38.5 mb")),
    "Mini-batch: the standard in PyTorch/TensorFlow, vectorised matrix work": Section(
        L4, "4. What an epoch costs: vectorised batches against a loop over samples",
        ("mini-batch gradient descent is the standard in pytorch and tensorflow", "vectorised matrix work",
         "dataloader", "tf.data")),
    "Shuffling each epoch": Section(
        L4, "5. Shuffle every epoch", ("new random order", "every epoch", "sorted", "shuffle")),
    "A learning-rate schedule": Section(
        L4, "6. A learning-rate schedule", ("learning-rate schedule", "step decay", "updates", "steplr")),
    "SGD's noise can escape a shallow (local) minimum": Section(
        L4, "7. SGD's noise can leave a shallow minimum",
        ("local minimum", "global minimum", "noise", "ridge", "four in five")),
    # ---- lesson 5: vanishing and exploding gradients
    "A deep chain: the product of per-layer derivatives": Section(
        L5, "1. A deep chain: a product of per-layer derivatives",
        ("chain rule", "product of per-layer derivatives", "vanishes", "explodes", r"\prod")),
    "Sigmoid's derivative ≤ 1/4 (maximum 0.25 at z = 0)": Section(
        L5, "2. The sigmoid's derivative is at most 1/4",
        ("derivative is at most 1/4", "z = 0", "saturates", "(1/4)^{10}")),
    "Vanishing gradients in a deep sigmoid network (per-layer gradient norms, log scale)": Section(
        L5, "3. Vanishing gradients in a deep sigmoid network",
        ("vanishing", "log scale", "bar chart", "do not learn")),
    "Weight scale: vanishing or exploding; ReLU with a large init explodes every layer alike": Section(
        L5, "4. The weight scale: vanishing or exploding",
        ("too small", "too large", "explode", "every layer's gradient is huge by about the same amount",
         "activations themselves explode")),
    "Xavier/Glorot and He initialisation": Section(
        L5, "5. Xavier/Glorot and He initialisation",
        ("xavier/glorot", "he", r"\frac{2}{\text{fan\_in} +", r"\frac{2}{\text{fan\_in}}", "relu")),
    "ReLU": Section(
        L5, "6. ReLU: a slope of exactly 1", ("relu", "slope is exactly 1", "sigmoid", "dead")),
    "Gradient clipping by norm": Section(
        L5, "7. Gradient clipping by norm",
        ("clipping by norm", "global norm", "direction", "clip_grad_norm_", "diverges")),
    "Batch normalisation and residual connections (named, shown briefly)": Section(
        L5, "8. Architectural fixes: batch normalisation and residual connections",
        ("batch normalisation", "residual connections", "resnets", "direct path")),
    "Using a notebook: run a cell, Run All, sliders need their cell run, restart the kernel": Section(
        L1, "Using this notebook", ("shift + enter", "run all cells", "slider", "restart kernel", "short path")),
    "Feature scaling: z-score x, κ ≈ 70 → 1, round contours, one step at α = 1": Section(
        L3, "8. Feature scaling: make the bowl round",
        ("standardise", "z-score", r"\kappa = 1", "one step", "22 steps", "746", "min–max", "standardscaler")),
    "Newton's step θ − H⁻¹∇J; Adam and RMSProp as diagonal preconditioners": Section(
        L3, "9. Newton's step: divide by the curvature",
        ("newton's method", r"h^{-1}", "one step", "n^3", "diagonal preconditioner", "rmsprop and adam")),
    "Saddle points and plateaus; in high dimensions saddles, not local minima": Section(
        L3, "10. Saddle points and plateaus",
        ("saddle point", "plateau", "high dimensions", "local minima", "dauphin")),
    "Batch size and learning rate: noise ∝ 1/b, the linear scaling rule and its limit": Section(
        L4, "8. Batch size and learning rate go together",
        (r"\frac{\sigma^2}{b}", "linear scaling rule", "goyal", "limit", r"2/\lambda_{\max}", "critical batch size")),
    # ---- lesson 6: momentum, RMSProp, Adam
    "Momentum: velocity, heavy ball; public figure (0.007188, 0.002553) vs GD (−0.943467, −0.000073)": Section(
        L6, "1. Momentum: a heavy ball with a velocity",
        ("velocity", "heavy ball", r"b \leftarrow \mu\, b + \nabla f(\theta)", "0.007", "-0.943", r"2 + 2\mu")),
    "Where textbooks differ: the EMA form of momentum": Section(
        L6, "1. Momentum: a heavy ball with a velocity",
        ("where textbooks differ", "exponential moving average", r"(1 - \mu)", "torch.optim")),
    "Local minima and momentum (lesson 6)": Section(
        L6, "2. Momentum rolls through shallow minima",
        ("local minimum", "global minimum", "heavy ball", "shallow")),
    "RMSProp: per-parameter scaling (and TF/Keras's ε inside the root)": Section(
        L6, "3. RMSProp: a step size for every parameter",
        ("rmsprop", "squared", "each **parameter** gets its own", "keras", "inside")),
    "Adam = momentum + per-parameter adaptive rates + bias correction, often faster, a common default": Section(
        L6, "4. Adam = momentum + RMSProp + bias correction",
        ("momentum", "per-parameter adaptive learning rates", "often faster", "common default",
         "bias correction", "3.16")),
    "Where libraries differ: TF/Keras's ε in Adam": Section(
        L6, "4. Adam = momentum + RMSProp + bias correction",
        ("tensorflow/keras", r"\hat\epsilon", "10^{-7}", "torch.optim.adam")),
    "AdamW's decoupled weight decay": Section(
        L6, "5. AdamW: decoupled weight decay",
        ("adamw", "decouples", r"(1 - \alpha\lambda)", "weight decay", "l2")),
    "Adam + L2 divides the pull by √v̂: noisy weights barely regularised, quiet ones over-regularised": Section(
        L6, "5. AdamW: decoupled weight decay",
        (r"\sqrt{\hat v}", "barely", "over-regularised", "noise", "two weights")),
    "Default hyper-parameters (α = 1e-3, β1 = 0.9, β2 = 0.999, ε = 1e-8) and when SGD + momentum still wins": Section(
        L6, "6. The defaults, and when SGD with momentum still wins",
        ("10^{-3}", "0.9", "0.999", "10^{-8}", "sgd with momentum still wins")),
    "Comparing SGD, momentum, RMSProp and Adam: ill-conditioned bowl, Rosenbrock, noisy mini-batches": Section(
        L6, "7. Four optimisers on three problems, each at its best learning rate",
        ("ill-conditioned", "rosenbrock", "noisy mini-batch", "sgd", "momentum", "rmsprop", "adam")),
    "A fair comparison: every optimiser tuned on the same wide log grid, several starts/seeds; loss vs α": Section(
        L6, "7. Four optimisers on three problems, each at its best learning rate",
        ("log grid", "either end", "three times", "median", "best", "robustness to $\\alpha$")),
    "Libraries' \"SGD\" is an update rule; the batch size is chosen separately": Section(
        L6, "7. Four optimisers on three problems, each at its best learning rate",
        ("a word on names", "update rule", "batch size is chosen separately", "mini-batch sgd")),
    "Nesterov momentum: the look-ahead gradient and its smaller stable range": Section(
        L6, "Nesterov's look-ahead", ("nesterov", "look-ahead", "nesterov=true", r"2(1 + \mu)/(1 + 2\mu)")),
    "AdaGrad: the sum of squared gradients, steps shrinking as α/√t": Section(
        L6, "AdaGrad, RMSProp's ancestor", ("adagrad", "sum", "sparse", r"\alpha/\sqrt t", "running average")),
    "Learning-rate warm-up and cosine decay, tied to bias correction; AdamW as the transformer default": Section(
        L6, "Warm-up and cosine decay — and why AdamW trains transformers",
        ("warm-up", "cosine decay", "bias correction", r"\hat v", "transformers", "adamw")),
    "Choosing the optimiser and learning rate in a training configuration": Section(
        L6, "8. Choosing the optimiser and learning rate in a training configuration",
        ("training configuration", "optim.get_optimizer", "torch.optim.adam", "log grid", "learning rate")),
    # ---- lesson 7: the capstone, a digit classifier
    "Real data offline: the 8×8 digits, a seeded stratified train/validation/test split, standardisation": Section(
        L7, "1. Real data: 1,797 handwritten digits",
        ("8×8", "64 features", "shipped with the course", "seed", "training set", "validation set", "test set", "stratified", "standardised",
         "feature scaling")),
    "Logistic regression on two classes (binary cross-entropy)": Section(
        L7, "2. Two classes: logistic regression",
        ("logistic regression", "binary cross-entropy", "batching.train", "bias column")),
    "Softmax regression; the cross-entropy gradient (1/m)·Xᵀ(P − Y) by hand, gradient-checked": Section(
        L7, "3. Ten classes: softmax regression",
        ("softmax", r"\nabla_W J = \frac1m X_b^\top (P - Y)", "one-hot", "chain rule", "gradient checker")),
    "Initial-loss sanity check ≈ log k": Section(
        L7, "3. Ten classes: softmax regression",
        ("initial-loss sanity check", r"\log 10", "2.303")),
    "Numerically stable log-sum-exp, and what goes wrong without it": Section(
        L7, "3. Ten classes: softmax regression",
        ("log-sum-exp", "overflows", "inf", "nan", "row maximum")),
    "The learner's own optimiser (lesson-6 adam_step) trains the model on mini-batches": Section(
        L7, "4. Your optimiser trains it",
        ("adam_step", "any** step function", "mini-batch", "lesson 4")),
    "Early stopping on the validation loss": Section(
        L7, "4. Your optimiser trains it",
        ("early stopping", "patience", "best epoch", "validation loss")),
    "Learning-rate range test": Section(
        L7, "5. A learning-rate range test",
        ("learning-rate range test", "geometrically", "blows up", "steepest descent")),
    "A small MLP beats the linear model; He initialisation and per-layer gradient norms on a real net": Section(
        L7, "6. A small MLP beats the linear model",
        ("relu", "gdcourse.deepnet", "he initialisation", "per-layer gradient norms", "lesson 5")),
    "Weight decay against overfitting": Section(
        L7, "7. Weight decay",
        ("overfits", "weight decay", r"\frac\lambda2\lVert W\rVert^2", "underfitting")),
    "A fair optimiser comparison: each tuned on a stated grid, spread over seeds": Section(
        L7, "8. A fair optimiser comparison",
        ("its own best α from the same grid", "validation loss", "seeds", "mean and spread")),
    "Test accuracy, the confusion matrix and the misclassified digits": Section(
        L7, "9. Results you can look at",
        ("test set", "confusion matrix", "misclassified")),
    "Oracles: scikit-learn's LogisticRegression and torch.optim.Adam": Section(
        L7, "10. Two independent referees",
        ("logisticregression", "torch.optim.adam", "10^{-10}", "same split")),
    "A live training panel (TensorFlow Playground spirit)": Section(
        L7, "11. The training panel",
        ("**train**", "**stop**", "confusion matrix", "batch size", "hidden width", "weight decay")),
}

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown_lines(notebook: str, root: Path) -> list[str]:
    nb = json.loads((root / notebook).read_text(encoding="utf-8"))
    lines: list[str] = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            src = cell["source"]
            lines.extend(("".join(src) if isinstance(src, list) else src).splitlines())
    return lines


def sections(notebook: str, root: Path = ROOT) -> dict[str, str]:
    """Heading text → the markdown of its section (up to the next heading of the same or a higher level)."""
    lines = _markdown_lines(notebook, root)
    heads = [(i, len(m.group(1)), m.group(2)) for i, line in enumerate(lines)
             if (m := _HEADING.match(line))]
    out = {}
    for k, (i, level, text) in enumerate(heads):
        end = next((j for j, lv, _ in heads[k + 1:] if lv <= level), len(lines))
        out[text] = "\n".join(lines[i + 1:end])
    return out


def _normalise(text: str) -> str:
    """Lower case, every run of whitespace (line breaks in the prose) as one space."""
    return " ".join(text.lower().split())


def lesson_number(notebook: str) -> int:
    return int(Path(notebook).name[:2])


def render_table() -> str:
    """The concept map as a Markdown table, in the order of the dict."""
    rows = ["| Concept | Lesson | Section |", "|---|---|---|"]
    for concept, where in CONCEPTS.items():
        name = re.sub(r"\s*\(lesson \d+\)$", "", concept)
        link = f"[{lesson_number(where.notebook)}](../{where.notebook})"
        rows.append(f"| {name} | {link} | {where.heading} |")
    return "\n".join(rows)


@pytest.mark.parametrize("concept", list(CONCEPTS))
def test_concept_is_taught_in_its_section(concept):
    where = CONCEPTS[concept]
    assert (ROOT / where.notebook).is_file(), f"{concept}: notebook {where.notebook} does not exist"
    found = sections(where.notebook)
    assert where.heading in found, (
        f"{concept}: no heading {where.heading!r} in {where.notebook}; its headings are {sorted(found)}"
    )
    text = _normalise(found[where.heading])
    missing = [k for k in where.keywords if _normalise(k) not in text]
    assert not missing, f"{concept}: section {where.heading!r} of {where.notebook} never mentions {missing}"


def test_lesson_suffix_matches_notebook():
    for concept, where in CONCEPTS.items():
        m = re.search(r"\(lesson (\d+)\)$", concept)
        if m:
            assert int(m.group(1)) == lesson_number(where.notebook), concept


def test_sections_split_on_headings_of_the_same_or_higher_level(tmp_path):
    nb = {"cells": [
        {"cell_type": "markdown", "source": "## A\nalpha\n### A.1\nsub"},
        {"cell_type": "code", "source": "## not a heading"},
        {"cell_type": "markdown", "source": ["more alpha\n", "## B\nbeta"]},
    ]}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    found = sections("nb.ipynb", root=tmp_path)
    assert set(found) == {"A", "A.1", "B"}
    assert "sub" in found["A"] and "more alpha" in found["A"] and "beta" not in found["A"]
    assert found["A.1"].strip() == "sub\nmore alpha"
    assert "## not a heading" not in found["A"]


def test_docs_table_matches_the_concept_map():
    text = DOCS.read_text(encoding="utf-8")
    assert "## Concept map" in text
    section = text.split("## Concept map", 1)[1]
    assert render_table() in section, (
        "docs/concepts.md is out of date: replace its table with the output of "
        "`python tests/test_concepts.py`"
    )


if __name__ == "__main__":
    print(render_table())
