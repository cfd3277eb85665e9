"""The training lab's engine and teaching objects (no Panel here).

    >>> from lab import MLP, datasets, optimizers
"""

from lab import optimizers, regularizers, schedules
from lab.model import MLP
from lab.training import Trainer

__all__ = ["MLP", "Trainer", "optimizers", "regularizers", "schedules"]
