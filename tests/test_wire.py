"""Frames on the wire (apps.wire): a frame's message as Bokeh's own code reads it, the websocket frames it
is written as, the serializer's fast paths against Bokeh's, and the browser's messages decoded as Bokeh
decodes them."""

import numpy as np
import pytest
from own_loop import run_apart

from apps import wire


def websocket_messages(data):
    """The websocket messages in what a server wrote (final, unmasked frames: RFC 6455 5.2)."""
    messages = []
    while data:
        opcode, n, start = data[0] & 0x0F, data[1] & 0x7F, 2
        assert data[0] & 0x80 and not data[1] & 0x80  # final, not masked
        if n == 126:
            n, start = int.from_bytes(data[2:4], "big"), 4
        elif n == 127:
            n, start = int.from_bytes(data[2:10], "big"), 10
        payload, data = data[start:start + n], data[start + n:]
        messages.append(payload.decode() if opcode == 0x1 else bytes(payload))
    return messages


def test_a_frame_message_carries_every_change_and_decodes_to_the_same_document():
    """apps.wire.patch_message (references made on demand, arrays as binary buffers), written as one
    socket write's websocket frames, read by Bokeh's own receiver: a copy of the document patched with
    it ends up equal to the original, also when a source's data is replaced and then streamed to within
    one frame (the replacement already carries the streamed row)."""

    from bokeh.document import Document
    from bokeh.models import ColumnDataSource, Div
    from bokeh.protocol import Protocol
    from bokeh.protocol.receiver import Receiver

    doc, copy = Document(), Document()
    source = ColumnDataSource(data={"image": [np.zeros((4, 4), np.uint16)], "x": [0.0]}, name="img")
    status = Div(text="", name="status")
    doc.add_root(source)
    doc.add_root(status)
    copy.replace_with_json(doc.to_json())
    doc.models.flush_synced()
    doc.hold("combine")
    source.data = {"image": [np.arange(16, dtype=np.uint16).reshape(4, 4)[::-1]], "x": [0.5]}
    status.text = "epoch 3"
    source.stream({"image": [np.ones((4, 4), np.uint16)], "x": [1.0]})
    events = list(doc.callbacks._held_events)
    doc.callbacks._held_events, doc.callbacks._hold = [], None
    message = wire.patch_message(doc, wire._without_superseded(events))
    assert len(message.buffers) == 2  # the two images, as binary frames of the same write
    parts = websocket_messages(wire.websocket_frames(message))
    assert len(parts) == 3 + 2 * 2 and isinstance(parts[4], bytes) and isinstance(parts[6], bytes)

    async def receive():
        receiver = Receiver(Protocol())
        for part in parts:
            received = await receiver.consume(part)
        return received

    received = run_apart(receive())
    assert received.msgtype == "PATCH-DOC" and received.header["num_buffers"] == 2
    copy.apply_json_patch(received.payload)
    mirrored = copy.get_model_by_name("img").data
    assert np.array_equal(np.asarray(mirrored["image"][0]).reshape(4, 4), np.arange(16).reshape(4, 4)[::-1])
    assert np.array_equal(np.asarray(mirrored["image"][1]).reshape(4, 4), np.ones((4, 4)))
    assert list(mirrored["x"]) == [0.5, 1.0]
    assert copy.get_model_by_name("status").text == "epoch 3"


def test_a_frame_message_is_the_json_bokeh_would_write():
    from bokeh.core.json_encoder import serialize_json
    from bokeh.document import Document
    from bokeh.models import Div

    doc = Document()
    div = Div(text="")
    doc.add_root(div)
    doc.models.flush_synced()
    doc.hold("combine")
    div.text = "naïve ≥ 5 \"quoted\""
    events = list(doc.callbacks._held_events)
    doc.callbacks._held_events, doc.callbacks._hold = [], None
    message = wire.patch_message(doc, events)
    assert message.content_json == serialize_json(message.payload)
    assert message.header["msgid"] != wire.patch_message(doc, events).header["msgid"]


