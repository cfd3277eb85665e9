"""The MLP: one flat parameter vector, per-layer views, a Keras-like API over the compiled kernels.

    >>> model = MLP([2, 8, 8, 1], activation="tanh", output="sigmoid", loss="bce", seed=0)
    >>> history = model.fit(X, y, epochs=150, batch_size=32, optimizer="adam", learning_rate=0.01)
    >>> model.evaluate(X, y)
"""

import numpy as np

from kernels import codes as C
from lab.engine import persistence
from lab.engine.backend import resolve

ACTIVATIONS, OUTPUTS, LOSSES, FEATURES = C.ACTIVATIONS, C.OUTPUTS, C.LOSSES, C.FEATURES
LOSS_ALIASES = {"binary_crossentropy": "bce", "categorical_crossentropy": "cross_entropy",
                "ce": "cross_entropy", "mean_squared_error": "mse"}
# which output heads each loss accepts (BCE/CE are computed from the logits of their own head)
COMPATIBLE = {"bce": ("sigmoid",), "cross_entropy": ("softmax",), "hinge": ("tanh", "linear"),
              "mse": ("linear", "sigmoid", "tanh")}
DEFAULT_LOSS = {"sigmoid": "bce", "softmax": "cross_entropy", "tanh": "hinge", "linear": "mse"}
INITS = ("glorot", "he", "uniform")
MAX_UNITS = 4096


def _choice(value, table, what):
    if value not in table:
        raise ValueError(f"unknown {what} {value!r}; choose one of {list(table)}")
    return table[value]


