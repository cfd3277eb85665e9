"""Evaluation kernels: predictions, loss/accuracy over a data set, gradients, loss for many parameter
vectors at once (loss surfaces) and every unit's output on a grid of input points (decision boundaries).

Data sets are processed in column chunks of ``config.CHUNK`` samples so the workspace stays in cache.
"""

import numpy as np
from numba import njit, prange

from kernels.config import CHUNK, JIT, WORKERS
from kernels.cpu.losses import accuracy_count, output_delta
from kernels.cpu.nn import (
    add_penalty,
    backward_layers,
    forward_layers,
    layer_offsets,
    load_inputs,
)

PJIT = dict(JIT, parallel=True)


@njit(**JIT)
def _units(sizes):
    U = 0
    for l in range(sizes.size):
        U += sizes[l]
    return U


@njit(**JIT)
def dataset_loss(params, sizes, acts, loss_code, features, X, T):
    """(mean loss, accuracy) of params on all of X, T (accuracy is a fraction; ignore it for MSE)."""
    n = X.shape[0]
    k = sizes[-1]
    U = _units(sizes)
    offs = layer_offsets(sizes)
    no_keep, no_rng = np.empty(0), np.zeros(1, np.uint64)  # evaluation never drops units
    c = min(CHUNK, n)
    A = np.empty((U, c), params.dtype)
    Zout = np.empty((k, c), params.dtype)
    idx = np.arange(n)
    total = 0.0
    correct = 0.0
    out_code = acts[sizes.size - 2]
    for start in range(0, n, c):
        m = min(c, n - start)
        load_inputs(X, idx, start, m, features, A)
        forward_layers(params, sizes, offs, acts, A, A, Zout, m, False, no_keep, no_rng)
        total += output_delta(loss_code, out_code, A, Zout, U - k, k, T, idx, start, m, A, False)
        correct += accuracy_count(loss_code, A, U - k, k, T, idx, start, m)
    return total / n, correct / n


@njit(**JIT)
def loss_and_grad(params, sizes, acts, loss_code, features, X, T, l1, l2, include_bias, grad):
    """Mean loss (+ L1/L2 penalty) over all of X, T; writes its gradient into grad (shape of params)."""
    n = X.shape[0]
    k = sizes[-1]
    U = _units(sizes)
    offs = layer_offsets(sizes)
    no_keep, no_rng = np.empty(0), np.zeros(1, np.uint64)  # evaluation never drops units
    A = np.empty((U, n), params.dtype)
    D = np.ones((U, n), params.dtype)
    dZ = np.empty((U, n), params.dtype)
    Zout = np.empty((k, n), params.dtype)
    idx = np.arange(n)
    load_inputs(X, idx, 0, n, features, A)
    forward_layers(params, sizes, offs, acts, A, D, Zout, n, True, no_keep, no_rng)
    loss = output_delta(loss_code, acts[sizes.size - 2], A, Zout, U - k, k, T, idx, 0, n, dZ, True)
    backward_layers(params, sizes, offs, A, D, dZ, n, grad)
    return loss / n + add_penalty(params, sizes, l1, l2, include_bias, grad)


@njit(**PJIT)
def predict(params, sizes, acts, features, X, out):
    """out (n, k) <- network outputs for X (n, d_raw), in parallel over sample chunks."""
    n = X.shape[0]
    k = sizes[-1]
    U = _units(sizes)
    offs = layer_offsets(sizes)
    no_keep, no_rng = np.empty(0), np.zeros(1, np.uint64)  # evaluation never drops units
    idx = np.arange(n)
    n_chunks = (n + CHUNK - 1) // CHUNK
    for ci in prange(n_chunks):
        start = ci * CHUNK
        m = min(CHUNK, n - start)
        A = np.empty((U, m), params.dtype)
        Zout = np.empty((k, m), params.dtype)
        load_inputs(X, idx, start, m, features, A)
        forward_layers(params, sizes, offs, acts, A, A, Zout, m, False, no_keep, no_rng)
        for s in range(m):
            for j in range(k):
                out[start + s, j] = A[U - k + j, s]


@njit(**PJIT)
def eval_grid(params, sizes, acts, features, G, out):
    """out (U, g) <- every unit's output (inputs, hidden, output) at each point of G (g, 2)."""
    g = G.shape[0]
    k = sizes[-1]
    U = _units(sizes)
    offs = layer_offsets(sizes)
    no_keep, no_rng = np.empty(0), np.zeros(1, np.uint64)  # evaluation never drops units
    idx = np.arange(g)
    n_chunks = (g + CHUNK - 1) // CHUNK
    for ci in prange(n_chunks):
        start = ci * CHUNK
        m = min(CHUNK, g - start)
        A = np.empty((U, m), params.dtype)
        Zout = np.empty((k, m), params.dtype)
        load_inputs(G, idx, start, m, features, A)
        forward_layers(params, sizes, offs, acts, A, A, Zout, m, False, no_keep, no_rng)
        for u in range(U):
            for s in range(m):
                out[u, start + s] = A[u, s]


@njit(**PJIT)
def loss_many(P, sizes, acts, loss_code, features, X, T, out_loss, out_acc):
    """out_loss[i], out_acc[i] <- mean loss and accuracy of parameter vector P[i] on X, T.

    P: (m, n_params). Parallel over parameter vectors; the input features are computed once.
    """
    m = P.shape[0]
    n = X.shape[0]
    k = sizes[-1]
    U = _units(sizes)
    offs = layer_offsets(sizes)
    no_keep, no_rng = np.empty(0), np.zeros(1, np.uint64)  # evaluation never drops units
    d_in = sizes[0]
    idx = np.arange(n)
    inputs = np.empty((d_in, n), P.dtype)
    load_inputs(X, idx, 0, n, features, inputs)
    n_workers = min(m, WORKERS)
    out_code = acts[sizes.size - 2]
    for w in prange(n_workers):
        A = np.empty((U, n), P.dtype)
        Zout = np.empty((k, n), P.dtype)
        A[:d_in, :] = inputs
        for i in range(w, m, n_workers):
            forward_layers(P[i], sizes, offs, acts, A, A, Zout, n, False, no_keep, no_rng)
            out_loss[i] = output_delta(loss_code, out_code, A, Zout, U - k, k, T, idx, 0, n, A,
                                       False) / n
            out_acc[i] = accuracy_count(loss_code, A, U - k, k, T, idx, 0, n) / n
