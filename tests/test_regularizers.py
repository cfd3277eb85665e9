"""L1/L2 gradients, dropout statistics, noise off at evaluation, early stopping, augmentation."""

import numpy as np
import pytest

from lab import MLP, Trainer, datasets, optimizers, regularizers


def test_l1_l2_penalty_gradients_by_finite_differences():
    model = MLP([3, 4, 2], output="softmax", dtype="float64", seed=0)
    model.params[::3] = 0.0  # L1's subgradient at exactly 0 is 0
    for include_bias in (False, True):
        reg = regularizers.get(l1=0.03, l2=0.2, include_bias=include_bias)
        value, grad = reg.penalty(model.params, model.sizes)
        W_mask = np.zeros(model.n_params, bool)
        for w, _, b in model.layer_slices():
            W_mask[w] = True
            W_mask[b] = include_bias
        p = model.params
        assert value == pytest.approx(np.sum(0.03 * np.abs(p[W_mask]) + 0.2 * p[W_mask] ** 2))
        assert np.all(grad[~W_mask] == 0)
        assert np.all(grad[p == 0] == 0)
        h = 1e-7
        nz = np.flatnonzero(p != 0)
        for i in nz[:12]:
            e = np.zeros_like(p)
            e[i] = h
            numeric = (reg.penalty(p + e, model.sizes)[0] - reg.penalty(p - e, model.sizes)[0]) / (2 * h)
            assert grad[i] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.arange(10) % 2
    reg = regularizers.get(l2=0.1)
    loss0, g0 = model.loss_and_grad(X, y)
    loss1, g1 = model.loss_and_grad(X, y, regularization=reg)
    assert loss1 - loss0 == pytest.approx(reg.penalty(model.params, model.sizes)[0])
    np.testing.assert_allclose(g1 - g0, reg.penalty(model.params, model.sizes)[1], atol=1e-12)


def _one_step_delta(keep_input, keep_hidden, seed, n=4000):
    """A 1-1-1 linear net with unit weights: its first minibatch loss reveals the dropout masks."""
    model = MLP([1, 1, 1], activation="linear", output="linear", loss="mse", dtype="float64", seed=0)
    model.set_weights([np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), np.zeros(1)])
    X = np.ones((n, 1))
    y = np.zeros(n)
    reg = regularizers.get(keep_input=keep_input, keep_hidden=keep_hidden)
    trainer = Trainer(model, model.check_inputs(X), model.check_targets(y, n),
                      optimizers.get("sgd", learning_rate=1.0), batch_size=1, regularization=reg, seed=seed)
    return model, trainer


def test_dropout_mask_statistics_and_no_effect_at_prediction():
    # with W = 1 and a linear net, the first step's output is m_in * m_hidden and its loss out^2
    firsts = []
    for seed in range(400):
        model, trainer = _one_step_delta(0.8, 0.5, seed=seed)
        firsts.append(np.sqrt(trainer.run(1)[0]))
    firsts = np.array(firsts)
    values = set(np.round(firsts, 9).tolist())
    assert values <= {0.0, round(1 / 0.8 / 0.5, 9)}
    assert np.mean(firsts > 0) == pytest.approx(0.8 * 0.5, abs=0.08)
    assert np.mean(firsts) == pytest.approx(1.0, abs=0.15)  # inverted scaling keeps the mean
    model = MLP([2, 8, 1], seed=0)
    before = model.predict(np.ones((3, 2)))
    model_reg = regularizers.get(keep_input=0.8, keep_hidden=0.5)
    Trainer(model, model.check_inputs(np.ones((4, 2))), model.check_targets(np.zeros(4), 4),
            optimizers.get("sgd", learning_rate=0.0001), regularization=model_reg)
    np.testing.assert_array_equal(model.predict(np.ones((3, 2))), before)  # prediction never drops


def test_noise_injection_only_while_training():
    model = MLP([1, 1], output="linear", loss="mse", dtype="float64", seed=0)
    model.set_weights([np.ones((1, 1)), np.zeros(1)])
    X = np.zeros((5000, 1))
    y = np.zeros(5000)
    trainer = Trainer(model, model.check_inputs(X), model.check_targets(y, 5000),
                      optimizers.get("sgd", learning_rate=1e-12), batch_size=5000,
                      regularization=regularizers.get(noise=0.5))
    loss = trainer.run(1)[0]  # mean of (noise)^2 = sigma^2
    assert loss == pytest.approx(0.25, rel=0.1)
    assert model.evaluate(X, y)["loss"] == pytest.approx(0.0, abs=1e-20)


def test_early_stopping_stops_and_restores_best_weights():
    s = datasets.make("xor", n=200, noise=0.3, seed=0)
    model = MLP([2, 64, 64, 1], activation="relu", seed=0)
    reg = regularizers.get(patience=3)
    history = model.fit(s.X_train, s.y_train, epochs=400, batch_size=8, optimizer="adam",
                        learning_rate=0.05, validation_data=(s.X_test, s.y_test), regularization=reg)
    assert history.status == "early_stopped"
    assert len(history["val_loss"]) < 400
    best = int(np.argmin(history["val_loss"]))
    assert len(history["val_loss"]) - 1 - best == 3  # patience epochs after the best
    assert model.evaluate(s.X_test, s.y_test)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-5)


def test_augmentation_keeps_labels_and_changes_inputs():
    # symmetric augmentation on circle data: a linear-in-features net (x1^2 + x2^2) still learns it
    s = datasets.make("circle", n=300, seed=0)
    model = MLP([2, 1], output="sigmoid", features=["x1^2", "x2^2"], seed=0)
    trainer = Trainer(model, model.check_inputs(s.X_train), model.check_targets(s.y_train, len(s.y_train)),
                      optimizers.get("adam", learning_rate=0.05), regularization=regularizers.get(
                          symmetries=True, jitter=0.05), symmetry_mask=s.symmetry_mask)
    trainer.run(2000)
    assert model.evaluate(s.X_test, s.y_test)["accuracy"] > 0.95
    d = datasets.make("digits", seed=0)
    model = MLP([64, 32, 10], activation="relu", output="softmax", seed=0)
    trainer = Trainer(model, model.check_inputs(d.X_train), model.check_targets(d.y_train, len(d.y_train)),
                      optimizers.get("adam", learning_rate=0.003),
                      regularization=regularizers.get(image_shift=1), image_side=8)
    trainer.run(20 * trainer.steps_per_epoch)
    assert model.evaluate(d.X_test, d.y_test)["accuracy"] > 0.85


@pytest.mark.parametrize("settings,message", [
    (dict(keep_input=0.0), "keep_input"), (dict(keep_hidden=1.5), "keep_hidden"),
    (dict(l2=-1.0), "l2"), (dict(patience=-1), "patience"), (dict(dropout=0.5), "unknown regularizer"),
])
def test_bad_regularizer_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        regularizers.get(**settings)


def test_augmentation_needs_a_matching_data_set():
    model = MLP([2, 1], seed=0)
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="no symmetries"):
        model.fit(X, y, regularization=regularizers.get(symmetries=True))
    with pytest.raises(ValueError, match="square image"):
        model.fit(X, y, regularization=regularizers.get(image_shift=1))
    with pytest.raises(ValueError, match="validation"):
        model.fit(X, y, regularization=regularizers.get(patience=2))
