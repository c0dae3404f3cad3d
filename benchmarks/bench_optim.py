"""Benchmarks for gdcourse.optim and gdcourse.batching (informational; rerunnable).

    python benchmarks/bench_optim.py            # prints the table, always exits 0
    python benchmarks/bench_optim.py --strict   # exits 1 if a target is missed

1. slider-scale: 500 steps of every optimiser on 2-D surfaces, path included
   (target: median <= 10 ms);
2. one Adam step on 10^6 float64 parameters: median, ratio to a memory-bandwidth
   floor (an in-place np.add over arrays of the same size, scaled by the number of
   array passes Adam needs at the least: reads θ, g, m, v and writes θ, m, v = 7,
   against 3 for the add), and ratio to torch.optim.Adam run single-threaded in
   this process when torch is importable (target: <= 1);
3. one epoch of mini-batch SGD on 100,000 x 20 linear regression, batch 64, with
   gdcourse.batching.train against a bare numpy loop doing the same arithmetic
   (same batches, batch loss per update, gradient, update, full loss at the end
   of the epoch) (target: ratio <= 1.5).

Every figure is a median measured in this run; ratios compare timings from the
same run, so they hold on a loaded machine better than absolute times do.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from gdcourse.batching import train  # noqa: E402
from gdcourse.optim import OPTIMIZERS, adam, run, sgd  # noqa: E402
from gdcourse.surfaces import SURFACES  # noqa: E402


def median_time(fn, repeat, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def slider_table(repeat):
    rows = []
    settings = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.1, "rmsprop": 1e-2,
                "adam": 0.02, "adamw": 0.02}
    for surface_name in ("ill_conditioned", "rosenbrock"):
        surface = SURFACES[surface_name]()
        point = surface.start.copy()

        def grads_only():
            for _ in range(500):
                surface._grad(point)

        t_grad = median_time(grads_only, repeat)
        for name, factory in OPTIMIZERS.items():
            opt = factory(lr=settings[name])
            t = median_time(lambda: run(opt, surface._grad, surface.start, 500), repeat)
            t_loss = median_time(lambda: run(opt, surface._grad, surface.start, 500, loss_fn=surface._value),
                                 repeat)
            rows.append((surface_name, name, t * 1e3, t_loss * 1e3, t_grad * 1e3))
    return rows


def adam_large(repeat):
    n = 10**6
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(n)
    grad = rng.standard_normal(n)
    opt = adam(lr=1e-3)
    state = opt.init(theta)
    holder = [theta, state]

    def step():
        holder[0], holder[1] = opt.update_inplace(holder[0], grad, holder[1])

    t_adam = median_time(step, repeat, warmup=3)
    a, b = np.ones(n), np.ones(n)
    t_add = median_time(lambda: np.add(a, b, out=a), repeat, warmup=3)
    floor = t_add * 7 / 3
    try:
        import torch
    except ImportError:
        return t_adam, floor, None, "torch not installed"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        p = torch.tensor(theta.copy(), requires_grad=True)
        p.grad = torch.tensor(grad)
        topt = torch.optim.Adam([p], lr=1e-3)
        t_torch = median_time(topt.step, repeat, warmup=3)
    finally:
        torch.set_num_threads(threads)
    return t_adam, floor, t_torch, f"torch {torch.__version__}, 1 thread"


def bare_epoch(X, y, lr, batch_size, seed):
    """The same arithmetic as train(): written out by hand, nothing else."""
    m, n = X.shape
    rng = np.random.default_rng(seed)
    theta = np.zeros(n)
    losses = np.empty(-(-m // batch_size))
    order = rng.permutation(m)
    for k, start in enumerate(range(0, m, batch_size)):
        idx = order[start:start + batch_size]
        Xb, yb = X[idx], y[idx]
        r = Xb @ theta - yb
        losses[k] = float(r @ r) / (2 * len(yb))
        theta -= lr * (Xb.T @ r / len(yb))
    r = X @ theta - y
    full = float(r @ r) / (2 * m)
    return theta, losses, full


def training_loop(repeat):
    m, n, batch_size, lr = 100_000, 20, 64, 0.01
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, n))
    y = X @ rng.standard_normal(n) + 0.1 * rng.standard_normal(m)
    h = train(X, y, sgd(lr=lr), batch_size=batch_size, num_epochs=1, random_state=1)
    theta, losses, full = bare_epoch(X, y, lr, batch_size, 1)
    assert np.allclose(h.theta, theta, rtol=1e-10, atol=1e-12), "train and the bare loop disagree"
    assert np.allclose(h.loss_per_update, losses, rtol=1e-10)
    t_train = median_time(lambda: train(X, y, sgd(lr=lr), batch_size=batch_size, num_epochs=1,
                                        random_state=1), repeat)
    t_bare = median_time(lambda: bare_epoch(X, y, lr, batch_size, 1), repeat)
    return t_train, t_bare


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--repeat", type=int, default=21, help="timed repetitions per figure (median)")
    args = parser.parse_args(argv)
    results = []

    print("1. 500 steps on a 2-D surface, path included (target: median <= 10 ms)")
    print("   (grad ms: the 500 grad_fn calls alone, the surface's share of the path time)")
    print(f"   {'surface':<16} {'optimiser':<9} {'path ms':>8} {'+loss ms':>9} {'grad ms':>8}  result")
    for surface_name, name, t, t_loss, t_grad in slider_table(args.repeat):
        ok = t <= 10.0
        results.append(ok)
        print(f"   {surface_name:<16} {name:<9} {t:8.2f} {t_loss:9.2f} {t_grad:8.2f}  {'PASS' if ok else 'FAIL'}")

    print("\n2. one Adam step, 10^6 float64 parameters")
    t_adam, floor, t_torch, torch_note = adam_large(args.repeat)
    print(f"   gdcourse adam (update_inplace)  {t_adam * 1e3:8.3f} ms")
    print(f"   bandwidth floor (np.add x 7/3)  {floor * 1e3:8.3f} ms   ratio {t_adam / floor:5.2f}  (informational)")
    if t_torch is None:
        print(f"   torch.optim.Adam                {torch_note}: ratio not measured (target skipped)")
    else:
        ok = t_adam <= t_torch
        results.append(ok)
        print(f"   torch.optim.Adam ({torch_note}) {t_torch * 1e3:8.3f} ms   ratio {t_adam / t_torch:5.2f}"
              f"  (target <= 1)  {'PASS' if ok else 'FAIL'}")

    print("\n3. one epoch of mini-batch SGD, 100,000 x 20, batch 64 (target: ratio <= 1.5)")
    t_train, t_bare = training_loop(max(5, args.repeat // 2))
    ok = t_train / t_bare <= 1.5
    results.append(ok)
    print(f"   gdcourse.batching.train  {t_train * 1e3:8.2f} ms")
    print(f"   bare numpy loop          {t_bare * 1e3:8.2f} ms   ratio {t_train / t_bare:5.2f}  "
          f"{'PASS' if ok else 'FAIL'}")

    print(f"\n{sum(results)}/{len(results)} targets met")
    return 0 if (all(results) or not args.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
