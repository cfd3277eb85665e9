"""The loss-landscape page: the network trains live while its loss surface (a 2-D slice through
parameter space, Li et al. 2018) is recomputed every few epochs around the current weights, with the
training trajectory projected onto it.

Training runs in a per-session thread (lab.live); each surface is computed in a worker thread from a
copy of the weights, so the plots keep moving while it is computed.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import panel as pn
from bokeh.models import Div

from apps.landscape_views import LandscapeViews
from apps.pacing import FrameClock, LivePage, Transport
from apps.urlstate import UrlState
from apps.widgets import Messages, flow, param_widgets, settings_card
from lab import landscape, optimizers
from lab.live import LiveTraining, compare_config
from lab.playground import PlaygroundConfig

PRESETS = {
    "XOR, tanh 8-8, SGD": dict(dataset="xor", hidden="8, 8", activation="tanh", optimizer_name="sgd",
                               opt={"learning_rate": 0.1}),
    "spiral, tanh 8-8, Adam": dict(dataset="spiral", hidden="8, 8", activation="tanh", optimizer_name="adam",
                                   opt={"learning_rate": 0.01}),
    "circle, relu 4-2, momentum": dict(dataset="circle", hidden="4, 2", activation="relu",
                                       optimizer_name="momentum", opt={"learning_rate": 0.03}),
    "digits, relu 32, Adam": dict(dataset="digits", hidden="32", activation="relu", optimizer_name="adam",
                                  opt={"learning_rate": 0.003}, batch_size=32),
}


class LandscapePage(LivePage):

    def __init__(self, query):
        self.messages = Messages()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lab-landscape")
        self.pending = None
        self.rendered = -1
        self.live = None
        self.compared = None
        self.preset = pn.widgets.Select(name="Run", options=list(PRESETS), width=230)
        self.transport = Transport(play_label="▶ Train", step_label="Step (1 epoch)")
        self.compare = pn.widgets.Select(name="Compare with (same init)", options=["none"] + optimizers.names(),
                                         value="none", width=180)
        self.settings = landscape.LandscapeConfig()
        try:  # the surface settings of a link; the rest of the query is the run's (a playground link)
            self.settings.from_query(landscape.split_query(query)[0])
        except ValueError as err:
            self.messages.show(f"The link's surface settings could not all be used: {err}", "warning")
        self.compute = pn.widgets.Button(name="Compute now", width=110)
        self.info = Div(text="", name="landscape_info", sizing_mode="stretch_width", height=40)
        self.clock = FrameClock(max_fps=10)
        self.url = UrlState("landscape")
        self.views = LandscapeViews(self)
        self._wire()
        config = self.config_from(query)
        self.start(config)
        self.start_live(self.messages, self.transport, self.clock, self.url, self.info, query)

    # ----- runs ------------------------------------------------------------------------------------
    def config_from(self, query):
        config = PlaygroundConfig()
        keys = landscape.split_query(query)[1]
        if keys:  # a playground link: the same settings, hence the same data, weights and run
            try:
                config.from_query(keys)
                self.preset.param.update(options=["(from the playground link)"] + list(PRESETS),
                                         value="(from the playground link)")
                return config
            except ValueError as err:
                self.messages.show(f"The link's settings could not be used ({err}); showing a preset.")
        name = query.get("run", list(PRESETS)[0])
        return self.preset_config(name if name in PRESETS else list(PRESETS)[0])

    @staticmethod
    def preset_config(name):
        settings = dict(PRESETS[name])
        opt = settings.pop("opt")
        config = PlaygroundConfig(**settings)
        config.optimizers[config.optimizer_name].param.update(**opt)
        return config

    def start(self, config):
        self.stop_runs()
        self.transport.halt()
        self.live = LiveTraining(config)
        self.compared = None
        if self.compare.value != "none":
            other = compare_config(config, optimizer_name=self.compare.value)
            self.compared = LiveTraining(other, split=self.live.split, init_params=self.live.initial_params)
        self.data = landscape.subsample(self.live.X_train, self.live.split.y_train)
        self.requested_epoch = 0  # a new run: auto-recompute counts from its epoch 0, not the old run's
        self.sync_url()
        self.views.loss_curve.data = dict(epoch=[], loss=[])
        self.request()

    def stop(self):
        super().stop()
        self.executor.shutdown(wait=False, cancel_futures=True)

    # ----- controls ----------------------------------------------------------------------------------
    def _wire(self):
        g = self.messages.guard
        self.preset.param.watch(g(lambda e: e.new in PRESETS and self.start(self.preset_config(e.new))), "value")
        self.compare.param.watch(g(lambda e: self.start(self.live.config)), "value")
        self.compute.on_click(g(lambda e: self.request()))
        surface = ["directions", "normalization", "bias", "span", "resolution", "direction_seed", "checkpoints"]
        self.settings.param.watch(g(lambda *e: self.request()), surface)
        self.settings.param.watch(g(lambda e: self.views.redraw()), "log_scale")
        self.settings.param.watch(g(lambda *e: self.sync_url()), self.settings.names())

    def sync_url(self):
        """The run's settings (as a playground link gives them) and the surface settings into the URL."""
        self.url.write({**self.live.config.to_query(), **self.settings.to_query()})

    def settings_json(self):
        return json.dumps({"run": self.live.config.to_dict(), "surface": self.settings.to_dict()}, indent=2)

    def load_settings(self, text):
        run, surface = landscape.parse_settings(text)
        config = PlaygroundConfig()
        config.apply(run)
        self.settings.apply(surface)
        self.start(config)
        self.messages.show("Loaded the run and surface settings from the file.", "success")

    def on_reset(self):
        self.start(self.live.config)

    def on_steps(self, n):
        super().on_steps(n)
        self.request()

    def apply_settings(self, query):
        surface, run = landscape.split_query(query)
        self.settings.from_query(surface)
        config = PlaygroundConfig()
        config.from_query(run)
        self.start(config)

    def controllable(self):
        c = self.live.config
        return [self.settings, c, c.optimizers[c.optimizer_name], c.schedule, c.regularization]

    # ----- surfaces ------------------------------------------------------------------------------------
    def request(self):
        """Start computing a surface around the current weights (unless one is being computed)."""
        if self.pending is not None and not self.pending.done():
            return
        live = self.live
        cfg = self.settings
        checkpoints = cfg.window(np.array(live.checkpoints + [live.model.params.copy()]))
        other = None
        if self.compared is not None:
            other = cfg.window(np.array(self.compared.checkpoints + [self.compared.model.params.copy()]))
        self.requested_epoch = live.trainer.epoch  # also when PCA must wait: the next try is N epochs on
        if cfg.directions == "pca" and len(checkpoints) < 3:
            self.info.text = "PCA directions need a few epochs of training first: press Train."
            return
        kwargs = dict(directions=cfg.directions, normalization=cfg.normalization, bias=cfg.bias, span=cfg.span,
                      resolution=cfg.resolution, seed=cfg.direction_seed, other_checkpoints=other,
                      center=live.model.params.copy())
        started = time.perf_counter()

        def work():
            result = landscape.snapshot(live.model, *self.data, checkpoints, **kwargs)
            result["seconds"] = time.perf_counter() - started
            return result
        self.pending = self.executor.submit(work)

    def has_news(self):
        return (super().has_news() or self.pending is not None
                or (self.live is not None and self.live.frames_made != self.rendered))

    def frame(self):
        """Loss curve, a finished surface, and the next surface when N epochs have passed."""
        self.rendered = self.live.frames_made
        frame = self.live.take()
        epochs = self.views.loss_curve.data["epoch"]
        sent = False
        if frame["step"] and (not epochs or epochs[-1] != frame["epoch"]):
            rows = [*frame.get("backfill", ()), frame]  # a lesson's many epochs at once: every point
            self.views.loss_curve.stream(dict(epoch=[r["epoch"] for r in rows], loss=[r["train_loss"] for r in rows]),
                                         2000)
            sent = True
        if self.compared is not None:
            self.compared.take()
        if self.pending is not None and self.pending.done():
            future, self.pending = self.pending, None
            self.views.draw(future.result())
            sent = True
        every, live = self.settings.every, self.live
        if every and live.running and live.trainer.epoch - self.requested_epoch >= every:
            self.request()
        elif (every and not live.running and live.status == "running" and self.pending is None
              and live.trainer.epoch != self.requested_epoch):  # stepped while paused: the surface catches up
            self.request()
        if self.live.message:
            self.messages.show(self.live.message, "info")
        return sent

    def view(self):
        controls = pn.Column(
            pn.pane.Markdown("**Run**"), self.preset, pn.Row(self.transport.play, self.transport.step),
            self.transport.reset, self.compare,
            pn.pane.Markdown("**Surface**"), *param_widgets(self.settings), self.compute,
            settings_card(self.settings_json, self.load_settings, "landscape-settings.json", self.messages),
            sizing_mode="stretch_width")
        figures = flow(self.views.surface_figure, self.views.side)
        return controls, pn.Column(self.messages.pane, pn.pane.Bokeh(self.info), figures,
                                   sizing_mode="stretch_width", name="landscape")


def build(query):
    return LandscapePage(query)
