"""The Race page's settings, declared once: the surface (a named one, a quadratic's condition and angle,
or your own formula), the start point, the speed, and the racers with their hyperparameters and
schedules. They serialise to a URL query and to JSON like every page's settings (lab.settings).

In a URL the racers are ``racers=momentum,rmsprop`` and each racer's own settings ``r0.momentum=0.9``,
``r1.learning_rate=0.01``, ``r0.schedule=step``, ``r0.sched.gamma=0.5``.
"""

import param

from lab.engine import optimizers, schedules
from lab.race import race as race_module
from lab.race import surfaces
from lab.settings import PAGE_KEYS, Settings, coerce, query_value, short

NO_PRESET = "(none)"


class RaceConfig(Settings):
    preset = param.Selector(default=NO_PRESET, objects=[NO_PRESET, *race_module.PRESETS],
                            doc="A classroom setup: surface, start and racers in one go.")
    surface = param.Selector(default="rosenbrock", objects=surfaces.names(), doc="The function the racers descend.")
    condition = param.Number(10.0, bounds=(1.0, 200.0), step=1.0, label="Condition number",
                             doc="Quadratic only: ratio of the steepest to the flattest curvature.")
    angle = param.Number(30.0, bounds=(0.0, 90.0), step=1.0, label="Rotation (degrees)",
                         doc="Quadratic only: how far the valley is turned away from the axes.")
    formula = param.String("", label="Your own f(x, y)",
                           doc="A formula in x and y (+ - * / **, sin, cos, exp, log, sqrt): it replaces the surface.")
    start = param.List(default=None, allow_None=True, item_type=(int, float),
                       doc="Start point of every racer (default: the surface's own).")
    speed = param.Integer(3, bounds=(1, 50), label="Steps per frame", doc="Optimizer steps per frame while playing.")
    log_scale = param.Boolean(True, label="Log colour scale", doc="Colour the surface on a log scale.")
    racers = param.List(default=[], item_type=dict, precedence=-1,
                        doc="The racers: {'optimizer': name, 'schedule': name, hyperparameters..., 'sched': {...}}.")

    FLAT = ("preset", "surface", "condition", "angle", "formula", "start", "speed", "log_scale")

    def __init__(self, **params):
        super().__init__(**params)
        if not self.racers:
            self.racers = [dict(optimizer=name, **settings) for name, settings in race_module.DEFAULT_RACERS]

    # ----- building --------------------------------------------------------------------------------------
    def make_surface(self):
        """The Surface these settings name (ValueError for a bad formula, naming what is wrong)."""
        if self.formula.strip():
            return surfaces.parse(self.formula)
        if self.surface == "quadratic":
            return surfaces.get("quadratic", condition=self.condition, angle=self.angle)
        return surfaces.get(self.surface)

    def make_race(self):
        racers = []
        for r in self.racers:
            settings = {k: v for k, v in r.items() if k not in ("optimizer", "schedule", "sched")}
            racers.append((r["optimizer"], settings))
        surface = self.make_surface()
        start = self.start if self.start is not None and len(self.start) == surface.dim else None
        built = race_module.Race(surface, start=start, racers=racers)
        for racer, r in zip(built.racers, self.racers):
            if r.get("schedule", "constant") != "constant":
                racer.optimizer.schedule = schedules.get(r["schedule"], **r.get("sched", {}))
                built.restart(built.racers.index(racer))
        return built

    def capture(self, race):
        """Records a race's current racers and start point (after a slider or a click changed them)."""
        racers = []
        for racer in race.racers:
            opt = racer.optimizer
            entry = {"optimizer": racer.name,
                     **{k: v for k, v in opt.param.values().items() if k not in ("name", "schedule")}}
            if opt.schedule is not None:
                entry["schedule"] = schedules.name_of(opt.schedule)
                entry["sched"] = {k: v for k, v in opt.schedule.param.values().items()
                                  if k not in ("name", "learning_rate")}
            racers.append(entry)
        with param.parameterized.discard_events(self):
            self.racers = racers
            self.start = [float(v) for v in race.start]

    def load_link(self, query):
        """A race link's settings: every setting back to its default, the preset the link names (the
        default race when it names none), then the link's own settings. Returns the preset's note, or ""
        when the link names no preset and a surface or formula of its own (that note would describe another
        surface: the page shows the surface's description instead)."""
        self.param.update({k: self.param[k].default for k in self.FLAT if k != "preset"})
        preset = query.get("preset")
        named = preset in race_module.PRESETS
        note = self.load_preset(preset if named else race_module.DEFAULT_PRESET)
        self.from_query({k: v for k, v in query.items() if k != "preset"})
        return note if named or not {"surface", "formula"} & set(query) else ""

    def load_preset(self, name):
        """Surface, start and racers of a preset; returns its note."""
        if name not in race_module.PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {list(race_module.PRESETS)}")
        surface, settings, start, racers, note = race_module.PRESETS[name]
        racers = racers if racers is not None else race_module.DEFAULT_RACERS
        self.param.update(preset=name, surface=surface, formula="", start=list(start),
                          racers=[dict(optimizer=n, **s) for n, s in racers],
                          **{k: v for k, v in settings.items() if k in ("condition", "angle")})
        return note

    # ----- serialisation ----------------------------------------------------------------------------------
    def names(self):
        return list(self.FLAT)

    def to_dict(self):
        return {**{k: getattr(self, k) for k in self.FLAT}, "racers": [dict(r) for r in self.racers]}

    def apply(self, settings):
        settings = dict(settings)
        racers = settings.pop("racers", None)
        super().apply(settings)
        if racers is not None:
            if not isinstance(racers, list):
                raise ValueError("'racers' must be a list of racers, like [{\"optimizer\": \"momentum\"}]")
            self.racers = [_checked_racer(r, f"racer {i}") for i, r in enumerate(racers)]

    def to_query(self):
        query = {k: query_value(v) for k, v in self.to_dict().items() if k != "racers" and v not in (None, "")}
        query["racers"] = ",".join(r["optimizer"] for r in self.racers)
        for i, r in enumerate(self.racers):
            for key, value in r.items():
                if key == "sched":
                    query.update({f"r{i}.sched.{k}": query_value(v) for k, v in value.items()})
                elif key != "optimizer":
                    query[f"r{i}.{key}"] = query_value(value)
        return query

    def from_query(self, query, ignore=PAGE_KEYS):
        flat, racers = {}, None
        per_racer = {}
        for key, raw in query.items():
            if key in ignore:
                continue
            if key == "racers":
                racers = [{"optimizer": name.strip()} for name in str(raw).split(",") if name.strip()]
            elif key.startswith("r") and "." in key and key[1:key.index(".")].isdigit():
                index, rest = int(key[1:key.index(".")]), key[key.index(".") + 1:]
                per_racer.setdefault(index, {})[rest] = raw
            elif key in self.FLAT:
                flat[key] = coerce(self.param[key], raw, key)
            else:
                raise ValueError(f"unknown setting {short(key)!r} in the URL")
        if racers is None and per_racer:
            racers = [{k: v for k, v in r.items() if k in ("optimizer",)} for r in self.racers]
        if racers is not None:
            for index, values in per_racer.items():
                if index >= len(racers):
                    raise ValueError(f"r{index}.* is set but there are only {len(racers)} racers")
                racers[index].update(_racer_from_strings(racers[index]["optimizer"], values, f"r{index}"))
            flat["racers"] = racers
        self.apply(flat)


