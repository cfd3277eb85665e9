"""The forward pass by hand: click a point of the decision-boundary plot (with 'Click adds' off) and a
panel lists what the network computes for it, layer by layer (lab.engine.trace), kept current while it
trains (at most once a second, so a playing page does not resend it every frame)."""

import html
import time

import panel as pn
from bokeh.models import Div

from lab.engine.trace import text

REFRESH_SECONDS = 1.0


class ForwardPass:
    def __init__(self, page):
        self.page = page
        self.point = None
        self.label = None
        self.drawn_at = 0.0
        # a plain Bokeh Div, so tests and scripts find it by name
        self.pane = Div(text="", name="forward_pass", sizing_mode="stretch_width", visible=False,
                        styles={"overflow-x": "auto"})
        self.close = pn.widgets.Button(name="Hide the forward pass", width=180, visible=False)
        self.close.on_click(page.messages.guard(lambda e: self.show(None)))

    def widgets(self):
        return pn.Column(self.close, pn.pane.Bokeh(self.pane), sizing_mode="stretch_width")

    def show(self, point, label=None):
        """The computation for this input (a 2-D point, or the model's input vector, named by ``label``);
        None hides it."""
        self.point = None if point is None else tuple(float(v) for v in point)
        self.label = label
        self.pane.visible = self.close.visible = self.point is not None
        if self.point is None and getattr(self.page, "network", None) is not None:
            self.page.network.set_trace(None)
        self.update(force=True)

    def update(self, force=False):
        live = self.page.live
        if self.point is None or live is None:
            return
        now = time.monotonic()
        if not force and now - self.drawn_at < REFRESH_SECONDS:
            return
        self.drawn_at = now
        result = live.trace(self.point)
        if getattr(self.page, "network", None) is not None:
            self.page.network.set_trace(result)  # hovering a neuron shows its z and a for this point
        where = self.label or "the input (" + ", ".join(f"{v:.3f}" for v in self.point) + ")"
        lines = "\n".join(html.escape(line) for line in text(result))
        self.pane.text = (f"<b>Forward pass for {html.escape(where)}</b> at epoch {live.trainer.epoch}: "
                            "z = W·a + b, then a = f(z), layer by layer."
                            f"<pre style='font-size: 0.9em; line-height: 1.35'>{lines}</pre>")
