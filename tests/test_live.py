"""Live runs (what the pages drive): frames, divergence messages, limits, compare, settings round trips."""

import json
import time

import numpy as np
import pytest

from lab.live import LiveTraining, compare_config
from lab.playground import PlaygroundConfig, parse_hidden


def _config(**settings):
    lr = settings.pop("lr", None)
    c = PlaygroundConfig(**settings)
    if lr is not None:
        c.optimizers[c.optimizer_name].learning_rate = lr
    return c


def test_frames_carry_everything_the_views_draw():
    live = LiveTraining(_config(dataset="xor", hidden="4, 3", lr=0.1))
    f = live.advance(30)
    assert f["step"] == 30 and f["output_grid"].shape == (64, 64)
    assert f["unit_grids"].shape == (2 + 4 + 3 + 1, 16, 16)
    assert len(f["weights"]) == 3 and len(f["gradient_norms"]) == 3
    assert np.isfinite(f["train_loss"]) and 0 <= f["test_accuracy"] <= 1
    csv = live.history_csv().splitlines()
    assert csv[0].startswith("epoch,step,train_loss") and len(csv) == 2


def test_digits_frames_have_confusion_and_samples():
    live = LiveTraining(_config(dataset="digits", hidden="16", batch_size=32))
    f = live.step_epoch()
    assert f["confusion"].shape == (10, 10) and f["confusion"].sum() == len(live.split.y_test)
    assert f["sample_predictions"].shape == (24,)


def test_huge_learning_rate_on_spiral_is_reported_as_divergence():
    live = LiveTraining(_config(dataset="spiral", hidden="8, 8", lr=10.0))
    for _ in range(40):
        live.advance(50)
        if live.status == "diverged":
            break
    assert live.status == "diverged"
    assert "diverged" in live.message and "learning rate" in live.message


def test_max_epochs_stops_the_run():
    live = LiveTraining(_config(dataset="circle", max_epochs=3, lr=0.03))
    for _ in range(20):
        live.advance(100)
    assert live.trainer.epoch == 3 and "Stopped after 3 epochs" in live.message


def test_background_thread_trains_and_stops():
    live = LiveTraining(_config(dataset="xor", lr=0.1))
    live.play()
    deadline = time.time() + 10
    while live.frames_made < 5 and time.time() < deadline:
        live.take()
        time.sleep(0.01)
    assert live.frames_made >= 5 and live.thread_alive
    live.stop()
    assert not live.thread_alive


def test_compare_starts_from_identical_weights_and_data():
    base = _config(dataset="xor", optimizer_name="momentum")
    a = LiveTraining(base)
    other = compare_config(base, optimizer_name="rmsprop")
    b = LiveTraining(other, split=a.split, init_params=a.initial_params)
    np.testing.assert_array_equal(a.model.params, b.model.params)
    assert b.config.optimizer_name == "rmsprop" and base.optimizer_name == "momentum"
    a.advance(20)
    b.advance(20)
    assert not np.array_equal(a.model.params, b.model.params)


def test_settings_round_trip_through_url_and_json():
    c = _config(dataset="spiral", hidden="6, 5", optimizer_name="adam", schedule_name="step")
    c.optimizers["adam"].beta1 = 0.8
    c.schedules["step"].every = 7
    c.regularization.l2 = 0.01
    d = PlaygroundConfig()
    d.from_query(c.to_query())
    assert d.to_dict() == c.to_dict()
    e = PlaygroundConfig()
    e.from_json(c.to_json())
    assert e.to_dict() == c.to_dict() and json.loads(c.to_json())["optimizer"]["beta1"] == 0.8
    assert d.optimizer.schedule.every == 7


@pytest.mark.parametrize("query,message", [
    ({"dataset": "mnist"}, "dataset"), ({"noise": "lots"}, "noise"), ({"opt.gamma": "1"}, "unknown optimizer"),
    ({"batch_size": "0"}, "batch_size"),
])
def test_bad_url_settings_are_value_errors(query, message):
    with pytest.raises(ValueError, match=message):
        PlaygroundConfig().from_query(query)


@pytest.mark.parametrize("text,expected", [("8, 8", [8, 8]), ("", []), ("3;4", [3, 4])])
def test_parse_hidden(text, expected):
    assert parse_hidden(text) == expected


@pytest.mark.parametrize("settings,message", [
    (dict(hidden="a, b"), "whole numbers"), (dict(hidden="4, 4", activation="tanh, relu, relu"), "3 activations"),
    (dict(dataset="digits", output="sigmoid"), "softmax"), (dict(features=[]), "at least one input feature"),
])
def test_inconsistent_settings_explain_themselves(settings, message):
    with pytest.raises(ValueError, match=message):
        LiveTraining(_config(**settings))


def test_layer_buttons_add_as_wide_as_the_last_and_remove_the_last():
    config = PlaygroundConfig(hidden="6, 3")
    config.change_layers(+1)
    assert config.hidden == "6, 3, 3"
    config.change_layers(-1)
    config.change_layers(-1)
    config.change_layers(-1)
    assert config.hidden == ""
    config.change_layers(-1)  # nothing left to remove: stays empty
    config.change_layers(+1)
    assert config.hidden == "4"
    config.hidden = "2, 2, 2, 2, 2, 2, 2, 2"
    with pytest.raises(ValueError, match="at most 8 hidden layers"):
        config.change_layers(+1)


def test_a_playing_run_trains_at_its_own_speed_whether_or_not_frames_are_taken():
    """Training is decoupled from the page: nobody takes a frame here, and the run still learns; a frame
    is built only once it is asked for."""
    import time as _time

    from lab.live import LiveTraining
    from lab.playground import PlaygroundConfig

    live = LiveTraining(PlaygroundConfig(dataset="xor", steps_per_second=2000))
    live.take()  # the page takes the first frame, then none
    live.play()
    try:
        deadline = _time.time() + 60
        while live.trainer.step < 300 and _time.time() < deadline:
            _time.sleep(0.05)
        assert live.trainer.step >= 300
        assert live.frames_made <= 2  # one frame after the take, none since
    finally:
        live.stop()
    assert live.latest["step"] == live.trainer.step  # stopping shows the last state
