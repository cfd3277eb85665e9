"""CUDA backend: the same function names and signatures as kernels.cpu, running on an NVIDIA GPU.

Files mirror kernels/cpu file for file (nn, losses, optim, rng, train, evaluate); the per-element math
of both is kernels.ops. Importing this package never needs a GPU (kernels compile at first launch);
``lab.engine.backend.resolve('cuda')`` raises a clear ValueError when none is present.
"""

from kernels.cuda.evaluate import dataset_loss, eval_grid, loss_and_grad, loss_many, predict
from kernels.cuda.optim import lr_at, opt_update
from kernels.cuda.rng import shuffle
from kernels.cuda.train import train_steps

__all__ = ["dataset_loss", "eval_grid", "loss_and_grad", "loss_many", "lr_at", "opt_update", "predict",
           "shuffle", "train_steps"]
