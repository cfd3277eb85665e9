"""Loss landscapes of a real network (Li et al. 2018), computed live on the many-parameter-vectors
kernel: random directions with filter/layer normalisation, PCA directions of a training trajectory,
1-D and 2-D slices, and the trajectory projected onto the plane.

    >>> d1, d2 = random_directions(model, normalization="filter", seed=0)
    >>> alphas, betas, losses = loss_grid(model, X, y, (d1, d2), span=1.0, resolution=51)
    >>> # losses[i, j] is the loss at params + alphas[j] * d1 + betas[i] * d2
    >>> (d1, d2), explained = pca_directions(checkpoints)
"""

import numpy as np
import param

from lab.settings import Settings, parse_json

NORMALIZATIONS = ("filter", "layer", "none")
BIAS_MODES = ("zero", "normalize")
MAX_GRID_FLOATS = 2 * 10**7  # parameter vectors are evaluated in chunks of at most this many numbers
MAX_POINTS = 1024  # a live surface is evaluated on at most this many training points (a fixed subsample)
CHECKPOINT_WINDOWS = {"all": None, "last 50": 50, "last 20": 20}


class LandscapeConfig(Settings):
    """The Loss-landscape page's surface settings (the run itself is a PlaygroundConfig)."""

    directions = param.Selector(default="random", objects=["random", "pca"],
                                doc="Random normalised directions, or the top two PCA directions of the trajectory.")
    normalization = param.Selector(default="filter", objects=list(NORMALIZATIONS),
                                   doc="How random directions are scaled: per filter (Li et al.), per layer, or not.")
    bias = param.Selector(default="zero", objects=list(BIAS_MODES),
                          doc="Bias entries of random directions: zero, or normalised like the weights.")
    span = param.Number(1.0, bounds=(0.1, 3.0), step=0.1, label="Range a",
                        doc="The surface covers -a..a along both directions.")
    resolution = param.Integer(41, bounds=(21, 101), step=10, doc="Grid points per side.")
    direction_seed = param.Integer(0, bounds=(0, 10**6), doc="Seed of the random directions.")
    every = param.Integer(5, bounds=(0, 50), label="Recompute every N epochs",
                          doc="Recompute the surface every N epochs while training (0: on demand).")
    checkpoints = param.Selector(default="all", objects=list(CHECKPOINT_WINDOWS), label="Checkpoints for PCA",
                                 doc="Which saved epochs the PCA directions and the drawn path use.")
    log_scale = param.Boolean(True, doc="Colour the loss on a log scale.")

    def window(self, checkpoints):
        keep = CHECKPOINT_WINDOWS[self.checkpoints]
        return checkpoints[-keep:] if keep else checkpoints


def parse_settings(text):
    """(run settings, surface settings) of a Landscape settings file: {"run": {...}, "surface": {...}}, the
    run as PlaygroundConfig.to_dict writes it. ValueError says what is wrong with the file."""
    settings = parse_json(text)
    unknown = set(settings) - {"run", "surface"}
    if unknown:
        raise ValueError(f"a landscape settings file holds 'run' and 'surface', not {sorted(unknown)}")
    run, surface = settings.get("run", {}), settings.get("surface", {})
    if not isinstance(run, dict) or not isinstance(surface, dict):
        raise ValueError("'run' and 'surface' must each hold settings by name")
    return run, surface


def split_query(query):
    """(surface settings, run settings) of a Loss-landscape link: the LandscapeConfig keys, and the rest
    as a Playground link's (``page`` and the preset name ``run`` belong to neither)."""
    names = LandscapeConfig().names()
    surface = {k: v for k, v in query.items() if k in names}
    return surface, {k: v for k, v in query.items() if k not in names and k not in ("page", "run")}


def subsample(X, y, max_points=MAX_POINTS, seed=0):
    """A fixed random subset of at most max_points rows (the surface stays cheap on big data sets)."""
    if len(y) <= max_points:
        return X, y
    pick = np.random.default_rng(seed).choice(len(y), max_points, replace=False)
    return X[pick], y[pick]


