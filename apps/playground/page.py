"""The playground page: pick data, network and training settings; watch the network learn live.

Training runs in a per-session thread (lab.live.LiveTraining); a periodic callback on the document
takes the newest frame and updates the views, so Bokeh models are only touched from the document's
own thread.
"""

import io
import os
import tempfile
import time
from urllib.parse import quote

import panel as pn
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, CustomJS, Div

from apps.playground.views import BoundaryView, CurvesView, DigitsView, NetworkView, WeightsView
from apps.sessions import SessionPage
from apps.widgets import Messages, param_widgets
from lab import datasets, optimizers
from lab.live import LiveTraining, compare_config
from lab.playground import MAX_DIAGRAM_LAYERS, REBUILD_SETTINGS, PlaygroundConfig, parse_hidden

SLOW_VIEWS = {"status": 0.25, "curves": 0.25, "network": 0.5, "weights": 0.7, "digits": 0.3}  # s between redraws
MIN_FRAME_S = 0.045  # at most ~22 frames per second
IN_FLIGHT = 3  # frames sent but not yet drawn by the browser before we wait for it (bounds the lag)
LAYOUT_WAIT_S = 5.0  # longest wait for the browser to confirm a rebuilt layout before data goes out anyway
FRAME_MS = 15  # how often the document checks for a new frame (cheap when there is none)


