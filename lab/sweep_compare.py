"""Two optimizers compared by a sweep (the Sweep page's teaching object; no Panel): the same data, network
and learning rates (a log scale) for both, each against its own second hyperparameter (momentum's
momentum, RMSprop's decay, Adam's beta1), times seeds. ``Comparison`` is the runs as one ``Sweep`` and
each heatmap cell's numbers as its runs finish.

    >>> config = CompareConfig(dataset="spiral", optimizer_a="momentum", optimizer_b="rmsprop")
    >>> comparison = Comparison(config)
    >>> comparison.sweep.run(on_result=comparison.add)       # cells fill as runs finish
    >>> comparison.table(0)["test_loss"]                     # optimizer A's cells, row by row
"""

import math
import urllib.parse

import numpy as np
import param

from lab.data import datasets
from lab.engine import optimizers
from lab.playground import PlaygroundConfig, parse_hidden
from lab.settings import PAGE_KEYS, Settings, short
from lab.sweep import Sweep, run_id

# each optimizer's own second axis, and the values it starts with; optimizers without one get a single row
SECOND = {"momentum": "momentum", "nesterov": "momentum", "rmsprop": "decay", "adam": "beta1", "adamw": "beta1",
          "lion": "beta1"}
SECOND_VALUES = {"momentum": "0, 0.5, 0.9, 0.99", "decay": "0.5, 0.9, 0.99, 0.999", "beta1": "0, 0.5, 0.9, 0.99"}
METRICS = {"test_loss": "final test loss", "epochs_to_target": "epochs to reach the target test loss"}
MAX_AXIS = 12
# a pasted Playground link's settings that the sweep sets itself, or that only the live page uses
NOT_FROM_LINK = ("optimizer_name", "seed", "steps_per_second", "max_epochs", "backend")
FIELDS_FROM_LINK = ("dataset", "noise", "n_points", "hidden", "activation", "batch_size")


