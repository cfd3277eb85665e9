"""The forward pass of one input, written out: what every layer computes, as numbers a student can check
by hand (the Playground's forward-pass panel and ``MLP.trace``).

It runs in float64 whatever the model's dtype, one unit at a time, through the same per-element
functions the kernels use (kernels.ops.activation and kernels.ops.feature): a small, exact reference.
"""

import numpy as np

from kernels import codes as C
from kernels import ops


def trace(model, x):
    """The computation for one input ``x`` (a sequence of ``input_dim`` numbers, or of 2 for a model with
    features): a dict with ``input`` (the raw point), ``features`` (the input layer's values, named),
    ``layers`` (for each layer: ``W`` (fan_in, fan_out), ``b``, ``z = a_prev @ W + b``, ``a = f(z)``,
    ``activation``) and ``output``/``predicted`` (the class, or the value for regression)."""
    raw = np.asarray(x, dtype=np.float64).ravel()
    if model.features:
        if raw.shape != (2,):
            raise ValueError(f"a model with input features takes a 2-D point (x1, x2), got {raw.size} numbers")
        names = list(model.features)
        a = np.array([ops.feature(C.FEATURES[f], raw[0], raw[1]) for f in names])
    else:
        if raw.shape != (model.input_dim,):
            raise ValueError(f"x must have {model.input_dim} numbers, got {raw.size}")
        names = [f"x{i + 1}" for i in range(raw.size)]
        a = raw
    inputs = [float(v) for v in a]
    if not np.all(np.isfinite(raw)):
        raise ValueError("x contains NaN or inf")
    layers = []
    pairs = model.layers()
    for i, (W, b) in enumerate(pairs):
        W, b = W.astype(np.float64), b.astype(np.float64)
        z = a @ W + b
        name = model.activations[i] if i < len(pairs) - 1 else model.output
        if name == "softmax":
            e = np.exp(z - z.max())
            out = e / e.sum()
        else:
            code = C.ACTIVATIONS[name] if name in C.ACTIVATIONS else C.OUTPUTS[name]
            out = np.array([ops.activation(code, v)[0] for v in z])
        layers.append({"W": W, "b": b, "z": z, "a": out, "activation": name})
        a = out
    if model.sizes[-1] > 1:
        predicted = int(np.argmax(a))
    elif model.output in ("sigmoid", "tanh"):
        predicted = int(a[0] > (0.5 if model.output == "sigmoid" else 0.0))
    else:
        predicted = float(a[0])
    return {"input": raw, "features": dict(zip(names, inputs)), "layers": layers, "output": a,
            "predicted": predicted}


def text(result, digits=4, max_terms=8, max_units=16):
    """The trace as lines of plain text: one block per layer (z = W·a + b, then a = f(z)). A unit with more
    than ``max_terms`` inputs shows its sum without the terms; a layer shows at most ``max_units`` units."""
    f = f"{{:.{digits}f}}".format
    items = list(result["features"].items())
    shown = ", ".join(f"{k} = {f(v)}" for k, v in items[:max_units])
    lines = ["input: " + shown + (f", … ({len(items) - max_units} more)" if len(items) > max_units else "")]
    for i, layer in enumerate(result["layers"], start=1):
        lines.append(f"layer {i} ({layer['activation']}):")
        previous = _prev(result, i)
        units = layer["z"].size
        for j in range(min(units, max_units)):
            if len(previous) <= max_terms:
                terms = " + ".join(f"{f(w)}·{f(v)}" for w, v in zip(layer["W"][:, j], previous))
            else:
                terms = f"Σ of {len(previous)} products w·a ({f(float(layer['W'][:, j] @ previous))})"
            lines.append(f"  z{j + 1} = {terms} + {f(layer['b'][j])} = {f(layer['z'][j])};"
                         f"  a{j + 1} = {layer['activation']}(z{j + 1}) = {f(layer['a'][j])}")
        if units > max_units:
            lines.append(f"  … {units - max_units} more units")
    predicted = result["predicted"]
    if result["layers"][-1]["activation"] == "tanh":  # a ±1 head: the sign is the label
        predicted = f"{predicted} (sign {'+1' if result['output'][0] > 0 else '−1'})"
    lines.append(f"output: {', '.join(f(v) for v in result['output'])} → predicted {predicted}")
    return lines


def _prev(result, i):
    return np.array(list(result["features"].values()) if i == 1 else result["layers"][i - 2]["a"])
