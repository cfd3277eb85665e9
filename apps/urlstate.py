"""A page's settings in the browser's address bar, so a link reproduces the setup.

The query travels as the data of a source that no glyph draws; a CustomJS writes it with
``history.replaceState``. It goes out in order with the page's other changes, the newest write always
wins, and moving a slider replaces the history entry instead of adding one (Back leaves the page
rather than walking through every drag). Panel's ``pn.state.location`` lagged one change behind here.
"""

from urllib.parse import urlencode

import panel as pn
from bokeh.models import ColumnDataSource, CustomJS


class UrlState:
    def __init__(self, page):
        self.page = page
        self.source = ColumnDataSource(data={"query": [""]}, name="url_state")
        self.source.js_on_change("data", CustomJS(code="""
            const query = cb_obj.data.query[0];
            if (query) window.history.replaceState(window.history.state, "", window.location.pathname + query);"""))
        # Until the browser is connected a write would go out inside the document, where no change event
        # runs the CustomJS; so the newest query waits and is written once the page has loaded.
        self.connected = False
        self.waiting = None
        pn.state.onload(self.on_connected)

    def attach(self, model):
        """The source must belong to the document: hang it on a model the page shows."""
        model.tags = [*model.tags, self.source]

    def write(self, query):
        """Replaces the whole query with ``page=...`` and these settings."""
        text = "?" + urlencode({"page": self.page, **query})
        if self.connected:
            self.source.data = {"query": [text]}
        else:
            self.waiting = text

    def on_connected(self):
        self.connected = True
        if self.waiting is not None:
            self.source.data = {"query": [self.waiting]}