def parse_values(text, what):
    """'0, 0.5, 0.9' -> [0.0, 0.5, 0.9]; ValueError naming ``what`` otherwise."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError(f"give at least one value for {what}, separated by commas (like 0, 0.5, 0.9)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"the values for {what} must be numbers separated by commas (got {short(text)!r})") from None
    if len(values) > MAX_AXIS:
        raise ValueError(f"at most {MAX_AXIS} values for {what} (got {len(values)})")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"the values for {what} must be finite numbers (got {short(text)!r})")
    return sorted(set(values))


def nice(value):
    """A grid value as the axis and the URL write it: three significant digits."""
    return float(f"{value:.3g}")


class CompareConfig(Settings):
    """What the Sweep page compares; every setting is a widget, a URL key and a JSON key."""

    dataset = param.Selector(default="circle", objects=datasets.names(), doc="Data set every run learns.")
    noise = param.Number(0.0, bounds=(0.0, 0.5), step=0.05, doc="Label/point noise as a fraction.")
    n_points = param.Integer(400, bounds=(20, 5000), doc="Number of generated points (2-D data sets).")
    hidden = param.String("8, 8", doc="Hidden layer sizes, comma separated (empty: no hidden layer).")
    activation = param.String("tanh", doc="Hidden activation (or one per hidden layer, comma separated).")
    batch_size = param.Integer(10, bounds=(1, 1024), doc="Minibatch size of every run.")
    base = param.String("", label="More settings (from a Playground link)",
                        doc="More Playground settings for every run, as its link writes them "
                            "(features=x1,x2,x1x2&reg.l2=0.001). Paste a whole Playground link here: its data "
                            "and network fill the fields above and the rest stays here.")
    optimizer_a = param.Selector(default="momentum", objects=optimizers.names(), label="Optimizer A",
                                 doc="The left heatmap's optimizer.")
    values_a = param.String(SECOND_VALUES["momentum"], label="A: values of its own hyperparameter",
                            doc="The left heatmap's rows: values of optimizer A's own hyperparameter (momentum's "
                                "momentum, RMSprop's decay, Adam's beta1), comma separated. SGD and AdaGrad have "
                                "none: one row.")
    optimizer_b = param.Selector(default="rmsprop", objects=optimizers.names(), label="Optimizer B",
                                 doc="The right heatmap's optimizer.")
    values_b = param.String(SECOND_VALUES["decay"], label="B: values of its own hyperparameter",
                            doc="The right heatmap's rows, as for optimizer A.")
    lr_min = param.Number(0.001, bounds=(1e-6, 10.0), label="Smallest learning rate",
                          doc="The columns: learning rates from this one to the largest, evenly spaced on a log scale.")
    lr_max = param.Number(1.0, bounds=(1e-6, 10.0), label="Largest learning rate",
                          doc="The last column's learning rate.")
    lr_count = param.Integer(6, bounds=(1, MAX_AXIS), label="Learning rates", doc="How many columns.")
    seeds = param.Integer(2, bounds=(1, 10), doc="Runs per cell, each from its own seed (weights and minibatch order).")
    epochs = param.Integer(100, bounds=(1, 5000), doc="Epochs per run.")
    metric = param.Selector(default="test_loss", objects=list(METRICS), label="Colour by",
                            doc="The heatmaps' colour: the final test loss (mean over seeds), or the epochs a run "
                                "took to reach the target test loss (mean over the seeds that reached it).")
    target = param.Number(0.1, bounds=(1e-6, 100.0), softbounds=(0.001, 1.0), step=0.001, label="Target test loss",
                          doc="The test loss 'epochs to target' counts to.")

    @param.depends("optimizer_a", watch=True)
    def _values_a(self):
        self.values_a = SECOND_VALUES.get(SECOND.get(self.optimizer_a), "")

    @param.depends("optimizer_b", watch=True)
    def _values_b(self):
        self.values_b = SECOND_VALUES.get(SECOND.get(self.optimizer_b), "")

    def take_link(self, text):
        """A pasted Playground link (or its query): data and network into the fields, the rest into ``base``
        (not the optimizer, which the sweep sets). ValueError names a setting the Playground refuses."""
        text = str(text).strip()
        query = text.split("?", 1)[1] if "?" in text else text
        settings = dict(urllib.parse.parse_qsl(query.split("#", 1)[0], keep_blank_values=True))
        settings = {k: v for k, v in settings.items() if k not in PAGE_KEYS}
        PlaygroundConfig().from_query(settings)  # refused here, naming the bad setting
        fields = {k: settings.pop(k) for k in FIELDS_FROM_LINK if k in settings}
        extra = {k: v for k, v in settings.items() if k not in NOT_FROM_LINK and not k.startswith("opt.")}
        self.from_query({**fields, "base": urllib.parse.urlencode(extra, safe=",")})

    def base_settings(self):
        """``base`` as a dict; ValueError for text that is not SETTING=VALUE&..."""
        text = self.base.strip().lstrip("?")
        if "?" in text:
            raise ValueError("paste the link into 'More settings' to take it apart; it holds more than settings")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)) if text else []
        return {k: v for k, v in pairs if k not in PAGE_KEYS}

    def learning_rates(self):
        if self.lr_count > 1 and self.lr_min >= self.lr_max:
            raise ValueError(f"the smallest learning rate ({self.lr_min:g}) must be below the largest "
                             f"({self.lr_max:g})")
        if self.lr_count == 1:
            return [nice(self.lr_min)]
        return sorted({nice(v) for v in np.geomspace(self.lr_min, self.lr_max, self.lr_count)})

    def second_axis(self, which):
        """(hyperparameter name or None, its values) for optimizer 'a' or 'b'."""
        name = getattr(self, f"optimizer_{which}")
        second = SECOND.get(name)
        if second is None:
            return None, [None]
        return second, [nice(v) for v in parse_values(getattr(self, f"values_{which}"), f"{name}'s {second}")]

    def common(self):
        """The settings every run shares, as the Playground's URL writes them."""
        parse_hidden(self.hidden)  # a bad network is refused with the Playground's own message
        settings = {**self.base_settings(), **{k: v for k, v in self.to_query().items() if k in FIELDS_FROM_LINK}}
        for key in ("optimizer_name", "seed") + tuple(k for k in settings if k.startswith("opt.")):
            if key in self.base_settings():
                raise ValueError(f"'{key}' is set by the sweep; remove it from the more settings")
        return settings


class Cell:
    """One heatmap cell: its settings, and the runs (one per seed) that finished."""

    def __init__(self, settings):
        self.settings = settings
        self.rows = []
        self.curves = {}  # seed -> test loss per epoch

    def add(self, row, curves):
        self.rows.append(row)
        key = "val_loss" if curves and np.isfinite(curves[0].get("val_loss", np.nan)) else "loss"
        self.curves[row["seed"]] = np.array([c[key] for c in curves], dtype=float)

    def stats(self, target):
        ok = [r for r in self.rows if r["status"] not in ("diverged", "error")]
        diverged = sum(r["status"] == "diverged" for r in self.rows)
        errors = [r["message"] for r in self.rows if r["status"] == "error"]
        losses = np.array([r["test_loss"] for r in ok], dtype=float)
        reached = []
        for r in ok:
            curve = self.curves.get(r["seed"], np.array([]))
            hits = np.flatnonzero(curve <= target)
            if len(hits):
                reached.append(hits[0] + 1)
        mean = lambda a: float(np.mean(a)) if len(a) else math.nan  # noqa: E731
        return {"finished": len(self.rows), "diverged": diverged, "errors": len(errors),
                "error": errors[0] if errors else "",
                "test_loss": mean(losses), "test_loss_std": float(np.std(losses)) if len(losses) > 1 else math.nan,
                "test_accuracy": mean([r["test_accuracy"] for r in ok]),
                "epochs_to_target": mean(reached), "reached": len(reached),
                "seconds": mean([r["seconds"] for r in self.rows])}


