"""A Trainer keeps the whole state of a training run between fused kernel calls.

The state is explicit arrays (parameters live in the model; optimizer buffers, sample order, counters,
random stream, early-stopping best), so a UI thread can call ``run(k)`` once per frame and a notebook
can call it in a loop, with the same results for the same seed.
"""

import numpy as np

from kernels import codes as C
from lab.engine import optimizers, schedules
from lab.engine.regularizers import Regularization

STATUS = {C.RUNNING: "running", C.DIVERGED: "diverged", C.EARLY_STOPPED: "early_stopped"}


def make_optimizer(optimizer, learning_rate=None, schedule=None, hyperparameters=None):
    """An optimizer object from a name or object, with optional overrides."""
    hyperparameters = dict(hyperparameters or {})
    if learning_rate is not None:
        hyperparameters["learning_rate"] = learning_rate
    if isinstance(optimizer, optimizers.Optimizer):
        opt = optimizer
        if hyperparameters:
            opt = opt.__class__(**{**opt.param.values(), **hyperparameters})
    else:
        opt = optimizers.get(optimizer, **hyperparameters)
    if schedule is not None:
        opt.schedule = schedules.get(schedule)
    return opt


class Trainer:
    """Training state for ``model`` on (X, T); ``run(k)`` advances k minibatch steps in one kernel call.

    X, T must already be checked by the model (``model.check_inputs``/``check_targets``).
    validation: (X_val, y_val) or None; needed for early stopping.
    symmetry_mask / image_side describe the data set for augmentation (see lab.datasets).
    divergence_factor: stop as diverged when an epoch's mean loss exceeds max(f L0, L0 + 1), L0 the
    starting loss (None or 0: stop only on NaN/inf).
    """

    def __init__(self, model, X, T, optimizer, batch_size=32, regularization=None, validation=None,
                 seed=0, symmetry_mask=0, image_side=0, shuffle=True, divergence_factor=4.0):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.X, self.T = X, T
        self._optimizer = optimizer
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.regularization = regularization or Regularization()
        self.symmetry_mask, self.image_side = symmetry_mask, image_side
        self.reg = self.regularization.pack(symmetry_mask, image_side)
        self.keep = self.regularization.keep_vector(model.sizes)
        if validation is not None:
            Xv = model.check_inputs(validation[0])
            self.validation = (Xv, model.check_targets(validation[1], Xv.shape[0]))
        else:
            if self.regularization.patience > 0:
                raise ValueError("early stopping (patience > 0) needs validation data or validation_split")
            self.validation = None
        n, P = X.shape[0], model.n_params
        self.perm = np.arange(n, dtype=np.int64)
        self.counters = np.zeros(C.N_COUNTERS, np.int64)
        self.opt_state = np.zeros((C.N_OPT_STATE, P), model.dtype)
        self.rng = np.array([np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]], np.uint64)
        self.best_params = model.params.copy()
        self.scores = np.zeros(C.N_SCORES)
        self.scores[C.SC_BEST] = np.inf
        # a run that blows up without overflowing (saturated units, huge logits) also counts as diverged:
        # an epoch whose mean loss exceeds max(f * L0, L0 + 1), L0 being the starting training loss
        self.initial_loss = model.evaluate(X, T)["loss"] if divergence_factor else 0.0
        self.loss_limit = (max(divergence_factor * self.initial_loss, self.initial_loss + 1.0)
                           if divergence_factor else 0.0)
        empty_X = np.zeros((0, X.shape[1]), model.dtype)
        empty_T = np.zeros((0, T.shape[1]), model.dtype)
        self._val = self.validation if self.validation is not None else (empty_X, empty_T)
        self._buffer = np.empty(0)

    @property
    def optimizer(self):
        return self._optimizer

    @optimizer.setter
    def optimizer(self, optimizer):
        """Swapping in another kind of optimizer keeps the weights and starts its state afresh (zero
        buffers, bias correction from step 1); a changed hyperparameter of the same one keeps its state."""
        if type(optimizer) is not type(self._optimizer):
            self.opt_state[...] = 0.0
            self.counters[C.C_OPT_STEP] = 0
        self._optimizer = optimizer

    @property
    def best_epoch(self):
        """The epoch whose weights early stopping kept."""
        return int(self.counters[C.C_BEST_EPOCH])

    @property
    def steps_per_epoch(self):
        return -(-self.X.shape[0] // min(self.batch_size, self.X.shape[0]))

    @property
    def steps_left_in_epoch(self):
        """Minibatch steps until the current epoch ends."""
        batch = min(self.batch_size, self.X.shape[0])
        return -(-(self.X.shape[0] - int(self.counters[C.C_POS])) // batch)

    @property
    def epoch(self):
        return int(self.counters[C.C_EPOCH])

    @property
    def step(self):
        return int(self.counters[C.C_STEP])

    @property
    def status(self):
        return STATUS[int(self.counters[C.C_STATUS])]

    @property
    def learning_rate(self):
        return self.optimizer.learning_rate_at(self.epoch)

    def run(self, n_steps):
        """Runs up to n_steps minibatch steps; returns the per-step minibatch losses that ran."""
        n_steps = int(n_steps)
        if self._buffer.size < n_steps:
            self._buffer = np.empty(n_steps)
        # settings are read on every call, so sliders moved while training take effect at once
        self.reg = self.regularization.pack(self.symmetry_mask, self.image_side)
        self.reg[C.R_LOSS_LIMIT] = self.loss_limit
        self.keep = self.regularization.keep_vector(self.model.sizes)
        opt = self.optimizer
        sched = opt.schedule or schedules.Constant()
        m = self.model
        done = m._kernels.train_steps(
            m.params, m._sizes, m._acts, m._loss, m._features, self.X, self.T, self.perm,
            self.counters, self.batch_size, n_steps, self.shuffle, opt.code, opt.hyper(), float(opt.learning_rate),
            self.opt_state, sched.code, sched.hyper(), self.reg, self.keep, self.rng,
            self._val[0], self._val[1], self.best_params, self.scores, self._buffer)
        return self._buffer[:done].copy()