class MLP:
    """A dense network; see the module docstring. All arguments are validated with clear messages.

    sizes: [inputs, hidden..., outputs]. activation: one name or one per hidden layer (linear, sigmoid,
    tanh, relu, leaky_relu, gelu, silu, softplus, elu).
    output: sigmoid | softmax | tanh | linear. loss: bce | cross_entropy | hinge | mse (default: the
    natural loss of the output head). features: names from FEATURES for 2-D data (sizes[0] must equal
    their count), or None for raw inputs. init: glorot | he | uniform (+-0.5, TensorFlow Playground).
    """

    def __init__(self, sizes, activation="tanh", output="sigmoid", loss=None, seed=0,
                 dtype="float32", backend="cpu", init="glorot", features=None):
        sizes = [int(s) for s in sizes] if np.ndim(sizes) == 1 else None
        if sizes is None or len(sizes) < 2:
            raise ValueError("sizes must list at least an input and an output size, e.g. [2, 8, 1]")
        for i, s in enumerate(sizes):
            if not 1 <= s <= MAX_UNITS:
                raise ValueError(f"layer {i} has {s} units; each layer needs 1..{MAX_UNITS}")
        n_hidden = len(sizes) - 2
        hidden = [activation] * n_hidden if isinstance(activation, str) else list(activation)
        if len(hidden) != n_hidden:
            raise ValueError(f"{len(hidden)} activations given for {n_hidden} hidden layers")
        codes = [_choice(a, ACTIVATIONS, "activation") for a in hidden]
        codes.append(_choice(output, OUTPUTS, "output"))
        loss = DEFAULT_LOSS[output] if loss is None else LOSS_ALIASES.get(loss, loss)
        _choice(loss, LOSSES, "loss")
        if output not in COMPATIBLE[loss]:
            raise ValueError(f"loss {loss!r} needs output {' or '.join(COMPATIBLE[loss])}, not {output!r}")
        if output == "softmax" and sizes[-1] < 2:
            raise ValueError("a softmax output needs at least 2 units (use sigmoid for one)")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', not {dtype!r}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {list(INITS)}")
        if features is not None:
            features = list(features)
            if not features:
                raise ValueError("features must name at least one input feature (or be None)")
            for f in features:
                _choice(f, FEATURES, "feature")
            if len(features) != sizes[0]:
                raise ValueError(f"{len(features)} features but the input layer has {sizes[0]} units")
        self.sizes = sizes
        self.activations = hidden
        self.output = output
        self.loss = loss
        self.features = features
        self.dtype = np.dtype(dtype)
        self.init = init
        self.seed = seed
        self.backend, self._kernels = resolve(backend)
        self._sizes = np.array(sizes, np.int64)
        self._acts = np.array(codes, np.int64)
        self._loss = LOSSES[loss]
        self._features = (np.array([FEATURES[f] for f in features], np.int64) if features
                          else np.array([C.IDENTITY], np.int64))
        self.params = np.zeros(self.n_params, self.dtype)
        self.initialize(seed)

    # ----- parameters -------------------------------------------------------------------------
    @property
    def n_params(self):
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def input_dim(self):
        """Columns expected in X: 2 when features are computed from 2-D points, else sizes[0]."""
        return 2 if self.features else self.sizes[0]

    def layer_slices(self):
        """[(W slice, W shape, b slice), ...] into the flat parameter vector, Keras order."""
        out, p = [], 0
        for a, b in zip(self.sizes[:-1], self.sizes[1:]):
            out.append((slice(p, p + a * b), (a, b), slice(p + a * b, p + a * b + b)))
            p += a * b + b
        return out

    def layers(self):
        """[(W, b), ...] as views into params: writing into them changes the model."""
        return [(self.params[w].reshape(shape), self.params[b]) for w, shape, b in self.layer_slices()]

    def initialize(self, seed=0):
        """Draws fresh weights from ``init`` with an explicit seed (biases 0; 0.1 for 'uniform')."""
        rng = np.random.default_rng(seed)
        for W, b in self.layers():
            fan_in, fan_out = W.shape
            if self.init == "glorot":
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                W[...] = rng.uniform(-limit, limit, W.shape)
                b[...] = 0.0
            elif self.init == "he":
                W[...] = rng.normal(0.0, np.sqrt(2.0 / fan_in), W.shape)
                b[...] = 0.0
            else:
                W[...] = rng.uniform(-0.5, 0.5, W.shape)
                b[...] = 0.1

    def get_weights(self):
        """[W0, b0, W1, b1, ...] as copies, W of shape (fan_in, fan_out)."""
        return [a.copy() for pair in self.layers() for a in pair]

    def set_weights(self, weights):
        """Inverse of get_weights; shapes must match exactly."""
        layers = self.layers()
        if len(weights) != 2 * len(layers):
            raise ValueError(f"expected {2 * len(layers)} arrays [W0, b0, ...], got {len(weights)}")
        for i, (target, value) in enumerate(zip([a for pair in layers for a in pair], weights)):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"weight {i} has shape {value.shape}, expected {target.shape}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"weight {i} contains NaN or inf")
            target[...] = value

    # ----- data checks --------------------------------------------------------------------------
    def check_inputs(self, X):
        """X as a C-contiguous (n, input_dim) array of the model dtype, or a ValueError."""
        X = np.asarray(X)
        if X.ndim == 1 and self.input_dim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.input_dim:
            raise ValueError(f"X must have shape (n, {self.input_dim}), got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X is empty")
        if not np.issubdtype(X.dtype, np.number) or X.dtype == np.complex128:
            raise ValueError(f"X must be numeric, got dtype {X.dtype}")
        if not np.all(np.isfinite(X)):
            bad = np.argwhere(~np.isfinite(X))[0]
            raise ValueError(f"X contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
        return np.ascontiguousarray(X, dtype=self.dtype)

    def check_targets(self, y, n):
        """Targets as an (n, k) array of the model dtype for this loss, or a ValueError."""
        y = np.asarray(y)
        k = self.sizes[-1]
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n}")
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y must be numeric, got dtype {y.dtype}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf")
        if self.loss == "cross_entropy" and y.ndim == 1:
            if np.any(y != np.round(y)) or y.min() < 0 or y.max() >= k:
                raise ValueError(f"cross_entropy needs integer labels in 0..{k - 1} (or one-hot rows)")
            y = np.eye(k)[y.astype(np.int64)]
        elif self.loss == "hinge":
            values = set(np.unique(y).tolist())
            if y.ndim == 1 and k > 1 and values <= set(range(k)):
                y = 2.0 * np.eye(k)[y.astype(np.int64)] - 1.0
            elif values <= {0, 1}:
                y = 2.0 * y - 1.0
            elif not values <= {-1, 1}:
                raise ValueError("hinge loss needs labels -1/+1 (0/1 is converted)")
        elif self.loss == "bce":
            if not set(np.unique(y).tolist()) <= {0, 1}:
                raise ValueError("bce needs labels 0/1; use hinge for -1/+1 or cross_entropy for classes")
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != k:
            raise ValueError(f"y must have shape (n,) or (n, {k}) for {k} output units, got {y.shape}")
        return np.ascontiguousarray(y, dtype=self.dtype)

    # ----- inference ----------------------------------------------------------------------------
    def predict(self, X):
        """Outputs after the output activation, shape (n, units_out)."""
        X = self.check_inputs(X)
        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        self._kernels.predict(self.params, self._sizes, self._acts, self._features, X, out)
        return out

    def predict_classes(self, X):
        """Integer class predictions (argmax, or the threshold of the binary head)."""
        out = self.predict(X)
        if self.sizes[-1] > 1:
            return out.argmax(axis=1)
        threshold = 0.5 if self.output == "sigmoid" else 0.0
        return (out[:, 0] > threshold).astype(np.int64)

    def unit_outputs(self, points):
        """Every unit's output (inputs, hidden, output rows) at 2-D points (g, 2): shape (units, g)."""
        G = self.check_inputs(points)
        out = np.empty((sum(self.sizes), G.shape[0]), self.dtype)
        self._kernels.eval_grid(self.params, self._sizes, self._acts, self._features, G, out)
        return out

    def loss_and_grad(self, X, y, regularization=None):
        """(mean loss, gradient shaped like params); the L1/L2 penalty is added when given."""
        X = self.check_inputs(X)
        return self.loss_and_grad_checked(X, self.check_targets(y, X.shape[0]), regularization)

    def loss_and_grad_checked(self, X, T, regularization=None):
        """``loss_and_grad`` of data already checked (X from ``check_inputs``, T from ``check_targets``):
        a loop over the same data (a live run's frames) checks it once, not on every call."""
        grad = np.empty_like(self.params)
        l1 = regularization.l1 if regularization else 0.0
        l2 = regularization.l2 if regularization else 0.0
        bias = bool(regularization.include_bias) if regularization else False
        loss = self._kernels.loss_and_grad(self.params, self._sizes, self._acts, self._loss,
                                           self._features, X, T, l1, l2, bias, grad)
        return float(loss), grad

    def evaluate(self, X, y):
        """{"loss": mean loss, "accuracy": fraction correct} (no accuracy for regression)."""
        X = self.check_inputs(X)
        return self.evaluate_checked(X, self.check_targets(y, X.shape[0]))

    def evaluate_checked(self, X, T):
        """``evaluate`` of data already checked (see ``loss_and_grad_checked``)."""
        loss, acc = self._kernels.dataset_loss(self.params, self._sizes, self._acts, self._loss,
                                               self._features, X, T)
        result = {"loss": float(loss)}
        if self.loss != "mse":
            result["accuracy"] = float(acc)
        return result

    def losses_for(self, P, X, y):
        """(losses, accuracies) for many parameter vectors P (m, n_params) on the same data."""
        X = self.check_inputs(X)
        T = self.check_targets(y, X.shape[0])
        P = np.ascontiguousarray(P, dtype=self.dtype)
        if P.ndim != 2 or P.shape[1] != self.n_params:
            raise ValueError(f"P must have shape (m, {self.n_params}), got {P.shape}")
        loss = np.empty(P.shape[0])
        acc = np.empty(P.shape[0])
        self._kernels.loss_many(P, self._sizes, self._acts, self._loss, self._features, X, T, loss, acc)
        return loss, acc

    # ----- training -----------------------------------------------------------------------------
    def fit(self, X, y, epochs=1, batch_size=32, optimizer="sgd", learning_rate=None, schedule=None,
            regularization=None, validation_split=0.0, validation_data=None, seed=0, callbacks=None, verbose=0,
            shuffle=True, symmetry_mask=0, image_side=0, **hyperparameters):
        """Minibatch training. Returns a History: per epoch the mean minibatch loss, training accuracy,
        validation loss and accuracy (with validation data) and the learning rate, all recorded inside
        the training kernel.

        optimizer: a name or a lab.optimizers object; learning_rate and other keywords set its
        hyperparameters. validation_split takes the last fraction of X, y (as Keras does).
        callbacks: lab.callbacks objects (EarlyStopping, LearningRateScheduler, ModelCheckpoint, your own
        Callback). verbose=1 shows a progress bar. With neither, all epochs run in one kernel call; with
        them, in chunks of at least ~50 ms (see lab.engine.callbacks), with the same result.
        symmetry_mask, image_side: a lab.datasets Split's, for the symmetry and image-shift augmentations.
        """
        from lab.engine import callbacks as cbs
        from lab.engine.regularizers import Regularization
        from lab.engine.training import Trainer, make_optimizer

        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        if int(epochs) < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        if verbose not in (0, 1, False, True):
            raise ValueError(f"verbose must be 0 or 1, got {verbose!r}")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, cbs.Callback):
                raise ValueError(f"callbacks must be lab.callbacks.Callback objects, got {cb!r}")
        reg = regularization or Regularization()
        settings = {"schedule": schedule,
                    "regularization": Regularization(**{k: v for k, v in reg.param.values().items() if k != "name"})}
        for cb in callbacks:
            cb.configure(settings)
        opt = make_optimizer(optimizer, learning_rate, settings["schedule"], hyperparameters)
        X = self.check_inputs(X)
        T = self.check_targets(y, X.shape[0])
        if validation_data is None and validation_split > 0.0:
            n_val = int(X.shape[0] * validation_split)
            if n_val < 1 or n_val >= X.shape[0]:
                raise ValueError("validation_split leaves no training or no validation samples")
            validation_data = (X[-n_val:], T[-n_val:])
            X, T = X[:-n_val], T[:-n_val]
        trainer = Trainer(self, X, T, opt, batch_size=batch_size, regularization=settings["regularization"],
                          validation=validation_data, seed=seed, shuffle=shuffle, symmetry_mask=symmetry_mask,
                          image_side=image_side)
        if verbose:
            callbacks.append(cbs.ProgressBar(int(epochs)))
        history = History(accuracy=self.loss != "mse", validation=validation_data is not None)
        history.trainer = trainer
        try:
            history.calls = cbs.run(self, trainer, int(epochs), callbacks, history)
        finally:
            history.status = trainer.status
            history.stopped_epoch = trainer.epoch
            history.best_epoch = trainer.best_epoch if trainer.validation is not None else None
            for cb in callbacks:
                cb.on_train_end(history)
            history.trainer = None  # not kept: it holds the training data
        return history

    # ----- persistence --------------------------------------------------------------------------
    def config(self):
        return dict(sizes=self.sizes, activation=self.activations, output=self.output, loss=self.loss,
                    seed=self.seed, dtype=self.dtype.name, init=self.init, features=self.features)

    def save(self, path):
        """Writes config and parameters to an .npz file (exact round trip with MLP.load)."""
        persistence.save(self, path)

    @classmethod
    def load(cls, path, backend="cpu"):
        """The model MLP.save wrote to ``path`` (a path or a file object). Any other file, damaged or
        not, raises a ValueError that names it and says what is wrong."""
        return persistence.load(cls, path, backend)

    def to_json(self, indent=None):
        """The model as JSON text: its config and its weights per layer (W as rows of fan_in, b), so a
        model can be pasted into a lesson or a report. MLP.from_json restores it exactly."""
        return persistence.to_json(self, indent)

    @classmethod
    def from_json(cls, text, backend="cpu"):
        """Inverse of to_json; a ValueError says what is wrong with the text."""
        return persistence.from_json(cls, text, backend)

    def trace(self, x):
        """The forward pass of one input, layer by layer, in float64: {'features', 'layers': [{'W', 'b',
        'z', 'a', 'activation'}, ...], 'output', 'predicted'} (see lab.engine.trace)."""
        from lab.engine.trace import trace

        return trace(self, x)

    def summary(self, print_fn=print):
        """Prints the layers (units, activation, parameter count), the totals, the loss and the output, as
        Keras's summary does; returns the text."""
        text = persistence.summary(self)
        print_fn(text)
        return text

    def __repr__(self):
        return (f"MLP({self.sizes}, activation={self.activations}, output={self.output!r}, "
                f"loss={self.loss!r}, dtype={self.dtype.name!r}, backend={self.backend!r})")


