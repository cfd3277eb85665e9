"""MLP.fit for notebook users: one kernel call, the history recorded inside the kernel, callbacks and the
progress bar in chunks with the same result bit for bit, built-in callbacks, History.plot, packed
settings."""

import gc
import json

import numpy as np
import pytest
import reference as ref

from lab import MLP, Trainer, callbacks, datasets, optimizers, regularizers, schedules
from lab.engine import callbacks as cb_module


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _model(dtype="float64"):
    return MLP([2, 6, 5, 1], activation="tanh", output="sigmoid", dtype=dtype, seed=3)


SETUP = dict(epochs=25, batch_size=16, optimizer="rmsprop", learning_rate=0.01, momentum=0.5,
             validation_split=0.25, regularization=regularizers.get(l2=0.001, keep_hidden=0.9, noise=0.05),
             schedule=schedules.get("step", gamma=0.5, every=10), seed=4)


class Recorder(callbacks.Callback):
    def __init__(self):
        self.epochs = []

    def on_epoch_end(self, epoch, history):
        assert len(history["loss"]) == epoch + 1  # the history up to and including this epoch
        self.epochs.append(epoch)


class EveryEpoch(Recorder):
    per_epoch = True

    def __init__(self, X_val, y_val):
        super().__init__()
        self.X_val, self.y_val, self.val = X_val, y_val, []

    def on_epoch_end(self, epoch, history):
        super().on_epoch_end(epoch, history)
        self.val.append(self.model.evaluate(self.X_val, self.y_val))


def test_fit_runs_all_epochs_in_one_kernel_call_and_records_every_metric():
    X, y = _data()
    history = _model().fit(X, y, **SETUP)
    assert history.calls == 1
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert all(len(v) == 25 for v in history.values())
    assert history["learning_rate"] == [0.01] * 10 + [0.005] * 10 + [0.0025] * 5
    assert history["loss"][-1] < history["loss"][0]
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"] + history["val_accuracy"])
    assert history.status == "running" and history.stopped_epoch == 25
    assert history.best_epoch == 1 + int(np.argmin(history["val_loss"]))


@pytest.mark.parametrize("chunk_seconds", [0.05, 0.0])
def test_callbacks_and_progress_bar_give_the_same_weights_and_history_bit_for_bit(monkeypatch, chunk_seconds,
                                                                                  capsys):
    monkeypatch.setattr(cb_module, "CHUNK_SECONDS", chunk_seconds)  # 0: one kernel call per epoch
    X, y = _data()
    plain = _model()
    expected = plain.fit(X, y, **SETUP)
    watched, recorder = _model(), Recorder()
    history = watched.fit(X, y, callbacks=[recorder], verbose=1, **SETUP)
    assert history.calls > 1
    if chunk_seconds == 0.0:
        assert history.calls == 25
    assert recorder.epochs == list(range(25))
    assert dict(history) == dict(expected)  # floats compared exactly
    assert np.array_equal(watched.params, plain.params)
    bar = capsys.readouterr().err
    assert "25/25" in bar and f"loss={expected['loss'][-1]:.4f}" in bar and "val_loss=" in bar


def test_history_rows_are_the_epochs_metrics():
    """Full batch without shuffling: an epoch's training loss and accuracy are those of the weights at the
    epoch's start (one step), its validation numbers those of the weights at its end."""
    X, y = _data(120)
    X_val, y_val = _data(60, seed=1)
    model = _model()
    at_start = [model.evaluate(X, y)]
    every = EveryEpoch(X_val, y_val)
    history = model.fit(X, y, epochs=6, batch_size=120, optimizer="sgd", learning_rate=0.5, shuffle=False,
                        validation_data=(X_val, y_val), callbacks=[every])
    assert history.calls == 6
    reference_loss, _ = ref.loss_and_grad(_model().params, [2, 6, 5, 1], ["tanh"] * 2, "sigmoid", "bce", X,
                                          y[:, None].astype(float))
    assert history["loss"][0] == pytest.approx(reference_loss, rel=1e-12)
    assert history["loss"][0] == pytest.approx(at_start[0]["loss"], rel=1e-12)
    assert history["accuracy"][0] == pytest.approx(at_start[0]["accuracy"], rel=1e-12)
    assert history["val_loss"] == pytest.approx([v["loss"] for v in every.val], rel=1e-12)
    assert history["val_accuracy"] == pytest.approx([v["accuracy"] for v in every.val], rel=1e-12)


def test_regression_history_has_no_accuracy_and_a_diverging_fit_stops_and_says_so():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    model = MLP([3, 4, 1], output="linear", loss="mse", dtype="float64")
    history = model.fit(X, X.sum(axis=1), epochs=3)
    assert set(history) == {"loss", "learning_rate"}
    X, y = _data()
    history = _model().fit(X, y, epochs=50, optimizer="sgd", learning_rate=50.0)
    assert history.status == "diverged" and len(history["loss"]) < 50


def test_early_stopping_callback_is_the_kernels_early_stopping():
    s = datasets.make("spiral", n=300, noise=0.3, seed=2)
    runs = []
    for how in ("callback", "regularization"):
        model = MLP([2, 16, 16, 1], activation="relu", dtype="float64", seed=0)
        kwargs = dict(epochs=400, batch_size=10, optimizer="adam", learning_rate=0.01,
                      validation_data=(s.X_test, s.y_test))
        if how == "callback":
            history = model.fit(s.X_train, s.y_train, callbacks=[callbacks.EarlyStopping(patience=5)], **kwargs)
        else:
            history = model.fit(s.X_train, s.y_train, regularization=regularizers.get(patience=5), **kwargs)
        runs.append((history, model.params.copy()))
    (h1, p1), (h2, p2) = runs
    assert h1.status == "early_stopped" and len(h1["loss"]) < 400
    assert h1.calls == 1  # the kernel's own early stopping: no chunks needed
    assert dict(h1) == dict(h2) and np.array_equal(p1, p2)
    with pytest.raises(ValueError, match="needs validation data"):
        _model().fit(*_data(), callbacks=[callbacks.EarlyStopping(3)])
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        callbacks.EarlyStopping(3, monitor="accuracy")


