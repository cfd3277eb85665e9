"""The Sweep page's figures: one heatmap per optimizer (learning rate across, its own hyperparameter up),
sharing one colour scale; the loss curves of the selected cells; links to their runs in the Playground.
``show`` copies a lab.sweep_compare.Comparison's tables into them."""

import html
import math
import urllib.parse

from bokeh.models import ColorBar, ColumnDataSource, CustomJS, Div, HoverTool, Span, TapTool
from bokeh.models.mappers import LinearColorMapper, LogColorMapper
from bokeh.palettes import Category10_10, Viridis256

from apps.widgets import empty_source, figure

PALETTE = list(reversed(Viridis256))  # low (good) yellow, high dark
PENDING = "#eeeeee"
DIVERGED = "#b71c1c"
CELL_COLUMNS = ("column", "row", "value", "label", "text_color", "hatch", "learning_rate", "second", "runs",
                "test_loss", "accuracy", "epochs", "note", "url")
HOVER = [("learning rate", "@learning_rate{0.[0000]}"), ("@second_name", "@second{0.[0000]}"), ("runs", "@runs"),
         ("test loss", "@test_loss"), ("test accuracy", "@accuracy"), ("epochs to target", "@epochs"),
         ("", "@note")]
# a double click opens the cell's first run in the Playground (a new tab); a click selects it (curves below)
OPEN_CELL = """
const c = Math.round(cb_obj.x), r = Math.round(cb_obj.y);
const d = src.data;
for (let i = 0; i < d.column.length; i++)
    if (d.column[i] == c && d.row[i] == r) { window.open(d.url[i], '_blank'); return; }
"""


def fmt(value, digits=3):
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


