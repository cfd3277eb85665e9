"""Every CUDA kernel against the CPU kernel of the same name, on small shapes (the simulator is slow).

Run in a process started with NUMBA_ENABLE_CUDASIM=1 (make test does), or on a real GPU."""

import numpy as np
import pytest

import kernels.cpu as cpu
import kernels.cuda as gpu
from kernels import codes as C
from lab import MLP, Trainer, optimizers, regularizers


def _case(output="sigmoid", loss=None, k=1, dtype="float64", hidden=(4,), n=12, seed=0, features=None,
          activation="tanh"):
    rng = np.random.default_rng(seed)
    model = MLP([3 if features else 2, *hidden, k], activation=activation, output=output, loss=loss, dtype=dtype,
                seed=seed, features=features)
    X = model.check_inputs(rng.normal(size=(n, 2)))
    if model.loss == "cross_entropy":
        y = rng.integers(0, k, n)
    elif model.loss == "mse":
        y = rng.normal(size=n)
    else:
        y = rng.integers(0, 2, n)
    return model, X, model.check_targets(y, n)


HEADS = [("sigmoid", None, 1), ("softmax", None, 3), ("tanh", "hinge", 1), ("linear", "mse", 1)]


@pytest.mark.parametrize("output,loss,k", HEADS)
def test_evaluation_kernels_match_cpu(output, loss, k):
    model, X, T = _case(output, loss, k, features=["x1", "x2", "x1*x2"])
    args = (model.params, model._sizes, model._acts)
    for backend in (cpu, gpu):
        out = np.empty((X.shape[0], k))
        backend.predict(*args, model._features, X, out)
        if backend is cpu:
            expected = out
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    grid_cpu = np.empty((sum(model.sizes), X.shape[0]))
    grid_gpu = np.empty_like(grid_cpu)
    cpu.eval_grid(*args, model._features, X, grid_cpu)
    gpu.eval_grid(*args, model._features, X, grid_gpu)
    np.testing.assert_allclose(grid_gpu, grid_cpu, rtol=1e-10, atol=1e-12)
    assert gpu.dataset_loss(*args, model._loss, model._features, X, T) == pytest.approx(
        cpu.dataset_loss(*args, model._loss, model._features, X, T), rel=1e-10)
    P = model.params + np.random.default_rng(1).normal(size=(3, model.n_params)) * 0.1
    loss_cpu, acc_cpu, loss_gpu, acc_gpu = (np.empty(3) for _ in range(4))
    cpu.loss_many(P, model._sizes, model._acts, model._loss, model._features, X, T, loss_cpu, acc_cpu)
    gpu.loss_many(P, model._sizes, model._acts, model._loss, model._features, X, T, loss_gpu, acc_gpu)
    np.testing.assert_allclose(loss_gpu, loss_cpu, rtol=1e-10)
    np.testing.assert_allclose(acc_gpu, acc_cpu)


@pytest.mark.parametrize("activation", sorted(C.ACTIVATIONS))
def test_every_activation_matches_cpu(activation):
    model, X, T = _case(hidden=(3,), n=6, activation=activation)
    grads, values = [], []
    for backend in (cpu, gpu):
        g = np.empty_like(model.params)
        values.append(backend.loss_and_grad(model.params, model._sizes, model._acts, model._loss,
                                            model._features, X, T, 0.0, 0.0, False, g))
        grads.append(g)
    assert values[1] == pytest.approx(values[0], rel=1e-10)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("output,loss,k", HEADS)
def test_loss_and_grad_matches_cpu(output, loss, k):
    model, X, T = _case(output, loss, k)
    grads = []
    values = []
    for backend in (cpu, gpu):
        g = np.empty_like(model.params)
        values.append(backend.loss_and_grad(model.params, model._sizes, model._acts, model._loss,
                                            model._features, X, T, 0.01, 0.02, False, g))
        grads.append(g)
    assert values[1] == pytest.approx(values[0], rel=1e-10)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", optimizers.names())
def test_optimizer_update_matches_cpu(name):
    opt = optimizers.get(name, learning_rate=0.05)
    rng = np.random.default_rng(0)
    params, grad = rng.normal(size=20), rng.normal(size=20)
    state = rng.uniform(0, 1, (2, 20))
    results = []
    for backend in (cpu, gpu):
        p, s = params.copy(), state.copy()
        backend.opt_update(opt.code, opt.hyper(), 0.05, 3, p, grad, s)
        results.append((p, s))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-9), ("float32", 1e-4)])
def test_seeded_training_matches_cpu(dtype, tol):
    finals = []
    for backend in ("cpu", "cuda"):
        model, X, T = _case(dtype=dtype, hidden=(4, 3), n=10)
        model.backend, model._kernels = backend, cpu if backend == "cpu" else gpu
        trainer = Trainer(model, X, T, optimizers.get("adam", learning_rate=0.05), batch_size=4, seed=3,
                          regularization=regularizers.get(l2=0.01))
        trainer.validation = trainer._val = (X[:4], T[:4])  # history rows with validation columns
        losses = trainer.run(6)
        finals.append((model.params.copy(), losses, trainer.counters.copy(), trainer.perm.copy(), trainer.rows))
    (p_cpu, l_cpu, c_cpu, perm_cpu, h_cpu), (p_gpu, l_gpu, c_gpu, perm_gpu, h_gpu) = finals
    np.testing.assert_array_equal(perm_gpu, perm_cpu)
    np.testing.assert_array_equal(c_gpu, c_cpu)
    np.testing.assert_allclose(l_gpu, l_cpu, rtol=tol)
    assert h_cpu.shape == (2, C.N_HISTORY) and np.all(np.isfinite(h_cpu))  # 6 steps of 3 per epoch: 2 rows
    np.testing.assert_allclose(h_gpu, h_cpu, rtol=tol)  # loss, accuracy, validation, learning rate
    np.testing.assert_allclose(p_gpu, p_cpu, rtol=tol, atol=tol)


def test_dropout_and_noise_run_on_cuda():
    model, X, T = _case(hidden=(4,), n=8)
    model._kernels = gpu
    trainer = Trainer(model, X, T, optimizers.get("sgd", learning_rate=0.1), batch_size=8,
                      regularization=regularizers.get(keep_hidden=0.5, noise=0.1))
    start = model.params.copy()
    losses = trainer.run(2)
    assert losses.size == 2 and np.all(np.isfinite(losses))
    assert not np.array_equal(model.params, start)


def test_divergence_is_detected_on_cuda():
    model, X, T = _case(output="linear", loss="mse", hidden=(4,), n=8)
    model._kernels = gpu
    model.params[:] = 1e30
    trainer = Trainer(model, X * 1e10, T, optimizers.get("sgd", learning_rate=10.0), batch_size=8)
    trainer.run(3)
    assert trainer.status == "diverged"
    assert C.DIVERGED == trainer.counters[C.C_STATUS]


def test_backend_selection_uses_cuda_when_available():
    assert MLP([2, 3, 1], backend="auto").backend == "cuda"
    model = MLP([2, 3, 1], backend="cuda", dtype="float64", seed=0)
    reference = MLP([2, 3, 1], backend="cpu", dtype="float64", seed=0)
    X = np.random.default_rng(0).normal(size=(6, 2))
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-12)
