"""Optimizer updates on the device, one thread per parameter: the CUDA side of kernels.cpu.optim.
Learning-rate schedules are evaluated on the host with the same function as the CPU (``lr_at``)."""

import numpy as np
from numba import cuda

from kernels import codes as C
from kernels import ops
from kernels.config import THREADS_PER_BLOCK
from kernels.cpu.optim import lr_at

__all__ = ["lr_at", "opt_update", "update_kernel"]


def blocks(n):
    return max(1, (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


@cuda.jit
def update_kernel(code, hyper, lr, c1, c2, params, grad, state):
    """params[i] and its two state rows after one update (kernels.ops.update)."""
    i = cuda.grid(1)
    if i >= params.size:
        return
    w, m, v = ops.update(code, params[i] * 1.0, grad[i] * 1.0, state[0, i] * 1.0, state[1, i] * 1.0, lr,
                         hyper[C.H_MOMENTUM], hyper[C.H_DECAY], hyper[C.H_EPS], hyper[C.H_BETA1],
                         hyper[C.H_BETA2], hyper[C.H_WEIGHT_DECAY], c1, c2)
    params[i] = w
    state[0, i] = m
    state[1, i] = v


def launch_update(code, d_hyper, hyper, lr, t, d_params, d_grad, d_state):
    """One update of device arrays; t: the 1-based update count (for Adam's bias corrections)."""
    c1, c2 = ops.bias_corrections(code, hyper[C.H_BETA1], hyper[C.H_BETA2], t)
    update_kernel[blocks(d_params.size), THREADS_PER_BLOCK](code, d_hyper, lr, c1, c2, d_params, d_grad, d_state)


def opt_update(code, hyper, lr, t, params, grad, state):
    """One optimizer update in place (see kernels.cpu.opt_update)."""
    d_params, d_state = cuda.to_device(params), cuda.to_device(state)
    launch_update(code, cuda.to_device(np.ascontiguousarray(hyper)), hyper, lr, t, d_params,
                  cuda.to_device(grad), d_state)
    d_params.copy_to_host(params)
    d_state.copy_to_host(state)
