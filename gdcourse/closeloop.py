"""Close the loop: after an exercise's check, use the learner's own function to see something.

Each helper takes the learner's function first and draws or prints what it
does on a real problem: their ``cost_grid`` as a contour, their gradient
descent just above α = 2/L diverging, their mini-batch epoch timed at b = 1
and b = 64, their ``adam_step`` driving a path over a contour, ...

While the exercise is not attempted (the stub raises ``NotImplementedError``),
a helper prints one line saying so and returns ``None``; when the learner's
function raises anything else it prints that in one line too.  So the
notebook cell that calls it never fails::

    from gdcourse import closeloop
    closeloop.cost_grid_contour(cost_grid, d.X, d.y)
"""

from __future__ import annotations

import functools
import time

import numpy as np

__all__ = ["try_own", "prediction_line", "cost_slice", "cost_grid_contour", "gradient_arrows",
           "error_vs_h", "check_two_gradients", "step_path", "divergence_above_2_over_L",
           "lr_at_the_edge", "batches_of", "time_minibatch_epoch", "updates_table",
           "training_histories", "sigmoid_derivative_curve", "signal_through_layers",
           "clip_exploding", "layer_norms", "optimizer_path"]


class _NotYet(Exception):
    """Raised inside a helper when the learner's function cannot be used yet."""


