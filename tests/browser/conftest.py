"""Real-browser harness: `panel serve apps/` on a free loopback port, driven by Playwright in
Debian's Chromium (never a downloaded browser)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

if not Path(CHROMIUM).exists():  # `make test` installs it; say so rather than fail obscurely
    pytest.exit(f"browser tests need Chromium at {CHROMIUM}: run 'apt-get install chromium' (make test "
                "does this when run as root)", returncode=1)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env=None, name="server", args=()):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/apps"
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "panel", "serve", "apps/", "--port", str(self.port), "--address", "127.0.0.1",
             "--allow-websocket-origin", f"127.0.0.1:{self.port}", "--check-unused-sessions", "500",
             "--unused-session-lifetime", "500", *args],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})

    def wait(self, timeout=600):
        """Ready once the server says its kernels are compiled, then answers one page request.

        Probing with page requests while it compiles would build (and throw away) a whole session per
        probe, and on a busy machine those pile up; the log line costs nothing to read."""
        deadline = time.time() + timeout
        while "lab: kernels ready" not in self.output():
            if self.proc.poll() is not None:
                raise RuntimeError(f"panel serve exited:\n{self.output()[-3000:]}")
            if time.time() > deadline:
                raise RuntimeError(f"panel serve did not warm up in {timeout} s:\n{self.output()[-3000:]}")
            time.sleep(0.5)
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=max(5.0, deadline - time.time())) as r:
                    if r.status == 200:
                        return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"panel serve did not answer:\n{self.output()[-3000:]}") from None
                time.sleep(0.5)

    def wait_listening(self, timeout=120):
        """Until the server answers HTTP at all (kernels may still be compiling)."""
        deadline = time.time() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                    return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"panel serve did not listen:\n{self.output()[-3000:]}") from None
                time.sleep(0.2)

    def output(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        """The server and every process it forked (--num-procs, the kernel compiler)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(10)
                time.sleep(0.5)  # forked workers end with their parent's signal
            except subprocess.TimeoutExpired:
                continue
        self.log.close()


@pytest.fixture(scope="session")
def server():
    s = Server()
    try:
        s.wait()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1500, "height": 1200}}


@pytest.fixture
def console(page):
    """Console errors, uncaught page errors and requests that leave the server, seen during the test."""
    errors = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    # everything must come from the lab's own server: a classroom may be offline
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else errors.append(f"request outside the server: {r.url}"))
    return errors


def model_data(page, name, column=None):
    """A Bokeh model's data (or one column of it) read from the page. Of several models with the name, the
    newest: a rebuilt view (reset, compare) leaves its predecessor in the browser's document for a while."""
    script = """([name, column]) => {
        const found = [...Bokeh.documents[0].all_models].filter(m => m.name === name);
        if (!found.length) return null;
        found.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
        const m = found[found.length - 1];
        if (column === null) return m.text ?? m.object ?? null;
        const v = m.data.get ? m.data.get(column) : m.data[column];
        if (v === undefined) return null;
        return Array.from(v, x => (x && typeof x !== 'string' && x.length !== undefined) ? Array.from(x) : x);
    }"""
    return page.evaluate(script, [name, column])


def current_url(page):
    """The address bar as the page has it. Playwright's page.url trails history.replaceState by one call."""
    return page.evaluate("() => window.location.href")


def message(page):
    """The page's messages (Panel alerts, in shadow roots) as the user reads them."""
    return " | ".join(page.locator(".alert").evaluate_all("""els => els.map(e => [...(e.shadowRoot || e).children]
        .filter(c => c.tagName !== 'STYLE').map(c => c.innerText).join(' '))"""))


def wait_for_app(page, name="status", timeout=120):
    page.wait_for_function("(n) => window.Bokeh && Bokeh.documents.length > 0 && "
                           "Bokeh.documents[0].get_model_by_name(n) !== null", arg=name, timeout=timeout * 1000)


def wait_until(predicate, timeout=60.0):
    """Polls predicate() until it is true (returns True) or timeout seconds pass (returns False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


# Delays, in the browser, the next server message whose content contains a given text (e.g. the name of a
# model a new layout brings), while later messages go on: the browser then gets a rebuilt page's data
# before its layout, as a slow layout on a busy machine makes it. A Bokeh message is a header, metadata,
# content and two frames per binary buffer; whole messages are held, never parts of one.
HOLD_SCRIPT = """(() => {
    const Native = window.WebSocket;
    window.__labHold = null; window.__labHoldMs = 2000; window.__labHeld = 0; window.__labReleased = 0;
    function Held(url, protocols) {
        const ws = new Native(url, protocols);
        let handler = null, group = [], expected = 3;
        Object.defineProperty(ws, 'onmessage', {set(h) { handler = h }, get() { return handler }});
        const deliver = (events) => events.forEach(e => handler && handler(e));
        ws.addEventListener('message', (e) => {
            group.push(e);
            if (group.length === 1) expected = 3 + 2 * (JSON.parse(e.data).num_buffers || 0);
            if (group.length < expected) return;
            const events = group; group = [];
            const content = events[2].data;
            if (window.__labHold && typeof content === 'string' && content.includes(window.__labHold)) {
                window.__labHold = null; window.__labHeld += 1;
                setTimeout(() => { deliver(events); window.__labReleased += 1 }, window.__labHoldMs);
            } else deliver(events);
        });
        return ws;
    }
    Held.prototype = Native.prototype;
    Object.assign(Held, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
    window.WebSocket = Held;
})();"""


def hold_next_message(page, text, ms=2000):
    """The next server message containing ``text`` reaches the page ``ms`` later than the ones after it
    (the page must have been opened with HOLD_SCRIPT as an init script)."""
    page.evaluate("([text, ms]) => { window.__labHold = text; window.__labHoldMs = ms }", [text, ms])
