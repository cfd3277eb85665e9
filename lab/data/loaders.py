"""Loaders for files the user has: MNIST as Kaggle's CSV or as IDX (gzipped or not), and any CSV.

Nothing is downloaded. Every malformed input raises a ValueError that says what is wrong and where;
nothing is half-loaded (the whole file is checked before a Split is returned).
"""

import csv
import io
import math
import os
import zlib

import numpy as np

from lab.data.split import Split

MAX_BYTES = 200 * 1024 * 1024
MAX_CLASSES = 50
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path, max_bytes):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ValueError(f"{path}: file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit")
    if size == 0:
        raise ValueError(f"{path}: file is empty")
    with open(path, "rb") as f:
        return f.read()


def _read_table(path, max_bytes):
    """(header, float matrix) of a CSV with a header row; ValueError naming row and column on bad cells."""
    raw = _read_bytes(path, max_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a UTF-8 text file (byte {err.start})") from None
    if "\x00" in text:
        raise ValueError(f"{path}: contains NUL bytes; not a CSV text file")
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows)
    except StopIteration:
        raise ValueError(f"{path}: file is empty") from None
    except csv.Error as err:
        raise ValueError(f"{path}: line 1: {err}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise ValueError(f"{path}: the first line must be a header with column names")
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise ValueError(f"{path}: duplicate column names {dup}")
    data = []
    try:
        for line, row in enumerate(rows, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
            values = []
            for name, cell in zip(header, row):
                try:
                    v = float(cell)
                except ValueError:
                    raise ValueError(f"{path}: line {line}, column '{name}': {cell.strip()[:20]!r} "
                                     "is not a number") from None
                if not math.isfinite(v):
                    raise ValueError(f"{path}: line {line}, column '{name}': {cell.strip()} (NaN or inf "
                                     "is not allowed)")
                values.append(v)
            data.append(values)
    except csv.Error as err:
        raise ValueError(f"{path}: {err}") from None
    if not data:
        raise ValueError(f"{path}: no data rows after the header")
    return header, np.array(data, dtype=np.float64)


def _class_labels(y, where):
    if np.any(y != np.round(y)):
        raise ValueError(f"{where}: class labels must be whole numbers (use task='regression' for values)")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(f"{where}: only one class ({classes[0]:g}) present; classification needs two or more")
    if classes.size > MAX_CLASSES:
        raise ValueError(f"{where}: {classes.size} classes, more than the limit of {MAX_CLASSES}")
    return np.searchsorted(classes, y).astype(np.int64), classes


def load_csv(path, label="label", features=None, task="classification", test_ratio=0.2, seed=0,
             scale="standardize", max_bytes=MAX_BYTES, image_side=0):
    """A Split from a CSV with a header. ``label`` names the label column; ``features`` lists feature
    columns (default: every other column). Class labels are mapped to 0..k-1. ``scale``: 'standardize'
    (mean/std of the training split only), 'unit' (divide by the training split's max |x|), or 'none'.
    """

    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', not {task!r}")
    if scale not in ("standardize", "unit", "none"):
        raise ValueError(f"scale must be 'standardize', 'unit' or 'none', not {scale!r}")
    if not 0.0 <= test_ratio < 1.0:
        raise ValueError(f"test_ratio must be in [0, 1), got {test_ratio}")
    header, table = _read_table(path, max_bytes)
    if label not in header:
        raise ValueError(f"{path}: no label column {label!r}; the columns are {header[:12]}"
                         + (" ..." if len(header) > 12 else ""))
    features = [h for h in header if h != label] if features is None else list(features)
    missing = [f for f in features if f not in header]
    if missing:
        raise ValueError(f"{path}: feature columns {missing} not in the header")
    if not features:
        raise ValueError(f"{path}: no feature columns besides the label {label!r}")
    if label in features:
        raise ValueError(f"{path}: the label column {label!r} cannot also be a feature")
    X = table[:, [header.index(f) for f in features]]
    y = table[:, header.index(label)]
    n_classes = 0
    if task == "classification":
        y, classes = _class_labels(y, str(path))
        n_classes = classes.size
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    n_test = int(round(len(X) * test_ratio))
    if len(X) - n_test < 1:
        raise ValueError(f"{path}: too few rows ({len(X)}) for a training split")
    test, train = order[:n_test], order[n_test:]
    X_train, X_test = X[train], X[test]
    if scale == "standardize":
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        std[std == 0] = 1.0
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    elif scale == "unit":
        top = np.abs(X_train).max(axis=0)
        top[top == 0] = 1.0
        X_train, X_test = X_train / top, X_test / top
    kind = "regression" if task == "regression" else ("binary" if n_classes == 2 else "multiclass")
    window = (tuple((float(X_train[:, i].min()) - 0.5, float(X_train[:, i].max()) + 0.5)
                    for i in range(2)) if len(features) == 2 else None)
    return Split(X_train, y[train], X_test, y[test], kind=kind, name=os.path.basename(os.fspath(path)),
                 n_classes=n_classes, feature_names=features, image_side=image_side, window=window)


def load_mnist_csv(path, test_ratio=0.2, seed=0, max_bytes=MAX_BYTES):
    """Kaggle's digit-recognizer train.csv: a 'label' column then 784 pixel columns (0-255)."""
    split = load_csv(path, label="label", test_ratio=test_ratio, seed=seed, scale="none",
                     max_bytes=max_bytes, image_side=28)
    if split.X_train.shape[1] != 784:
        raise ValueError(f"{path}: MNIST CSV needs 784 pixel columns, found {split.X_train.shape[1]}")
    split.X_train /= 255.0
    split.X_test /= 255.0
    return split


def read_idx(path, max_bytes=MAX_BYTES):
    """The array in an IDX file (gzipped or not), checking magic number, type code and size."""
    raw = _read_bytes(path, max_bytes)
    if raw[:2] == b"\x1f\x8b":
        # decompressed in one bounded step: a small file that inflates to gigabytes stops at the limit
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflate.decompress(raw, max_bytes + 1)
        except zlib.error as err:
            raise ValueError(f"{path}: corrupt gzip data ({err})") from None
        if len(raw) > max_bytes:
            raise ValueError(f"{path}: decompressed size is over the {max_bytes / 2**20:.0f} MB limit")
        if not inflate.eof:
            raise ValueError(f"{path}: corrupt gzip data (it ends early)")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: bad IDX magic number {raw[:4].hex() or '(empty)'} "
                         "(expected 00 00 <type 08..0e> <ndim>)")
    ndim = raw[3]
    if not 1 <= ndim <= 4:
        raise ValueError(f"{path}: IDX header says {ndim} dimensions; expected 1 to 4")
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: IDX header is truncated")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = raw[4 + 4 * ndim:]
    if len(body) != expected:
        raise ValueError(f"{path}: IDX header shape {shape} needs {expected} data bytes, file has {len(body)}")
    array = np.frombuffer(body, dtype=dtype).reshape(shape)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{path}: IDX data holds NaN or infinite values")
    return array


def load_idx(images_path, labels_path, test_ratio=0.2, seed=0, max_bytes=MAX_BYTES):
    """MNIST-style IDX pair: images (n, rows, cols) scaled to [0, 1] and labels (n,)."""

    images = read_idx(images_path, max_bytes)
    labels = read_idx(labels_path, max_bytes)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: images must be 3-D (n, rows, cols), got shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: labels must be 1-D, got shape {labels.shape}")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"label count {labels.shape[0]} does not match image count {images.shape[0]}")
    X = images.reshape(images.shape[0], -1).astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{images_path}: images contain NaN or inf")
    top = np.abs(X).max()
    X /= top if top > 0 else 1.0
    y, classes = _class_labels(labels.astype(np.float64), str(labels_path))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    n_test = int(round(len(X) * test_ratio))
    test, train = order[:n_test], order[n_test:]
    side = images.shape[1] if images.shape[1] == images.shape[2] else 0
    return Split(X[train], y[train], X[test], y[test], kind="binary" if classes.size == 2 else "multiclass",
                 name=os.path.basename(os.fspath(images_path)), n_classes=classes.size,
                 feature_names=[f"pixel{i}" for i in range(X.shape[1])], image_side=side, window=None)
