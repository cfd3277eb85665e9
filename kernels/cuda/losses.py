"""Loss heads for one sample per thread: the CUDA side of kernels.cpu.losses (same names; the
per-element formulas are kernels.ops)."""

import math

from numba import cuda

from kernels import codes as C
from kernels import ops


@cuda.jit(device=True)
def output_delta(loss_code, out_code, A, Z, o0, k, T, r, dZ, scale):
    """The sample's loss; dZ[o0+j] = scale * dLoss/dz_j. Z: logits, target row r of T."""
    total = 0.0
    if loss_code == C.CROSS_ENTROPY:
        m = Z[0]
        for j in range(1, k):
            if Z[j] > m:  # no builtin max: see kernels.ops
                m = Z[j]
        se = 0.0
        for j in range(k):
            se += math.exp(Z[j] - m)
        lse = m + math.log(se)
        for j in range(k):
            value, g = ops.cross_entropy(Z[j] - lse, A[o0 + j], T[r, j] * 1.0)
            total += value
            dZ[o0 + j] = g * scale
        return total
    for j in range(k):
        value, g = ops.output_loss(loss_code, out_code, Z[j], A[o0 + j], T[r, j] * 1.0)
        total += value / k
        dZ[o0 + j] = g / k * scale
    return total


@cuda.jit(device=True)
def accuracy_count(loss_code, A, o0, k, T, r):
    """1 for a correct prediction of the sample (fractional over outputs for multi-output binary heads)."""
    if loss_code == C.CROSS_ENTROPY:
        best = A[o0]
        arg_y = 0
        tbest = T[r, 0]
        arg_t = 0
        for j in range(1, k):
            if A[o0 + j] > best:
                best = A[o0 + j]
                arg_y = j
            if T[r, j] > tbest:
                tbest = T[r, j]
                arg_t = j
        return 1.0 if arg_y == arg_t else 0.0
    hits = 0.0
    for j in range(k):
        hits += ops.hit(loss_code, A[o0 + j], T[r, j] * 1.0)
    return hits / k
