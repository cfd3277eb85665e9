"""The lab's pages as notebook cells. After ``pn.extension()``:

    >>> from apps import notebook
    >>> notebook.playground(dataset="xor", hidden="8,8")       # the Playground, live, in the cell
    >>> notebook.race(surface="rosenbrock", racers="momentum,rmsprop")
    >>> notebook.landscape(dataset="circle")
    >>> notebook.playground(model=trained, dataset="circle")  # starts from a model trained in the notebook

Settings are named as in the page's link (``opt.learning_rate`` and the like: pass them with
``**{"opt.learning_rate": 0.1}``). A served page is driven by the server's pacer; in a notebook there is
no server session, so each page gets a timer on the kernel's event loop that draws its frames and sends
the changes over the notebook's comm in one message (as Panel's own notebook callbacks do). Bad settings
give a message in the page, as a bad link does.

Everything a page does runs on that loop's thread. Recent Jupyter front ends (JupyterLab 4.4+, Notebook
7.4+, with ipykernel 7) send comm messages over a kernel subshell, and ipykernel handles them on that
subshell's own thread: a press of Play would run alongside the page's frame. (It did: the frame saw the
button pressed and the run not yet started, took it for a run that had stopped, and pressed Pause.) So the
page's root hands each message from the browser to the loop, in order.
"""

import asyncio
import importlib
import logging
import threading
import traceback

import panel as pn
from panel.io.notebook import push
from panel.io.state import state

MODULES = {"playground": "apps.playground.page", "race": "apps.race", "landscape": "apps.landscape"}
FRAME_MS = 50
log = logging.getLogger(__name__)


def _link_value(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def query_for(model):
    """The Playground settings that rebuild ``model``'s architecture (a lab.MLP)."""
    query = {"hidden": ",".join(str(s) for s in model.sizes[1:-1]), "activation": ",".join(model.activations),
             "output": model.output, "loss": model.loss, "init": model.init, "dtype": model.dtype.name}
    if model.features:
        query["features"] = ",".join(model.features)
    return query


class NotebookPage(pn.viewable.Viewer):
    """One page in a notebook cell; ``page`` is the page object (apps.playground.page.Playground, ...)."""

    def __init__(self, name, settings, model=None):
        super().__init__()
        query = {k: _link_value(v) for k, v in settings.items()}
        if model is not None:
            query = {**query_for(model), **query}
        self.page = importlib.import_module(MODULES[name]).build(query)
        if model is not None:
            self.page.set_weights(model.get_weights())
        sidebar, main = self.page.view()
        self.layout = pn.Row(pn.Column(sidebar, width=340), main, sizing_mode="stretch_width")
        self.failure = None  # the last error a frame raised, reported once
        self.loop, self.thread = _running_loop(), threading.get_ident()
        # Panel hands messages from the browser to the rendered root's _on_msg (bound when the cell is shown)
        self.handle = self.layout._on_msg
        self.layout._on_msg = self.on_msg
        self.timer = pn.state.add_periodic_callback(self.tick, period=FRAME_MS)

    def __panel__(self):
        return self.layout

    def tick(self):
        """One frame for every place the cell is shown. Never raises: in a notebook, Panel's timer stops for
        good at its callback's first exception, and the page would freeze without a word."""
        try:
            self.frame()
            self.failure = None
        except Exception as err:
            if repr(err) != self.failure:  # (not 20 times a second)
                self.failure = repr(err)
                log.error("a frame of the notebook's %s failed:\n%s", type(self.page).__name__,
                          traceback.format_exc())
                messages = getattr(self.page, "messages", None)
                if messages is not None:
                    messages.show(f"Display error: {type(err).__name__}: {err}", "danger")

    def on_msg(self, ref, manager, msg):
        """A message from the browser, handled on the loop that runs the timer (see the module docstring)."""
        if self.loop is None or threading.get_ident() == self.thread:
            self.handle(ref, manager, msg)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._handle_logged, ref, manager, msg)

    def _handle_logged(self, ref, manager, msg):
        try:
            self.handle(ref, manager, msg)
        except Exception:  # (on its own thread Panel would have reported it to the browser's console)
            log.error("a message from the browser failed:\n%s", traceback.format_exc())

    def frame(self):
        """The page's changes for every view of the cell, held and pushed as one message over its comm."""
        for ref in list(self.layout._models):
            view = state._views.get(ref)
            if view is None:
                continue
            _, _, doc, comm = view
            if comm is None:
                continue
            held = doc.callbacks.hold_value
            doc.hold("combine")
            try:
                self.page.tick()
            finally:
                push(doc, comm)
                doc.hold(held)

    def stop(self):
        """Stops the page's timer and its training threads."""
        self.timer.stop()
        self.page.stop()


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # (no loop: nothing else runs the page either)
        return None


def playground(model=None, **settings):
    """The Playground; with ``model`` (a lab.MLP), its architecture and weights to start from."""
    return NotebookPage("playground", settings, model)


def race(**settings):
    return NotebookPage("race", settings)


def landscape(**settings):
    return NotebookPage("landscape", settings)
