"""Hyperparameter sweeps on Dask: a base Playground configuration, a grid over any of its settings, and
seeds; every run trains through ``MLP.fit``, so a sweep row equals a single run with the same settings.

    >>> sweep = Sweep({"dataset": "spiral", "hidden": "8,8"},
    ...               {"optimizer_name": ["momentum", "rmsprop"], "opt.learning_rate": [0.003, 0.01, 0.03]},
    ...               seeds=3, epochs=50)
    >>> runs, curves = sweep.run(out="sweep.csv")          # an embedded LocalCluster sized to the machine
    >>> runs, curves = sweep.run(scheduler="tcp://10.0.0.5:8786")   # an existing cluster

Settings are named as in the Playground's URL (``opt.learning_rate``, ``reg.l2``, ``sched.every``...).
Workers receive each run's settings (a dict of strings), never model objects, and need only this package
installed. Results: one row per run (every setting, the seed, status ``converged`` / ``diverged`` /
``stopped`` (early stopping) / ``error`` with its message, final train and test loss, test accuracy,
epochs run, seconds, worker), and the per-epoch curves in a second table. With ``out`` the rows are
written as runs finish (CSV, or Parquet by extension, the curves beside it as ``NAME.curves.EXT``), so a
killed sweep keeps what finished, and running it again with the same ``out`` skips those runs.
"""

import copy
import hashlib
import itertools
import json
import os
import socket
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from lab.playground import PlaygroundConfig

STATUS = {"running": "converged", "diverged": "diverged", "early_stopped": "stopped"}
RESULT_COLUMNS = ["run", "seed", "status", "message", "train_loss", "test_loss", "test_accuracy", "epochs",
                  "seconds", "worker"]
CURVE_COLUMNS = ["run", "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"]
CONNECT_SECONDS = 5
MAX_RUNS = 100_000


def run_id(settings, seed):
    """A stable name for one run: the same settings and seed give the same id (resume uses it)."""
    text = json.dumps({"settings": dict(sorted(settings.items())), "seed": int(seed)})
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def configure(settings):
    """The PlaygroundConfig for a run's settings (URL-style strings); ValueError names a bad one."""
    config = PlaygroundConfig()
    config.from_query(settings, ignore=("page",))
    return config


