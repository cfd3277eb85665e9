"""The optimizer race and its convergence map."""

import numpy as np
import pytest

from lab import race, surfaces


def test_default_racers_and_restart_on_a_setting_change():
    r = race.Race(surfaces.get("rosenbrock"))
    assert [x.name for x in r.racers] == ["sgd", "momentum", "rmsprop", "adam"]
    r.advance(40)
    before = r.frame()[1]["path"].copy()
    r.racers[1].optimizer.momentum = 0.5
    r.restart(1, catch_up=True)
    after = r.frame()[1]["path"]
    assert after.shape == before.shape and not np.allclose(after, before)
    np.testing.assert_array_equal(r.frame()[0]["path"][0], [-1.5, 2.0])
    r.set_start((0.5, 0.5))
    assert all(len(e["path"]) == 1 and np.allclose(e["path"][0], [0.5, 0.5]) for e in r.frame())


def test_frame_exposes_arrows_and_effective_steps():
    r = race.Race(surfaces.get("quadratic", condition=10, angle=0), racers=[("sgd", {"learning_rate": 0.1}),
                                                                            ("momentum", {"learning_rate": 0.1})])
    r.advance(3)
    sgd, mom = r.frame()
    np.testing.assert_allclose(sgd["effective_step"], 0.1)  # SGD: the same step per coordinate
    assert "velocity" in mom["arrays"] and mom["distance"][-1] < mom["distance"][0]


def test_divergence_is_flagged_not_raised():
    r = race.Race(surfaces.get("quadratic", condition=100), racers=[("sgd", {"learning_rate": 1.0})])
    r.advance(200)
    assert r.frame()[0]["diverged"]


def test_convergence_rate_matches_known_values():
    # plain GD (mu = 0): rate = max |1 - lr l|; optimal lr = 2/(l1 + l2) gives (k - 1)/(k + 1)
    rate = race.convergence_rate([1.0, 10.0], [2 / 11], [0.0])
    assert rate[0, 0] == pytest.approx(9 / 11)
    # optimal heavy ball: lr = 4/(sqrt(l1) + sqrt(l2))^2, mu = ((sqrt k - 1)/(sqrt k + 1))^2 -> sqrt(mu)
    k = 10.0
    lr = 4 / (1 + np.sqrt(k)) ** 2
    mu = ((np.sqrt(k) - 1) / (np.sqrt(k) + 1)) ** 2
    assert race.convergence_rate([1.0, k], [lr], [mu])[0, 0] == pytest.approx(np.sqrt(mu), rel=1e-6)
    assert race.convergence_rate([1.0, 10.0], [0.3], [0.0])[0, 0] > 1  # diverges


@pytest.mark.parametrize("name", list(race.PRESETS))
def test_presets_build_and_run(name):
    r, note = race.preset(name)
    r.advance(5)
    assert note and all(len(e["path"]) == 6 for e in r.frame())


def test_parabola_preset_reproduces_the_hand_computation():
    r, _ = race.preset("GD on u^2 + u + 1")
    r.advance(3)
    np.testing.assert_allclose(r.frame()[0]["path"][:, 0], [20.0, 7.7, 2.78, 0.812])


def test_arrows_have_a_fixed_length_and_point_downhill():
    r = race.Race(surfaces.get("rosenbrock"), start=(-1.5, 2.0),
                  racers=[("momentum", {"learning_rate": 1e-3, "momentum": 0.9}), ("sgd", {})])
    r.advance(5)
    frame = r.frame()
    a = race.arrows(frame, r.surface.window)
    assert len(a["x0"]) == 2  # momentum keeps a velocity: gradient and step; SGD has none
    lengths = np.hypot(np.subtract(a["x1"], a["x0"]), np.subtract(a["y1"], a["y0"]))
    width = r.surface.window[0][1] - r.surface.window[0][0]
    np.testing.assert_allclose(lengths, 0.15 * width)
    head = frame[0]["path"][-1]
    downhill = np.array([a["x1"][0] - head[0], a["y1"][0] - head[1]])
    assert downhill @ frame[0]["gradient"] < 0


def test_race_config_round_trips_through_url_and_json():
    from lab.race.config import RaceConfig

    cfg = RaceConfig()
    cfg.load_preset("momentum vs RMSprop on a narrow valley")
    built = cfg.make_race()
    built.racers[0].optimizer.momentum = 0.5
    built.racers[1].optimizer.schedule = __import__("lab").schedules.get("step", gamma=0.5, every=7)
    built.set_start((0.5, -1.0))
    cfg.capture(built)
    query = cfg.to_query()
    assert query["racers"] == "momentum,rmsprop" and query["r0.momentum"] == "0.5"
    assert query["r1.schedule"] == "step" and query["r1.sched.every"] == "7"
    again = RaceConfig()
    again.from_query(query)
    assert again.to_dict() == cfg.to_dict()
    third = RaceConfig()
    third.from_json(cfg.to_json())
    assert third.to_dict() == cfg.to_dict()
    rebuilt = again.make_race()
    assert isinstance(rebuilt.surface, surfaces.Quadratic) and rebuilt.surface.condition == 50.0
    np.testing.assert_array_equal(rebuilt.start, [0.5, -1.0])
    assert rebuilt.racers[0].optimizer.momentum == 0.5
    assert rebuilt.racers[1].optimizer.schedule.every == 7
    rebuilt.advance(30)
    built.restart()
    built.advance(30)
    np.testing.assert_array_equal(rebuilt.racers[1].path, built.racers[1].path)


@pytest.mark.parametrize("query,message", [
    ({"surface": "nowhere"}, "surface"),
    ({"speed": "1000"}, "speed"),
    ({"colour": "red"}, "unknown setting"),
    ({"racers": "sgd,warp"}, "unknown optimizer"),
    ({"racers": "momentum", "r0.momentum": "1.5"}, "momentum"),
    ({"racers": "sgd", "r0.beta9": "1"}, "no setting"),
    ({"racers": "sgd", "r3.learning_rate": "0.1"}, "only 1 racers"),
    ({"racers": "sgd", "r0.schedule": "sometimes"}, "unknown schedule"),
    ({"start": "a,b"}, "not a valid value"),
])
def test_race_config_rejects_bad_urls_with_value_errors(query, message):
    from lab.race.config import RaceConfig

    with pytest.raises(ValueError, match=message):
        RaceConfig().from_query(query)


def test_a_link_tells_the_note_of_its_own_preset_only():
    from lab.race import race as race_module
    from lab.race.config import RaceConfig

    default_note = race_module.PRESETS[race_module.DEFAULT_PRESET][-1]
    assert default_note and RaceConfig().load_link({}) == default_note  # the default race, as the page opens
    assert RaceConfig().load_link({"formula": "x**2 + 3*y**2"}) == ""  # not Rosenbrock's note over a formula
    assert RaceConfig().load_link({"surface": "beale"}) == ""
    name = next(n for n in race_module.PRESETS if n != race_module.DEFAULT_PRESET)
    assert RaceConfig().load_link({"preset": name, "surface": "beale"}) == race_module.PRESETS[name][-1]
