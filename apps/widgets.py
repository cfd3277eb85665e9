"""Widgets built from param declarations (bounds and docs become ranges and tooltips), a log-scale
slider, and the error guard every callback goes through."""

import functools
import io
import logging
import math
import os
import traceback

import panel as pn
import param
from bokeh.models import ColumnDataSource, DataRange1d
from bokeh.plotting import figure as bokeh_figure

from apps.wire import held_when_unlocked

log = logging.getLogger("lab.apps")
LOG_PARAMETERS = ("learning_rate",)
MAX_MESSAGE = 600
TEXT_NUMBERS = ("eps",)


def figure(**kwargs):
    """A Bokeh figure whose browser-side changes stay in the browser.

    BokehJS reports back to the server what it changes in a plot: an auto-fitted range's ends after
    every redraw of a growing curve, the plot's size after a layout. With a class connected, that was
    one incoming message per frame per tab, each decoded against the whole page on the server's one
    event loop, for values the server never reads. Data sources, selections and tap events still
    reach the server."""
    p = bokeh_figure(**kwargs)
    p.syncable = False
    for r in (p.x_range, p.y_range):
        if isinstance(r, DataRange1d):  # a fixed range has nothing to report
            r.syncable = False
    return p


def with_doc(widget, doc):
    """The widget with its parameter's doc as a tooltip (a description, or an info icon beside it)."""
    if not doc:
        return widget
    if "description" in widget.param:
        widget.description = doc
        return widget
    return pn.Row(widget, pn.widgets.TooltipIcon(value=doc, width=20), margin=0, sizing_mode="stretch_width")


def log_slider(obj, name, low=-5.0, high=1.0, label=None):
    """A slider over log10 of obj.name, kept in sync both ways (a learning rate spans decades)."""
    p = obj.param[name]
    value = getattr(obj, name)
    slider = pn.widgets.FloatSlider(name=label or f"{p.label} (log10)", start=low, end=high, step=0.05,
                                    value=round(math.log10(value), 3), format="0.00",
                                    sizing_mode="stretch_width")
    readout = pn.widgets.StaticText(value=f"{value:.4g}", name=p.label)

    def to_obj(event):
        current = getattr(obj, name)
        if current > 0 and abs(math.log10(current) - event.new) < 1e-3:
            return  # the slider only followed a value set elsewhere (a link, a lesson): keep it exact
        setattr(obj, name, float(10 ** event.new))

    def to_widget(event):
        readout.value = f"{event.new:.4g}"
        exponent = round(math.log10(event.new), 3)
        if abs(slider.value - exponent) > 1e-6:
            slider.value = min(max(exponent, low), high)

    slider.param.watch(to_obj, "value")
    obj.param.watch(to_widget, name)
    return pn.Column(with_doc(slider, p.doc), readout, margin=0, sizing_mode="stretch_width")


def param_widgets(obj, exclude=(), names=None):
    """One widget per parameter of obj (from its declaration), linked both ways."""
    out = []
    for name in names or list(obj.param):
        if name in ("name", "schedule") or name in exclude:
            continue
        p = obj.param[name]
        kwargs = dict(sizing_mode="stretch_width")
        if isinstance(p, param.Number) and not isinstance(p, param.Integer) and name in LOG_PARAMETERS:
            out.append(log_slider(obj, name))
            continue
        if isinstance(p, param.Boolean):
            widget = pn.widgets.Checkbox.from_param(p)
        elif isinstance(p, param.Integer):
            low, high = p.bounds or (None, None)
            if low is not None and high is not None and high - low <= 1000:
                widget = pn.widgets.IntSlider.from_param(p, **kwargs)
            else:
                widget = pn.widgets.IntInput.from_param(p, **kwargs)
        elif isinstance(p, param.Number):
            if name in TEXT_NUMBERS:  # tiny constants (1e-8) read better as text than on a slider
                widget = pn.widgets.LiteralInput.from_param(p, **kwargs)
            else:
                low, high = p.get_soft_bounds()
                step = p.step or 0.01
                digits = max(2, -math.floor(math.log10(step)))  # 0.999 must not show as 1
                widget = pn.widgets.FloatSlider.from_param(p, start=low, end=high, step=step,
                                                           format="0." + "0" * digits, **kwargs)
        elif isinstance(p, param.ListSelector):
            widget = pn.widgets.CheckBoxGroup.from_param(p, inline=True, **kwargs)
        elif isinstance(p, param.Selector):
            widget = pn.widgets.Select.from_param(p, **kwargs)
        elif isinstance(p, param.String):
            widget = pn.widgets.TextInput.from_param(p, **kwargs)
        else:
            continue
        out.append(with_doc(widget, p.doc))
    return out


MARKDOWN_SPECIAL = "\\`*_{}[]()#+-.!|~"


