"""Leaf kernels of the MLP: dense layers, activations over rows, backprop, penalties, input features (the
loss heads are in ``kernels.cpu.losses``; the per-element math of all of them is in ``kernels.ops``).

Layout (shared by every kernel here and in ``kernels.cuda``):

* ``params``: one flat vector. Layer ``l`` has ``W`` of shape ``(sizes[l], sizes[l+1])`` stored row-major
  at ``w_off[l]`` and ``b`` of length ``sizes[l+1]`` right after it (Keras order W0, b0, W1, b1, ...).
* ``A``: unit outputs, shape ``(sum(sizes), batch)``, *batch innermost* so the inner loops vectorise.
  Rows ``u_off[l] : u_off[l] + sizes[l]`` hold layer ``l`` (layer 0 is the input layer).
* ``D``: same shape as ``A``; for hidden rows, activation derivative times the dropout mask.
* ``dZ``: same shape as ``A``; the error at each unit (dLoss/dz).
* ``Zout``: ``(sizes[-1], batch)``, the output logits (the stable BCE/CE formulas need them).
"""

import math

import numpy as np
from numba import njit

from kernels import codes as C
from kernels import ops
from kernels.config import BLAS_MIN_MACS, INLINE, JIT
from kernels.cpu.rng import uniform


@njit(**JIT)
def layer_offsets(sizes):
    """offs (3, L + 2) int64: rows are W offsets, b offsets (into params) and unit offsets (rows of A;
    one more entry, the total). Computed once per kernel call and passed down."""
    L = sizes.size - 1
    offs = np.zeros((3, L + 2), np.int64)
    p = 0
    for l in range(L):
        offs[0, l] = p
        p += sizes[l] * sizes[l + 1]
        offs[1, l] = p
        p += sizes[l + 1]
    for l in range(L + 1):
        offs[2, l + 1] = offs[2, l] + sizes[l]
    return offs


@njit(**INLINE)
def activate_rows(code, A, D, r0, r1, n, with_derivative):
    """A[r0:r1, :n] <- act(A) in place; with_derivative also D <- act'(z) (z: the values before).

    The math is kernels.ops.activation; the common cases get their own loops so they vectorise
    (float32 tanh and sigmoid use the fast rational tanh when no derivative is wanted).
    """
    fast = A.itemsize == 4
    for r in range(r0, r1):
        if code == C.LINEAR or code == C.SOFTMAX:
            if with_derivative:
                for s in range(n):
                    D[r, s] = 1.0
        elif code == C.RELU:
            if with_derivative:
                for s in range(n):
                    A[r, s], D[r, s] = ops.relu(A[r, s])
            else:
                for s in range(n):
                    A[r, s] = ops.relu(A[r, s])[0]
        elif fast and code == C.TANH and with_derivative:  # the common case, in one pass
            for s in range(n):
                A[r, s], D[r, s] = ops.tanh32_(A[r, s])
        elif fast and code == C.TANH:
            for s in range(n):
                A[r, s] = ops.tanh32(A[r, s])
        elif fast and code == C.SIGMOID and not with_derivative:
            for s in range(n):
                A[r, s] = ops.sigmoid32(A[r, s])
        elif with_derivative:
            for s in range(n):
                A[r, s], D[r, s] = ops.activation(code, A[r, s])
        else:
            for s in range(n):
                A[r, s] = ops.activation(code, A[r, s])[0]


@njit(**INLINE)
def softmax_columns(A, r0, k, n):
    """Softmax over rows r0:r0+k of each column (one sample per column)."""
    for s in range(n):
        m = A[r0, s]
        for j in range(1, k):
            m = max(m, A[r0 + j, s])
        total = 0.0
        for j in range(k):
            e = math.exp(A[r0 + j, s] - m)
            A[r0 + j, s] = e
            total += e
        for j in range(k):
            A[r0 + j, s] = A[r0 + j, s] / total


@njit(**INLINE)
def use_blas(A, n, fan_in, fan_out):
    """BLAS pays off for big layers; it needs the batch to fill the buffer (contiguous row blocks)."""
    return n == A.shape[1] and fan_in * fan_out * n >= BLAS_MIN_MACS


