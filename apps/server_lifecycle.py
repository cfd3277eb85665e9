"""Server-wide hooks for `panel serve apps/`: compile the kernels once before the first visitor, and
stop a tab's training threads when its session ends."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)


def _importable():
    # Bokeh restores sys.path after running this module, so the hooks add the checkout themselves
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


def on_server_loaded(server_context):
    _importable()
    from apps.sessions import warm_up

    warm_up()


def on_session_destroyed(session_context):
    _importable()
    from apps.sessions import release

    release(session_context.id)
