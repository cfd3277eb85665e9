"""The frame clock every live page shares (apps.pacing), without a browser: the browser's echo is set
by hand, and time is a counter the test moves."""

import numpy as np
import pytest

from apps import pacing, wire


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(pacing.time, "monotonic", lambda: now[0])
    c = pacing.FrameClock(max_fps=20, in_flight=2, patience=1.0, layout_patience=5.0)
    c.advance = lambda seconds: now.__setitem__(0, now[0] + seconds)
    c.echo = lambda: c.ack.data.update(frame=[c.frames])  # what the page's CustomJS does
    return c


def test_frames_wait_for_the_browser_when_too_many_are_unacknowledged(clock):
    for _ in range(3):
        clock.advance(0.1)
        assert clock.ready()
        clock.sent()
    clock.advance(0.1)
    assert not clock.ready()  # three in flight, two allowed
    clock.echo()
    assert clock.ready()


def test_frame_rate_is_capped(clock):
    clock.advance(0.1)
    clock.sent()
    clock.advance(0.01)
    assert not clock.ready()
    clock.advance(0.05)
    assert clock.ready()


def test_rebuilt_views_get_data_only_after_the_browser_confirms_the_layout(clock):
    """The race behind 'reference ... isn't known': data for new views must not overtake their layout."""
    clock.advance(1.0)
    clock.rebuilt()
    assert not clock.ready()  # this tick sends the marker frame instead of data
    # a number the browser echoes (it echoes every ECHO_EVERY-th frame)
    assert clock.frames == pacing.ECHO_EVERY and clock.counter.data["frame"] == [pacing.ECHO_EVERY]
    for _ in range(10):  # however long the browser takes (within patience), nothing is sent
        clock.advance(0.4)
        assert not clock.ready()
    clock.echo()  # the browser has applied the layout and the marker
    assert clock.ready()


def test_a_client_that_never_echoes_is_not_stalled(clock):
    clock.rebuilt()
    clock.ready()
    clock.advance(5.1)
    assert clock.ready()  # after layout_patience the data goes out anyway
    for _ in range(5):
        clock.sent()
    clock.advance(0.5)
    assert not clock.ready()
    clock.advance(0.6)
    assert clock.ready()  # after patience, even with frames in flight


def test_the_interval_counts_from_the_start_of_a_frame(clock):
    """Drawing a frame takes time; the cap must not add it to the interval (that cost 15% of the rate)."""
    clock.advance(1.0)
    started = pacing.time.monotonic()
    clock.advance(0.03)  # the frame took 30 ms to draw
    clock.sent(started)
    clock.echo()
    clock.advance(0.025)  # 55 ms after the frame began, 25 ms after it was sent
    assert clock.ready()


# ----- the server-wide pacer ---------------------------------------------------------------------------
class FakePage:
    """What the pacer reads of a live page."""

    def __init__(self, presenter=False, playing=True):
        self.presenter = presenter
        self.clock = pacing.FrameClock(max_fps=22)
        self.transport = type("T", (), {"playing": playing})()
        self.scheduled = False
        self.ticks = 0
        self.busy = False  # its document held by another callback: the frame goes through Bokeh's queue
        self.queued = 0
        self.document = type("D", (), {"add_next_tick_callback": lambda _, cb: (self.count_queued(), cb())})()

    def count_queued(self):
        self.queued += 1

    def has_news(self):
        return self.transport.playing

    def frame_here(self):
        if self.busy:
            return False
        self.paced_tick()
        return True

    def paced_tick(self):
        self.scheduled = False
        self.ticks += 1


def measured(pacer, load, machine=0.0):
    """One measuring window in which the event loop was ``load`` busy and the machine ``machine``."""
    pacer.window_start -= pacer.WINDOW
    pacer.cpu_start = pacing.time.thread_time() - load * pacer.WINDOW
    pacer.cpu_ticks = (0, 0)
    real = pacing.machine_ticks
    pacing.machine_ticks = lambda: (1000, int(1000 * (1 - machine)))
    try:
        pacer._measure(pacing.time.monotonic())
    finally:
        pacing.machine_ticks = real


def test_students_share_what_the_event_loop_has_left_and_presenters_keep_their_rate():
    pacer = pacing.Pacer()
    presenter, students = FakePage(presenter=True), [FakePage() for _ in range(10)]
    pacer.pages = [presenter, *students]
    for _ in range(15):
        measured(pacer, load=0.95)  # overloaded: the students' rate falls, window after window
    assert pacer.student_fps < 2
    assert pacer.fps_for(presenter) == 22 and all(pacer.fps_for(s) == pacer.student_fps for s in students)
    low = pacer.student_fps
    for _ in range(3):
        measured(pacer, load=0.3)  # room again: once the (smoothed) load is under its target, it rises
    assert pacer.student_fps > low
    low = pacer.student_fps
    measured(pacer, load=0.3)  # gradually
    assert low < pacer.student_fps <= 1.25 * low


def test_a_busy_machine_slows_students_even_when_the_event_loop_is_not():
    pacer = pacing.Pacer()
    pacer.pages = [FakePage(presenter=True), FakePage(), FakePage()]
    for _ in range(15):
        measured(pacer, load=0.2, machine=0.99)
    assert pacer.student_fps < 10


