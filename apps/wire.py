"""Frames on the wire: how a live page's changes reach the browser, as cheaply as the event loop allows.

One server process writes every tab's frames from one event-loop thread, so what a frame costs there
bounds how many students one server feeds. Here:

* ``one_message``: a frame's changes go to the browser as one combined PATCH-DOC message, not one per
  change, made by ``patch_message`` (references made on demand, arrays as binary buffers);
* ``run_locked_now``: a frame made at once, as Bokeh runs a locked callback, when nothing holds the page;
* ``write_now``: that message's websocket frames in one socket write, without a coroutine (``send``
  where the connection is busy);
* ``decode_incoming``: the browser's messages (its frame echoes) are decoded without Bokeh's table of
  every model of the page;
* ``behind_panel``: a message made after one that Panel queued is written after it (frames, and Bokeh's
  own messages for changes to Bokeh models), so the browser never meets a model before its definition;
* ``new_data``: a frame's data is taken as new, without Bokeh comparing it with the old data first;
* ``held_when_unlocked``: a page callback that Panel runs without the document's lock still reaches the
  browser (Panel writes its changes), where Bokeh would refuse them.
"""

import itertools
import json
import struct
import sys
from contextlib import contextmanager
from math import isfinite
from types import MethodType

import numpy as np
from bokeh.core.property.wrappers import PropertyValueList
from bokeh.core.serialization import Buffer, Deserializer, Serializer, UnknownReferenceError
from bokeh.document.events import (
    ColumnDataChangedEvent,
    ColumnsPatchedEvent,
    ColumnsStreamedEvent,
    DocumentPatchedEvent,
    ModelChangedEvent,
)
from bokeh.io.doc import patch_curdoc
from bokeh.model import Model
from bokeh.models import ColumnDataSource
from bokeh.protocol.messages.patch_doc import PatchJson, patch_doc
from bokeh.server.connection import ServerConnection
from bokeh.settings import settings
from panel.io import document as panel_document
from panel.io.state import state
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

# Bokeh looks this setting up (environment, config files) for every model it serialises; set once,
# the lookup is immediate. It was 18% of the event loop's time with a class connected.
settings.serialize_include_defaults.set_value(False)
# Bokeh gzips the arrays inside its own messages (a page's layout); level 0 stores them: compressing a few
# kB for a loopback or classroom network cost more than sending them. (Frames send arrays as binary buffers.)
settings.compression_level.set_value(0)


def _session_of(doc):
    """The Bokeh server session behind ``doc`` (None for a notebook's document or none at all)."""
    context = getattr(doc, "session_context", None) if doc is not None else None
    return getattr(context, "_session", None)


@contextmanager
def one_message(doc):
    """Every change made inside goes to the browser as one PATCH-DOC message.

    Bokeh sends one message per changed property, and each message walks the whole document (hundreds
    of models) to serialise it: most of a frame's cost on the event loop. Inside a locked session
    callback (the pacer's ticks are), the changes are held and combined here, and the session's write
    of them is one message; Python-side change callbacks still run for each change. Elsewhere (a
    notebook, a test without a server) this does nothing special.
    """
    session = _session_of(doc)
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


@contextmanager
def held_when_unlocked():
    """Inside, the current document's changes are held and written by Panel when the code runs without the
    document's lock; elsewhere (a locked callback, a frame, a notebook) nothing changes.

    Panel runs a widget's change without the lock when a click arrives while the change still waits out
    its debounce (a student sets "N points" and presses "Regenerate data" at once): the click's coroutine
    runs the change first. Panel writes its own objects' changes there, but a change to a Bokeh model
    (the URL's source, a view's data) reaches Bokeh's session, which raises "_pending_writes should be
    non-None": the callback stopped halfway, with "Something went wrong" in the page."""
    doc = state.curdoc
    session = _session_of(doc)
    if session is None or session._pending_writes is not None or doc.callbacks.hold_value is not None:
        yield
        return
    with panel_document.hold(doc):
        yield


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
            # at once, unless something of this callback waits to be written first (then after it, as Bokeh
            # does) or Panel holds messages made before it (then in Panel's queue)
            if behind_panel(doc, connection, message):
                continue
            if session._pending_writes or not write_now(connection._socket, message):
                session._pending_writes.append(send(connection._socket, message))


