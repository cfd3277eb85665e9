"""A Trainer keeps the whole state of a training run between fused kernel calls.

The state is explicit arrays (parameters live in the model; optimizer buffers, sample order, counters,
random stream, early-stopping best), so a UI thread can call ``run(k)`` once per frame and a notebook
can call it in a loop, with the same results for the same seed: one call of k + m steps equals a call of
k and one of m, bit for bit.

The run's settings (batch size, optimizer and its hyperparameters, schedule, regularizers) travel to the
kernel as one float64 vector, packed once and packed again only when a setting changes (param watchers
mark it stale), so a kernel call costs a few microseconds of Python rather than a walk over every
setting. Sliders moved while training still take effect at the next call.
"""

import weakref

import numpy as np

from kernels import codes as C
from lab.engine import optimizers, schedules
from lab.engine.regularizers import Regularization

REFERENCE_ROWS = 512  # rows of the training data that estimate the starting loss (divergence limit)
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


def _watch_settings(trainer, objects):
    """Param watchers on every setting of ``objects`` that mark the trainer's packed settings stale. They
    hold the trainer weakly and remove themselves once it is gone (a live page builds a new trainer on
    every reset, with the same settings objects); returns the [(object, watcher)] to unwatch."""
    ref = weakref.ref(trainer)
    watched = []

    def changed(*events):
        current = ref()
        if current is None:
            for obj, watcher in watched:
                obj.param.unwatch(watcher)
            watched.clear()
            return
        current._settings = None
        if any(e.name == "schedule" for e in events):
            current._rewatch()

    for obj in objects:
        if obj is not None:
            watched.append((obj, obj.param.watch(changed, [p for p in obj.param if p != "name"])))
    return watched


