"""A counter-based random stream (splitmix64) kept in a caller-owned uint64[1] array.

Numba's own np.random state is per thread; sessions share threads, so every kernel that draws
takes its stream explicitly. The same generator runs on CUDA, so both backends draw the same numbers.
"""

import math

import numpy as np
from numba import njit

from kernels.config import ERROR_MODEL, FASTMATH

JIT = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
INLINE = dict(JIT, inline="always")  # called per element: no per-call refcounting of the state array

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(**INLINE)
def next_u64(state):
    z = state[0] + _GOLDEN
    state[0] = z
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(**INLINE)
def uniform(state):
    """Uniform float64 in [0, 1)."""
    return (next_u64(state) >> _S11) * _TWO_M53


@njit(**INLINE)
def normal(state):
    """Standard normal (Box-Muller, one value per call)."""
    u1 = 1.0 - uniform(state)
    u2 = uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


_S32 = np.uint64(32)


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