class Comparison:
    """The runs of one comparison and their results, cell by cell. Built from a CompareConfig (every value
    checked here, before any run starts); ``add(row, curves)`` takes a finished run (``Sweep.run``'s
    on_result) and says which cell it filled."""

    def __init__(self, config):
        self.names = [config.optimizer_a, config.optimizer_b]
        self.lrs = config.learning_rates()
        self.seeds, self.epochs = config.seeds, config.epochs
        common = config.common()
        self.seconds, self.rows_of = [], []
        self.cells = []  # per optimizer: cells row by row (second hyperparameter), then by learning rate
        points = []
        for which, name in zip("ab", self.names):
            second, values = config.second_axis(which)
            self.seconds.append(second)
            self.rows_of.append(values)
            cells = []
            for value in values:
                for lr in self.lrs:
                    point = {"optimizer_name": name, "opt.learning_rate": str(lr)}
                    if second is not None:
                        point[f"opt.{second}"] = str(value)
                    cells.append(Cell({**common, **point}))
                    points.append(point)
            self.cells.append(cells)
        if self.names[0] == self.names[1] and self.rows_of[0] == self.rows_of[1]:
            raise ValueError("optimizers A and B are the same, with the same values: choose another for one of them")
        self.sweep = Sweep(common, points, seeds=self.seeds, epochs=self.epochs)
        self.cell_of = {run_id(cell.settings, s): (k, index)
                        for k, cells in enumerate(self.cells) for index, cell in enumerate(cells)
                        for s in range(self.seeds)}
        self.finished = self.diverged = self.errors = 0

    def __len__(self):
        return len(self.sweep)

    def add(self, row, curves):
        """Records one finished run; returns (optimizer index, cell index), or None for a run not of this
        comparison."""
        where = self.cell_of.get(row["run"])
        if where is None:
            return None
        self.cells[where[0]][where[1]].add(row, curves)
        self.finished += 1
        self.diverged += row["status"] == "diverged"
        self.errors += row["status"] == "error"
        return where

    def shape(self, k):
        """(rows, columns) of optimizer k's heatmap."""
        return len(self.rows_of[k]), len(self.lrs)

    def position(self, k, index):
        """(column, row) of a cell: learning rate index, second hyperparameter index."""
        return index % len(self.lrs), index // len(self.lrs)

    def table(self, k, target):
        """Optimizer k's cells as columns (one entry per cell, row by row): where they are, their numbers,
        and their runs' Playground query."""
        out = {key: [] for key in ("column", "row", "learning_rate", "second", "finished", "diverged", "errors",
                                   "error", "test_loss", "test_loss_std", "test_accuracy", "epochs_to_target",
                                   "reached", "seconds")}
        for index, cell in enumerate(self.cells[k]):
            column, row = self.position(k, index)
            out["column"].append(column)
            out["row"].append(row)
            out["learning_rate"].append(self.lrs[column])
            value = self.rows_of[k][row]
            out["second"].append(math.nan if value is None else value)
            for key, v in cell.stats(target).items():
                out[key].append(v)
        return out

    def value_range(self, metric, target):
        """(lowest, highest) finished value of ``metric`` over both optimizers' cells (one colour scale for
        both heatmaps; a loss must be positive for its log scale), or None before any."""
        values = np.array([v for k in (0, 1) for v in self.table(k, target)[metric]], dtype=float)
        finite = values[np.isfinite(values) & ((values > 0) if metric == "test_loss" else True)]
        if not len(finite):
            return None
        low, high = float(finite.min()), float(finite.max())
        return low, (high if high > low else low * 1.01 + 1e-9)

    def playground_query(self, k, index, seed=0):
        """The Playground's settings for one run of a cell: the same data, network, optimizer and seed,
        stopping after the sweep's epochs."""
        return {**self.cells[k][index].settings, "seed": str(seed), "max_epochs": str(self.epochs)}

    def curves(self, k, index):
        """{seed: test loss per epoch} of a cell's finished runs."""
        return dict(self.cells[k][index].curves)

    def mean_curve(self, k, index):
        """A cell's test loss per epoch, the mean over its finished runs still going at that epoch (a run
        stopped early is shorter); a diverged run's inf or NaN epochs are left out (NaN where none is left)."""
        curves = list(self.cells[k][index].curves.values())
        if not curves:
            return np.array([])
        length = max(len(c) for c in curves)
        stacked = np.full((len(curves), length), np.nan)
        for i, c in enumerate(curves):
            stacked[i, :len(c)] = np.where(np.isfinite(c) & (c > 0), c, np.nan)
        counts = np.isfinite(stacked).sum(axis=0)
        return np.where(counts > 0, np.nansum(stacked, axis=0) / np.maximum(counts, 1), np.nan)
