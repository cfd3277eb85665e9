"""The MLP engine: gradients against finite differences and a NumPy reference, the primer's closed
forms, the Keras example, the API contract and its error messages."""

import numpy as np
import pytest
import reference as ref

from lab import MLP

HEADS = [("sigmoid", "bce", 1), ("softmax", "cross_entropy", 3), ("tanh", "hinge", 1),
         ("linear", "hinge", 2), ("linear", "mse", 2), ("sigmoid", "mse", 1), ("tanh", "mse", 1)]
HIDDEN = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu", "softplus", "elu"]


def _data(k, loss, n=7, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if loss == "cross_entropy":
        y = rng.integers(0, k, n)
        T = np.eye(k)[y]
    elif loss == "bce":
        y = rng.integers(0, 2, (n, k)).astype(float)
        T = y
    elif loss == "hinge":
        y = rng.choice([-1.0, 1.0], (n, k))
        T = y
    else:
        y = rng.normal(size=(n, k))
        T = y
    return X, y, T


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss,k", HEADS)
def test_gradient_matches_finite_differences_and_reference(hidden, output, loss, k):
    X, y, T = _data(k, loss)
    model = MLP([3, 5, 4, k], activation=hidden, output=output, loss=loss, dtype="float64", seed=1)
    value, grad = model.loss_and_grad(X, y)
    ref_value, ref_grad = ref.loss_and_grad(model.params.copy(), model.sizes, [hidden] * 2, output,
                                            loss, X, T)
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-12)
    h = 1e-6
    numeric = np.empty_like(grad)
    base = model.params.copy()
    for i in range(base.size):
        model.params[:] = base
        model.params[i] += h
        up = model.loss_and_grad(X, y)[0]
        model.params[i] -= 2 * h
        down = model.loss_and_grad(X, y)[0]
        numeric[i] = (up - down) / (2 * h)
    model.params[:] = base
    # relu kinks and hinge corners are measure-zero; random data keeps us off them
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("output,loss,k", HEADS)
def test_checked_data_gives_what_the_checking_calls_give(output, loss, k):
    # a live run checks its data once and evaluates it every frame through the *_checked methods
    X, y, T = _data(k, loss)
    model = MLP([3, 5, k], activation="tanh", output=output, loss=loss, dtype="float64", seed=3)
    Xc, Tc = model.check_inputs(X), model.check_targets(y, len(y))
    np.testing.assert_array_equal(Tc, T)
    assert model.evaluate_checked(Xc, Tc) == model.evaluate(X, y)
    value, grad = model.loss_and_grad_checked(Xc, Tc)
    ref_value, ref_grad = model.loss_and_grad(X, y)
    assert value == ref_value and np.array_equal(grad, ref_grad)
    assert model.evaluate(X, y)["loss"] == pytest.approx(
        ref.loss_and_grad(model.params.copy(), model.sizes, ["tanh"], output, loss, X, T)[0], rel=1e-12)


@pytest.mark.parametrize("output,loss,k", HEADS)
def test_predict_matches_reference_forward(output, loss, k):
    X, y, _ = _data(k, loss, n=300)
    for dtype, tol in (("float64", 1e-12), ("float32", 2e-6)):
        model = MLP([3, 6, k], activation="tanh", output=output, loss=loss, dtype=dtype, seed=2)
        _, A = ref.forward(model.params.astype(np.float64), model.sizes, ["tanh"], output, X)
        np.testing.assert_allclose(model.predict(X), A[-1], rtol=tol * 10, atol=tol)


def test_primer_two_layer_closed_forms():
    rng = np.random.default_rng(3)
    n, d, m, k = 20, 4, 6, 3
    X = rng.normal(size=(n, d))
    labels = rng.integers(0, k, n)
    T = np.eye(k)[labels]
    model = MLP([d, m, k], activation="sigmoid", output="softmax", loss="cross_entropy",
                dtype="float64", seed=0)
    W, b, V, c = model.get_weights()
    Z = 1 / (1 + np.exp(-(X @ W + b)))
    Y = ref.activate("softmax", Z @ V + c)
    # the primer's J = -sum T log Y; ours is its mean over the n samples
    dV = Z.T @ (Y - T)
    dc = (Y - T).sum(axis=0)
    dW = X.T @ (((Y - T) @ V.T) * Z * (1 - Z))
    db = (((Y - T) @ V.T) * Z * (1 - Z)).sum(axis=0)
    loss, grad = model.loss_and_grad(X, labels)
    assert loss == pytest.approx(-np.sum(T * np.log(Y)) / n, rel=1e-12)
    expected = np.concatenate([dW.ravel(), db, dV.ravel(), dc]) / n
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-14)


