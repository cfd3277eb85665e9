"""An optimizer race: several optimizers start from the same point on the same surface.

    >>> race = Race(surfaces.get("rosenbrock"))          # SGD, momentum 0.9, RMSprop, Adam
    >>> race.advance(50); frame = race.frame()

Also the Distill-style convergence map of gradient descent with momentum on a quadratic, and the
presets that reproduce the classroom seeds.
"""

from dataclasses import dataclass, field

import numpy as np

from lab.engine import optimizers
from lab.race import surfaces

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
DEFAULT_RACERS = [("sgd", {}), ("momentum", {"momentum": 0.9}), ("rmsprop", {}), ("adam", {})]
# learning rates that make each default racer move visibly on each surface (reset by presets)
DEFAULT_RATES = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.3, "rmsprop": 0.01, "adam": 0.05}
MAX_STEPS = 5000


@dataclass(eq=False)  # racers are compared by identity (their paths are arrays)
class Racer:
    optimizer: optimizers.Optimizer
    color: str
    path: list = field(default_factory=list)
    values: list = field(default_factory=list)
    state: object = None
    diverged: bool = False
    last_grad: np.ndarray = None

    @property
    def name(self):
        return type(self.optimizer).__name__.lower()

    @property
    def label(self):
        opt = self.optimizer
        extra = f", mu={opt.momentum:g}" if hasattr(opt, "momentum") and opt.momentum else ""
        return f"{self.name} (lr={opt.learning_rate:.3g}{extra})"


class Race:
    def __init__(self, surface, start=None, racers=None):
        self.surface = surface
        self.start = np.array(surface.start if start is None else start, dtype=np.float64)
        self.racers = []
        for name, settings in (DEFAULT_RACERS if racers is None else racers):
            self.add(name, **settings)

    def add(self, name, **settings):
        settings.setdefault("learning_rate", DEFAULT_RATES.get(name, 0.01))
        racer = Racer(optimizers.get(name, **settings), COLORS[len(self.racers) % len(COLORS)])
        self.racers.append(racer)
        self.restart(len(self.racers) - 1)
        return racer

    def remove(self, index):
        del self.racers[index]

    def set_start(self, point):
        point = np.asarray(point, dtype=np.float64)
        if point.shape != self.start.shape:
            raise ValueError(f"start must have length {self.start.size}")
        self.start = point
        self.restart()

    def restart(self, index=None, catch_up=False):
        """Racer ``index`` (or all) back to the start; with catch_up it runs to the others' step count."""
        target = self.steps
        for i in range(len(self.racers)) if index is None else [index]:
            r = self.racers[i]
            r.path = [self.start.copy()]
            r.values = [self.surface.value(self.start)]
            r.state = r.optimizer.init(self.start)
            r.diverged = False
            r.last_grad = self.surface.grad(self.start)
            if catch_up and index is not None:
                self._advance_racer(r, target)

    @property
    def steps(self):
        return max((len(r.path) - 1 for r in self.racers), default=0)

    def _advance_racer(self, r, k):
        x = r.path[-1]
        for _ in range(int(k)):
            if r.diverged or len(r.path) > MAX_STEPS:
                return
            g = self.surface.grad(x)
            x, r.state = r.optimizer.step(x, g, r.state)
            value = self.surface.value(x)
            if not (np.all(np.isfinite(x)) and np.isfinite(value)) or np.abs(x).max() > 1e8:
                r.diverged = True
                return
            r.last_grad = g
            r.path.append(x)
            r.values.append(value)

    def advance(self, k=1):
        for r in self.racers:
            self._advance_racer(r, k)

    def frame(self):
        """Paths, losses, distances to the minimum, and per-racer arrows and effective steps."""
        minimum = self.surface.minimum
        out = []
        for r in self.racers:
            path = np.array(r.path)
            entry = {"label": r.label, "color": r.color, "path": path, "values": np.array(r.values),
                     "diverged": r.diverged, "arrays": {k: v.copy() for k, v in r.state.arrays.items()}}
            if minimum is not None:
                entry["distance"] = np.linalg.norm(path - np.array(minimum), axis=1)
            if len(path) > 1:
                step = path[-1] - path[-2]
                g = r.last_grad
                with np.errstate(divide="ignore", invalid="ignore"):
                    entry["effective_step"] = np.where(np.abs(g) > 0, np.abs(step) / np.abs(g), np.nan)
                entry["gradient"] = g
                entry["velocity"] = step
            out.append(entry)
        return out


