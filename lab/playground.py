"""The playground's configuration: every setting declared once, with bounds and docs, serialisable to a
URL query and to JSON so a link or a file reproduces a setup.

Nested objects follow Panel's sub-object pattern: ``optimizer`` and ``schedule`` are the selected
objects, each with its own hyperparameters (so a view shows exactly that optimizer's sliders).
"""

import json

import numpy as np
import param

from lab.data import datasets
from lab.engine import optimizers, schedules
from lab.engine.model import ACTIVATIONS, FEATURES, INITS, MLP, OUTPUTS
from lab.engine.regularizers import Regularization
from lab.settings import PAGE_KEYS, coerce, parse_json, short, update

LOSS_CHOICES = ["auto", "bce", "cross_entropy", "hinge", "mse"]
MAX_DIAGRAM_LAYERS, MAX_DIAGRAM_UNITS = 8, 64


def parse_hidden(text):
    """'8, 8' -> [8, 8]; '' -> [] (no hidden layer). ValueError with what to type otherwise."""
    text = str(text).strip()
    if not text:
        return []
    try:
        sizes = [int(part) for part in text.replace(";", ",").split(",")]
    except ValueError:
        raise ValueError("hidden layers must be whole numbers separated by commas, like 8, 8 "
                         f"(got {short(text)!r})") from None
    if len(sizes) > 16 or any(not 1 <= s <= 1024 for s in sizes):
        raise ValueError("use at most 16 hidden layers of 1 to 1024 units each")
    return sizes


# the settings by section; changing a data or network setting rebuilds the run (new data or a new network),
# training settings (and the optimizer's, schedule's and regularizers' own) apply while it trains
DATA_SETTINGS = ("dataset", "noise", "test_ratio", "n_points", "data_seed", "features")
NETWORK_SETTINGS = ("hidden", "activation", "output", "loss", "init", "seed", "dtype", "backend")
TRAINING_SETTINGS = ("optimizer_name", "schedule_name", "batch_size", "steps_per_second", "max_epochs")
REBUILD_SETTINGS = DATA_SETTINGS + NETWORK_SETTINGS


