"""The lab's frame: a navigation bar with one link per page, each page at its own URL (?page=...)."""

import logging
import traceback

import panel as pn

from apps.startup import KERNELS, preparing

log = logging.getLogger("lab.apps")

PAGES = {
    "playground": ("Playground", "apps.playground.page"),
    "race": ("Optimizer race", "apps.race"),
    "landscape": ("Loss landscape", "apps.landscape"),
}
DEFAULT_PAGE = "playground"

CSS = """
.lab-nav a { margin-right: 18px; font-size: 15px; text-decoration: none; color: #1f4e79; }
.lab-nav a.active { font-weight: bold; border-bottom: 2px solid #1f4e79; }
"""


def navigation(active):
    links = " ".join(
        f'<a href="?page={key}" class="{"active" if key == active else ""}" id="nav-{key}">{title}</a>'
        for key, (title, _) in PAGES.items())
    return pn.pane.HTML(f'<div class="lab-nav"><b style="margin-right:24px">Training lab</b>{links}</div>',
                        name="navigation", sizing_mode="stretch_width", stylesheets=[CSS])


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


def build():
    """The whole lab for one browser tab: the page named by ?page= (default: the playground)."""
    import importlib

    serve_own_stylesheets()
    query = pn.state.location.query_params if pn.state.location else {}
    page = query.get("page", DEFAULT_PAGE)
    if page not in PAGES:
        page = DEFAULT_PAGE

    def build_page():
        try:
            return importlib.import_module(PAGES[page][1]).build(query)
        except Exception as err:  # a page that cannot be built says so in words, never as a traceback
            log.error("building page %s failed:\n%s", page, traceback.format_exc())
            return pn.pane.Alert(f"This page could not be built ({type(err).__name__}: {err}). "
                                 "Try the link without its settings, or another page.", alert_type="danger")

    served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
    content = build_page() if KERNELS.ready.is_set() or not served else preparing(build_page)
    return pn.Column(navigation(page), content, sizing_mode="stretch_width", name="lab")
