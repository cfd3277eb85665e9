"""Optimizer updates and learning-rate schedules: the one place where their math is written.

``lab.optimizers`` / ``lab.schedules`` call these same functions for a single step, and the fused
training kernel calls them per minibatch, so both paths give identical numbers.
Conventions follow PyTorch's ``torch.optim`` (see ``lab.optimizers`` for the formulas).
"""

import math

from numba import njit

from kernels import codes as C
from kernels.cpu.nn import INLINE


@njit(**INLINE)
def lr_at(code, hyper, base_lr, t):
    """Learning rate at epoch t (float64) for schedule ``code`` with ``hyper`` (see codes.S_*)."""
    if code == C.STEP:
        return base_lr * hyper[C.S_GAMMA] ** math.floor(t / hyper[C.S_EVERY])
    if code == C.INVERSE:
        return base_lr / (1.0 + hyper[C.S_RATE] * t)
    if code == C.EXPONENTIAL:
        return base_lr * math.exp(-hyper[C.S_RATE] * t)
    if code == C.COSINE:
        period = hyper[C.S_PERIOD]
        frac = min(t, period) / period
        low = hyper[C.S_MIN]
        return low + (base_lr - low) * 0.5 * (1.0 + math.cos(math.pi * frac))
    return base_lr


@njit(**INLINE)
def opt_update(code, hyper, lr, t, params, grad, state):
    """One update of params (in place) from grad; state: (2, n) buffers; t: 1-based update count."""
    mu = hyper[C.H_MOMENTUM]
    eps = hyper[C.H_EPS]
    n = params.size
    if code == C.SGD:
        for i in range(n):
            params[i] -= lr * grad[i]
    elif code == C.MOMENTUM:  # buf = mu buf + g; w -= lr buf
        for i in range(n):
            v = mu * state[0, i] + grad[i]
            state[0, i] = v
            params[i] -= lr * v
    elif code == C.NESTEROV:  # buf = mu buf + g; w -= lr (g + mu buf)
        for i in range(n):
            v = mu * state[0, i] + grad[i]
            state[0, i] = v
            params[i] -= lr * (grad[i] + mu * v)
    elif code == C.ADAGRAD:  # sum += g^2; w -= lr g / (sqrt(sum) + eps)
        for i in range(n):
            g = grad[i]
            c = state[1, i] + g * g
            state[1, i] = c
            params[i] -= lr * g / (math.sqrt(c) + eps)
    elif code == C.RMSPROP:  # sq = rho sq + (1-rho) g^2; buf = mu buf + g/(sqrt(sq)+eps); w -= lr buf
        rho = hyper[C.H_DECAY]
        for i in range(n):
            g = grad[i]
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
        bias1 = 1.0 - b1**t
        root_bias2 = math.sqrt(1.0 - b2**t)
        for i in range(n):
            g = grad[i]
            m = b1 * state[0, i] + (1.0 - b1) * g
            v = b2 * state[1, i] + (1.0 - b2) * g * g
            state[0, i] = m
            state[1, i] = v
            params[i] -= (lr / bias1) * m / (math.sqrt(v) / root_bias2 + eps)