def test_keras_hinge_example_and_hand_set_weights():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (250, 2))
    y = np.where(X.sum(axis=1) > 0.5, 1, -1)
    model = MLP([2, 5, 1], activation="tanh", output="tanh", loss="hinge", seed=0)
    history = model.fit(X, y, epochs=150, batch_size=32, optimizer="adam", learning_rate=0.01,
                        validation_split=0.2, seed=0)
    assert len(history["loss"]) == 150
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] >= 0.9
    lin = MLP([2, 1], output="tanh", loss="hinge", seed=0)
    lin.set_weights([np.array([[1.0], [1.0]]), np.array([-0.5])])
    fresh = rng.uniform(0, 1, (200, 2))
    truth = np.where(fresh.sum(axis=1) > 0.5, 1, -1)
    assert np.mean(np.sign(lin.predict(fresh)[:, 0]) == truth) == 1.0
    W, b = lin.get_weights()
    by_hand = np.tanh(fresh.astype(np.float32) @ W + b)
    np.testing.assert_allclose(lin.predict(fresh), by_hand, rtol=1e-5, atol=1e-6)


def test_flat_params_are_views_and_weights_round_trip(tmp_path):
    model = MLP([2, 8, 8, 1], seed=0)
    W0 = model.layers()[0][0]
    model.params[0] = 7.0
    assert W0[0, 0] == 7.0
    ws = model.get_weights()
    assert [w.shape for w in ws] == [(2, 8), (8,), (8, 8), (8,), (8, 1), (1,)]
    other = MLP([2, 8, 8, 1], seed=5)
    other.set_weights(ws)
    np.testing.assert_array_equal(other.params, model.params)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = MLP.load(path)
    np.testing.assert_array_equal(loaded.params, model.params)
    assert loaded.config() == model.config()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_json_round_trip_is_exact_and_readable(dtype):
    import json

    model = MLP([3, 4, 2], activation="relu", output="softmax", dtype=dtype, seed=2)
    model.params[:] = np.random.default_rng(1).normal(size=model.n_params)
    text = model.to_json()
    layers = json.loads(text)["layers"]
    assert [np.shape(layer["W"]) for layer in layers] == [(3, 4), (4, 2)]  # rows of fan_in, as get_weights
    assert layers[1]["b"] == model.layers()[1][1].tolist()
    loaded = MLP.from_json(text)
    np.testing.assert_array_equal(loaded.params, model.params)
    assert loaded.config() == model.config() and loaded.dtype == model.dtype


@pytest.mark.parametrize("text,message", [
    ("", "not a model's JSON"), ("[1]", "'config'"), ('{"config": {}, "layers": []}', "sizes"),
    ('{"config": {"sizes": [2, 1], "warp": 1}, "layers": []}', "warp"),
    ('{"config": {"sizes": [2, 1]}, "layers": []}', "expected 2 arrays"),
    ('{"config": {"sizes": [2, 1]}, "layers": [{"W": [[1], [2]]}]}', "'W' and 'b'"),
    ('{"config": {"sizes": [2, 1]}, "layers": [{"W": [[1], [2, 3]], "b": [0]}]}', "rows of equal length"),
    ('{"config": {"sizes": [2, 1]}, "layers": [{"W": [[1, 2]], "b": [0]}]}', "shape"),
    ('{"config": {"sizes": [2, 1]}, "layers": [{"W": [[1], [NaN]], "b": [0]}]}', "NaN"),
])
def test_bad_json_raises_value_error(text, message):
    with pytest.raises(ValueError, match=message):
        MLP.from_json(text)


def test_summary_lists_layers_parameters_loss_and_output():
    model = MLP([2, 8, 8, 1], activation=["tanh", "relu"], features=["x1", "x2"])
    printed = []
    text = model.summary(print_fn=printed.append)
    assert printed == [text]
    lines = text.splitlines()
    rows = [line.split() for line in lines if line.split()[:1] in (["input"], ["hidden"], ["output"])]
    assert rows[0][:2] == ["input", "2"] and rows[1] == ["hidden", "1", "8", "tanh", "24"]
    assert rows[2] == ["hidden", "2", "8", "relu", "72"] and rows[3] == ["output", "1", "sigmoid", "9"]
    assert "parameters: 105 (weights 88, biases 17)" in text and "loss: bce" in text


def test_seeded_init_is_reproducible_and_schemes_differ():
    a = MLP([4, 16, 2], output="softmax", seed=3, init="he")
    b = MLP([4, 16, 2], output="softmax", seed=3, init="he")
    c = MLP([4, 16, 2], output="softmax", seed=3, init="uniform")
    np.testing.assert_array_equal(a.params, b.params)
    assert np.abs(c.get_weights()[0]).max() <= 0.5
    assert np.all(c.get_weights()[1] == np.float32(0.1))


