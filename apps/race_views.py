"""The Race page's figures: the surface (or the 1-D curve) with paths, heads and arrows, the loss and
distance curves, the lesson table, the effective steps and the convergence map. ``render`` copies the
race's frame into them (lab.race computes everything; nothing numeric happens here)."""

import time

import numpy as np
import panel as pn
from bokeh.events import Tap
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    Div,
    HoverTool,
    Label,
    LinearColorMapper,
    LogColorMapper,
    PointDrawTool,
    Range1d,
)

from apps.widgets import empty_source, figure, flow
from lab import race, surfaces

# A Div whose text changes makes Bokeh lay out the whole page again (~30 ms in the browser), so while
# playing the step counter and the effective-step table are redrawn at most this often (seconds)
TEXT_PERIOD_S = 0.25
MAP_RATES = np.logspace(-4, 0.5, 90)
MAP_MOMENTA = np.linspace(0.0, 0.99, 60)


class RaceViews:
    """The figures of one Race page (``page``: the RacePage, which owns the race and its settings)."""

    def __init__(self, page):
        self.page = page
        self.texts_drawn = 0.0

    def build(self):
        s = self.page.race.surface
        self.announced = set()
        self.paths = empty_source("race_paths", "xs", "ys", "color", "label")
        self.heads = empty_source("race_heads", "x", "y", "color", "label", "value")
        self.losses = empty_source("race_losses", "xs", "ys", "color")
        self.arrows = ColumnDataSource(dict(x0=[], y0=[], x1=[], y1=[], color=[], kind=[]), name="race_arrows")
        # the 1-D lessons' step table, as HTML (Bokeh's DataTable failed to render when the page opened on it:
        # "SlickGrid Cannot find stylesheet")
        self.table = Div(text="", name="lesson_table", width=420, styles={"font-family": "monospace"})
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
                          toolbar_location=None, name="race_distance_figure")
        self.distances = empty_source("race_distances", "xs", "ys", "color")
        dist_fig.multi_line("xs", "ys", color="color", source=self.distances, line_width=2)
        if s.minimum is None:  # (a formula of your own, the saddle): say why the plot stays empty
            dist_fig.title.text = "Distance to the minimum: none known for this surface"
            dist_fig.add_layout(Label(x=dist_fig.width / 2, y=dist_fig.height / 2, x_units="screen",
                                      y_units="screen", text_align="center",
                                      text="no known minimum to measure from", text_color="#666666",
                                      text_font_size="13px", name="race_no_minimum"))
        rows = [flow(main, pn.Column(loss_fig, dist_fig))]
        extras = [pn.pane.Bokeh(self.effective)]
        if s.dim == 1:
            extras.append(pn.pane.Bokeh(self.table))
        if isinstance(s, surfaces.Quadratic):
            extras.append(self.convergence_map(s))
        rows.append(flow(*extras))
        self.page.figures.objects = rows
        self.render()

    def contour_figure(self, s):
        xs, ys, values = s.grid(160)
        finite = values[np.isfinite(values)]
        low = float(finite.min()) if finite.size else 0.0
        positive = values - low + 1e-3 if self.page.config.log_scale else values
        mapper = (LogColorMapper(palette="Viridis256", low=float(np.nanmin(positive)), high=float(np.nanmax(positive)))
                  if self.page.config.log_scale else LinearColorMapper(palette="Viridis256"))
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
        p.on_event(Tap, self.page.messages.guard(self.page.on_tap))
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
        p.on_event(Tap, self.page.messages.guard(self.page.on_tap))
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
        self.map_points.on_change("data", lambda attr, old, new: self.page.messages.guard(self.page.on_drag)(new))
        return p

    # ----- rendering ---------------------------------------------------------------------------------
    def render(self):
        frame = self.page.race.frame()
        two_d = self.page.race.surface.dim == 2
        xs, ys, colors, labels = [], [], [], []
        for e in frame:
            path = e["path"]
            xs.append(path[:, 0])
            ys.append(path[:, 1] if two_d else e["values"])
            colors.append(e["color"])
            labels.append(e["label"] + (" — diverged" if e["diverged"] else ""))
        self.paths.data = dict(xs=xs, ys=ys, color=colors, label=labels)
        gone = [e["label"] for e in frame if e["diverged"] and e["label"] not in self.announced]
        if gone:  # said once per racer and race: the path stops where it left every bound
            self.announced.update(gone)
            self.page.messages.show(f"{', '.join(gone)} diverged: its steps grew without bound (past 1e8), so it "
                                    "stopped. Lower the learning rate.", "warning")
        self.heads.data = dict(x=[x[-1] for x in xs], y=[y[-1] for y in ys], color=colors, label=labels,
                               value=[e["values"][-1] for e in frame])
        self.losses.data = dict(xs=[np.arange(len(e["values"])) for e in frame],
                                ys=[np.maximum(e["values"] - min(0.0, np.min(e["values"])), 1e-16) for e in frame],
                                color=colors)
        self.distances.data = dict(xs=[np.arange(len(e["path"])) for e in frame if "distance" in e],
                                   ys=[np.maximum(e["distance"], 1e-16) for e in frame if "distance" in e],
                                   color=[e["color"] for e in frame if "distance" in e])
        self.render_arrows(frame, two_d)
        if hasattr(self, "map_points") and isinstance(self.page.race.surface, surfaces.Quadratic):
            racers = self.page.race.racers
            self.map_points.data = dict(index=list(range(len(racers))),
                                        lr=[r.optimizer.learning_rate for r in racers],
                                        mu=[getattr(r.optimizer, "momentum", 0.0) for r in racers],
                                        color=[r.color for r in racers])
        now = time.monotonic()
        if self.page.transport.playing and now - self.texts_drawn < TEXT_PERIOD_S:
            return
        self.texts_drawn = now
        rows = []
        for e in frame:
            if "effective_step" in e:
                eff = ", ".join(f"{v:.3g}" for v in e["effective_step"])
                rows.append(f'<tr><td style="color:{e["color"]}">{e["label"]}</td><td>{eff}</td></tr>')
        effective = ("<b>Effective step per coordinate</b> (|step| / |gradient|; constant for SGD, "
                     "adaptive for AdaGrad/RMSprop/Adam)<table>" + "".join(rows) + "</table>")
        texts = [(self.effective, effective), (self.page.counter, str(self.page.race.steps))]
        if self.page.race.surface.dim == 1 and frame:
            texts.append((self.table, step_table(self.page.race)))
        for div, text in texts:
            if div.text != text:
                div.text = text

    def render_arrows(self, frame, two_d):
        empty = dict(x0=[], y0=[], x1=[], y1=[], color=[], kind=[])
        self.arrows.data = race.arrows(frame, self.page.race.surface.window) if two_d else empty


