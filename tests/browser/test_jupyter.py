"""The pages inside Jupyter, in a real browser: a Jupyter server (Notebook 7) on a free loopback port,
examples/pages_in_jupyter.ipynb run in Chromium with "Restart Kernel and Run All Cells". Every page shows,
the Playground learns when ▶ Play is pressed (frames reach the browser over the notebook's comm), and the
Playground bound to a model trained in the notebook starts from its weights."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ARTIFACTS, ROOT, _free_port, message, wait_until

DOCS = """() => Bokeh.documents.map(d => {
    const status = d.get_model_by_name('status'), frames = d.get_model_by_name('frame_counter');
    const curve = d.get_model_by_name('loss_curve');
    const play = [...d._all_models.values()].find(m => typeof m.label === 'string' && /Play|Pause/.test(m.label));
    return {status: status ? status.text : null, frames: frames ? frames.data.frame[0] : null,
            play: play ? play.label : null,
            losses: curve ? Array.from(curve.data.train) : null, race: !!d.get_model_by_name('race_step'),
            landscape: !!d.get_model_by_name('landscape_info')};
})"""

# what a failure needs besides the documents: the state of each one's comm manager in Panel (a change from
# the browser waits while the manager is blocked on an unacknowledged message)
COMMS = """() => Bokeh.documents.map(d => {
    const models = [...d._all_models.values()];
    const manager = models.find(m => m.constructor.__name__ === 'CommManager');
    return {models: models.length, comm: manager ? {blocked: manager._blocked, buffered: manager._event_buffer.length,
                             timeout_in_ms: manager._timeout - Date.now(),
                             open: manager._client_comm ? !!manager._client_comm.active : null} : null};
})"""
KERNEL = """() => { const w = window.jupyterapp.shell.currentWidget;
    const kernel = w && w.sessionContext.session && w.sessionContext.session.kernel;
    return kernel ? `${kernel.status}, ${kernel.connectionStatus}` : null; }"""

# in the Jupyter server and its kernel: SIGUSR2 writes every thread's stack to a file in test-artifacts named
# by the process id (the server takes SIGUSR1 for itself; the kernel runs in its own process group)
STACKS_ON_SIGNAL = """import faulthandler, os, signal
faulthandler.register(signal.SIGUSR2, all_threads=True, file=open(
    os.path.join(os.environ["LAB_STACKS"], f"stacks-{os.getpid()}.log"), "w"))
"""


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    hooks = tmp_path_factory.mktemp("hooks")
    (hooks / "sitecustomize.py").write_text(STACKS_ON_SIGNAL)
    stacks = ARTIFACTS / "jupyter-stacks"
    shutil.rmtree(stacks, ignore_errors=True)
    stacks.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "pages_in_jupyter.ipynb", folder)
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "jupyter.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "notebook", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         "--expose-app-in-browser",  # window.jupyterapp: the test runs the cells by command, not by menus
         "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={folder}",
         "--ServerApp.disable_check_xsrf=True"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONPATH": f"{hooks}{os.pathsep}{ROOT}", "PYTHONUNBUFFERED": "1",
             "LAB_STACKS": str(stacks)})
    url = f"http://127.0.0.1:{port}"

    def answers():  # the cheap status endpoint, not a page
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=5) as r:
                return json.load(r) is not None
        except OSError:
            return proc.poll() is not None
    try:
        assert wait_until(answers, 180) and proc.poll() is None, (ARTIFACTS / "jupyter.log").read_text()[-3000:]
        yield url, stacks
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):  # the server and its kernels
            try:
                os.killpg(proc.pid, sig)
                proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
            break
        log.close()


def _evidence(page, stacks):
    """What a failure shows whole (pytest prints a string whole): the documents, their Play buttons and comm
    managers, the kernel's state, and the stacks of every thread of the Jupyter server and its kernel."""
    files = sorted(stacks.glob("stacks-*.log"))
    for f in files:
        try:
            os.kill(int(f.stem.split("-")[1]), signal.SIGUSR2)
        except ProcessLookupError:
            continue
    wait_until(lambda: all(f.stat().st_size for f in files), 10)
    dumped = "\n".join(f"--- {f.name}\n{f.read_text()[-20000:]}" for f in files)
    return (f"documents: {json.dumps(_documents(page))}\ncomms: {json.dumps(page.evaluate(COMMS))}\n"
            f"messages: {message(page)}\nkernel: {page.evaluate(KERNEL)}\n{dumped}")


def _documents(page):
    return page.evaluate(f"() => window.Bokeh ? ({DOCS})() : []")


def _epoch(text):
    found = re.search(r"epoch (\d+)", text or "")
    return int(found.group(1)) if found else -1


def test_the_pages_run_live_inside_jupyter(jupyter, page):
    jupyter, stacks = jupyter
    page.goto(f"{jupyter}/notebooks/pages_in_jupyter.ipynb")
    # the notebook's kernel is started and idle, then every cell runs (the app's own command, as the Run
    # menu would; menus and dialogs are slower to wait for than the state behind them)
    page.wait_for_function("""() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
        const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
        return kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected'; }""",
                           timeout=180000, polling=500)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def playgrounds():  # by what they show, not by place: Jupyter draws a cell scrolled back into view anew,
        # as a new document at the end of Bokeh.documents (the old one emptied), so places change
        return [d for d in _documents(page) if d["status"] is not None]

    def all_shown():  # the two Playgrounds have drawn their first frame (the status line comes with it)
        docs = _documents(page)
        return (sum(_epoch(d["status"]) >= 0 for d in docs) == 2 and any(d["race"] for d in docs)
                and any(d["landscape"] for d in docs))
    assert wait_until(all_shown, 300), _evidence(page, stacks)
    assert all(_epoch(d["status"]) == 0 for d in playgrounds())
    # the notebook trained this model to a test loss it printed; the bound Playground starts from it
    printed = page.locator(".jp-OutputArea-output", has_text="'loss':").first.inner_text()
    test_loss = float(re.search(r"'loss': ([0-9.]+)", printed).group(1))
    bound = [d for d in playgrounds() if f"test loss {test_loss:.4f}" in d["status"]]
    assert len(bound) == 1, (printed, playgrounds())
    # the first Playground's own ▶ Play (xor, lr 0.1): its cell's, not the first of the notebook's buttons
    page.locator(".jp-CodeCell").nth(1).get_by_role("button", name="▶ Play").click()

    def learner():
        return next((d for d in playgrounds() if "lr 0.1" in d["status"]), None)

    def learned():
        doc = learner()
        losses = (doc or {}).get("losses") or []
        # (the button shows what the kernel holds: pressed, and not pressed back by a frame taking the run for one
        # that stopped, as when Jupyter handled the press on a subshell's thread alongside the frame)
        return (doc is not None and doc["play"] == "❚❚ Pause" and _epoch(doc["status"]) >= 20 and len(losses) > 5
                and losses[-1] < 0.5 * losses[0])
    assert wait_until(learned, 180), _evidence(page, stacks)
    frames = learner()["frames"]
    time.sleep(3.0)
    later = learner()["frames"]
    print(f"Playground in Jupyter: {(later - frames) / 3.0:.1f} frames per second")
    assert later > frames
    page.screenshot(path=str(ROOT / "docs" / "jupyter-pages.png"), full_page=False)