@njit(**INLINE)
def dense_forward(params, w0, b0, fan_in, fan_out, A, i0, o0, n):
    """A[o0+j, :n] = b[j] + sum_i W[i, j] A[i0+i, :n].

    Small layers go four output rows at a time: each input value is loaded once for four multiply-adds,
    and a quarter as many short batch loops pay their set-up cost (at batch 32 that cost dominates).
    """
    if use_blas(A, n, fan_in, fan_out):
        W = params[w0:w0 + fan_in * fan_out].reshape(fan_in, fan_out)
        out = A[o0:o0 + fan_out]
        np.dot(W.T, A[i0:i0 + fan_in], out)
        for j in range(fan_out):
            bj = params[b0 + j]
            for s in range(n):
                out[j, s] += bj
        return
    blocked = fan_out - fan_out % 4
    for j in range(0, blocked, 4):
        r, p = o0 + j, w0 + j
        c0, c1, c2, c3 = params[b0 + j], params[b0 + j + 1], params[b0 + j + 2], params[b0 + j + 3]
        u0, u1, u2, u3 = params[p], params[p + 1], params[p + 2], params[p + 3]
        for s in range(n):
            x = A[i0, s]
            A[r, s] = c0 + u0 * x
            A[r + 1, s] = c1 + u1 * x
            A[r + 2, s] = c2 + u2 * x
            A[r + 3, s] = c3 + u3 * x
        for i in range(1, fan_in):
            p = w0 + i * fan_out + j
            u0, u1, u2, u3 = params[p], params[p + 1], params[p + 2], params[p + 3]
            for s in range(n):
                x = A[i0 + i, s]
                A[r, s] += u0 * x
                A[r + 1, s] += u1 * x
                A[r + 2, s] += u2 * x
                A[r + 3, s] += u3 * x
    for j in range(blocked, fan_out):
        bj, u = params[b0 + j], params[w0 + j]
        for s in range(n):
            A[o0 + j, s] = bj + u * A[i0, s]
        for i in range(1, fan_in):
            u = params[w0 + i * fan_out + j]
            for s in range(n):
                A[o0 + j, s] += u * A[i0 + i, s]


@njit(**JIT)
def forward_layers(params, sizes, offs, acts, A, D, Zout, n, with_derivative, keep, rng):
    """Forward pass from the input rows already in A. Fills every layer, Zout and (optionally) D.

    keep: per-layer keep probabilities for inverted dropout on hidden units (an empty array, or
    with_derivative False, means no dropout); rng: the random stream (uint64[1]) for the masks.
    offs: layer_offsets(sizes).
    """
    L = sizes.size - 1
    for l in range(L):
        fan_in, fan_out = sizes[l], sizes[l + 1]
        i0, o0 = offs[2, l], offs[2, l + 1]
        dense_forward(params, offs[0, l], offs[1, l], fan_in, fan_out, A, i0, o0, n)
        code = acts[l]
        if l == L - 1:
            for j in range(fan_out):
                for s in range(n):
                    Zout[j, s] = A[o0 + j, s]
            if code == C.SOFTMAX:
                softmax_columns(A, o0, fan_out, n)
            else:  # the loss heads take the output derivative from Zout (kernels.ops.output_loss)
                activate_rows(code, A, D, o0, o0 + fan_out, n, False)
        else:
            activate_rows(code, A, D, o0, o0 + fan_out, n, with_derivative)
        if with_derivative and l < L - 1 and keep.size > l + 1 and keep[l + 1] < 1.0:
            dropout_rows(keep[l + 1], A, D, o0, o0 + fan_out, n, rng)


@njit(**INLINE)
def dropout_rows(p, A, D, r0, r1, n, rng):
    """Inverted dropout: kept units are scaled by 1/p (prediction then needs no change)."""
    for r in range(r0, r1):
        for s in range(n):
            m = ops.dropout(p, uniform(rng))
            A[r, s] *= m
            D[r, s] *= m


