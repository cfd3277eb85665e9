"""The optimizer race: optimizers start from one point of one surface; students drag a slider and the
path changes at once. The race is cheap (a few thousand 2-D steps a second), so it advances on the
document's own periodic callback. The figures are in apps.race_views."""

import panel as pn
import param
from bokeh.models import Div

from apps.pacing import FrameClock, LivePage, Transport
from apps.race_racers import RacerCards
from apps.race_views import RaceViews
from apps.urlstate import UrlState
from apps.widgets import Messages, flow, literal, param_widgets, settings_card
from lab import race, surfaces
from lab.race.config import NO_PRESET, RaceConfig


class RacePage(LivePage):

    def __init__(self, query):
        self.messages = Messages()
        self.config = RaceConfig()
        note = ""
        query = {k: v for k, v in query.items() if k != "page"}
        try:
            note = self.config.load_link(query)
        except ValueError as err:
            self.messages.show(f"The link's settings could not all be used: {err}", "warning")
        try:
            self.race = self.config.make_race()
        except ValueError as err:  # e.g. a link with a broken formula: say so, show the default race
            self.messages.show(f"{err}", "danger")
            note = self.config.load_preset(race.DEFAULT_PRESET)
            self.race = self.config.make_race()
        self.note = pn.pane.Markdown(note, sizing_mode="stretch_width")
        self.loading = False
        self.transport = Transport()
        self.use_formula = pn.widgets.Button(name="Use formula", width=110)
        self.figures = pn.Column(sizing_mode="stretch_width")
        self.counter = Div(text="0", name="race_step", width=80, height=20)
        self.clock = FrameClock(max_fps=25)
        self.url = UrlState("race")
        self.views = RaceViews(self)
        self.racers = RacerCards(self)
        self._wire()
        self.load_race(self.race, note)
        self.sync_url()
        self.start_live(self.messages, self.transport, self.clock, self.url, self.counter, query)

    # ----- wiring ----------------------------------------------------------------------------------
    def _wire(self):
        g = self.messages.guard
        self.transport.play.param.watch(g(lambda e: e.new or self.render()), "value")  # texts catch up
        self.config.param.watch(g(self.on_surface), ["surface", "condition", "angle"])
        self.config.param.watch(g(self.on_preset), "preset")
        self.config.param.watch(g(lambda e: self.build_figures()), "log_scale")
        self.config.param.watch(g(lambda e: self.sync_url()), "speed")
        self.use_formula.on_click(g(self.on_formula))

    def on_step(self):
        self.advance(1)

    def on_reset(self):
        self.race.restart()
        self.views.announced.clear()
        self.render()

    def on_steps(self, n):
        self.transport.halt()
        self.advance(n)

    def apply_settings(self, query):
        """A link's race: its preset (or the default), then its own settings; a new race from them."""
        self.loading = True  # one new race, not one per setting
        try:
            note = self.config.load_link(query)
        finally:
            self.loading = False
        self.messages.clear()  # (a warning about the race before, say)
        self.load_race(self.config.make_race(), note)
        self.sync_url()

    def controllable(self):
        return [self.config, *(r.optimizer for r in self.race.racers)]

    def frame(self):
        if not self.transport.playing:
            return False
        self.advance(self.config.speed)
        return True

    def sync_url(self):
        """The whole race into the URL (replacing the query, so removed racers leave no keys behind). Not
        while new settings are loading: it records the race on show, which would undo them."""
        if self.loading:
            return
        self.config.capture(self.race)
        self.url.write(self.config.to_query())

    # ----- surfaces and presets ----------------------------------------------------------------------
    def load_race(self, new_race, note=""):
        self.race = new_race
        # (a description is plain text, a formula's quotes what the user typed: x**2 is not bold 'x' and '2')
        self.note.object = note or literal(self.race.surface.description)
        self.racers.rebuild()
        self.build_figures()

    def _swap_surface(self):
        """The surface the settings now name, with the same racers (hyperparameters and schedules), each
        from that surface's own start."""
        self.config.capture(self.race)
        with param.parameterized.discard_events(self.config):
            self.config.start = None
        self.load_race(self.config.make_race())
        self.sync_url()

    def on_surface(self, *events):
        if self.loading:
            return
        with param.parameterized.discard_events(self.config):
            self.config.formula = ""
            self.config.preset = NO_PRESET  # the surface no longer is the preset's
        self._swap_surface()

    def on_formula(self, event):
        text = self.config.formula
        surface = surfaces.parse(text)  # refused here, with its message, before anything changes
        self._swap_surface()
        self.messages.show(f"Using f(x, y) = {text}; its exact gradient is "
                           f"({surface.gradient_source[0]}, {surface.gradient_source[1]}).", "success")

    def on_preset(self, event):
        if self.loading or event.new not in race.PRESETS:
            return
        self.loading = True  # the surface menu follows the preset without rebuilding the race twice
        try:
            note = self.config.load_preset(event.new)
        finally:
            self.loading = False
        self.load_race(self.config.make_race(), note)
        self.sync_url()

    # ----- figures ---------------------------------------------------------------------------------
    def settings_json(self):
        self.config.capture(self.race)
        return self.config.to_json()

    def load_settings(self, text):
        self.loading = True  # one new race from the file, not one per setting it changes
        try:
            self.config.from_json(text)
        finally:
            self.loading = False
        self.load_race(self.config.make_race())
        self.sync_url()
        self.messages.show("Loaded the race from the settings file.", "success")

    def build_figures(self):
        self.views.build()

    def render(self):
        self.views.render()

    # ----- events ------------------------------------------------------------------------------------
    def on_tap(self, event):
        point = (event.x, event.y) if self.race.surface.dim == 2 else (event.x,)
        self.race.set_start(point)
        self.render()
        self.sync_url()

    def on_drag(self, data):
        for i, lr, mu in zip(data["index"], data["lr"], data["mu"]):
            opt = self.race.racers[i].optimizer
            lr = min(max(float(lr), 1e-5), 10.0)
            if abs(opt.learning_rate - lr) > 1e-12 * lr:
                opt.learning_rate = lr
            if hasattr(opt, "momentum") and abs(opt.momentum - mu) > 1e-9:
                opt.momentum = min(max(float(mu), 0.0), 0.99)

    def advance(self, k):
        self.race.advance(k)
        self.render()

    def view(self):
        t = self.transport
        controls = flow(t.play, t.step, t.reset, pn.Column(*param_widgets(self.config, names=["speed"]), width=260),
                          pn.pane.Bokeh(self.counter))
        surface_box = pn.Card(*param_widgets(self.config, names=["preset", "surface", "condition", "angle", "formula"]),
                              self.use_formula, *param_widgets(self.config, names=["log_scale"]), title="Surface",
                              sizing_mode="stretch_width")
        self.control_row = controls
        racers = self.racers.card_list()
        files = settings_card(self.settings_json, self.load_settings, "race-settings.json", self.messages)
        return (pn.Column(surface_box, racers, files, sizing_mode="stretch_width"),
                pn.Column(controls, self.messages.pane, self.note, self.figures, sizing_mode="stretch_width",
                          name="race"))


def build(query):
    return RacePage(query)