class Playground(SessionPage):
    def __init__(self, query):
        self.messages = Messages()
        self.config = PlaygroundConfig()
        self.upload = None
        self.added = None  # data with clicked points, or None
        self.live = None
        self.compared = None
        self.rendered = -1
        self.compared_rendered = -1
        self.frames = 0
        try:
            self.config.from_query({k: v for k, v in query.items() if k != "page"})
        except ValueError as err:
            self.messages.show(f"The link's settings could not all be used: {err}", "warning")
        self.play = pn.widgets.Toggle(name="▶ Play", button_type="primary", width=110)
        self.step = pn.widgets.Button(name="Step (1 epoch)", width=120)
        self.reset_button = pn.widgets.Button(name="Reset", width=80)
        self.compare_choice = pn.widgets.Select(name="Compare with optimizer", options=optimizers.names(),
                                                value="rmsprop", width=150)
        self.compare_button = pn.widgets.Button(name="Compare (same init)", width=150)
        # a plain Bokeh Div, so tests and scripts can read it by name; a fixed size, as a Div whose size
        # follows its text makes the browser lay out the whole page again
        self.status = Div(text="", name="status", width=900, height=22)
        # Any change to a Div re-renders it, and Bokeh then lays out the whole page (measuring every axis):
        # ~30 ms a time in the browser's profile, which capped the frame rate near 10/s. So the status line
        # is redrawn at a few hertz, and the frame number travels in two data sources that no glyph draws
        # (referenced from the status Div's tags, so they belong to the document). The browser echoes each
        # frame number back once it has applied it: at most IN_FLIGHT frames are unacknowledged, so a slow
        # laptop gets fewer frames, not a growing lag.
        self.counter = ColumnDataSource(data={"frame": [0]}, name="frame_counter")
        self.ack = ColumnDataSource(data={"frame": [0]}, name="frame_ack")
        self.counter.js_on_change("data", CustomJS(args=dict(ack=self.ack),
                                                   code="ack.data = {frame: [cb_obj.data.frame[0]]}"))
        self.status.tags = [self.counter, self.ack]
        self.last_render = 0.0
        # after a rebuild, new views get data only once the browser has their layout (see tick)
        self.layout_pending = False
        self.layout_frame = 0
        self.layout_sent_at = 0.0
        self.updated = {}
        self.show_test = pn.widgets.Checkbox(name="Show test data", value=True)
        self.discrete = pn.widgets.Checkbox(name="Discretize output", value=False)
        self.click_class = pn.widgets.RadioButtonGroup(name="Click adds", options=["off", "class 1", "class 0"],
                                                       value="off")
        self.clear_points = pn.widgets.Button(name="Clear added points", width=150)
        self.add_layer = pn.widgets.Button(name="+ layer", width=70)
        self.remove_layer = pn.widgets.Button(name="− layer", width=70)
        self.landscape_link = pn.pane.HTML("", width=330)
        # made once and refilled on each rebuild: a widget placed into a new Row at every rebuild leaves
        # the old Row's clean-up and the new Row sharing its per-page model
        self.options_row = pn.Row()
        self.compare_row = pn.Row()
        self.views = pn.Column(sizing_mode="stretch_width")
        self.optimizer_box = pn.Column(sizing_mode="stretch_width")
        self.schedule_box = pn.Column(sizing_mode="stretch_width")
        self._wire()
        self.ready = False  # the URL is written only once the page is connected (pn.state.onload):
        self.rebuild()      # touching pn.state.location in a session that never connects breaks
        self.layout_pending = False  # the first layout goes out with the whole document
        pn.state.onload(self.on_loaded)  # stylesheet URLs for other sessions (they fall back to a CDN)
        self.start_ticking(self.tick, FRAME_MS)

    # ----- controls --------------------------------------------------------------------------------
    def _wire(self):
        g = self.messages.guard
        self.play.param.watch(g(self.on_play), "value")
        self.step.on_click(g(self.on_step))
        self.reset_button.on_click(g(lambda e: self.rebuild()))
        self.compare_button.on_click(g(self.on_compare))
        self.show_test.param.watch(g(lambda e: self.boundary and self.boundary.show_test(e.new)), "value")
        self.discrete.param.watch(g(self.on_discrete), "value")
        self.clear_points.on_click(g(self.on_clear_points))
        self.add_layer.on_click(g(lambda e: self.change_layers(+1)))
        self.remove_layer.on_click(g(lambda e: self.change_layers(-1)))
        self.config.param.watch(g(self.on_rebuild_setting), list(REBUILD_SETTINGS))
        self.config.param.watch(g(self.on_live_setting), ["optimizer_name", "schedule_name"])
        self.config.param.watch(g(lambda e: self.sync_url()), ["batch_size", "steps_per_frame", "max_epochs"])
        for obj in [*self.config.optimizers.values(), *self.config.schedules.values(),
                    self.config.regularization]:
            obj.param.watch(g(lambda e: self.sync_url()), [p for p in obj.param if p not in ("name", "schedule")])
        self.config.regularization.param.watch(g(lambda e: self.rebuild()), ["patience"])

    def sidebar(self):
        c = self.config
        g = self.messages.guard
        self.upload_widget = pn.widgets.FileInput(accept=".csv", name="Upload CSV", sizing_mode="stretch_width")
        self.label_column = pn.widgets.TextInput(name="Label column", value="label", sizing_mode="stretch_width")
        self.upload_widget.param.watch(g(self.on_upload), "value")
        regenerate = pn.widgets.Button(name="Regenerate data", sizing_mode="stretch_width")
        regenerate.on_click(g(lambda e: setattr(c, "data_seed", (c.data_seed + 1) % 100000)))
        settings_in = pn.widgets.FileInput(accept=".json", name="Load settings", sizing_mode="stretch_width")
        settings_in.param.watch(g(self.on_load_settings), "value")
        downloads = [
            pn.widgets.FileDownload(callback=lambda: io.StringIO(self.config.to_json()), filename="lab-settings.json",
                                    label="Save settings (.json)", sizing_mode="stretch_width"),
            pn.widgets.FileDownload(callback=self.weights_file, filename="lab-weights.npz",
                                    label="Export weights (.npz)", sizing_mode="stretch_width"),
            pn.widgets.FileDownload(callback=lambda: io.StringIO(self.live.history_csv()),
                                    filename="lab-history.csv", label="Export history (.csv)",
                                    sizing_mode="stretch_width"),
        ]
        data = pn.Card(*param_widgets(c, names=["dataset", "noise", "test_ratio", "n_points", "features"]),
                       regenerate, pn.pane.Markdown("**Your own data** (CSV with a header)"), self.label_column,
                       self.upload_widget, pn.pane.Markdown("**Click on the plot to add points**"),
                       self.click_class, self.clear_points, title="Data", sizing_mode="stretch_width")
        network = pn.Card(*param_widgets(c, names=["hidden"]), pn.Row(self.add_layer, self.remove_layer),
                          *param_widgets(c, names=["activation", "output", "loss", "init", "seed", "dtype",
                                                   "backend"]),
                          title="Network", sizing_mode="stretch_width")
        training = pn.Card(*param_widgets(c, names=["optimizer_name"]), self.optimizer_box,
                           *param_widgets(c, names=["schedule_name"]), self.schedule_box,
                           *param_widgets(c, names=["batch_size", "steps_per_frame", "max_epochs"]),
                           title="Training", sizing_mode="stretch_width")
        regularization = pn.Card(*param_widgets(c.regularization, exclude=("keep_per_layer",)),
                                 title="Regularization", collapsed=True, sizing_mode="stretch_width")
        files = pn.Card(settings_in, *downloads, title="Save / load", collapsed=True, sizing_mode="stretch_width")
        self.fill_optimizer_box()
        return pn.Column(data, network, training, regularization, files, width=330)

    def fill_optimizer_box(self):
        self.optimizer_box.objects = param_widgets(self.config.optimizers[self.config.optimizer_name])
        sched = self.config.schedule
        self.schedule_box.objects = param_widgets(sched, exclude=("learning_rate",))

    # ----- the run ---------------------------------------------------------------------------------
    def rebuild(self):
        """New data/network from the settings (the reset button, or a structural change)."""
        self.stop_runs()
        self.play.value = False
        self.messages.clear()
        split = self.added or self.upload
        try:
            self.live = LiveTraining(self.config, split=split)
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
        self.compared_boundary = None
        self.digits = None
        if live.split.is_2d:
            self.boundary = BoundaryView(live)
            self.boundary.figure.on_event(Tap, self.messages.guard(self.on_tap))
            self.boundary.show_test(self.show_test.value)
            self.boundary.discrete = self.discrete.value
            first = pn.Row(pn.pane.Bokeh(self.boundary.figure), pn.pane.Bokeh(self.network.figure))
            self.boundary_row = first
            options = [self.show_test, self.discrete]
        elif live.split.image_side:
            self.digits = DigitsView(live)
            first = pn.Row(pn.pane.Bokeh(self.digits.figure), pn.pane.Bokeh(self.digits.confusion_figure))
            options = []
        else:
            first = pn.Row(pn.pane.Bokeh(self.network.figure))
            options = []
        self.options_row.objects = options
        self.compare_row.objects = []
        self.views.objects = [
            first, self.options_row, self.compare_row,
            pn.Row(pn.pane.Bokeh(self.curves.loss_fig), pn.pane.Bokeh(self.curves.acc_fig),
                   pn.pane.Bokeh(self.curves.rate_fig)),
            pn.Row(pn.pane.Bokeh(self.weights.heat), pn.pane.Bokeh(self.weights.hist),
                   pn.pane.Bokeh(self.weights.grad_fig)),
        ]
        self.rendered = -1  # filled once the browser has the new layout (see tick)
        self.layout_pending = True

    # ----- callbacks -------------------------------------------------------------------------------
    def on_play(self, event):
        if self.live is None:
            return
        if event.new:
            if self.live.status != "running" or (self.config.max_epochs and
                                                  self.live.trainer.epoch >= self.config.max_epochs):
                self.play.value = False
                return
            self.play.name = "❚❚ Pause"
            for run in self.runs():
                run.play()
        else:
            self.play.name = "▶ Play"
            for run in self.runs():
                run.pause()

    def on_step(self, event):
        if self.live is None:
            return
        self.play.value = False
        for run in self.runs():
            run.step_epoch()

    def on_rebuild_setting(self, event):
        if event.name == "dataset":
            self.upload = None
        if event.name in ("dataset", "noise", "n_points", "data_seed", "test_ratio"):
            self.added = None
        self.rebuild()

    def on_live_setting(self, event):
        self.fill_optimizer_box()
        self.sync_url()

    def on_discrete(self, event):
        if self.boundary:
            self.boundary.discrete = event.new
            self.boundary.update(self.live.latest)

    def on_tap(self, event):
        if self.click_class.value == "off" or self.live is None:
            return
        label = 1 if self.click_class.value == "class 1" else 0
        if self.live.split.kind == "regression":
            label = 1.0 if label else -1.0
        self.added = datasets.add_point(self.live.split, event.x, event.y, label)
        was_playing = self.play.value
        params = self.live.model.params.copy()
        self.stop_runs()
        self.live = LiveTraining(self.config, split=self.added, init_params=params)
        self.compared = None
        self.boundary.live = self.live
        self.boundary.set_points()
        self.rendered = -1
        if was_playing:
            self.live.play()

    def change_layers(self, delta):
        """The Playground's +/- buttons: add a hidden layer (as wide as the last) or remove the last."""
        sizes = parse_hidden(self.config.hidden)
        if delta > 0:
            if len(sizes) >= MAX_DIAGRAM_LAYERS:
                raise ValueError(f"at most {MAX_DIAGRAM_LAYERS} hidden layers from these buttons")
            sizes.append(sizes[-1] if sizes else 4)
        elif sizes:
            sizes.pop()
        self.config.hidden = ", ".join(map(str, sizes))

    def on_clear_points(self, event):
        if self.added is not None:
            self.added = None
            self.rebuild()

    def on_compare(self, event):
        if self.live is None:
            return
        choice = self.compare_choice.value
        other = compare_config(self.config, optimizer_name=choice)
        self.stop_runs()
        self.play.value = False
        start = self.live.initial_params
        self.live = LiveTraining(self.config, split=self.live.split, init_params=start)
        self.compared = LiveTraining(other, split=self.live.split, init_params=start)
        self.build_views()
        if self.live.split.is_2d:
            self.compared_boundary = BoundaryView(self.compared, suffix="_compared",
                                                  title=f"Compared run: {choice}")
            self.boundary_row.insert(1, pn.pane.Bokeh(self.compared_boundary.figure))  # side by side
            self.compare_row.objects = [pn.pane.Markdown(
                f"**Same data, same initial weights.** Left: {self.config.optimizer_name}; "
                f"right: {choice}. Red curves are the compared run.")]
        else:
            self.compare_row.objects = [pn.pane.Markdown(f"Compared run: {choice} (red curves).")]
        self.compared_rendered = -1  # the next tick draws it

    def on_upload(self, event):
        if not event.new:
            return
        with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as f:
            f.write(event.new)
            path = f.name
        try:
            split = datasets.load_csv(path, label=self.label_column.value.strip() or "label",
                                      test_ratio=self.config.test_ratio, seed=self.config.data_seed)
        finally:
            os.unlink(path)
        split.name = self.upload_widget.filename or split.name
        self.upload = split
        self.added = None
        self.rebuild()
        self.messages.show(f"Loaded {split.name}: {len(split.y_train)} training and {len(split.y_test)} test "
                           f"rows, {split.n_features} features, {split.kind}.", "success")

    def on_load_settings(self, event):
        if event.new:
            self.config.from_json(event.new.decode("utf-8", errors="replace"))
            self.fill_optimizer_box()
            self.rebuild()

    def weights_file(self):
        buffer = io.BytesIO()
        self.live.model.save(buffer)
        buffer.seek(0)
        return buffer

    def on_loaded(self):
        self.ready = True
        self.sync_url()

    def sync_url(self):
        query = self.config.to_query()
        link = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
        self.landscape_link.object = (f'<a href="?page=landscape&{link}" target="_blank">Open this setup in the loss '
                                      "landscape page</a> (same seed: same data, weights and run)")
        if pn.state.location is not None and self.ready:
            pn.state.location.update_query(page="playground", **query)

    # ----- frames ----------------------------------------------------------------------------------
    def tick(self):
        """Periodic callback on the document: render the newest frame of each run."""
        try:
            acked = int(self.ack.data["frame"][0])
            if self.layout_pending:
                # Views were rebuilt. Data sent to them before the browser has their layout is dropped
                # ("reference ... isn't known") and they stay empty. This tick runs after the layout
                # change went out; a frame number sent now comes back only once the browser has applied
                # everything before it. A client that never echoes gets the data after LAYOUT_WAIT_S.
                self.layout_pending = False
                self.frames += 1
                self.counter.data = {"frame": [self.frames]}
                self.layout_frame, self.layout_sent_at = self.frames, time.monotonic()
                return
            if acked < self.layout_frame and time.monotonic() - self.layout_sent_at < LAYOUT_WAIT_S:
                return
            since = time.monotonic() - self.last_render
            unacknowledged = self.frames - acked
            behind = since < MIN_FRAME_S or (unacknowledged > IN_FLIGHT and since < 1.0)
            if self.live is not None and not behind:
                if self.live.frames_made != self.rendered:
                    self.render(self.live.take())
                if self.compared is not None and self.compared.frames_made != self.compared_rendered:
                    self.render_compared(self.compared.take())
                if self.play.value and not self.live.running:
                    self.play.value = False  # the run stopped itself (divergence, limit, early stop)
        except Exception as err:  # keep ticking; show what happened
            self.messages.show(f"Display error: {err}", "danger")

    def render(self, frame):
        """Boundary and status every frame; the slower-changing views in turn, so the browser keeps up."""
        live = self.live
        fresh = self.rendered == -1  # new views: fill every one of them now
        self.rendered = live.frames_made
        now = self.last_render = time.monotonic()
        self.frames += 1
        if self.boundary is not None:
            self.boundary.update(frame)
        # the other views change slowly; redrawing them at a few hertz keeps the browser's frame rate up
        due = {name: fresh or now - self.updated.get(name, 0.0) >= period for name, period in SLOW_VIEWS.items()}
        if due["curves"] and (frame["step"] > 0 or not self.curves.loss.data["epoch"]):
            self.curves.update(frame)
        if due["network"]:
            self.network.update(frame)
        if due["weights"]:
            self.weights.update(frame)
        if due["digits"] and self.digits is not None:
            self.digits.update(frame)
        self.updated.update({name: now for name, is_due in due.items() if is_due})
        if due["status"] or not live.running:
            acc = frame["train_accuracy"]
            accuracy = "" if acc != acc else f" · train acc {acc:.3f} · test acc {frame['test_accuracy']:.3f}"
            self.status.text = (f"<b>epoch {frame['epoch']}</b> · step {frame['step']} · "
                                f"train loss {frame['train_loss']:.4f} · test loss {frame['test_loss']:.4f}"
                                f"{accuracy} · lr {frame['learning_rate']:.4g}")
        self.counter.data = {"frame": [self.frames]}
        if live.message:
            self.messages.show(live.message, "danger" if frame["status"] == "diverged" else "info")

    def render_compared(self, frame):
        self.compared_rendered = self.compared.frames_made
        if self.compared_boundary is not None:
            self.compared_boundary.update(frame)
        if frame["step"] > 0:
            self.curves.update_compared(frame)

    def view(self):
        controls = pn.Row(self.play, self.step, self.reset_button, self.compare_choice, self.compare_button,
                          self.landscape_link,
                          align="center")
        return pn.Row(self.sidebar(),
                      pn.Column(controls, pn.pane.Bokeh(self.status),
                                self.messages.pane, self.views, sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", name="playground")


def build(query):
    return Playground(query).view()
