"""The network diagram's frame: every link, bias and neuron map shows its own weight, bias and unit output
(apps.playground.network reads them out of the frame's arrays in one go, not one value at a time)."""

import re

import numpy as np
import pytest

from apps.playground.network import NetworkView
from apps.playground.views import levels
from lab.live import LiveTraining
from lab.playground import MAX_DIAGRAM_UNITS, PlaygroundConfig


@pytest.mark.parametrize("dataset,hidden", [("circle", "4, 2"), ("spiral", "5, 3, 2"), ("digits", "12")])
def test_each_link_bias_and_map_shows_its_own_value(dataset, hidden):
    live = LiveTraining(PlaygroundConfig(dataset=dataset, hidden=hidden))
    live._train(20)
    view = NetworkView(live)
    frame = live._publish()  # with the unit maps' colour levels, made as the training thread makes frames
    assert ("unit_levels" in frame) == live.split.is_2d
    view.update(frame)
    weights = frame["weights"]
    links = view.links.data
    assert len(links["w"]) == sum(min(a, MAX_DIAGRAM_UNITS) * min(b, MAX_DIAGRAM_UNITS)
                                  for a, b in zip(live.model.sizes, live.model.sizes[1:]))
    for label, w in zip(links["label"], links["w"]):
        l, i, j = map(int, re.fullmatch(r"layer (\d+) unit (\d+) -> unit (\d+)", label).groups())
        assert w == np.float32(weights[l][0][i, j])
    shown = view.shown
    expected = [np.float32(b) for l, (_, bias) in enumerate(weights) for b in bias[:shown[l + 1]]]
    neurons = view.neurons.data
    assert list(neurons["b"][view.n_inputs:]) == expected and not any(neurons["b"][:view.n_inputs])
    assert neurons["bias"][view.n_inputs:] == [f"{b:.4f}" for b in expected]
    assert np.isnan(neurons["bx"][:view.n_inputs]).all() and not np.isnan(neurons["bx"][view.n_inputs:]).any()
    if live.split.is_2d:
        offsets = np.cumsum([0] + live.model.sizes[:-1])
        rows = [offsets[l] + i for l, n in enumerate(shown) for i in range(n)]
        for image, row in zip(view.neurons.data["image"], rows, strict=True):
            np.testing.assert_array_equal(image, levels(frame["unit_grids"][row], -1.0, 1.0))
        del frame["unit_levels"]  # a frame made before the view: the levels are made here
        view.neurons.data["image"] = [np.zeros((2, 2), np.uint8)] * len(rows)
        view.update(frame)
        for image, row in zip(view.neurons.data["image"], rows, strict=True):
            np.testing.assert_array_equal(image, levels(frame["unit_grids"][row], -1.0, 1.0))
    live.stop()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_colour_levels_span_the_range_and_give_nan_and_infinities_an_end(dtype):
    grid = np.array([[-1.0, 1.0, 0.0, 0.5], [-3.0, 7.0, np.nan, np.inf], [-np.inf, -0.999, 0.999, 0.2]], dtype)
    got = levels(grid, -1.0, 1.0)
    assert got.dtype == np.uint8 and got.shape == grid.shape
    assert got.tolist() == [[0, 255, 128, 191], [0, 255, 0, 255], [0, 0, 255, 153]]
    assert np.isnan(grid).sum() == 1  # the grid itself is left as it was
    assert levels(np.array([0.25, 0.75]), 0.0, 1.0).tolist() == [64, 191]
