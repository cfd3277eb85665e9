"""The browser suite on a busy machine: one CPU hog per core (busy loops at normal priority, so they
compete with the lab's server and the browser for every core), then `pytest tests/browser` N times in
a row. Every run must pass. `make test-under-load` runs it; CI calls that after `make test`.

    python tests/under_load.py [--runs 1] [--hogs N] [pytest arguments...]
"""

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def hog():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2, help="busy processes (default: one per core)")
    args, pytest_args = parser.parse_known_args()
    hogs = [multiprocessing.Process(target=hog, daemon=True) for _ in range(args.hogs)]
    for p in hogs:
        p.start()
    print(f"under load: {args.hogs} CPU hogs on {os.cpu_count()} cores; {args.runs} runs of the browser suite",
          flush=True)
    results = []
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/browser",
                                    *pytest_args], cwd=ROOT)
            results.append((run, code, time.monotonic() - started))
            print(f"under load: run {run} of {args.runs} {'passed' if code == 0 else 'FAILED'} "
                  f"in {results[-1][2]:.0f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        for p in hogs:
            p.terminate()
        for p in hogs:
            p.join(5)
    passed = sum(code == 0 for _, code, _ in results)
    print(f"under load: {passed} of {len(results)} runs passed")
    return 0 if passed == len(results) == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
