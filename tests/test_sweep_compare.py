"""The Sweep page's comparison (lab.sweep_compare): its grid, its checks, and each cell's numbers as runs
finish: mean test loss over seeds, epochs to a target, diverged runs, curves, the Playground link."""

import math

import numpy as np
import pytest

from lab import sweep as S
from lab.sweep_compare import CompareConfig, Comparison, parse_values

SMALL = dict(dataset="xor", n_points=100, hidden="4", epochs=12, seeds=2, lr_count=3, lr_min=0.01, lr_max=1.0,
             values_a="0, 0.9", values_b="0.9, 0.99")


def test_the_grid_is_learning_rates_on_a_log_scale_by_each_optimizers_own_hyperparameter():
    c = Comparison(CompareConfig(**SMALL))
    assert c.lrs == [0.01, 0.1, 1.0]
    assert c.seconds == ["momentum", "decay"] and c.rows_of == [[0.0, 0.9], [0.9, 0.99]]
    assert len(c) == 2 * 2 * 3 * 2 and c.shape(0) == (2, 3)
    cell = c.cells[1][c.shape(1)[1] * 1 + 2]  # rmsprop, second row, last column
    assert cell.settings["optimizer_name"] == "rmsprop" and cell.settings["opt.decay"] == "0.99"
    assert cell.settings["opt.learning_rate"] == "1.0" and cell.settings["dataset"] == "xor"
    assert c.position(1, 5) == (2, 1)
    # an optimizer without a second hyperparameter gets one row
    c = Comparison(CompareConfig(**{**SMALL, "optimizer_a": "sgd"}))
    assert c.seconds[0] is None and c.shape(0) == (1, 3)
    # choosing an optimizer fills in its hyperparameter's usual values
    config = CompareConfig()
    config.optimizer_b = "adam"
    assert config.values_b == "0, 0.5, 0.9, 0.99" and config.second_axis("b")[0] == "beta1"


@pytest.mark.parametrize("change, message", [
    (dict(values_a="0, x"), "must be numbers"),
    (dict(values_a=""), "at least one value"),
    (dict(values_b="0.9, 1.5"), "decay"),                          # outside RMSprop's bounds, named
    (dict(lr_min=0.5, lr_max=0.1), "smallest learning rate"),
    (dict(hidden="4, x"), "hidden layers"),
    (dict(base="reg.l2=oops"), "reg"),
    (dict(base="optimizer_name=adam"), "set by the sweep"),
    (dict(optimizer_b="momentum", values_b="0, 0.9"), "the same"),
])
def test_bad_settings_are_refused_before_any_run(change, message):
    with pytest.raises(ValueError, match=message):
        Comparison(CompareConfig(**{**SMALL, **change}))


def test_values_are_parsed_sorted_and_limited():
    assert parse_values("0.9; 0.5, 0.9", "momentum") == [0.5, 0.9]
    with pytest.raises(ValueError, match="at most 12"):
        parse_values(",".join(str(i / 100) for i in range(13)), "momentum")
    with pytest.raises(ValueError, match="finite"):
        parse_values("nan", "momentum")


def test_a_playground_link_fills_data_and_network_and_keeps_the_rest():
    config = CompareConfig()
    config.take_link("http://teacher:5006/apps?page=playground&dataset=xor&hidden=6,3&noise=0.1&batch_size=20"
                     "&features=x1,x2,x1*x2&reg.l2=0.001&optimizer_name=adam&opt.learning_rate=0.1&seed=3&present=1")
    assert (config.dataset, config.hidden, config.noise, config.batch_size) == ("xor", "6,3", 0.1, 20)
    assert config.base_settings() == {"features": "x1,x2,x1*x2", "reg.l2": "0.001"}  # no optimizer, seed or page keys
    with pytest.raises(ValueError, match="nope"):
        config.take_link("?page=playground&nope=1")


def test_cells_fill_as_runs_finish_with_means_over_seeds(client):
    c = Comparison(CompareConfig(**{**SMALL, "lr_max": 10.0, "lr_count": 2}))  # lr 10 diverges
    added = []
    runs, curves = c.sweep.run(client=client, progress=False, on_result=lambda r, cv: added.append(c.add(r, cv)))
    assert c.finished == len(c) == len(runs) and all(a is not None for a in added)
    assert c.diverged == int((runs.status == "diverged").sum()) > 0
    for k in (0, 1):
        table = c.table(k, target=0.5)
        for index in range(len(table["column"])):
            settings = c.cells[k][index].settings
            mine = runs[(runs.optimizer_name == settings["optimizer_name"])
                        & (runs["opt.learning_rate"] == settings["opt.learning_rate"])]
            second = c.seconds[k]
            mine = mine[mine[f"opt.{second}"] == settings[f"opt.{second}"]]
            assert table["finished"][index] == len(mine) == 2
            ok = mine[mine.status == "converged"]
            assert table["diverged"][index] == (mine.status == "diverged").sum()
            if len(ok):
                assert table["test_loss"][index] == pytest.approx(ok.test_loss.mean(), rel=1e-12)
                # epochs to target: the first epoch whose test loss is at most the target, averaged over the seeds
                firsts = []
                for run in ok.run:
                    val = curves[curves.run == run].sort_values("epoch").val_loss.to_numpy()
                    hit = np.flatnonzero(val <= 0.5)
                    if len(hit):
                        firsts.append(hit[0] + 1)
                assert table["reached"][index] == len(firsts)
                if firsts:
                    assert table["epochs_to_target"][index] == pytest.approx(np.mean(firsts))
                mean = c.mean_curve(k, index)
                assert len(mean) == 12 and np.all(np.isfinite(mean))
            else:
                assert math.isnan(table["test_loss"][index])


def test_a_cells_playground_link_is_its_first_run():
    c = Comparison(CompareConfig(**SMALL))
    query = c.playground_query(0, 4)
    row, _ = S.train_one(c.cells[0][4].settings, 0, 12)
    assert row["run"] == S.run_id(c.cells[0][4].settings, 0)
    assert query["seed"] == "0" and query["max_epochs"] == "12" and query["optimizer_name"] == "momentum"
    S.configure({k: v for k, v in query.items()})  # the Playground accepts every key


def test_the_colour_range_spans_both_optimizers_finished_cells(client):
    c = Comparison(CompareConfig(**SMALL))
    assert c.value_range("test_loss", 0.5) is None  # nothing finished yet
    c.sweep.run(client=client, progress=False, on_result=c.add)
    losses = [v for k in (0, 1) for v in c.table(k, 0.5)["test_loss"] if v == v]
    assert c.value_range("test_loss", 0.5) == (min(losses), max(losses))
