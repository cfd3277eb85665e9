"""The Sweep page (?page=sweep): two optimizers compared over a grid of learning rates x each one's own
hyperparameter, times seeds, as a sweep of real training runs on Dask (lab.sweep). The heatmaps fill in
cell by cell as runs finish; a click shows a cell's loss curves, a double click opens its run in the
Playground. Stop, Clear or closing the tab cancels the sweep's pending tasks on the cluster.

The runs go to the server's shared Dask client (lab.sweep.shared_client): an embedded LocalCluster made
on the first Start, or the cluster named by LAB_DASK_SCHEDULER when the server was started with it. A
background thread waits on the results and queues them; the page's paced frames drain the queue.
"""

import logging
import queue
import threading
import time
import traceback

import panel as pn
from bokeh.layouts import row
from bokeh.models import Div

from apps.pacing import FrameClock, LivePage, Transport
from apps.sweep_views import SweepViews
from apps.urlstate import UrlState
from apps.widgets import Messages, flow, log_slider, param_widgets, settings_card
from lab.sweep import dashboard_address, shared_client
from lab.sweep_compare import CompareConfig, Comparison

log = logging.getLogger("lab.apps")
MAX_DRAIN = 2000  # results taken from the queue per frame
SHOWN = ("metric", "target")  # settings that change only how results look, not which runs