def test_mnist_sized_network_trains():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    model = MLP([784, 256, 10], activation="relu", output="softmax", seed=0)
    before = model.evaluate(X, y)["loss"]
    model.fit(X, y, epochs=5, batch_size=64, optimizer="adam", learning_rate=1e-3)
    assert model.evaluate(X, y)["loss"] < before
    wide = MLP([2, 1024, 1], seed=0)
    assert wide.predict(np.zeros((3, 2))).shape == (3, 1)


def test_feature_maps_in_the_input_layer():
    model = MLP([3, 4, 1], features=["x1", "x1^2", "sin(x2)"], dtype="float64", seed=0)
    X = np.array([[0.5, -1.0], [2.0, 0.3]])
    expanded = np.stack([X[:, 0], X[:, 0] ** 2, np.sin(X[:, 1])], axis=1)
    plain = MLP([3, 4, 1], dtype="float64", seed=0)
    np.testing.assert_allclose(model.predict(X), plain.predict(expanded), rtol=1e-12)


def test_divergence_stops_the_run():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)) * 5
    y = rng.normal(size=100) * 100
    model = MLP([2, 8, 1], activation="relu", output="linear", loss="mse", seed=0)
    history = model.fit(X, y, epochs=50, optimizer="sgd", learning_rate=10.0)
    assert history.status == "diverged"
    assert len(history["loss"]) < 50


@pytest.mark.parametrize("kwargs,message", [
    (dict(sizes=[2, 4, 1], activation="swish"), "unknown activation"),
    (dict(sizes=[2, 4, 1], output="softmax"), "at least 2 units"),
    (dict(sizes=[2, 4, 3], output="softmax", loss="bce"), "needs output sigmoid"),
    (dict(sizes=[2, 0, 1]), "1..4096"),
    (dict(sizes=[2, 4, 1], activation=["tanh", "tanh"]), "2 activations given for 1"),
    (dict(sizes=[2, 4, 1], dtype="float16"), "dtype"),
    (dict(sizes=[2, 4, 1], init="zeros"), "unknown init"),
    (dict(sizes=[2, 4, 1], backend="tpu"), "unknown backend"),
    (dict(sizes=[3, 4, 1], features=["x1", "x2"]), "2 features but the input layer has 3"),
])
def test_bad_construction_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(**kwargs)


@pytest.mark.parametrize("X,y,message", [
    (np.zeros((4, 3)), np.zeros(4), r"shape \(n, 2\)"),
    (np.array([[0.0, np.nan]] * 4), np.zeros(4), "NaN or inf"),
    (np.zeros((4, 2)), np.zeros(5), "5 rows but X has 4"),
    (np.zeros((4, 2)), np.array([0, 1, 2, 1]), "labels 0/1"),
])
def test_bad_data_raises_value_error(X, y, message):
    model = MLP([2, 4, 1], seed=0)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_bad_labels_for_cross_entropy_and_hinge():
    ce = MLP([2, 4, 3], output="softmax", seed=0)
    with pytest.raises(ValueError, match="integer labels in 0..2"):
        ce.evaluate(np.zeros((2, 2)), np.array([0, 3]))
    hinge = MLP([2, 4, 1], output="tanh", loss="hinge", seed=0)
    with pytest.raises(ValueError, match="-1/\\+1"):
        hinge.evaluate(np.zeros((2, 2)), np.array([2, -2]))


def test_cuda_without_a_device_is_a_clear_error():
    from lab.engine.backend import cuda_available

    if cuda_available():
        pytest.skip("a CUDA device is present; the error path cannot be exercised here")
    with pytest.raises(ValueError, match="no CUDA device was found.*backend='cpu'"):
        MLP([2, 3, 1], backend="cuda")
    assert MLP([2, 3, 1], backend="auto").backend == "cpu"


def test_large_layers_take_the_blas_path_and_match_the_reference():
    from kernels.config import BLAS_MIN_MACS

    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 50))
    y = rng.integers(0, 20, 40)
    model = MLP([50, 60, 20], activation="tanh", output="softmax", dtype="float64", seed=0)
    assert 50 * 60 * 40 >= BLAS_MIN_MACS
    loss, grad = model.loss_and_grad(X, y)
    ref_loss, ref_grad = ref.loss_and_grad(model.params.copy(), model.sizes, ["tanh"], "softmax",
                                           "cross_entropy", X, np.eye(20)[y])
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-12)
