"""The training lab's engine and teaching objects (no Panel here).

    >>> from lab import MLP, datasets, optimizers

Wings: ``lab.engine`` (model, training, optimizers, schedules, regularizers, backend, warm-up),
``lab.data`` (generators, file loaders, the split), ``lab.race`` (2-D surfaces, formulas, the race and its
config); ``lab.landscape``, ``lab.playground`` and ``lab.live`` serve the pages. The names below are the
public API and keep their old import paths (``from lab import datasets`` and so on).
"""

from lab.data import datasets
from lab.engine import callbacks, optimizers, regularizers, schedules
from lab.engine.model import MLP
from lab.engine.training import Trainer
from lab.race import race, surfaces

__all__ = ["MLP", "Trainer", "callbacks", "datasets", "optimizers", "race", "regularizers", "schedules", "surfaces"]
