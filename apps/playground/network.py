"""The network diagram: every neuron with its output over the input plane (2-D data), its bias as a small
square at its lower left, and the links coloured by sign with width ~ |w|. Hovering a neuron shows it
enlarged beside the diagram (in the browser, no server round trip) with its bias, and its z and a for
the point whose forward pass is shown (apps.playground.forward)."""

import numpy as np
from bokeh.layouts import row
from bokeh.models import ColumnDataSource, CustomJS, HoverTool, LinearColorMapper, Range1d

from apps.playground.views import BLUE, LEVELS, LIGHT, ORANGE, PALETTE, _figure, levels
from lab.playground import MAX_DIAGRAM_UNITS

ZOOM = 150  # pixels of the hovered neuron's enlarged heatmap


class NetworkView:
    """Neurons (each with its own output heatmap for 2-D data), biases, and links coloured by sign."""

    def __init__(self, live):
        model = live.model
        self.sizes = model.sizes
        self.shown = [min(s, MAX_DIAGRAM_UNITS) for s in self.sizes]
        tallest = max(self.shown)
        self.positions = []  # (x, y) per shown unit, per layer
        for l, n in enumerate(self.shown):
            ys = np.linspace(0, tallest - 1, n) if n > 1 else np.array([(tallest - 1) / 2])
            self.positions.append([(2.0 * l, float(y)) for y in ys[::-1]])
        self.box = 0.8
        self.two_d = live.split.is_2d
        positions = [pos for layer in self.positions for pos in layer]
        offsets = np.cumsum([0] + self.sizes[:-1])
        self.unit_rows = [offsets[l] + i for l, n in enumerate(self.shown) for i in range(n)]
        self.n_inputs = self.shown[0]
        # one source for every shown neuron, whatever a frame changes of it (its map, its bias, the numbers
        # its hover shows): one change per frame, not one per kind. Biases: a small square at the neuron's
        # lower left, coloured by sign and sized by |b| (inputs have none: no place, so nothing is drawn).
        n, corner = len(positions), self.box / 2
        names = [("input " if l == 0 else "output " if l == len(self.shown) - 1 else f"layer {l} ") + f"unit {i + 1}"
                 for l, n_l in enumerate(self.shown) for i in range(n_l)]
        neurons = dict(x=[x for x, _ in positions], y=[y for _, y in positions], label=names,
                       bias=[""] * n, z=["(click a point)"] * n, a=[""] * n,
                       b=np.zeros(n, np.float32), size=np.full(n, 4.0, np.float32),
                       bx=[np.nan if i < self.n_inputs else x - corner for i, (x, _) in enumerate(positions)],
                       by=[np.nan if i < self.n_inputs else y - corner for i, (_, y) in enumerate(positions)])
        if self.two_d:  # each unit's output on the input plane, filled by the frames
            live.prepare["network"] = self.prepare  # their colour levels are made in the training thread
            neurons.update(image=[np.full((2, 2), LEVELS // 2, np.uint8)] * n, ix=[x - corner for x, _ in positions],
                           iy=[y - corner for _, y in positions], dw=[self.box] * n, dh=[self.box] * n)
        else:
            neurons.update(color=[LIGHT] * n)
        self.neurons = ColumnDataSource(neurons, name="network_neurons")
        # the links' places and labels never change: set once; a frame sends only weights and widths
        ends = [(l, i, j, a, b) for l in range(len(self.shown) - 1)
                for i, a in enumerate(self.positions[l]) for j, b in enumerate(self.positions[l + 1])]
        self.links = ColumnDataSource(dict(
            x0=np.array([a[0] + self.box / 2 for *_, a, _ in ends]), y0=np.array([a[1] for *_, a, _ in ends]),
            x1=np.array([b[0] - self.box / 2 for *_, b in ends]), y1=np.array([b[1] for *_, b in ends]),
            label=[f"layer {l} unit {i} -> unit {j}" for l, i, j, _, _ in ends],
            w=np.zeros(len(ends)), width=np.ones(len(ends))), name="network_links")
        self.sign = LinearColorMapper(palette=[ORANGE, BLUE], low=-1e-12, high=1e-12)
        self.mapper = LinearColorMapper(palette=PALETTE, low=0, high=LEVELS)
        # one data unit is the same number of pixels across and up, so each neuron's heatmap is square
        pixels = max(6.0, min(36.0, 480.0 / (tallest + 1)))
        x_units, y_units = 2 * len(self.sizes), tallest + 1
        p = _figure("Network (hover a link or a neuron)", "network", axes=False,
                    width=int(pixels * x_units) + 40, height=int(pixels * y_units) + 50,
                    x_range=Range1d(-1, x_units - 1), y_range=Range1d(-1, y_units - 1))
        link_glyph = p.segment("x0", "y0", "x1", "y1", source=self.links, line_width="width", line_alpha=0.7,
                               line_color={"field": "w", "transform": self.sign})
        p.add_tools(HoverTool(renderers=[link_glyph], tooltips=[("link", "@label"), ("w", "@w{0.000}")]))
        if self.two_d:
            p.image("image", x="ix", y="iy", dw="dw", dh="dh", source=self.neurons, color_mapper=self.mapper)
        else:
            p.scatter("x", "y", source=self.neurons, size=8, fill_color="color", line_color="#555")
        for l, (n_l, shown) in enumerate(zip(self.sizes, self.shown)):
            if n_l > shown:
                p.text([2.0 * l], [-0.9], [f"+{n_l - shown} more"], text_font_size="9px", text_align="center")
        p.scatter("bx", "by", source=self.neurons, marker="square", size="size", line_color="white", line_width=0.5,
                  fill_color={"field": "b", "transform": self.sign})
        # hovering a neuron: its name, bias, and z, a for the selected point; enlarged beside the diagram
        hot = p.rect("x", "y", width=self.box, height=self.box, source=self.neurons, fill_alpha=0.0, line_alpha=0.0,
                     hover_line_alpha=1.0, hover_line_color="black")
        neuron_hover = HoverTool(renderers=[hot], tooltips=[("neuron", "@label"), ("bias", "@bias"), ("z", "@z"),
                                                            ("a", "@a")])
        p.add_tools(neuron_hover)
        self.figure = p
        self.zoom = None
        self.zoom_filled = False
        if self.two_d:
            self.zoom_image = ColumnDataSource(dict(image=[np.full((2, 2), LEVELS // 2, np.uint8)]),
                                               name="network_zoom")
            zoom = _figure("Hover a neuron", "network_zoom_figure", axes=False, width=ZOOM + 20, height=ZOOM + 40,
                           x_range=Range1d(0, 1), y_range=Range1d(0, 1))
            zoom.image("image", x=0, y=0, dw=1, dh=1, source=self.zoom_image, color_mapper=self.mapper)
            neuron_hover.callback = CustomJS(args=dict(neurons=self.neurons, zoom=self.zoom_image, fig=zoom), code="""
                const i = cb_data.index.indices[0];
                if (i === undefined) return;
                zoom.data = {image: [neurons.data.image[i]]};
                fig.title.text = neurons.data.label[i];""")
            self.zoom = zoom
            self.layout = row(p, zoom)
        else:
            self.layout = p

    def set_trace(self, result):
        """z and a of every shown neuron for the point whose forward pass is shown (None: no point)."""
        n = len(self.neurons.data["x"])
        if result is None:
            z, a = ["(click a point)"] * n, [""] * n
        else:
            inputs = list(result["features"].values())
            z = [f"{v:.4f}" for v in inputs[:self.shown[0]]]
            a = list(z)
            for l, layer in enumerate(result["layers"], start=1):
                z += [f"{v:.4f}" for v in layer["z"][:self.shown[l]]]
                a += [f"{v:.4f}" for v in layer["a"][:self.shown[l]]]
        self.neurons.data.update(z=z, a=a)

    def prepare(self, frame):
        """The shown units' output grids as colour levels (called in the training thread as frames are built)."""
        return {"unit_levels": levels(frame["unit_grids"][self.unit_rows], -1.0, 1.0)} if "unit_grids" in frame else {}

    def update(self, frame):
        weights = frame["weights"]
        top = max((np.abs(W).max() for W, _ in weights), default=1.0) or 1.0
        # float32: half the bytes of every frame's links, more digits than the hover shows
        shown = self.shown  # links and biases in the diagram's order: per layer, the shown units' W and b
        w = np.concatenate([W[:shown[l], :shown[l + 1]].ravel() for l, (W, _) in enumerate(weights)])
        w = w.astype(np.float32)
        self.links.data.update(w=w, width=0.3 + 4.0 * np.abs(w) / np.float32(top))
        hidden = np.concatenate([bias[:shown[l + 1]] for l, (_, bias) in enumerate(weights)]).astype(np.float32)
        b = np.concatenate([np.zeros(self.n_inputs, np.float32), hidden])
        change = dict(b=b, size=3.0 + 7.0 * np.minimum(np.abs(b) / np.float32(top), 1.0),
                      bias=[""] * self.n_inputs + [f"{v:.4f}" for v in hidden])
        if self.two_d:
            images = frame.get("unit_levels")
            change["image"] = list(self.prepare(frame)["unit_levels"] if images is None else images)
        self.neurons.data.update(**change)
        if self.two_d and not self.zoom_filled:  # until a neuron is hovered, the enlarged one is the output
            self.zoom_filled = True
            self.zoom_image.data = {"image": [change["image"][-1]]}
            self.zoom.title.text = self.neurons.data["label"][-1] + " (hover a neuron)"
