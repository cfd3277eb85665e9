"""Entry point of `panel serve apps/`: one document per browser tab, built by apps.shell."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import panel as pn  # noqa: E402

from apps.shell import build  # noqa: E402

pn.extension("filedropper")  # its scripts go into the page even when the lab is built after the first load

build().servable(title="Training lab")
