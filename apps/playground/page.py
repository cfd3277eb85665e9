"""The playground page: pick data, network and training settings; watch the network learn live.

Training runs in a per-session thread (lab.live.LiveTraining); the page's tick (apps.pacing) takes the
newest frame and updates the views, so Bokeh models are only touched from the document's own thread.
Files (upload, save, load, export) are in files.py, the same-init comparison in compare.py,
click-to-add points in points.py, the sidebar in sidebar.py.
"""

import time
from urllib.parse import quote

import panel as pn
from bokeh.events import Tap
from bokeh.models import Div

from apps.pacing import FrameClock, LivePage, Transport
from apps.playground.compare import Compare
from apps.playground.files import Files
from apps.playground.forward import ForwardPass
from apps.playground.network import NetworkView
from apps.playground.points import Points
from apps.playground.sidebar import optimizer_widgets, sidebar
from apps.playground.views import BoundaryView, CurvesView, DigitsView, WeightsView
from apps.urlstate import UrlState
from apps.widgets import Messages, flow
from lab.live import LiveTraining
from lab.playground import REBUILD_SETTINGS, PlaygroundConfig

# The slower-changing views are redrawn every k-th frame, in turn (k, offset), so no frame carries all
# of them and a page at a few frames a second costs the server and the browser proportionally less.
SLOW_VIEWS = {"curves": (2, 0), "network": (3, 1), "weights": (4, 2), "digits": (3, 0)}
STATUS_SECONDS = 0.25  # a Div whose text changes makes the browser lay out the page again (~30 ms)


