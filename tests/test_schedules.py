import math

import numpy as np
import pytest

from lab import schedules

CASES = [
    ("constant", {}, [(0, 0.1), (50, 0.1)]),
    ("step", dict(gamma=0.5, every=10), [(0, 0.1), (9, 0.1), (10, 0.05), (19, 0.05), (20, 0.025)]),
    ("inverse", dict(rate=0.5), [(0, 0.1), (2, 0.05), (6, 0.025)]),
    ("exponential", dict(rate=0.1), [(0, 0.1), (10, 0.1 * math.exp(-1))]),
    ("cosine", dict(period=10, minimum=0.01), [(0, 0.1), (5, 0.055), (10, 0.01), (20, 0.01)]),
]


def test_table_covers_every_schedule():
    assert sorted(schedules.names()) == sorted(c[0] for c in CASES)


@pytest.mark.parametrize("name,settings,points", CASES)
def test_closed_form_values(name, settings, points):
    s = schedules.get(name, learning_rate=0.1, **settings)
    for t, expected in points:
        assert s(t) == pytest.approx(expected, rel=1e-12)
    curve = s.curve(30)
    assert curve.shape == (30,) and curve[0] == pytest.approx(0.1)


def test_step_decay_halves_exactly_at_boundaries():
    curve = schedules.get("step", learning_rate=1.0, gamma=0.5, every=10).curve(40)
    assert np.all(np.diff(curve)[[9, 19, 29]] == [-0.5, -0.25, -0.125])
    assert np.count_nonzero(np.diff(curve)) == 3


@pytest.mark.parametrize("name,settings,message", [
    ("step", dict(gamma=0.0), "gamma"), ("step", dict(every=0), "every"),
    ("exponential", dict(rate=-1.0), "rate"), ("linear", {}, "unknown schedule"),
])
def test_bad_settings(name, settings, message):
    with pytest.raises(ValueError, match=message):
        schedules.get(name, **settings)
