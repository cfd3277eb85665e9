"""Server-wide hooks for `panel serve apps/`: compile the kernels once, off the event loop (pages show the
progress meanwhile), and stop a tab's training threads when its session ends."""

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
    from apps.startup import KERNELS

    KERNELS.start()  # compiles in another process; pages say how far it is until it is done
    if os.environ.get("PYTHONMALLOC") != "malloc":
        print("lab: started without PYTHONMALLOC=malloc: after a class leaves, this server keeps about 100 MB "
              "more than before it (see apps/sessions.py; `make serve` sets it)", flush=True)


def on_session_destroyed(session_context):
    _importable()
    from tornado.ioloop import IOLoop

    from apps.sessions import GIVE_BACK_AFTER, give_back_memory, release

    if release(session_context.id):  # the last tab closed: its memory goes back once Bokeh let go of it
        IOLoop.current().call_later(GIVE_BACK_AFTER, give_back_memory)



def on_server_unloaded(server_context):
    _importable()
    from lab.sweep import close_shared

    close_shared()  # the Sweep page's embedded Dask cluster, if a sweep started one
