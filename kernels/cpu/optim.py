"""Optimizer updates and learning-rate schedules over arrays. Their per-element math is
``kernels.ops.update`` and ``kernels.ops.learning_rate``.

``lab.engine.optimizers`` / ``lab.engine.schedules`` call these same functions for a single step, and
the fused training kernel calls them per minibatch, so both paths give identical numbers.
"""

from numba import njit

from kernels import codes as C
from kernels import ops
from kernels.config import INLINE


@njit(**INLINE)
def lr_at(code, hyper, base_lr, t):
    """Learning rate at epoch t (float64) for schedule ``code`` with ``hyper`` (see codes.S_*)."""
    return ops.learning_rate(code, base_lr, t, hyper[C.S_GAMMA], hyper[C.S_EVERY], hyper[C.S_RATE],
                             hyper[C.S_PERIOD], hyper[C.S_MIN])


@njit(**INLINE)
def _update_all(code, hyper, lr, t, params, grad, state):
    mu, rho, eps = hyper[C.H_MOMENTUM], hyper[C.H_DECAY], hyper[C.H_EPS]
    b1, b2, wd = hyper[C.H_BETA1], hyper[C.H_BETA2], hyper[C.H_WEIGHT_DECAY]
    c1, c2 = ops.bias_corrections(code, b1, b2, t)
    for i in range(params.size):
        w, m, v = ops.update(code, params[i], grad[i], state[0, i], state[1, i], lr, mu, rho, eps, b1, b2, wd, c1, c2)
        params[i] = w
        if code != C.SGD:  # plain SGD keeps no state: no stores the compiler must keep (the arrays may alias)
            state[0, i] = m
            state[1, i] = v


@njit(**INLINE)
def opt_update(code, hyper, lr, t, params, grad, state):
    """One update of params (in place) from grad; state: (2, n) buffers; t: 1-based update count.

    Each code gets its own copy of the loop, with the code a constant: the branches of ops.update fold
    away and the loop vectorises (a loop over a run-time code was 2x slower on 64-128-10).
    """
    if code == C.SGD:
        _update_all(C.SGD, hyper, lr, t, params, grad, state)
    elif code == C.MOMENTUM:
        _update_all(C.MOMENTUM, hyper, lr, t, params, grad, state)
    elif code == C.NESTEROV:
        _update_all(C.NESTEROV, hyper, lr, t, params, grad, state)
    elif code == C.ADAGRAD:
        _update_all(C.ADAGRAD, hyper, lr, t, params, grad, state)
    elif code == C.RMSPROP:
        _update_all(C.RMSPROP, hyper, lr, t, params, grad, state)
    elif code == C.ADAM:
        _update_all(C.ADAM, hyper, lr, t, params, grad, state)
    elif code == C.ADAMW:
        _update_all(C.ADAMW, hyper, lr, t, params, grad, state)
    else:
        _update_all(code, hyper, lr, t, params, grad, state)
