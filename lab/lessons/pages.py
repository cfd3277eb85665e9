"""A lesson step's settings built through the page's own param configuration (as the page builds a
link's), for checking lessons and for running them without a browser."""

from lab.landscape import LandscapeConfig, split_query
from lab.playground import PlaygroundConfig
from lab.race.config import RaceConfig


def playground(query):
    config = PlaygroundConfig()
    config.from_query(query)
    return config


def race(query):
    """RaceConfig of a race link, as the Race page reads it."""
    config = RaceConfig()
    config.load_link(query)
    return config


def landscape(query):
    """(run config, surface settings) of a landscape link: the surface's keys, and a playground run."""
    surface_query, run_query = split_query(query)
    surface = LandscapeConfig()
    surface.from_query(surface_query)
    return playground(run_query), surface


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
