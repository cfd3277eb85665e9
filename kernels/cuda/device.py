"""CUDA device functions: one sample's forward pass, loss, error and backprop, in thread-local arrays.

The formulas mirror kernels.cpu.nn line for line (same codes, same loss definitions). Locals are
float64 whatever the model dtype; parameters and gradients keep the model dtype.
Random numbers are counter-based (splitmix64 of key, stream, index) so any thread can draw its own.
"""

import math

import numpy as np
from numba import cuda

from kernels import codes as C

LOCAL_UNITS = 1536  # most units (all layers together) one thread can hold: enough for 784-512-10
LOCAL_RAW = 1024    # most raw input columns (28 x 28 images)
MAX_LAYERS = 32

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@cuda.jit(device=True)
def mix(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@cuda.jit(device=True)
def uniform(key, stream, index):
    """Uniform [0, 1) for (key, stream, index): a pure function, so threads need no shared state."""
    z = mix(key + np.uint64(stream) * _GOLDEN) + np.uint64(index) * _GOLDEN
    return (mix(z) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@cuda.jit(device=True)
def normal(key, stream, index):
    u1 = 1.0 - uniform(key, stream, 2 * index)
    u2 = uniform(key, stream, 2 * index + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@cuda.jit(device=True)
def activate(code, z):
    if code == C.TANH:
        return math.tanh(z)
    if code == C.SIGMOID:
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if code == C.RELU:
        return max(z, 0.0)
    if code == C.LEAKY_RELU:
        return z if z > 0.0 else C.LEAKY_SLOPE * z
    return z


@cuda.jit(device=True)
def derivative(code, y):
    if code == C.TANH:
        return 1.0 - y * y
    if code == C.SIGMOID:
        return y * (1.0 - y)
    if code == C.RELU:
        return 1.0 if y > 0.0 else 0.0
    if code == C.LEAKY_RELU:
        return 1.0 if y > 0.0 else C.LEAKY_SLOPE
    return 1.0


@cuda.jit(device=True)
def feature(code, x1, x2):
    if code == C.X1:
        return x1
    if code == C.X2:
        return x2
    if code == C.X1_SQ:
        return x1 * x1
    if code == C.X2_SQ:
        return x2 * x2
    if code == C.X1_X2:
        return x1 * x2
    if code == C.SIN_X1:
        return math.sin(x1)
    return math.sin(x2)


@cuda.jit(device=True)
def load_sample(X, r, features, A, raw, tmp, training, reg, keep0, key, stream, s):
    """A[0:d_in] <- inputs of row r; while training also augmentation, input noise, input dropout."""
    d_raw = X.shape[1]
    for c in range(d_raw):
        raw[c] = X[r, c]
    draw = 0  # index of the next random number this sample takes in this stream
    if training:
        shift = int(reg[C.R_SHIFT])
        if shift > 0:
            side = int(reg[C.R_SIDE])
            dx = int(uniform(key, stream, s * 4096 + draw) * (2 * shift + 1)) - shift
            dy = int(uniform(key, stream, s * 4096 + draw + 1) * (2 * shift + 1)) - shift
            draw += 2
            for rr in range(side):
                for cc in range(side):
                    a, b = rr - dy, cc - dx
                    tmp[rr * side + cc] = raw[a * side + b] if (0 <= a < side and 0 <= b < side) else 0.0
            for i in range(side * side):
                raw[i] = tmp[i]
        mask = int(reg[C.R_SYMMETRY])
        if mask > 0:
            count = 0
            for g in range(8):
                count += (mask >> g) & 1
            pick = int(uniform(key, stream, s * 4096 + draw) * count)
            draw += 1
            for g in range(8):
                if (mask >> g) & 1:
                    if pick == 0:
                        x, y = raw[0], raw[1]
                        # rows of kernels.cpu.train._D4
                        if g == 1:
                            raw[0], raw[1] = -y, x
                        elif g == 2:
                            raw[0], raw[1] = -x, -y
                        elif g == 3:
                            raw[0], raw[1] = y, -x
                        elif g == 4:
                            raw[0] = -x
                        elif g == 5:
                            raw[1] = -y
                        elif g == 6:
                            raw[0], raw[1] = y, x
                        elif g == 7:
                            raw[0], raw[1] = -y, -x
                        break
                    pick -= 1
        sigma = reg[C.R_JITTER]
        if sigma > 0.0:
            for i in range(d_raw):
                raw[i] += sigma * normal(key, stream, s * 4096 + draw)
                draw += 1
    identity = features[0] == C.IDENTITY
    d_in = d_raw if identity else features.size
    for f in range(d_in):
        v = raw[f] if identity else feature(features[f], raw[0], raw[1])
        if training:
            if reg[C.R_NOISE] > 0.0:
                v += reg[C.R_NOISE] * normal(key, stream, s * 4096 + draw)
                draw += 1
            if keep0 < 1.0:
                v = v / keep0 if uniform(key, stream, s * 4096 + draw) < keep0 else 0.0
                draw += 1
        A[f] = v


@cuda.jit(device=True)
def forward_sample(params, sizes, acts, A, D, Z, with_derivative, training, keep, key, stream, s):
    """Forward pass of one sample from the inputs in A; returns the output layer's unit offset.

    with_derivative: write act'(z) (times the dropout mask) into D; training: apply dropout."""
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
                A[o0 + j] = acc if code == C.SOFTMAX else activate(code, acc)
            else:
                y = activate(code, acc)
                d = derivative(code, y)
                if training and keep[l + 1] < 1.0:
                    m = 1.0 / keep[l + 1] if uniform(key, stream, 1_000_003 * (o0 + j) + s) < keep[l + 1] else 0.0
                    y *= m
                    d *= m
                A[o0 + j] = y
                if with_derivative:
                    D[o0 + j] = d
        if l == L - 1 and code == C.SOFTMAX:
            m = A[o0]
            for j in range(1, fo):
                m = max(m, A[o0 + j])
            total = 0.0
            for j in range(fo):
                e = math.exp(A[o0 + j] - m)
                A[o0 + j] = e
                total += e
            for j in range(fo):
                A[o0 + j] = A[o0 + j] / total
    return u


@cuda.jit(device=True)
def sample_loss(loss_code, out_code, A, Z, o0, k, T, r, dZ, scale):
    """Per-sample loss (kernels.cpu.losses.output_delta's formulas); dZ[o0+j] = scale * dLoss/dz."""
    total = 0.0
    if loss_code == C.CROSS_ENTROPY:
        m = Z[0]
        for j in range(1, k):
            m = max(m, Z[j])
        se = 0.0
        for j in range(k):
            se += math.exp(Z[j] - m)
        lse = m + math.log(se)
        for j in range(k):
            t = T[r, j]
            total -= t * (Z[j] - lse)
            dZ[o0 + j] = (A[o0 + j] - t) * scale
        return total
    for j in range(k):
        t = T[r, j]
        y = A[o0 + j]
        if loss_code == C.BCE:
            z = Z[j]
            total += (max(z, 0.0) - z * t + math.log1p(math.exp(-abs(z)))) / k
            g = (y - t) / k
        elif loss_code == C.HINGE:
            margin = 1.0 - t * y
            g = 0.0
            if margin > 0.0:
                total += margin / k
                g = -t / k
            g *= derivative(out_code, y)
        else:
            diff = y - t
            total += diff * diff / k
            g = 2.0 * diff / k * derivative(out_code, y)
        dZ[o0 + j] = g * scale
    return total


@cuda.jit(device=True)
def sample_correct(loss_code, A, o0, k, T, r):
    """1 for a correct prediction (fractional over outputs for multi-output binary heads)."""
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
    threshold = 0.5 if loss_code == C.BCE else 0.0
    hits = 0.0
    for j in range(k):
        hits += 1.0 if (A[o0 + j] > threshold) == (T[r, j] > threshold) else 0.0
    return hits / k


@cuda.jit(device=True)
def backward_sample(params, sizes, A, D, dZ, grad):
    """Backprop of one sample's errors in dZ, adding its weight and bias gradients atomically."""
    L = sizes.size - 1
    w_off = cuda.local.array(MAX_LAYERS, np.int64)
    u_off = cuda.local.array(MAX_LAYERS + 1, np.int64)
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
