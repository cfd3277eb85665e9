"""Learning-rate schedules: plain ``t -> learning_rate`` functions over epochs, with param configs.

``t`` counts epochs (full passes over the training set); on a 2-D surface one step is one epoch.
Attached to an optimizer, a schedule starts from the optimizer's learning rate.

* ``constant``     eta0
* ``step``         eta0 * gamma ** floor(t / every)      (e.g. halve every 10 epochs)
* ``inverse``      eta0 / (1 + k t)
* ``exponential``  eta0 * exp(-k t)
* ``cosine``       eta_min + (eta0 - eta_min) (1 + cos(pi min(t, T) / T)) / 2
"""

import numpy as np
import param

from kernels import codes as C
from kernels.cpu import lr_at


class Schedule(param.Parameterized):
    code = C.CONSTANT

    learning_rate = param.Number(0.01, bounds=(0.0, 100.0), inclusive_bounds=(False, True),
                                 softbounds=(1e-4, 1.0), doc="Starting learning rate eta0.")

    def hyper(self):
        h = np.zeros(C.N_SCHED_HYPER)
        h[C.S_GAMMA] = getattr(self, "gamma", 1.0)
        h[C.S_EVERY] = getattr(self, "every", 1)
        h[C.S_RATE] = getattr(self, "rate", 0.0)
        h[C.S_PERIOD] = getattr(self, "period", 1)
        h[C.S_MIN] = getattr(self, "minimum", 0.0)
        return h

    def at(self, t, learning_rate):
        """The learning rate at epoch t starting from ``learning_rate``."""
        return lr_at(self.code, self.hyper(), float(learning_rate), float(t))

    def __call__(self, t):
        return self.at(t, self.learning_rate)

    def curve(self, epochs):
        """Learning rates at epochs 0 .. epochs-1, for plotting."""
        hyper = self.hyper()
        return np.array([lr_at(self.code, hyper, float(self.learning_rate), float(t))
                         for t in range(int(epochs))])


class Constant(Schedule):
    """eta0 at every epoch."""


class StepDecay(Schedule):
    """Multiply by gamma every ``every`` epochs."""

    code = C.STEP
    gamma = param.Number(0.5, bounds=(0.0, 1.0), inclusive_bounds=(False, True), step=0.01,
                         doc="Factor applied at each drop (0.5 halves the rate).")
    every = param.Integer(10, bounds=(1, 100000), doc="Epochs between drops.")


class InverseDecay(Schedule):
    """eta0 / (1 + k t)."""

    code = C.INVERSE
    rate = param.Number(0.1, bounds=(0.0, 100.0), step=0.01, doc="Decay rate k per epoch.")


class ExponentialDecay(Schedule):
    """eta0 exp(-k t)."""

    code = C.EXPONENTIAL
    rate = param.Number(0.05, bounds=(0.0, 100.0), step=0.01, doc="Decay rate k per epoch.")


class Cosine(Schedule):
    """Cosine annealing from eta0 to a floor over ``period`` epochs, then flat."""

    code = C.COSINE
    period = param.Integer(100, bounds=(1, 1000000), doc="Epochs from eta0 down to the floor.")
    minimum = param.Number(0.0, bounds=(0.0, 100.0), doc="Floor eta_min reached after the period.")


REGISTRY = {"constant": Constant, "step": StepDecay, "inverse": InverseDecay,
            "exponential": ExponentialDecay, "cosine": Cosine}


def names():
    return list(REGISTRY)


def name_of(schedule):
    """The registry name of a schedule object ('constant' for None)."""
    if schedule is None:
        return "constant"
    return next(name for name, cls in REGISTRY.items() if type(schedule) is cls)


def get(name, **settings):
    """A schedule by name; ValueError for unknown names, settings or out-of-bounds values."""
    if isinstance(name, Schedule):
        return name
    cls = REGISTRY.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown schedule {name!r}; choose one of {names()}")
    unknown = set(settings) - set(cls.param)
    if unknown:
        raise ValueError(f"schedule {name!r} has no setting {sorted(unknown)}")
    return cls(**settings)
