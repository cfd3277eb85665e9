"""The optimizer race: optimizers start from one point of one surface; students drag a slider and the
path changes at once. The race is cheap (a few thousand 2-D steps a second), so it advances on the
document's own periodic callback."""

import time

import numpy as np
import panel as pn
import param
from bokeh.events import Tap
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    DataTable,
    Div,
    HoverTool,
    LinearColorMapper,
    LogColorMapper,
    NumberFormatter,
    PointDrawTool,
    Range1d,
    TableColumn,
)
from bokeh.plotting import figure

from apps.pacing import FrameClock, LivePage, Transport
from apps.urlstate import UrlState
from apps.widgets import Messages, empty_source, param_widgets
from lab import optimizers, race, schedules, surfaces
from lab.race.config import NO_PRESET, RaceConfig

DEFAULT_PRESET = "race on Rosenbrock"
# A Div whose text changes makes Bokeh lay out the whole page again (~30 ms in the browser), so while
# playing the step counter and the effective-step table are redrawn at most this often (seconds)
TEXT_PERIOD_S = 0.25
MAP_RATES = np.logspace(-4, 0.5, 90)
MAP_MOMENTA = np.linspace(0.0, 0.99, 60)


class RacePage(LivePage):
    PERIOD_MS = 40

    def __init__(self, query):
        self.messages = Messages()
        self.config = RaceConfig()
        note = ""
        query = {k: v for k, v in query.items() if k != "page"}
        try:
            note = self.config.load_preset(query.get("preset", DEFAULT_PRESET)
                                           if query.get("preset", DEFAULT_PRESET) in race.PRESETS else DEFAULT_PRESET)
            self.config.from_query({k: v for k, v in query.items() if k != "preset"})
        except ValueError as err:
            self.messages.show(f"The link's settings could not all be used: {err}", "warning")
        try:
            self.race = self.config.make_race()
        except ValueError as err:  # e.g. a link with a broken formula: say so, show the default race
            self.messages.show(f"{err}", "danger")
            note = self.config.load_preset(DEFAULT_PRESET)
            self.race = self.config.make_race()
        self.note = pn.pane.Markdown(note, sizing_mode="stretch_width")
        self.loading = False
        self.transport = Transport()
        self.use_formula = pn.widgets.Button(name="Use formula", width=110)
        self.add_choice = pn.widgets.Select(name="Add racer", options=optimizers.names(), value="nesterov", width=140)
        self.add_button = pn.widgets.Button(name="Add", width=60)
        self.racer_box = pn.Column(sizing_mode="stretch_width")
        self.figures = pn.Column(sizing_mode="stretch_width")
        self.counter = Div(text="0", name="race_step", width=80, height=20)
        self.clock = FrameClock(max_fps=25)
        self.clock.attach(self.counter)
        self.url = UrlState("race")
        self.url.attach(self.counter)
        self.texts_drawn = 0.0
        self._wire()
        self.ready = False
        pn.state.onload(self.on_loaded)
        self.load_race(self.race, note)
        self.start_live(self.messages, self.transport, self.clock)

    # ----- wiring ----------------------------------------------------------------------------------
    def _wire(self):
        g = self.messages.guard
        self.transport.play.param.watch(g(lambda e: e.new or self.render()), "value")  # texts catch up
        self.config.param.watch(g(self.on_surface), ["surface", "condition", "angle"])
        self.config.param.watch(g(self.on_preset), "preset")
        self.config.param.watch(g(lambda e: self.build_figures()), "log_scale")
        self.config.param.watch(g(lambda e: self.sync_url()), "speed")
        self.use_formula.on_click(g(self.on_formula))
        self.add_button.on_click(g(self.on_add))

    def on_step(self):
        self.advance(1)

    def on_reset(self):
        self.race.restart()
        self.render()

    def frame(self):
        if not self.transport.playing:
            return False
        self.advance(self.config.speed)
        return True

    def on_loaded(self):
        self.ready = True
        self.sync_url()

    def sync_url(self):
        """The whole race into the URL (replacing the query, so removed racers leave no keys behind)."""
        self.config.capture(self.race)
        if self.ready:
            self.url.write(self.config.to_query())

    # ----- racers ----------------------------------------------------------------------------------
    def racer_card(self, index):
        r = self.race.racers[index]
        g = self.messages.guard
        opt = r.optimizer

        def restart(*_):
            if r in self.race.racers:  # a card of a race that was replaced does nothing
                self.race.restart(self.race.racers.index(r), catch_up=True)
                self.render()
                self.sync_url()

        watched = [p for p in opt.param if p not in ("name", "schedule")]
        opt.param.watch(g(restart), watched)
        current = schedules.name_of(opt.schedule)
        schedule = pn.widgets.Select(name="Schedule", options=schedules.names(), value=current, width=140)
        sched_box = pn.Column()

        def show_schedule():
            sched_box.objects = param_widgets(opt.schedule, exclude=("learning_rate",)) if opt.schedule else []
            if opt.schedule:
                opt.schedule.param.watch(g(restart), [p for p in opt.schedule.param if p != "name"])

        def on_schedule(event):
            opt.schedule = None if event.new == "constant" else schedules.get(event.new)
            show_schedule()
            restart()

        show_schedule()
        schedule.param.watch(g(on_schedule), "value")
        remove = pn.widgets.Button(name="Remove", width=80, button_type="light")
        remove.on_click(g(lambda e: r in self.race.racers and self.on_remove(self.race.racers.index(r))))
        header = pn.pane.HTML(f'<span style="color:{r.color};font-size:18px">■</span> <b>{r.name}</b>')
        return pn.Card(*param_widgets(opt), schedule, sched_box, remove, header=header,
                       sizing_mode="stretch_width", margin=(4, 2))

    def rebuild_racers(self):
        self.racer_box.objects = [self.racer_card(i) for i in range(len(self.race.racers))]

    def on_add(self, event):
        self.race.add(self.add_choice.value)
        self.race.restart(len(self.race.racers) - 1, catch_up=True)
        self.rebuild_racers()
        self.build_figures()
        self.sync_url()

    def on_remove(self, index):
        if len(self.race.racers) == 1:
            raise ValueError("keep at least one racer")
        self.race.remove(index)
        self.rebuild_racers()
        self.build_figures()
        self.sync_url()

    # ----- surfaces and presets ----------------------------------------------------------------------
    def load_race(self, new_race, note=""):
        self.race = new_race
        self.note.object = note or self.race.surface.description
        self.rebuild_racers()
        self.build_figures()

    def _swap_surface(self, surface):
        racers = [(r.name, {k: v for k, v in r.optimizer.param.values().items() if k not in ("name", "schedule")})
                  for r in self.race.racers]
        self.load_race(race.Race(surface, racers=racers))
        self.sync_url()

    def on_surface(self, event):
        if self.loading:
            return
        with param.parameterized.discard_events(self.config):
            self.config.formula = ""
            self.config.preset = NO_PRESET  # the surface no longer is the preset's
        self._swap_surface(self.config.make_surface())

    def on_formula(self, event):
        text = self.config.formula
        surface = surfaces.parse(text)
        self.messages.show(f"Using f(x, y) = {text}; its exact gradient is "
                           f"({surface.gradient_source[0]}, {surface.gradient_source[1]}).", "success")
        self._swap_surface(surface)

    def on_preset(self, event):
        if event.new not in race.PRESETS:
            return
        self.loading = True  # the surface menu follows the preset without rebuilding the race twice
        try:
            note = self.config.load_preset(event.new)
        finally:
            self.loading = False
        self.load_race(self.config.make_race(), note)
        self.sync_url()

    # ----- figures ---------------------------------------------------------------------------------
    def build_figures(self):
        s = self.race.surface
        self.paths = empty_source("race_paths", "xs", "ys", "color", "label")
        self.heads = empty_source("race_heads", "x", "y", "color", "label", "value")
        self.losses = empty_source("race_losses", "xs", "ys", "color")
        self.arrows = ColumnDataSource(dict(x0=[], y0=[], x1=[], y1=[], color=[], kind=[]), name="race_arrows")
        self.table = ColumnDataSource(dict(step=[], value=[], x=[]), name="lesson_table")
        self.effective = Div(text="", name="effective_steps", width=420)
        if s.dim == 2:
            main = self.contour_figure(s)
        else:
            main = self.curve_figure(s)
        loss_fig = figure(title="Loss vs iteration (log scale)", y_axis_type="log", width=420, height=280,
                          name="race_loss_figure", toolbar_location=None)
        loss_fig.multi_line("xs", "ys", color="color", source=self.losses, line_width=2)
        loss_fig.xaxis.axis_label = "iteration"
        dist_fig = figure(title="Distance to the minimum", y_axis_type="log", width=420, height=280,
                          toolbar_location=None)
        self.distances = empty_source("race_distances", "xs", "ys", "color")
        dist_fig.multi_line("xs", "ys", color="color", source=self.distances, line_width=2)
        rows = [pn.Row(main, pn.Column(loss_fig, dist_fig))]
        extras = [pn.pane.Bokeh(self.effective)]
        if s.dim == 1:
            columns = [TableColumn(field="step", title="step"),
                       TableColumn(field="x", title="u" if s.name == "parabola" else "c",
                                   formatter=NumberFormatter(format="0.000000")),
                       TableColumn(field="value", title="J", formatter=NumberFormatter(format="0.000000"))]
            extras.append(DataTable(source=self.table, columns=columns, width=360, height=280, name="lesson"))
        if isinstance(s, surfaces.Quadratic):
            extras.append(self.convergence_map(s))
        rows.append(pn.Row(*extras))
        self.figures.objects = rows
        self.render()

    def contour_figure(self, s):
        xs, ys, values = s.grid(160)
        finite = values[np.isfinite(values)]
        low = float(finite.min()) if finite.size else 0.0
        positive = values - low + 1e-3 if self.config.log_scale else values
        mapper = (LogColorMapper(palette="Viridis256", low=float(np.nanmin(positive)), high=float(np.nanmax(positive)))
                  if self.config.log_scale else LinearColorMapper(palette="Viridis256"))
        (x0, x1), (y0, y1) = s.window
        p = figure(title=f"{s.name}: click to move the start point", width=560, height=520, name="race_surface",
                   x_range=Range1d(x0, x1), y_range=Range1d(y0, y1), toolbar_location="above",
                   tools="pan,wheel_zoom,reset,save")
        p.image([positive], x=x0, y=y0, dw=x1 - x0, dh=y1 - y0, color_mapper=mapper)
        levels = np.quantile(finite, np.linspace(0.02, 0.9, 12)) if finite.size else []
        if len(levels) and np.ptp(finite) > 0:
            lines = p.contour(xs, ys, values, levels=np.unique(levels), line_color="white", line_alpha=0.4)
            lines.fill_renderer.visible = False
        p.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
        for m in s.minima:
            p.scatter([m[0]], [m[1]], marker="star", size=16, fill_color="gold", line_color="black")
        p.multi_line("xs", "ys", color="color", source=self.paths, line_width=2.5)
        heads = p.scatter("x", "y", color="color", source=self.heads, size=10, line_color="white")
        p.add_tools(HoverTool(renderers=[heads], tooltips=[("racer", "@label"), ("f", "@value{0.0000}")]))
        p.segment("x0", "y0", "x1", "y1", color="color", source=self.arrows, line_width=3)
        p.on_event(Tap, self.messages.guard(self.on_tap))
        return p

    def curve_figure(self, s):
        (x0, x1), = s.window
        xs = np.linspace(x0, x1, 400)
        p = figure(title=f"{s.name}: J and the iterates (click to move the start)", width=560, height=520,
                   name="race_surface", toolbar_location=None)
        p.line(xs, [s.value([x]) for x in xs], color="black", line_width=2)
        p.scatter([s.minimum[0]], [s.value(s.minimum)], marker="star", size=16, fill_color="gold")
        p.multi_line("xs", "ys", color="color", source=self.paths, line_width=1.5, line_dash="dotted")
        p.scatter("x", "y", color="color", source=self.heads, size=10)
        p.on_event(Tap, self.messages.guard(self.on_tap))
        return p

    def convergence_map(self, s):
        rate = race.convergence_rate(s.eigenvalues, MAP_RATES, MAP_MOMENTA)
        mapper = LinearColorMapper(palette="Viridis256", low=0.0, high=1.0, high_color="#7f0000")
        p = figure(title="Convergence rate of momentum (dark red: diverges); drag the dots", width=420, height=300,
                   x_axis_type="log", x_range=(MAP_RATES[0], MAP_RATES[-1]), y_range=(0, 0.99),
                   name="convergence_map", toolbar_location="above", tools="")
        p.image([np.minimum(rate, 1.5)], x=MAP_RATES[0], y=0, dw=MAP_RATES[-1] - MAP_RATES[0], dh=0.99,
                color_mapper=mapper)
        p.xaxis.axis_label = "learning rate"
        p.yaxis.axis_label = "momentum"
        self.map_points = empty_source("map_points", "index", "lr", "mu", "color")
        dots = p.scatter("lr", "mu", source=self.map_points, size=12, fill_color="color", line_color="white")
        tool = PointDrawTool(renderers=[dots], add=False)
        p.add_tools(tool)
        p.toolbar.active_tap = tool
        self.map_points.on_change("data", lambda attr, old, new: self.messages.guard(self.on_drag)(new))
        return p

    # ----- events ------------------------------------------------------------------------------------
    def on_tap(self, event):
        point = (event.x, event.y) if self.race.surface.dim == 2 else (event.x,)
        self.race.set_start(point)
        self.render()
        self.sync_url()

    def on_drag(self, data):
        for i, lr, mu in zip(data["index"], data["lr"], data["mu"]):
            opt = self.race.racers[i].optimizer
            lr = float(np.clip(lr, 1e-5, 10.0))
            if abs(opt.learning_rate - lr) > 1e-12 * lr:
                opt.learning_rate = lr
            if hasattr(opt, "momentum") and abs(opt.momentum - mu) > 1e-9:
                opt.momentum = float(np.clip(mu, 0.0, 0.99))

    def advance(self, k):
        self.race.advance(k)
        self.render()

    # ----- rendering ---------------------------------------------------------------------------------
    def render(self):
        frame = self.race.frame()
        two_d = self.race.surface.dim == 2
        xs, ys, colors, labels = [], [], [], []
        for e in frame:
            path = e["path"]
            xs.append(path[:, 0])
            ys.append(path[:, 1] if two_d else e["values"])
            colors.append(e["color"])
            labels.append(e["label"] + (" — diverged" if e["diverged"] else ""))
        self.paths.data = dict(xs=xs, ys=ys, color=colors, label=labels)
        self.heads.data = dict(x=[x[-1] for x in xs], y=[y[-1] for y in ys], color=colors, label=labels,
                               value=[e["values"][-1] for e in frame])
        self.losses.data = dict(xs=[np.arange(len(e["values"])) for e in frame],
                                ys=[np.maximum(e["values"] - min(0.0, np.min(e["values"])), 1e-16) for e in frame],
                                color=colors)
        self.distances.data = dict(xs=[np.arange(len(e["path"])) for e in frame if "distance" in e],
                                   ys=[np.maximum(e["distance"], 1e-16) for e in frame if "distance" in e],
                                   color=[e["color"] for e in frame if "distance" in e])
        self.render_arrows(frame, two_d)
        if self.race.surface.dim == 1 and frame:
            e = frame[0]
            self.table.data = dict(step=list(range(len(e["values"]))), x=e["path"][:, 0], value=e["values"])
        if hasattr(self, "map_points") and isinstance(self.race.surface, surfaces.Quadratic):
            racers = self.race.racers
            self.map_points.data = dict(index=list(range(len(racers))),
                                        lr=[r.optimizer.learning_rate for r in racers],
                                        mu=[getattr(r.optimizer, "momentum", 0.0) for r in racers],
                                        color=[r.color for r in racers])
        now = time.monotonic()
        if self.transport.playing and now - self.texts_drawn < TEXT_PERIOD_S:
            return
        self.texts_drawn = now
        rows = []
        for e in frame:
            if "effective_step" in e:
                eff = ", ".join(f"{v:.3g}" for v in e["effective_step"])
                rows.append(f'<tr><td style="color:{e["color"]}">{e["label"]}</td><td>{eff}</td></tr>')
        effective = ("<b>Effective step per coordinate</b> (|step| / |gradient|; constant for SGD, "
                     "adaptive for AdaGrad/RMSprop/Adam)<table>" + "".join(rows) + "</table>")
        for div, text in ((self.effective, effective), (self.counter, str(self.race.steps))):
            if div.text != text:
                div.text = text

    def render_arrows(self, frame, two_d):
        empty = dict(x0=[], y0=[], x1=[], y1=[], color=[], kind=[])
        self.arrows.data = race.arrows(frame, self.race.surface.window) if two_d else empty

    def view(self):
        t = self.transport
        controls = pn.Row(t.play, t.step, t.reset, *param_widgets(self.config, names=["speed"]),
                          pn.pane.Bokeh(self.counter))
        surface_box = pn.Card(*param_widgets(self.config, names=["preset", "surface", "condition", "angle", "formula"]),
                              self.use_formula, *param_widgets(self.config, names=["log_scale"]), title="Surface",
                              sizing_mode="stretch_width")
        racers = pn.Card(pn.Row(self.add_choice, self.add_button), self.racer_box, title="Racers",
                         sizing_mode="stretch_width")
        return pn.Row(pn.Column(surface_box, racers, width=340),
                      pn.Column(controls, self.messages.pane, self.note, self.figures, sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", name="race")


def build(query):
    return RacePage(query).view()
