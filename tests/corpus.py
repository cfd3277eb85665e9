"""Bad input for every door into the lab: files (CSV, IDX, settings JSON, weights .npz), formulas and
URL queries. Each item must get a specific message (a ValueError from the API, a message in the page),
never a traceback, a dead session or a frozen page. tests/test_corpus.py sends every item through the
API (plus hypothesis-generated cases), tests/browser/test_corpus_pages.py through the pages.

Items are built here, not stored as files: the corpus reads as what it tests. A file item is
(name, bytes, what the message must say); a huge file is made sparse on disk by ``write``.
"""

import gzip
import io
import json
import struct
import zipfile

import numpy as np

GOOD_ROWS = "x1,x2,label\n" + "".join(f"{i / 10:.1f},{-i / 10:.1f},{i % 2}\n" for i in range(20))
HUGE = 201 * 1024 * 1024  # over the loaders' 200 MB limit (made sparse: no disk used)


def csv_files():
    """CSV uploads (the Playground's own data)."""
    return [
        ("empty.csv", b"", "empty"),
        ("header-only.csv", b"x1,x2,label\n", "no data rows"),
        ("no-label.csv", b"a,b\n1,2\n3,4\n", "label"),
        ("truncated.csv", GOOD_ROWS.encode()[:-9], "line"),
        ("ragged.csv", b"x1,x2,label\n1,2,0\n3,1\n", "line 3"),
        ("text-cell.csv", b"x1,x2,label\n1,2,0\n3,oops,1\n", "line 3"),
        ("nan.csv", b"x1,x2,label\n1,nan,0\n3,4,1\n", "line 2"),
        ("inf.csv", b"x1,x2,label\n1,2,0\n3,inf,1\n", "line 3"),
        ("huge-number.csv", b"x1,x2,label\n1,1e400,0\n3,4,1\n", "line 2"),
        ("latin-1.csv", "x1,x2,label\n1,2,café\n".encode("latin-1"), "UTF-8"),
        ("binary.csv", bytes(range(256)) * 4, "UTF-8"),
        ("nul.csv", b"x1,x2,label\n1,2\x00,0\n", "NUL"),
        ("one-class.csv", b"x1,x2,label\n1,2,0\n3,4,0\n5,6,0\n", "class"),
        ("many-classes.csv", ("x1,label\n" + "".join(f"{i},c{i}\n" for i in range(60))).encode(), "classes"),
        ("one-row.csv", b"x1,x2,label\n1,2,0\n", "row"),
        ("quotes.csv", b'x1,x2,label\n"1,2,0\n3,4,1\n', "line"),
        ("semicolons.csv", b"x1;x2;label\n1;2;0\n3;4;1\n", "label"),
        ("huge.csv", None, "200 MB"),
    ]


