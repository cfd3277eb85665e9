"""Choosing the kernel module: ``kernels.cpu`` or ``kernels.cuda`` (same names and signatures)."""

import importlib

BACKENDS = ("cpu", "cuda", "auto")


def cuda_available():
    """True when numba sees a CUDA device (or the CUDA simulator is on). Never raises."""
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:  # a broken driver or toolkit means: no GPU for us
        return False


def resolve(name="cpu"):
    """(backend name, kernel module) for 'cpu', 'cuda' or 'auto' (CUDA when available, else CPU)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {list(BACKENDS)}")
    if name == "auto":
        name = "cuda" if cuda_available() else "cpu"
    if name == "cuda" and not cuda_available():
        raise ValueError("backend='cuda' was requested but no CUDA device was found "
                         "(numba.cuda.is_available() is False); use backend='cpu' or backend='auto'")
    return name, importlib.import_module(f"kernels.{name}")