def literal(text):
    """Text that the Markdown of an Alert shows exactly as written: __import__ stays __import__, not a bold
    'import', and <script> stays text."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in text)


class Messages:
    """The page's message area: errors and notices in words, never a traceback. Every message is shown
    literally (it often quotes what the user typed)."""

    def __init__(self):
        self.pane = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width",
                                  name="messages")

    def show(self, text, kind="warning"):
        if len(text) > MAX_MESSAGE:  # a message quoting a 10 kB URL value must still be readable
            text = text[:MAX_MESSAGE] + f"… ({len(text)} characters in all)"
        self.pane.object = literal(text)
        self.pane.alert_type = kind
        self.pane.visible = bool(text)

    def clear(self):
        self.show("")

    def guard(self, fn):
        """Decorator: a ValueError becomes a message; anything else is logged and reported briefly."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                with held_when_unlocked():  # (Panel runs some callbacks without the document's lock)
                    return fn(*args, **kwargs)
            except ValueError as err:
                self.show(str(err), "danger")
            except Exception as err:  # a bug must not leave the page broken
                log.error("callback %s failed:\n%s", fn.__name__, traceback.format_exc())
                self.show(f"Something went wrong ({type(err).__name__}: {err}). "
                          "The page is still usable; press reset.", "danger")
        return wrapper


def empty_source(name, *columns):
    """A named data source with these columns and no rows yet. A source made without its columns is drawn
    as one row of missing values: an image glyph on it throws in the browser when its figure arrives in a
    later update (after reset or compare), and the whole view stays blank."""
    return ColumnDataSource({column: [] for column in columns}, name=name)


# Uploads travel in chunks (a file in one websocket message over Bokeh's 20 MB limit kills the session);
# the browser checks the size before sending anything and shows the progress of each file.
UPLOAD_CHUNK = 4_000_000
DATA_LIMIT_MB = 200       # the CSV loader accepts 200 MiB; the browser counts MB of 10^6 bytes, so it is the stricter
SETTINGS_LIMIT_MB = 1
# what the browser may call such a file (Windows with Excel installed calls a .csv "application/vnd.ms-excel")
ACCEPT = {".csv": (".csv", "text/plain", "application/vnd.ms-excel"), ".json": (".json", "text/plain")}


class _Dropper(pn.widgets.FileDropper):
    """Panel's chunked file drop area, telling ``progress(name, received_bytes, chunk, total_chunks)`` as
    each chunk reaches the server (the browser's own bar counts chunks sent, not chunks received)."""

    def __init__(self, progress, **params):
        super().__init__(**params)
        self._progress = progress
        self._received = {}

    def _process_event(self, event):
        data = event.data
        if event.event_name == "upload_event" and data["chunk"] < data["total_chunks"]:
            name = data["name"]
            got = (0 if data["chunk"] == 1 else self._received.get(name, 0)) + len(data["data"])
            self._received[name] = got
            self._progress(os.path.basename(name), got, data["chunk"], data["total_chunks"])
        else:
            self._received.pop(data.get("name"), None)
        super()._process_event(event)


def upload_box(accept, limit_mb, on_file, messages, what):
    """A file drop area for one kind of file (``accept``: ".csv"), with its size limit stated beside it and
    checked in the browser before the upload starts. ``on_file(name, data)`` gets the user's file name and
    its bytes once the whole file has arrived; a ValueError it raises becomes a message, and the session
    keeps working. Returns the (note, dropper) pair to lay out."""
    def progress(name, received, chunk, chunks):
        messages.show(f"Receiving {name}: {received / 1e6:.0f} MB so far ({chunk} of {chunks} parts)…", "info")

    dropper = _Dropper(progress, accepted_filetypes=list(ACCEPT[accept]), max_file_size=f"{limit_mb}MB",
                                     chunk_size=UPLOAD_CHUNK, multiple=False, layout="compact",
                                     sizing_mode="stretch_width")
    note = pn.pane.HTML(f"<small>{what}: drop a {accept} file here or browse, up to {limit_mb} MB.</small>",
                        sizing_mode="stretch_width", margin=(0, 10))

    def arrived(event):
        files = dict(event.new)
        dropper.value.clear()  # the content is not kept on the widget once handled (a 200 MB upload)
        for name, data in files.items():
            if isinstance(data, str):  # text/* files arrive decoded; the loaders read bytes
                data = data.encode("utf-8")
            name = os.path.basename(name.replace("\\", "/"))
            on_file(name if name.strip(".") else "upload", data)

    dropper.param.watch(messages.guard(arrived), "value")
    return note, dropper


def settings_card(dump, load, filename, messages, *extra):
    """Save / load a page's settings as a JSON file: ``dump()`` gives the text, ``load(text)`` applies it
    (a ValueError becomes a message naming what is wrong); ``extra``: more widgets for the card."""
    wide = dict(sizing_mode="stretch_width")
    save = pn.widgets.FileDownload(callback=lambda: io.StringIO(dump()), filename=filename,
                                   label="Save settings (.json)", **wide)

    def loaded(name, data):
        try:
            load(data)
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None

    note, upload = upload_box(".json", SETTINGS_LIMIT_MB, loaded, messages, "Load settings")
    return pn.Card(note, upload, save, *extra, title="Save / load", collapsed=True, **wide)


def flow(*objects, **kwargs):
    """A row that wraps onto the next line when the screen is narrow (a phone), instead of overflowing.
    Every page lays its plots out with it, so on a projector (present=1) this is where they grow."""
    from apps.teacher import enlarge, present_mode

    if present_mode():
        enlarge(objects)
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="center", sizing_mode="stretch_width", **kwargs)
