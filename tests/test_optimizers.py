"""One table of optimizers: convergence on a convex quadratic and on Rosenbrock, each update rule
against a NumPy reference from the formulas, the kernel against the Python step loop, and bad values."""

import numpy as np
import pytest
import reference as ref

from lab import MLP, Trainer, optimizers, schedules, surfaces

# name, settings for the quadratic, settings for Rosenbrock from (-1.5, 2), steps on Rosenbrock
TABLE = [
    ("sgd", dict(learning_rate=0.05), dict(learning_rate=1e-3), 20000),
    ("momentum", dict(learning_rate=0.02, momentum=0.9), dict(learning_rate=2e-4, momentum=0.9), 20000),
    ("nesterov", dict(learning_rate=0.02, momentum=0.9), dict(learning_rate=2e-4, momentum=0.9), 20000),
    ("adagrad", dict(learning_rate=0.5), dict(learning_rate=0.5), 20000),
    ("rmsprop", dict(learning_rate=0.01, schedule=schedules.get("exponential", rate=0.003)),
     dict(learning_rate=1e-3, schedule=schedules.get("exponential", rate=2e-4)), 20000),
    ("adam", dict(learning_rate=0.05), dict(learning_rate=0.02), 20000),
    ("adamw", dict(learning_rate=0.05), dict(learning_rate=0.02, weight_decay=1e-4), 20000),
    # Lion moves every coordinate by exactly lr: it settles only as a schedule shrinks lr
    ("lion", dict(learning_rate=0.02, schedule=schedules.get("exponential", rate=0.003)),
     dict(learning_rate=2e-3, schedule=schedules.get("exponential", rate=1e-4)), 20000),
]
REF_SETTINGS = {"sgd": {}, "momentum": dict(mu=0.9), "nesterov": dict(mu=0.9), "adagrad": dict(eps=1e-10),
                "rmsprop": dict(rho=0.9, mu=0.5), "adam": {},
                "adamw": dict(wd=0.05), "lion": dict(b2=0.99, wd=0.1)}
OPT_SETTINGS = {"sgd": {}, "momentum": dict(momentum=0.9), "nesterov": dict(momentum=0.9), "adagrad": {},
                "rmsprop": dict(decay=0.9, momentum=0.5), "adam": {},
                "adamw": dict(weight_decay=0.05), "lion": dict(weight_decay=0.1)}


def test_table_covers_every_optimizer():
    assert sorted(optimizers.names()) == sorted(row[0] for row in TABLE)


@pytest.mark.parametrize("name,quad,rosen,steps", TABLE)
def test_converges_on_quadratic_and_rosenbrock(name, quad, rosen, steps):
    bowl = surfaces.get("quadratic", condition=10.0, angle=30.0)
    path = surfaces.run(bowl, optimizers.get(name, **quad), start=(-1.8, 1.2), steps=2000)
    assert bowl.value(path[-1]) < 1e-6
    f = surfaces.get("rosenbrock")
    path = surfaces.run(f, optimizers.get(name, **rosen), start=(-1.5, 2.0), steps=steps)
    assert np.linalg.norm(path[-1] - np.array([1.0, 1.0])) < 0.05, path[-1]


@pytest.mark.parametrize("name", optimizers.names())
def test_update_rule_matches_reference_for_100_steps(name):
    f = surfaces.get("rosenbrock")
    lr = 1e-3
    expected = ref.optimizer_path(name, f.grad, (-1.5, 2.0), 100, lr, **REF_SETTINGS[name])
    got = surfaces.run(f, optimizers.get(name, learning_rate=lr, **OPT_SETTINGS[name]), (-1.5, 2.0), 100)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_tensorflow_rmsprop_is_expressible_and_state_is_exposed():
    opt = optimizers.get("rmsprop", learning_rate=0.001, decay=0.99, momentum=0.9)
    x = np.array([1.0, -2.0])
    state = opt.init(x)
    x1, state1 = opt.step(x, np.array([0.5, 0.5]), state)
    assert state.step == 0 and state1.step == 1  # step() does not mutate its inputs
    assert set(state1.arrays) == {"cache", "velocity"}
    np.testing.assert_allclose(state1.cache, 0.01 * 0.25)
    assert not np.array_equal(x1, x)


@pytest.mark.parametrize("name", optimizers.names())
@pytest.mark.parametrize("schedule", ["constant", "step", "exponential"])
def test_kernel_training_equals_python_step_loop(name, schedule):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2))
    y = (X[:, 0] > 0).astype(int)
    sched = schedules.get(schedule, **({"every": 3} if schedule == "step" else {}))
    opt = optimizers.get(name, learning_rate=0.05, **OPT_SETTINGS[name])
    opt.schedule = sched
    model = MLP([2, 4, 1], activation="tanh", dtype="float64", seed=0)
    start = model.params.copy()
    # full-batch steps in data order: every step is one epoch (the schedule sees the same t) and
    # the gradient sums run in the same order as loss_and_grad's
    trainer = Trainer(model, model.check_inputs(X), model.check_targets(y, 16), opt, batch_size=16,
                      shuffle=False)
    trainer.run(10)
    kernel_params = model.params.copy()
    model.params[:] = start
    state = opt.init(model.params)
    x = model.params.copy()
    for _ in range(10):
        model.params[:] = x
        _, grad = model.loss_and_grad(X, y)
        x, state = opt.step(x, grad, state)
    np.testing.assert_array_equal(kernel_params, x)


@pytest.mark.parametrize("name,settings,message", [
    ("sgd", dict(learning_rate=-0.1), "learning_rate"),
    ("momentum", dict(momentum=1.0), "momentum"),
    ("rmsprop", dict(decay=1.0), "decay"),
    ("rmsprop", dict(decay=-0.1), "decay"),
    ("adam", dict(beta1=1.5), "beta1"),
    ("adam", dict(gamma=0.5), "no hyperparameter"),
    ("lbfgs", {}, "unknown optimizer"),
])
def test_bad_hyperparameters_name_the_parameter(name, settings, message):
    with pytest.raises(ValueError, match=message):
        optimizers.get(name, **settings)


def test_switching_optimizer_mid_run_starts_it_fresh_and_keeps_the_weights():
    """Momentum's velocity must not leak into Adam, and Adam's bias correction must start at t = 1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP([2, 4, 1], activation="tanh", dtype="float64", seed=0)
    trainer = Trainer(model, model.check_inputs(X), model.check_targets(y, 16),
                      optimizers.get("momentum", learning_rate=0.05, momentum=0.9), batch_size=16, shuffle=False)
    trainer.run(5)
    assert np.any(trainer.opt_state != 0)
    switched = model.params.copy()
    adam = optimizers.get("adam", learning_rate=0.01)
    trainer.optimizer = adam
    assert np.all(trainer.opt_state == 0)
    np.testing.assert_array_equal(model.params, switched)
    trainer.run(3)
    trained = model.params.copy()
    # the same three steps from the switched weights with a fresh Adam, by the Python step loop
    x, state = switched.copy(), adam.init(switched)
    for _ in range(3):
        model.params[:] = x
        _, grad = model.loss_and_grad(X, y)
        x, state = adam.step(x, grad, state)
    np.testing.assert_allclose(trained, x, rtol=0, atol=1e-15)
    assert trainer.step == 8  # the run's own step count goes on
    # a changed hyperparameter of the same optimizer keeps its state
    before = trainer.opt_state.copy()
    trainer.optimizer = optimizers.get("adam", learning_rate=0.02)
    np.testing.assert_array_equal(trainer.opt_state, before)