def try_own(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; a stub or a crash becomes :class:`_NotYet` with one line."""
    name = getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise _NotYet(f"○ `{name}` is not attempted yet: write it above, run its cell, then "
                      f"run this cell again.") from None
    except Exception as exc:  # the learner's code: say what happened in one line
        text = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise _NotYet(f"✗ your `{name}` raised {type(exc).__name__}"
                      f"{': ' + text if text else ''}; fix it and its check first.") from None


def _closing(helper):
    @functools.wraps(helper)
    def wrapper(*args, **kwargs):
        try:
            return helper(*args, **kwargs)
        except _NotYet as reason:
            print(reason)
            return None
    return wrapper


def _axes(ncols=1, width=5.0, height=3.6):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), layout="constrained")
    return plt, fig, axes


def _show(plt, fig):
    """Show the figure inline; on a non-interactive backend (tests, scripts) just close it."""
    import matplotlib
    if matplotlib.get_backend().lower() in ("agg", "pdf", "svg", "ps", "cairo", "template"):
        plt.close(fig)
    else:
        plt.show()


@_closing
def cost_grid_contour(cost_grid, X, y, theta0_values=None, theta1_values=None):
    """Draw the learner's J grid as a contour, with their lowest grid point."""
    t0 = np.linspace(-2.0, 6.0, 81) if theta0_values is None else np.asarray(theta0_values)
    t1 = np.linspace(-1.0, 2.0, 61) if theta1_values is None else np.asarray(theta1_values)
    J, best = try_own(cost_grid, X, y, t0, t1)
    J, best = np.asarray(J, dtype=float), np.asarray(best, dtype=float)
    plt, fig, ax = _axes()
    levels = np.geomspace(max(float(J.min()), 1e-3), float(J.max()), 15)
    cs = ax.contour(t0, t1, J, levels=levels, cmap="viridis")
    ax.clabel(cs, cs.levels[::3], fontsize=7, fmt="%.2g")
    ax.plot(best[0], best[1], "r*", markersize=12, label=f"your best = ({best[0]:.2f}, {best[1]:.2f})")
    ax.set(xlabel="θ₀", ylabel="θ₁", title="Your cost_grid as a contour")
    ax.legend(loc="upper right", fontsize=8)
    _show(plt, fig)
    return None


@_closing
def divergence_above_2_over_L(gradient_descent, X, y, factors=(0.9, 1.05), num_iters=40):
    """Run the learner's gradient descent at α just below and just above 2/L, L = λmax(XᵀX/m)."""
    L = float(np.linalg.eigvalsh(X.T @ X / len(y))[-1])
    plt, fig, ax = _axes()
    for factor in factors:
        lr = factor * 2.0 / L
        _theta, costs = try_own(gradient_descent, np.zeros(X.shape[1]), X, y, lr, num_iters)
        costs = np.asarray(costs, dtype=float)
        ax.semilogy(costs, label=f"α = {factor:g}·2/L = {lr:.3f}: J ends at {costs[-1]:.3g}")
    ax.set(xlabel="iteration", ylabel="J(θ) (log scale)",
           title=f"Your gradient_descent around α = 2/L = {2 / L:.3f}")
    ax.legend(fontsize=8)
    _show(plt, fig)
    return None


@_closing
def time_minibatch_epoch(minibatch_epoch, X, y, batch_sizes=(1, 64), lr=0.01, random_state=0):
    """Time one epoch of the learner's loop at each batch size and print J after it."""
    rng = np.random.default_rng(random_state)
    m = len(y)
    theta0 = np.zeros(X.shape[1])
    for batch_size in batch_sizes:
        order = rng.permutation(m)
        batches = [order[s:s + batch_size] for s in range(0, m, batch_size)]
        start = time.perf_counter()
        theta = np.asarray(try_own(minibatch_epoch, theta0, X, y, lr, batches), dtype=float)
        seconds = time.perf_counter() - start
        r = X @ theta - y
        print(f"b = {batch_size:>4}: {len(batches):>5} updates in {seconds * 1e3:7.1f} ms, "
              f"J after one epoch = {float(r @ r) / (2 * m):.4g}")
    return None


@_closing
def training_histories(train_epochs, X, y, batch_sizes=(1, 32, None), lr=0.01, num_epochs=8,
                       seed=0):
    """The learner's training loop at several batch sizes: J per epoch on a log scale."""
    plt, fig, ax = _axes()
    for batch_size in batch_sizes:
        b = len(y) if batch_size is None else batch_size
        _theta, losses = try_own(train_epochs, np.zeros(X.shape[1]), X, y, lr, b, num_epochs, seed)
        label = "batch GD" if batch_size is None else f"b = {b}"
        ax.semilogy(np.asarray(losses, dtype=float), marker="o", label=label)
    ax.set(xlabel="epoch", ylabel="J(θ) on all the data", title="Your train_epochs")
    ax.legend(fontsize=8)
    _show(plt, fig)
    return None


@_closing
def layer_norms(backward_pass, depth=8, width=16, scheme="xavier", random_state=0):
    """Per-layer ‖∂J/∂W‖ from the learner's backward pass through a deep sigmoid chain."""
    from . import deepnet
    X, y = deepnet.make_chain_data(128, 8, random_state=random_state)
    params = deepnet.init_weights(deepnet.chain_sizes(depth, width, X.shape[1]), scheme=scheme,
                                  random_state=random_state)
    grads = try_own(backward_pass, params, X, y.reshape(-1, 1))
    norms = np.array([np.linalg.norm(np.asarray(dW, dtype=float)) for dW, _db in grads])
    plt, fig, ax = _axes()
    ax.bar(np.arange(1, len(norms) + 1), norms, color="tab:blue")
    ax.set_yscale("log")
    ax.set(xlabel="layer (1 = next to the input)", ylabel="‖∂J/∂W‖ (log scale)",
           title=f"Your backward_pass: {depth} sigmoid layers, {scheme} init")
    _show(plt, fig)
    print(f"layer 1 gets {norms[0] / norms[-1]:.2g} × the gradient norm of layer {len(norms)}")
    return None


def _bowl(theta):
    return np.array([theta[0], 12.0 * theta[1]])   # the gradient of ½(θ₁² + 12θ₂²)


@_closing
def optimizer_path(step, kind, lr, *hyper, num_steps=60, start=(-4.0, 1.5)):
    """Drive the learner's optimiser step over the bowl ½(θ₁² + 12θ₂²) and draw its path.

    ``kind`` is ``"momentum"`` (one state array), ``"rmsprop"`` (one) or
    ``"adam"`` (m, v and the count t); ``hyper`` are the step's arguments
    after ``lr`` (μ; ρ, ε; β1, β2, ε).
    """
    theta = np.array(start, dtype=float)
    state = {"momentum": [np.zeros(2)], "rmsprop": [np.zeros(2)],
             "adam": [np.zeros(2), np.zeros(2), 0]}[kind]
    path = [theta]
    for _ in range(num_steps):
        out = try_own(step, theta, _bowl(theta), *state, lr, *hyper)
        theta, *state = out
        theta = np.asarray(theta, dtype=float)
        path.append(theta)
    path = np.array(path)
    plt, fig, ax = _axes()
    g0, g1 = np.meshgrid(np.linspace(-5, 5, 121), np.linspace(-2.5, 2.5, 81))
    ax.contour(g0, g1, 0.5 * (g0 ** 2 + 12 * g1 ** 2), levels=np.geomspace(0.05, 60, 12),
               cmap="Greys")
    ax.plot(path[:, 0], path[:, 1], "-o", color="tab:red", markersize=2.5, lw=1,
            label=f"your {getattr(step, '__name__', kind)}, {num_steps} steps")
    ax.plot(*path[0], "ks", label="start")
    ax.set(xlabel="θ₁", ylabel="θ₂", xlim=(-5, 5), ylim=(-2.5, 2.5),
           title=f"Your {kind} step on ½(θ₁² + 12θ₂²)")
    ax.legend(loc="lower right", fontsize=8)
    _show(plt, fig)
    print(f"after {num_steps} steps θ = ({path[-1, 0]:.3g}, {path[-1, 1]:.3g}); the minimum is (0, 0)")
    return None


# --- lessons 1 to 3 -----------------------------------------------------------------------

def _cost(theta, X, y):
    r = X @ theta - y
    return float(r @ r) / (2 * len(y))


def _contour(ax, X, y, t0=np.linspace(-2.0, 6.0, 81), t1=np.linspace(-1.0, 2.0, 61)):
    T0, T1 = np.meshgrid(t0, t1)
    R = np.stack([T0, T1], axis=-1) @ X.T - y
    J = np.sum(R ** 2, axis=-1) / (2 * len(y))
    ax.contour(t0, t1, J, levels=np.geomspace(max(J.min(), 1e-2), J.max(), 14), cmap="Greys")
    ax.set(xlabel="θ₀", ylabel="θ₁")


@_closing
def prediction_line(predict, X, y, theta=(2.2, 0.6)):
    """The learner's predictions Xθ drawn as a line through the data."""
    theta = np.asarray(theta, dtype=float)
    y_hat = np.asarray(try_own(predict, theta, X), dtype=float).ravel()
    plt, fig, ax = _axes()
    ax.plot(X[:, 1], y, "o", color="tab:blue", label="data")
    order = np.argsort(X[:, 1])
    ax.plot(X[order, 1], y_hat[order], "-", color="tab:red",
            label=f"your predict at θ = ({theta[0]:g}, {theta[1]:g})")
    ax.vlines(X[:, 1], y, y_hat, colors="tab:red", linestyles=":", lw=1)
    ax.set(xlabel="x", ylabel="y", title="Your predictions and their residuals")
    ax.legend(loc="lower right", fontsize=8)
    _show(plt, fig)
    return None


@_closing
def cost_slice(compute_cost, X, y, theta0=2.2, theta1_values=np.linspace(-0.5, 1.7, 45)):
    """The learner's J along θ₁ with θ₀ fixed: a parabola with its lowest point."""
    J = np.array([float(try_own(compute_cost, np.array([theta0, t1]), X, y))
                  for t1 in theta1_values])
    plt, fig, ax = _axes()
    ax.plot(theta1_values, J, color="tab:blue")
    k = int(np.argmin(J))
    ax.plot(theta1_values[k], J[k], "r*", markersize=12,
            label=f"lowest: θ₁ ≈ {theta1_values[k]:.2f}, J = {J[k]:.3g}")
    ax.set(xlabel="θ₁", ylabel="J(θ)", title=f"Your compute_cost along θ₁ (θ₀ = {theta0:g})")
    ax.legend(fontsize=8)
    _show(plt, fig)
    return None


@_closing
def gradient_arrows(gradient, X, y):
    """−∇J from the learner's gradient drawn as arrows on the contour: downhill, across the lines."""
    plt, fig, ax = _axes()
    _contour(ax, X, y)
    P0, P1 = np.meshgrid(np.linspace(-1.5, 5.5, 9), np.linspace(-0.8, 1.8, 7))
    G = np.array([np.asarray(try_own(gradient, np.array([a, b]), X, y), dtype=float)
                  for a, b in zip(P0.ravel(), P1.ravel())])
    scale = np.linalg.norm(G, axis=1, keepdims=True) + 1e-12
    ax.quiver(P0.ravel(), P1.ravel(), -G[:, 0] / scale[:, 0], -G[:, 1] / scale[:, 0],
              color="tab:red", angles="xy", width=0.004)
    ax.set(title="−(your gradient), normalised: it points downhill")
    _show(plt, fig)
    return None


@_closing
def error_vs_h(numerical_gradient, hs=np.geomspace(1e-12, 1e-1, 23)):
    """The error of the learner's central difference against h: truncation (h²) vs round-off."""
    theta = np.array([0.3, -0.7, 1.1])
    f = lambda t: float(np.sum(np.sin(t)))   # noqa: E731  (its gradient is cos θ)
    errors = [float(np.linalg.norm(np.asarray(try_own(numerical_gradient, f, theta, h), dtype=float)
                                   - np.cos(theta))) for h in hs]
    plt, fig, ax = _axes()
    ax.loglog(hs, np.maximum(errors, 1e-17), "o-", color="tab:blue")
    k = int(np.argmin(errors))
    ax.plot(hs[k], errors[k], "r*", markersize=12, label=f"smallest error at h ≈ {hs[k]:.0e}")
    ax.set(xlabel="h", ylabel="‖g_n − ∇f‖", title="Your numerical_gradient: the best h")
    ax.legend(fontsize=8)
    _show(plt, fig)
    return None


@_closing
def check_two_gradients(gradient_check):
    """The learner's gradient check on a right gradient and on one with a dropped term."""
    a, b = np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0])
    theta = np.array([0.3, -0.7, 1.1])
    f = lambda t: float(np.sum(a * np.sin(t)) + np.sum(b * t ** 3) / 3)   # noqa: E731
    right = lambda t: a * np.cos(t) + b * t ** 2                          # noqa: E731
    buggy = lambda t: a * np.cos(t) + b * t                               # noqa: E731
    for label, g in (("right gradient", right), ("buggy gradient (t instead of t²)", buggy)):
        err = float(try_own(gradient_check, f, g, theta))
        verdict = "passes (< 1e-7)" if err < 1e-7 else "flagged"
        print(f"{label:>34}: relative error {err:.2e}, {verdict}")
    return None


