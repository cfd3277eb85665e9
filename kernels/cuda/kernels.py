"""CUDA global kernels, launched by the host functions in kernels.cuda (same names as kernels.cpu)."""

import math

import numpy as np
from numba import cuda

from kernels import codes as C
from kernels.cuda.device import (
    LOCAL_RAW,
    LOCAL_UNITS,
    backward_sample,
    forward_sample,
    load_sample,
    sample_correct,
    sample_loss,
)


@cuda.jit
def k_samples(params, sizes, acts, loss_code, features, X, T, perm, start, b, training, reg, keep, key, stream,
              grad, losses):
    """One thread per minibatch sample: inputs, forward, loss into losses[s], gradient added to grad."""
    s = cuda.grid(1)
    if s >= b:
        return
    A = cuda.local.array(LOCAL_UNITS, np.float64)
    D = cuda.local.array(LOCAL_UNITS, np.float64)
    dZ = cuda.local.array(LOCAL_UNITS, np.float64)
    Z = cuda.local.array(LOCAL_RAW, np.float64)
    raw = cuda.local.array(LOCAL_RAW, np.float64)
    tmp = cuda.local.array(LOCAL_RAW, np.float64)
    r = perm[start + s]
    load_sample(X, r, features, A, raw, tmp, training, reg, keep[0], key, stream, s)
    o0 = forward_sample(params, sizes, acts, A, D, Z, True, training, keep, key, stream, s)
    k = sizes[sizes.size - 1]
    losses[s] = sample_loss(loss_code, acts[acts.size - 1], A, Z, o0, k, T, r, dZ, 1.0 / b)
    backward_sample(params, sizes, A, D, dZ, grad)


@cuda.jit
def k_evaluate(P, sizes, acts, loss_code, features, X, T, n, losses, correct, out, out_mode):
    """Thread (m, s): forward of parameter vector P[m] on sample s. out_mode 0: loss and correctness
    into losses[m, s], correct[m, s]; 1: outputs into out[s, :]; 2: every unit into out[:, s]."""
    m, s = cuda.grid(2)
    if m >= P.shape[0] or s >= n:
        return
    A = cuda.local.array(LOCAL_UNITS, np.float64)
    Z = cuda.local.array(LOCAL_RAW, np.float64)
    raw = cuda.local.array(LOCAL_RAW, np.float64)
    params = P[m]
    load_sample(X, s, features, A, raw, raw, False, features, 1.0, np.uint64(0), 0, s)
    o0 = forward_sample(params, sizes, acts, A, A, Z, False, False, features, np.uint64(0), 0, s)
    k = sizes[sizes.size - 1]
    if out_mode == 0:
        correct[m, s] = sample_correct(loss_code, A, o0, k, T, s)
        # no gradient wanted: the error rows are written (times 0) over the outputs, after they were read
        losses[m, s] = sample_loss(loss_code, acts[acts.size - 1], A, Z, o0, k, T, s, A, 0.0)
    elif out_mode == 1:
        for j in range(k):
            out[s, j] = A[o0 + j]
    else:
        for u in range(o0 + k):
            out[u, s] = A[u]


@cuda.jit
def k_row_means(values, out):
    """out[m] = mean of values[m, :] (one thread a row; rows are short)."""
    m = cuda.grid(1)
    if m < values.shape[0]:
        total = 0.0
        for s in range(values.shape[1]):
            total += values[m, s]
        out[m] = total / values.shape[1]


@cuda.jit
def k_sum_into(values, n, out, index):
    """out[index] = sum(values[:n]) (a single thread: minibatches are small)."""
    if cuda.grid(1) == 0:
        total = 0.0
        for s in range(n):
            total += values[s]
        out[index] = total / n


@cuda.jit
def k_penalty(params, is_bias, l1, l2, include_bias, grad, penalty):
    """Adds the L1/L2 subgradient (kernels.cpu.nn.add_penalty) and writes each term into penalty."""
    p = cuda.grid(1)
    if p >= params.size:
        return
    penalty[p] = 0.0
    if (l1 == 0.0 and l2 == 0.0) or (is_bias[p] and not include_bias):
        return
    w = params[p] * 1.0
    sign = 1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0)
    penalty[p] = l1 * abs(w) + l2 * w * w
    grad[p] += l1 * sign + 2.0 * l2 * w


@cuda.jit
def k_update(code, hyper, lr, bias1, root_bias2, params, grad, state):
    """One optimizer update per parameter (kernels.cpu.optim.opt_update's formulas)."""
    i = cuda.grid(1)
    if i >= params.size:
        return
    mu = hyper[C.H_MOMENTUM]
    eps = hyper[C.H_EPS]
    g = grad[i] * 1.0
    if code == C.SGD:
        params[i] -= lr * g
    elif code == C.MOMENTUM:
        v = mu * state[0, i] + g
        state[0, i] = v
        params[i] -= lr * v
    elif code == C.NESTEROV:
        v = mu * state[0, i] + g
        state[0, i] = v
        params[i] -= lr * (g + mu * v)
    elif code == C.ADAGRAD:
        c = state[1, i] + g * g
        state[1, i] = c
        params[i] -= lr * g / (math.sqrt(c) + eps)
    elif code == C.RMSPROP:
        rho = hyper[C.H_DECAY]
        c = rho * state[1, i] + (1.0 - rho) * g * g
        state[1, i] = c
        step = g / (math.sqrt(c) + eps)
        if mu > 0.0:
            step = mu * state[0, i] + step
            state[0, i] = step
        params[i] -= lr * step
    elif code == C.ADAM:
        b1 = hyper[C.H_BETA1]
        b2 = hyper[C.H_BETA2]
        m = b1 * state[0, i] + (1.0 - b1) * g
        v = b2 * state[1, i] + (1.0 - b2) * g * g
        state[0, i] = m
        state[1, i] = v
        params[i] -= (lr / bias1) * m / (math.sqrt(v) / root_bias2 + eps)


@cuda.jit
def k_zero(a):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = 0.0
