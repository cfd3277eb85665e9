"""Loss landscapes: filter normalisation, the grid's centre, 1-D slices, PCA directions, projections."""

import numpy as np
import pytest

from lab import MLP, datasets, landscape


@pytest.fixture(scope="module")
def trained():
    s = datasets.make("xor", n=200, seed=0)
    model = MLP([2, 6, 5, 1], activation="tanh", dtype="float64", seed=0)
    model.fit(s.X_train, s.y_train, epochs=5, optimizer="adam", learning_rate=0.02)
    return model, s.X_train, s.y_train


def test_filter_normalisation_matches_each_neurons_norm(trained):
    model, _, _ = trained
    for bias in ("zero", "normalize"):
        d1, d2 = landscape.random_directions(model, normalization="filter", bias=bias, seed=3)
        for d in (d1, d2):
            for w, shape, b in model.layer_slices():
                np.testing.assert_allclose(np.linalg.norm(d[w].reshape(shape), axis=0),
                                           np.linalg.norm(model.params[w].reshape(shape), axis=0), rtol=1e-10)
                if bias == "zero":
                    assert np.all(d[b] == 0)
                else:
                    np.testing.assert_allclose(np.abs(d[b]), np.abs(model.params[b]))
    d1, _ = landscape.random_directions(model, normalization="layer", seed=3)
    for w, _, _ in model.layer_slices():
        assert np.linalg.norm(d1[w]) == pytest.approx(np.linalg.norm(model.params[w]))
    a, _ = landscape.random_directions(model, seed=1)
    b, _ = landscape.random_directions(model, seed=1)
    np.testing.assert_array_equal(a, b)


def test_grid_centre_is_the_model_loss_and_slices_match_direct_evaluation(trained):
    model, X, y = trained
    d = landscape.random_directions(model, seed=0)
    alphas, betas, losses = landscape.loss_grid(model, X, y, d, span=0.5, resolution=21)
    assert losses.shape == (21, 21)
    assert losses[10, 10] == pytest.approx(model.evaluate(X, y)["loss"], rel=1e-12)
    i, j = 3, 17  # losses[i, j] is at params + alphas[j] d1 + betas[i] d2
    probe = MLP(model.sizes, activation=model.activations, output=model.output, dtype="float64")
    probe.params[:] = model.params + alphas[j] * d[0] + betas[i] * d[1]
    assert losses[i, j] == pytest.approx(probe.evaluate(X, y)["loss"], rel=1e-12)
    ts, along = landscape.loss_slice(model, X, y, d[0], span=0.5, resolution=11)
    for t, value in zip(ts, along):
        probe.params[:] = model.params + t * d[0]
        assert value == pytest.approx(probe.evaluate(X, y)["loss"], rel=1e-12)
    np.testing.assert_allclose(along, losses[10, ::2], rtol=1e-12)


def test_pca_directions_are_orthonormal_and_a_straight_run_projects_onto_a_line(trained):
    model, _, _ = trained
    rng = np.random.default_rng(0)
    start = model.params.copy()
    v = rng.normal(size=start.size)
    straight = np.array([start + t * v for t in np.linspace(0, 1, 12) ** 2])
    (d1, d2), explained = landscape.pca_directions(straight)
    assert d1 @ d1 == pytest.approx(1) and d2 @ d2 == pytest.approx(1) and abs(d1 @ d2) < 1e-10
    assert explained[0] == pytest.approx(1.0, abs=1e-10)
    coords = landscape.project(straight, straight[-1], (d1, d2))
    assert np.abs(coords[:, 1]).max() < 1e-8  # all on the first axis: a line
    curved = straight + np.outer(np.sin(np.linspace(0, 3, 12)), rng.normal(size=start.size))
    (e1, e2), ratio = landscape.pca_directions(curved)
    assert abs(e1 @ e2) < 1e-10 and ratio.sum() <= 1.0 + 1e-12 and ratio[1] > 1e-3


def test_snapshot_for_random_and_pca_directions(trained):
    model, X, y = trained
    checkpoints = np.array([model.params + 0.1 * k * np.ones(model.n_params) for k in range(5, 0, -1)])
    for kind in ("random", "pca"):
        r = landscape.snapshot(model, X, y, checkpoints, directions=kind, resolution=11,
                               other_checkpoints=checkpoints[::-1] if kind == "pca" else None)
        assert r["losses"].shape == (11, 11) and r["trajectory"].shape == (5, 2)
        assert r["center_loss"] == pytest.approx(model.evaluate(X, y)["loss"], rel=1e-12)
        assert (r["explained"] is not None) == (kind == "pca")


@pytest.mark.parametrize("call,message", [
    (lambda m, X, y: landscape.random_directions(m, normalization="batch"), "normalization"),
    (lambda m, X, y: landscape.loss_grid(m, X, y, (m.params, m.params), resolution=2), "resolution"),
    (lambda m, X, y: landscape.loss_grid(m, X, y, (m.params[:3], m.params), resolution=5), "shape"),
    (lambda m, X, y: landscape.pca_directions(np.zeros((2, 5))), "at least 3"),
    (lambda m, X, y: landscape.pca_directions(np.zeros((4, 5))), "not moved"),
])
def test_bad_arguments(trained, call, message):
    with pytest.raises(ValueError, match=message):
        call(*trained)