def display(losses, log_scale=True, n_levels=12):
    """(values to colour, low, high, contour levels) for a loss grid: log10 when asked, NaN-safe."""
    shown = np.log10(np.maximum(losses, 1e-12)) if log_scale else np.asarray(losses, np.float64)
    finite = shown[np.isfinite(shown)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    high = high if high > low else low + 1e-9
    levels = np.linspace(low, high, n_levels + 2)[1:-1] if finite.size else np.array([])
    return np.nan_to_num(shown, nan=high, posinf=high, neginf=low), low, high, levels


def random_directions(model, normalization="filter", bias="zero", seed=0, count=2, params=None):
    """``count`` Gaussian directions shaped like model.params (float64).

    filter: each neuron's incoming weights (a column of W) rescaled to the norm of the model's
    column; layer: each W rescaled to the model's ||W||; none: raw Gaussian. Biases are zeroed or,
    with bias='normalize', rescaled to |b| element-wise (each bias is its neuron's own filter).
    params: normalise against these weights instead of the model's current ones.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {list(NORMALIZATIONS)}, not {normalization!r}")
    if bias not in BIAS_MODES:
        raise ValueError(f"bias must be one of {list(BIAS_MODES)}, not {bias!r}")
    rng = np.random.default_rng(seed)
    params = (model.params if params is None else np.asarray(params)).astype(np.float64)
    out = []
    for _ in range(count):
        d = rng.normal(size=params.size)
        for w, shape, b in model.layer_slices():
            dW = d[w].reshape(shape)
            W = params[w].reshape(shape)
            if normalization == "filter":
                dW *= np.linalg.norm(W, axis=0) / (np.linalg.norm(dW, axis=0) + 1e-12)
            elif normalization == "layer":
                dW *= np.linalg.norm(W) / (np.linalg.norm(dW) + 1e-12)
            if bias == "zero" and normalization != "none":
                d[b] = 0.0
            elif bias == "normalize":
                d[b] = np.sign(d[b]) * np.abs(params[b])
        out.append(d)
    return tuple(out)


def pca_directions(checkpoints):
    """((d1, d2), explained variance ratios) of theta_i - theta_final over the checkpoints (n, P)."""
    C = np.asarray(checkpoints, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] < 3:
        raise ValueError("PCA directions need at least 3 checkpoints (train a few epochs first)")
    M = C - C[-1]
    _, S, Vt = np.linalg.svd(M, full_matrices=False)
    total = np.sum(S**2)
    if total == 0:
        raise ValueError("the checkpoints are all equal: the run has not moved yet")
    explained = S[:2] ** 2 / total
    return (Vt[0].copy(), Vt[1].copy()), explained


def project(trajectory, center, directions):
    """(n, 2) least-squares coordinates of theta_i - center in the plane of the two directions."""
    D = np.stack(directions, axis=1)
    R = np.asarray(trajectory, np.float64) - np.asarray(center, np.float64)
    coords, *_ = np.linalg.lstsq(D, R.T, rcond=None)
    return coords.T


def _evaluate(model, X, y, P):
    """Losses and accuracies of the parameter vectors P (m, P), chunked to bound memory."""
    losses = np.empty(P.shape[0])
    accs = np.empty(P.shape[0])
    step = max(1, MAX_GRID_FLOATS // P.shape[1])
    for start in range(0, P.shape[0], step):
        losses[start:start + step], accs[start:start + step] = model.losses_for(P[start:start + step], X, y)
    return losses, accs


def loss_grid(model, X, y, directions, span=1.0, resolution=51, center=None, with_accuracy=False):
    """(alphas, betas, losses[i, j] at center + alphas[j] d1 + betas[i] d2) on [-span, span]^2.

    center defaults to the model's parameters; with_accuracy=True also returns the accuracy grid.
    """
    resolution = int(resolution)
    if not 3 <= resolution <= 401:
        raise ValueError(f"resolution must be between 3 and 401, got {resolution}")
    if not span > 0:
        raise ValueError(f"span must be positive, got {span}")
    d1, d2 = (np.asarray(d, np.float64) for d in directions)
    center = model.params.astype(np.float64) if center is None else np.asarray(center, np.float64)
    if d1.shape != center.shape or d2.shape != center.shape:
        raise ValueError(f"directions must have the shape of the parameters {center.shape}")
    alphas = np.linspace(-span, span, resolution)
    betas = alphas.copy()
    A, B = np.meshgrid(alphas, betas)
    P = center + A.reshape(-1, 1) * d1 + B.reshape(-1, 1) * d2
    losses, accs = _evaluate(model, X, y, P)
    shape = (resolution, resolution)
    if with_accuracy:
        return alphas, betas, losses.reshape(shape), accs.reshape(shape)
    return alphas, betas, losses.reshape(shape)


def loss_slice(model, X, y, direction, span=1.0, resolution=101, center=None):
    """(alphas, losses) along center + alpha * direction for alpha in [-span, span]."""
    direction = np.asarray(direction, np.float64)
    center = model.params.astype(np.float64) if center is None else np.asarray(center, np.float64)
    alphas = np.linspace(-span, span, int(resolution))
    losses, _ = _evaluate(model, X, y, center + alphas[:, None] * direction)
    return alphas, losses


def loss_between(model, X, y, start, end, resolution=101, extend=0.25):
    """(t, losses) along start + t (end - start) for t in [-extend, 1 + extend] (t=0 start, t=1 end)."""
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    ts = np.linspace(-extend, 1 + extend, int(resolution))
    losses, _ = _evaluate(model, X, y, start + ts[:, None] * (end - start))
    return ts, losses


def snapshot(model, X, y, checkpoints, directions="random", normalization="filter", bias="zero", span=1.0,
             resolution=51, seed=0, other_checkpoints=None, center=None):
    """Everything a landscape view shows, around the model's current parameters.

    directions: 'random' (filter/layer/none-normalised Gaussian) or 'pca' (of the checkpoints, joined
    with other_checkpoints when a second run from the same start is compared). Returns a dict with the
    grid (alphas, betas, losses, accuracies), 1-D slices along d1 and from the first checkpoint to the
    current point, the projected trajectories and, for PCA, the explained variance. center: the point
    to look around (default: the model's parameters; pass a copy when the model keeps training).
    """
    center = model.params.astype(np.float64) if center is None else np.asarray(center, np.float64)
    checkpoints = np.asarray(checkpoints, np.float64)
    explained = None
    if directions == "pca":
        stacked = checkpoints if other_checkpoints is None else np.vstack([checkpoints, other_checkpoints])
        (d1, d2), explained = pca_directions(np.vstack([stacked, center[None, :]]))
        # PCA directions are unit vectors; scale them to the distance travelled so 'span' stays meaningful
        reach = np.abs(project(stacked, center, (d1, d2))).max() or 1.0
        d1, d2 = d1 * reach, d2 * reach
    elif directions == "random":
        d1, d2 = random_directions(model, normalization=normalization, bias=bias, seed=seed, params=center)
    else:
        raise ValueError(f"directions must be 'random' or 'pca', not {directions!r}")
    alphas, betas, losses, accs = loss_grid(model, X, y, (d1, d2), span=span, resolution=resolution,
                                            center=center, with_accuracy=True)
    slice_alphas, slice_losses = loss_slice(model, X, y, d1, span=span, resolution=101, center=center)
    ts, line_losses = loss_between(model, X, y, checkpoints[0], center, resolution=101)
    out = {"alphas": alphas, "betas": betas, "losses": losses, "accuracies": accs,
           "trajectory": project(checkpoints, center, (d1, d2)), "slice": (slice_alphas, slice_losses),
           "line": (ts, line_losses), "explained": explained, "center_loss": float(losses[len(betas) // 2,
                                                                                       len(alphas) // 2])}
    if other_checkpoints is not None:
        out["other_trajectory"] = project(other_checkpoints, center, (d1, d2))
    return out