def train_one(settings, seed, epochs):
    """Trains one run (on a worker): ``settings`` as the Playground's URL writes them, the seed of the
    weights and minibatch order. Returns (result row, curve rows). Never raises: a failure is a row with
    status 'error' and the message."""
    start = time.perf_counter()
    row = {"run": run_id(settings, seed), "seed": int(seed), "worker": f"{socket.gethostname()}:{os.getpid()}",
           "message": "", "train_loss": np.nan, "test_loss": np.nan, "test_accuracy": np.nan, "epochs": 0}
    curves = []
    try:
        config = configure({**settings, "seed": str(seed)})
        split = config.make_data()
        model = config.make_model(split)
        has_test = len(split.y_test) > 0
        history = model.fit(split.X_train, split.y_train, epochs=int(epochs), batch_size=config.batch_size,
                            optimizer=config.optimizer, regularization=config.regularization,
                            validation_data=(split.X_test, split.y_test) if has_test else None, seed=config.seed,
                            symmetry_mask=split.symmetry_mask, image_side=split.image_side)
        row["status"] = STATUS[history.status]
        row["epochs"] = len(history["loss"])
        row["train_loss"] = model.evaluate(split.X_train, split.y_train)["loss"]
        if has_test:
            test = model.evaluate(split.X_test, split.y_test)
            row["test_loss"] = test["loss"]
            row["test_accuracy"] = test.get("accuracy", np.nan)
        if history.status == "diverged":
            row["message"] = f"the loss became NaN, inf or 4x its start in epoch {row['epochs']}"
        for e in range(len(history["loss"])):
            curves.append({"run": row["run"], "epoch": e + 1, **{
                k: history[k][e] if k in history else np.nan
                for k in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")}})
    except Exception as err:  # a run that cannot be built or trained is a row, never a crashed sweep
        row["status"] = "error"
        row["message"] = f"{type(err).__name__}: {err}"
    row["seconds"] = time.perf_counter() - start
    return row, curves


class Sweep:
    """A grid of runs. base: Playground settings (a dict as its URL writes them, or a PlaygroundConfig);
    grid: {setting: [values, ...]}, or a list of settings dicts, one per point, when the points are no
    product (the Sweep page's two optimizers sweep different hyperparameters); seeds: how many seeds per
    grid point (0, 1, ...); epochs per run. Every setting and value is checked here, before any work starts."""

    def __init__(self, base=None, grid=None, seeds=1, epochs=50):
        if isinstance(base, PlaygroundConfig):
            base = base.to_query()
        self.base = {k: str(v) for k, v in (base or {}).items() if k != "page"}
        self.grid, self.listed = {}, None
        if isinstance(grid, (list, tuple)):
            if not grid:
                raise ValueError("the sweep has no points")
            self.listed = [{k: str(v) for k, v in point.items()} for point in grid]
            grid = {}
        for key, values in (grid or {}).items():
            values = [values] if isinstance(values, (str, int, float)) else list(values)
            if not values:
                raise ValueError(f"the grid gives no values for {key!r}")
            self.grid[key] = [str(v) for v in values]
        self._cancelled = threading.Event()
        self._futures = []
        self._client = self._completed = None
        self._lock = threading.Lock()
        if int(seeds) < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        if int(epochs) < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        self.seeds, self.epochs = int(seeds), int(epochs)
        if "seed" in self.grid or "seed" in self.base or any("seed" in p for p in self.listed or ()):
            raise ValueError("set the number of seeds with seeds=N (--seeds N), not with a 'seed' setting")
        points = self.points()
        if len(points) * self.seeds > MAX_RUNS:
            raise ValueError(f"{len(points) * self.seeds} runs is more than {MAX_RUNS}; make the grid smaller")
        for point in points:  # a bad name or value fails here, naming it, before any work
            configure(point)

    def points(self):
        """Every grid point: the base settings with one combination of the grid's values."""
        if self.listed is not None:
            return [{**self.base, **point} for point in self.listed]
        keys = list(self.grid)
        return [{**self.base, **dict(zip(keys, combo))} for combo in itertools.product(*self.grid.values())]

    def runs(self):
        """[(run id, settings, seed), ...] for every grid point and seed."""
        return [(run_id(p, s), p, s) for p in self.points() for s in range(self.seeds)]

    def __len__(self):
        return len(self.points()) * self.seeds

    def run(self, scheduler=None, out=None, progress=True, client=None, on_result=None, workers=None, skip=()):
        """Runs the sweep on Dask and returns (runs, curves) DataFrames. scheduler: an address of an
        existing cluster (None: an embedded LocalCluster with one single-threaded worker per core, or
        ``workers``); client: a distributed.Client to use instead. out: a .csv or .parquet file written as
        runs finish; finished runs already in it are skipped. on_result(row, curves): called for each run
        as it finishes (the Sweep page fills its heatmap from it); skip: ids of runs not to run again
        (the page's runs from before Stop). ``cancel()``, from any thread, ends it early: its tasks are
        cancelled on the cluster, and the runs finished so far are returned."""
        from lab.sweep_store import Store

        store = Store(out) if out is not None else None
        done = (store.finished() if store is not None else set()) | set(skip)
        todo = [r for r in self.runs() if r[0] not in done]
        own = client is None
        if own:
            client = connect(scheduler, workers)
        rows, curves = ([store.rows()] if store else []), ([store.curves()] if store else [])
        try:
            bar = None
            if progress:
                from tqdm.auto import tqdm

                print(f"Dask dashboard: {client.dashboard_link}", flush=True)
                bar = tqdm(total=len(self), initial=len(self) - len(todo), unit="run")
            # the token keeps two sweeps of the same runs (two tabs) apart: cancelling one leaves the other's
            token = uuid.uuid4().hex[:8]
            futures = [client.submit(train_one, settings, seed, self.epochs, key=f"lab-run-{rid}-{token}",
                                     pure=False) for rid, settings, seed in todo]
            settings_of = {f.key: settings for f, (_, settings, _) in zip(futures, todo)}
            from distributed import as_completed

            done_futures = as_completed(futures)
            with self._lock:
                self._client, self._futures, self._completed = client, futures, done_futures
                if self._cancelled.is_set():  # cancel() came while the tasks were being submitted
                    self._cancel_tasks()
            for future in done_futures:
                if self._cancelled.is_set():
                    break
                if future.status == "cancelled":
                    continue
                row, run_curves = future.result()
                row = {**settings_of[future.key], **row}
                if store is not None:
                    store.add(row, run_curves)
                rows.append(pd.DataFrame([row]))
                curves.append(pd.DataFrame(run_curves, columns=CURVE_COLUMNS))
                if on_result is not None:
                    on_result(row, run_curves)
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()
        finally:
            with self._lock:
                if self._cancelled.is_set():
                    self._cancel_tasks()
                self._client, self._futures = None, []
            if own:
                cluster = getattr(client, "_lab_cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
        table = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) \
            else pd.DataFrame(columns=RESULT_COLUMNS)
        curve_table = pd.concat([c for c in curves if len(c)], ignore_index=True) if any(len(c) for c in curves) \
            else pd.DataFrame(columns=CURVE_COLUMNS)
        return table, curve_table

    def fresh(self):
        """The same runs as a sweep not yet started (a stopped sweep cannot run again; its copy can)."""
        new = copy.copy(self)
        new._cancelled, new._futures, new._lock = threading.Event(), [], threading.Lock()
        new._client = new._completed = None
        return new

    def cancel(self):
        """Stops the sweep (from any thread): its tasks are cancelled on the cluster, so no work is left
        queued (a run already running finishes on its worker, since Dask does not interrupt running code,
        and its result is dropped); ``run`` returns what finished."""
        with self._lock:
            self._cancelled.set()
            self._cancel_tasks()

    @property
    def cancelled(self):
        return self._cancelled.is_set()

    def _cancel_tasks(self):
        if self._client is not None and self._futures:
            pending = [f for f in self._futures if not f.done()]
            if pending:
                self._client.cancel(pending)
            if self._completed is not None:
                self._completed.clear()
            self._futures = []


def connect(scheduler=None, workers=None):
    """A distributed.Client: to ``scheduler`` (an address; ValueError naming it when it does not answer
    within CONNECT_SECONDS) or to a new LocalCluster with ``workers`` single-threaded worker processes
    (default: one per core)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
        except (OSError, TimeoutError) as err:
            raise ValueError(f"no Dask scheduler answered at {scheduler} within {CONNECT_SECONDS} s ({err})") from None
    n = int(workers or os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster)
    client._lab_cluster = cluster
    return client


_SHARED = {}
_SHARED_LOCK = threading.Lock()


def shared_client(scheduler=None, workers=None):
    """One client per process and scheduler, made on first use and kept: every tab of a served lab runs its
    sweeps on it, rather than starting a cluster each. The scheduler: ``scheduler``, else the environment's
    LAB_DASK_SCHEDULER (an existing cluster), else an embedded LocalCluster with ``workers`` processes."""
    scheduler = scheduler or os.environ.get("LAB_DASK_SCHEDULER") or None
    with _SHARED_LOCK:
        client = _SHARED.get(scheduler)
        if client is None or client.status not in ("running", "connecting", "newly-created"):
            client = connect(scheduler, workers)
            _SHARED[scheduler] = client
        return client


def close_shared():
    """Closes the shared clients and the clusters this process started (the server's shutdown)."""
    with _SHARED_LOCK:
        clients = list(_SHARED.values())
        _SHARED.clear()
    for client in clients:
        cluster = getattr(client, "_lab_cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()


def dashboard_address(client, page_host=None):
    """The client's Dask dashboard as a browser elsewhere reaches it: an embedded cluster's dashboard
    listens on every interface of the server, but calls itself 127.0.0.1; ``page_host`` is the host
    name the page was opened with (a student's laptop reaches the server by it)."""
    link = client.dashboard_link or ""
    if page_host and link:
        parts = urllib.parse.urlsplit(link)
        if parts.hostname in ("127.0.0.1", "localhost", "0.0.0.0") and page_host not in ("127.0.0.1", "localhost"):
            link = parts._replace(netloc=f"{page_host}:{parts.port}").geturl()
    return link


def grid_from_arguments(arguments):
    """(base, grid) from SETTING=VALUE words: a comma makes a grid axis (``opt.learning_rate=0.01,0.1``),
    except for settings whose value is a list (hidden, activation, features), where ``|`` separates the
    alternatives (``hidden=8,8|16``)."""
    listy = {"hidden", "activation", "features"}
    base, grid = {}, {}
    for word in arguments:
        if "=" not in word:
            raise ValueError(f"{word!r} is not SETTING=VALUE")
        key, value = word.split("=", 1)
        key = key.strip()
        if not key:
            raise ValueError(f"{word!r} names no setting")
        separator = "|" if key in listy else ","
        values = [v.strip() for v in value.split(separator)]
        if any(v == "" for v in values) and key not in listy:
            raise ValueError(f"{key} has an empty value in {value!r}")
        if len(values) > 1:
            grid[key] = values
        else:
            base[key] = values[0]
    return base, grid


def summary(runs):
    """Runs grouped by their grid settings: mean and spread of the test loss over seeds, and counts."""
    settings = [c for c in runs.columns if c not in RESULT_COLUMNS]
    varying = [c for c in settings if runs[c].nunique() > 1] or settings[:1]
    return runs.groupby(varying).agg(runs=("run", "count"), test_loss=("test_loss", "mean"),
                                     test_loss_std=("test_loss", "std"), test_accuracy=("test_accuracy", "mean"),
                                     diverged=("status", lambda s: int((s == "diverged").sum())))


def main(argv=None):
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m lab.sweep", description=(
        "A sweep of Playground runs on Dask. SETTING=V1,V2 makes a grid axis (hidden=8,8|16 for list "
        "settings); settings are named as in the Playground's URL."))
    parser.add_argument("settings", nargs="+", help="SETTING=VALUE or SETTING=V1,V2,...")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--out", required=True, help="results file (.csv or .parquet); the curves go beside it")
    parser.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    parser.add_argument("--workers", type=int, default=None, help="workers of the embedded cluster (default: cores)")
    args = parser.parse_args(argv)
    try:
        base, grid = grid_from_arguments(args.settings)
        sweep = Sweep(base, grid, seeds=args.seeds, epochs=args.epochs)
        from lab.sweep_store import Store

        Store(args.out)  # a bad extension fails before any work
        runs, _ = sweep.run(scheduler=args.scheduler, out=args.out, workers=args.workers)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(summary(runs).round(4).to_string())
    print(f"{len(runs)} runs in {args.out}; curves in {Path(args.out).with_suffix('')}.curves"
          f"{Path(args.out).suffix}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
