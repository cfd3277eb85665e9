"""Runs every kernel once in both precisions, so compilation (or loading from Numba's cache) happens
at server start rather than on a visitor's first click."""

import time

import numpy as np


def warm_up():
    from lab import MLP, landscape, optimizers, surfaces
    from lab.live import LiveTraining
    from lab.playground import PlaygroundConfig

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2))
    for dtype in ("float32", "float64"):
        for output, y in (("sigmoid", (X[:, 0] > 0).astype(int)), ("softmax", np.arange(16) % 3)):
            model = MLP([2, 3, 3 if output == "softmax" else 1], output=output, dtype=dtype, seed=0)
            model.fit(X, y, epochs=1, batch_size=8)
            model.loss_and_grad(X, y)
            model.unit_outputs(X)
            d = landscape.random_directions(model, seed=0)
            landscape.loss_grid(model, X, y, d, resolution=3)
    live = LiveTraining(PlaygroundConfig(dataset="xor", hidden="3"))
    live.advance(2)
    for name in optimizers.names():
        surfaces.run(surfaces.get("rosenbrock"), optimizers.get(name), steps=2)
    return time.perf_counter() - start
