"""Every notebook in examples/ runs top to bottom in a real Jupyter kernel (nbclient) without an error;
its own cells assert what the notebook teaches (accuracies, the forward pass by hand, the valley)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def test_the_examples_are_there():
    assert {p.stem for p in NOTEBOOKS} >= {"keras_from_scratch", "primer_digits", "loss_landscape",
                                           "pages_in_jupyter"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_errors(path):
    book = nbformat.read(path, as_version=4)
    # errors raise CellExecutionError, naming the cell and the traceback
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    assert shown, "the notebook showed nothing"
    if path.stem == "pages_in_jupyter":  # four pages as Panel outputs, each with its own view of the lab
        panels = [o for o in shown if "application/vnd.holoviews_exec.v0+json" in o.get("data", {})
                  and o["data"].get("text/plain", "").startswith("NotebookPage")]
        assert len(panels) == 4, [o.get("data", {}).get("text/plain") for o in shown]
    else:  # Bokeh figures (show) in every example
        assert any("application/vnd.bokehjs_exec.v0+json" in o.get("data", {}) for o in shown)
