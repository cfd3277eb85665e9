"""Frames on the wire: how a live page's changes reach the browser, as cheaply as the event loop allows.

One server process writes every tab's frames from one event-loop thread, so what a frame costs there
bounds how many students one server feeds. Here:

* ``one_message``: a frame's changes go to the browser as one combined PATCH-DOC message, not one per
  change, made by ``patch_message`` (arrays inline as ``stored_gzip``, references made on demand);
* ``send_in_one_write``: that message's three websocket frames in one socket write;
* ``new_data``: a frame's data is taken as new, without Bokeh comparing it with the old data first.
"""

import base64
import struct
import sys
import zlib
from contextlib import contextmanager
from math import isfinite

import numpy as np
from bokeh.core.property.wrappers import PropertyValueList
from bokeh.core.serialization import Serializer
from bokeh.document.events import ColumnDataChangedEvent, ColumnsPatchedEvent, ColumnsStreamedEvent, ModelChangedEvent
from bokeh.model import Model
from bokeh.models import ColumnDataSource
from bokeh.settings import settings
from tornado.iostream import StreamClosedError

# Bokeh looks this setting up (environment, config files) for every model it serialises; set once,
# the lookup is immediate. It was 18% of the event loop's time with a class connected.
settings.serialize_include_defaults.set_value(False)
# Bokeh gzips the arrays inside its own messages (a page's layout); level 0 stores them: compressing a few
# kB for a loopback or classroom network cost more than sending them. (Frames: see stored_gzip.)
settings.compression_level.set_value(0)


@contextmanager
def one_message(doc):
    """Every change made inside goes to the browser as one PATCH-DOC message.

    Bokeh sends one message per changed property, and each message walks the whole document (hundreds
    of models) to serialise it: most of a frame's cost on the event loop. Inside a locked session
    callback (the pacer's ticks are), the changes are held and combined here, and the session's write
    of them is one message; Python-side change callbacks still run for each change. Elsewhere (a
    notebook, a test without a server) this does nothing special.
    """
    context = getattr(doc, "session_context", None) if doc is not None else None
    session = getattr(context, "_session", None)
    callbacks = doc.callbacks if doc is not None else None
    if session is None or session._pending_writes is None or callbacks.hold_value is not None:
        yield
        return
    doc.hold("combine")
    try:
        yield
    finally:
        events = list(callbacks._held_events)
        callbacks._held_events = []
        callbacks._hold = None
        _deliver(doc, session, events)


@contextmanager
def new_data():
    """Inside, every assignment or update of a data source's ``data`` counts as a change.

    Before it notifies anyone, Bokeh compares a source's new data with its old data, column by column,
    arrays element by element, to drop changes that change nothing. A live page assigns data only
    when its frame has new data, so the comparison only costs: 0.1-0.15 ms of the event loop per
    Playground frame. Other properties keep their check.
    """
    data = ColumnDataSource.lookup("data").property
    data.matches = _differs
    try:
        yield
    finally:
        del data.matches


def _differs(new, old):
    return False


def _without_superseded(events):
    """Drops streams and patches into a source whose whole data the same message also sends: an event is
    serialised when the message is made, so the full data already holds the streamed rows."""
    replaced = {id(e.model) for e in events
                if (isinstance(e, ModelChangedEvent) and e.attr == "data")
                or (isinstance(e, ColumnDataChangedEvent) and e.cols is None)}
    return [e for e in events
            if not (isinstance(e, (ColumnsStreamedEvent, ColumnsPatchedEvent)) and id(e.model) in replaced)]


def _deliver(doc, session, events):
    from bokeh.document.callbacks import invoke_with_curdoc

    events = _without_superseded(events)
    if not events:
        return
    others = [cb for key, cb in doc.callbacks._change_callbacks.items() if key is not session]
    for event in events:
        if event.callback_invoker is not None:
            invoke_with_curdoc(doc, event.callback_invoker)
        for cb in others:
            invoke_with_curdoc(doc, lambda cb=cb, event=event: cb(event))
    if session._subscribed_connections:
        message = patch_message(doc, events)
        for connection in session._subscribed_connections:
            session._pending_writes.append(send_in_one_write(connection._socket, message))