class SweepViews:
    """The figures of one Sweep page (``page``: the SweepPage); rebuilt for each comparison's shape."""

    def __init__(self, page):
        self.page = page
        self.comparison = None
        self.sources = [empty_source(f"sweep_cells_{k}", *CELL_COLUMNS) for k in "ab"]
        for source in self.sources:
            source.selected.on_change("indices", lambda attr, old, new: self.page.messages.guard(self.draw_curves)())
        self.mappers = {"test_loss": LogColorMapper(palette=PALETTE, nan_color=PENDING, low=0.01, high=1.0),
                        "epochs_to_target": LinearColorMapper(palette=PALETTE, nan_color=PENDING, low=0, high=1)}
        self.curves = ColumnDataSource(dict(xs=[], ys=[], color=[], label=[]), name="sweep_curves")
        self.links = Div(text="", name="sweep_links", sizing_mode="stretch_width")
        self.heatmaps = []
        self.glyphs = []
        self.color_bar = None
        self.curve_figure = None
        self.target_line = None

    # ----- building ----------------------------------------------------------------------------------
    def build(self, comparison):
        """New figures for a comparison (its optimizers, axes and shape)."""
        self.comparison = comparison
        metric = self.page.config.metric
        self.heatmaps, self.glyphs = [], []
        for k, source in enumerate(self.sources):
            source.selected.indices = []
            source.data = {c: [] for c in CELL_COLUMNS}
            rows, columns = comparison.shape(k)
            name, second = comparison.names[k], comparison.seconds[k]
            p = figure(title=self.title(k), width=470, height=110 + 62 * rows, name=f"sweep_heatmap_{'ab'[k]}",
                       x_range=(-0.5, columns - 0.5), y_range=(-0.5, rows - 0.5), tools="", toolbar_location=None)
            rect = p.rect("column", "row", 0.96, 0.94, source=source, line_color="white", line_width=1,
                          fill_color={"field": "value", "transform": self.mappers[metric]},
                          hatch_pattern="hatch", hatch_color=DIVERGED, hatch_alpha=0.9, hatch_scale=8)
            rect.selection_glyph = rect.glyph.clone(line_color="black", line_width=3)
            rect.nonselection_glyph = rect.glyph.clone()
            labels = p.text("column", "row", text="label", source=source, text_align="center",
                            text_baseline="middle", text_color="text_color", text_font_size="11px",
                            text_font_style="bold")
            labels.selection_glyph = labels.nonselection_glyph = labels.glyph.clone()  # readable, selected or not
            hover = HoverTool(renderers=[rect], tooltips=[(n.replace("@second_name", second or "—"), v)
                                                          for n, v in HOVER])
            p.add_tools(hover, TapTool(renderers=[rect], behavior="select", gesture="tap"))
            p.js_on_event("doubletap", CustomJS(args=dict(src=source), code=OPEN_CELL))
            p.xaxis.ticker = list(range(columns))
            p.xaxis.major_label_overrides = {i: f"{lr:g}" for i, lr in enumerate(comparison.lrs)}
            p.xaxis.axis_label = "learning rate (log scale)"
            p.yaxis.ticker = list(range(rows))
            p.yaxis.major_label_overrides = {j: "—" if v is None else f"{v:g}"
                                             for j, v in enumerate(comparison.rows_of[k])}
            p.yaxis.axis_label = second or f"({name} has no second hyperparameter)"
            p.xgrid.visible = p.ygrid.visible = False
            self.heatmaps.append(p)
            self.glyphs.append(rect)
        self.color_bar = figure(width=120, height=self.heatmaps[0].height, toolbar_location=None, tools="",
                                min_border_left=0, outline_line_color=None)
        self.color_bar.xaxis.visible = self.color_bar.yaxis.visible = False
        self.color_bar.grid.visible = False
        self.bar = ColorBar(color_mapper=self.mappers[metric], width=14, title=self.bar_title())
        self.color_bar.add_layout(self.bar, "left")
        c = figure(title="Test loss of the selected cells (mean over seeds; click cells, shift-click for more)",
                   width=1000, height=300, y_axis_type="log", name="sweep_curve_figure",
                   tools="pan,wheel_zoom,reset,save", toolbar_location="above")
        c.multi_line("xs", "ys", source=self.curves, line_color="color", line_width=2, legend_field="label")
        c.legend.label_text_font_size = "10px"
        c.add_layout(c.legend[0], "right")  # beside the curves, not over them
        c.xaxis.axis_label = "epoch"
        c.yaxis.axis_label = "test loss"
        self.target_line = Span(location=self.page.config.target, dimension="width", line_dash="dashed",
                                line_color="gray", visible=metric == "epochs_to_target")
        c.add_layout(self.target_line)
        self.curve_figure = c
        self.curves.data = dict(xs=[], ys=[], color=[], label=[])
        self.links.text = ""
        return [*self.heatmaps, self.color_bar]

    def title(self, k):
        metric = self.page.config.metric
        what = "final test loss" if metric == "test_loss" else f"epochs to test loss {self.page.config.target:g}"
        return f"{self.comparison.names[k]}: {what}"

    def bar_title(self):
        return "test loss" if self.page.config.metric == "test_loss" else "epochs"

    # ----- data ------------------------------------------------------------------------------------
    def show(self, which=(0, 1)):
        """The comparison's cells into the heatmaps (``which``: the optimizers whose cells changed), on one
        colour scale for both."""
        comparison = self.comparison
        if comparison is None:
            return
        config = self.page.config
        metric, target = config.metric, config.target
        mapper = self.mappers[metric]
        span = comparison.value_range(metric, target)
        if span is not None and (mapper.low, mapper.high) != span:
            mapper.update(low=span[0], high=span[1])
            which = (0, 1)  # every cell's colour moved
        for k in which:
            self.sources[k].data = self.cell_data(k, comparison.table(k, target), mapper)

    def cell_data(self, k, table, mapper):
        comparison, config = self.comparison, self.page.config
        metric = config.metric
        out = {c: [] for c in CELL_COLUMNS}
        for index in range(len(table["column"])):
            row = {key: table[key][index] for key in table}
            value = row[metric]
            finished, diverged, errors = row["finished"], row["diverged"], row["errors"]
            if finished == 0:
                label, note = "", "not run yet"
            elif errors == finished:
                label, note = "error", row["error"]
            elif diverged == finished:
                label, note = "✕", "every run diverged (the loss became NaN, inf or 4x its start)"
            elif not math.isfinite(value):
                label, note = "—", f"no run reached test loss {config.target:g}"
            else:
                label = fmt(value) if metric == "test_loss" else f"{value:.0f}"
                note = f"{diverged} of {finished} runs diverged" if diverged else ""
                if diverged:
                    label = "✕ " + label
            if errors and errors < finished:
                note = f"{errors} run(s) failed: {row['error']}"
            out["column"].append(row["column"])
            out["row"].append(row["row"])
            out["value"].append(value if math.isfinite(value) else math.nan)
            out["label"].append(label)
            out["text_color"].append(text_color(value, mapper, metric))
            out["hatch"].append("x" if diverged else " ")
            out["learning_rate"].append(row["learning_rate"])
            out["second"].append(row["second"])
            out["runs"].append(f"{finished} of {comparison.seeds} finished" + (
                f", {diverged} diverged" if diverged else ""))
            spread = f" ± {fmt(row['test_loss_std'], 2)}" if math.isfinite(row["test_loss_std"]) else ""
            out["test_loss"].append(fmt(row["test_loss"], 4) + spread)
            out["accuracy"].append(fmt(row["test_accuracy"], 3))
            out["epochs"].append(f"{row['epochs_to_target']:.0f} ({row['reached']} of {finished - diverged} "
                                 "reached it)" if math.isfinite(row["epochs_to_target"]) else "not reached")
            out["note"].append(note)
            out["url"].append("?" + urllib.parse.urlencode({"page": "playground",
                                                            **comparison.playground_query(k, index)}))
        return out

    def restyle(self):
        """The metric or the target changed: titles, colour scale and labels again (no new runs)."""
        if self.comparison is None:
            return
        metric = self.page.config.metric
        for k, (p, rect) in enumerate(zip(self.heatmaps, self.glyphs)):
            p.title.text = self.title(k)
            fill = {"field": "value", "transform": self.mappers[metric]}
            for glyph in (rect.glyph, rect.selection_glyph, rect.nonselection_glyph):
                glyph.fill_color = fill
        self.bar.color_mapper = self.mappers[metric]
        self.bar.title = self.bar_title()
        self.target_line.location = self.page.config.target
        self.target_line.visible = metric == "epochs_to_target"
        self.show()

    def draw_curves(self):
        """The selected cells' mean test loss per epoch, and links to their runs in the Playground."""
        comparison = self.comparison
        if comparison is None:
            return
        xs, ys, colors, labels, links = [], [], [], [], []
        for k, source in enumerate(self.sources):
            for index in sorted(source.selected.indices):
                if index >= len(comparison.cells[k]):
                    continue
                curves = comparison.curves(k, index)
                column, row = comparison.position(k, index)
                second, value = comparison.seconds[k], comparison.rows_of[k][row]
                label = f"{comparison.names[k]} lr {comparison.lrs[column]:g}" + (
                    f" {second} {value:g}" if second else "")
                query = urllib.parse.urlencode({"page": "playground", **comparison.playground_query(k, index)})
                links.append(f'<a href="?{html.escape(query)}" target="_blank">{html.escape(label)}</a>')
                if not curves:
                    continue
                mean = comparison.mean_curve(k, index)
                xs.append(list(range(1, len(mean) + 1)))
                ys.append(mean.tolist())
                colors.append(Category10_10[len(colors) % 10])
                labels.append(f"{label} ({len(curves)} seed{'s' if len(curves) > 1 else ''})")
        self.curves.data = dict(xs=xs, ys=ys, color=colors, label=labels)
        self.links.text = ("Open in the Playground (first seed): " + " · ".join(links)) if links else (
            "Click a cell for its loss curves and its Playground link; double-click opens it in the Playground.")


def text_color(value, mapper, metric):
    """White on the dark end of the palette, black on the light end."""
    if not math.isfinite(value):
        return "black"
    low, high = mapper.low, mapper.high
    if metric == "test_loss":
        value, low, high = (math.log(max(v, 1e-300)) for v in (value, low, high))
    share = 0.0 if high <= low else (value - low) / (high - low)
    return "white" if share > 0.55 else "black"