def arrows(frame, window, fraction=0.15):
    """Segments of fixed length (fraction of the window's width) from each racer's head along its negative
    gradient and its last step, for racers that keep a velocity: {x0, y0, x1, y1, color, kind}."""
    (x0, x1), _ = window
    scale = fraction * (x1 - x0)
    out = dict(x0=[], y0=[], x1=[], y1=[], color=[], kind=[])
    for e in frame:
        if "gradient" not in e or "velocity" not in e["arrays"]:
            continue
        head = e["path"][-1]
        for vec, color, kind in ((-e["gradient"], "#ffffff", "negative gradient"),
                                 (e["velocity"], "#ff7f0e", "velocity (step)")):
            norm = np.linalg.norm(vec)
            if norm > 0:
                tip = head + vec / norm * scale
                for key, value in zip(("x0", "y0", "x1", "y1"), (*head, *tip)):
                    out[key].append(float(value))
                out["color"].append(color)
                out["kind"].append(kind)
    return out


def convergence_rate(eigenvalues, learning_rates, momenta):
    """Worst-case linear rate of heavy-ball momentum on a quadratic: rate[i, j] for momenta[i] and
    learning_rates[j] is max over eigenvalues of the spectral radius of [[1 + mu - lr l, -mu], [1, 0]].
    A rate >= 1 means divergence (Goh, "Why Momentum Really Works", Distill 2017)."""
    lam = np.asarray(eigenvalues, np.float64)[None, None, :]
    lr = np.asarray(learning_rates, np.float64)[None, :, None]
    mu = np.asarray(momenta, np.float64)[:, None, None]
    trace = 1 + mu - lr * lam
    disc = trace**2 - 4 * mu
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(trace + root), np.abs(trace - root)) / 2
    radius = np.where(disc >= 0, real, np.sqrt(mu))
    return radius.max(axis=2)


VARIABLES = {"parabola": "u", "least_squares": "c"}


def lesson_table(surface, path, values):
    """A 1-D racer's steps as the lesson tables show them: step, the variable's value, J and dJ/d(variable)
    at each iterate; ``variable`` names it (u for u^2 + u + 1, c for the least-squares fit)."""
    xs = np.asarray(path, dtype=np.float64).reshape(len(path), -1)[:, 0]
    return {"step": list(range(len(xs))), "x": xs, "value": np.asarray(values, dtype=np.float64),
            "grad": np.array([surface.grad(np.array([x]))[0] for x in xs]),
            "variable": VARIABLES.get(surface.name, "x")}


DEFAULT_PRESET = "race on Rosenbrock"  # what the Race page shows when its link names no preset

# presets: surface, settings, start, racers [(name, settings)], note
PRESETS = {
    "race on Rosenbrock": ("rosenbrock", {}, (-1.5, 2.0), None,
                           "Four optimizers from (-1.5, 2) down Rosenbrock's curved valley."),
    "GD on u^2 + u + 1": ("parabola", {}, (20.0,), [("sgd", {"learning_rate": 0.3})],
                          "J(u) = u² + u + 1, dJ/du = 2u + 1, and gradient descent from u = 20: "
                          "u ← u − lr · (2u + 1) (lr = 0.3 to start)."),
    "least squares fit of c": ("least_squares", {}, (0.0,), [("sgd", {"learning_rate": 0.05})],
                               "J(c) = Σ (x_i − c)² over x = 1..5, dJ/dc = −2 Σ (x_i − c), and gradient descent "
                               "from c = 0: c ← c − lr · dJ/dc (lr = 0.05 to start)."),
    "momentum vs RMSprop on a narrow valley": (
        "quadratic", {"condition": 50.0, "angle": 30.0}, (-1.8, 1.2),
        [("momentum", {"learning_rate": 0.02, "momentum": 0.9}), ("rmsprop", {"learning_rate": 0.02})],
        "An ill-conditioned bowl (condition number 50): momentum oscillates across, RMSprop rescales."),
    "momentum vs RMSprop on Rosenbrock": (
        "rosenbrock", {}, (-1.5, 2.0),
        [("momentum", {"learning_rate": 1e-3, "momentum": 0.9}), ("rmsprop", {"learning_rate": 0.01})],
        "Momentum against RMSprop on Rosenbrock from (-1.5, 2)."),
}


def preset(name):
    """(Race, note) for a preset name."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {list(PRESETS)}")
    surface_name, settings, start, racers, note = PRESETS[name]
    return Race(surfaces.get(surface_name, **settings), start=start, racers=racers), note