def _idx(dtype_code, dims, payload):
    return struct.pack(">BBBB", 0, 0, dtype_code, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + payload


def idx_files():
    """IDX files (MNIST's own format), read by lab.datasets.read_idx."""
    return [
        ("empty.idx", b"", "empty"),
        ("short-header.idx", b"\x00\x00\x08", "header"),
        ("bad-magic.idx", b"\x01\x02\x08\x01" + struct.pack(">I", 3) + b"abc", "magic"),
        ("bad-type.idx", _idx(0x07, [3], b"abc"), "type"),
        ("truncated.idx", _idx(0x08, [10, 28, 28], bytes(100)), "data bytes"),
        ("too-long.idx", _idx(0x08, [2], bytes(10)), "data bytes"),
        ("float-nan.idx", _idx(0x0D, [2], struct.pack(">ff", 1.0, float("nan"))), "NaN"),
        ("zero-dims.idx", _idx(0x08, [], b""), "dimension"),
        ("text.idx.gz", b"not gzip at all", "magic"),
        ("gzip-bomb.idx.gz", gzip.compress(_idx(0x08, [210_000_000], bytes(210_000_000)), 1), "limit"),
        ("gzip-truncated.idx.gz", gzip.compress(_idx(0x08, [4], bytes(4)))[:-6], "gzip"),
        ("huge.idx", None, "200 MB"),
    ]


def settings_files():
    """Settings files, per page: (page, name, bytes, what the message must say)."""
    playground, race, landscape, sweep = "playground", "race", "landscape", "sweep"
    return [
        (playground, "empty.json", b"", "empty"),
        (playground, "not-json.json", b"learning_rate: 0.1", "not a valid settings file"),
        (playground, "list.json", b"[1, 2, 3]", "JSON object"),
        (playground, "unknown.json", b'{"warp_speed": 9}', "warp_speed"),
        (playground, "wrong-type.json", b'{"batch_size": "many"}', "batch_size"),
        (playground, "out-of-range.json", b'{"batch_size": -4}', "batch_size"),
        (playground, "nan.json", b'{"test_ratio": NaN}', "test_ratio"),
        (playground, "bad-optimizer.json", b'{"optimizer": {"name": "warp"}}', "name"),
        (playground, "optimizer-not-object.json", b'{"optimizer": "warp"}', "by name"),
        (playground, "latin-1.json", '{"dataset": "café"}'.encode("latin-1"), "UTF-8"),
        (playground, "binary.json", bytes(range(256)), "UTF-8"),
        (playground, "deep.json", b"[" * 100000 + b"]" * 100000, "settings file"),
        (race, "bad-racer.json", b'{"racers": [{"optimizer": "warp"}]}', "warp"),
        (race, "bad-formula.json", b'{"formula": "x**99999999"}', "finite"),
        (race, "racers-not-list.json", b'{"racers": 3}', "racers"),
        (landscape, "unknown.json", b'{"weights": []}', "weights"),
        (landscape, "bad-surface.json", b'{"surface": {"resolution": 100000}}', "resolution"),
        (sweep, "unknown.json", b'{"warp": 1}', "warp"),
        (sweep, "bad-optimizer.json", b'{"optimizer_a": "warp"}', "optimizer_a"),
        (sweep, "bad-values.json", b'{"values_b": "0.9, 1.5"}', "decay"),
        (sweep, "bad-base.json", b'{"base": "reg.l2=-1"}', "l2"),
    ]


def _npz(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def weights_files():
    """Weights files for MLP.load (the Playground exports them; notebooks load them)."""
    config = dict(sizes=[2, 3, 1], activation=["tanh"], output="sigmoid", loss="bce", seed=0, dtype="float64",
                  init="glorot", features=None)
    good_params = np.zeros(2 * 3 + 3 + 3 + 1)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "not arrays")
    return [
        ("empty.npz", b"", "empty"),
        ("text.npz", b"params,config\n1,2\n", "not a weights file"),
        ("zip-of-text.npz", zipped.getvalue(), "not a weights file"),
        ("no-config.npz", _npz(params=good_params), "config"),
        ("no-params.npz", _npz(config=json.dumps(config)), "params"),
        ("bad-config.npz", _npz(params=good_params, config="{not json"), "config"),
        ("config-list.npz", _npz(params=good_params, config="[1, 2]"), "config"),
        ("unknown-key.npz", _npz(params=good_params, config=json.dumps({**config, "warp": 1})), "warp"),
        ("bad-activation.npz", _npz(params=good_params, config=json.dumps({**config, "activation": ["warp"]})),
         "warp"),
        ("wrong-shape.npz", _npz(params=np.zeros(5), config=json.dumps(config)), "match"),
        ("wrong-dtype.npz", _npz(params=np.array(["a"] * 13), config=json.dumps(config)), "params"),
        ("nan.npz", _npz(params=np.full(13, np.nan), config=json.dumps(config)), "finite"),
        ("object.npz", _npz(params=np.array([None] * 13, dtype=object), config=json.dumps(config)), "params"),
        ("truncated.npz", _npz(params=good_params, config=json.dumps(config))[:-40], "not a weights file"),
        ("huge.npz", None, "200 MB"),
    ]


def formulas():
    """Formulas for the Race page's box (and surfaces.parse): (text, what the message must say; None: a
    valid formula)."""
    return [
        ("", "enter a formula"),
        ("x**99999999", "finite"),
        ("exp(exp(exp(x)))", "finite"),
        ("log(x)", "finite"),
        ("sqrt(x - 5)", "finite"),
        ("1/(x - x)", "finite"),
        ("x**y**x**y**x", "finite"),
        ("(" * 140 + "x" + ")" * 140, None),  # parentheses only group: this is x
        ("-" * 100 + "x", "nested"),
        ("sin(" * 50 + "x" + ")" * 50, "nested"),
        ("x" + "+x" * 50000, "too long"),
        ("x²", "syntax"),
        ("ｘ + y", None),  # Python reads the full-width letter as x
        ("__import__('os')", "__import__"),
        ("().__class__.__bases__", "not allowed"),
        ("x if y else 1", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("x; y", "syntax"),
        ("[x, y]", "not allowed"),
        ("'x'", "only numbers"),
        ("x @ y", "not allowed"),
        ("sin(x, y)", "one argument"),
        ("1e999 * x", "finite"),
        ("x +", "syntax"),
    ]


def queries():
    """URL queries, per page: (page, query dict, what the message must say; None: accepted as it is)."""
    long = "8," * 5000
    return [
        ("playground", {"warp": "9"}, "warp"),
        ("playground", {"learning_rate": "fast"}, "learning_rate"),
        ("playground", {"opt.learning_rate": "-1"}, "learning_rate"),
        ("playground", {"batch_size": "0"}, "batch_size"),
        ("playground", {"batch_size": "1e30"}, "batch_size"),
        ("playground", {"test_ratio": "nan"}, "test_ratio"),
        ("playground", {"hidden": long}, "hidden"),
        ("playground", {"hidden": "a,b"}, "hidden"),
        ("playground", {"dataset": "x" * 10000}, "dataset"),
        ("playground", {"optimizer_name": "warp"}, "warp"),
        ("playground", {"optimizer": "adam"}, "optimizer"),
        ("playground", {"opt.warp": "1"}, "warp"),
        ("playground", {"reg.dropout": "2"}, "dropout"),
        ("playground", {"activation": "relu," * 2000}, "activation"),
        ("race", {"surface": "warp"}, "warp"),
        ("race", {"formula": "x**99999999"}, "finite"),
        ("race", {"formula": "x" * 10000}, "too long"),
        ("race", {"start": "a,b"}, "start"),
        ("race", {"speed": "-5"}, "speed"),
        ("race", {"racers": "{" * 10000}, "unknown optimizer"),
        ("landscape", {"resolution": "100000"}, "resolution"),
        ("landscape", {"directions": "warp"}, "warp"),
        ("landscape", {"resolution": "many"}, "resolution"),
        ("landscape", {"learning_rate": "x" * 10000}, "learning_rate"),
        ("sweep", {"values_a": "x" * 10000}, "values"),
        ("sweep", {"lr_min": "0"}, "lr_min"),
        ("sweep", {"seeds": "1e30"}, "seeds"),
        ("sweep", {"epochs": "many"}, "epochs"),
        ("sweep", {"base": "reg.l2=-1"}, "l2"),
        ("sweep", {"lr_min": "1", "lr_max": "0.1"}, "smallest learning rate"),
    ]


def write(folder, name, data):
    """The item as a file in ``folder`` (``data`` None: a sparse file over the size limit)."""
    path = folder / name
    if data is None:
        with open(path, "wb") as f:
            f.truncate(HUGE)
    else:
        path.write_bytes(data)
    return path
