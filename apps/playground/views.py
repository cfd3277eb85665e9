"""Bokeh views of a playground run. Each view owns its figures and named data sources, and
``update(frame)`` copies a frame (see lab.live) into them. No numerics here: only arrangement."""

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, LinearColorMapper, Range1d

from apps.widgets import empty_source, figure
from lab.landscape import subsample

ORANGE, BLUE, LIGHT = "#f59322", "#0877bd", "#e8eaeb"
ROLLOVER = 2000
MAX_SHOWN_POINTS = 2000  # of each of the training and test sets


def _blend(a, b, t):
    a = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    r, g, b = (round(x + (y - x) * t) for x, y in zip(a, b))
    return f"#{r:02x}{g:02x}{b:02x}"


# the Playground's diverging palette: orange (negative/class 0) - light - blue (positive/class 1)
PALETTE = [_blend(ORANGE, LIGHT, i / 127) for i in range(128)] + [_blend(LIGHT, BLUE, i / 127) for i in range(128)]


LEVELS = 255  # heatmaps travel as uint8 colour levels (an eighth of float64's bytes): one level per palette colour

# classes 0 and 1 keep the Playground's orange and blue; more classes get colours of their own
CLASS_COLORS = [ORANGE, BLUE, "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
                "#7f7f7f"]
SHADES = 24  # per class, from light (unsure) to the class colour (sure)


def class_palette(k):
    """k ramps of SHADES colours, light to each class's colour: level c * SHADES + s is class c at shade s."""
    return [_blend(LIGHT, CLASS_COLORS[c % len(CLASS_COLORS)], s / (SHADES - 1)) for c in range(k)
            for s in range(SHADES)]


def class_levels(probabilities, discrete=False):
    """(k, g, g) class probabilities as levels of class_palette(k): the likeliest class, shaded by how
    much more likely it is than a uniform guess (full colour when ``discrete``)."""
    p = np.nan_to_num(probabilities, nan=0.0)
    k = p.shape[0]
    best = p.argmax(axis=0)
    sure = np.ones_like(best, dtype=np.float64) if discrete else np.clip((p.max(axis=0) - 1 / k) / (1 - 1 / k), 0, 1)
    return (best * SHADES + np.round(sure * (SHADES - 1))).astype(np.uint8)  # at most 10 * 24 levels


def levels(grid, low, high):
    """``grid`` as colour levels 0..LEVELS of the range low..high (for a mapper over 0..LEVELS); NaN is the
    low end. (fmax and fmin pass the number over NaN: a third of nan_to_num and clip's time.)"""
    scaled = (np.asarray(grid) - low) * (LEVELS / (high - low))
    scaled = np.fmin(np.fmax(scaled, 0.0, out=scaled), LEVELS, out=scaled)
    return np.rint(scaled, out=scaled).astype(np.uint8)


def output_range(model):
    return (0.0, 1.0) if model.output in ("sigmoid", "softmax") else (-1.0, 1.0)


def _figure(title, name, axes=True, **kwargs):
    """A fixed figure with no pan/zoom tools (hover tools are added where wanted) and, with axes=False,
    no axes or grid: every model counts, on a server that sends frames to a whole class."""
    kwargs.setdefault("height", 300)
    kwargs.setdefault("width", 300)
    if not axes:
        kwargs.update(x_axis_type=None, y_axis_type=None)
    p = figure(title=title, name=name, toolbar_location=None, tools="", **kwargs)
    p.title.text_font_size = "12px"
    return p