def test_the_browser_s_messages_decode_as_bokeh_decodes_them():
    """A document with apps.wire.decode_incoming applies a browser's patch (a frame echo, a model the
    browser made) as Bokeh's own does; models that Python callbacks add while it is applied stay new, so
    the next frame sends them whole."""
    from bokeh.document import Document
    from bokeh.models import ColumnDataSource, Div

    def pair():
        docs = []
        for _ in range(2):
            doc = Document()
            ack, box = ColumnDataSource(data={"frame": [0]}, name="ack"), Div(text="", name="box")
            doc.add_root(ack)
            doc.add_root(box)
            doc.models.flush_synced()
            made = []
            ack.on_change("data", lambda attr, old, new, doc=doc, made=made: (
                made.append(Div(text="made here")), doc.add_root(made[-1])))
            docs.append((doc, made))
        return docs

    (ours, ours_made), (bokehs, bokehs_made) = pair()
    wire.decode_incoming(ours)
    for doc in (ours, bokehs):
        patch = {"events": [{"kind": "ModelChanged", "model": doc.get_model_by_name("ack").ref, "attr": "data",
                             "new": {"type": "map", "entries": [["frame", [8]]]}},
                            {"kind": "ModelChanged", "model": doc.get_model_by_name("box").ref, "attr": "tags",
                             "new": [{"type": "object", "name": "Div", "id": "c1", "attributes": {"text": "b"}}]}]}
        doc.apply_json_patch(patch)
    for doc, made in ((ours, ours_made), (bokehs, bokehs_made)):
        assert list(doc.get_model_by_name("ack").data["frame"]) == [8]
        from_browser = doc.get_model_by_name("box").tags[0]
        assert from_browser.text == "b" and doc.get_model_by_id("c1") is from_browser
        assert from_browser not in doc.models._new_models  # the browser has it
        assert made[0] in doc.models._new_models  # still new to the browser
    assert len(ours.models) == len(bokehs.models)
    with pytest.raises(Exception, match="reference"):
        ours.apply_json_patch({"events": [{"kind": "ModelChanged", "model": {"id": "p999999"}, "attr": "text",
                                           "new": "x"}]})


def test_the_frame_serializer_encodes_plain_values_as_bokeh_does():
    """Its fast path for strings, numbers, lists, dicts and arrays gives what Bokeh's own Serializer gives
    (with the frame's binary buffers): NaN, infinities and integers past 2**53 included, and values inside
    dicts, tuples, Bokeh's own lists and numpy scalars."""
    from bokeh.core.property.wrappers import PropertyValueList
    from bokeh.core.serialization import Serializer
    from bokeh.document import Document
    from bokeh.models import Div

    class BokehWithTheFramesBuffers(Serializer):
        _encode_bytes = wire._FrameSerializer._encode_bytes

    doc = Document()
    div = Div(text="x")
    doc.add_root(div)
    doc.models.flush_synced()
    value = ["a", "", 1, -7, 2 ** 60, 0.5, float("nan"), float("inf"), -float("inf"), True, False, None,
             [1.5, ["b", float("nan")]], (2, "c"), {"k": [0.25, None], 3: "v"}, np.float64(0.125),
             np.float32(float("nan")), np.int64(9), {"nested": {"deep": [[float("-inf")]]}},
             PropertyValueList([1.0, "d", float("inf")]), {"a": np.arange(3.0), "b": [np.zeros((2, 2), np.uint8)]},
             np.float64(3.5) * np.ones(()), np.arange(4, dtype=np.int64)]
    with pytest.warns(UserWarning, match="out of range"):
        ours = wire._FrameSerializer(doc.models).encode(value)
    with pytest.warns(UserWarning, match="out of range"):
        bokeh = BokehWithTheFramesBuffers(deferred=True).encode(value)
    assert ours == bokeh
    assert ours[20]["entries"][0][1]["array"] == {"type": "bytes", "data": {"id": "0"}}  # the dict's array
    assert ours[6] == {"type": "number", "value": "nan"} and ours[2] == 1 and ours[4] == float(2 ** 60)
    assert wire._FrameSerializer(doc.models).encode([div]) == [div.ref]  # a synced model: a reference


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.uint8).reshape(3, 4), np.arange(12, dtype=np.float32).reshape(4, 3)[::-1],
    np.linspace(0, 1, 7), np.arange(6, dtype=np.int32)[::2], np.zeros((0, 3)), np.int16([-3, 5]),
    np.arange(5, dtype=np.int64), np.array(["a", "b"]), np.ma.masked_array([1.0, 2.0], [False, True]),
    np.arange(3, dtype=">f8"), np.array([True, False]), np.arange(4.0).reshape(2, 2).T])
def test_the_frame_serializer_encodes_arrays_as_bokeh_does(array):
    """Its fast path for plain numeric arrays (reversed and transposed views included) gives what Bokeh's
    own array encoding gives; other arrays (64-bit integers, strings, masks, big-endian) take Bokeh's."""
    from bokeh.core.serialization import Serializer
    from bokeh.document import Document

    ours, bokehs = wire._FrameSerializer(Document().models), wire._FrameSerializer(Document().models)
    assert ours.encode(array) == Serializer._encode_ndarray(bokehs, array)
    assert [bytes(b.data) for b in ours.buffers] == [bytes(b.data) for b in bokehs.buffers]


