"""Guided lessons: declarative steps over the lab's pages, runnable in a browser or a terminal.

    >>> from lab import lessons
    >>> lessons.names()
    >>> lesson = lessons.get("quadratic-descent")
    >>> lesson.query(3)               # the page settings of step 3, as a link writes them
    >>> lessons.run(lesson)           # every step without a browser: [(k, step, rows), ...]

``python -m lab.lessons`` lists them; ``python -m lab.lessons SLUG`` runs one in the terminal.
"""

from lab.lessons.catalog import LESSONS
from lab.lessons.core import Lesson, Step
from lab.lessons.pages import check
from lab.lessons.runner import run

REGISTRY = {lesson.slug: lesson for lesson in LESSONS}


def names():
    return list(REGISTRY)


def get(slug):
    """The lesson with this slug; ValueError listing the slugs otherwise."""
    if slug not in REGISTRY:
        raise ValueError(f"unknown lesson {str(slug)[:60]!r}; choose one of {names()}")
    return REGISTRY[slug]


__all__ = ["Lesson", "Step", "REGISTRY", "names", "get", "check", "run"]
