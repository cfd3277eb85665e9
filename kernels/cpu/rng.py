"""A random stream (splitmix64) kept in a caller-owned uint64[1] array.

Numba's own np.random state is per thread; sessions share threads, so every kernel that draws
takes its stream explicitly. The mixing function is ``kernels.ops.mix64``; ``kernels.cuda.rng`` draws
from the same function by counter, so any GPU thread can draw its own numbers.
"""

import numpy as np
from numba import njit

from kernels import ops
from kernels.config import INLINE, JIT

_S32 = np.uint64(32)


@njit(**INLINE)
def next_u64(state):
    z = state[0] + ops.GOLDEN
    state[0] = z
    return ops.mix64(z)


@njit(**INLINE)
def uniform(state):
    """Uniform float64 in [0, 1)."""
    return ops.unit_float(next_u64(state))


@njit(**INLINE)
def normal(state):
    """Standard normal (Box-Muller, one value per call)."""
    u1 = uniform(state)
    return ops.gaussian(u1, uniform(state))


@njit(**INLINE)
def below(state, m):
    """Integer in [0, m) for m < 2**32, by multiply-shift (Lemire): no slow 64-bit division."""
    return np.int64(((next_u64(state) >> _S32) * np.uint64(m)) >> _S32)


@njit(**JIT)
def shuffle(perm, state):
    """Fisher-Yates shuffle in place."""
    for i in range(perm.size - 1, 0, -1):
        j = below(state, i + 1)
        perm[i], perm[j] = perm[j], perm[i]
