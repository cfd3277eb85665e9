"""A model as a file or as text, and its summary: the .npz of MLP.save / MLP.load, the JSON of
MLP.to_json / MLP.from_json, the table of MLP.summary. Every broken file or text raises a ValueError that
names it and says what is wrong. (``cls`` below is MLP; this module does not import it.)"""

import inspect
import json
import os
import zipfile

import numpy as np

MAX_WEIGHTS_BYTES = 200 * 1024 * 1024


def save(model, path):
    np.savez(path, params=model.params, config=json.dumps(model.config()))


def load(cls, path, backend="cpu"):
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else "the weights file"
    params, config = _read_weights(cls, path, where)
    model = _build(cls, config, backend, where)
    if params.shape != model.params.shape:
        raise ValueError(f"{where}: {params.size} parameters do not match the saved architecture "
                         f"{model.sizes} ({model.params.size} parameters)")
    model.params[...] = params
    return model


def to_json(model, indent=None):
    layers = [{"W": W.tolist(), "b": b.tolist()} for W, b in model.layers()]
    return json.dumps({"config": model.config(), "layers": layers}, indent=indent)


def from_json(cls, text, backend="cpu"):
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError, TypeError):
        raise ValueError("not a model's JSON (MLP.to_json writes one)") from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict) \
            or not isinstance(data.get("layers"), list):
        raise ValueError("a model's JSON holds 'config' (an object) and 'layers' (a list)")
    model = _build(cls, data["config"], backend, "the model's JSON")
    weights = []
    for i, layer in enumerate(data["layers"]):
        if not isinstance(layer, dict) or set(layer) != {"W", "b"}:
            raise ValueError(f"layer {i} must hold 'W' and 'b'")
        try:
            weights += [np.asarray(layer["W"], np.float64), np.asarray(layer["b"], np.float64)]
        except (ValueError, TypeError):
            raise ValueError(f"layer {i}: W and b must be numbers (W as rows of equal length)") from None
    model.set_weights(weights)
    return model


def summary(model):
    """The text of MLP.summary: one row per layer, names left and numbers right."""
    inputs = ", ".join(model.features) if model.features else f"{model.sizes[0]} raw inputs"
    rows = [("input", model.sizes[0], inputs, 0)]
    kinds = [*model.activations, model.output]
    for i, ((a, b), kind) in enumerate(zip(zip(model.sizes[:-1], model.sizes[1:]), kinds)):
        rows.append(("output" if i == len(kinds) - 1 else f"hidden {i + 1}", b, kind, a * b + b))
    header = ("layer", "units", "activation", "parameters")
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(4)]
    rule = "-" * (sum(widths) + 6)

    def line(cells):
        return "  ".join(str(c).ljust(w) if k in (0, 2) else str(c).rjust(w)
                         for k, (c, w) in enumerate(zip(cells, widths)))

    biases = sum(model.sizes[1:])
    units = model.sizes[-1]
    return "\n".join([
        f"MLP {model.sizes}: {model.dtype.name}, {model.backend}, init {model.init}, seed {model.seed}", rule,
        line(header), rule, *(line(r) for r in rows), rule,
        f"parameters: {model.n_params:,} (weights {model.n_params - biases:,}, biases {biases:,})",
        f"output: {model.output} ({units} unit{'s' if units > 1 else ''}), loss: {model.loss}"])


def _build(cls, config, backend, where):
    """The model a saved config describes; only MLP's own settings are allowed."""
    known = set(inspect.signature(cls.__init__).parameters) - {"self", "backend"}
    unknown = set(config) - known
    if unknown:
        raise ValueError(f"{where}: unknown config settings {sorted(unknown)[:5]}; known: {sorted(known)}")
    try:
        return cls(**config, backend=backend)
    except TypeError as err:
        raise ValueError(f"{where}: its config does not describe a model ({err})") from None
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def _read_weights(cls, path, where):
    """(params, config) of a weights file, or a ValueError naming what is wrong with it."""
    if isinstance(path, (str, os.PathLike)):
        if not os.path.isfile(path):
            raise ValueError(f"{where}: no such file")
        size = os.path.getsize(path)
        if size == 0:
            raise ValueError(f"{where}: the file is empty")
        if size > MAX_WEIGHTS_BYTES:
            raise ValueError(f"{where}: file is {size / 2**20:.1f} MB, over the "
                             f"{MAX_WEIGHTS_BYTES / 2**20:.0f} MB limit of a weights file")
    damaged = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile)
    not_ours = f"{where}: not a weights file saved by MLP.save"
    try:
        data = np.load(path, allow_pickle=False)
    except damaged:
        raise ValueError(not_ours) from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{not_ours} (it holds one bare array)")
    with data:
        missing = {"params", "config"} - set(data.files)
        if missing:
            raise ValueError(f"{not_ours}: it has no {' or '.join(sorted(missing))}")
        try:
            params, text = data["params"], str(data["config"])
        except damaged as err:
            raise ValueError(f"{where}: its params or config cannot be read ({type(err).__name__})") from None
    if params.ndim != 1 or params.dtype.kind not in "fiu":
        raise ValueError(f"{where}: params must be a vector of numbers, not {params.dtype} {params.shape}")
    if not np.isfinite(params).all():
        raise ValueError(f"{where}: params are not all finite numbers (NaN or infinity)")
    try:
        config = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError(f"{where}: its config is not valid JSON") from None
    if not isinstance(config, dict):
        raise ValueError(f"{where}: its config must be a JSON object of the model's settings")
    return params.astype(np.float64, copy=False), config
