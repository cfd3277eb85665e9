"""Every CUDA kernel compiled to real PTX by NVVM for compute capabilities 8.0 and 9.0, on a machine
without a GPU: the simulator runs kernels as Python and cannot catch what only the CUDA compiler
rejects (an unsupported call, a type that does not lower).

Numba asks the current device for its compute capability when it compiles a device function, and
there is no device here; the test answers that one question with the capability being compiled for.
"""

import importlib
import inspect
import os
from pathlib import Path
from unittest import mock

import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    pytest.skip("compiling PTX needs the real CUDA target, not the simulator", allow_module_level=True)

from numba import boolean, cuda, float32, float64, int8, int64, uint64, void  # noqa: E402
from numba.cuda import dispatcher as cuda_dispatcher  # noqa: E402


def _toolkit():
    try:
        from numba.cuda.cudadrv import nvvm

        nvvm.NVVM()
        return True
    except Exception:
        return False


if not _toolkit():
    pytest.skip("the CUDA toolkit's libNVVM is not installed (needed to compile PTX; no GPU needed)",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
MODULES = [f"kernels.cuda.{p.stem}" for p in sorted((ROOT / "kernels" / "cuda").glob("*.py"))
           if p.stem != "__init__"]


def signatures(real):
    """Argument types of every global kernel, for parameters and data of dtype ``real``."""
    vec, mat = real[::1], real[:, ::1]
    ivec, f64 = int64[::1], float64[::1]
    return {
        "update_kernel": (int64, f64, float64, float64, float64, vec, vec, mat),
        "evaluate_kernel": (mat, ivec, ivec, int64, ivec, mat, mat, int64, float64[:, ::1], float64[:, ::1], mat,
                            int64),
        "row_means": (float64[:, ::1], f64),
        "add_penalty": (vec, int8[::1], float64, float64, boolean, vec, f64),
        "sample_kernel": (vec, ivec, ivec, int64, ivec, mat, mat, ivec, int64, int64, boolean, f64, f64, uint64,
                          int64, vec, float64[:, ::1]),
        "mean_into": (float64[:, ::1], int64, f64, int64),
        "zero": (vec,),
    }


def kernels():
    """(name, dispatcher) of every global kernel in kernels/cuda (device functions are compiled with them)."""
    found = []
    for module in MODULES:
        mod = importlib.import_module(module)
        for name, obj in inspect.getmembers(mod):
            if isinstance(obj, cuda_dispatcher.CUDADispatcher) and obj.__module__ == module \
                    and not obj.targetoptions.get("device"):
                found.append((name, obj))
    return found


class _Device:
    def __init__(self, cc):
        self.compute_capability = cc


def test_every_kernel_has_a_signature_here():
    names = {name for name, _ in kernels()}
    assert names, "no CUDA kernels found"
    assert names == set(signatures(float32)), "add the new kernel's argument types to signatures()"


@pytest.mark.parametrize("cc", [(8, 0), (9, 0)])
@pytest.mark.parametrize("real", [float32, float64], ids=["float32", "float64"])
def test_every_kernel_compiles_to_ptx(cc, real):
    types = signatures(real)
    with mock.patch.object(cuda_dispatcher, "get_current_device", lambda: _Device(cc)):
        for name, kernel in kernels():
            ptx, _ = cuda.compile_ptx(kernel.py_func, void(*types[name]), cc=cc)
            assert f".target sm_{cc[0]}{cc[1]}" in ptx, name
            assert ".entry" in ptx and len(ptx) > 500, name