# Panel's queue, as Panel 1.9 keeps it (without it, messages are written as Bokeh writes them)
_PANEL_QUEUE = all(hasattr(panel_document, name)
                   for name in ("_WRITE_MSGS", "_WRITE_BLOCK", "_dispatch_write_task", "_dispatch_msgs"))


def behind_panel(doc, connection, message):
    """Puts ``message`` in Panel's queue of messages made for ``doc`` and not yet written, after them, and
    says so (True); False when Panel holds none.

    Panel writes a callback's changes to Panel objects itself: at once, or, when the connection is busy,
    as messages it makes now and writes later from a queue it polls every 10 ms. A message made after one
    of those refers to the models it brings as already known to the browser, but Bokeh's write lock let
    it go first, and the browser threw "reference ... isn't known" and dropped the change. Seen on a
    busy machine: after "Use formula", the race page's paths and heads (Bokeh sources) were written before
    the new figures holding them. The queue is dispatched again, as Panel does for each message it queues:
    a message never waits on Panel's next change to be written."""
    queued = panel_document._WRITE_MSGS.get(doc) if _PANEL_QUEUE else None
    if queued is None:
        return False
    queued.setdefault(connection, []).append(message)
    panel_document._WRITE_BLOCK[doc] = True
    panel_document._dispatch_write_task(doc, panel_document._dispatch_msgs, doc)
    return True


def _send_patch_document(connection, event):
    # Bokeh's ServerConnection.send_patch_document (the message for one change to a Bokeh model of a
    # session's document), written after any messages Panel made before it (see behind_panel)
    message = connection.protocol.create("PATCH-DOC", [event])
    if behind_panel(connection.session.document, connection, message):
        return _queued()
    return connection._socket.send_message(message)


async def _queued():
    pass  # the session awaits each write; Panel's queue writes this one


ServerConnection.send_patch_document = _send_patch_document


def run_locked_now(doc, callback):
    """Runs ``callback`` at once, as Bokeh runs a locked callback of the document's session, when nothing
    holds the document; False (nothing run) when something does. Bokeh's own way queues the callback and
    runs it in a coroutine that takes the session's lock: that machinery was a seventh of the event loop's
    time with a class connected (profiled), for a frame that needs none of it when the lock is free."""
    session = _session_of(doc)
    if session is None or session.destroyed or not free(session._lock) or session._pending_writes is not None:
        return False
    session._pending_writes = []  # the document's lock, as Bokeh's callbacks hold it (nothing runs between)
    try:
        with patch_curdoc(doc):
            callback()
    finally:
        writes, session._pending_writes = session._pending_writes, None
    if writes:  # a connection was busy (a slow laptop): written in order, the document held until then
        session._lock.acquire()  # free (see above): taken now, before any other callback
        session.block_expiration()
        IOLoop.current().spawn_callback(_write_then_release, session, writes)
    return True


async def _write_then_release(session, writes):
    try:
        for write in writes:
            await write
    finally:
        session._lock.release()
        session.unblock_expiration()


def _plain_stream(handler):
    """The connection's stream, where frames can be written to it as they are: uncompressed, unmasked."""
    protocol = getattr(handler, "ws_connection", None)
    stream = getattr(protocol, "stream", None)
    if stream is None or getattr(protocol, "_compressor", None) is not None or getattr(protocol, "mask_outgoing", True):
        return None
    return stream


def write_now(handler, message):
    """Writes a Bokeh message to one browser in one socket write, now, without a coroutine; False where it
    must wait: another message is being written, the browser has not taken the last one yet (a slow
    laptop: Bokeh's own send waits, and so the page's next frame), or the connection compresses."""
    stream = _plain_stream(handler)
    if stream is None or not free(handler.write_lock) or stream.writing():
        return False
    try:
        stream.write(websocket_frames(message))
    except StreamClosedError:
        pass  # the tab closed: Bokeh's own close handling cleans up
    return True


def free(lock):
    """True when nobody holds or waits for a tornado ``Lock`` (which, unlike asyncio's, has no locked())."""
    block = lock._block
    return block._value > 0 and not block._waiters


