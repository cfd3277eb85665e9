"""What every live page shares (apps.pacing), without a browser: the frame clock (the browser's echo is
set by hand, and time is a counter the test moves), the pacer, and frames made in the pacer's callback."""

import pytest
from own_loop import run_apart

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


def test_a_layout_marker_is_always_a_frame_the_browser_echoes(clock):
    for sent_before in range(1, 2 * pacing.ECHO_EVERY):
        clock.frames = sent_before
        clock.advance(1.0)
        clock.rebuilt()
        clock.ready()
        assert clock.frames % pacing.ECHO_EVERY == 0 and clock.frames > sent_before


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
