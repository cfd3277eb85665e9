"""Numba CPU kernels. ``kernels.cuda`` mirrors these names and signatures."""

from kernels.cpu.evaluate import dataset_loss, eval_grid, loss_and_grad, loss_many, predict
from kernels.cpu.optim import lr_at, opt_update
from kernels.cpu.rng import shuffle
from kernels.cpu.train import train_steps

__all__ = ["dataset_loss", "eval_grid", "loss_and_grad", "loss_many", "lr_at", "opt_update",
           "predict", "shuffle", "train_steps"]