async def send(handler, message):
    """The same as ``write_now``, after the messages before it, waiting until the browser took it."""
    stream = _plain_stream(handler)
    if stream is None:
        await handler.send_message(message)
        return
    try:
        with await handler.write_lock.acquire():  # after any message Bokeh is still writing
            await stream.write(websocket_frames(message))
    except StreamClosedError:
        pass


def websocket_frames(message):
    """A Bokeh message as the websocket frames Bokeh's own send writes one by one (header, metadata,
    content, then each binary buffer's id and bytes), joined: on a server feeding a class, the socket
    writes were a quarter of the event loop's time."""
    parts = []
    for text in (message.header_json, message.metadata_json, message.content_json):
        text = text.encode()
        parts += [frame_head(len(text)), text]
    for buffer in message.buffers:
        ref = b'{"id":"%s"}' % buffer.id.encode()  # json.dumps(buffer.ref) for our ids (letters and digits)
        data = memoryview(buffer.data)
        data = data if data.c_contiguous else memoryview(data.tobytes())
        parts += [frame_head(len(ref)), ref, frame_head(data.nbytes, binary=True), data]
    return b"".join(parts)


def frame_head(n, binary=False):
    """The head of one final, unmasked websocket frame of n bytes, text or binary (RFC 6455 5.2), as a
    server sends it."""
    opcode = 0x82 if binary else 0x81
    if n < 126:
        return struct.pack("!BB", opcode, n)
    if n <= 0xFFFF:
        return struct.pack("!BBH", opcode, 126, n)
    return struct.pack("!BBQ", opcode, 127, n)


def decode_incoming(doc):
    """``doc`` decodes what its browser sends (each echo of a frame number, a widget's change) against a
    copy of its own table of models: Bokeh's ``apply_json_patch`` builds a new table from all ~530
    models of the page for every message, one Python attribute read each."""
    doc.apply_json_patch = MethodType(_apply_json_patch, doc)


def _apply_json_patch(doc, patch_json, *, setter=None):
    # Bokeh's Document.apply_json_patch, with the table made by a dict copy; the same models (as they were
    # before the patch: models made by callbacks during the patch are still new to the browser)
    deserializer = Deserializer(setter=setter)
    deserializer._references = dict(doc.models._models)
    try:
        patch = deserializer.deserialize(patch_json)
    except UnknownReferenceError as error:
        if doc.models.seen(error.id):  # a model already removed here (as Bokeh: harmless, dropped)
            return
        raise
    for event in patch["events"]:
        DocumentPatchedEvent.handle_event(doc, event, setter)
    doc.models.flush_synced(lambda model: not deserializer.has_ref(model))


_message_ids = itertools.count()


class FrameMessage(patch_doc):
    """Bokeh's PATCH-DOC message, written out with the standard json module (Bokeh's own looks up two
    settings for each message's id and content: measurable at hundreds of frames a second)."""

    @property
    def content_json(self):
        if not self._content_json:
            self._content_json = json.dumps(self.content, separators=(",", ":"))
        return self._content_json


def patch_message(doc, events):
    """One PATCH-DOC message for ``events``, as Bokeh's own ``patch_doc.create`` makes it, but with the
    references to models the browser already has made on demand, not for all ~500 models of the page
    before every message. Arrays go as binary buffers, which ``websocket_frames`` writes with the rest."""
    serializer = _FrameSerializer(doc.models)
    content = PatchJson(events=serializer.encode(events))
    doc.models.flush_synced(lambda model: not serializer.has_ref(model))
    message = FrameMessage({"msgid": f"f{next(_message_ids)}", "msgtype": FrameMessage.msgtype}, {}, content)
    message.add_buffers(*serializer.buffers)
    return message


class _FrameSerializer(Serializer):
    """Bokeh's serializer with references to the browser's models made on demand and a fast path for
    plain values; arrays become binary buffers (``self.buffers``)."""

    def __init__(self, models):
        super().__init__(deferred=True)
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
        # the buffer's id is only looked up within its message: a counter, not Bokeh's make_id with its settings
        buffer = Buffer(str(len(self._buffers)), obj)
        self._buffers.append(buffer)
        return {"type": "bytes", "data": buffer.ref}


_PLAIN_DTYPES = {np.dtype(name): name for name in ("uint8", "int8", "uint16", "int16", "uint32", "int32",
                                                    "float32", "float64")}
