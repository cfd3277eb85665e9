"""Loss heads: the per-sample losses and their gradients at the output units, and accuracy counts.

Layouts as in ``kernels.cpu.nn``: ``A`` and ``dZ`` are (units, batch) with the batch innermost, ``Zout``
holds the output logits, and target row ``idx[start + s]`` of ``T`` belongs to column ``s``. The
per-element formulas are ``kernels.ops`` (binary_cross_entropy, cross_entropy, hinge, squared_error).
"""

import math

import numpy as np
from numba import njit

from kernels import codes as C
from kernels import ops
from kernels.config import INLINE, JIT


@njit(**JIT)
def output_delta(loss_code, out_code, A, Zout, o0, k, T, idx, start, n, dZ, want_delta):
    """Sum over the n samples of the per-sample loss; writes dZ (gradient of the *mean* loss).

    T: (n_total, k) targets, row idx[start+s] belongs to column s. Per-sample losses:
    BCE (1/k) sum_j -[t log y + (1 - t) log(1 - y)];  CE -sum_j t_j (z_j - logsumexp z);
    hinge (1/k) sum_j max(0, 1 - t y);  MSE (1/k) sum_j (y - t)^2.
    """
    if loss_code == C.BCE and A.itemsize == 4:
        return _bce32(A, Zout, o0, k, T, idx, start, n, dZ, want_delta)
    total = 0.0
    inv = 1.0 / n
    for s in range(n):
        r = idx[start + s]
        if loss_code == C.CROSS_ENTROPY:
            m = Zout[0, s]
            for j in range(1, k):
                m = max(m, Zout[j, s])
            se = 0.0
            for j in range(k):
                se += math.exp(Zout[j, s] - m)
            lse = m + math.log(se)
            for j in range(k):
                value, g = ops.cross_entropy(Zout[j, s] - lse, A[o0 + j, s], T[r, j])
                total += value
                if want_delta:
                    dZ[o0 + j, s] = g * inv
        else:
            for j in range(k):
                value, g = ops.output_loss(loss_code, out_code, Zout[j, s], A[o0 + j, s], T[r, j])
                total += value / k
                if want_delta:
                    dZ[o0 + j, s] = g / k * inv
    return total


@njit(**INLINE)
def _bce32(A, Zout, o0, k, T, idx, start, n, dZ, want_delta):
    """BCE for float32, one vectorised loop per output unit."""
    total = 0.0
    scale = np.float32(1.0 / (k * n))
    for j in range(k):
        part = np.float32(0.0)
        for s in range(n):
            value, g = ops.binary_cross_entropy32(Zout[j, s], A[o0 + j, s], T[idx[start + s], j])
            part += value
            if want_delta:
                dZ[o0 + j, s] = g * scale
        total += part / k
    return total


@njit(**INLINE)
def accuracy_count(loss_code, A, o0, k, T, idx, start, n):
    """Correct predictions among n samples (binary: 0.5 threshold; hinge: sign; CE: argmax)."""
    correct = 0.0
    for s in range(n):
        r = idx[start + s]
        if loss_code == C.CROSS_ENTROPY:
            best, arg_y = A[o0, s], 0
            tbest, arg_t = T[r, 0], 0
            for j in range(1, k):
                if A[o0 + j, s] > best:
                    best, arg_y = A[o0 + j, s], j
                if T[r, j] > tbest:
                    tbest, arg_t = T[r, j], j
            correct += 1.0 if arg_y == arg_t else 0.0
        else:
            hits = 0.0
            for j in range(k):
                hits += ops.hit(loss_code, A[o0 + j, s], T[r, j])
            correct += hits / k
    return correct