def step_table(the_race, head=15, tail=15):
    """The first racer's steps on a 1-D surface as an HTML table (step, J, dJ/dx, x): the first ``head``
    and the last ``tail`` rows of a long run."""
    racer = the_race.racers[0]
    t = race.lesson_table(the_race.surface, racer.path, racer.values)
    v = t["variable"]
    n = len(t["step"])
    shown = list(range(n)) if n <= head + tail else [*range(head), None, *range(n - tail, n)]
    cell = "<td style='text-align:right; padding: 1px 10px'>{}</td>".format
    rows = []
    for i in shown:
        if i is None:
            rows.append(f"<tr><td colspan=4 style='text-align:center'>… {n - head - tail} steps …</td></tr>")
            continue
        rows.append("<tr>" + "".join(cell(c) for c in (t["step"][i], f"{t['value'][i]:.6g}", f"{t['grad'][i]:.6g}",
                                                      f"{t['x'][i]:.6g}")) + "</tr>")
    if racer.diverged:
        rows.append("<tr><td colspan=4 style='color:#b00'>diverged: the next step left every bound</td></tr>")
    header = "".join(f"<th style='padding: 1px 10px'>{h}</th>" for h in ("step", "J", f"dJ/d{v}", v))
    return f"<b>Steps of {racer.label}</b><table><tr>{header}</tr>{''.join(rows)}</table>"
