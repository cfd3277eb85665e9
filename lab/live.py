"""A training run for the pages (driven by a background thread) or for a notebook (by calling
``advance``). A frame is a plain dict of NumPy arrays that a view can render.

The thread trains at the run's own pace, ``steps_per_second`` of the config, whatever the page's frame
rate: a slow browser or a busy server never slows learning. It wakes when the page takes a frame (it
then runs the steps due since its last chunk, in one fused kernel call with the GIL released, and builds
the next frame) or after ``CHUNK_SECONDS`` without one, so frames cost nothing while nobody looks and a
run costs one wake-up per frame shown; ``stop`` ends it.
"""

import threading
import time

import numpy as np

from lab.engine.training import Trainer
from lab.playground import PlaygroundConfig, grid_points

GRID = 64          # decision-boundary resolution
NEURON_GRID = 16   # per-neuron heatmap resolution in the network diagram
MAX_CHECKPOINTS = 400
CHUNK_SECONDS = 0.25   # the longest a playing run trains without waking (it also wakes for each frame)
MAX_BACKLOG = 0.5      # seconds of steps a run may fall behind (a busy machine) before it lets them go


class LiveTraining:
    """One run of the playground. ``config``: a PlaygroundConfig; ``split``: data to reuse (e.g. an
    upload or the data of a run being compared); ``init_params``: start from these weights."""

    def __init__(self, config, split=None, init_params=None):
        self.config = config
        self.split = split if split is not None else config.make_data()
        self.model = config.make_model(self.split)
        if init_params is not None:
            if init_params.shape != self.model.params.shape:
                raise ValueError("the compared run needs the same architecture as the original")
            self.model.params[:] = init_params
        self.initial_params = self.model.params.copy()
        s, m = self.split, self.model
        self.X_train, self.X_test = m.check_inputs(s.X_train), m.check_inputs(s.X_test)
        self.T_train = m.check_targets(s.y_train, len(s.y_train))
        self.T_test = m.check_targets(s.y_test, len(s.y_test)) if len(s.y_test) else None
        reg = config.regularization
        validation = (s.X_test, s.y_test) if reg.patience > 0 and len(s.y_test) else None
        if reg.patience > 0 and validation is None:
            raise ValueError("early stopping needs a test split to validate on")
        self.trainer = Trainer(m, self.X_train, self.T_train, config.optimizer, batch_size=config.batch_size,
                               regularization=reg, validation=validation, seed=config.seed,
                               symmetry_mask=s.symmetry_mask, image_side=s.image_side)
        if s.is_2d:
            self.grid_x, self.grid_y, self.grid = grid_points(s.window, GRID)
        self.checkpoints = [self.initial_params.copy()]
        self.checkpoint_epochs = [0]
        self.message = ""
        self.history = {}
        self.frames_made = 0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._wanted = threading.Event()  # the page took the last frame and wants the next one
        self._wanted.set()
        self._thread = None
        # name -> f(frame) -> dict added to each frame, run in the training thread as the frame is built (a
        # page's view puts its display arrays there, so the server's event loop only sends them)
        self.prepare = {}
        self.latest = self.frame(np.empty(0))

    # ----- driving ---------------------------------------------------------------------------------
    @property
    def status(self):
        return self.trainer.status

    @property
    def running(self):
        return self._running.is_set()

    def advance(self, steps):
        """Runs ``steps`` minibatch steps (fewer at a stop) and returns the new frame."""
        with self._lock:
            self._train(steps)
            return self._publish()

    @property
    def stopped(self):
        """True once the run cannot go on: diverged, early stopped, or at its epoch limit."""
        cfg, tr = self.config, self.trainer
        return tr.status != "running" or bool(cfg.max_epochs and tr.epoch >= cfg.max_epochs)

    def _train(self, steps):
        """``steps`` minibatch steps in one kernel call (fewer at the epoch limit); no frame."""
        with self._lock:
            cfg, tr = self.config, self.trainer
            tr.optimizer = cfg.optimizer
            tr.batch_size = cfg.batch_size
            if self.stopped:
                return
            if cfg.max_epochs:
                left = tr.steps_left_in_epoch + (cfg.max_epochs - tr.epoch - 1) * tr.steps_per_epoch
                steps = max(1, min(steps, left))
            epoch_before = tr.epoch
            self._losses = tr.run(steps)
            if tr.epoch > epoch_before:
                self._checkpoint()
            self._update_message()

    def _publish(self):
        """A new frame of the current state becomes ``latest``."""
        with self._lock:
            frame = self.frame(getattr(self, "_losses", np.empty(0)))
            for prepare in list(self.prepare.values()):
                frame.update(prepare(frame))
            self.latest = frame
            self._record(self.latest)
            self.frames_made += 1
            return self.latest

    def _record(self, frame):
        h = self.history
        for key in ("epoch", "step", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
                    "learning_rate"):
            h.setdefault(key, []).append(frame[key])
        if len(h["epoch"]) > 20000:
            for key in h:
                h[key] = h[key][::2]

    def history_csv(self):
        """The recorded metrics (one row per frame) as CSV text."""
        keys = list(self.history)
        rows = [",".join(keys)]
        rows += [",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in values)
                 for values in zip(*(self.history[k] for k in keys))]
        return "\n".join(rows) + "\n"

    def advance_epochs(self, n, points=100):
        """``n`` epochs in one go (fewer at a stop), as a lesson's 'step n': one frame at the end, whose
        ``backfill`` lists up to ``points`` curve points (epoch, losses, accuracies, rate, gradient norms)
        from along the way, so the curves show the whole stretch and not one jump."""
        with self._lock:
            tr = self.trainer
            target = tr.epoch + int(n)
            chunk = max(1, -(-int(n) // points))
            rows = []
            while tr.epoch < target and not self.stopped:
                self._train(min(chunk, target - tr.epoch) * tr.steps_per_epoch)
                if tr.epoch < target and not self.stopped:
                    rows.append(self.curve_point())
                    self._record(rows[-1])
            frame = self._publish()
            frame["backfill"] = rows
            return frame

    def curve_point(self):
        """What the curves show of the current state (a frame without the grids and histograms)."""
        return self._metrics()[0]

    def _metrics(self):
        """(the curves' point, the full-batch gradient): what every frame and every backfilled row measures."""
        m, tr = self.model, self.trainer
        train, test = self.evaluate()
        _, grad = m.loss_and_grad_checked(self.X_train, self.T_train)
        point = {"epoch": tr.epoch, "step": tr.step, "learning_rate": tr.learning_rate,
                 "train_loss": train["loss"], "test_loss": test.get("loss", np.nan),
                 "train_accuracy": train.get("accuracy", np.nan), "test_accuracy": test.get("accuracy", np.nan),
                 "gradient_norms": [float(np.linalg.norm(grad[w])) for w, _, _ in m.layer_slices()]}
        return point, grad

    def trace(self, x):
        """The forward pass of one input (MLP.trace) with the weights as a whole step left them."""
        with self._lock:
            return self.model.trace(x)

    def set_weights(self, weights):
        """Loads a hand-set model ([W0, b0, ...], as MLP.set_weights) and publishes its frame."""
        with self._lock:
            self.model.set_weights(weights)
            return self._publish()

    def step_epoch(self):
        """One epoch (the page's 'step' button)."""
        return self.advance(self.trainer.steps_per_epoch)

    def _checkpoint(self):
        self.checkpoints.append(self.model.params.copy())
        self.checkpoint_epochs.append(self.trainer.epoch)
        if len(self.checkpoints) > MAX_CHECKPOINTS:  # keep the first, thin the rest evenly
            self.checkpoints = self.checkpoints[:1] + self.checkpoints[2::2]
            self.checkpoint_epochs = self.checkpoint_epochs[:1] + self.checkpoint_epochs[2::2]

    def _update_message(self):
        tr, cfg = self.trainer, self.config
        if tr.status == "diverged":
            last = self.history.get("train_loss", [np.nan])[-1] if self.history else np.nan
            what = ("the loss became NaN or infinite" if not np.isfinite(last) or not np.all(np.isfinite(
                self.model.params)) else f"the loss grew past {tr.loss_limit:.3g}, far above its start "
                f"({tr.initial_loss:.3g})")
            self.message = (f"Training diverged at epoch {tr.epoch}: {what}. Lower the learning rate "
                            f"(now {cfg.optimizer.learning_rate:g}) and press reset.")
            self._running.clear()
        elif tr.status == "early_stopped":
            best = tr.best_epoch
            self.message = (f"Early stopping at epoch {tr.epoch}: no test-loss improvement for "
                            f"{cfg.regularization.patience} epochs; restored the weights of epoch {best}.")
            self._running.clear()
        elif cfg.max_epochs and tr.epoch >= cfg.max_epochs:
            self.message = f"Stopped after {tr.epoch} epochs (the limit you set)."
            self._running.clear()

    # ----- frames ----------------------------------------------------------------------------------
    def evaluate(self):
        m = self.model
        train = m.evaluate_checked(self.X_train, self.T_train)
        test = m.evaluate_checked(self.X_test, self.T_test) if self.T_test is not None else {}
        return train, test

    def frame(self, losses):
        """A snapshot for the views: metrics, boundary grids, weights, gradients, predictions."""
        m, tr = self.model, self.trainer
        point, grad = self._metrics()
        frame = {
            **point, "status": tr.status, "message": self.message, "losses": losses,
            "weights": [(W.copy(), b.copy()) for W, b in m.layers()],
            "gradient": grad,
            "weight_histogram": finite_histogram(m.params),
            "gradient_histogram": finite_histogram(grad),
        }
        if self.split.is_2d:
            units = m.unit_outputs(self.grid).astype(np.float32)  # for display: half the bytes
            k = m.sizes[-1]  # one output unit, or k classes (their probabilities, for one colour per class)
            frame["output_grid"] = units[-1].reshape(GRID, GRID) if k == 1 else units[-k:].reshape(k, GRID, GRID)
            step = GRID // NEURON_GRID
            frame["unit_grids"] = units.reshape(units.shape[0], GRID, GRID)[:, ::step, ::step]
        elif self.split.image_side and len(self.split.y_test):
            k = self.split.n_classes
            pred = m.predict_classes(self.X_test)
            confusion = np.zeros((k, k), np.int64)
            np.add.at(confusion, (self.split.y_test, pred), 1)
            frame["confusion"] = confusion
            frame["sample_predictions"] = pred[:24]
        return frame

    # ----- the background thread -------------------------------------------------------------------
    def take(self):
        """The newest frame, marking it consumed (the thread builds the next one after its next chunk)."""
        self._wanted.set()
        return self.latest

    def play(self):
        if self.status != "running":
            return
        self._running.set()
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="lab-training", daemon=True)
            self._thread.start()

    def pause(self):
        self._running.clear()
        self._wanted.set()  # wakes it, so the paused state is shown at once

    def stop(self, timeout=2.0):
        """Ends the thread (closing a page calls this); safe to call more than once."""
        self._stop.set()
        self._running.clear()
        self._wanted.set()  # wakes it
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def thread_alive(self):
        return self._thread is not None and self._thread.is_alive()

    def _loop(self):
        while not self._stop.is_set():
            if not self._running.wait(0.1):
                continue
            try:
                self._play_at_speed()
            except Exception as err:  # never let a thread die silently: tell the page
                self.message = f"Training stopped: {err}"
                self._running.clear()

    def _play_at_speed(self):
        """Trains while playing, ``steps_per_second`` on average: a chunk per frame taken, at least one
        every CHUNK_SECONDS."""
        speed, started, done = None, 0.0, 0
        while self._running.is_set() and not self._stop.is_set():
            now = time.monotonic()
            if speed != self.config.steps_per_second:  # the speed slider moved: count from now
                speed, started, done = self.config.steps_per_second, now, 0
            due = int((now - started) * speed) - done
            if due > MAX_BACKLOG * speed:  # the machine could not keep up: let the backlog go
                started, done = now - CHUNK_SECONDS, int(CHUNK_SECONDS * speed)
                due = int(CHUNK_SECONDS * speed) or 1
            if due > 0:
                self._train(due)
                done += due
            if self.stopped:
                self._running.clear()
            if self._wanted.is_set() and (due > 0 or not self._running.is_set()):
                self._wanted.clear()
                self._publish()
            if not self._running.is_set():
                break
            if self._wanted.is_set():  # asked, but no step was due yet (a slow speed): wait for one
                self._stop.wait(min(1.0 / speed, CHUNK_SECONDS))
            else:  # until the page takes this frame (then the next one is built), or a chunk is due
                self._wanted.wait(CHUNK_SECONDS)
        if self.latest["step"] != self.trainer.step:
            self._publish()  # paused or stopped: the last state is shown, whether or not the page asked


def compare_config(config, **change):
    """A copy of ``config`` with some settings changed (e.g. optimizer_name='rmsprop')."""
    other = PlaygroundConfig()
    settings = config.to_dict()
    top_changes = {k: v for k, v in change.items() if k in PlaygroundConfig._TOP}
    settings.update(top_changes)
    if "optimizer_name" in top_changes:
        settings["optimizer"] = {}
    other.apply(settings)
    return other


def finite_histogram(values, bins=30):
    """(counts, edges) of the finite values in ``bins`` equal bins, as ``np.histogram`` gives them; also
    where that raises: NaN/inf (a diverged run's weights) are left out, and a span too wide or too narrow
    for floats (up to ±1.8e308, down to subnormal) still gets its bins. Counted here, as numpy counts:
    40 µs against np.histogram's 100 µs for a small network's weights, and every frame of every student
    counts twice."""
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if not finite.size:
        finite = np.zeros(1)
    lo, hi = float(finite.min()), float(finite.max())
    half_span = hi / 2 - lo / 2  # halves: hi - lo itself can overflow
    if half_span == 0.0:
        lo, hi, half_span = lo - 0.5, hi + 0.5, 0.5
    edges = np.linspace(lo / 2, hi / 2, bins + 1) * 2
    edges[0], edges[-1] = lo, hi  # exact ends, also where halving a subnormal rounded
    index = np.minimum(((finite / 2 - lo / 2) / half_span * bins).astype(np.intp), bins - 1)
    index -= finite < edges[index]  # rounding put it one bin too high (numpy's own correction)
    index += (finite >= edges[index + 1]) & (index != bins - 1)  # or one too low
    np.clip(index, 0, bins - 1, out=index)  # subnormal edges are coarse: the ends hold what they round off
    return np.bincount(index, minlength=bins), edges
