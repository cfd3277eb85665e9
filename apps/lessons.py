"""Lessons in the browser: ``?page=lessons`` lists them; ``?lesson=SLUG&step=K`` opens the lesson's page
with step K's settings and a lesson panel (its text, Back / Next, step K of N). Next applies the next
step's changes and actions to the running page, as its own controls would, and puts the step in the
address: a teacher can paste one link per step into slides. The lessons themselves are data (lab.lessons).
"""

import html

import markdown
import panel as pn
from bokeh.models import Div

from lab import lessons
from lab.lessons.core import weights_arrays

INTRO = """## Lessons

Each lesson opens a page with its settings loaded and a panel of numbered steps: read the step, press
**Next**, and the page changes one thing. Every step has its own link (copy it from the address bar, or
from the step numbers below) to paste into slides.

Teacher mode, added to any link: `controls=none` hides every control, `controls=learning_rate,momentum`
shows only those, `text=none` hides the lesson text, `present=1` enlarges fonts and plots for a
projector. Without a browser: `python -m lab.lessons SLUG` prints the same numbers in a terminal.
"""


class LessonList:
    """The ``?page=lessons`` page (with the problem of a bad lesson link on top)."""

    def __init__(self, problem=None):
        self.problem = problem

    def view(self):
        rows = []
        for lesson in lessons.REGISTRY.values():
            steps = " ".join(f'<a href="{lesson.link(k)}">{k}</a>' for k in range(1, len(lesson) + 1))
            rows.append(f'<tr><td><a href="{lesson.link(1)}" id="lesson-{lesson.slug}"><b>{html.escape(lesson.title)}'
                        f'</b></a><br><code>{lesson.slug}</code></td><td>{lesson.page}</td>'
                        f"<td>{html.escape(lesson.summary)}</td><td>{steps}</td></tr>")
        table = ('<table class="lab-lessons"><thead><tr><th>Lesson</th><th>Page</th><th>What it shows</th>'
                 f'<th>Steps</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
        css = (".lab-lessons td, .lab-lessons th { padding: 6px 10px; vertical-align: top; text-align: left; "
               "border-bottom: 1px solid #ddd; } .lab-lessons a { margin-right: 6px; }")
        parts = [pn.pane.Markdown(INTRO, sizing_mode="stretch_width")]
        if self.problem:
            parts.insert(0, pn.pane.Alert(self.problem, alert_type="warning", sizing_mode="stretch_width"))
        # a plain Bokeh Div, so tests and scripts find it by name
        parts.append(pn.pane.Bokeh(Div(text=table, name="lesson_list", sizing_mode="stretch_width", stylesheets=[css])))
        return None, pn.Column(*parts, sizing_mode="stretch_width", name="lessons")


def lesson_query(query):
    """(lesson, step, the page's query, problem) for an address with ``lesson=``: the step's settings,
    overridden by the settings the address itself carries (what a student changed, or a teacher's
    variation). An unknown lesson or step is a problem to show, not a traceback."""
    lesson = lessons.get(query["lesson"])
    problem = None
    try:
        k = lesson.check_step(query.get("step", 1))
    except ValueError as err:
        problem, k = f"{err}; showing step 1.", 1
    own = {key: v for key, v in query.items() if key not in ("page", "lesson", "step")}
    return lesson, k, {**lesson.query(k), **own, "lesson": lesson.slug, "step": str(k)}, problem


class LessonPanel:
    """Text, step counter and Back / Next of a lesson shown above its page. The page defines
    ``apply_settings(query)`` (a link's settings onto the running page) and ``on_steps(n)``."""

    def __init__(self, page, lesson, k, teacher):
        self.page, self.lesson, self.k, self.teacher = page, lesson, k, teacher
        g = page.messages.guard
        self.title = pn.pane.Markdown(f"### {html.escape(lesson.title)}", margin=(0, 10))
        self.counter = Div(text="", name="lesson_step", width=120, height=24)
        self.text = Div(text="", sizing_mode="stretch_width", name="lesson_text", visible=not teacher.hide_text)
        self.back = pn.widgets.Button(name="◀ Back", width=90)
        self.next = pn.widgets.Button(name="Next ▶", width=90, button_type="primary")
        self.back.on_click(g(lambda e: self.go(self.k - 1)))
        self.next.on_click(g(lambda e: self.go(self.k + 1)))
        self.all = pn.pane.HTML('<a href="?page=lessons">All lessons</a>', width=100)
        self.show()

    def view(self):
        row = pn.Row(self.title, pn.pane.Bokeh(self.counter), self.back, self.next, self.all,
                     sizing_mode="stretch_width")
        return pn.Column(row, pn.pane.Bokeh(self.text), sizing_mode="stretch_width", name="lesson_panel",
                         styles={"border-left": "4px solid #1f4e79", "padding-left": "8px"})

    def show(self):
        self.counter.text = f"<b>Step {self.k} of {len(self.lesson)}</b>"
        self.text.text = markdown.markdown(self.lesson.step(self.k).text)
        self.back.disabled = self.k <= 1
        self.next.disabled = self.k >= len(self.lesson)

    def arrive(self):
        """What arriving at this step does besides its settings (the settings came with the page)."""
        step = self.lesson.step(self.k)
        if step.weights is not None and hasattr(self.page, "set_weights"):
            self.page.set_weights(weights_arrays(step.weights))
        for action in step.actions:  # as the page's own buttons do them
            if action == "play":
                self.page.transport.play.value = True
            elif action == "pause":
                self.page.transport.halt()
            elif action == "reset":
                self.page.on_reset()
            else:
                self.page.on_steps(action[1])
        if step.trace is not None and hasattr(self.page, "show_trace"):
            self.page.show_trace(step.trace)

    def go(self, k):
        """Step k: its settings applied to the running page, then its actions; the address follows."""
        k = self.lesson.check_step(k)
        self.page.apply_settings(self.lesson.query(k))
        self.k = k
        self.show()
        self.arrive()
        self.page.url.keep["step"] = str(k)
        self.page.url.write()
        self.teacher.refresh()


def build(query, problem=None):
    return LessonList(problem)
