"""The server's start: the kernels compile in a separate process while the pages already answer.

``KERNELS.start()`` (from ``on_server_loaded``) runs ``python -m lab.warmup --lines`` in a subprocess,
which compiles into Numba's cache and reports each finished group; the server then loads the cached
kernels in a thread. Neither blocks the event loop, so a visitor at once gets a page saying what is
happening ("preparing the lab: compiling kernels, k of n, only the first time"); it turns into the
lab by itself when the kernels are ready.
"""

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import panel as pn

log = logging.getLogger("lab.apps")
ROOT = Path(__file__).resolve().parent.parent


def load_pages():
    import importlib

    from apps.shell import PAGES

    for _, module in PAGES.values():
        importlib.import_module(module)


class Kernels:
    """Process-wide: how far the kernels are (done of total), and whether the pages may use them."""

    def __init__(self):
        self.done, self.total, self.current = 0, 0, "starting"
        self.ready = threading.Event()
        self.started = None
        self.thread = None

    def start(self):
        if self.thread is None:
            self.started = time.perf_counter()
            self.thread = threading.Thread(target=self._prepare, name="lab-warmup", daemon=True)
            self.thread.start()

    def _prepare(self):
        from lab.warmup import warm_up

        try:
            compiler = subprocess.Popen([sys.executable, "-m", "lab.warmup", "--lines"], cwd=ROOT,
                                        stdout=subprocess.PIPE, text=True)
            for line in compiler.stdout:
                k, n, name = line.split(" ", 2)
                self.done, self.total, self.current = int(k), int(n), name.strip()
            compiler.wait()
        except (OSError, ValueError) as err:  # the server compiles in-process instead (slower, still works)
            log.warning("the kernel compiler process failed (%s); compiling in the server", err)
        self.current = "loading the compiled kernels"
        warm_up()  # from the cache the subprocess filled: seconds
        self.current = "loading the pages"
        load_pages()  # once here, not on the first student's event loop
        self.ready.set()
        print(f"lab: kernels ready in {time.perf_counter() - self.started:.1f} s", flush=True)

    def text(self):
        if self.total and self.done < self.total:
            step = f"compiling kernels, {self.done} of {self.total} done (now: {self.current})"
        else:
            step = self.current
        return (f"**Preparing the lab:** {step}. This happens only the first time the server starts on a "
                "machine, and takes a minute or two; the page opens by itself when it is done.")


KERNELS = Kernels()


def preparing(ready):
    """A notice of the kernels' progress; ``ready()`` (which replaces it with the page) runs once they are."""
    text = pn.pane.Markdown(KERNELS.text(), name="preparing", sizing_mode="stretch_width")
    bar = pn.indicators.Progress(value=KERNELS.done, max=max(KERNELS.total, 1), width=400, bar_color="primary")
    holder = pn.Column(text, bar, sizing_mode="stretch_width", name="preparing_holder")

    def poll():
        if KERNELS.ready.is_set():
            callback.stop()
            ready()
            return
        text.object = KERNELS.text()
        bar.max, bar.value = max(KERNELS.total, 1), KERNELS.done

    callback = pn.state.add_periodic_callback(poll, period=500)
    return holder
