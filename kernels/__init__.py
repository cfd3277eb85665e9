"""Compiled numerics for the lab: Numba CPU kernels in ``kernels.cpu``, CUDA kernels in ``kernels.cuda``.

This package imports only numpy, numba and math. Integer codes shared by both backends live in
``kernels.codes``; tunables live in ``kernels.config``.
"""
