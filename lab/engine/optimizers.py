"""Optimizers as data: a param config per optimizer, one compiled update shared with the trainer.

Each update follows PyTorch's ``torch.optim`` definitions (``g`` is the gradient, ``lr`` the possibly
scheduled learning rate, ``t`` the 1-based update count):

* ``sgd``       w -= lr g
* ``momentum``  buf = mu buf + g; w -= lr buf. For a constant lr this is the textbook
  v <- mu v - lr g, w <- w + v with v = -lr buf (PyTorch keeps lr out of the buffer, so a schedule
  changes the step at once rather than through the velocity).
* ``nesterov``  buf = mu buf + g; w -= lr (g + mu buf)
* ``adagrad``   cache += g^2; w -= lr g / (sqrt(cache) + eps), eps = 1e-10
* ``rmsprop``   cache = rho cache + (1 - rho) g^2; with momentum mu > 0: buf = mu buf + g / (sqrt(cache)
  + eps), w -= lr buf; without: w -= lr g / (sqrt(cache) + eps). TensorFlow's
  ``RMSProp(decay=0.99, momentum=0.9)`` is ``get("rmsprop", decay=0.99, momentum=0.9)``.
* ``adam``      m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr m_hat / (sqrt(v_hat) + eps)
* ``adamw``     Adam plus decoupled weight decay (Loshchilov & Hutter): w -= lr wd w, besides Adam's step
* ``lion``      c = b1 m + (1-b1) g; w -= lr (sign(c) + wd w); m = b2 m + (1-b2) g (Chen et al. 2023;
  defaults b1 0.9, b2 0.99, and a learning rate 3-10x smaller than Adam's)

The per-element math is ``kernels.ops.update``. Adding an optimizer: a branch there and a code in
``kernels.codes``, a param class here with one registry line, and rows in the tests.

    >>> opt = get("rmsprop", learning_rate=0.001, decay=0.99, momentum=0.9)
    >>> state = opt.init(x)
    >>> x, state = opt.step(x, grad, state)
"""

from dataclasses import dataclass, field

import numpy as np
import param

from kernels import codes as C
from kernels.cpu import opt_update
from lab.engine.schedules import Schedule
from lab.settings import short


@dataclass
class OptimizerState:
    """Explicit optimizer state: buffers (2, n) shaped like the parameters, and the update count."""

    buffers: np.ndarray
    step: int = 0
    names: dict = field(default_factory=dict)

    @property
    def arrays(self):
        """The named state arrays of this optimizer (velocity, cache, moments), for plotting."""
        return {name: self.buffers[row] for name, row in self.names.items()}

    def __getattr__(self, name):
        names = self.__dict__.get("names", {})
        if name in names:
            return self.buffers[names[name]]
        raise AttributeError(name)

    def copy(self):
        return OptimizerState(self.buffers.copy(), self.step, dict(self.names))


class Optimizer(param.Parameterized):
    """Base class: subclasses set ``code`` and ``state_names`` and declare their hyperparameters."""

    code = None
    state_names = {}

    learning_rate = param.Number(0.01, bounds=(0.0, 100.0), inclusive_bounds=(False, True),
                                 softbounds=(1e-4, 1.0), step=1e-4,
                                 doc="Step size eta (the schedule's starting value when one is set).")
    schedule = param.ClassSelector(class_=Schedule, default=None, allow_None=True,
                                   doc="Learning-rate schedule over epochs; None keeps eta constant.")

    def hyper(self):
        """Hyperparameter vector for the kernels (layout: kernels.codes.H_*)."""
        h = np.zeros(C.N_OPT_HYPER)
        h[C.H_MOMENTUM] = getattr(self, "momentum", 0.0)
        h[C.H_DECAY] = getattr(self, "decay", 0.0)
        h[C.H_EPS] = getattr(self, "eps", 0.0)
        h[C.H_BETA1] = getattr(self, "beta1", 0.0)
        h[C.H_BETA2] = getattr(self, "beta2", 0.0)
        h[C.H_WEIGHT_DECAY] = getattr(self, "weight_decay", 0.0)
        return h

    def learning_rate_at(self, epoch):
        """The scheduled learning rate at an epoch, starting from this optimizer's learning rate."""
        if self.schedule is None:
            return float(self.learning_rate)
        return self.schedule.at(epoch, self.learning_rate)

    def init(self, x):
        """Zero state for a parameter vector x (1-D)."""
        x = np.asarray(x)
        if x.ndim != 1:
            raise ValueError(f"parameters must be a 1-D vector, got shape {x.shape}")
        return OptimizerState(np.zeros((C.N_OPT_STATE, x.size), x.dtype), 0, dict(self.state_names))

    def step(self, x, grad, state, epoch=None):
        """One update; returns new (x, state), leaving the inputs unchanged.

        The schedule sees ``epoch`` (default: the number of updates so far, i.e. full-batch steps).
        """
        x = np.array(x, copy=True)
        grad = np.asarray(grad, dtype=x.dtype)
        if grad.shape != x.shape:
            raise ValueError(f"gradient shape {grad.shape} does not match parameters {x.shape}")
        state = state.copy()
        lr = self.learning_rate_at(state.step if epoch is None else epoch)
        state.step += 1
        opt_update(self.code, self.hyper(), lr, state.step, x, grad, state.buffers)
        return x, state


