"""A lesson step's settings built through the page's own param configuration (as the page builds a
link's), for checking lessons and for running them without a browser."""

from lab.landscape import LandscapeConfig
from lab.playground import PlaygroundConfig
from lab.race.config import RaceConfig

RACE_DEFAULT_PRESET = "race on Rosenbrock"


def playground(query):
    config = PlaygroundConfig()
    config.from_query(query)
    return config


def race(query):
    """RaceConfig of a race link: its preset (or the page's default), then the link's own settings."""
    config = RaceConfig()
    config.load_preset(query.get("preset", RACE_DEFAULT_PRESET))
    config.from_query({k: v for k, v in query.items() if k != "preset"})
    return config


def landscape(query):
    """(run config, surface settings) of a landscape link: the surface's keys, and a playground run."""
    surface = LandscapeConfig()
    names = surface.names()
    surface.from_query({k: v for k, v in query.items() if k in names})
    run = playground({k: v for k, v in query.items() if k not in names and k != "run"})
    return run, surface


def check(lesson):
    """Builds every step of the lesson the way its page would: ValueError naming the step and the problem."""
    for k in range(1, len(lesson) + 1):
        query = lesson.query(k)
        try:
            if lesson.page == "race":
                race(query).make_race()
            else:
                config = playground(query) if lesson.page == "playground" else landscape(query)[0]
                model = config.make_model(config.make_data())
                step = lesson.step(k)
                if step.weights is not None:
                    from lab.lessons.core import weights_arrays

                    model.set_weights(weights_arrays(step.weights))
        except ValueError as err:
            raise ValueError(f"lesson {lesson.slug!r} step {k}: {err}") from None
