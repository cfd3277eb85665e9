"""Generators (shape, balance, determinism, separability), digits, loaders' round trips, and a corpus
plus a fuzz test of malformed files that must all give ValueError."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import datasets

# name, exact rule deciding the label at noise 0 (None: not a pure function of the point)
RULES = {
    "circle": lambda X: np.hypot(*X.T) < 2.5,
    "xor": lambda X: X.prod(axis=1) >= 0,
    "checkerboard": lambda X: (np.floor(X / 2.5).sum(axis=1) % 2) == 0,
    "sum_2d": lambda X: X.sum(axis=1) > 0.5,
    "sum_5d": lambda X: X.sum(axis=1) > 2.5,
}


@pytest.mark.parametrize("name", [n for n in datasets.names() if n != "digits"])
def test_generator_shape_balance_determinism(name):
    a = datasets.make(name, n=400, noise=0.1, test_ratio=0.25, seed=1)
    b = datasets.make(name, n=400, noise=0.1, test_ratio=0.25, seed=1)
    c = datasets.make(name, n=400, noise=0.1, test_ratio=0.25, seed=2)
    assert a.X_train.shape[0] == 300 and a.X_test.shape[0] == 100
    assert a.kind in datasets.KINDS
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)
    y = np.concatenate([a.y_train, a.y_test])
    if name.startswith("sum_"):  # the primer's threshold tasks are unbalanced by construction
        assert 0.05 < y.mean() < 0.95
    elif a.kind == "binary":
        assert set(np.unique(y)) == {0, 1}
        assert 0.25 < y.mean() < 0.75, y.mean()
    else:
        assert np.all(np.abs(y) <= 2.0) and y.std() > 0.1


@pytest.mark.parametrize("name", list(RULES))
def test_noise_free_labels_follow_the_rule(name):
    s = datasets.make(name, n=500, noise=0.0, seed=0)
    X = np.vstack([s.X_train, s.X_test])
    y = np.concatenate([s.y_train, s.y_test])
    np.testing.assert_array_equal(y, RULES[name](X).astype(int))


@pytest.mark.parametrize("name", ["circle", "gauss", "spiral", "moons"])
def test_noise_free_classes_are_separated(name):
    s = datasets.make(name, n=400, noise=0.0, seed=0)
    X = np.vstack([s.X_train, s.X_test])
    y = np.concatenate([s.y_train, s.y_test])
    if name == "gauss":  # the Playground's smallest variance: classes on either side of x + y = 0
        assert np.mean((X.sum(axis=1) > 0) == (y == 1)) > 0.97
        return
    if name == "spiral":  # both arms start at the origin; compare their points beyond r = 1
        keep = np.hypot(*X.T) > 1.0
        X, y = X[keep], y[keep]
    # nearest neighbour from the other class is never closer than some margin for the noise-free sets
    d = np.hypot(X[:, None, 0] - X[None, :, 0], X[:, None, 1] - X[None, :, 1])
    other = y[:, None] != y[None, :]
    assert d[other].min() > 0.05


def test_symmetry_masks_keep_labels():
    from kernels.ops import symmetry

    for name in ("circle", "xor", "gauss", "sum_2d"):
        s = datasets.make(name, n=300, seed=0)
        rule = RULES.get(name, lambda X: X.sum(axis=1) > 0)
        for g in range(8):
            if s.symmetry_mask >> g & 1 and name != "gauss":
                X = np.array([symmetry(g, x, y) for x, y in s.X_train])
                np.testing.assert_array_equal(rule(X), rule(s.X_train))


def test_digits_bundled_set():
    s = datasets.make("digits", test_ratio=0.2, seed=0)
    assert s.X_train.shape[1] == 64 and s.image_side == 8 and s.kind == "multiclass"
    assert s.X_train.shape[0] + s.X_test.shape[0] == 1797
    assert set(np.unique(s.y_train)) == set(range(10))
    assert 0.0 <= s.X_train.min() and s.X_train.max() <= 1.0


def test_label_forms():
    np.testing.assert_array_equal(datasets.to_indicator(np.array([0, 2, 1]), 3),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(datasets.to_pm1(np.array([0, 1, 1])), [-1, 1, 1])
    with pytest.raises(ValueError, match="0..2"):
        datasets.to_indicator(np.array([3]), 3)


@pytest.mark.parametrize("kwargs,message", [
    (dict(name="spirals"), "unknown data set"), (dict(name="xor", noise=0.7), "noise must be"),
    (dict(name="xor", test_ratio=1.0), "test_ratio"), (dict(name="xor", n=2), "n must be"),
])
def test_make_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.make(**kwargs)


# ----- loaders -------------------------------------------------------------------------------------
def _write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def test_csv_round_trip_and_train_only_standardisation(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(5, 3, (100, 3))
    y = rng.integers(0, 3, 100)
    path = _write_csv(tmp_path / "d.csv", ["a", "b", "c", "target"], np.column_stack([X, y]).tolist())
    s = datasets.load_csv(path, label="target", test_ratio=0.2, seed=0)
    assert s.kind == "multiclass" and s.n_classes == 3 and s.feature_names == ["a", "b", "c"]
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(s.X_train.std(axis=0), 1, atol=1e-12)
    assert np.abs(s.X_test.mean(axis=0)).max() > 1e-6  # test split was not used for the statistics
    raw = datasets.load_csv(path, label="target", features=["c", "a"], scale="none", test_ratio=0.0)
    assert raw.X_train.shape == (100, 2)
    assert sorted(map(tuple, raw.X_train)) == sorted(map(tuple, X[:, [2, 0]]))


def test_mnist_csv_and_idx_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.arange(12, dtype=np.uint8) % 10
    rows = np.column_stack([labels, images.reshape(12, -1)]).tolist()
    csv_path = _write_csv(tmp_path / "train.csv", ["label"] + [f"pixel{i}" for i in range(784)], rows)
    s = datasets.load_mnist_csv(csv_path, test_ratio=0.0)
    assert s.X_train.shape == (12, 784) and s.image_side == 28
    got = {int(lbl): tuple(x) for x, lbl in zip(s.X_train, s.y_train)}
    assert np.allclose(got[3], images[3].ravel() / 255.0)
    img = struct.pack(">BBBBiii", 0, 0, 8, 3, 12, 28, 28) + images.tobytes()
    lab = struct.pack(">BBBBi", 0, 0, 8, 1, 12) + labels.tobytes()
    for opener, suffix in ((lambda b: b, ""), (gzip.compress, ".gz")):
        (tmp_path / f"img{suffix}").write_bytes(opener(img))
        (tmp_path / f"lab{suffix}").write_bytes(opener(lab))
        s = datasets.load_idx(tmp_path / f"img{suffix}", tmp_path / f"lab{suffix}", test_ratio=0.0)
        assert s.X_train.shape == (12, 784) and s.n_classes == 10
        assert sorted(s.y_train.tolist()) == sorted(labels.tolist())


GOOD_HEADER = "x1,x2,label\n"
CORPUS = [
    (b"", "empty"),
    (b"\n\n", "header with column names|empty"),
    (GOOD_HEADER.encode(), "no data rows"),
    (b"x1,x2\n1,2\n3,4\n", "no label column 'label'"),
    (b"x1,x2,label\n1,2,0\n3,abc,1\n", "line 3, column 'x2': 'abc' is not a number"),
    (b"x1,x2,label\n1,2,0\n3,nan,1\n", "line 3, column 'x2'.*NaN or inf"),
    (b"x1,x2,label\n1,2,0\n3,inf,1\n", "NaN or inf"),
    (b"x1,x2,label\n1,2,0\n3,4,0\n", "only one class"),
    (b"x1,x2,label\n1,2,0\n3,4\n", "line 3 has 2 fields"),
    (b"x1,x2,label\n1,2,0.5\n3,4,1\n", "whole numbers"),
    (b"x1,x1,label\n1,2,0\n3,4,1\n", "duplicate column names"),
    (b"label\n0\n1\n", "no feature columns"),
    (b"x1,x2,label\n1,2,0\n\xff\xfe,4,1\n", "not a UTF-8"),
    (b"x1,x2,label\n1,2,0\n3,\x004,1\n", "NUL"),
    (b"x1,x2,label\n1,2,0\n3,\"4,1\n", "not a number|fields|EOF"),
    (b"x1,x2,label\n" + b"".join(b"%d,%d,%d\n" % (i, i, i) for i in range(60)), "more than the limit of 50"),
    (b"x1,x2,label\n1,2,0\n3,4,1e999\n", "NaN or inf"),
    (b"x1,x2,label\n1,,0\n3,4,1\n", "'' is not a number"),
    (b"x1,x2,label\n1,2,-\n3,4,1\n", "'-' is not a number"),
    (b"\xef\xbb\xbf", "empty|header"),
]
IDX_CORPUS = [
    (b"\x00\x00\x08", "magic"),
    (b"\x01\x02\x08\x03" + b"\x00" * 12, "magic"),
    (b"\x00\x00\x07\x03" + b"\x00" * 12, "magic"),
    (b"\x00\x00\x08\x09" + b"\x00" * 40, "dimensions"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated"),
    (struct.pack(">BBBBiii", 0, 0, 8, 3, 2, 2, 2) + b"\x00" * 7, "needs 8 data bytes, file has 7"),
    (struct.pack(">BBBBiii", 0, 0, 8, 3, 2, 2, 2) + b"\x00" * 9, "needs 8 data bytes, file has 9"),
    (b"\x1f\x8b\x08\x00garbage", "corrupt gzip"),
    (struct.pack(">BBBBi", 0, 0, 8, 1, 2) + b"\x00\x01", "3-D"),
]


@pytest.mark.parametrize("content,message", CORPUS)
def test_broken_csv_corpus(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        datasets.load_csv(path)


@pytest.mark.parametrize("content,message", IDX_CORPUS)
def test_broken_idx_corpus(tmp_path, content, message):
    good_labels = tmp_path / "labels"
    good_labels.write_bytes(struct.pack(">BBBBi", 0, 0, 8, 1, 2) + b"\x00\x01")
    path = tmp_path / "images"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        datasets.load_idx(path, good_labels)


def test_idx_count_mismatch_and_size_limit(tmp_path):
    img = tmp_path / "img"
    img.write_bytes(struct.pack(">BBBBiii", 0, 0, 8, 3, 3, 2, 2) + bytes(12))
    lab = tmp_path / "lab"
    lab.write_bytes(struct.pack(">BBBBi", 0, 0, 8, 1, 2) + b"\x00\x01")
    with pytest.raises(ValueError, match="label count 2 does not match image count 3"):
        datasets.load_idx(img, lab)
    big = tmp_path / "big.csv"
    big.write_text(GOOD_HEADER + "1,2,0\n" * 1000)
    with pytest.raises(ValueError, match="over the 0 MB limit"):
        datasets.load_csv(big, max_bytes=1000)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | st.text(alphabet="x12,label\n.-e \"nan", max_size=200).map(str.encode))
def test_fuzzed_files_raise_only_value_error(tmp_path, blob):
    path = tmp_path / "fuzz"
    path.write_bytes(blob)
    for load in (lambda: datasets.load_csv(path), lambda: datasets.load_idx(path, path)):
        try:
            load()
        except ValueError:
            pass