@_closing
def step_path(gd_step, X, y, lr=0.05, num_steps=40, start=(0.0, 0.0)):
    """The learner's update, repeated: the path of gradient descent on the contour."""
    theta = np.array(start, dtype=float)
    path = [theta]
    for _ in range(num_steps):
        theta = np.asarray(try_own(gd_step, theta, X, y, lr), dtype=float)
        path.append(theta)
    path = np.array(path)
    plt, fig, ax = _axes()
    _contour(ax, X, y)
    ax.plot(path[:, 0], path[:, 1], "-o", color="tab:red", markersize=2.5, lw=1,
            label=f"{num_steps} of your steps, α = {lr:g}")
    ax.plot(*path[0], "ks", label="start")
    ax.set(title="Your gd_step, repeated")
    ax.legend(loc="upper right", fontsize=8)
    _show(plt, fig)
    print(f"after {num_steps} steps θ = ({path[-1, 0]:.3f}, {path[-1, 1]:.3f}), "
          f"J = {_cost(path[-1], X, y):.4g}")
    return None


@_closing
def lr_at_the_edge(max_stable_lr, X, y, factors=(0.98, 1.02), num_iters=300):
    """Gradient descent just under and just over the learner's α_max: it settles or blows up."""
    H = X.T @ X / len(y)
    alpha = float(try_own(max_stable_lr, H))
    print(f"your max_stable_lr(H) = {alpha:.4f}")
    for factor in factors:
        theta = np.zeros(X.shape[1])
        with np.errstate(all="ignore"):
            for _ in range(num_iters):
                theta = theta - factor * alpha * X.T @ (X @ theta - y) / len(y)
        print(f"  α = {factor:g} × yours: J after {num_iters} steps = {_cost(theta, X, y):.4g}")
    return None


