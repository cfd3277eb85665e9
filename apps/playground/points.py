"""Click on the decision-boundary plot to add a point of the chosen class; the run goes on from its
current weights with the new data (lab.data.datasets.add_point). With 'Click adds' off, a click shows
the forward pass for that point (forward.py)."""

import panel as pn

from lab import datasets
from lab.live import LiveTraining


class Points:
    """The click-to-add controls of one Playground (``page``)."""

    def __init__(self, page):
        self.page = page
        self.choice = pn.widgets.RadioButtonGroup(name="Click adds", options=["off", "class 1", "class 0"],
                                                  value="off")
        self.clear = pn.widgets.Button(name="Clear added points", width=150)
        self.clear.on_click(page.messages.guard(self.on_clear))

    def widgets(self):
        return [pn.pane.Markdown("**Click on the plot**: with *off*, see the forward pass for that point; "
                                 "otherwise add a point of that class"), self.choice, self.clear]

    def set_classes(self, n):
        """One button per class of the data (class 1 and class 0 for two, as the Playground has them)."""
        options = ["off", "class 1", "class 0"] if n <= 2 else ["off", *(f"class {c}" for c in range(n))]
        if options != self.choice.options:
            self.choice.param.update(options=options, value="off")

    def on_tap(self, event):
        page = self.page
        if page.live is None:
            return
        if self.choice.value == "off":  # a click shows the forward pass for that point instead
            page.forward.show((event.x, event.y))
            return
        label = int(self.choice.value.split()[1])
        if page.live.split.kind == "regression":
            label = 1.0 if label else -1.0
        page.added = datasets.add_point(page.live.split, event.x, event.y, label)
        was_playing = page.transport.playing
        params = page.live.model.params.copy()
        page.stop_runs()
        page.live = LiveTraining(page.config, split=page.added, init_params=params)
        page.compared = None
        page.boundary.live = page.live
        page.boundary.set_points()
        page.rendered = -1
        if was_playing:
            page.live.play()

    def on_clear(self, event):
        if self.page.added is not None:
            self.page.added = None
            self.page.rebuild()
