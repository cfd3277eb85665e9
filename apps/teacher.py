"""Teacher mode, from the page's address (kept in it by apps.urlstate, so it survives Reset and Next):

- ``controls=none`` hides every control; ``controls=learning_rate,momentum`` shows only those (any
  setting of the page by its name, and ``play``, ``step``, ``reset``);
- ``text=none`` hides a lesson's text (the projector shows the plots, the teacher talks);
- ``present=1`` enlarges fonts and plots for a projector (and gives the page the presenter's frame rate).
"""

import panel as pn
from bokeh.models import Model, Plot

from apps.pacing import truthy
from apps.widgets import param_widgets
from lab.engine.schedules import Schedule

TRANSPORT = ("play", "step", "reset")
SCALE = 1.35
PRESENT_CSS = """
:root { --bokeh-font-size: 17px; }
body { font-size: 19px; }
.lab-nav a { font-size: 19px; }
"""
HIDE_SIDEBAR_CSS = "#sidebar, #sidebar-toggle, .sidebar-toggle { display: none !important; }"


class Teacher:
    def __init__(self, query):
        raw = query.get("controls")
        names = None if raw is None else [n.strip() for n in str(raw).split(",") if n.strip()]
        self.controls = None if names is None else [n for n in names if n != "none"]
        self.hide_text = str(query.get("text", "")).lower() == "none"
        self.present = truthy(query.get("present"))
        self.box = pn.Column(sizing_mode="stretch_width", name="teacher_controls")
        self.page = None

    @property
    def hides_sidebar(self):
        return self.controls == []

    def css(self):
        return (PRESENT_CSS if self.present else "") + (HIDE_SIDEBAR_CSS if self.hides_sidebar else "")

    def apply(self, page, settings, content):
        """(settings, content) of a built page as teacher mode shows them."""
        self.page = page
        if self.controls is None:
            return settings, content
        known = set(TRANSPORT) | {n for obj in page.controllable() for n in obj.param if n not in ("name", "schedule")}
        unknown = [n for n in self.controls if n not in known]
        if unknown:
            page.messages.show(f"controls=: no control named {', '.join(repr(n[:40]) for n in unknown[:5])} on this "
                               f"page; these exist: {', '.join(sorted(known))}", "warning")
        if getattr(page, "control_row", None) is not None:
            page.control_row.visible = False
        config = getattr(page, "config", None)
        if config is not None and "optimizer_name" in config.param:  # the selected optimizer's own sliders
            config.param.watch(page.messages.guard(lambda *e: self.refresh()), ["optimizer_name", "schedule_name"])
        self.refresh()
        return (self.box if self.controls else None), content

    def refresh(self):
        """The named controls, bound to the page's current objects (a new race, a new optimizer)."""
        if self.page is None or not self.controls:
            return
        widgets = []
        for name in self.controls:
            if name in TRANSPORT:
                widgets.append(getattr(self.page.transport, name))
                continue
            owners = [obj for obj in self.page.controllable() if name in obj.param and name not in ("name", "schedule")
                      and not (isinstance(obj, Schedule) and name == "learning_rate")]  # the optimizer's rate
            for i, obj in enumerate(owners):
                if len(owners) > 1:
                    widgets.append(pn.pane.Markdown(f"**{type(obj).__name__} ({i + 1})**", margin=(0, 10)))
                widgets.extend(param_widgets(obj, names=[name]))
        self.box.objects = widgets


def present_mode():
    """True when the current session's page was opened with present=1."""
    doc = pn.state.curdoc
    return bool(doc is not None and getattr(doc, "lab_present", False))


def enlarge(objects):
    """Plots (inside Panel panes and layouts) made bigger, with bigger text, for a projector; each once."""
    for obj in objects:
        if isinstance(obj, pn.pane.Bokeh):
            obj = obj.object
        if isinstance(obj, Model):
            for plot in obj.select({"type": Plot}):
                _enlarge_plot(plot)
        elif hasattr(obj, "objects"):
            enlarge(obj.objects)


def _enlarge_plot(plot):
    if "lab-enlarged" in plot.tags:
        return
    plot.tags = [*plot.tags, "lab-enlarged"]
    for attr in ("width", "height"):
        value = getattr(plot, attr)
        if value:
            setattr(plot, attr, int(value * SCALE))
    if plot.title is not None and hasattr(plot.title, "text_font_size"):
        plot.title.text_font_size = "19px"
    for axis in plot.axis:
        axis.axis_label_text_font_size = "17px"
        axis.major_label_text_font_size = "15px"
    for legend in plot.legend:
        legend.label_text_font_size = "15px"
