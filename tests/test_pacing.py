"""The frame clock every live page shares (apps.pacing), without a browser: the browser's echo is set
by hand, and time is a counter the test moves."""

import pytest

from apps import pacing


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
    assert clock.frames == 2 and clock.counter.data["frame"] == [2]  # even: the browser echoes even frames
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
