"""Lessons as data (lab.lessons): every step builds through its page's configuration, the terminal runner's
numbers follow the update rules computed here by hand, and the forward pass by hand (MLP.trace) matches
a NumPy forward pass."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import reference as ref

from lab import MLP, lessons, surfaces
from lab.lessons import pages
from lab.lessons.core import Lesson, Step
from lab.lessons.runner import RaceRunner, TrainingRunner
from lab.live import finite_histogram

SLUGS = ["gradient-descent-by-hand", "quadratic-descent", "momentum-vs-rmsprop", "rmsprop-digits", "keras-hinge",
         "numpy-primer", "xor-needs-a-hidden-layer", "spiral-features-or-depth", "overfitting-and-regularization",
         "learning-rate-too-high", "activations-compared", "sharp-and-flat-minima"]


def test_the_registry_holds_the_seed_lessons_by_their_slugs():
    assert lessons.names() == SLUGS
    assert {lessons.get(s).page for s in SLUGS} == {"race", "playground", "landscape"}
    with pytest.raises(ValueError, match="unknown lesson 'nope'; choose one of"):
        lessons.get("nope")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_step_of_every_lesson_builds_through_its_page_configuration(slug):
    lessons.check(lessons.get(slug))


def test_a_renamed_setting_breaks_the_check_and_names_the_step():
    lesson = lessons.get("xor-needs-a-hidden-layer")
    steps = list(lesson.steps)
    steps[1] = dataclasses.replace(steps[1], settings={"hidden_layers": "4"})
    with pytest.raises(ValueError, match=r"step 2: unknown setting 'hidden_layers'"):
        lessons.check(dataclasses.replace(lesson, steps=tuple(steps)))
    race = lessons.get("momentum-vs-rmsprop")
    bad = dataclasses.replace(race, settings={**race.settings, "r0.velocity": 0.5})
    with pytest.raises(ValueError, match="step 1: r0: momentum has no setting 'velocity'"):
        lessons.check(bad)


def test_a_steps_settings_are_the_lessons_with_every_change_up_to_it():
    lesson = Lesson("t", "T", "playground", "s", {"dataset": "xor", "sched.gamma": 0.5},
                    (Step("one"), Step("two", {"hidden": "4"}), Step("three", {"sched.gamma": None, "hidden": ""})))
    assert lesson.query(1) == {"dataset": "xor", "sched.gamma": "0.5"}
    assert lesson.query(2) == {"dataset": "xor", "sched.gamma": "0.5", "hidden": "4"}
    assert lesson.query(3) == {"dataset": "xor", "hidden": ""}
    assert lesson.link(2, controls="none") == "?lesson=t&step=2&controls=none"
    for bad, message in ((0, "has steps 1 to 3, not 0"), (4, "not 4"), ("two", "whole number from 1 to 3")):
        with pytest.raises(ValueError, match=message):
            lesson.query(bad)
    with pytest.raises(ValueError, match="unknown page"):
        Lesson("t", "T", "notebook", "s", {}, (Step("x"),))
    with pytest.raises(ValueError, match="unknown action"):
        Lesson("t", "T", "race", "s", {}, (Step("x", actions=("jump",)),))


def _by_hand(x0, lr, steps, value, grad, limit=1e8):
    """(step, J, dJ/dx, x) rows of gradient descent x <- x - lr * dJ/dx, until |x| passes ``limit``."""
    rows, x = [], x0
    for t in range(steps + 1):
        rows.append((t, value(x), grad(x), x))
        x = x - lr * grad(x)
        if abs(x) > limit:
            return rows, True
    return rows, False


@pytest.mark.parametrize("slug, value, grad, x0", [
    ("gradient-descent-by-hand", lambda c: sum((xi - c) ** 2 for xi in range(1, 6)),
     lambda c: -2 * sum(xi - c for xi in range(1, 6)), 0.0),
    ("quadratic-descent", lambda u: u * u + u + 1, lambda u: 2 * u + 1, 20.0),
])
def test_the_one_dimensional_lessons_tables_follow_the_update_rule(slug, value, grad, x0):
    lesson = lessons.get(slug)
    runner = RaceRunner(lesson)
    for k in range(1, len(lesson) + 1):
        lr = float(lesson.query(k)["r0.learning_rate"])
        steps = sum(a[1] for a in lesson.step(k).actions if isinstance(a, tuple))
        rows = runner.step(k)
        expected, diverged = _by_hand(x0, lr, steps, value, grad)
        name = "c" if slug == "gradient-descent-by-hand" else "u"
        got = [(r["step"], r["J"], r[f"dJ/d{name}"], r[name]) for r in rows if "note" not in r]
        assert len(got) == len(expected), (k, len(got), len(expected))
        np.testing.assert_allclose(np.array(got), np.array(expected), rtol=1e-9, atol=1e-9)
        assert diverged == any(r.get("note") == "diverged" for r in rows), k
    # the lessons' own claims: 0.05 converges to the mean 3, lr 0.2 (resp. 1.0) never settles, the last diverges
    assert diverged


def test_the_momentum_race_follows_heavy_ball_momentum_by_hand():
    lesson = lessons.get("momentum-vs-rmsprop")
    runner = RaceRunner(lesson)
    for k in (1, 2, 3, 4):
        rows = runner.step(k)
        q = lesson.query(k)
        surface = surfaces.get("quadratic", condition=float(q["condition"]), angle=float(q["angle"]))
        path = ref.optimizer_path("momentum", surface.grad, [-1.8, 1.2], lesson.play,
                                  lr=float(q["r0.learning_rate"]), mu=float(q["r0.momentum"]))
        assert rows[0]["steps"] == lesson.play
        np.testing.assert_allclose([rows[0]["x"], rows[0]["y"]], path[-1], rtol=1e-9, atol=1e-12)
    # momentum 0.5 and 0.9 end far nearer the minimum than 0 (plain descent) does after as many steps
    distances = {k: runner.step(k)[0]["distance to minimum"] for k in (1, 2, 3)}
    assert distances[3] < distances[2] < distances[1]


def test_the_hinge_lessons_hand_set_model_is_exact_and_its_loss_is_the_hinge_formula():
    lesson = lessons.get("keras-hinge")
    runner = TrainingRunner(lesson)
    runner.step(1)
    runner.step(2)
    row = runner.step(3)[-1]
    live = runner.live
    X, y = live.split.X_train, live.split.y_train
    Z, A = ref.forward(live.model.params.astype(np.float64), [2, 5, 1], ["tanh"], "tanh", X.astype(np.float64))
    t = np.where(y > 0, 1.0, -1.0)[:, None]
    assert row["train loss"] == pytest.approx(np.mean(np.maximum(0.0, 1.0 - t * A[-1])), rel=1e-5)
    assert row["train accuracy"] == 1.0 and row["test accuracy"] == 1.0
    result = live.model.trace((0.3, 0.1))
    assert result["layers"][0]["a"][0] == pytest.approx(np.tanh(-1.0))
    assert result["output"][0] == pytest.approx(np.tanh(5 * np.tanh(-1.0)))


def test_the_digits_lesson_reports_test_cost_and_error_rate_every_print_period():
    lesson = lessons.get("rmsprop-digits")
    runner = TrainingRunner(lesson)
    rows = runner.step(1)
    assert [r["epoch"] for r in rows] == [10, 20, 30]
    last = rows[-1]
    assert last["test error rate"] == pytest.approx(1 - last["test accuracy"])
    live = runner.live
    X, y = live.X_test.astype(np.float64), live.split.y_test
    _, A = ref.forward(live.model.params.astype(np.float64), [64, 64, 10], ["tanh"], "softmax", X)
    assert last["test loss"] == pytest.approx(-np.mean(np.log(A[-1][np.arange(len(y)), y])), rel=1e-4)
    assert 1 - last["test accuracy"] == pytest.approx(np.mean(A[-1].argmax(axis=1) != y))
    # RMSprop (step 3) ends below plain batch descent (step 1) in test cost, as the primer shows
    runner.step(2)
    assert runner.step(3)[-1]["test loss"] < last["test loss"]


def test_the_learning_rate_lesson_diverges_and_says_so():
    lesson = lessons.get("learning-rate-too-high")
    runner = TrainingRunner(lesson)
    assert runner.step(1)[-1]["status"] == "running"
    row = runner.step(2)[-1]
    assert row["status"] == "diverged" and "Lower the learning rate (now 0.3)" in row["note"]


def test_the_overfitting_lesson_shows_the_test_loss_rising_then_regularization_lowering_it():
    lesson = lessons.get("overfitting-and-regularization")
    runner = TrainingRunner(lesson)
    plain = runner.step(1)
    assert plain[-1]["test loss"] > 2 * min(r["test loss"] for r in plain)
    assert plain[-1]["train loss"] < plain[0]["train loss"]
    assert runner.step(2)[-1]["test loss"] < plain[-1]["test loss"] / 2
    assert runner.step(4)[-1]["status"] == "early_stopped"


def test_the_command_line_lists_and_runs_lessons():
    listed = subprocess.run([sys.executable, "-m", "lab.lessons"], capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0
    for slug in SLUGS:
        assert slug in listed.stdout
    run = subprocess.run([sys.executable, "-m", "lab.lessons", "quadratic-descent"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Step 4 of 4" in run.stdout and "diverged" in run.stdout and " 7.7" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "lab.lessons", "nope"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "unknown lesson 'nope'" in bad.stderr


@pytest.mark.parametrize("hidden, output, features", [
    (["tanh", "relu"], "sigmoid", None), (["gelu"], "softmax", None), (["elu", "leaky_relu"], "linear", None),
    (["silu"], "tanh", ["x1", "x2", "x1*x2", "sin(x1)"]), (["softplus"], "softmax", ["x1^2", "x2^2"]),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trace_matches_a_numpy_forward_pass(hidden, output, features, dtype):
    n_in = len(features) if features else 3
    n_out = 3 if output == "softmax" else 1
    sizes = [n_in, *([4] * len(hidden)), n_out]
    model = MLP(sizes, activation=hidden, output=output, features=features, dtype=dtype, seed=3)
    model.params[:] = np.random.default_rng(3).normal(size=model.params.size)  # biases too (they start at 0)
    point = np.array([0.7, -1.3]) if features else np.array([0.7, -1.3, 2.1])
    if features:
        funcs = {"x1": lambda a, b: a, "x2": lambda a, b: b, "x1*x2": lambda a, b: a * b,
                 "sin(x1)": lambda a, b: np.sin(a), "x1^2": lambda a, b: a * a, "x2^2": lambda a, b: b * b}
        x = np.array([[funcs[f](*point) for f in features]])
    else:
        x = point[None, :]
    Z, A = ref.forward(model.params.astype(np.float64), sizes, hidden, output, x)
    result = model.trace(point)
    assert list(result["features"].values()) == pytest.approx(list(x[0]))
    for layer, z, a in zip(result["layers"], Z, A[1:]):
        np.testing.assert_allclose(layer["z"], z[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer["a"], a[0], rtol=1e-12, atol=1e-12)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(result["output"], model.predict(x if not features else point[None, :])[0], rtol=tol,
                               atol=tol)
    assert result["predicted"] == model.predict_classes(point[None, :])[0] or output == "linear"


def test_trace_refuses_bad_input():
    with pytest.raises(ValueError, match="x must have 3 numbers, got 2"):
        MLP([3, 2, 1]).trace([1, 2])
    with pytest.raises(ValueError, match=r"takes a 2-D point \(x1, x2\), got 3"):
        MLP([1, 1], features=["x1*x2"]).trace([1, 2, 3])
    with pytest.raises(ValueError, match="NaN or inf"):
        MLP([2, 1]).trace([np.nan, 1])


def test_many_epochs_at_once_give_the_curves_their_points_and_one_frame():
    live = TrainingRunner(lessons.get("xor-needs-a-hidden-layer"))
    live.step(2)
    run = live.live
    before = run.frames_made
    frame = run.advance_epochs(30, points=10)
    assert run.frames_made == before + 1 and frame["epoch"] == 80
    epochs = [r["epoch"] for r in frame["backfill"]]
    assert epochs == sorted(epochs) and len(epochs) == 9 and epochs[0] > 50 and epochs[-1] < 80
    assert all(np.isfinite(r["train_loss"]) and len(r["gradient_norms"]) == 2 for r in frame["backfill"])


def test_a_diverged_runs_histograms_are_of_its_finite_values():
    counts, edges = finite_histogram(np.array([1.0, np.nan, np.inf, 2.0]))
    assert counts.sum() == 2 and edges[0] == 1.0 and edges[-1] == 2.0
    counts, _ = finite_histogram(np.array([np.nan]))
    assert counts.sum() == 1  # nothing finite: one empty-looking bin at 0, not an error


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).normal(size=1000),          # weights
    np.random.default_rng(1).normal(size=25) * 1e-6,     # a tiny gradient
    np.arange(-3.0, 4.0).repeat(5),                      # values right on the bin edges
    np.array([2.5]), np.array([-1.0, -1.0]),             # one value: a unit-wide range around it
    np.random.default_rng(2).normal(size=(7, 9)),        # a weight matrix
], ids=["normal", "tiny", "on-edges", "one", "equal", "2-d"])
def test_finite_histogram_counts_as_numpy_does(values):
    counts, edges = finite_histogram(values)
    np_counts, np_edges = np.histogram(values, bins=30)
    np.testing.assert_array_equal(counts, np_counts)
    np.testing.assert_allclose(edges, np_edges, rtol=1e-15, atol=0)


@pytest.mark.parametrize("values", [[-1e308, 1e308], [1.7e308, -1.7e308, 0.0], [0.0, 5e-324], [1e-310, 3e-310]])
def test_finite_histogram_bins_spans_numpy_refuses(values):
    # np.histogram raises "Too many bins for data range" here; a run's last frame must still be drawn
    counts, edges = finite_histogram(np.array(values))
    assert counts.sum() == len(values) and np.all(np.isfinite(edges)) and np.all(np.diff(edges) >= 0)
    assert edges[0] <= min(values) and edges[-1] >= max(values)


def test_landscape_lessons_build_a_run_and_a_surface():
    run, surface = pages.landscape(lessons.get("sharp-and-flat-minima").query(2))
    assert run.batch_size == 500 and surface.resolution == 31
