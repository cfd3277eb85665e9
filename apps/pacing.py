"""What every live page shares: the play / step / reset controls, the frame clock that decides when a
page may send its browser another frame, and the server-wide pacer that shares frames out.

One server process feeds every tab from one event-loop thread, so frames are that thread's to share:

* ``Pacer``: one timer per server process (not one per tab) measures how busy the event loop is and
  sets the frame rate every student page gets; presenter pages (``?present=1``) get their full rate
  first. Pages with nothing new to show, hidden tabs and paused runs cost nothing.
* ``FrameClock``: per page. After views were rebuilt, their data waits until the browser has their
  layout (data sent to a model the browser does not know yet is dropped: "reference ... isn't known").
  At most the pacer's rate, and at most ``in_flight`` frames the browser has not acknowledged, so a
  slow laptop gets fewer frames instead of a growing lag.
* ``one_message`` (apps.wire): a frame's changes go to the browser as one combined message, in one
  socket write.

The browser acknowledges a frame by echoing its number (a CustomJS on a data source no glyph draws).
A client that never echoes (a script, a test's light client) is not stalled: after ``patience`` seconds
the clock goes on without the echo.
"""

import json
import logging
import os
import time

import panel as pn
from bokeh.core.property.validation import validate
from bokeh.models import ColumnDataSource, CustomJS
from panel.io.state import set_curdoc
from tornado.ioloop import PeriodicCallback

from apps.sessions import SessionPage
from apps.wire import decode_incoming, new_data, one_message, run_locked_now

log = logging.getLogger(__name__)


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


ECHO_EVERY = 8  # the browser echoes frame numbers divisible by this


class FrameClock:
    """Frame numbers sent to the browser and echoed back; see the module docstring for the rules."""

    def __init__(self, max_fps=22.0, in_flight=10, patience=1.0, layout_patience=5.0):
        self.max_fps = max_fps
        self.min_interval = 1.0 / max_fps
        self.in_flight, self.patience, self.layout_patience = in_flight, patience, layout_patience
        self.counter = ColumnDataSource(data={"frame": [0], "needs": [""]}, name="frame_counter")
        self.ack = ColumnDataSource(data={"frame": [0]}, name="frame_ack")
        # every ECHO_EVERY-th frame is echoed (each echo is a message the server decodes against the whole
        # page); layout markers are always echoed (see ready) and name the models the new layout brings:
        # the echo waits until the browser's document has them all, however late the layout reaches it
        self.counter.js_on_change("data", CustomJS(args=dict(ack=self.ack, every=ECHO_EVERY), code="""
            const frame = cb_obj.data.frame[0];
            if (frame % every != 0) return;
            const needs = (cb_obj.data.needs || [""])[0];
            const ids = needs ? needs.split(",") : [];
            const doc = cb_obj.document;
            let tries = 0;
            const echo = () => {
                if (ack.data.frame[0] >= frame) return;
                if (ids.every(id => doc.get_model_by_id(id) != null) || ++tries > 200) ack.data = {frame: [frame]};
                else setTimeout(echo, 50);
            };
            echo();"""))
        # the tab's visibility, reported by the browser: a hidden tab gets no frames
        self.visibility = ColumnDataSource(data={"visible": [1]}, name="tab_visible")
        self.visible = True  # a plain copy: the pacer reads it a hundred times a second
        self.visibility.on_change("data", lambda attr, old, new: setattr(self, "visible", bool(new["visible"][0])))
        self.frames = 0
        self.last_sent = 0.0
        self.layout_pending = False
        self.layout_frame = 0
        self.layout_sent_at = 0.0
        self.needed = []  # ids of models the pending layout brings

    def attach(self, model):
        """The sources must belong to the document: hang them on a model the page shows (LivePage.start_live
        does), and have the browser report when the tab is hidden or shown again."""
        model.tags = [*model.tags, self.counter, self.ack, self.visibility]
        doc = pn.state.curdoc
        if doc is not None:
            doc.js_on_event("document_ready", CustomJS(args=dict(src=self.visibility), code="""
                const report = () => { src.data = {visible: [document.hidden ? 0 : 1]} };
                document.addEventListener('visibilitychange', report);
                report();"""))

    @property
    def acknowledged(self):
        return int(self.ack.data["frame"][0])

    def sent(self, started=None, needs=""):
        """Call once per frame the page sent; ``started``: when it began drawing it (the interval between
        frames counts from there, so the time a frame takes to draw is not added to the interval)."""
        self.frames += 1
        self.last_sent = time.monotonic() if started is None else started
        self.counter.data = {"frame": [self.frames], "needs": [needs]}

    def rebuilt(self, *models):
        """Call when views were replaced, with the new Bokeh models frames will write to (or the figures
        holding them): their data waits until the browser confirms it has them."""
        self.layout_pending = True
        self.needed.extend(m.id for m in models)

    def ready(self, fps=None):
        """True when the page may send a frame now, at most ``fps`` a second (default: max_fps)."""
        now = time.monotonic()
        if self.layout_pending:
            # this tick runs after the layout change went out: a frame number sent now comes back only
            # once the browser has applied everything before it
            self.layout_pending = False
            self.frames += -(self.frames + 1) % ECHO_EVERY  # the marker's number is one the browser echoes
            self.sent(now, ",".join(self.needed))
            self.needed = []
            self.layout_frame, self.layout_sent_at = self.frames, now
            return False
        if self.acknowledged < self.layout_frame and now - self.layout_sent_at < self.layout_patience:
            return False
        since = now - self.last_sent
        interval = self.min_interval if fps is None else 1.0 / min(fps, self.max_fps)
        unacknowledged = self.frames - self.acknowledged
        return since >= interval and (unacknowledged <= self.in_flight or since >= self.patience)

    def may_ask(self, fps, now):
        """A cheap test for the pacer: could ``ready(fps)`` be true at ``now``? (It sends nothing.)"""
        return self.layout_pending or (now - self.last_sent >= 1.0 / fps and self.visible)



