"""The lab's frame: a navigation bar with one link per page, each page at its own URL (?page=...)."""

import logging
import traceback
import urllib.parse

import panel as pn
from bokeh.models import CustomJS

from apps.startup import KERNELS, preparing

log = logging.getLogger("lab.apps")

PAGES = {
    "playground": ("Playground", "apps.playground.page"),
    "race": ("Optimizer race", "apps.race"),
    "landscape": ("Loss landscape", "apps.landscape"),
    "sweep": ("Sweep", "apps.sweep"),
    "lessons": ("Lessons", "apps.lessons"),
}
DEFAULT_PAGE = "playground"

NAVY = "#1f4e79"
CSS = """
.lab-nav a { margin-right: 18px; font-size: 15px; text-decoration: none; color: white; white-space: nowrap; }
.lab-nav a.active { font-weight: bold; border-bottom: 2px solid white; }
@media (max-width: 600px) { .lab-nav a { margin-right: 10px; font-size: 13px; } }
"""
# On a phone the settings are a drawer over the page, closed at first (the menu button opens it).
PHONE_CSS = """
@media (max-width: 600px) {
  #sidebar.show, #sidebar.collapsing { position: fixed; z-index: 1000; top: 0; bottom: 0; margin-top: 96px;
    width: min(350px, 92vw); max-width: 92vw !important; background: var(--bs-body-bg);
    box-shadow: 4px 0 12px rgba(0, 0, 0, 0.3); }
  #main { padding: 6px; }
}
"""
PHONE_START = """
if (window.innerWidth <= 600) {
  const sidebar = document.getElementById('sidebar');
  const toggle = document.getElementById('sidebar-toggle');
  if (sidebar) sidebar.classList.remove('show');
  if (toggle) toggle.setAttribute('aria-expanded', 'false');
}"""


def navigation(active):
    links = " ".join(
        f'<a href="?page={key}" class="{"active" if key == active else ""}" id="nav-{key}">{title}</a>'
        for key, (title, _) in PAGES.items())
    return pn.pane.HTML(f'<div class="lab-nav">{links}</div>', name="navigation", sizing_mode="stretch_width",
                        stylesheets=[CSS])


def serve_own_stylesheets():
    """Point the document's stylesheet base at this server before any model is built.

    Panel resolves a component's stylesheets against the document's 'dist_url' and falls back to its
    CDN when that is not set yet; a session built before its page is rendered could then send CDN
    links (seen intermittently while other sessions were being destroyed). An offline classroom has no CDN.
    """
    from panel.io.resources import get_dist_path

    doc = pn.state.curdoc
    if doc is not None:
        doc._template_variables.setdefault("dist_url", get_dist_path(cdn=False))


def address_query():
    """The page address's query, every value the string the user wrote. (Panel's own query_params turns
    values into numbers or JSON, and drops one it cannot parse without a word: a link's bad setting must be
    reported, not ignored.)"""
    search = pn.state.location.search if pn.state.location else ""
    return dict(urllib.parse.parse_qsl((search or "").lstrip("?"), keep_blank_values=True))


def build():
    """The whole lab for one browser tab: the page named by ?page= (default: the playground), or a lesson's
    page with its panel (?lesson=), in teacher mode when the address asks (apps.teacher), in a template
    whose sidebar (the page's settings) collapses, and becomes a drawer on a phone."""
    import importlib

    from apps.lessons import LessonPanel, lesson_query
    from apps.teacher import Teacher

    serve_own_stylesheets()
    query = address_query()
    teacher = Teacher(query)
    if pn.state.curdoc is not None:
        pn.state.curdoc.lab_present = teacher.present  # read by the views as they are laid out
    page = query.get("page", DEFAULT_PAGE)
    lesson, problem = None, None
    if "lesson" in query:
        try:
            lesson, step, query, problem = lesson_query(query)
            page = lesson.page
        except ValueError as err:
            page, problem = "lessons", f"{err}"
    if page not in PAGES:
        page = DEFAULT_PAGE
    side = pn.Column(sizing_mode="stretch_width", name="sidebar")
    main = pn.Column(sizing_mode="stretch_width", name="lab")

    def fill():
        try:
            module = importlib.import_module(PAGES[page][1])
            built = module.build(query, problem) if page == "lessons" else module.build(query)
            settings, content = built.view()
            if page != "lessons":
                built.url.keep_from(query)
                if lesson is not None:
                    panel = LessonPanel(built, lesson, step, teacher)
                    content = pn.Column(panel.view(), content, sizing_mode="stretch_width")
                    if problem:
                        built.messages.show(problem, "warning")
                    panel.arrive()
                settings, content = teacher.apply(built, settings, content)
        except Exception as err:  # a page that cannot be built says so in words, never as a traceback
            log.error("building page %s failed:\n%s", page, traceback.format_exc())
            settings, content = None, pn.pane.Alert(
                f"This page could not be built ({type(err).__name__}: {err}). "
                "Try the link without its settings, or another page.", alert_type="danger")
        side.objects = [] if settings is None else [settings]
        main.objects = [content]

    served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
    if KERNELS.ready.is_set() or not served:
        fill()
    else:
        main.objects = [preparing(fill)]
    if pn.state.curdoc is not None:
        pn.state.curdoc.js_on_event("document_ready", CustomJS(code=PHONE_START))
    return pn.template.BootstrapTemplate(
        title="Training lab", header=[navigation(page)], sidebar=[side], main=[main], sidebar_width=350,
        header_background=NAVY, collapsed_sidebar=query.get("sidebar") == "0" or teacher.hides_sidebar,
        raw_css=[PHONE_CSS, teacher.css()])
