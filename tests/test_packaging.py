"""The project's shape: pyproject and environment.yml agree, imports flow apps -> lab -> kernels."""

import ast
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _requirement(text):
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", text)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(_requirement(d) for d in project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"][0] == "conda-forge"
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    conda_deps = dict(_requirement(d) for d in conda if not d.startswith(("python", "pip")))
    assert conda_deps == pip_deps
    assert "pip" in conda
    python = [d for d in conda if d.startswith("python")][0]
    assert python.replace("python", "") == project["requires-python"]
    pip_section = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert pip_section == ["-e ."]


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_import_direction_apps_lab_kernels():
    allowed = {
        "kernels": {"numpy", "numba", "math", "kernels"},
        "lab": None,  # anything except the UI packages
        "apps": None,  # anything except numba
    }
    forbidden = {"lab": {"panel", "bokeh", "apps"}, "apps": {"numba"}, "kernels": set()}
    # the one exception: History.plot's figures for notebook users, in lab/plots.py (Bokeh, never Panel)
    exempt = {ROOT / "lab" / "plots.py": {"bokeh"}}
    for package in allowed:
        for path in (ROOT / package).rglob("*.py"):
            imported = set(_imports(path)) - exempt.get(path, set())
            if allowed[package] is not None:
                assert imported <= allowed[package], f"{path} imports {imported - allowed[package]}"
            assert not imported & forbidden[package], f"{path} imports {imported & forbidden[package]}"


def test_every_kernel_is_mirrored_on_cuda():
    import kernels.cpu as cpu

    source = (ROOT / "kernels" / "cuda" / "__init__.py").read_text()
    for name in cpu.__all__:
        assert re.search(rf"\b{name}\b", source), f"kernels.cuda does not define {name}"


def test_cpu_and_cuda_mirror_each_other_file_for_file():
    import importlib

    cpu_files = {p.name for p in (ROOT / "kernels" / "cpu").glob("*.py")}
    cuda_files = {p.name for p in (ROOT / "kernels" / "cuda").glob("*.py")}
    assert cpu_files == cuda_files
    for name in sorted(cpu_files - {"__init__.py"}):
        cpu_mod = importlib.import_module(f"kernels.cpu.{name[:-3]}")
        public = {k for k in vars(cpu_mod) if not k.startswith("_") and callable(getattr(cpu_mod, k))
                  and getattr(getattr(cpu_mod, k), "__module__", "") == cpu_mod.__name__}
        cuda_source = (ROOT / "kernels" / "cuda" / name).read_text()
        shared = {k for k in public if re.search(rf"\b{k}\b", cuda_source)}
        assert shared, f"kernels/cuda/{name} shares no name with kernels/cpu/{name}"


def test_per_element_math_is_written_only_in_ops():
    """No activation, loss or optimizer formula outside kernels/ops.py: the kernels call ops for them."""
    for folder in ("cpu", "cuda"):
        for path in (ROOT / "kernels" / folder).glob("*.py"):
            source = path.read_text()
            for formula in ("math.tanh", "math.erf", "log1p", "math.sqrt", "1.0 - y * y", "LEAKY_SLOPE"):
                assert formula not in source, f"{path.name} computes {formula} itself; use kernels.ops"


def test_ruff_is_clean():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", str(ROOT)], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