def test_inside_new_data_every_data_assignment_is_a_change_and_only_there():
    from bokeh.models import ColumnDataSource, Div

    source, div = ColumnDataSource(data={"x": np.zeros(3), "y": [1, 2, 3]}), Div(text="a")
    changes = []
    source.on_change("data", lambda attr, old, new: changes.append("data"))
    div.on_change("text", lambda attr, old, new: changes.append("text"))
    source.data = {"x": np.zeros(3), "y": [1, 2, 3]}  # equal: Bokeh drops it
    assert changes == []
    with wire.new_data():
        source.data = {"x": np.zeros(3), "y": [1, 2, 3]}
        source.data.update(y=[1, 2, 3])
        div.text = "a"  # other properties keep their check
    assert changes == ["data", "data"]
    source.data = {"x": np.zeros(3), "y": [1, 2, 3]}
    with pytest.raises(RuntimeError), wire.new_data():
        raise RuntimeError("a frame that failed")
    source.data = {"x": np.zeros(3), "y": [1, 2, 3]}
    assert changes == ["data", "data"]  # the check is back, also after an error


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_a_frame_message_is_written_as_the_websocket_frames_tornado_would_write(size, binary):
    """websocket_frames joins the message's frames into one write; each must be the frame tornado's own
    websocket protocol makes for the same text or bytes (the browser reads them one by one)."""
    from tornado.websocket import WebSocketProtocol13

    written = []
    protocol = WebSocketProtocol13.__new__(WebSocketProtocol13)
    protocol.mask_outgoing, protocol._wire_bytes_out = False, 0
    protocol.stream = type("Stream", (), {"write": lambda self, frame: written.append(frame)})()
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    protocol._write_frame(True, 0x2 if binary else 0x1, payload)
    assert wire.frame_head(size, binary) + payload == written[0]


def test_messages_made_after_one_panel_queued_are_written_after_it():
    """Panel makes a message at once and writes it from a queue when the connection is busy. Bokeh's
    message for a later change to a Bokeh model, and a frame, refer to what that message brings: they go
    into Panel's queue behind it, not straight to the browser (which would meet the models before their
    definition). With nothing queued they are written as before."""
    from types import SimpleNamespace

    from bokeh.document import Document
    from bokeh.models import Div
    from bokeh.protocol import Protocol
    from bokeh.server.connection import ServerConnection
    from panel.io import document as panel_document

    class Socket:
        def __init__(self):
            self.sent = []

        async def send_message(self, message):
            self.sent.append(message)

    doc, box = Document(), Div(text="")
    doc.add_root(box)
    doc.models.flush_synced()
    events = []
    doc.on_change(lambda event: events.append(event))
    box.text = "after the figures"
    socket = Socket()
    session = SimpleNamespace(document=doc, subscribe=lambda connection: None, _subscribed_connections=[],
                              _pending_writes=[])
    connection = ServerConnection(Protocol(), socket, None, session)
    session._subscribed_connections.append(connection)

    run_apart(connection.send_patch_document(events[0]))  # nothing queued: written as Bokeh writes it
    assert [m.content["events"][0]["new"] for m in socket.sent] == ["after the figures"]

    async def with_panel_queue():
        earlier = connection.protocol.create("PATCH-DOC", events)
        panel_document._WRITE_MSGS[doc] = {connection: [earlier]}
        panel_document._WRITE_BLOCK.pop(doc, None)  # (as when Panel's last write task ended meanwhile)
        try:
            await connection.send_patch_document(events[0])
            wire._deliver(doc, session, events)  # a frame
            # checked before Panel's write tasks run: they would write to this fake socket
            return earlier, panel_document._WRITE_MSGS[doc][connection], panel_document._WRITE_BLOCK.get(doc)
        finally:
            panel_document._WRITE_MSGS.pop(doc, None)
            panel_document._WRITE_BLOCK.pop(doc, None)

    earlier, queue, blocked = run_apart(with_panel_queue())
    assert len(socket.sent) == 1 and session._pending_writes == []
    assert queue[0] is earlier and len(queue) == 3
    assert [m.content["events"][0]["new"] for m in queue[1:]] == ["after the figures"] * 2
    assert blocked  # Panel's queue is dispatched again for them
