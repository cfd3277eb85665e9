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
"""

import importlib

import panel as pn
from panel.io.notebook import push
from panel.io.state import state

MODULES = {"playground": "apps.playground.page", "race": "apps.race", "landscape": "apps.landscape"}
FRAME_MS = 50


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
        self.timer = pn.state.add_periodic_callback(self.tick, period=FRAME_MS)

    def __panel__(self):
        return self.layout

    def tick(self):
        """One frame for every place the cell is shown: the page's changes are held and pushed as one
        message over that view's comm."""
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


def playground(model=None, **settings):
    """The Playground; with ``model`` (a lab.MLP), its architecture and weights to start from."""
    return NotebookPage("playground", settings, model)


def race(**settings):
    return NotebookPage("race", settings)


def landscape(**settings):
    return NotebookPage("landscape", settings)