class BoundaryView:
    """Decision boundary (or regression surface) with training and test points, for 2-D data."""

    def __init__(self, live, suffix="", title="Output on the input plane"):
        split, model = live.split, live.model
        (x0, x1), (y0, y1) = split.window
        self.live = live
        self.title = title
        self.low, self.high = output_range(model)
        self.classes = model.sizes[-1] if model.sizes[-1] > 1 else 0  # one colour per class (softmax)
        if self.classes:
            self.mapper = LinearColorMapper(palette=class_palette(self.classes), low=0, high=self.classes * SHADES)
        else:
            self.mapper = LinearColorMapper(palette=PALETTE, low=0, high=LEVELS)
        self.image = ColumnDataSource(dict(image=[np.full((2, 2), LEVELS // 2, np.uint8)], x=[x0], y=[y0],
                                           dw=[x1 - x0], dh=[y1 - y0]), name=f"boundary_image{suffix}")
        self.train = empty_source(f"train_points{suffix}", "x1", "x2", "label", "color")
        self.test = empty_source(f"test_points{suffix}", "x1", "x2", "label", "color")
        self.figure = _figure(title, f"boundary{suffix}", x_range=Range1d(x0, x1), y_range=Range1d(y0, y1),
                              width=340, height=340)
        self.figure.image("image", x="x", y="y", dw="dw", dh="dh", source=self.image,
                          color_mapper=self.mapper)
        self.figure.scatter("x1", "x2", source=self.train, fill_color="color", line_color="white", size=6)
        self.test_glyph = self.figure.scatter("x1", "x2", source=self.test, fill_color="color",
                                              line_color="black", size=6)
        self.figure.add_tools(HoverTool(tooltips=[("x1", "@x1{0.00}"), ("x2", "@x2{0.00}"),
                                                  ("label", "@label")]))
        self.discrete = False
        self.set_points()
        live.prepare["boundary"] = self.prepare  # the colour levels are made in the training thread

    def _colors(self, y):
        if self.live.split.kind == "regression":
            return [PALETTE[int(np.clip((v - self.low) / (self.high - self.low), 0, 1) * 255)] for v in y]
        return [CLASS_COLORS[int(v) % len(CLASS_COLORS)] for v in y]

    def set_points(self):
        """The points, at most MAX_SHOWN_POINTS of each set (a fixed random subset of a big upload: a
        million dots tell no more than a few thousand, and take minutes to reach the browser)."""
        s = self.live.split
        for source, X, y in ((self.train, s.X_train, s.y_train), (self.test, s.X_test, s.y_test)):
            X, y = subsample(X, y, MAX_SHOWN_POINTS)
            source.data = dict(x1=X[:, 0], x2=X[:, 1], label=y, color=self._colors(y))
        total = len(s.y_train) + len(s.y_test)
        shown = min(len(s.y_train), MAX_SHOWN_POINTS) + min(len(s.y_test), MAX_SHOWN_POINTS)
        self.figure.title.text = f"Output: {shown:,} of {total:,} points shown" if shown < total else self.title

    def show_test(self, visible):
        self.test_glyph.visible = bool(visible)

    def prepare(self, frame):
        """The frame's output grid as colour levels (called in the training thread as frames are built),
        with the display setting they were made for."""
        return {"boundary_levels": (self.discrete, self.levels(frame["output_grid"]))} if "output_grid" in frame else {}

    def levels(self, grid):
        if self.classes:
            return class_levels(grid, self.discrete)
        if self.discrete:
            middle = (self.low + self.high) / 2
            grid = np.where(grid > middle, self.high, self.low)
        return levels(grid, self.low, self.high)

    def update(self, frame):
        discrete, image = frame.get("boundary_levels", (None, None))
        if image is None or discrete != self.discrete:  # (the first frame, or the setting changed since)
            image = self.levels(frame["output_grid"])
        self.image.data.update(image=[image])


class CurvesView:
    """Loss and accuracy for train and test (and a compared run), learning rate, gradient norms."""

    def __init__(self, n_layers):
        # one source for the three figures: a frame's point is one stream (one event to serialise), not four
        self.source = ColumnDataSource(dict(epoch=[], train=[], test=[], train_acc=[], test_acc=[], lr=[],
                                            **{f"g{l}": [] for l in range(n_layers)}), name="loss_curve")
        self.compare = ColumnDataSource(dict(epoch=[], train=[], test=[], train_acc=[], test_acc=[]),
                                        name="compare_curve")
        self.loss_fig = _figure("Loss (solid: train, dashed: test)", "loss_figure", width=330, height=230)
        self.acc_fig = _figure("Accuracy", "accuracy_figure", width=330, height=230)
        for fig, train, test in ((self.loss_fig, "train", "test"), (self.acc_fig, "train_acc", "test_acc")):
            fig.line("epoch", train, source=self.source, color=BLUE, line_width=2, legend_label="train")
            fig.line("epoch", test, source=self.source, color=BLUE, line_dash="dashed", line_width=2,
                     legend_label="test")
            fig.add_tools(HoverTool(tooltips=[("epoch", "@epoch"), ("train", f"@{train}{{0.0000}}"),
                                              ("test", f"@{test}{{0.0000}}")], mode="vline"))
            fig.legend.location = "top_right"
            fig.legend.label_text_font_size = "9px"
            fig.xaxis.axis_label = "epoch"
        self.loss_fig.line("epoch", "train", source=self.compare, color="#c0392b", line_width=2,
                           legend_label="compared: train")
        self.loss_fig.line("epoch", "test", source=self.compare, color="#c0392b", line_dash="dashed",
                           legend_label="compared: test")
        self.acc_fig.line("epoch", "train_acc", source=self.compare, color="#c0392b", line_width=2)
        self.rate_fig = _figure("Learning rate and gradient norm per layer", "lr_figure", width=330,
                                height=230)
        self.rate_fig.line("epoch", "lr", source=self.source, color="black", line_width=2, legend_label="lr")
        colors = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
        for l in range(min(n_layers, 8)):
            self.rate_fig.line("epoch", f"g{l}", source=self.source, color=colors[l], legend_label=f"|grad W{l}|")
        self.rate_fig.legend.label_text_font_size = "9px"
        for fig in (self.loss_fig, self.acc_fig, self.rate_fig):  # curves behind a legend stay visible
            fig.legend.background_fill_alpha = 0.4
            fig.legend.border_line_alpha = 0.3
        self.rate_fig.add_tools(HoverTool(tooltips=[("epoch", "@epoch"), ("value", "$y{0.0000}")]))

    def update_compared(self, frame):
        rows = [*frame.get("backfill", ()), frame]
        column = lambda key: [r[key] for r in rows]  # noqa: E731
        self.compare.stream(dict(epoch=column("epoch"), train=column("train_loss"), test=column("test_loss"),
                                 train_acc=column("train_accuracy"), test_acc=column("test_accuracy")), ROLLOVER)

    def update(self, frame):
        """The frame's point, after the points a multi-epoch step made along the way (frame['backfill'])."""
        rows = [*frame.get("backfill", ()), frame]
        column = lambda key: [r[key] for r in rows]  # noqa: E731
        self.source.stream(dict(epoch=column("epoch"), train=column("train_loss"), test=column("test_loss"),
                                train_acc=column("train_accuracy"), test_acc=column("test_accuracy"),
                                lr=column("learning_rate"),
                                **{f"g{l}": [r["gradient_norms"][l] for r in rows]
                                   for l in range(len(frame["gradient_norms"]))}), ROLLOVER)


class WeightsView:
    """Per-layer heatmaps of W and histograms of all weights and of the gradient."""

    def __init__(self, model):
        layers = len(model.sizes) - 1  # placed once: a frame sends only the images
        blank = np.zeros((1, 1))
        self.images = ColumnDataSource(dict(image=[blank] * layers, x=[1.2 * l for l in range(layers)],
                                            y=[0] * layers, dw=[1.0] * layers, dh=[1.0] * layers,
                                            layer=list(range(layers))), name="weight_images")
        # both histograms (the same number of bins) in one source: one change per frame, not two
        self.histograms = ColumnDataSource(dict(w_top=[], w_left=[], w_right=[], g_top=[], g_left=[], g_right=[]),
                                           name="histograms")
        self.mapper = LinearColorMapper(palette=PALETTE, low=-1, high=1)
        self.heat = _figure("Weights W per layer (rows: inputs, columns: units)", "weights_figure", axes=False,
                            width=420, height=230, x_range=Range1d(0, 1.2 * len(model.sizes[:-1])),
                            y_range=Range1d(0, 1))
        self.heat.image("image", x="x", y="y", dw="dw", dh="dh", source=self.images, color_mapper=self.mapper)
        self.heat.add_tools(HoverTool(tooltips=[("layer", "@layer"), ("value", "@image{0.000}")]))
        self.hist = _figure("Histograms: weights (blue), gradient (orange)", "histogram_figure",
                            width=330, height=230)
        self.hist.quad(top="w_top", bottom=0, left="w_left", right="w_right", source=self.histograms,
                       fill_color=BLUE, fill_alpha=0.5, line_color=None)
        self.grad_fig = _figure("Gradient histogram", "gradient_figure", width=330, height=230)
        self.grad_fig.quad(top="g_top", bottom=0, left="g_left", right="g_right", source=self.histograms,
                           fill_color=ORANGE, fill_alpha=0.6, line_color=None)

    def update(self, frame):
        Ws = [W for W, _ in frame["weights"]]
        top = max(float(np.abs(W).max()) for W in Ws) or 1.0
        self.mapper.update(low=-top, high=top)
        self.images.data.update(image=[W[::-1] for W in Ws])
        (w_counts, w_edges), (g_counts, g_edges) = frame["weight_histogram"], frame["gradient_histogram"]
        self.histograms.data = dict(w_top=w_counts, w_left=w_edges[:-1], w_right=w_edges[1:],
                                    g_top=g_counts, g_left=g_edges[:-1], g_right=g_edges[1:])


class DigitsView:
    """Sample test images with predicted vs true labels, and the confusion matrix."""

    COLUMNS = 8

    def __init__(self, live):
        self.live = live
        s = live.split
        side = s.image_side
        n = min(24, len(s.y_test))
        self.samples = ColumnDataSource(dict(
            image=[s.X_test[i].reshape(side, side)[::-1] for i in range(n)],
            x=[1.1 * (i % self.COLUMNS) for i in range(n)], y=[-1.3 * (i // self.COLUMNS) for i in range(n)],
            dw=[1.0] * n, dh=[1.0] * n), name="digit_images")
        self.labels = empty_source("digit_labels", "tx", "ty", "text", "color")
        self.gray = LinearColorMapper(palette="Greys256", low=1.0, high=0.0)
        p = _figure("Test images: predicted / true (red: wrong; click one for its forward pass)", "digits_figure",
                    axes=False, width=420, height=300, match_aspect=True)
        p.image("image", x="x", y="y", dw="dw", dh="dh", source=self.samples, color_mapper=self.gray)
        p.text("tx", "ty", "text", source=self.labels, text_color="color", text_font_size="10px")
        self.figure = p
        k = s.n_classes
        self.confusion = empty_source("confusion_matrix", "true", "pred", "count", "fill")
        c = _figure("Confusion matrix (rows: true, columns: predicted)", "confusion_figure", width=330,
                    height=300, x_range=Range1d(-0.5, k - 0.5), y_range=Range1d(k - 0.5, -0.5))
        c.rect("pred", "true", 1, 1, source=self.confusion, fill_color="fill", line_color="white")
        c.text("pred", "true", "count", source=self.confusion, text_align="center", text_baseline="middle",
               text_font_size="9px")
        self.confusion_figure = c

    def index_at(self, x, y):
        """The sample image under a click at (x, y) of the figure, or None."""
        col, row = int(np.floor(x / 1.1)), int(np.floor((1.0 - y) / 1.3))
        if x < 0 or x - 1.1 * col > 1.0 or col >= self.COLUMNS or row < 0 or (1.0 - y) - 1.3 * row > 1.0:
            return None
        index = row * self.COLUMNS + col
        return index if index < len(self.samples.data["x"]) else None

    def update(self, frame):
        pred = frame["sample_predictions"]
        truth = self.live.split.y_test[:len(pred)]
        xs = self.samples.data["x"]
        ys = self.samples.data["y"]
        self.labels.data = dict(tx=list(xs), ty=[y - 0.3 for y in ys],
                                text=[f"{p} / {t}" for p, t in zip(pred, truth)],
                                color=["#2c7a2c" if p == t else "#c0392b" for p, t in zip(pred, truth)])
        M = frame["confusion"]
        k = M.shape[0]
        rows = [(t, p) for t in range(k) for p in range(k)]
        peak = max(int(M.max()), 1)
        self.confusion.data = dict(true=[t for t, _ in rows], pred=[p for _, p in rows],
                                   count=[str(M[t, p]) for t, p in rows],
                                   fill=[_blend(LIGHT, BLUE, M[t, p] / peak) if t == p
                                         else _blend(LIGHT, ORANGE, min(1.0, 4 * M[t, p] / peak))
                                         for t, p in rows])
