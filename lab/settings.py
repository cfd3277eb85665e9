"""Settings declared once as param classes serialise the same way on every page: to a URL query, to a
JSON file and back, with a ValueError that names the bad key or value.

``Settings`` serves flat stores (LandscapeConfig); PlaygroundConfig adds its nested optimizer,
schedule and regularizer objects on top of the same ``coerce``.
"""

import json

import param

# Keys of a page's address that are not settings: which page, and how it is shown (apps.shell, apps.pacing).
PAGE_KEYS = ("page", "present", "sidebar", "lesson", "step", "controls", "text")


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
    except (ValueError, OverflowError):  # int(float("inf")) overflows
        raise ValueError(f"URL setting {key}={short(raw)!r} is not a valid value") from None


def short(text, limit=40):
    """User text quoted in a message, cut to a readable length (a URL value can be 10 kB)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def parse_json(text):
    """A settings file's dict (``text``: str, or the file's bytes), or a ValueError that says what is
    wrong with the file."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ValueError(f"not a settings file: it is not UTF-8 text (byte {err.start})") from None
    if not text.strip():
        raise ValueError("the settings file is empty")
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not a valid settings file: {err}") from None
    except RecursionError:
        raise ValueError("not a valid settings file: it is nested too deeply") from None
    if not isinstance(settings, dict):
        raise ValueError("a settings file must hold a JSON object")
    return settings


def update(obj, values):
    """obj.param.update(**values), with param's own error shortened (it quotes the whole bad value)."""
    try:
        obj.param.update(**values)
    except (ValueError, TypeError) as err:  # param says TypeError for a value of the wrong type
        raise ValueError(short(str(err), 300)) from None


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
        update(self, settings)

    def to_query(self):
        return {k: query_value(v) for k, v in self.to_dict().items() if v is not None}

    def from_query(self, query, ignore=PAGE_KEYS):
        """Sets the keys of ``query`` this store declares; keys in ``ignore`` belong to someone else,
        any other key is an error."""
        values = {}
        for key, raw in query.items():
            if key in ignore:
                continue
            if key not in self.names():
                raise ValueError(f"unknown setting {short(key)!r} in the URL")
            values[key] = coerce(self.param[key], raw, key)
        self.apply(values)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    def from_json(self, text):
        self.apply(parse_json(text))