async def send_in_one_write(handler, message):
    """Sends a Bokeh message (header, metadata and content: three websocket frames) to one browser in
    one socket write, where Bokeh makes three: on a server feeding a class, the socket writes were a
    quarter of the event loop's time. Falls back to Bokeh's own send where the connection compresses or
    masks its frames, or the message has binary buffers."""
    protocol = getattr(handler, "ws_connection", None)
    stream = getattr(protocol, "stream", None)
    if (stream is None or message.buffers or getattr(protocol, "_compressor", None) is not None
            or getattr(protocol, "mask_outgoing", True)):
        await handler.send_message(message)
        return
    data = b"".join(text_frame(part.encode()) for part in
                    (message.header_json, message.metadata_json, message.content_json))
    try:
        with await handler.write_lock.acquire():  # after any message Bokeh is still writing
            await stream.write(data)
    except StreamClosedError:
        pass  # the tab closed: Bokeh's own close handling cleans up


def text_frame(payload):
    """One final, unmasked websocket text frame (RFC 6455 5.2), as a server sends it."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n <= 0xFFFF:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


def patch_message(doc, events):
    """One PATCH-DOC message for ``events``, as Bokeh's own ``patch_doc.create`` makes it, with two
    differences measured on the event loop of a server feeding a class:

    * arrays travel inside the message (base64 of ``stored_gzip``) rather than as separate binary
      frames: a frame's dozen small arrays were two websocket writes each;
    * references to models the browser already has are made on demand, not for all ~500 models of
      the page before every message.
    """
    from bokeh.protocol.messages.patch_doc import PatchJson, patch_doc

    serializer = _FrameSerializer(doc.models)
    content = PatchJson(events=serializer.encode(events))
    doc.models.flush_synced(lambda model: not serializer.has_ref(model))
    return patch_doc(patch_doc.create_header(), {}, content)


class _FrameSerializer(Serializer):
    """Bokeh's serializer with arrays inline, and references to the browser's models made on demand."""

    def __init__(self, models):
        super().__init__(deferred=False)
        self.models = models

    def synced(self, obj):
        return (isinstance(obj, Model) and self.models._models.get(obj.id) is obj
                and obj not in self.models._new_models)

    def has_ref(self, obj):
        return super().has_ref(obj) or self.synced(obj)

    def get_ref(self, obj):
        ref = self._references.get(id(obj))
        return obj.ref if ref is None and self.synced(obj) else ref

    def encode(self, obj):
        # most of a frame is strings, numbers, lists, dicts and arrays: Bokeh's encode looks each one up as
        # a possible reference and walks a chain of type tests (an array is the thirteenth), which was a
        # third of a frame's serialising. None of these is ever a reference.
        kind = type(obj)
        if kind is str or kind is bool or obj is None:
            return obj
        if kind is float:
            return obj if isfinite(obj) else self._encode_float(obj)
        if kind is int:
            return self._encode_int(obj)
        if kind is list or kind is PropertyValueList:
            return [self.encode(item) for item in obj]
        if kind is dict:
            return self._encode_dict(obj)
        if kind is np.ndarray and obj.shape != ():
            return self._encode_ndarray(obj)
        return super().encode(obj)

    def _encode_ndarray(self, obj):
        # the lab's own arrays (plain numbers: no masks, dates, strings or 64-bit integers), as Bokeh encodes
        # them without its conversions and checks (a frame holds a dozen small arrays)
        name = _PLAIN_DTYPES.get(obj.dtype) if type(obj) is np.ndarray else None
        if name is None:
            return super()._encode_ndarray(obj)
        array = obj if obj.flags.c_contiguous else np.ascontiguousarray(obj)
        return {"type": "ndarray", "array": self._encode_bytes(array.data), "shape": list(array.shape),
                "dtype": name, "order": sys.byteorder}

    def _encode_bytes(self, obj):
        # BokehJS reads inline bytes as base64 of gzip: here a gzip of stored blocks, which costs a copy
        # and a checksum (zlib's level 0 sets up a whole compressor per array, 8% of the loop's time)
        return {"type": "bytes", "data": base64.b64encode(stored_gzip(obj)).decode("ascii")}


_PLAIN_DTYPES = {np.dtype(name): name for name in ("uint8", "int8", "uint16", "int16", "uint32", "int32",
                                                    "float32", "float64")}
_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 1, 0, 0, 0, 0, 0xFF])  # deflate, no flags, mtime 1, unknown OS


def stored_gzip(data):
    """``data`` (bytes or a contiguous buffer) as a gzip stream of uncompressed deflate blocks."""
    data = data.tobytes() if isinstance(data, memoryview) else bytes(data)
    n, size = len(data), 0xFFFF
    parts = [_GZIP_HEADER]
    for start in range(0, max(n, 1), size):
        block = data[start:start + size]
        parts += [struct.pack("<BHH", start + size >= n, len(block), 0xFFFF ^ len(block)), block]
    parts.append(struct.pack("<II", zlib.crc32(data), n & 0xFFFFFFFF))
    return b"".join(parts)