class Pacer:
    """Shares the event loop's frames among the live pages of one server process.

    Every ``PERIOD`` seconds (one timer for the whole process) it asks each page whether it has
    something new and may send it, and makes that page's frame (``LivePage.frame_here``; through Bokeh's
    queue when another callback holds the page's document). Every
    ``WINDOW`` seconds it measures two loads: the event loop's (its thread's CPU time over wall
    time) and the machine's (busy share of all cores, from /proc/stat where there is one: training
    threads, other server processes, a browser on the same machine; niced work does not count). It
    moves the students' frame rate until both are under their targets: presenters keep their full
    rate, students share the rest evenly. With ``LAB_STATS=path`` set, it writes its counters there once a second.
    """

    PERIOD = 0.01
    WINDOW = 0.5
    TARGET_LOAD = 0.7
    TARGET_MACHINE = 0.85
    SMOOTHING = 0.4  # loads are averaged over a few windows: single readings swing the rate
    MIN_FPS, MAX_FPS = 0.5, 22.0

    def __init__(self):
        self.pages = []
        self.student_fps = self.MAX_FPS
        self.frames = 0            # frames delivered, all pages together
        self.load = 0.0            # share of the last window the event loop was busy
        self.machine = 0.0         # share of the last window all cores were busy
        self.cpu_ticks = machine_ticks()
        self.timer = None
        self.window_start = time.monotonic()
        self.cpu_start = time.thread_time()
        self.cpu_total = 0.0
        self.stats_path = os.environ.get("LAB_STATS")
        self.stats_written = 0.0

    def join(self, page):
        """Called on the event loop when a page is built (its document's lock is held)."""
        self.pages.append(page)
        self.pages.sort(key=lambda p: not p.presenter)  # presenters first: a frame scheduled earlier is sent earlier
        if self.timer is None:
            self.timer = PeriodicCallback(self.tick, 1000 * self.PERIOD)
            self.timer.start()

    def leave(self, page):
        if page in self.pages:
            self.pages.remove(page)

    def fps_for(self, page):
        return page.clock.max_fps if page.presenter else min(page.clock.max_fps, self.student_fps)

    def tick(self):
        now = time.monotonic()
        if now - self.window_start >= self.WINDOW:
            self._measure(now)
        for page in self.pages:  # presenters first (see join)
            if page.scheduled:
                continue
            try:
                if page.clock.may_ask(self.fps_for(page), now) and page.has_news() and not page.frame_here():
                    page.scheduled = True  # its document is busy: the frame waits its turn in Bokeh's queue
                    page.document.add_next_tick_callback(page.paced_tick)
            except Exception:  # (the page's own errors become its message: see tick) one page's bug stops no other
                log.exception("a frame of a page failed")

    def _measure(self, now):
        cpu = time.thread_time()  # this timer runs on the event loop's thread: its CPU time
        busy = cpu - self.cpu_start
        self.cpu_total += busy
        self.load += self.SMOOTHING * (busy / (now - self.window_start) - self.load)
        self.window_start, self.cpu_start = now, cpu
        ticks = machine_ticks()
        if ticks and self.cpu_ticks:
            total, idle = (a - b for a, b in zip(ticks, self.cpu_ticks))
            self.machine += self.SMOOTHING * ((1.0 - idle / total if total > 0 else 0.0) - self.machine)
        self.cpu_ticks = ticks
        if sum(not p.presenter and p.transport.playing for p in self.pages) > 1:  # sharing only when there is any
            over = max(self.load / self.TARGET_LOAD, self.machine / self.TARGET_MACHINE, 1e-3)
            change = min(1.25, max(0.6, 1.0 / over))
            self.student_fps = min(self.MAX_FPS, max(self.MIN_FPS, self.student_fps * change))
        else:
            self.student_fps = self.MAX_FPS
        if self.stats_path and now - self.stats_written >= 1.0:
            self.stats_written = now
            self.write_stats()

    def write_stats(self):
        stats = {"time": time.time(), "loop_cpu": self.cpu_total, "frames": self.frames, "load": self.load,
                 "machine": self.machine,
                 "pages": len(self.pages), "student_fps": self.student_fps,
                 "presenters": sum(p.presenter for p in self.pages)}
        tmp = f"{self.stats_path}.tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.replace(tmp, self.stats_path)


