"""A page's settings in the browser's address bar, so a link reproduces the setup.

The query travels as the data of a source that no glyph draws; a CustomJS writes it with
``history.replaceState``. It goes out in order with the page's other changes, the newest write always
wins, and moving a slider replaces the history entry instead of adding one (Back leaves the page
rather than walking through every drag). Panel's ``pn.state.location`` lagged one change behind here.
"""

from urllib.parse import urlencode

import panel as pn
from bokeh.models import ColumnDataSource, CustomJS

# keys of the address that are not the page's settings and stay in it as they change: the lesson and its
# step, and teacher mode (apps.teacher), so what a link hides stays hidden after Reset and Next
KEPT = ("lesson", "step", "controls", "text", "present", "sidebar")


class UrlState:
    def __init__(self, page):
        self.page = page
        self.keep = {}
        self.query = {}
        self.source = ColumnDataSource(data={"query": [""]}, name="url_state")
        self.source.js_on_change("data", CustomJS(code="""
            const query = cb_obj.data.query[0];
            if (query) window.history.replaceState(window.history.state, "", window.location.pathname + query);"""))
        # Until the browser is connected a write would go out inside the document, where no change event
        # runs the CustomJS; so the newest query waits and is written once the page has loaded.
        self.connected = False
        self.written = False
        pn.state.onload(self.on_connected)

    def attach(self, model):
        """The source must belong to the document: hang it on a model the page shows."""
        model.tags = [*model.tags, self.source]

    def keep_from(self, query):
        """The KEPT keys of the address the page was opened with stay in every query written."""
        self.keep = {k: query[k] for k in KEPT if k in query}

    def text(self):
        return "?" + urlencode({"page": self.page, **self.keep, **self.query})

    def write(self, query=None):
        """Replaces the whole query with ``page=...``, the kept keys and these settings (None: the last ones
        again, after a kept key changed)."""
        if query is not None:
            self.query = dict(query)
        self.written = True
        if self.connected:
            self.source.data = {"query": [self.text()]}

    def on_connected(self):
        self.connected = True
        if self.written:
            self.source.data = {"query": [self.text()]}
