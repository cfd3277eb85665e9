"""A lesson is data: a slug, a title, the page it runs on, the settings it loads, and numbered steps.

Settings are written as a page's link writes them (``{"dataset": "xor", "opt.learning_rate": 0.1}``),
so a lesson step and a link are the same thing: step K of a lesson is its settings with the changes of
steps 1..K applied in order (a change to None takes the setting away). Actions (``"play"``,
``"pause"``, ``"reset"``, ``("step", n)``) are what arriving at a step does besides changing settings.
``check`` builds every step's settings through the page's own param configuration, so a renamed
setting fails a test, not a class.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np

PAGES = ("playground", "race", "landscape")
ACTIONS = ("play", "pause", "reset", "step")


@dataclass(frozen=True)
class Step:
    text: str                                   # Markdown: what to do, what to notice, why
    settings: dict = field(default_factory=dict)
    actions: tuple = ()                         # "play", "pause", "reset" or ("step", n)
    weights: tuple = None                       # a hand-set model [W0, b0, W1, b1, ...] loaded at this step
    trace: tuple = None                         # an input whose forward pass the step shows, e.g. (0.3, 0.1)


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    page: str
    summary: str
    settings: dict
    steps: tuple
    play: int = 50          # what "play" stands for without a browser: epochs (playground) or steps (race)
    print_every: int = 0    # the terminal table's row period while playing (epochs; 0: one row per step)

    def __post_init__(self):
        if self.page not in PAGES:
            raise ValueError(f"lesson {self.slug!r}: unknown page {self.page!r}; choose one of {list(PAGES)}")
        if not self.steps:
            raise ValueError(f"lesson {self.slug!r} has no steps")
        for i, step in enumerate(self.steps, start=1):
            for action in step.actions:
                name = action[0] if isinstance(action, tuple) else action
                if name not in ACTIONS or (name == "step") != isinstance(action, tuple):
                    raise ValueError(f"lesson {self.slug!r} step {i}: unknown action {action!r}")

    def __len__(self):
        return len(self.steps)

    def step(self, k):
        """Step k (1-based); ValueError naming the range otherwise."""
        return self.steps[self.check_step(k) - 1]

    def check_step(self, k):
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise ValueError(f"step must be a whole number from 1 to {len(self)}, got {str(k)[:40]!r}") from None
        if not 1 <= k <= len(self):
            raise ValueError(f"lesson {self.slug!r} has steps 1 to {len(self)}, not {k}")
        return k

    def query(self, k=1):
        """The page settings of step k, as link values (strings): the lesson's, then steps 1..k's changes."""
        k = self.check_step(k)
        out = dict(self.settings)
        for step in self.steps[:k]:
            for key, value in step.settings.items():
                if value is None:  # a setting the step takes away (the schedule's own, say)
                    out.pop(key, None)
                else:
                    out[key] = value
        return {key: link_value(value) for key, value in out.items()}

    def link(self, k=1, **extra):
        """The page address of step k (relative: ``?lesson=...&step=k``), with teacher-mode keys."""
        return "?" + urlencode({"lesson": self.slug, "step": k, **extra})


def link_value(value):
    if isinstance(value, (list, tuple)):
        return ",".join(link_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def weights_arrays(weights):
    return [np.asarray(w, dtype=np.float64) for w in weights]
