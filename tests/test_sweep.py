"""Sweeps on Dask: a sweep row equals a single run (float64), bad input is refused before any work, rows
are written as runs finish and a rerun skips them, diverged runs are rows, a lost worker costs only its
runs; on an in-process cluster (fast), on LocalCluster worker processes, and on a real `dask scheduler` +
`dask worker` started here as separate processes."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lab import MLP
from lab import sweep as S

ROOT = Path(__file__).resolve().parents[1]
BASE = {"dataset": "xor", "n_points": "120", "hidden": "4", "dtype": "float64", "batch_size": "16"}


def test_a_sweep_row_equals_the_single_run_with_the_same_settings(client):
    sweep = S.Sweep(BASE, {"optimizer_name": ["momentum", "rmsprop"], "opt.learning_rate": [0.01, 0.1]},
                    seeds=2, epochs=15)
    assert len(sweep) == 8
    runs, curves = sweep.run(client=client, progress=False)
    assert len(runs) == 8 and set(runs["status"]) == {"converged"}
    assert sorted(runs["seed"]) == [0, 0, 0, 0, 1, 1, 1, 1]
    row = runs[(runs.optimizer_name == "rmsprop") & (runs["opt.learning_rate"] == "0.1") & (runs.seed == 1)].iloc[0]
    # the same run by hand, as a student would: the Playground's data and model, MLP.fit
    config = S.configure({**BASE, "optimizer_name": "rmsprop", "opt.learning_rate": "0.1", "seed": "1"})
    split = config.make_data()
    model = config.make_model(split)
    assert isinstance(model, MLP) and model.dtype == np.float64
    history = model.fit(split.X_train, split.y_train, epochs=15, batch_size=16, optimizer=config.optimizer,
                        validation_data=(split.X_test, split.y_test), seed=1)
    assert row["test_loss"] == model.evaluate(split.X_test, split.y_test)["loss"]  # exactly, float64
    assert row["train_loss"] == model.evaluate(split.X_train, split.y_train)["loss"]
    assert row["epochs"] == 15 and row["worker"]
    mine = curves[curves.run == row["run"]].sort_values("epoch")
    assert list(mine["loss"]) == history["loss"] and list(mine["val_loss"]) == history["val_loss"]


def test_bad_input_is_refused_before_any_work():
    with pytest.raises(ValueError, match="unknown setting 'nope'"):
        S.Sweep(BASE, {"nope": [1, 2]})
    with pytest.raises(ValueError, match="learning_rate"):
        S.Sweep(BASE, {"opt.learning_rate": [0.1, -5]})
    with pytest.raises(ValueError, match="gives no values for 'opt.momentum'"):
        S.Sweep(BASE, {"opt.momentum": []})
    with pytest.raises(ValueError, match="seeds"):
        S.Sweep(BASE, {}, seeds=0)
    with pytest.raises(ValueError, match="not with a 'seed' setting"):
        S.Sweep(BASE, {"seed": [1, 2]})
    with pytest.raises(ValueError, match="is not SETTING=VALUE"):
        S.grid_from_arguments(["dataset"])
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        from lab.sweep_store import Store
        Store("results.xlsx")
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.time()
    with pytest.raises(ValueError, match=f"no Dask scheduler answered at tcp://127.0.0.1:{port}"):
        S.connect(f"tcp://127.0.0.1:{port}")
    assert time.time() - started < 30


def test_cancel_leaves_no_task_on_the_cluster_and_returns_what_finished(client):
    import threading

    sweep = S.Sweep(BASE, {"opt.learning_rate": [0.001, 0.003, 0.01, 0.03, 0.1, 0.3]}, seeds=6, epochs=400)
    finished, result = [], []
    first = threading.Event()
    thread = threading.Thread(target=lambda: result.append(sweep.run(
        client=client, progress=False, on_result=lambda row, curves: (finished.append(row), first.set()))))
    thread.start()
    assert first.wait(120), "no run finished"
    sweep.cancel()
    thread.join(60)
    assert not thread.is_alive()
    runs, _ = result[0]
    assert 1 <= len(runs) < len(sweep) and len(runs) == len(finished)
    deadline = time.time() + 30  # cancelled tasks leave the scheduler as its messages arrive
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and time.time() < deadline:
        time.sleep(0.1)
    assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0
    # the same runs again, skipping those that finished (the Sweep page's Start after Stop)
    rest, _ = sweep.fresh().run(client=client, progress=False, skip=set(runs["run"]))
    assert len(rest) == len(sweep) - len(runs) and not set(rest["run"]) & set(runs["run"])


def test_the_shared_client_is_made_once_and_names_an_unreachable_scheduler(monkeypatch):
    S.close_shared()
    made = []
    monkeypatch.setattr(S, "connect", lambda scheduler=None, workers=None: made.append(scheduler) or _Fake())
    monkeypatch.setenv("LAB_DASK_SCHEDULER", "tcp://10.1.2.3:8786")
    assert S.shared_client() is S.shared_client() and made == ["tcp://10.1.2.3:8786"]
    S.close_shared()
    monkeypatch.undo()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ValueError, match=f"tcp://127.0.0.1:{port}"):
        S.shared_client(f"tcp://127.0.0.1:{port}")


class _Fake:
    status = "running"
    dashboard_link = "http://127.0.0.1:8787/status"

    def close(self):
        self.status = "closed"


def test_the_dashboard_link_names_the_host_the_page_was_opened_by():
    fake = _Fake()
    assert S.dashboard_address(fake, "lab.school.example") == "http://lab.school.example:8787/status"
    assert S.dashboard_address(fake, "127.0.0.1") == "http://127.0.0.1:8787/status"
    assert S.dashboard_address(fake, None) == "http://127.0.0.1:8787/status"


def test_list_settings_take_bars_between_alternatives():
    base, grid = S.grid_from_arguments(["dataset=spiral", "hidden=8,8|16", "opt.learning_rate=0.01,0.1"])
    assert base == {"dataset": "spiral"}
    assert grid == {"hidden": ["8,8", "16"], "opt.learning_rate": ["0.01", "0.1"]}


def test_rows_are_written_as_runs_finish_and_a_rerun_skips_them(client, tmp_path):
    out = tmp_path / "sweep.csv"
    first = S.Sweep(BASE, {"opt.learning_rate": [0.01, 0.1]}, seeds=1, epochs=5)
    runs, _ = first.run(client=client, out=out, progress=False)
    assert len(pd.read_csv(out)) == 2 and len(pd.read_csv(tmp_path / "sweep.curves.csv")) == 10
    seen = []
    bigger = S.Sweep(BASE, {"opt.learning_rate": [0.01, 0.1, 1.0]}, seeds=1, epochs=5)
    runs, curves = bigger.run(client=client, out=out, progress=False, on_result=lambda row, c: seen.append(row))
    assert len(seen) == 1 and seen[0]["opt.learning_rate"] == "1.0"  # only the new run trained
    assert len(runs) == 3 and len(pd.read_csv(out)) == 3 and len(curves) == 15


def test_a_diverging_run_is_a_row_and_a_broken_one_an_error_row(client):
    sweep = S.Sweep({**BASE, "optimizer_name": "sgd"}, {"opt.learning_rate": [0.1, 90.0]}, epochs=20)
    runs, _ = sweep.run(client=client, progress=False)
    by_rate = runs.set_index("opt.learning_rate")
    assert by_rate.loc["0.1", "status"] == "converged"
    assert by_rate.loc["90.0", "status"] == "diverged" and by_rate.loc["90.0", "epochs"] < 20
    assert "diverged" not in by_rate.loc["0.1", "message"]
    row, _ = S.train_one({**BASE, "hidden": "4", "activation": "tanh,relu"}, 0, 3)  # 2 activations, 1 layer
    assert row["status"] == "error" and "activations for 1 hidden layers" in row["message"]


def test_the_command_line_runs_a_sweep_and_resumes(tmp_path):
    out = tmp_path / "cli.csv"
    command = [sys.executable, "-m", "lab.sweep", "dataset=xor", "n_points=100", "hidden=4|2",
               "opt.learning_rate=0.03,0.3", "--seeds", "1", "--epochs", "3", "--out", str(out), "--workers", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Dask dashboard: http" in done.stdout and "4 runs in" in done.stdout
    assert len(pd.read_csv(out)) == 4
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and len(pd.read_csv(out)) == 4  # nothing new to run
    bad = subprocess.run([sys.executable, "-m", "lab.sweep", "opt.nope=1,2", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown optimizer setting 'nope'" in bad.stderr


def test_a_killed_worker_costs_only_its_runs():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        # runs of a few tenths of a second each, so the killed worker is busy with one when it dies
        sweep = S.Sweep({**BASE, "n_points": "2000"}, {"opt.learning_rate": [0.01, 0.02, 0.03, 0.05, 0.1, 0.2]},
                        seeds=2, epochs=60)
        finished = []

        def on_result(row, curves):
            if len(finished) == 0:  # after the first run, one worker process dies
                os.kill(pids[0], signal.SIGKILL)
            finished.append(row)
        runs, _ = sweep.run(client=client, progress=False, on_result=on_result)
        now = list(client.run(os.getpid).values())
    assert pids[0] not in now  # that worker is gone (its nanny started another)
    assert len(runs) == 12 and set(runs["status"]) == {"converged"}
    assert runs["run"].nunique() == 12


def test_a_sweep_on_a_separate_scheduler_and_worker():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                               "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from distributed import Client

        with Client(f"tcp://127.0.0.1:{port}", timeout="60s") as client:
            client.wait_for_workers(1, timeout=120)
            runs, _ = S.Sweep(BASE, {"opt.learning_rate": [0.01, 0.1]}, epochs=3).run(client=client, progress=False)
            worker_pids = set(client.run(os.getpid).values())
        assert len(runs) == 2 and set(runs["status"]) == {"converged"}
        assert {int(w.rsplit(":", 1)[1]) for w in runs["worker"]} <= worker_pids  # ran in the worker process
        assert not worker_pids & {os.getpid()}
    finally:
        for proc in (worker, scheduler):
            proc.send_signal(signal.SIGTERM)
        for proc in (worker, scheduler):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
