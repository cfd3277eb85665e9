"""Evaluation on the device: predictions, loss and accuracy over a data set, gradients, the loss of many
parameter vectors at once and every unit's output on a grid. Same names and signatures as
kernels.cpu.evaluate; thread (m, s) runs parameter vector m on sample s."""

import numpy as np
from numba import cuda

from kernels import codes as C
from kernels.config import EVAL_TILE, LOCAL_RAW, LOCAL_UNITS, THREADS_PER_BLOCK
from kernels.cuda.losses import accuracy_count, output_delta
from kernels.cuda.nn import add_penalty, forward_layers, load_inputs
from kernels.cuda.optim import blocks


@cuda.jit
def evaluate_kernel(P, sizes, acts, loss_code, features, X, T, n, losses, correct, out, out_mode):
    """Thread (m, s): forward of parameter vector P[m] on sample s. out_mode 0: loss and correctness
    into losses[m, s], correct[m, s]; 1: outputs into out[s, :]; 2: every unit into out[:, s]."""
    m, s = cuda.grid(2)
    if m >= P.shape[0] or s >= n:
        return
    A = cuda.local.array(LOCAL_UNITS, np.float64)
    Z = cuda.local.array(LOCAL_RAW, np.float64)
    params = P[m]
    load_inputs(X, s, features, A)
    o0 = forward_layers(params, sizes, acts, A, A, Z, False, False, features, np.uint64(0), 0, s)
    k = sizes[sizes.size - 1]
    if out_mode == 0:
        correct[m, s] = accuracy_count(loss_code, A, o0, k, T, s)
        # no gradient wanted: the error rows are written (times 0) over the outputs, after they were read
        losses[m, s] = output_delta(loss_code, acts[acts.size - 1], A, Z, o0, k, T, s, A, 0.0)
    elif out_mode == 1:
        for j in range(k):
            out[s, j] = A[o0 + j]
    else:
        for u in range(o0 + k):
            out[u, s] = A[u]


@cuda.jit
def row_means(values, out):
    """out[m] = mean of values[m, :] (one thread a row; rows are short)."""
    m = cuda.grid(1)
    if m < values.shape[0]:
        total = 0.0
        for s in range(values.shape[1]):
            total += values[m, s]
        out[m] = total / values.shape[1]


def _grid2(m, n):
    return (max(1, (m + EVAL_TILE[0] - 1) // EVAL_TILE[0]), max(1, (n + EVAL_TILE[1] - 1) // EVAL_TILE[1]))


def bias_mask(sizes, n_params):
    """1 for the bias entries of a flat parameter vector, 0 for weights."""
    mask = np.zeros(n_params, np.int8)
    p = 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        mask[p + a * b:p + a * b + b] = 1
        p += a * b + b
    return mask


def _evaluate(P, sizes, acts, loss_code, features, X, T, out=None, out_mode=0):
    m, n = P.shape[0], X.shape[0]
    d = {name: cuda.to_device(np.ascontiguousarray(a)) for name, a in
         (("P", P), ("sizes", sizes), ("acts", acts), ("features", features), ("X", X), ("T", T))}
    losses = cuda.device_array((m, n) if out_mode == 0 else (1, 1), np.float64)
    correct = cuda.device_array((m, n) if out_mode == 0 else (1, 1), np.float64)
    d_out = cuda.to_device(out) if out is not None else cuda.device_array((1, 1), P.dtype)
    evaluate_kernel[_grid2(m, n), EVAL_TILE](d["P"], d["sizes"], d["acts"], loss_code, d["features"], d["X"],
                                             d["T"], n, losses, correct, d_out, out_mode)
    if out_mode != 0:
        d_out.copy_to_host(out)
        return None
    mean_loss = cuda.device_array(m, np.float64)
    mean_acc = cuda.device_array(m, np.float64)
    row_means[blocks(m), THREADS_PER_BLOCK](losses, mean_loss)
    row_means[blocks(m), THREADS_PER_BLOCK](correct, mean_acc)
    return mean_loss.copy_to_host(), mean_acc.copy_to_host()


def predict(params, sizes, acts, features, X, out):
    """out (n, k) <- network outputs (see kernels.cpu.predict)."""
    _evaluate(params[None, :], sizes, acts, 0, features, X, np.zeros((1, 1), X.dtype), out, 1)


def eval_grid(params, sizes, acts, features, G, out):
    """out (units, g) <- every unit's output at the points G (see kernels.cpu.eval_grid)."""
    _evaluate(params[None, :], sizes, acts, 0, features, G, np.zeros((1, 1), G.dtype), out, 2)


def loss_many(P, sizes, acts, loss_code, features, X, T, out_loss, out_acc):
    """Mean loss and accuracy of each parameter vector P[i] (see kernels.cpu.loss_many)."""
    loss, acc = _evaluate(P, sizes, acts, loss_code, features, X, T)
    out_loss[:] = loss
    out_acc[:] = acc


def dataset_loss(params, sizes, acts, loss_code, features, X, T):
    """(mean loss, accuracy) of params on X, T (see kernels.cpu.dataset_loss)."""
    loss, acc = _evaluate(params[None, :], sizes, acts, loss_code, features, X, T)
    return float(loss[0]), float(acc[0])


def loss_and_grad(params, sizes, acts, loss_code, features, X, T, l1, l2, include_bias, grad):
    """Mean loss + penalty over X, T; gradient into grad (see kernels.cpu.loss_and_grad)."""
    from kernels.cuda.train import sample_kernel

    n = X.shape[0]
    d_params = cuda.to_device(params)
    d_grad = cuda.to_device(np.zeros_like(params))
    losses = cuda.device_array((2, n), np.float64)  # per-sample losses and hits
    no_reg = cuda.to_device(np.zeros(C.N_REG))
    keep = cuda.to_device(np.ones(sizes.size))
    sample_kernel[blocks(n), THREADS_PER_BLOCK](
        d_params, cuda.to_device(sizes), cuda.to_device(acts), loss_code, cuda.to_device(features),
        cuda.to_device(X), cuda.to_device(T), cuda.to_device(np.arange(n, dtype=np.int64)), 0, n, False, no_reg,
        keep, np.uint64(0), 0, d_grad, losses)
    penalty = cuda.device_array(params.size, np.float64)
    add_penalty[blocks(params.size), THREADS_PER_BLOCK](d_params, cuda.to_device(bias_mask(sizes, params.size)),
                                                        l1, l2, include_bias, d_grad, penalty)
    d_grad.copy_to_host(grad)
    return losses.copy_to_host()[0].sum() / n + penalty.copy_to_host().sum()
