"""Compiles (or loads from Numba's cache) every kernel the pages use, so no visitor waits for it.

    python -m lab.warmup            a progress bar; `make serve` runs this before the server
    python -m lab.warmup --lines    one line per finished task ("k n name"), read by the server's
                                    start-up screen (apps.startup)

The first time on a machine this compiles for a minute or two; afterwards it loads in seconds.
"""

import os
import sys
import time

import numpy as np


def tasks():
    """(name, callable) pairs; each compiles or loads a group of kernels."""
    from lab import MLP, landscape, optimizers, surfaces
    from lab.live import LiveTraining
    from lab.playground import PlaygroundConfig

    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2))

    def network(dtype, output):
        y = (X[:, 0] > 0).astype(int) if output == "sigmoid" else np.arange(16) % 3

        def run():
            model = MLP([2, 3, 3 if output == "softmax" else 1], output=output, dtype=dtype, seed=0)
            model.fit(X, y, epochs=1, batch_size=8)
            model.loss_and_grad(X, y)
            model.unit_outputs(X)
            d = landscape.random_directions(model, seed=0)
            landscape.loss_grid(model, X, y, d, resolution=3)
        return run

    def playground():
        LiveTraining(PlaygroundConfig(dataset="xor", hidden="3")).advance(2)

    def race():
        for name in optimizers.names():
            surfaces.run(surfaces.get("rosenbrock"), optimizers.get(name), steps=2)

    return [(f"networks, {dtype}, {output} output", network(dtype, output))
            for dtype in ("float32", "float64") for output in ("sigmoid", "softmax")] + [
        ("the playground's live run", playground), ("the optimizer race", race)]


def warm_up(progress=None):
    """Runs every task; ``progress(k, n, name)`` after each. Returns the seconds it took.

    LAB_WARMUP_HOLD=path (for tests of the start-up screen) holds the last task until that file exists."""
    start = time.perf_counter()
    todo = tasks()
    hold = os.environ.get("LAB_WARMUP_HOLD")
    for k, (name, run) in enumerate(todo, 1):
        if hold and k == len(todo):
            while not os.path.exists(hold):
                time.sleep(0.1)
        run()
        if progress is not None:
            progress(k, len(todo), name)
    return time.perf_counter() - start


def main(argv):
    if "--lines" in argv:  # for the server, which says when it is ready itself
        warm_up(lambda k, n, name: print(k, n, name, flush=True))
        return
    from tqdm import tqdm

    with tqdm(total=len(tasks()), desc="compiling the lab's kernels", unit="group") as bar:
        seconds = warm_up(lambda k, n, name: (bar.set_postfix_str(name), bar.update(1)))
    print(f"kernels compiled (or loaded from the cache) in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
