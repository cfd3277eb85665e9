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
from conftest import ARTIFACTS, ROOT, _free_port, wait_until

DOCS = """() => Bokeh.documents.map(d => {
    const status = d.get_model_by_name('status'), frames = d.get_model_by_name('frame_counter');
    const curve = d.get_model_by_name('loss_curve');
    return {status: status ? status.text : null, frames: frames ? frames.data.frame[0] : null,
            losses: curve ? Array.from(curve.data.train) : null, race: !!d.get_model_by_name('race_step'),
            landscape: !!d.get_model_by_name('landscape_info')};
})"""


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
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
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"

    def answers():  # the cheap status endpoint, not a page
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=5) as r:
                return json.load(r) is not None
        except OSError:
            return proc.poll() is not None
    try:
        assert wait_until(answers, 180) and proc.poll() is None, (ARTIFACTS / "jupyter.log").read_text()[-3000:]
        yield url
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):  # the server and its kernels
            try:
                os.killpg(proc.pid, sig)
                proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
            break
        log.close()


def _documents(page):
    return page.evaluate(f"() => window.Bokeh ? ({DOCS})() : []")


def _epoch(text):
    found = re.search(r"epoch (\d+)", text or "")
    return int(found.group(1)) if found else -1


def test_the_pages_run_live_inside_jupyter(jupyter, page):
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
    assert wait_until(all_shown, 300), json.dumps(_documents(page))  # (a string: pytest shows it whole)
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
        return doc is not None and _epoch(doc["status"]) >= 20 and len(losses) > 5 and losses[-1] < 0.5 * losses[0]
    assert wait_until(learned, 180), json.dumps(_documents(page))
    frames = learner()["frames"]
    time.sleep(3.0)
    later = learner()["frames"]
    print(f"Playground in Jupyter: {(later - frames) / 3.0:.1f} frames per second")
    assert later > frames
    page.screenshot(path=str(ROOT / "docs" / "jupyter-pages.png"), full_page=False)
