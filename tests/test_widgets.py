"""Messages are shown literally: the text users typed comes back as they typed it, not as Markdown."""

import html
import re

import pytest
from markdown_it import MarkdownIt

from apps.widgets import Messages, literal

NASTY = ["__import__('os').system('ls')", "().__class__.__bases__", "<script>alert(1)</script>", "*a* and _b_",
         "[link](http://x)", "`code`", "# heading", "x**99999999", "a | b | c", "1. not a list", "- nor this",
         "back\\slash", "~~strike~~", "x & y < z > w"]


@pytest.mark.parametrize("text", NASTY)
def test_literal_renders_exactly_the_text(text):
    rendered = MarkdownIt().render(literal(text))
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()
    assert shown == text
    assert "<script>" not in rendered


def test_messages_pane_holds_the_literal_text():
    messages = Messages()
    messages.show("__import__ is not allowed", "danger")
    assert messages.pane.object == literal("__import__ is not allowed")
    assert messages.pane.visible and messages.pane.alert_type == "danger"


def test_figures_keep_what_the_browser_changes_in_them_to_the_browser():
    """Auto-fitted ranges and plot sizes change in the browser on every redraw; sent back, each was a
    message the server's event loop decoded against the whole page (apps.widgets.figure)."""
    from bokeh.models import DataRange1d, Range1d

    from apps.widgets import figure

    auto = figure()
    assert isinstance(auto.x_range, DataRange1d) and not auto.syncable
    assert not auto.x_range.syncable and not auto.y_range.syncable
    fixed = figure(x_range=Range1d(0, 1))
    assert fixed.x_range.syncable and not fixed.y_range.syncable  # a fixed range has nothing to report
