"""What every live page shares: the play / step / reset controls and the frame clock that decides when
the page may send the browser another frame.

The clock's rules, in the order ``FrameClock.ready`` applies them:

* after views were rebuilt, their data waits until the browser has their layout. Data sent to a model
  the browser does not know yet is dropped ("reference ... isn't known") and the view stays empty;
* at most ``max_fps`` frames a second;
* at most ``in_flight`` frames the browser has not yet acknowledged, so a slow laptop gets fewer frames
  instead of a growing lag.

The browser acknowledges a frame by echoing its number (a CustomJS on a data source no glyph draws).
A client that never echoes (a script, a test's light client) is not stalled: after ``patience`` seconds
the clock goes on without the echo.
"""

import time

import panel as pn
from bokeh.models import ColumnDataSource, CustomJS

from apps.sessions import SessionPage


class Transport:
    """Play (a toggle), Step and Reset buttons; the play button's label follows its state."""

    def __init__(self, play_label="▶ Play", step_label="Step", pause_label="❚❚ Pause"):
        self.labels = (play_label, pause_label)
        self.play = pn.widgets.Toggle(name=play_label, button_type="primary", width=110)
        self.step = pn.widgets.Button(name=step_label, width=max(70, 9 * len(step_label)))
        self.reset = pn.widgets.Button(name="Reset", width=80)
        self.play.param.watch(lambda e: setattr(self.play, "name", self.labels[int(bool(e.new))]), "value")

    @property
    def playing(self):
        return self.play.value

    def halt(self):
        """Back to 'play' (a run stopped itself, or the page was rebuilt)."""
        self.play.value = False


class FrameClock:
    """Frame numbers sent to the browser and echoed back; see the module docstring for the rules."""

    def __init__(self, max_fps=22.0, in_flight=3, patience=1.0, layout_patience=5.0):
        self.min_interval = 1.0 / max_fps
        self.in_flight, self.patience, self.layout_patience = in_flight, patience, layout_patience
        self.counter = ColumnDataSource(data={"frame": [0]}, name="frame_counter")
        self.ack = ColumnDataSource(data={"frame": [0]}, name="frame_ack")
        self.counter.js_on_change("data", CustomJS(args=dict(ack=self.ack),
                                                   code="ack.data = {frame: [cb_obj.data.frame[0]]}"))
        self.frames = 0
        self.last_sent = 0.0
        self.layout_pending = False
        self.layout_frame = 0
        self.layout_sent_at = 0.0

    def attach(self, model):
        """The two sources must belong to the document: hang them on a model the page shows
        (LivePage.start_live does)."""
        model.tags = [*model.tags, self.counter, self.ack]

    @property
    def acknowledged(self):
        return int(self.ack.data["frame"][0])

    def sent(self, started=None):
        """Call once per frame the page sent; ``started``: when it began drawing it (the interval between
        frames counts from there, so the time a frame takes to draw is not added to the interval)."""
        self.frames += 1
        self.last_sent = time.monotonic() if started is None else started
        self.counter.data = {"frame": [self.frames]}

    def rebuilt(self):
        """Call when views were replaced: their data waits for the browser to confirm the layout."""
        self.layout_pending = True

    def ready(self):
        """True when the page may send a frame now."""
        now = time.monotonic()
        if self.layout_pending:
            # this tick runs after the layout change went out: a frame number sent now comes back only
            # once the browser has applied everything before it
            self.layout_pending = False
            self.sent(now)
            self.layout_frame, self.layout_sent_at = self.frames, now
            return False
        if self.acknowledged < self.layout_frame and now - self.layout_sent_at < self.layout_patience:
            return False
        since = now - self.last_sent
        unacknowledged = self.frames - self.acknowledged
        return since >= self.min_interval and (unacknowledged <= self.in_flight or since >= self.patience)


class LivePage(SessionPage):
    """A page that shows something moving: a Transport, a FrameClock and a periodic tick.

    Subclasses define ``frame()``: send the newest state to the views if there is any, and return
    True when something was sent. They may override ``on_play``, ``on_step``, ``on_reset`` and
    ``finished()`` (True once the run stopped itself, so the play button goes back to 'play'); the
    defaults act on the page's runs (``live``, ``compared``).
    """

    PERIOD_MS = 15

    def start_live(self, messages, transport, clock, url, anchor):
        """Wires the controls and starts the tick. ``anchor``: a model the page shows, which carries the
        clock's and the URL's data sources into the document."""
        self.messages, self.transport, self.clock = messages, transport, clock
        clock.attach(anchor)
        url.attach(anchor)
        g = messages.guard
        transport.play.param.watch(g(lambda e: self.on_play(bool(e.new))), "value")
        transport.step.on_click(g(lambda e: self.on_step()))
        transport.reset.on_click(g(lambda e: self.on_reset()))
        self.start_ticking(self.tick, self.PERIOD_MS)

    def on_play(self, playing):
        for run in self.runs():
            run.play() if playing else run.pause()

    def on_step(self):
        """One epoch of every run, paused."""
        self.transport.halt()
        for run in self.runs():
            run.step_epoch()

    def on_reset(self):
        pass

    def finished(self):
        """True once the page's run stopped itself (diverged, early stopped, epoch limit)."""
        return self.live is not None and not self.live.running

    def tick(self):
        """The periodic callback: one frame when the clock allows it. Errors become a message."""
        try:
            started = time.monotonic()
            if self.clock.ready() and self.frame():
                self.clock.sent(started)
            if self.transport.playing and self.finished():
                self.transport.halt()
        except Exception as err:  # keep ticking; show what happened
            self.messages.show(f"Display error: {type(err).__name__}: {err}", "danger")