@njit(**JIT)
def backward_layers(params, sizes, offs, A, D, dZ, n, grad):
    """Backprop recursion from the output errors in dZ: the error of layer l needs only layer l+1's.

    grad[W_l] = A_l dZ_{l+1}^T,  grad[b_l] = sum_s dZ_{l+1},  dZ_l = (W_l dZ_{l+1}) * D_l.
    Small layers take four output units per batch loop, as in dense_forward.
    """
    L = sizes.size - 1
    zero = np.zeros(1, A.dtype)[0]
    for l in range(L - 1, -1, -1):
        fan_in, fan_out = sizes[l], sizes[l + 1]
        i0, o0, w0, b0 = offs[2, l], offs[2, l + 1], offs[0, l], offs[1, l]
        for j in range(fan_out):
            acc = zero
            for s in range(n):
                acc += dZ[o0 + j, s]
            grad[b0 + j] = acc
        if use_blas(A, n, fan_in, fan_out):
            W = params[w0:w0 + fan_in * fan_out].reshape(fan_in, fan_out)
            np.dot(A[i0:i0 + fan_in], dZ[o0:o0 + fan_out].T, grad[w0:w0 + fan_in * fan_out].reshape(fan_in, fan_out))
            if l > 0:
                np.dot(W, dZ[o0:o0 + fan_out], dZ[i0:i0 + fan_in])
                for i in range(fan_in):
                    for s in range(n):
                        dZ[i0 + i, s] *= D[i0 + i, s]
            continue
        blocked = fan_out - fan_out % 4
        for i in range(fan_in):
            a = i0 + i
            for j in range(0, blocked, 4):
                r = o0 + j
                g0, g1, g2, g3 = zero, zero, zero, zero
                for s in range(n):
                    x = A[a, s]
                    g0 += x * dZ[r, s]
                    g1 += x * dZ[r + 1, s]
                    g2 += x * dZ[r + 2, s]
                    g3 += x * dZ[r + 3, s]
                p = w0 + i * fan_out + j
                grad[p], grad[p + 1], grad[p + 2], grad[p + 3] = g0, g1, g2, g3
            for j in range(blocked, fan_out):
                acc = zero
                for s in range(n):
                    acc += A[a, s] * dZ[o0 + j, s]
                grad[w0 + i * fan_out + j] = acc
        if l == 0:
            continue
        for i in range(fan_in):
            a = i0 + i
            for j in range(0, blocked, 4):  # the first block assigns, the others add
                r, p = o0 + j, w0 + i * fan_out + j
                u0, u1, u2, u3 = params[p], params[p + 1], params[p + 2], params[p + 3]
                if j == 0:
                    for s in range(n):
                        dZ[a, s] = (u0 * dZ[r, s] + u1 * dZ[r + 1, s]) + (u2 * dZ[r + 2, s] + u3 * dZ[r + 3, s])
                else:
                    for s in range(n):
                        dZ[a, s] += (u0 * dZ[r, s] + u1 * dZ[r + 1, s]) + (u2 * dZ[r + 2, s] + u3 * dZ[r + 3, s])
            for j in range(blocked, fan_out):
                u = params[w0 + i * fan_out + j]
                if j == 0:
                    for s in range(n):
                        dZ[a, s] = u * dZ[o0, s]
                else:
                    for s in range(n):
                        dZ[a, s] += u * dZ[o0 + j, s]
            for s in range(n):
                dZ[a, s] *= D[a, s]


@njit(**INLINE)
def add_penalty(params, sizes, l1, l2, include_bias, grad):
    """Adds the L1/L2 subgradient to grad and returns the penalty l1 sum|w| + l2 sum w^2."""
    if l1 == 0.0 and l2 == 0.0:
        return 0.0
    offs = layer_offsets(sizes)
    penalty = 0.0
    for l in range(sizes.size - 1):
        stop = offs[1, l] + sizes[l + 1] if include_bias else offs[1, l]
        for p in range(offs[0, l], stop):
            value, g = ops.penalty(params[p], l1, l2)
            penalty += value
            grad[p] += g
    return penalty


@njit(**INLINE)
def load_inputs(X, idx, start, n, features, A):
    """A[0:d_in, s] <- features of row X[idx[start+s]] (no augmentation; evaluation path)."""
    if features[0] == C.IDENTITY:
        for c in range(X.shape[1]):  # one gather loop per column: 6x faster than per sample at batch 32
            for s in range(n):
                A[c, s] = X[idx[start + s], c]
        return
    for f in range(features.size):
        code = features[f]
        for s in range(n):
            r = idx[start + s]
            A[f, s] = ops.feature(code, X[r, 0], X[r, 1])
