"""Timings for gdcourse.deepnet at the sizes lesson 5's sliders use.

Run from the repository root:

    .venv/bin/python benchmarks/bench_deepnet.py

Prints the median of several repeats (milliseconds) for
  * the bar chart: make_deep_chain_demo (data + init + one forward/backward pass),
  * one forward + backward pass through the public API (validated),
  * train_mlp, full batch, at a few (samples, width, epochs) settings, depth 10 (the slider's maximum),
and compares each with the 30 ms slider budget.  Nothing here is a pass/fail test.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from gdcourse import deepnet as dn

BUDGET_MS = 30.0


def median_ms(fn, repeats=7):
    """Median wall-clock and CPU (this process) time in ms; CPU time is less affected when
    other jobs share the cores."""
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def main():
    rows = []
    for act, init, scale in [("sigmoid", "naive", 1.0), ("relu", "he", 1.0)]:
        ms = median_ms(lambda: dn.make_deep_chain_demo(10, width=32, activation=act, init=init,
                                                       scale=scale, n_samples=256))
        rows.append((f"make_deep_chain_demo depth 10 width 32 m 256 {act}/{init}", ms))

    X, y = dn.make_chain_data(256, 8, random_state=0)
    params = dn.init_weights(dn.chain_sizes(10, 32, 8), scheme="he", random_state=0)
    ms = median_ms(lambda: dn.loss_and_grads(params, X, y, "relu"), repeats=21)
    rows.append(("forward+backward depth 10 width 32 m 256 relu (public API)", ms))

    for m, width, epochs, act, init in [
        (128, 16, 50, "relu", "he"),
        (128, 16, 50, "tanh", "xavier"),
        (128, 16, 100, "sigmoid", "xavier"),
        (128, 32, 50, "relu", "he"),
        (256, 32, 100, "relu", "he"),
        (256, 32, 100, "tanh", "xavier"),
    ]:
        Xm, ym = dn.make_chain_data(m, 8, random_state=0)
        sizes = dn.chain_sizes(10, width, 8)

        def run():
            return dn.train_mlp(Xm, ym, sizes, activation=act, init=init, lr=0.05,
                                num_epochs=epochs, clip=1.0, random_state=0)

        ms = median_ms(run, repeats=5)
        rows.append((f"train_mlp depth 10 width {width} m {m} {epochs} epochs {act} clip", ms))

    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  wall ms   cpu ms  wall within {BUDGET_MS:.0f} ms")
    for name, (wall, cpu) in rows:
        print(f"{name:<{width}}  {wall:7.2f}  {cpu:7.2f}  {'yes' if wall <= BUDGET_MS else 'NO'}")
    per_epoch = [wall / int(name.split(' epochs')[0].split()[-1]) for name, (wall, _) in rows
                 if name.startswith("train_mlp")]
    print(f"train_mlp wall time per epoch (depth 10): {np.round(per_epoch, 3).tolist()} ms")


if __name__ == "__main__":
    main()