class History(dict):
    """Per-epoch metrics, Keras style: history["loss"], ["accuracy"], ["val_loss"], ["val_accuracy"],
    ["learning_rate"]; plus ``status`` (running, diverged, early_stopped), ``stopped_epoch``, ``best_epoch``
    (the lowest validation loss) and ``calls`` (kernel calls the fit took). ``plot()`` draws the curves."""

    status = "running"
    stopped_epoch = 0
    best_epoch = None
    calls = 0
    trainer = None

    def __init__(self, accuracy=True, validation=False):
        super().__init__()
        self._accuracy, self._validation = accuracy, validation

    @property
    def history(self):
        return self

    def append(self, key, value):
        self.setdefault(key, []).append(value)

    def add_row(self, row):
        """One epoch's row from the kernel (kernels.codes.HI_*)."""
        from kernels import codes as C

        self.append("loss", float(row[C.HI_LOSS]))
        if self._accuracy:
            self.append("accuracy", float(row[C.HI_ACC]))
        if self._validation:
            self.append("val_loss", float(row[C.HI_VAL_LOSS]))
            if self._accuracy:
                self.append("val_accuracy", float(row[C.HI_VAL_ACC]))
        self.append("learning_rate", float(row[C.HI_LR]))

    def plot(self, width=420, height=300):
        """A Bokeh layout: loss (train, validation) and, for classifiers, accuracy per epoch. In Jupyter:
        ``bokeh.io.output_notebook(); bokeh.io.show(history.plot())``, or ``pn.pane.Bokeh(...)``."""
        from lab.plots import history_plot

        return history_plot(self, width, height)
