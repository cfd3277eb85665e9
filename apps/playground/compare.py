"""Compare (same init): a second run with another optimizer, from the same data and initial weights,
drawn beside the first (its own decision boundary, red curves)."""

import panel as pn

from apps.playground.views import BoundaryView
from apps.widgets import flow
from lab import optimizers
from lab.live import LiveTraining, compare_config


class Compare:
    """The compare controls and the compared run's views of one Playground (``page``)."""

    def __init__(self, page):
        self.page = page
        self.choice = pn.widgets.Select(name="Compare with optimizer", options=optimizers.names(),
                                        value="rmsprop", width=150)
        self.button = pn.widgets.Button(name="Compare (same init)", width=150)
        self.button.on_click(page.messages.guard(self.start))
        # made once and refilled: a widget placed into a new Row at every rebuild leaves the old Row's
        # clean-up and the new Row sharing its per-page model
        self.row = flow()
        self.boundary = None
        self.rendered = -1

    def clear(self):
        self.row.objects = []
        self.boundary = None

    def start(self, event=None):
        """Both runs restart from the current run's initial weights and data."""
        page = self.page
        if page.live is None:
            return
        choice = self.choice.value
        other = compare_config(page.config, optimizer_name=choice)
        page.stop_runs()
        page.transport.halt()
        start = page.live.initial_params
        page.live = LiveTraining(page.config, split=page.live.split, init_params=start)
        page.compared = LiveTraining(other, split=page.live.split, init_params=start)
        page.build_views()
        if page.live.split.is_2d:
            self.boundary = BoundaryView(page.compared, suffix="_compared", title=f"Compared run: {choice}")
            page.boundary_row.insert(1, pn.pane.Bokeh(self.boundary.figure))  # side by side
            page.clock.rebuilt(self.boundary.figure)
            self.row.objects = [pn.pane.Markdown(
                f"**Same data, same initial weights.** Left: {page.config.optimizer_name}; "
                f"right: {choice}. Red curves are the compared run.")]
        else:
            self.row.objects = [pn.pane.Markdown(f"Compared run: {choice} (red curves).")]
        self.rendered = -1

    def render(self):
        """Draws the compared run's newest frame; True when there was one."""
        run = self.page.compared
        if run is None or run.frames_made == self.rendered:
            return False
        frame = run.take()
        self.rendered = run.frames_made
        if self.boundary is not None:
            self.boundary.update(frame)
        if frame["step"] > 0:
            self.page.curves.update_compared(frame)
        return True
