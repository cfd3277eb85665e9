"""One sample's forward pass, backprop and input features in thread-local arrays, and the L1/L2 penalty
kernel: the CUDA side of kernels.cpu.nn (same names, one sample per thread instead of a batch).

Locals are float64 whatever the model dtype; parameters and gradients keep the model dtype. The
per-element math is kernels.ops, shared with the CPU.
"""

import math

import numpy as np
from numba import cuda

from kernels import codes as C
from kernels import ops
from kernels.config import MAX_LAYERS, MAX_LAYERS_PLUS_ONE
from kernels.cuda.rng import uniform


@cuda.jit(device=True)
def load_inputs(X, r, features, A):
    """A[0:d_in] <- the features of row r of X (evaluation: no augmentation or noise)."""
    if features[0] == C.IDENTITY:
        for c in range(X.shape[1]):
            A[c] = X[r, c]
    else:
        for f in range(features.size):
            A[f] = ops.feature(features[f], X[r, 0], X[r, 1])


@cuda.jit(device=True)
def forward_layers(params, sizes, acts, A, D, Z, with_derivative, training, keep, key, stream, s):
    """Forward pass of one sample from the inputs in A; returns the output layer's unit offset.

    Z: the output logits. with_derivative: write act'(z) (times the dropout mask) into D; training: apply
    dropout to hidden units (inverted, as on the CPU)."""
    L = sizes.size - 1
    p = 0
    u = 0
    for l in range(L):
        fi = sizes[l]
        fo = sizes[l + 1]
        w0 = p
        b0 = p + fi * fo
        p = b0 + fo
        i0 = u
        o0 = u + fi
        u = o0
        code = acts[l]
        for j in range(fo):
            acc = params[b0 + j] * 1.0
            for i in range(fi):
                acc += params[w0 + i * fo + j] * A[i0 + i]
            if l == L - 1:
                Z[j] = acc
                A[o0 + j] = acc if code == C.SOFTMAX else ops.activation(code, acc)[0]
            else:
                y, d = ops.activation(code, acc)
                if training and keep[l + 1] < 1.0:
                    m = ops.dropout(keep[l + 1], uniform(key, stream, 1_000_003 * (o0 + j) + s))
                    y *= m
                    d *= m
                A[o0 + j] = y
                if with_derivative:
                    D[o0 + j] = d
        if l == L - 1 and code == C.SOFTMAX:
            m = A[o0]
            for j in range(1, fo):
                if A[o0 + j] > m:  # no builtin max: see kernels.ops
                    m = A[o0 + j]
            total = 0.0
            for j in range(fo):
                e = math.exp(A[o0 + j] - m)
                A[o0 + j] = e
                total += e
            for j in range(fo):
                A[o0 + j] = A[o0 + j] / total
    return u


@cuda.jit(device=True)
def backward_layers(params, sizes, A, D, dZ, grad):
    """Backprop of one sample's errors in dZ, adding its weight and bias gradients atomically."""
    L = sizes.size - 1
    w_off = cuda.local.array(MAX_LAYERS, np.int64)
    u_off = cuda.local.array(MAX_LAYERS_PLUS_ONE, np.int64)
    p = 0
    u = 0
    for l in range(L):
        w_off[l] = p
        p += sizes[l] * sizes[l + 1] + sizes[l + 1]
        u_off[l] = u
        u += sizes[l]
    u_off[L] = u
    for l in range(L - 1, -1, -1):
        fi = sizes[l]
        fo = sizes[l + 1]
        w0 = w_off[l]
        b0 = w0 + fi * fo
        i0 = u_off[l]
        o0 = u_off[l + 1]
        for j in range(fo):
            cuda.atomic.add(grad, b0 + j, dZ[o0 + j])
        for i in range(fi):
            a = A[i0 + i]
            acc = 0.0
            for j in range(fo):
                cuda.atomic.add(grad, w0 + i * fo + j, a * dZ[o0 + j])
                acc += params[w0 + i * fo + j] * dZ[o0 + j]
            if l > 0:
                dZ[i0 + i] = acc * D[i0 + i]


@cuda.jit
def add_penalty(params, is_bias, l1, l2, include_bias, grad, penalty):
    """Adds the L1/L2 subgradient to grad and writes each parameter's penalty into penalty."""
    p = cuda.grid(1)
    if p >= params.size:
        return
    penalty[p] = 0.0
    if (l1 == 0.0 and l2 == 0.0) or (is_bias[p] and not include_bias):
        return
    value, g = ops.penalty(params[p] * 1.0, l1, l2)
    penalty[p] = value
    grad[p] += g