def test_no_sharing_when_only_one_student_plays():
    pacer = pacing.Pacer()
    pacer.pages = [FakePage(), FakePage(playing=False), FakePage(playing=False)]
    measured(pacer, load=0.99, machine=0.99)
    assert pacer.student_fps == pacer.MAX_FPS


def test_the_pacer_schedules_presenters_first_and_skips_pages_with_nothing_new():
    pacer = pacing.Pacer()
    order = []
    idle, student, presenter = FakePage(playing=False), FakePage(), FakePage(presenter=True)
    for name, page in (("student", student), ("presenter", presenter)):
        page.paced_tick = (lambda n: lambda: order.append(n))(name)
    pacer.timer = "ticked by hand here"
    for page in (idle, student, presenter):  # the presenter joins last, and is asked first
        pacer.join(page)
    pacer.tick()
    assert order == ["presenter", "student"]  # and the paused page costs nothing
    assert student.queued == presenter.queued == 0  # made at once, not through Bokeh's queue


def test_a_page_whose_document_is_held_gets_its_frame_through_the_queue_once():
    pacer = pacing.Pacer()
    page = FakePage()
    page.busy = True
    page.paced_tick = lambda: None  # still waiting in the queue: the page stays scheduled
    pacer.timer = "ticked by hand here"
    pacer.join(page)
    pacer.tick()
    page.clock.last_sent = -1e9
    pacer.tick()
    assert page.scheduled and page.queued == 1  # not queued again while one waits


def test_a_hidden_tab_gets_no_frames(clock):
    clock.advance(1.0)
    now = pacing.time.monotonic()
    assert clock.may_ask(20, now)
    clock.visibility.data = {"visible": [0]}  # what the page's visibilitychange listener sends
    assert not clock.may_ask(20, now)
    clock.visibility.data = {"visible": [1]}
    assert clock.may_ask(20, now)


def run_apart(coroutine):
    """Runs a coroutine on an event loop of its own, in a thread: after the browser tests, Playwright
    leaves a loop running in pytest's thread, where asyncio.run refuses to start another."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


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

    import numpy as np
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
    import numpy as np
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


def test_a_layout_marker_is_always_a_frame_the_browser_echoes(clock):
    for sent_before in range(1, 2 * pacing.ECHO_EVERY):
        clock.frames = sent_before
        clock.advance(1.0)
        clock.rebuilt()
        clock.ready()
        assert clock.frames % pacing.ECHO_EVERY == 0 and clock.frames > sent_before


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


class FakeSession:
    """What LivePage.frame_here reads of Bokeh's ServerSession: its lock and its pending writes."""

    def __init__(self):
        from tornado.locks import Lock

        self._lock, self._pending_writes, self.destroyed, self.blocked = Lock(), None, False, 0

    def block_expiration(self):
        self.blocked += 1

    def unblock_expiration(self):
        self.blocked -= 1


def live_page(session, frame):
    page = pacing.LivePage.__new__(pacing.LivePage)
    page.document = type("D", (), {"session_context": type("C", (), {"_session": session})()})()
    page.paced_tick = frame
    return page


def test_a_frame_is_made_at_once_as_bokeh_makes_a_locked_callback_and_waits_when_the_document_is_held():

    session = FakeSession()
    seen = []
    page = live_page(session, lambda: seen.append(session._pending_writes))
    assert page.frame_here() and seen == [[]]  # inside: the session collects writes, as under its lock
    assert session._pending_writes is None and wire.free(session._lock)

    async def held():
        async with session._lock:
            return page.frame_here()

    assert run_apart(held()) is False and seen == [[]]  # another callback holds the document: no frame
    session.destroyed = True
    assert not page.frame_here()


def test_a_write_that_must_wait_keeps_the_document_held_until_it_is_written():
    """A busy connection (a slow laptop): the frame's message is written after, in order, and no other
    callback of the document runs before it went out, as with Bokeh's own locked callbacks."""
    import asyncio

    session = FakeSession()
    order = []

    async def write(name, gate):
        await gate.wait()
        order.append(name)

    async def run():
        gate = asyncio.Event()
        page = live_page(session, lambda: session._pending_writes.append(write("frame", gate)))
        assert page.frame_here()
        assert not wire.free(session._lock) and session.blocked == 1

        async def other_callback():
            async with session._lock:
                order.append("other callback")

        other = asyncio.ensure_future(other_callback())
        await asyncio.sleep(0.01)
        assert order == []
        gate.set()
        await other
        assert order == ["frame", "other callback"]
        assert wire.free(session._lock) and session.blocked == 0

    run_apart(run())


def test_a_page_whose_frame_fails_stops_no_other_page(caplog):
    pacer = pacing.Pacer()
    broken, other = FakePage(), FakePage()

    def fail():
        raise RuntimeError("a bug in one page's views")

    broken.paced_tick = fail
    pacer.timer = "ticked by hand here"
    for page in (broken, other):
        pacer.join(page)
    pacer.tick()
    assert other.ticks == 1 and "a frame of a page failed" in caplog.text
