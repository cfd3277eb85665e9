"""Counter-based random numbers for CUDA threads, from the same mixing function as kernels.cpu.rng.

A draw is a pure function of (key, stream, index), so any thread draws its own numbers without shared
state. Minibatch order is shuffled on the host with the CPU stream (``shuffle``), so both backends
visit samples in the same order.
"""

from numba import cuda

from kernels import ops
from kernels.cpu.rng import shuffle

__all__ = ["normal", "shuffle", "uniform"]


@cuda.jit(device=True)
def uniform(key, stream, index):
    """Uniform [0, 1) for (key, stream, index)."""
    return ops.counter_uniform(key, stream, index)


@cuda.jit(device=True)
def normal(key, stream, index):
    """Standard normal for (key, stream, index), from two uniforms."""
    return ops.gaussian(uniform(key, stream, 2 * index), uniform(key, stream, 2 * index + 1))
