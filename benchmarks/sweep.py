"""A 64-run sweep through lab.sweep on Dask: one worker, two workers (one per core here), and a separate
`dask scheduler` + `dask worker` pair, all in one run. Prints wall time, speed-up over one worker, and the
overhead per task: (wall time x workers - time the runs themselves took) / runs.

    python benchmarks/sweep.py [--epochs 60]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab import sweep as S  # noqa: E402

BASE = {"dataset": "spiral", "n_points": "1000", "hidden": "8,8", "batch_size": "16", "optimizer_name": "momentum"}
GRID = {"opt.learning_rate": ["0.003", "0.01", "0.03", "0.1"], "opt.momentum": ["0.0", "0.5", "0.9", "0.99"]}


def timed(sweep, client, workers):
    start = time.perf_counter()
    runs, _ = sweep.run(client=client, progress=False)
    wall = time.perf_counter() - start
    busy = runs["seconds"].sum()
    return wall, (wall * workers - busy) / len(runs) * 1e3, runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=400)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    sweep = S.Sweep(BASE, GRID, seeds=4, epochs=args.epochs)
    print(f"{len(sweep)} runs: spiral 1000 points (500 to train), 2-8-8-1, batch 16, {args.epochs} epochs each")
    print(f"{'cluster':44s} {'wall s':>8s} {'speed-up':>9s} {'overhead ms/task':>17s} {'run s (mean)':>13s}")
    results = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(lambda: __import__("lab.sweep").sweep.train_one(BASE, 0, 1))  # workers import and warm up
            wall, overhead, runs = timed(sweep, client, workers)
        results[workers] = wall
        print(f"{f'LocalCluster, {workers} worker process(es)':44s} {wall:8.2f} {results[1] / wall:8.2f}x "
              f"{overhead:17.1f} {runs['seconds'].mean():13.3f}", flush=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--dashboard-address", ":0"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                                   "--nthreads", "1", "--nworkers", "2", "--no-dashboard"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        with Client(f"tcp://127.0.0.1:{port}", timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            client.run(lambda: __import__("lab.sweep").sweep.train_one(BASE, 0, 1))
            # the scheduler unpickles each task, so its first sweep imports the lab there: a one-off cost, timed
            # apart (LocalCluster's scheduler lives in this process, where the lab is already imported)
            start = time.perf_counter()
            client.run_on_scheduler(lambda: __import__("lab.sweep") and None)
            scheduler_import = time.perf_counter() - start
            wall, overhead, runs = timed(sweep, client, 2)
        print(f"{'dask scheduler + dask worker --nworkers 2':44s} {wall:8.2f} {results[1] / wall:8.2f}x "
              f"{overhead:17.1f} {runs['seconds'].mean():13.3f}")
        print(f"(once per scheduler process: importing the lab on its first sweep took {scheduler_import:.2f} s, "
              "not counted above)")
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
