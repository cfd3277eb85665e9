"""Callbacks for ``MLP.fit``, Keras style, and the progress bar.

``fit`` calls the training kernel in chunks of epochs: all of them in one call when nothing needs to look
in between, otherwise chunks that each last at least ``CHUNK_SECONDS``, so callbacks and the progress bar
cost a few percent of training at most. After each chunk every callback hears about every epoch of the
chunk, in order: ``on_epoch_end(epoch, history)`` with the history up to and including that epoch. The
model's weights are then those at the end of the chunk. A callback that needs the weights at each
epoch's end, or changes something before the next epoch, sets ``per_epoch = True``: then every chunk is
one epoch (a kernel call each). Returning True from ``on_epoch_end`` stops training after the chunk.

The built-ins below keep exact per-epoch semantics without that cost, because the kernel does their work:
``EarlyStopping`` is the kernel's early stopping on the validation loss, ``LearningRateScheduler`` with a
schedule name or object is the kernel's schedule, and ``ModelCheckpoint`` keeps the weights the kernel
records at the best validation loss. ``LearningRateScheduler`` with a Python function runs per epoch.
"""

import time

import numpy as np

CHUNK_SECONDS = 0.05  # the least time of one kernel call between callbacks


class Callback:
    """Base class: override what you need. ``model`` is set before training starts."""

    per_epoch = False
    looks = True  # False for the built-ins whose work the kernel does: they need no chunks
    model = None

    def configure(self, settings):
        """Before training: may change fit's settings dict (optimizer, schedule, regularization, ...)."""

    def on_train_begin(self, history):
        pass

    def on_epoch_end(self, epoch, history):
        """epoch: 0-based; history: the History so far. Return True to stop training."""

    def on_chunk_end(self, history):
        """After each kernel call, once every epoch of it was reported (the progress bar redraws here)."""

    def on_train_end(self, history):
        pass


class EarlyStopping(Callback):
    """Stops when the validation loss has not improved for ``patience`` epochs and restores the weights of
    the best epoch (Keras's ``restore_best_weights=True``). Needs validation data; runs in the kernel."""

    looks = False

    def __init__(self, patience=5, monitor="val_loss"):
        if monitor != "val_loss":
            raise ValueError("EarlyStopping monitors 'val_loss' (the kernel's early stopping); "
                             f"got monitor={monitor!r}")
        if int(patience) < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience = int(patience)

    def configure(self, settings):
        reg = settings["regularization"]
        reg.patience = self.patience


class LearningRateScheduler(Callback):
    """A learning-rate schedule. ``schedule``: a name or lab.schedules object (runs in the kernel, exact
    and free), or a function ``f(epoch, lr) -> lr`` as in Keras (called before every epoch, so training
    runs one kernel call per epoch)."""

    def __init__(self, schedule, **settings):
        from lab.engine import schedules

        self.function = None
        self.looks = False
        if callable(schedule) and not isinstance(schedule, schedules.Schedule):
            self.function = schedule
            self.per_epoch = self.looks = True
        else:
            self.schedule = schedules.get(schedule, **settings) if isinstance(schedule, str) else schedule
        self.optimizer = None

    def configure(self, settings):
        if self.function is None:
            settings["schedule"] = self.schedule

    def on_train_begin(self, history):
        self._set(0)

    def on_epoch_end(self, epoch, history):
        self._set(epoch + 1)

    def _set(self, epoch):
        if self.function is not None and self.optimizer is not None:
            lr = float(self.function(epoch, float(self.optimizer.learning_rate)))
            if not np.isfinite(lr) or lr <= 0.0:
                raise ValueError(f"the learning-rate function returned {lr} for epoch {epoch}; "
                                 "it must be a positive number")
            self.optimizer.learning_rate = lr


class ModelCheckpoint(Callback):
    """Keeps the weights of the epoch with the lowest validation loss (``best_weights``, a get_weights
    list) and, with a ``path``, saves that model there (.npz, or .json) at the end of training."""

    looks = False

    def __init__(self, path=None):
        self.path = path
        self.best_weights = None
        self.best_epoch = None

    def on_train_end(self, history):
        trainer = history.trainer
        if trainer is None or trainer.validation is None:
            raise ValueError("ModelCheckpoint keeps the best validation loss: give validation_data or "
                             "validation_split")
        current = self.model.params.copy()
        self.model.params[:] = trainer.best_params
        self.best_weights = self.model.get_weights()
        self.best_epoch = trainer.best_epoch
        if self.path is not None:
            if str(self.path).endswith(".json"):
                with open(self.path, "w") as f:
                    f.write(self.model.to_json())
            else:
                self.model.save(self.path)
        self.model.params[:] = current


class ProgressBar(Callback):
    """fit(verbose=1): a tqdm bar over the epochs (tqdm.auto: a widget in Jupyter, text in a terminal)
    with the latest loss and validation loss."""

    def __init__(self, epochs, file=None):
        self.epochs = epochs
        self.file = file
        self.bar = None

    def on_train_begin(self, history):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs, unit="epoch", file=self.file, dynamic_ncols=True)

    def on_chunk_end(self, history):
        done = len(history["loss"])
        shown = {"loss": f"{history['loss'][-1]:.4f}"}
        if "val_loss" in history:
            shown["val_loss"] = f"{history['val_loss'][-1]:.4f}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(done - self.bar.n)

    def on_train_end(self, history):
        if self.bar is not None:
            self.bar.close()


def run(model, trainer, epochs, callbacks, history):
    """Trains ``epochs`` epochs in as few kernel calls as ``callbacks`` allow (see the module docstring);
    appends every epoch's row to ``history``. Returns the number of kernel calls."""
    for cb in callbacks:
        cb.model = model
        if isinstance(cb, LearningRateScheduler):
            cb.optimizer = trainer.optimizer
        cb.on_train_begin(history)
    per_epoch = any(cb.per_epoch for cb in callbacks)
    looking = any(cb.looks for cb in callbacks)
    done = calls = 0
    chunk = 1 if looking else epochs
    while done < epochs:
        n = min(chunk, epochs - done)
        start = time.perf_counter()
        rows = trainer.run_epochs(n)
        seconds = time.perf_counter() - start
        calls += 1
        stop = trainer.status != "running"
        for row in rows:
            history.add_row(row)
            for cb in callbacks:
                if cb.on_epoch_end(len(history["loss"]) - 1, history):
                    stop = True
        for cb in callbacks:
            cb.on_chunk_end(history)
        done += len(rows)
        if stop or not len(rows):
            break
        if looking and not per_epoch:  # the next chunk lasts about CHUNK_SECONDS
            per = seconds / len(rows)
            chunk = max(1, int(np.ceil(CHUNK_SECONDS / max(per, 1e-9))))
    return calls