def machine_ticks():
    """(all, available) CPU ticks of the machine since boot, or None where /proc/stat is not there.
    Available: idle, waiting for I/O, or running niced (background) work, which yields to the server."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, idle, iowait, *rest = (int(v) for v in f.readline().split()[1:])
    except (OSError, ValueError):
        return None
    return user + nice + system + idle + iowait + sum(rest), idle + iowait + nice


PACER = Pacer()


def truthy(value):
    """An address flag such as ``present=1`` (also true, yes)."""
    return str(value or "").lower() in ("1", "true", "yes")


class LivePage(SessionPage):
    """A page that shows something moving: a Transport, a FrameClock, and frames paced by the PACER.

    Subclasses define ``frame()``: send the newest state to the views if there is any, and return
    True when something was sent, and ``has_news()`` when they have more to show than while playing.
    They may override ``on_play``, ``on_step``, ``on_reset`` and ``finished()`` (True once the run
    stopped itself, so the play button goes back to 'play'); the defaults act on the page's runs
    (``live``, ``compared``). A page opened with ``?present=1`` is a presenter's (the projector).
    """

    presenter = False
    scheduled = False   # a frame of this page waits on its document's queue
    document = None
    pacer = PACER

    def start_live(self, messages, transport, clock, url, anchor, query=None):
        """Wires the controls and joins the pacer. ``anchor``: a model the page shows, which carries the
        clock's and the URL's data sources into the document."""
        self.messages, self.transport, self.clock = messages, transport, clock
        self.presenter = truthy((query or {}).get("present"))
        clock.attach(anchor)
        url.attach(anchor)
        g = messages.guard
        transport.play.param.watch(g(lambda e: self.on_play(bool(e.new))), "value")
        transport.step.on_click(g(lambda e: self.on_step()))
        transport.reset.on_click(g(lambda e: self.on_reset()))
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            self.document = doc
            decode_incoming(doc)
            self.pacer.join(self)
            self.register(doc.session_context.id)

    def stop(self):
        self.pacer.leave(self)
        super().stop()

    def has_news(self):
        """True when a frame would show something new (the pacer asks only such pages)."""
        return self.transport.playing or self.clock.layout_pending

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

    def on_steps(self, n):
        """n epochs of every run in one go (a lesson's 'step n'), paused. (For lessons and teacher mode a
        page also defines apply_settings(query) and controllable(): see apps.lessons and apps.teacher.)"""
        self.transport.halt()
        for run in self.runs():
            run.advance_epochs(n)

    def finished(self):
        """True once the page's run stopped itself (diverged, early stopped, epoch limit)."""
        return self.live is not None and not self.live.running

    def pace_note(self):
        """Says so when the server is sharing frames out and this page gets fewer than it could."""
        fps = self.pacer.fps_for(self)
        return "" if fps >= self.clock.max_fps else f" · shared server: {fps:.0f} frames/s"

    def frame_here(self):
        """The pacer's frame, made at once in the pacer's own callback when nothing holds the page's
        document (apps.wire.run_locked_now); False when something does: the frame must wait its turn."""
        return run_locked_now(self.document, self.paced_tick)

    def paced_tick(self):
        """The pacer's frame, on the document's own thread with its lock: one message to the browser."""
        self.scheduled = False
        # the views' data comes from the lab's own frames, and is new: Bokeh's per-value property checks
        # and its comparisons with the old data are skipped
        with set_curdoc(self.document), one_message(self.document), validate(False), new_data():
            self.tick(self.pacer.fps_for(self))

    def tick(self, fps=None):
        """One frame when the clock allows it. Errors become a message."""
        try:
            started = time.monotonic()
            if self.clock.ready(fps) and self.frame():
                self.clock.sent(started)
                self.pacer.frames += 1
            if self.transport.playing and self.finished():
                self.transport.halt()
        except Exception as err:  # keep going; show what happened
            self.messages.show(f"Display error: {type(err).__name__}: {err}", "danger")

