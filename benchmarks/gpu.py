"""GPU benchmarks (needs an NVIDIA GPU): training steps/s for 784-256-10 softmax at batch 128 and a
201 x 201 loss surface for a 2-8-8-1 network on 512 points, CUDA backend against the CPU backend and,
when importable, PyTorch on CUDA. Prints one table; ratios are from this run.

    python benchmarks/gpu.py
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab import MLP, Trainer, landscape, optimizers  # noqa: E402
from lab.engine.backend import cuda_available  # noqa: E402


def rate(fn, seconds=3.0):
    fn()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += fn()
    return done / (time.perf_counter() - start)


def training(backend, X, y, steps=50):
    model = MLP([784, 256, 10], activation="relu", output="softmax", backend=backend, seed=0)
    trainer = Trainer(model, model.check_inputs(X), model.check_targets(y, len(y)),
                      optimizers.get("sgd", learning_rate=0.01), batch_size=128, divergence_factor=None)
    return lambda: len(trainer.run(steps))


def surface(backend, X, y):
    model = MLP([2, 8, 8, 1], activation="tanh", backend=backend, seed=0)
    d = landscape.random_directions(model, seed=0)
    return lambda: (landscape.loss_grid(model, X, y, d, resolution=201), 1)[1]


def torch_training(X, y, steps=50):
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).cuda()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda()
    loss_fn = torch.nn.CrossEntropyLoss()

    def run():
        for i in range(steps):
            s = (i * 128) % (len(X) - 128)
            opt.zero_grad()
            loss_fn(net(Xt[s:s + 128]), yt[s:s + 128]).backward()
            opt.step()
        torch.cuda.synchronize()
        return steps
    return run


def main():
    if not cuda_available():
        sys.exit("no CUDA device: this benchmark needs a GPU (see README, 'GPU')")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8192, 784)).astype(np.float32)
    y = rng.integers(0, 10, 8192)
    Xs = rng.normal(size=(512, 2)).astype(np.float32)
    ys = (Xs.prod(axis=1) > 0).astype(np.int64)
    rows = [("784-256-10 softmax, batch 128: steps/s", rate(training("cpu", X, y)), rate(training("cuda", X, y))),
            ("201x201 loss surface, 2-8-8-1, 512 points: surfaces/s", rate(surface("cpu", Xs, ys), 10),
             rate(surface("cuda", Xs, ys), 10))]
    try:
        torch_rate = rate(torch_training(X, y))
    except Exception as err:  # PyTorch missing or without CUDA
        torch_rate = None
        print(f"(PyTorch CUDA skipped: {err})")
    print(f"{'case':58s} {'CPU':>10s} {'CUDA':>10s} {'CUDA/CPU':>9s}")
    for name, cpu, gpu in rows:
        print(f"{name:58s} {cpu:10.1f} {gpu:10.1f} {gpu / cpu:8.1f}x")
    if torch_rate:
        print(f"PyTorch CUDA, 784-256-10 batch 128: {torch_rate:.1f} steps/s "
              f"(ours/PyTorch {rows[0][2] / torch_rate:.2f}x)")


if __name__ == "__main__":
    main()
