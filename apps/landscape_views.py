"""The Loss-landscape page's figures: the surface with its contours and the projected trajectories, the
1-D slice, the line from the initial weights, and the training loss. ``draw`` copies a lab.landscape
snapshot into them; the log scale and contour levels come from lab.landscape.display."""

import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Range1d
from bokeh.plotting.contour import contour_data

from apps.widgets import figure
from lab import landscape


class LandscapeViews:
    """The figures of one Loss-landscape page (``page``: the LandscapePage)."""

    def __init__(self, page):
        self.page = page
        self.shown = None
        self.grid = ColumnDataSource(dict(image=[np.zeros((2, 2))], x=[-1], y=[-1], dw=[2], dh=[2]),
                                     name="landscape_grid")
        self.path = ColumnDataSource(dict(x=[], y=[]), name="landscape_path")
        self.other_path = ColumnDataSource(dict(x=[], y=[]), name="landscape_compared_path")
        self.current = ColumnDataSource(dict(x=[0.0], y=[0.0]), name="landscape_current")
        self.slice = ColumnDataSource(dict(alpha=[], loss=[]), name="landscape_slice")
        self.line = ColumnDataSource(dict(t=[], loss=[]), name="landscape_line")
        self.loss_curve = ColumnDataSource(dict(epoch=[], loss=[]), name="landscape_loss_curve")
        self.mapper = LinearColorMapper(palette="Viridis256")
        p = figure(title="Loss on a 2-D slice of weight space (white: path, red: compared)",
                   width=560, height=520, name="landscape_figure", x_range=Range1d(-1, 1), y_range=Range1d(-1, 1),
                   toolbar_location="above", tools="pan,wheel_zoom,reset,save,hover",
                   tooltips=[("loss", "@image{0.0000}")])
        p.image("image", x="x", y="y", dw="dw", dh="dh", source=self.grid, color_mapper=self.mapper)
        p.add_layout(ColorBar(color_mapper=self.mapper, width=10), "right")
        self.contours = p.contour([-1, 1], [-1, 1], np.zeros((2, 2)), levels=[0.5], line_color="white",
                                  line_alpha=0.5)
        self.contours.fill_renderer.visible = False  # lines only: the heatmap shows the values
        p.line("x", "y", source=self.path, color="white", line_width=2)
        p.scatter("x", "y", source=self.path, color="white", size=3)
        p.line("x", "y", source=self.other_path, color="#ff6b6b", line_width=2)
        p.scatter("x", "y", source=self.current, marker="star", size=16, fill_color="gold", line_color="black")
        p.xaxis.axis_label = "direction 1"
        p.yaxis.axis_label = "direction 2"
        self.surface_figure = p
        s = figure(title="1-D slice along direction 1 (0 = current weights)", width=400, height=250,
                   toolbar_location=None, name="slice_figure")
        s.line("alpha", "loss", source=self.slice, line_width=2)
        s.xaxis.axis_label = "alpha"
        ln = figure(title="Loss on the line from initial to current weights", width=400,
                    height=250, toolbar_location=None, name="line_figure")
        ln.line("t", "loss", source=self.line, line_width=2, color="#d95f02")
        ln.xaxis.axis_label = "t (0: initial, 1: current)"
        c = figure(title="Training loss", width=400, height=200, toolbar_location=None)
        c.line("epoch", "loss", source=self.loss_curve, line_width=2)
        self.side = pn.Column(s, ln, c)

    def redraw(self):
        """The last surface again (the log scale changed)."""
        if self.shown is not None:
            self.draw(self.shown)

    def draw(self, r):
        self.shown = r
        alphas, betas = r["alphas"], r["betas"]
        shown, low, high, levels = landscape.display(r["losses"], self.page.settings.log_scale)
        a0, a1, b0, b1 = alphas[0], alphas[-1], betas[0], betas[-1]
        self.mapper.update(low=low, high=high)
        self.grid.data = dict(image=[shown], x=[a0], y=[b0], dw=[a1 - a0], dh=[b1 - b0])
        if len(levels):
            self.contours.set_data(contour_data(alphas, betas, shown, levels))
        fig = self.surface_figure
        traj = r["trajectory"]
        fig.x_range.update(start=min(a0, traj[:, 0].min()), end=max(a1, traj[:, 0].max()))
        fig.y_range.update(start=min(b0, traj[:, 1].min()), end=max(b1, traj[:, 1].max()))
        self.path.data = dict(x=traj[:, 0], y=traj[:, 1])
        other = r.get("other_trajectory")
        self.other_path.data = dict(x=other[:, 0], y=other[:, 1]) if other is not None else dict(x=[], y=[])
        self.slice.data = dict(alpha=r["slice"][0], loss=r["slice"][1])
        self.line.data = dict(t=r["line"][0], loss=r["line"][1])
        variance = ""
        if r["explained"] is not None:
            e = r["explained"]
            variance = f" · PCA explained variance {e[0]:.1%} and {e[1]:.1%}"
        self.page.info.text = (f"Surface at epoch {self.page.requested_epoch}: "
                          f"{len(alphas)}×{len(betas)} grid, "
                          f"centre loss {r['center_loss']:.4f}, computed in {r['seconds'] * 1e3:.0f} ms{variance}.")