class Playground(LivePage):
    def __init__(self, query):
        messages = Messages()
        self.messages = messages
        self.config = PlaygroundConfig()
        self.upload = None
        self.added = None  # data with clicked points, or None
        self.rendered = -1
        self.drawn = 0  # frames drawn since the views were built
        self.status_at = 0.0
        link_problem = None
        try:
            self.config.from_query(query)
        except ValueError as err:
            link_problem = f"The link's settings could not all be used: {err}"
        self.transport = Transport(step_label="Step (1 epoch)")
        # A plain Bokeh Div, so tests and scripts can read it by name. Its height is fixed and it is redrawn
        # at a few hertz (STATUS_SECONDS): a Div whose text changes can make the browser lay out the page again.
        self.status = Div(text="", name="status", sizing_mode="stretch_width", height=44)
        self.clock = FrameClock()
        self.url = UrlState("playground")
        self.show_test = pn.widgets.Checkbox(name="Show test data", value=True)
        self.discrete = pn.widgets.Checkbox(name="Discretize output", value=False)
        self.add_layer = pn.widgets.Button(name="+ layer", width=70)
        self.remove_layer = pn.widgets.Button(name="− layer", width=70)
        self.landscape_link = pn.pane.HTML("", width=330)
        self.options_row = flow()  # made once and refilled (see Compare.row)
        self.views = pn.Column(sizing_mode="stretch_width")
        self.optimizer_box = pn.Column(sizing_mode="stretch_width")
        self.schedule_box = pn.Column(sizing_mode="stretch_width")
        self.files = Files(self)
        self.points = Points(self)
        self.compare = Compare(self)
        self.forward = ForwardPass(self)
        self._wire()
        self.rebuild()
        if link_problem and self.live is not None:  # (a failed build says what to fix instead)
            messages.show(link_problem, "warning")
        self.clock.layout_pending = False  # the first layout goes out with the whole document
        self.start_live(messages, self.transport, self.clock, self.url, self.status, query)

    # ----- controls --------------------------------------------------------------------------------
    def _wire(self):
        g = self.messages.guard
        self.show_test.param.watch(g(lambda e: self.boundary and self.boundary.show_test(e.new)), "value")
        self.discrete.param.watch(g(self.on_discrete), "value")
        self.add_layer.on_click(g(lambda e: self.config.change_layers(+1)))
        self.remove_layer.on_click(g(lambda e: self.config.change_layers(-1)))
        self.config.param.watch(g(self.on_rebuild_setting), list(REBUILD_SETTINGS))
        self.config.param.watch(g(self.on_live_setting), ["optimizer_name", "schedule_name"])
        # (a watcher of several settings gets one event per setting changed together: *e)
        self.config.param.watch(g(lambda *e: self.sync_url()), ["batch_size", "steps_per_second", "max_epochs"])
        for obj in [*self.config.optimizers.values(), *self.config.schedules.values(),
                    self.config.regularization]:
            obj.param.watch(g(lambda *e: self.sync_url()), [p for p in obj.param if p not in ("name", "schedule")])
        self.config.regularization.param.watch(g(lambda e: self.rebuild()), ["patience"])

    def fill_optimizer_box(self):
        self.optimizer_box.objects, self.schedule_box.objects = optimizer_widgets(self.config)

    # ----- the run ---------------------------------------------------------------------------------
    def rebuild(self):
        """New data/network from the settings (the reset button, or a structural change)."""
        self.stop_runs()
        self.transport.halt()
        self.messages.clear()
        try:
            self.live = LiveTraining(self.config, split=self.added or self.upload)
        except ValueError as err:
            self.messages.show(f"{err}", "danger")
            self.live = None
            self.views.objects = [pn.pane.Markdown("Fix the setting above to see the network.")]
            return
        self.compared = None
        self.build_views()
        self.sync_url()

    def build_views(self):
        live = self.live
        self.curves = CurvesView(len(live.model.sizes) - 1)
        self.weights = WeightsView(live.model)
        self.network = NetworkView(live)
        self.boundary = None
        self.digits = None
        if live.split.is_2d:
            self.points.set_classes(live.split.n_classes)
            self.boundary = BoundaryView(live)
            self.boundary.figure.on_event(Tap, self.messages.guard(self.points.on_tap))
            self.boundary.show_test(self.show_test.value)
            self.boundary.discrete = self.discrete.value
            first = flow(pn.pane.Bokeh(self.boundary.figure), pn.pane.Bokeh(self.network.layout))
            self.boundary_row = first
            options = [self.show_test, self.discrete]
        elif live.split.image_side:
            self.digits = DigitsView(live)
            self.digits.figure.on_event(Tap, self.messages.guard(self.on_digit_tap))
            first = flow(pn.pane.Bokeh(self.digits.figure), pn.pane.Bokeh(self.digits.confusion_figure))
            options = []
        else:
            first = flow(pn.pane.Bokeh(self.network.layout))
            options = []
        self.options_row.objects = options
        self.compare.clear()
        self.views.objects = [
            first, self.options_row, self.compare.row,
            flow(pn.pane.Bokeh(self.curves.loss_fig), pn.pane.Bokeh(self.curves.acc_fig),
                   pn.pane.Bokeh(self.curves.rate_fig)),
            flow(pn.pane.Bokeh(self.weights.heat), pn.pane.Bokeh(self.weights.hist),
                   pn.pane.Bokeh(self.weights.grad_fig)),
        ]
        self.rendered = -1
        # the new views are filled once the browser has them
        self.clock.rebuilt(*(m.object for row in self.views.objects if hasattr(row, "objects")
                             for m in row.objects if isinstance(m, pn.pane.Bokeh)))

    # ----- callbacks -------------------------------------------------------------------------------
    def on_play(self, playing):
        if self.live is None:
            return
        cfg, live = self.config, self.live
        if playing and (live.status != "running" or (cfg.max_epochs and live.trainer.epoch >= cfg.max_epochs)):
            self.transport.halt()
            return
        super().on_play(playing)

    def on_reset(self):
        self.rebuild()

    def apply_settings(self, query):
        self.config.from_query(query)

    def set_weights(self, weights):
        """A hand-set model (a lesson's): [W0, b0, ...] into the running model, shown at once."""
        if self.live is not None:
            self.transport.halt()
            self.live.set_weights(weights)

    def show_trace(self, point):
        self.forward.show(point)

    def controllable(self):
        c = self.config
        return [c, c.optimizers[c.optimizer_name], c.schedule, c.regularization]

    def on_rebuild_setting(self, *events):
        """One rebuild for any number of data/network settings changed together (a link, a lesson step)."""
        names = {e.name for e in events}
        if "dataset" in names:
            self.upload = None
        if names & {"dataset", "noise", "n_points", "data_seed", "test_ratio"}:
            self.added = None
        self.rebuild()

    def on_live_setting(self, *events):
        self.fill_optimizer_box()
        self.sync_url()

    def on_digit_tap(self, event):
        """A click on a test image shows its forward pass (64 pixels in, 10 class probabilities out)."""
        i = self.digits.index_at(event.x, event.y) if self.digits is not None else None
        if i is not None:
            s = self.live.split
            self.forward.show(s.X_test[i], label=f"test image {i + 1} (true label {s.y_test[i]})")

    def on_discrete(self, event):
        if self.boundary:
            self.boundary.discrete = event.new
            self.boundary.update(self.live.latest)

    def sync_url(self):
        query = self.config.to_query()
        link = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
        self.landscape_link.object = (f'<a href="?page=landscape&{link}" target="_blank">Open this setup in the loss '
                                      "landscape page</a> (same seed: same data, weights and run)")
        self.url.write(query)

    # ----- frames ----------------------------------------------------------------------------------
    def has_news(self):
        live, compared = self.live, self.compared
        return (self.clock.layout_pending or (self.transport.playing and self.finished())
                or (live is not None and live.frames_made != self.rendered)
                or (compared is not None and compared.frames_made != self.compare.rendered))

    def frame(self):
        """The newest frame of each run into the views (apps.pacing decides when); True if any was new."""
        if self.live is None:
            return False
        sent = False
        if self.live.frames_made != self.rendered:
            self.render(self.live.take())
            sent = True
        return self.compare.render() or sent

    def render(self, frame):
        """Boundary every frame; the slower-changing views every few frames, in turn; status a few times
        a second (and at a stop)."""
        live = self.live
        fresh = self.rendered == -1  # new views: fill every one of them now
        self.rendered = live.frames_made
        self.drawn = 0 if fresh else self.drawn + 1
        if self.boundary is not None:
            self.boundary.update(frame)
        due = {name: fresh or self.drawn % k == offset for name, (k, offset) in SLOW_VIEWS.items()}
        due["curves"] = due["curves"] or bool(frame.get("backfill"))  # a lesson's many epochs: never skipped
        if due["curves"] and (frame["step"] > 0 or not self.curves.source.data["epoch"]):
            self.curves.update(frame)
        if due["network"]:
            self.network.update(frame)
        if due["weights"]:
            self.weights.update(frame)
        if due["digits"] and self.digits is not None:
            self.digits.update(frame)
        self.forward.update(force=fresh or not live.running)
        now = time.monotonic()
        if fresh or now - self.status_at >= STATUS_SECONDS or not live.running:
            self.status_at = now
            acc = frame["train_accuracy"]
            accuracy = "" if acc != acc else f" · train acc {acc:.3f} · test acc {frame['test_accuracy']:.3f}"
            text = (f"<b>epoch {frame['epoch']}</b> · step {frame['step']} · "
                    f"train loss {frame['train_loss']:.4f} · test loss {frame['test_loss']:.4f}"
                    f"{accuracy} · lr {frame['learning_rate']:.4g}{self.pace_note()}")
            if text != self.status.text:
                self.status.text = text
        if live.message:
            self.messages.show(live.message, "danger" if frame["status"] == "diverged" else "info")

    def view(self):
        """(sidebar, main) for the lab's template."""
        t = self.transport
        controls = flow(t.play, t.step, t.reset, self.compare.choice, self.compare.button, self.landscape_link)
        self.control_row = controls
        return sidebar(self), pn.Column(controls, pn.pane.Bokeh(self.status), self.messages.pane,
                                        self.forward.widgets(), self.views, sizing_mode="stretch_width",
                                        name="playground")


def build(query):
    return Playground(query)
