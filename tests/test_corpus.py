"""Every item of the bad-input corpus (tests/corpus.py) through the API: a ValueError with a specific
message, never another exception. Then hypothesis generates more of each kind: a generated input is
either accepted or refused with a ValueError, never a crash."""

import json
import os
import string

import corpus
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import MLP, datasets, landscape, surfaces
from lab.landscape import LandscapeConfig
from lab.playground import PlaygroundConfig
from lab.race.config import RaceConfig
from lab.sweep_compare import CompareConfig, Comparison

CONFIGS = {"playground": PlaygroundConfig, "race": RaceConfig, "landscape": LandscapeConfig, "sweep": CompareConfig}
# The same cases on every run (CI must not fail by chance); LAB_FUZZ_RANDOM=1 explores new ones.
FUZZ = settings(max_examples=150, deadline=None, derandomize=not os.environ.get("LAB_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def refused(fn, expect):
    """fn() must raise a ValueError whose message contains ``expect`` (case-insensitive); returns it."""
    with pytest.raises(ValueError) as err:
        fn()
    message = str(err.value)
    assert expect.lower() in message.lower(), message
    assert len(message) < 1000, "a message quoting the input must stay readable"
    return message


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("name,data,expect", corpus.csv_files(), ids=lambda v: v if isinstance(v, str) else "")
def test_csv_corpus(folder, name, data, expect):
    path = corpus.write(folder, name, data)
    message = refused(lambda: datasets.load_csv(path), expect)
    assert name in message  # the user's file is named


@pytest.mark.parametrize("name,data,expect", corpus.idx_files(), ids=lambda v: v if isinstance(v, str) else "")
def test_idx_corpus(folder, name, data, expect):
    path = corpus.write(folder, name, data)
    assert name in refused(lambda: datasets.read_idx(path), expect)


@pytest.mark.parametrize("name,data,expect", corpus.weights_files(), ids=lambda v: v if isinstance(v, str) else "")
def test_weights_corpus(folder, name, data, expect):
    path = corpus.write(folder, name, data)
    assert name in refused(lambda: MLP.load(path), expect)


def test_weights_round_trip_still_loads(folder):
    model = MLP([2, 3, 1], dtype="float64", seed=3)
    model.save(folder / "good.npz")
    assert np.array_equal(MLP.load(folder / "good.npz").params, model.params)


@pytest.mark.parametrize("page,name,data,expect", corpus.settings_files(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_settings_corpus(page, name, data, expect):
    config = CONFIGS[page]()

    def load():
        if page == "landscape":  # the Landscape page's file holds the run and the surface
            run, surface = landscape.parse_settings(data)
            PlaygroundConfig().apply(run)
            config.apply(surface)
        else:
            config.from_json(data)
        if page == "race":
            config.make_race()
        if page == "sweep":  # the Sweep page checks every run of the grid
            Comparison(config)

    refused(load, expect)


@pytest.mark.parametrize("text,expect", corpus.formulas(), ids=lambda v: v[:30] if isinstance(v, str) else "")
def test_formula_corpus(text, expect):
    if expect is None:
        assert surfaces.parse(text).values(np.zeros(1), np.zeros(1)).shape == (1,)
    else:
        refused(lambda: surfaces.parse(text), expect)


def _from_query(page, query):
    """The query as the page reads it: the Playground builds its data and network, the Race its race, the
    Landscape page splits surface settings from the run's."""
    if page == "playground":
        config = PlaygroundConfig()
        config.from_query(query)
        config.make_model(config.make_data())
    elif page == "race":
        config = RaceConfig()
        config.from_query(query)
        config.make_race()
    elif page == "sweep":
        config = CompareConfig()
        config.from_query(query)
        Comparison(config)
    else:
        surface = LandscapeConfig()
        surface.from_query({k: v for k, v in query.items() if k in surface.names()})
        run = PlaygroundConfig()
        run.from_query({k: v for k, v in query.items() if k not in surface.names()})
        run.make_model(run.make_data())


@pytest.mark.parametrize("page,query,expect", corpus.queries(), ids=lambda v: str(v)[:30])
def test_url_corpus(page, query, expect):
    refused(lambda: _from_query(page, query), expect)


def test_page_keys_are_not_settings():
    for page in CONFIGS:
        _from_query(page, {"page": page, "present": "1", "sidebar": "0"})


# ----- generated cases ------------------------------------------------------------------------------------
TOKENS = ["x", "y", "1", "2.5", "1e300", "0", "+", "-", "*", "/", "**", "(", ")", "sin(", "exp(", "log(",
          "sqrt(", "abs(", ",", " ", "__", "import", ".", "[", "]", "'", "lambda", "ｘ", "é"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_generated_formulas_are_accepted_or_refused(text):
    try:
        surface = surfaces.parse(text)
    except ValueError as err:
        assert str(err)
        return
    point = (0.5, -0.5)  # an accepted formula is finite, with its gradient, all over the window
    assert np.isfinite(surface.value(point)) and np.isfinite(surface.grad(point)).all()


CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
                  st.text(alphabet=string.printable, max_size=6), st.sampled_from(["", "nan", "inf", "1e999", '"']))


@FUZZ
@given(st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=12), st.sampled_from([",", ";", "\t"]))
def test_generated_csv_files_load_or_say_why(tmp_path, rows, sep):
    text = "x1,x2,label\n" + "".join(sep.join(row) + "\n" for row in rows)
    path = tmp_path / "generated.csv"
    path.write_text(text)
    try:
        split = datasets.load_csv(path)
    except ValueError as err:
        assert "generated.csv" in str(err)
        return
    assert np.isfinite(split.X_train).all() and len(split.y_train) + len(split.y_test) == len(rows)


@FUZZ
@given(st.binary(max_size=300))
def test_generated_binary_files_are_refused_by_every_loader(tmp_path, data):
    for name, load in (("b.csv", datasets.load_csv), ("b.idx", datasets.read_idx), ("b.npz", MLP.load)):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            load(path)
        except ValueError as err:
            assert name in str(err)


JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
KEYS = st.sampled_from(["dataset", "hidden", "batch_size", "test_ratio", "optimizer", "regularization", "schedule",
                        "racers", "surface", "formula", "start", "resolution", "span", "warp"])


@FUZZ
@given(st.sampled_from(sorted(CONFIGS)), st.dictionaries(KEYS, JSON, max_size=4))
def test_generated_settings_files_apply_or_say_why(page, settings_dict):
    config = CONFIGS[page]()
    try:
        config.from_json(json.dumps(settings_dict))
        if page == "race":
            config.make_race()
    except ValueError as err:
        assert str(err)


QUERY_KEYS = st.sampled_from(["dataset", "hidden", "activation", "batch_size", "n_points", "test_ratio", "noise",
                              "opt.learning_rate", "opt.momentum", "reg.dropout", "sched.gamma", "optimizer_name",
                              "surface", "formula", "start", "speed", "racers", "r0.momentum", "resolution",
                              "span", "directions", "warp", "present"])
VALUES = st.one_of(st.text(max_size=12), st.floats().map(repr), st.integers(-10**6, 10**6).map(str),
                   st.sampled_from(["", "nan", "-inf", "1e308", "relu,tanh", "8,8", "x**2", "a,b"]))


@FUZZ
@given(st.sampled_from(sorted(CONFIGS)), st.dictionaries(QUERY_KEYS, VALUES, max_size=4))
def test_generated_url_queries_apply_or_say_why(page, query):
    try:
        _from_query(page, query)
    except ValueError as err:
        assert str(err)