class SweepPage(LivePage):

    def __init__(self, query):
        self.messages = Messages()
        self.config = CompareConfig()
        try:
            self.config.from_query(query)
        except ValueError as err:
            self.messages.show(f"The link's settings could not all be used: {err}", "warning")
        self.transport = Transport(play_label="▶ Start sweep", pause_label="■ Stop sweep")
        self.transport.reset.name = "Clear"
        self.status = Div(text="", name="sweep_status", sizing_mode="stretch_width")
        self.dashboard = Div(text="", name="sweep_dashboard", sizing_mode="stretch_width")
        self.figures = pn.Column(sizing_mode="stretch_width")
        self.clock = FrameClock(max_fps=10)
        self.url = UrlState("sweep")
        self.views = SweepViews(self)
        self.results = queue.SimpleQueue()
        self.comparison = None      # the grid shown (a preview until Start)
        self.sweep = None           # the lab.sweep.Sweep running now, or last
        self.thread = None
        self.generation = 0         # results of a stopped sweep still queued are dropped
        self.running = False        # a sweep is running (until its thread says done)
        self.started = 0.0
        self.workers = 0
        self.note = ""
        self.page_host = request_host()
        g = self.messages.guard
        runs = [n for n in self.config.names() if n not in SHOWN]
        self.config.param.watch(g(self.on_runs_changed), runs)
        self.config.param.watch(g(lambda *e: self.views.restyle()), list(SHOWN))
        self.config.param.watch(g(lambda *e: self.sync_url()), self.config.names())
        self.preview()
        self.sync_url()
        self.start_live(self.messages, self.transport, self.clock, self.url, self.status, query)

    # ----- settings ----------------------------------------------------------------------------------
    def on_runs_changed(self, *events):
        if any(e.name == "base" and "?" in str(e.new) for e in events):
            self.config.take_link(self.config.base)  # a pasted Playground link, taken apart (watchers run again)
            self.messages.show("Took the data, network and settings from the Playground link.", "success")
            return
        if self.running:
            self.note = "The settings changed: Stop, then Start for a sweep with them."
            self.status.text = self.status_text()
            return
        self.preview()

    def preview(self):
        """The grid the settings describe, every cell waiting (a bad setting says so instead)."""
        try:
            comparison = Comparison(self.config)
        except ValueError as err:
            self.messages.show(f"{err}", "danger")
            return False
        if self.messages.pane.alert_type == "danger":
            self.messages.clear()  # the setting that was wrong is fixed
        self.comparison = comparison
        self.note = ""
        self.build_figures()
        return True

    def build_figures(self):
        self.figures.objects = [pn.pane.Bokeh(row(*self.views.build(self.comparison))),
                                pn.pane.Bokeh(self.views.curve_figure),
                                pn.pane.Bokeh(self.views.links, sizing_mode="stretch_width")]
        self.views.show()
        self.views.draw_curves()
        self.status.text = self.status_text()
        self.clock.rebuilt(*self.views.heatmaps, self.views.curve_figure)

    def sync_url(self):
        self.url.write(self.config.to_query())

    def controllable(self):
        return [self.config]

    def apply_settings(self, query):
        self.on_reset()
        self.config.from_query(query)
        self.preview()
        self.sync_url()

    def settings_json(self):
        return self.config.to_json()

    def load_settings(self, text):
        self.config.from_json(text)
        Comparison(self.config)  # a file whose settings make no sweep says why
        self.messages.show("Loaded the sweep from the settings file.", "success")

    # ----- running -----------------------------------------------------------------------------------
    def on_play(self, playing):
        if playing:
            self.start()
        else:
            self.cancel("Stopped")

    def start(self):
        if self.running:
            return
        try:
            fresh = Comparison(self.config)
        except ValueError as err:
            self.messages.show(f"{err}", "danger")
            self.transport.halt()
            return
        old = self.comparison
        keep = old is not None and set(old.cell_of) == set(fresh.cell_of) and old.finished < len(old)
        if not keep:  # a new grid (or a finished one again): new figures, every cell waiting
            self.comparison = fresh
            self.build_figures()
        done = {row["run"] for cells in self.comparison.cells for cell in cells for row in cell.rows}
        self.sweep = self.comparison.sweep.fresh()
        self.generation += 1
        self.running, self.started, self.note = True, time.monotonic(), "connecting to the Dask cluster…"
        self.thread = threading.Thread(target=self.work, args=(self.sweep, done, self.generation),
                                       name="lab-sweep", daemon=True)
        self.thread.start()
        self.status.text = self.status_text()

    def work(self, sweep, done, generation):
        """The sweep's thread: connect, run, queue every result (the frames draw them)."""
        put = self.results.put
        try:
            client = shared_client()
            workers = len(client.scheduler_info().get("workers", {}))
            put((generation, "cluster", (dashboard_address(client, self.page_host), workers)))
            sweep.run(client=client, progress=False, skip=done,
                      on_result=lambda row, curves: put((generation, "run", (row, curves))))
            put((generation, "done", None))
        except ValueError as err:
            put((generation, "error", f"{err}"))
        except Exception as err:  # the page says what happened; the log has the rest
            log.error("sweep failed:\n%s", traceback.format_exc())
            put((generation, "error", f"The sweep failed ({type(err).__name__}: {err})."))

    def cancel(self, how):
        """Stops the sweep: its pending tasks are cancelled on the cluster (Stop, Clear, tab closed)."""
        if self.sweep is not None and self.running:
            self.sweep.cancel()
            self.running = False
            self.note = f"{how}: its pending runs were cancelled on the cluster. Start goes on where it stopped."
            self.status.text = self.status_text()

    def on_reset(self):
        self.transport.halt()
        self.cancel("Cleared")
        self.preview()

    def has_news(self):
        return self.transport.playing or self.clock.layout_pending or not self.results.empty()

    def finished(self):
        return not self.running

    def frame(self):
        changed = set()
        for _ in range(MAX_DRAIN):
            try:
                generation, kind, item = self.results.get_nowait()
            except queue.Empty:
                break
            if generation != self.generation:
                continue
            if kind == "run":
                where = self.comparison.add(*item)
                if where is not None:
                    changed.add(where[0])
            elif kind == "cluster":
                link, self.workers = item
                self.note = ""
                self.dashboard.text = (f'<a href="{link}" target="_blank">Dask dashboard</a> '
                                       f"<small>({self.workers} worker{'s' if self.workers != 1 else ''}: "
                                       "task stream, progress, memory)</small>" if link else "")
            elif kind == "done":
                self.running = False
                if not self.sweep.cancelled:
                    self.note = f"Finished in {time.monotonic() - self.started:.1f} s."
            elif kind == "error":
                self.running = False
                self.note = ""
                self.messages.show(item, "danger")
        if changed:
            self.views.show(tuple(sorted(changed)))
            if any(s.selected.indices for s in self.views.sources):
                self.views.draw_curves()
        self.status.text = self.status_text()
        return True

    def status_text(self):
        c = self.comparison
        if c is None:
            return ""
        rows = [len(r) for r in c.rows_of]
        shape = (f"{len(c)} runs: {c.names[0]} ({rows[0]} × {len(c.lrs)}) and {c.names[1]} ({rows[1]} × "
                 f"{len(c.lrs)}), {c.seeds} seed{'s' if c.seeds > 1 else ''} each, {c.epochs} epochs")
        done = f"<b>{c.finished} of {len(c)}</b> runs finished"
        if c.diverged:
            done += f", {c.diverged} diverged"
        if c.errors:
            done += f", {c.errors} failed"
        if self.running:
            done += f" · {time.monotonic() - self.started:.0f} s"
        note = f" · {self.note}" if self.note else ""
        return f"{done} · {shape}{note}" if c.finished or self.running else f"{shape}. Press Start.{note}"

    # ----- the tab ---------------------------------------------------------------------------------
    def stop(self):
        self.cancel("Closed")
        super().stop()

    def threads_alive(self):
        return int(self.thread is not None and self.thread.is_alive())

    def view(self):
        t = self.transport
        controls = flow(t.play, t.reset, pn.pane.Bokeh(self.status, sizing_mode="stretch_width"))
        self.control_row = controls
        c = self.config
        wide = dict(sizing_mode="stretch_width")
        cards = [
            pn.Card(*param_widgets(c, names=["dataset", "noise", "n_points", "hidden", "activation", "batch_size",
                                             "base"]), title="Data and network", **wide),
            pn.Card(*param_widgets(c, names=["optimizer_a", "values_a", "optimizer_b", "values_b"]),
                    title="Optimizers", **wide),
            pn.Card(log_slider(c, "lr_min", low=-5.0, high=1.0, label="Smallest learning rate (log10)"),
                    log_slider(c, "lr_max", low=-5.0, high=1.0, label="Largest learning rate (log10)"),
                    *param_widgets(c, names=["lr_count"]), title="Learning rates", **wide),
            pn.Card(*param_widgets(c, names=["seeds", "epochs"]), title="Runs", **wide),
            pn.Card(*param_widgets(c, names=["metric"]),
                    log_slider(c, "target", low=-3.0, high=1.0, label="Target test loss (log10)"),
                    title="Colour", **wide),
            settings_card(self.settings_json, self.load_settings, "sweep-settings.json", self.messages),
        ]
        return (pn.Column(*cards, **wide),
                pn.Column(controls, self.messages.pane, pn.pane.Bokeh(self.dashboard, **wide), self.figures,
                          name="sweep", **wide))


def request_host():
    """The host name this tab reached the server by (for the dashboard's link), or None."""
    doc = pn.state.curdoc
    context = getattr(doc, "session_context", None) if doc is not None else None
    request = getattr(context, "request", None)
    host = (getattr(request, "headers", None) or {}).get("Host", "") if request is not None else ""
    return host.rsplit(":", 1)[0].strip("[]") or None


def build(query):
    return SweepPage(query)