_EPS_DOC = "Small constant added to the denominator to avoid division by zero."


class SGD(Optimizer):
    """Plain (stochastic) gradient descent: w -= lr g."""

    code = C.SGD


class Momentum(Optimizer):
    """Heavy-ball momentum (PyTorch form): buf = mu buf + g; w -= lr buf."""

    code = C.MOMENTUM
    state_names = {"velocity": 0}
    momentum = param.Number(0.9, bounds=(0.0, 1.0), inclusive_bounds=(True, False), step=0.01,
                            doc="Momentum mu: fraction of the previous velocity kept (0.9-0.99 typical).")


class Nesterov(Momentum):
    """Nesterov momentum (PyTorch form): buf = mu buf + g; w -= lr (g + mu buf)."""

    code = C.NESTEROV


class AdaGrad(Optimizer):
    """AdaGrad: cache += g^2; w -= lr g / (sqrt(cache) + eps)."""

    code = C.ADAGRAD
    state_names = {"cache": 1}
    eps = param.Number(1e-10, bounds=(0.0, 1.0), inclusive_bounds=(False, True), doc=_EPS_DOC)


class RMSprop(Optimizer):
    """RMSprop: cache = rho cache + (1 - rho) g^2; w -= lr g / (sqrt(cache) + eps), optional momentum."""

    code = C.RMSPROP
    state_names = {"cache": 1, "velocity": 0}
    decay = param.Number(0.99, bounds=(0.0, 1.0), inclusive_bounds=(True, False), step=0.001,
                         doc="Decay rho of the running average of squared gradients (PyTorch's alpha).")
    momentum = param.Number(0.0, bounds=(0.0, 1.0), inclusive_bounds=(True, False), step=0.01,
                            doc="Momentum mu applied to the rescaled step (0 = none).")
    eps = param.Number(1e-8, bounds=(0.0, 1.0), inclusive_bounds=(False, True), doc=_EPS_DOC)


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba; PyTorch's eps placement)."""

    code = C.ADAM
    state_names = {"first_moment": 0, "second_moment": 1}
    learning_rate = param.Number(0.001, bounds=(0.0, 100.0), inclusive_bounds=(False, True),
                                 softbounds=(1e-4, 1.0), step=1e-4, doc="Step size eta.")
    beta1 = param.Number(0.9, bounds=(0.0, 1.0), inclusive_bounds=(True, False), step=0.001,
                         doc="Decay of the first-moment (mean gradient) estimate.")
    beta2 = param.Number(0.999, bounds=(0.0, 1.0), inclusive_bounds=(True, False), step=0.0001,
                         doc="Decay of the second-moment (squared gradient) estimate.")
    eps = param.Number(1e-8, bounds=(0.0, 1.0), inclusive_bounds=(False, True), doc=_EPS_DOC)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's AdamW)."""

    code = C.ADAMW
    weight_decay = param.Number(0.01, bounds=(0.0, 10.0), softbounds=(0.0, 0.5), step=0.001,
                                doc="Decoupled weight decay wd: each step also shrinks w by lr * wd * w.")


class Lion(Optimizer):
    """Lion (Chen et al. 2023): the sign of an interpolated momentum, so every step has size lr."""

    code = C.LION
    state_names = {"momentum": 0}
    learning_rate = param.Number(1e-4, bounds=(0.0, 100.0), inclusive_bounds=(False, True),
                                 softbounds=(1e-5, 1.0), step=1e-5,
                                 doc="Step size eta: each coordinate moves by exactly eta (3-10x below Adam's).")
    beta1 = param.Number(0.9, bounds=(0.0, 1.0), inclusive_bounds=(True, False), step=0.001,
                         doc="Interpolation between momentum and gradient that sets the step's sign.")
    beta2 = param.Number(0.99, bounds=(0.0, 1.0), inclusive_bounds=(True, False), step=0.001,
                         doc="Decay of the momentum that is carried to the next step.")
    weight_decay = param.Number(0.0, bounds=(0.0, 10.0), softbounds=(0.0, 1.0), step=0.001,
                                doc="Decoupled weight decay wd (w -= lr * wd * w).")


REGISTRY = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": AdaGrad,
            "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "lion": Lion}


def names():
    """Names accepted by get()."""
    return list(REGISTRY)


def get(name, **hyperparameters):
    """An optimizer by name with its hyperparameters; ValueError for unknown names or bad values."""
    if isinstance(name, Optimizer):
        return name
    cls = REGISTRY.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {short(name)!r}; choose one of {names()}")
    unknown = set(hyperparameters) - set(cls.param)
    if unknown:
        raise ValueError(f"{name} has no hyperparameter {sorted(unknown)}; it takes "
                         f"{[p for p in cls.param if p != 'name']}")
    return cls(**hyperparameters)