class Trainer:
    """Training state for ``model`` on (X, T); ``run(k)`` advances k minibatch steps in one kernel call.

    X, T must already be checked by the model (``model.check_inputs``/``check_targets``).
    validation: (X_val, y_val) or None; needed for early stopping. With it, every epoch's history row has
    the validation loss and accuracy.
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
        self._settings = None
        self._watchers = []
        self._optimizer = optimizer
        self._batch_size = int(batch_size)
        self._shuffle = bool(shuffle)
        self._regularization = regularization or Regularization()
        self.symmetry_mask, self.image_side = symmetry_mask, image_side
        self._regularization.pack(symmetry_mask, image_side)  # bad combinations fail here, not mid-run
        self._regularization.keep_vector(model.sizes)
        if validation is not None:
            Xv = model.check_inputs(validation[0])
            self.validation = (Xv, model.check_targets(validation[1], Xv.shape[0]))
        else:
            if self._regularization.patience > 0:
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
        # an epoch whose mean loss exceeds max(f * L0, L0 + 1), L0 being the starting training loss,
        # estimated on at most REFERENCE_ROWS evenly spaced rows (a full pass cost a third of an epoch)
        stride = -(-X.shape[0] // REFERENCE_ROWS)
        self.initial_loss = model.evaluate(X[::stride], T[::stride])["loss"] if divergence_factor else 0.0
        self.loss_limit = (max(divergence_factor * self.initial_loss, self.initial_loss + 1.0)
                           if divergence_factor else 0.0)
        empty_X = np.zeros((0, X.shape[1]), model.dtype)
        empty_T = np.zeros((0, T.shape[1]), model.dtype)
        self._val = self.validation if self.validation is not None else (empty_X, empty_T)
        self._buffer = np.empty(0)
        self._history = np.empty((0, C.N_HISTORY))
        self.rows = self._history  # the history rows of the last call (see run)
        self._rewatch()

    def _rewatch(self):
        for obj, watcher in self._watchers:
            obj.param.unwatch(watcher)
        self._watchers = _watch_settings(self, (self._regularization, self._optimizer,
                                                self._optimizer.schedule))
        self._settings = None

    @property
    def optimizer(self):
        return self._optimizer

    @optimizer.setter
    def optimizer(self, optimizer):
        """Swapping in another kind of optimizer keeps the weights and starts its state afresh (zero
        buffers, bias correction from step 1); a changed hyperparameter of the same one keeps its state."""
        if optimizer is self._optimizer:
            return
        if type(optimizer) is not type(self._optimizer):
            self.opt_state[...] = 0.0
            self.counters[C.C_OPT_STEP] = 0
        self._optimizer = optimizer
        self._rewatch()

    @property
    def regularization(self):
        return self._regularization

    @regularization.setter
    def regularization(self, regularization):
        regularization.pack(self.symmetry_mask, self.image_side)
        regularization.keep_vector(self.model.sizes)
        self._regularization = regularization
        self._rewatch()

    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        if int(value) < 1:
            raise ValueError(f"batch_size must be at least 1, got {value}")
        if int(value) != self._batch_size:  # (the live page sets it before every call)
            self._batch_size = int(value)
            self._settings = None

    @property
    def shuffle(self):
        return self._shuffle

    @shuffle.setter
    def shuffle(self, value):
        if bool(value) != self._shuffle:
            self._shuffle = bool(value)
            self._settings = None

    def pack(self):
        """The run's settings as one float64 vector in the kernel's layout (kernels.codes.P_*); kept until a
        setting changes."""
        if self._settings is None:
            opt = self._optimizer
            sched = opt.schedule or schedules.Constant()
            reg = self._regularization.pack(self.symmetry_mask, self.image_side)
            reg[C.R_LOSS_LIMIT] = self.loss_limit
            keep = self._regularization.keep_vector(self.model.sizes)
            settings = np.zeros(C.P_KEEP + keep.size)
            settings[C.P_BATCH] = self._batch_size
            settings[C.P_SHUFFLE] = float(self._shuffle)
            settings[C.P_OPT] = opt.code
            settings[C.P_LR] = float(opt.learning_rate)
            settings[C.P_SCHED] = sched.code
            settings[C.P_HYPER:C.P_HYPER + C.N_OPT_HYPER] = opt.hyper()
            settings[C.P_SCHED_HYPER:C.P_SCHED_HYPER + C.N_SCHED_HYPER] = sched.hyper()
            settings[C.P_REG:C.P_REG + C.N_REG] = reg
            settings[C.P_KEEP:] = keep
            self._settings = settings
        return self._settings

    @property
    def best_epoch(self):
        """The epoch whose weights early stopping kept."""
        return int(self.counters[C.C_BEST_EPOCH])

    @property
    def steps_per_epoch(self):
        return -(-self.X.shape[0] // min(self._batch_size, self.X.shape[0]))

    @property
    def steps_left_in_epoch(self):
        """Minibatch steps until the current epoch ends."""
        batch = min(self._batch_size, self.X.shape[0])
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
        """Runs up to n_steps minibatch steps in one kernel call; returns the per-step minibatch losses that
        ran. The epochs that ended in the call are in ``self.rows``: one row each (kernels.codes.HI_*:
        loss, training accuracy, validation loss and accuracy, learning rate, epoch), written by the
        kernel."""
        n_steps = int(n_steps)
        if self._buffer.size < n_steps:
            self._buffer = np.empty(n_steps)
        rows = n_steps // self.steps_per_epoch + 2
        if self._history.shape[0] < rows:
            self._history = np.empty((rows, C.N_HISTORY))
        m = self.model
        done = m._kernels.train_steps(
            m.params, m._sizes, m._acts, m._loss, m._features, self.X, self.T, self.perm, self.counters,
            n_steps, self.pack(), self.opt_state, self.rng, self._val[0], self._val[1], self.best_params,
            self.scores, self._buffer, self._history)
        self.rows = self._history[:self.counters[C.C_ROWS]].copy()
        return self._buffer[:done].copy()

    def run_epochs(self, n_epochs):
        """Runs to the end of the next n_epochs epochs (fewer if the run stops) in one kernel call; returns
        their history rows (see run)."""
        self.run(self.steps_left_in_epoch + (int(n_epochs) - 1) * self.steps_per_epoch)
        return self.rows
