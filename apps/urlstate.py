"""A page's settings in the browser's address bar, so a link reproduces the setup.

The query travels as the data of a source that no glyph draws; a CustomJS writes it with
``history.replaceState``. It goes out in order with the page's other changes, the newest write always
wins, and moving a slider replaces the history entry instead of adding one (Back leaves the page
rather than walking through every drag). Panel's ``pn.state.location`` lagged one change behind here.
"""

from urllib.parse import urlencode

from bokeh.models import ColumnDataSource, CustomJS


class UrlState:
    def __init__(self, page):
        self.page = page
        self.source = ColumnDataSource(data={"query": [""]}, name="url_state")
        self.source.js_on_change("data", CustomJS(code="""
            const query = cb_obj.data.query[0];
            if (query) window.history.replaceState(window.history.state, "", window.location.pathname + query);"""))

    def attach(self, model):
        """The source must belong to the document: hang it on a model the page shows."""
        model.tags = [*model.tags, self.source]

    def write(self, query):
        """Replaces the whole query with ``page=...`` and these settings."""
        self.source.data = {"query": ["?" + urlencode({"page": self.page, **query})]}
