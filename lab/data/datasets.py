"""Data sets: TensorFlow Playground's generators (same ranges and noise semantics), a few more 2-D
tasks, the Keras primer's threshold task, and scikit-learn's bundled 8x8 digits.

    >>> split = make("spiral", n=500, noise=0.1, test_ratio=0.5, seed=0)
    >>> split.X_train, split.y_train, split.X_test, split.y_test, split.kind

Labels are integers (0/1 for binary, 0..k-1 for classes) or floats (regression). ``to_indicator`` and
``to_pm1`` give the one-hot and +-1 forms. ``noise`` follows the Playground: a fraction in [0, 0.5]
(the Playground's slider shows it in percent); for circle/XOR/regression it perturbs the point used to
decide the label, for spiral/moons it moves the point, for two Gaussians it widens them.
"""

import numpy as np

from lab.data.loaders import load_csv, load_idx, load_mnist_csv, read_idx  # noqa: F401  (re-exported API)
from lab.data.split import KINDS, Split, to_indicator, to_pm1  # noqa: F401  (re-exported API)

# the 8 symmetries of the square, in kernels.ops.symmetry order, as bits:
# identity, rot90, rot180, rot270, flip x, flip y, swap, anti-swap
ALL_SYMMETRIES = 0xFF
SWAP = 1 | 1 << 6
XOR_GROUP = 1 | 1 << 2 | 1 << 6 | 1 << 7


# ----- 2-D generators: each returns (X (n, 2), y) from a numpy Generator --------------------------


def _circle(rng, n, noise):
    radius = 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.hypot(*(X + jitter).T) < radius * 0.5).astype(np.int64)
    return X, y


def _xor(rng, n, noise):
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    y = ((X + jitter).prod(axis=1) >= 0).astype(np.int64)
    return X, y


def _gauss(rng, n, noise):
    variance = 0.5 + (4.0 - 0.5) * noise / 0.5
    half = n // 2
    pos = rng.normal(2.0, np.sqrt(variance), (half, 2))
    neg = rng.normal(-2.0, np.sqrt(variance), (n - half, 2))
    return np.vstack([pos, neg]), np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])


def _spiral(rng, n, noise):
    half = n // 2
    parts = []
    for label, count, delta in ((1, half, 0.0), (0, n - half, np.pi)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta
        x = r * np.sin(t) + rng.uniform(-1, 1, count) * noise
        y = r * np.cos(t) + rng.uniform(-1, 1, count) * noise
        parts.append((np.stack([x, y], axis=1), np.full(count, label, np.int64)))
    return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _spiral3(rng, n, noise):
    """Three interleaved spiral arms, one class each (0, 1, 2), 120 degrees apart."""
    parts = []
    for label in range(3):
        count = n // 3 + (1 if label < n % 3 else 0)
        i = np.arange(count)
        r = i / max(count, 1) * 5 + 0.2
        t = 1.25 * i / max(count, 1) * 2 * np.pi + label * 2 * np.pi / 3
        x = r * np.sin(t) + rng.uniform(-1, 1, count) * noise * 2
        y = r * np.cos(t) + rng.uniform(-1, 1, count) * noise * 2
        parts.append((np.stack([x, y], axis=1), np.full(count, label, np.int64)))
    return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


_CENTRES3 = np.array([[0.0, 3.0], [-2.6, -1.5], [2.6, -1.5]])


def _gauss3(rng, n, noise):
    """Three Gaussian clouds, one class each, whose spread grows with the noise."""
    sd = np.sqrt(0.5 + (4.0 - 0.5) * noise / 0.5)
    labels = np.arange(n) % 3
    return _CENTRES3[labels] + rng.normal(0.0, sd, (n, 2)), labels.astype(np.int64)


def _moons(rng, n, noise):
    half = n // 2
    t1 = rng.uniform(0, np.pi, half)
    t2 = rng.uniform(0, np.pi, n - half)
    outer = np.stack([np.cos(t1), np.sin(t1)], axis=1)
    inner = np.stack([1 - np.cos(t2), 0.5 - np.sin(t2)], axis=1)
    X = (np.vstack([outer, inner]) - [0.5, 0.25]) * 3.0
    X += rng.normal(0, 1, X.shape) * noise * 3.0
    return X, np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])


def _checkerboard(rng, n, noise):
    X = rng.uniform(-5, 5, (n, 2))
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    cells = np.floor((X + jitter) / 2.5).astype(np.int64)
    return X, ((cells[:, 0] + cells[:, 1]) % 2 == 0).astype(np.int64)


def _plane(rng, n, noise):
    X = rng.uniform(-6, 6, (n, 2))
    jitter = rng.uniform(-6, 6, (n, 2)) * noise
    return X, (X + jitter).sum(axis=1) / 10.0


_GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def _multi_gauss(rng, n, noise):
    X = rng.uniform(-6, 6, (n, 2))
    P = X + rng.uniform(-6, 6, (n, 2)) * noise
    d = np.hypot(P[:, None, 0] - _GAUSSIANS[:, 0], P[:, None, 1] - _GAUSSIANS[:, 1])
    values = _GAUSSIANS[:, 2] * np.clip(1 - d / 2, 0, 1)
    return X, values[np.arange(n), np.abs(values).argmax(axis=1)]


def _sum_threshold(d, t):
    def generate(rng, n, noise):
        X = rng.uniform(0, 1, (n, d))
        return X, (X.sum(axis=1) > t).astype(np.int64)
    return generate


# name: (generator, kind, symmetry mask, plot window)
GENERATORS = {
    "circle": (_circle, "binary", ALL_SYMMETRIES, ((-6, 6), (-6, 6))),
    "xor": (_xor, "binary", XOR_GROUP, ((-6, 6), (-6, 6))),
    "gauss": (_gauss, "binary", SWAP, ((-6, 6), (-6, 6))),
    "spiral": (_spiral, "binary", 0, ((-6, 6), (-6, 6))),
    "moons": (_moons, "binary", 0, ((-6, 6), (-6, 6))),
    "checkerboard": (_checkerboard, "binary", 0, ((-6, 6), (-6, 6))),
    "sum_2d": (_sum_threshold(2, 0.5), "binary", SWAP, ((0, 1), (0, 1))),
    "sum_5d": (_sum_threshold(5, 2.5), "binary", 0, None),
    "spiral3": (_spiral3, "multiclass", 0, ((-6, 6), (-6, 6))),
    "gauss3": (_gauss3, "multiclass", 0, ((-6, 6), (-6, 6))),
    "plane": (_plane, "regression", SWAP, ((-6, 6), (-6, 6))),
    "multi_gauss": (_multi_gauss, "regression", 0, ((-6, 6), (-6, 6))),
}
BUNDLED = ("digits",)


def names():
    """Every generator and bundled data set accepted by make()."""
    return list(GENERATORS) + list(BUNDLED)


def _split(X, y, test_ratio, rng):
    order = rng.permutation(len(X))
    n_test = int(round(len(X) * test_ratio))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


def make(name, n=500, noise=0.0, test_ratio=0.5, seed=0):
    """A deterministic train/test Split of generator or bundled set ``name`` (see names())."""
    if name not in GENERATORS and name not in BUNDLED:
        raise ValueError(f"unknown data set {name!r}; choose one of {names()}")
    if not 0.0 <= test_ratio < 1.0:
        raise ValueError(f"test_ratio must be in [0, 1), got {test_ratio}")
    if not 0.0 <= noise <= 0.5:
        raise ValueError(f"noise must be in [0, 0.5] (a fraction; 0.1 is the Playground's 10), got {noise}")
    rng = np.random.default_rng(seed)
    if name == "digits":
        return _digits(test_ratio, rng)
    if not 4 <= int(n) <= 100_000:
        raise ValueError(f"n must be between 4 and 100000 points, got {n}")
    generate, kind, symmetry, window = GENERATORS[name]
    X, y = generate(rng, int(n), noise)
    parts = _split(X, y, test_ratio, rng)
    d = X.shape[1]
    n_classes = {"binary": 2, "multiclass": int(y.max()) + 1}.get(kind, 0)
    return Split(*parts, kind=kind, name=name, n_classes=n_classes,
                 feature_names=[f"x{i + 1}" for i in range(d)], symmetry_mask=symmetry,
                 window=window if window else tuple((0, 1) for _ in range(d)))


def _digits(test_ratio, rng):
    from sklearn.datasets import load_digits

    data = load_digits()
    X = data.data / 16.0
    parts = _split(X, data.target.astype(np.int64), test_ratio, rng)
    return Split(*parts, kind="multiclass", name="digits", n_classes=10,
                 feature_names=[f"pixel{i}" for i in range(64)], image_side=8, window=None)


def add_point(split, x1, x2, label):
    """A new Split with one training point added (the page's click-to-add)."""
    if not split.is_2d:
        raise ValueError("points can be added only to 2-D data sets")
    y_value = np.array([label], dtype=split.y_train.dtype)
    return Split(np.vstack([split.X_train, [[x1, x2]]]), np.concatenate([split.y_train, y_value]),
                 split.X_test, split.y_test, split.kind, split.name, split.n_classes,
                 split.feature_names, split.symmetry_mask, split.image_side, split.window)