# --- lesson 4 ----------------------------------------------------------------------------

@_closing
def batches_of(minibatch_indices, m=1000, batch_size=64):
    """What the learner's batches hold: sizes, coverage, and a new order for a new seed."""
    first = try_own(minibatch_indices, m, batch_size, 0)
    other = try_own(minibatch_indices, m, batch_size, 1)
    sizes = [len(b) for b in first]
    seen = np.bincount(np.concatenate(first).astype(int), minlength=m)
    print(f"{len(first)} batches, sizes {sizes[0]} … {sizes[-1]}; every sample exactly once: "
          f"{bool(np.all(seen == 1))}; seed 1 gives another order: "
          f"{not np.array_equal(np.concatenate(first), np.concatenate(other))}")
    return None


@_closing
def updates_table(updates_per_epoch, m=1000, batch_sizes=(1, 32, 64, 1000)):
    """How many updates one epoch makes at each batch size, from the learner's function."""
    for b in batch_sizes:
        print(f"m = {m}, batch_size = {b:>4}: {try_own(updates_per_epoch, m, b):>5} updates per epoch")
    return None


# --- lesson 5 ----------------------------------------------------------------------------

@_closing
def sigmoid_derivative_curve(sigmoid_derivative, depth=10):
    """The learner's σ′ over z, and what a product of ``depth`` of them does."""
    z = np.linspace(-10.0, 10.0, 401)
    d = np.asarray(try_own(sigmoid_derivative, z), dtype=float)
    plt, fig, ax = _axes()
    ax.plot(z, d, color="tab:blue", label="your σ′(z)")
    ax.axhline(0.25, color="tab:gray", ls=":", label="1/4")
    ax.set(xlabel="z", ylabel="σ′(z)", title="Your sigmoid_derivative")
    ax.legend(fontsize=8)
    _show(plt, fig)
    print(f"largest value {d.max():.4f}; {depth} layers multiply by at most "
          f"{d.max():.2f}^{depth} = {d.max() ** depth:.2g}")
    return None


