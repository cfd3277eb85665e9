"""python -m lab.lessons [SLUG]: list the lessons, or run one step by step and print its numbers."""

import argparse
import sys

import pandas as pd

from lab import lessons
from lab.engine.trace import text as trace_text


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.lessons", description=__doc__)
    parser.add_argument("slug", nargs="?", help="the lesson to run (omit to list them)")
    args = parser.parse_args(argv)
    if args.slug is None:
        table = pd.DataFrame([{"slug": l.slug, "page": l.page, "title": l.title, "steps": len(l)}
                              for l in lessons.REGISTRY.values()])
        print(table.to_string(index=False))
        print("\nRun one: python -m lab.lessons SLUG")
        return 0
    try:
        lesson = lessons.get(args.slug)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"# {lesson.title} ({lesson.page} page, {len(lesson)} steps)\n")
    runner = lessons.runner.RaceRunner(lesson) if lesson.page == "race" else lessons.runner.TrainingRunner(lesson)
    for k in range(1, len(lesson) + 1):
        step = lesson.step(k)
        print(f"## Step {k} of {len(lesson)}\n\n{step.text}\n")
        rows = runner.step(k)
        if step.trace is not None and lesson.page != "race":
            print("\n".join(trace_text(runner.live.model.trace(step.trace))) + "\n")
        with pd.option_context("display.width", 160, "display.max_rows", 80, "display.float_format", "{:.6g}".format):
            frame = pd.DataFrame(rows).drop(columns=["lesson step"])
            print((frame if len(frame) <= 80 else pd.concat([frame.head(40), frame.tail(40)])).to_string(index=False))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