def test_learning_rate_scheduler_by_name_or_function():
    X, y = _data()
    by_name = _model().fit(X, y, epochs=6, callbacks=[callbacks.LearningRateScheduler("step", gamma=0.1, every=2)],
                           learning_rate=0.1)
    assert by_name.calls == 1
    assert by_name["learning_rate"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    by_function = _model().fit(X, y, epochs=4, learning_rate=0.2,
                               callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.2 / (1 + epoch))])
    assert by_function.calls == 4
    assert by_function["learning_rate"] == pytest.approx([0.2, 0.1, 0.2 / 3, 0.05])
    with pytest.raises(ValueError, match="must be a positive number"):
        _model().fit(X, y, epochs=2, callbacks=[callbacks.LearningRateScheduler(lambda e, lr: -1.0)])


def test_model_checkpoint_keeps_the_best_validation_weights(tmp_path):
    X, y = _data()
    X_val, y_val = _data(80, seed=5)
    model = _model()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "best.npz")
    as_json = callbacks.ModelCheckpoint(str(tmp_path / "best.json"))
    history = model.fit(X, y, epochs=40, optimizer="adam", learning_rate=0.05, validation_data=(X_val, y_val),
                        callbacks=[checkpoint, as_json])
    best = min(history["val_loss"])
    assert checkpoint.best_epoch == 1 + int(np.argmin(history["val_loss"]))
    restored = MLP.load(tmp_path / "best.npz")
    assert restored.evaluate(X_val, y_val)["loss"] == pytest.approx(best, rel=1e-12)
    from_json = MLP.from_json((tmp_path / "best.json").read_text())
    assert from_json.evaluate(X_val, y_val)["loss"] == pytest.approx(best, rel=1e-12)
    json.loads((tmp_path / "best.json").read_text())
    if best < history["val_loss"][-1]:
        assert model.evaluate(X_val, y_val)["loss"] > best  # the model itself keeps its last weights
    with pytest.raises(ValueError, match="ModelCheckpoint keeps the best validation loss"):
        _model().fit(X, y, epochs=2, callbacks=[callbacks.ModelCheckpoint()])


def test_bad_arguments_are_refused_before_training():
    X, y = _data()
    with pytest.raises(ValueError, match="callbacks must be lab.callbacks.Callback objects"):
        _model().fit(X, y, callbacks=[print])
    with pytest.raises(ValueError, match="verbose must be 0 or 1"):
        _model().fit(X, y, verbose=2)


def test_history_plot_draws_the_curves():
    X, y = _data()
    history = _model().fit(X, y, epochs=5, validation_split=0.2)
    layout = history.plot()
    figures = layout.children
    assert [f.name for f in figures] == ["history_loss", "history_accuracy"]
    sources = {r.data_source.name: r.data_source.data for f in figures for r in f.renderers}
    assert sources["history_loss"]["value"] == history["loss"]
    assert sources["history_val_accuracy"]["value"] == history["val_accuracy"]
    assert sources["history_loss"]["epoch"] == [1, 2, 3, 4, 5]
    rng = np.random.default_rng(0)
    regression = MLP([2, 3, 1], output="linear", loss="mse").fit(rng.normal(size=(20, 2)), rng.normal(size=20))
    assert [f.name for f in regression.plot().children] == ["history_loss"]
    with pytest.raises(ValueError, match="the history is empty"):
        type(history)().plot()


def test_settings_are_packed_once_and_again_after_a_change():
    X, y = _data()
    model = _model()
    reg = regularizers.get(l2=0.0)
    opt = optimizers.get("momentum", learning_rate=0.1, momentum=0.9)
    trainer = Trainer(model, model.check_inputs(X), model.check_targets(y, len(y)), opt, regularization=reg)
    packed = trainer.pack()
    trainer.run(3)
    assert trainer.pack() is packed  # unchanged settings: the same vector, no re-packing
    reg.l2 = 0.01
    opt.momentum = 0.5
    repacked = trainer.pack()
    assert repacked is not packed
    from kernels import codes as C
    assert repacked[C.P_REG + C.R_L2] == 0.01 and repacked[C.P_HYPER + C.H_MOMENTUM] == 0.5
    opt.schedule = schedules.get("inverse", rate=0.5)
    assert trainer.pack()[C.P_SCHED] == schedules.get("inverse").code
    opt.schedule.rate = 0.25  # a setting of the schedule swapped in is watched too
    assert trainer.pack()[C.P_SCHED_HYPER + C.S_RATE] == 0.25
    packed = trainer.pack()
    trainer.batch_size = trainer.batch_size  # the live page sets it before every call: no re-packing
    assert trainer.pack() is packed
    trainer.batch_size = 7
    assert trainer.pack()[C.P_BATCH] == 7
    count = len(reg.param.watchers.get("l2", {}).get("value", []))
    del trainer
    gc.collect()
    reg.l2 = 0.02  # the dead trainer's watcher removes itself
    assert len(reg.param.watchers.get("l2", {}).get("value", [])) == count - 1
