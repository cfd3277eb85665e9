import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))

from lab.engine.backend import cuda_available  # noqa: E402

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
if not SIMULATED and not cuda_available():
    pytest.skip("no CUDA device, and NUMBA_ENABLE_CUDASIM=1 was not set before numba was imported "
                "(make test runs this folder with the simulator)", allow_module_level=True)
