"""Loss surface speed: a 51 x 51 grid (2601 parameter vectors) for a 2-8-8-1 tanh network on 512 points,
this engine's parallel kernel against a vectorised NumPy computation of the same grid, in one run.

    python benchmarks/landscape_grid.py [--repeats 10]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab import MLP, datasets, landscape  # noqa: E402


def numpy_grid(model, X, y, directions, span, resolution):
    """The same losses with NumPy, all parameter vectors of a grid row at once (batched matmuls)."""
    alphas = np.linspace(-span, span, resolution)
    d1, d2 = directions
    center = model.params.astype(np.float32)
    out = np.empty((resolution, resolution))
    X = X.astype(np.float32)
    t = y.astype(np.float32)[None, :, None]
    for i, beta in enumerate(alphas):
        P = (center + alphas[:, None] * d1 + beta * d2).astype(np.float32)  # (r, n_params)
        h = np.broadcast_to(X, (resolution, *X.shape))
        for w, shape, b in model.layer_slices():
            z = h @ P[:, w].reshape(resolution, *shape) + P[:, None, b]
            h = np.tanh(z) if shape[1] != 1 else z
        out[i] = np.mean(np.logaddexp(0, h) - h * t, axis=(1, 2))
    return alphas, out


def best_of(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    split = datasets.make("xor", n=1024, seed=0)
    X, y = split.X_train[:512], split.y_train[:512]
    model = MLP([2, 8, 8, 1], activation="tanh", output="sigmoid", seed=0)
    d = landscape.random_directions(model, seed=0)
    ours = landscape.loss_grid(model, X, y, d, span=1.0, resolution=51)[2]
    ref = numpy_grid(model, X, y, d, 1.0, 51)[1]
    agree = np.max(np.abs(ours - ref) / np.maximum(ref, 1e-6))
    engine = best_of(lambda: landscape.loss_grid(model, X, y, d, span=1.0, resolution=51), args.repeats)
    numpy = best_of(lambda: numpy_grid(model, X, y, d, 1.0, 51), max(3, args.repeats // 3))
    print("51x51 loss grid, 2-8-8-1 tanh/sigmoid BCE, 512 points (2601 parameter vectors)")
    print(f"{'':10s} {'best ms':>9s} {'median ms':>10s}")
    print(f"{'engine':10s} {engine[0] * 1e3:9.1f} {engine[1] * 1e3:10.1f}")
    print(f"{'NumPy':10s} {numpy[0] * 1e3:9.1f} {numpy[1] * 1e3:10.1f}")
    print(f"engine is {numpy[0] / engine[0]:.1f}x faster (best of runs); largest relative difference {agree:.1e}")


if __name__ == "__main__":
    main()
