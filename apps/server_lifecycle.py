"""Server-wide hooks for `panel serve apps/`: compile the kernels once before the first visitor, and
stop a tab's training threads when its session ends."""

import os
import sys
from pathlib import Path

# Panel and Bokeh must serve every script and stylesheet themselves: a classroom may be offline, and
# a stylesheet added after the page loaded would otherwise point at a CDN.
os.environ["BOKEH_RESOURCES"] = "server"

ROOT = str(Path(__file__).resolve().parent.parent)


def _importable():
    # Bokeh restores sys.path after running this module, so the hooks add the checkout themselves
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


def on_server_loaded(server_context):
    from bokeh.settings import settings

    settings.resources.set_value("server")  # see BOKEH_RESOURCES above
    _importable()
    from apps.sessions import warm_up

    warm_up()


def on_session_destroyed(session_context):
    _importable()
    from apps.sessions import release

    release(session_context.id)
