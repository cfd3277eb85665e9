"""A lesson without a browser: every step applied as the page applies it, the numbers it shows as rows.

    >>> tables = run(get("gradient-descent-by-hand"))   # [(step number, step, rows), ...]

Race lessons on a 1-D surface give one row per gradient step (step, J, dJ/dc, c); on a 2-D surface one
row per racer. Playground and landscape lessons give the run's losses, accuracies and test error rate
(one row per step, or every ``print_every`` epochs while it trains); landscape lessons add the
sharpness of the minimum reached.
"""

import numpy as np

from lab.landscape import split_query
from lab.lessons import pages
from lab.lessons.core import weights_arrays
from lab.live import LiveTraining
from lab.playground import REBUILD_SETTINGS
from lab.race.race import lesson_table

SHARPNESS_SPAN = 0.5   # how far along a filter-normalised random direction the sharpness is measured


def run(lesson):
    """[(k, step, rows)] for every step k of the lesson; rows are dicts (one table per lesson)."""
    runner = RaceRunner(lesson) if lesson.page == "race" else TrainingRunner(lesson)
    return [(k, lesson.step(k), runner.step(k)) for k in range(1, len(lesson) + 1)]


class RaceRunner:
    """The Race page's Next: the step's race built anew from its settings, then its actions."""

    def __init__(self, lesson):
        self.lesson = lesson
        self.race = None

    def step(self, k):
        self.race = pages.race(self.lesson.query(k)).make_race()
        for action in self.lesson.step(k).actions:
            if action == "play":
                self.race.advance(self.lesson.play)
            elif action == "reset":
                self.race.restart()
            elif isinstance(action, tuple):
                self.race.advance(action[1])
        return self.rows(k)

    def rows(self, k):
        surface = self.race.surface
        if surface.dim == 1:
            racer = self.race.racers[0]
            table = lesson_table(surface, racer.path, racer.values)
            name = table["variable"]
            rows = [{"lesson step": k, "step": s, "J": j, f"dJ/d{name}": g, name: x}
                    for s, j, g, x in zip(table["step"], table["value"], table["grad"], table["x"])]
            if racer.diverged:
                rows.append({"lesson step": k, "step": len(racer.path), "J": np.inf, f"dJ/d{name}": np.nan,
                             name: np.nan, "note": "diverged"})
            return rows
        minimum = surface.minimum
        rows = []
        for racer in self.race.racers:
            x = racer.path[-1]
            row = {"lesson step": k, "racer": racer.label, "steps": len(racer.path) - 1, "x": x[0], "y": x[1],
                   "f": racer.values[-1]}
            if minimum is not None:
                row["distance to minimum"] = float(np.linalg.norm(x - np.asarray(minimum)))
            row["diverged"] = racer.diverged
            rows.append(row)
        return rows


class TrainingRunner:
    """The Playground's (or the Landscape page's run's) Next: the settings applied to the running config;
    a new run when the data or the network changed (as the page rebuilds), then the step's actions."""

    def __init__(self, lesson):
        self.lesson = lesson
        self.config = None
        self.live = None

    def _structure(self):
        c = self.config
        return [getattr(c, k) for k in REBUILD_SETTINGS] + [c.regularization.patience]

    def step(self, k):
        query = self.lesson.query(k)
        if self.lesson.page == "landscape":  # the run's settings (the surface's are the page's business)
            query = split_query(query)[1]
        before = None if self.config is None else self._structure()
        if self.config is None:
            self.config = pages.playground(query)
        else:
            self.config.from_query(query)
        if self.live is None or self._structure() != before:
            self.live = LiveTraining(self.config)
        step = self.lesson.step(k)
        rows = []
        if step.weights is not None:
            self.live.model.set_weights(weights_arrays(step.weights))
        for action in step.actions:
            if action == "reset":
                self.live = LiveTraining(self.config)
            elif action == "play" or isinstance(action, tuple):
                epochs = self.lesson.play if action == "play" else action[1]
                every = self.lesson.print_every or epochs
                done = 0
                while done < epochs and not self.live.stopped:
                    chunk = min(every, epochs - done)
                    self.live.advance(chunk * self.live.trainer.steps_per_epoch)
                    done += chunk
                    if self.lesson.print_every:
                        rows.append(self.row(k))
        if not rows or rows[-1]["epoch"] != self.live.trainer.epoch or step.weights is not None:
            rows.append(self.row(k))
        return rows

    def row(self, k):
        live = self.live
        train, test = live.evaluate()
        row = {"lesson step": k, "epoch": live.trainer.epoch, "train loss": train["loss"],
               "test loss": test.get("loss", np.nan)}
        if "accuracy" in train:
            row.update({"train accuracy": train["accuracy"], "test accuracy": test.get("accuracy", np.nan),
                        "test error rate": 1.0 - test.get("accuracy", np.nan)})
        if self.lesson.page == "landscape":
            row["sharpness"] = sharpness(live)
        row["status"] = live.status
        if live.message:
            row["note"] = live.message
        return row


def sharpness(live, span=SHARPNESS_SPAN, directions=8, seed=0):
    """How much the training loss rises within ±span along filter-normalised random directions (Li et al.
    2018), at most along each, averaged over ``directions`` of them: small for a flat minimum, large for a
    sharp one."""
    from lab.landscape import loss_slice, random_directions

    m = live.model
    rises = []
    for d in random_directions(m, seed=seed, count=directions):
        _, losses = loss_slice(m, live.X_train, live.split.y_train, d, span=span, resolution=21)
        rises.append(np.max(losses) - losses[len(losses) // 2])
    return float(np.mean(rises))
