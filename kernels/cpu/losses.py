"""Loss heads: the per-sample losses and their gradients at the output units, and accuracy counts.

Layouts as in ``kernels.cpu.nn``: ``A`` and ``dZ`` are (units, batch) with the batch innermost, ``Zout``
holds the output logits, and target row ``idx[start + s]`` of ``T`` belongs to column ``s``.
"""

import math

import numpy as np
from numba import njit

from kernels import codes as C
from kernels.cpu.nn import INLINE, JIT

_ONE32 = np.float32(1.0)
_TWO32 = np.float32(2.0)
_L3, _L5, _L7, _L9, _L11 = (np.float32(1.0 / k) for k in (3, 5, 7, 9, 11))


@njit(**JIT)
def log_half32(m):
    """log(m) for float32 m in [0.5, 1]: 2 atanh((m-1)/(m+1)) as a series (abs error < 1e-7)."""
    u = (m - _ONE32) / (m + _ONE32)
    v = u * u
    return _TWO32 * u * (_ONE32 + v * (_L3 + v * (_L5 + v * (_L7 + v * (_L9 + v * _L11)))))


@njit(**JIT)
def output_delta(loss_code, out_code, A, Zout, o0, k, T, idx, start, n, dZ, want_delta):
    """Sum over the n samples of the per-sample loss; writes dZ (gradient of the *mean* loss).

    T: (n_total, k) targets, row idx[start+s] belongs to column s. Per-sample losses:
    BCE (1/k) sum_j [max(z,0) - z t + log1p(exp(-|z|))];  CE -sum_j t_j (z_j - logsumexp z);
    hinge (1/k) sum_j max(0, 1 - t y);  MSE (1/k) sum_j (y - t)^2.
    """
    total = 0.0
    inv = 1.0 / n
    if loss_code == C.BCE and A.itemsize == 4:
        return _bce32(A, Zout, o0, k, T, idx, start, n, dZ, want_delta)
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
                t = T[r, j]
                total -= t * (Zout[j, s] - lse)
                if want_delta:
                    dZ[o0 + j, s] = (A[o0 + j, s] - t) * inv
        else:
            for j in range(k):
                t = T[r, j]
                y = A[o0 + j, s]
                if loss_code == C.BCE:
                    z = Zout[j, s]
                    total += (max(z, 0.0) - z * t + math.log1p(math.exp(-abs(z)))) / k
                    g = (y - t) / k
                elif loss_code == C.HINGE:
                    margin = 1.0 - t * y
                    g = 0.0
                    if margin > 0.0:
                        total += margin / k
                        g = -t / k
                else:
                    diff = y - t
                    total += diff * diff / k
                    g = 2.0 * diff / k
                if want_delta:
                    if loss_code != C.BCE:  # BCE/sigmoid folds the derivative into y - t
                        g *= _output_derivative(out_code, y)
                    dZ[o0 + j, s] = g * inv
    return total


@njit(**INLINE)
def _bce32(A, Zout, o0, k, T, idx, start, n, dZ, want_delta):
    """BCE for float32, vectorised: log1p(exp(-|z|)) = -log(sigmoid(|z|)) = -log(max(y, 1 - y))."""
    total = 0.0
    scale = np.float32(1.0 / (k * n))
    for j in range(k):
        part = np.float32(0.0)
        for s in range(n):
            z = Zout[j, s]
            y = A[o0 + j, s]
            t = T[idx[start + s], j]
            m = y if y > np.float32(0.5) else _ONE32 - y
            part += max(z, np.float32(0.0)) - z * t - log_half32(m)
            if want_delta:
                dZ[o0 + j, s] = (y - t) * scale
        total += part / k
    return total


@njit(**JIT)
def _output_derivative(code, y):
    if code == C.TANH:
        return 1.0 - y * y
    if code == C.SIGMOID:
        return y * (1.0 - y)
    if code == C.RELU:
        return 1.0 if y > 0.0 else 0.0
    if code == C.LEAKY_RELU:
        return 1.0 if y > 0.0 else C.LEAKY_SLOPE
    return 1.0


@njit(**JIT)
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
            threshold = 0.5 if loss_code == C.BCE else 0.0
            for j in range(k):
                hits += 1.0 if (A[o0 + j, s] > threshold) == (T[r, j] > threshold) else 0.0
            correct += hits / k
    return correct
