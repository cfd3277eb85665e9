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
        self.document = type("D", (), {"add_next_tick_callback": lambda _, cb: cb()})()

    def has_news(self):
        return self.transport.playing

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


def test_a_hidden_tab_gets_no_frames(clock):
    clock.advance(1.0)
    now = pacing.time.monotonic()
    assert clock.may_ask(20, now)
    clock.visibility.data = {"visible": [0]}  # what the page's visibilitychange listener sends
    assert not clock.may_ask(20, now)
    clock.visibility.data = {"visible": [1]}
    assert clock.may_ask(20, now)


def test_a_frame_message_carries_every_change_and_decodes_to_the_same_document():
    """apps.wire.patch_message (arrays inline, references made on demand) against Bokeh's own decoder:
    a copy of the document patched with it ends up equal to the original, also when a source's data is
    replaced and then streamed to within one frame (the replacement already carries the streamed row)."""
    import numpy as np
    from bokeh.document import Document
    from bokeh.models import ColumnDataSource, Div

    doc, copy = Document(), Document()
    source = ColumnDataSource(data={"image": [np.zeros((4, 4), np.uint16)], "x": [0.0]}, name="img")
    status = Div(text="", name="status")
    doc.add_root(source)
    doc.add_root(status)
    copy.replace_with_json(doc.to_json())
    doc.models.flush_synced()
    doc.hold("combine")
    source.data = {"image": [np.arange(16, dtype=np.uint16).reshape(4, 4)], "x": [0.5]}
    status.text = "epoch 3"
    source.stream({"image": [np.ones((4, 4), np.uint16)], "x": [1.0]})
    events = list(doc.callbacks._held_events)
    doc.callbacks._held_events, doc.callbacks._hold = [], None
    message = wire.patch_message(doc, wire._without_superseded(events))
    assert message.buffers == []  # everything inside the one message
    copy.apply_json_patch(message.payload)
    mirrored = copy.get_model_by_name("img").data
    assert np.array_equal(np.asarray(mirrored["image"][0]).reshape(4, 4), np.arange(16).reshape(4, 4))
    assert list(mirrored["x"]) == [0.5, 1.0]
    assert copy.get_model_by_name("status").text == "epoch 3"


def test_the_frame_serializer_encodes_plain_values_as_bokeh_does():
    """Its fast path for strings, numbers, lists, dicts and arrays gives what Bokeh's own Serializer gives
    (with the frame's inline bytes): NaN, infinities and integers past 2**53 included, and values inside
    dicts, tuples, Bokeh's own lists and numpy scalars."""
    from bokeh.core.property.wrappers import PropertyValueList
    from bokeh.core.serialization import Serializer
    from bokeh.document import Document
    from bokeh.models import Div

    class BokehWithInlineBytes(Serializer):
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
        bokeh = BokehWithInlineBytes(deferred=False).encode(value)
    assert ours == bokeh
    assert ours[20]["entries"][0][1]["array"]["type"] == "bytes"  # the dict's array, inline
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

    ours = wire._FrameSerializer(Document().models)
    assert ours.encode(array) == Serializer._encode_ndarray(ours, array)


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


@pytest.mark.parametrize("size", [0, 1, 4096, 65535, 65536, 200_001])
def test_arrays_travel_as_a_gzip_stream_that_any_gzip_reader_opens(size):
    """The frame's inline arrays are gzip streams of stored blocks (BokehJS gunzips every inline array)."""
    import gzip

    import numpy as np

    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8)
    assert gzip.decompress(wire.stored_gzip(data.data)) == data.tobytes()
    assert gzip.decompress(wire.stored_gzip(data.reshape(-1, 1).data)) == data.tobytes()  # 2-D buffer


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_a_frame_message_is_written_as_the_websocket_frames_tornado_would_write(size):
    """send_in_one_write joins the message's three text frames into one write; each must be the frame
    tornado's own websocket protocol makes for the same text (the browser reads them as three)."""
    from tornado.websocket import WebSocketProtocol13

    written = []
    protocol = WebSocketProtocol13.__new__(WebSocketProtocol13)
    protocol.mask_outgoing, protocol._wire_bytes_out = False, 0
    protocol.stream = type("Stream", (), {"write": lambda self, frame: written.append(frame)})()
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    protocol._write_frame(True, 0x1, payload)
    assert wire.text_frame(payload) == written[0]