def _racer_from_strings(optimizer, values, where):
    cls = optimizers.REGISTRY.get(optimizer)
    if cls is None:
        raise ValueError(f"{where}: unknown optimizer {short(optimizer)!r}; choose one of {optimizers.names()}")
    out, sched = {}, {}
    schedule = values.get("schedule", "constant")
    if schedule not in schedules.REGISTRY:
        raise ValueError(f"{where}.schedule: unknown schedule {schedule!r}; choose one of {schedules.names()}")
    for key, raw in values.items():
        if key == "schedule":
            out["schedule"] = schedule
        elif key.startswith("sched."):
            name = key[len("sched."):]
            sched_cls = schedules.REGISTRY[schedule]
            if name not in sched_cls.param or name in ("name", "learning_rate"):
                raise ValueError(f"{where}: schedule {schedule!r} has no setting {name!r}")
            sched[name] = coerce(sched_cls.param[name], raw, f"{where}.{key}")
        elif key in cls.param and key not in ("name", "schedule"):
            out[key] = coerce(cls.param[key], raw, f"{where}.{key}")
        else:
            raise ValueError(f"{where}: {optimizer} has no setting {key!r}")
    if sched:
        out["sched"] = sched
    return out


def _checked_racer(racer, where):
    """A racer dict whose optimizer, hyperparameters and schedule exist and are in bounds (else ValueError)."""
    if not isinstance(racer, dict) or "optimizer" not in racer:
        raise ValueError(f"{where} must be a dict with an 'optimizer' name")
    settings = {k: v for k, v in racer.items() if k not in ("optimizer", "schedule", "sched")}
    try:
        optimizers.get(racer["optimizer"], **settings)
        if racer.get("schedule", "constant") != "constant" or racer.get("sched"):
            schedules.get(racer.get("schedule", "constant"), **racer.get("sched", {}))
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    return dict(racer)
