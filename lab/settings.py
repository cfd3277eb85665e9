"""Settings declared once as param classes serialise the same way on every page: to a URL query, to a
JSON file and back, with a ValueError that names the bad key or value.

``Settings`` serves flat stores (LandscapeConfig); PlaygroundConfig adds its nested optimizer,
schedule and regularizer objects on top of the same ``coerce``.
"""

import json

import param


def coerce(p, raw, key):
    """A URL string as the value parameter ``p`` declares (bounds are checked when it is set)."""
    try:
        if isinstance(p, param.Boolean):
            return str(raw).lower() in ("true", "1", "yes")
        if isinstance(p, param.Integer):
            return int(float(raw))
        if isinstance(p, param.Number):
            return float(raw)
        if isinstance(p, param.ListSelector):
            return [v for v in str(raw).split(",") if v]
        if isinstance(p, param.List):
            return [float(v) for v in str(raw).split(",") if v] if raw not in ("", "None") else None
        return str(raw)
    except ValueError:
        raise ValueError(f"URL setting {key}={raw!r} is not a valid value") from None


def parse_json(text):
    """A settings file's dict, or a ValueError that says what is wrong with the file."""
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not a valid settings file: {err}") from None
    if not isinstance(settings, dict):
        raise ValueError("a settings file must hold a JSON object")
    return settings


def query_value(value):
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


class Settings(param.Parameterized):
    """A flat store: every parameter is a setting (except ``name``)."""

    def names(self):
        return [k for k in self.param if k != "name"]

    def to_dict(self):
        return {k: getattr(self, k) for k in self.names()}

    def apply(self, settings):
        unknown = set(settings) - set(self.names())
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {self.names()}")
        try:
            self.param.update(**settings)
        except ValueError as err:
            raise ValueError(str(err)) from None

    def to_query(self):
        return {k: query_value(v) for k, v in self.to_dict().items() if v is not None}

    def from_query(self, query, ignore=()):
        """Sets the keys of ``query`` this store declares; keys in ``ignore`` belong to someone else,
        any other key is an error."""
        values = {}
        for key, raw in query.items():
            if key in ignore:
                continue
            if key not in self.names():
                raise ValueError(f"unknown setting {key!r} in the URL")
            values[key] = coerce(self.param[key], raw, key)
        self.apply(values)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    def from_json(self, text):
        self.apply(parse_json(text))