class PlaygroundConfig(param.Parameterized):
    # data
    dataset = param.Selector(default="circle", objects=datasets.names(), doc="Data set to learn.")
    noise = param.Number(0.0, bounds=(0.0, 0.5), step=0.05,
                         doc="Label/point noise as a fraction (the Playground's slider divided by 100).")
    test_ratio = param.Number(0.5, bounds=(0.1, 0.9), step=0.05, doc="Fraction of points held out for testing.")
    n_points = param.Integer(500, bounds=(20, 5000), doc="Number of generated points (2-D data sets).")
    data_seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of the data generator.")
    features = param.ListSelector(default=["x1", "x2"], objects=list(FEATURES),
                                  doc="Input features computed from (x1, x2) for 2-D data.")
    # network
    hidden = param.String("4, 2", doc="Hidden layer sizes, comma separated (empty: no hidden layer).")
    activation = param.String("tanh", doc="Hidden activation, or one per hidden layer separated by commas: "
                              + ", ".join(ACTIVATIONS))
    output = param.Selector(default="auto", objects=["auto"] + list(OUTPUTS),
                            doc="Output head; 'auto' picks it from the data kind.")
    loss = param.Selector(default="auto", objects=LOSS_CHOICES, doc="Loss; 'auto' picks the output's natural loss.")
    init = param.Selector(default="glorot", objects=list(INITS), doc="Weight initialisation scheme.")
    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of the weights and of minibatch order.")
    dtype = param.Selector(default="float32", objects=["float32", "float64"], doc="Floating-point precision.")
    backend = param.Selector(default="cpu", objects=["cpu", "cuda", "auto"], doc="Where the kernels run.")
    # training
    optimizer_name = param.Selector(default="sgd", objects=optimizers.names(), doc="Optimizer.")
    schedule_name = param.Selector(default="constant", objects=schedules.names(), doc="Learning-rate schedule.")
    batch_size = param.Integer(10, bounds=(1, 1024), doc="Minibatch size.")
    steps_per_second = param.Integer(200, bounds=(1, 20000), label="Speed (steps/s)",
                                     doc="Speed: minibatch steps per second while playing, whatever the frame rate.")
    max_epochs = param.Integer(0, bounds=(0, 1000000), doc="Stop after this many epochs (0 = never).")

    def __init__(self, **params):
        self.optimizers = {name: cls(learning_rate=0.03) for name, cls in optimizers.REGISTRY.items()}
        self.schedules = {name: cls() for name, cls in schedules.REGISTRY.items()}
        self.regularization = Regularization()
        super().__init__(**params)

    @property
    def optimizer(self):
        """The selected optimizer object, with the selected schedule attached."""
        opt = self.optimizers[self.optimizer_name]
        sched = self.schedules[self.schedule_name]
        opt.schedule = None if self.schedule_name == "constant" else sched
        return opt

    def change_layers(self, delta):
        """The Playground's +/- layer buttons: add a hidden layer as wide as the last (4 when there is
        none), or remove the last one."""
        sizes = parse_hidden(self.hidden)
        if delta > 0:
            if len(sizes) >= MAX_DIAGRAM_LAYERS:
                raise ValueError(f"at most {MAX_DIAGRAM_LAYERS} hidden layers from these buttons")
            sizes.append(sizes[-1] if sizes else 4)
        elif sizes:
            sizes.pop()
        self.hidden = ", ".join(map(str, sizes))

    @property
    def schedule(self):
        return self.schedules[self.schedule_name]

    # ----- building the run ----------------------------------------------------------------------
    def make_data(self, upload=None):
        if self.dataset == "digits" or upload is None:
            return datasets.make(self.dataset, n=self.n_points, noise=self.noise,
                                 test_ratio=self.test_ratio, seed=self.data_seed)
        return upload

    def make_model(self, split):
        """The MLP for a data split; ValueError (with what to change) for inconsistent settings."""
        hidden = parse_hidden(self.hidden)
        acts = [a.strip() for a in self.activation.split(",") if a.strip()] or ["tanh"]
        if len(acts) == 1:
            acts = acts * len(hidden)
        elif len(acts) != len(hidden):
            raise ValueError(f"{len(acts)} activations for {len(hidden)} hidden layers; give one, or one per layer")
        output = self.output
        if output == "auto":
            output = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}[split.kind]
        n_out = split.n_classes if output == "softmax" else 1
        if split.kind == "multiclass" and output != "softmax":
            raise ValueError(f"{split.n_classes} classes need the softmax output")
        if split.kind == "regression" and self.loss not in ("auto", "mse"):
            raise ValueError("regression data needs the mse loss")
        features = None
        n_in = split.n_features
        if split.is_2d:
            if not self.features:
                raise ValueError("pick at least one input feature")
            features = list(self.features)
            n_in = len(features)
        return MLP([n_in, *hidden, n_out], activation=acts, output=output,
                   loss=None if self.loss == "auto" else self.loss, seed=self.seed, dtype=self.dtype,
                   backend=self.backend, init=self.init, features=features)

    # ----- serialisation ---------------------------------------------------------------------------
    _TOP = DATA_SETTINGS + NETWORK_SETTINGS + TRAINING_SETTINGS

    @staticmethod
    def _settings(obj):
        # a schedule attached to an optimizer starts from the optimizer's rate, so its own is not saved
        skip = ("name", "schedule") + (("learning_rate",) if isinstance(obj, schedules.Schedule) else ())
        return {k: v for k, v in obj.param.values().items() if k not in skip}

    def to_dict(self):
        """Every setting, including the selected optimizer's, schedule's and regularizers'."""
        out = {k: getattr(self, k) for k in self._TOP}
        out["optimizer"] = self._settings(self.optimizers[self.optimizer_name])
        out["schedule"] = self._settings(self.schedule)
        out["regularization"] = self._settings(self.regularization)
        return out

    def apply(self, settings):
        """Sets everything from to_dict()'s output; unknown keys or bad values raise ValueError."""
        settings = dict(settings)
        nested = {key: settings.pop(key, {}) for key in ("optimizer", "schedule", "regularization")}
        unknown = set(settings) - set(self._TOP)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        update(self, settings)
        for key, obj in (("optimizer", self.optimizers[self.optimizer_name]), ("schedule", self.schedule),
                         ("regularization", self.regularization)):
            values = nested[key] or {}
            if not isinstance(values, dict):
                raise ValueError(f"{key!r} must hold its settings by name, like {{\"learning_rate\": 0.1}}")
            bad = set(values) - set(obj.param) | ({"name", "schedule"} & set(values))
            if bad:
                hint = " (choose the optimizer with optimizer_name)" if key == "optimizer" else ""
                raise ValueError(f"unknown {key} settings {sorted(bad)}{hint}")
            update(obj, values)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    def from_json(self, text):
        self.apply(parse_json(text))

    def to_query(self):
        """Flat {name: string} for a URL: top-level names, then opt.*, sched.*, reg.* for nested ones."""
        d = self.to_dict()
        query = {}
        for key in self._TOP:
            value = d[key]
            query[key] = ",".join(value) if isinstance(value, list) else str(value)
        for prefix, key in (("opt", "optimizer"), ("sched", "schedule"), ("reg", "regularization")):
            for name, value in d[key].items():
                if value is not None:
                    query[f"{prefix}.{name}"] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        return query

    def from_query(self, query, ignore=PAGE_KEYS):
        """Inverse of to_query, tolerant of missing keys; ValueError names a bad key or value. Keys in
        ``ignore`` belong to someone else (the page's name, the presenter flag); any other key is an error."""
        top, nested = {}, {"optimizer": {}, "schedule": {}, "regularization": {}}
        prefixes = {"opt": "optimizer", "sched": "schedule", "reg": "regularization"}
        for key, raw in query.items():
            if key in ignore:
                continue
            if key in self._TOP:
                top[key] = coerce(self.param[key], raw, key)
            elif "." in key and key.split(".", 1)[0] in prefixes:
                prefix, name = key.split(".", 1)
                nested[prefixes[prefix]][name] = raw
            else:
                raise ValueError(f"unknown setting {key[:40]!r} in the URL")
        self.apply(top)
        for key, obj in (("optimizer", self.optimizers[self.optimizer_name]), ("schedule", self.schedule),
                         ("regularization", self.regularization)):
            values = {}
            for name, raw in nested[key].items():
                if name not in obj.param or name == "name":
                    raise ValueError(f"unknown {key} setting {name!r} in the URL")
                values[name] = coerce(obj.param[name], raw, f"{key}.{name}")
            update(obj, values)


def grid_points(window, resolution):
    """(xs, ys, points (r*r, 2)) covering a 2-D window, row-major in y then x."""
    (x0, x1), (y0, y1) = window
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    X, Y = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([X.ravel(), Y.ravel()])