@_closing
def signal_through_layers(init, activation, depth=20, width=256, random_state=0):
    """The spread of the activations, layer by layer, with the learner's initialiser."""
    f = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}[activation]
    a = np.random.default_rng(random_state).normal(size=(512, width))
    stds = []
    for layer in range(depth):
        W = np.asarray(try_own(init, width, width, random_state + layer), dtype=float)
        a = f(a @ W)
        stds.append(float(a.std()))
    plt, fig, ax = _axes()
    ax.plot(np.arange(1, depth + 1), stds, "o-", color="tab:blue")
    ax.set(xlabel="layer", ylabel="std of the activations", ylim=(0, max(stds) * 1.3 + 1e-12),
           title=f"Your {getattr(init, '__name__', 'init')} with {activation}: {depth} layers")
    _show(plt, fig)
    print(f"std at layer 1: {stds[0]:.3f}, at layer {depth}: {stds[-1]:.3f}")
    return None


@_closing
def clip_exploding(clip_by_norm, max_norm=1.0, random_state=0):
    """The learner's clipping on an exploded gradient and on a small one."""
    rng = np.random.default_rng(random_state)
    for label, scale in (("exploded", 50.0), ("small", 0.01)):
        grads = [rng.normal(scale=scale, size=(4, 3)), rng.normal(scale=scale, size=3)]
        before = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
        out = try_own(clip_by_norm, grads, max_norm)
        after = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=float) ** 2) for g in out)))
        cosine = float(sum(np.sum(g * np.asarray(o)) for g, o in zip(grads, out)) / (before * after))
        print(f"{label:>8} gradient: ‖g‖ {before:8.3g} → {after:.3g} (max_norm = {max_norm:g}); "
              f"direction kept: cos = {cosine:.6f}")
    return None
