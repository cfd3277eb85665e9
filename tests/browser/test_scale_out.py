"""More than one server process for a class: `panel serve apps/ --num-procs 2`, and two lab processes
behind a real nginx (Debian's package) with the configuration in deploy/, as docs/classroom.md shows."""

import asyncio
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, Server, _free_port, wait_for_app, wait_until

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
COUNT = "() => Bokeh.documents[0].get_model_by_name('frame_counter').data.frame[0]"

if not Path(NGINX).exists():  # `make test` installs it, as it does chromium
    pytest.exit("the scale-out tests need Debian's nginx: run 'apt-get install nginx'", returncode=1)


def students_play(ws_url, n, agents=None):
    """n light sessions (benchmarks/classroom.py) join through ws_url, press play, and each receives at
    least 5 frames; returns them. Runs in its own thread: Playwright's sync API owns this one's loop."""
    from classroom import Student

    students = [Student(ws_url, "page=playground", user_agent=(agents or {}).get(i, f"student-{i}"))
                for i in range(n)]

    failures = []

    async def run():
        try:
            await play()
        except Exception as err:  # the test thread reports it
            failures.append(err)

    async def play():
        for s in students:
            await s.join()
            await s.play()
        listeners = [asyncio.ensure_future(s.listen()) for s in students]
        deadline = time.time() + 180
        while min(s.frames for s in students) < 5 and time.time() < deadline:
            await asyncio.sleep(0.2)
        for s in students:
            s.close()
        for task in listeners:
            task.cancel()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    thread.join(400)
    if failures:
        raise failures[0]
    return students


def plays_in_the_browser(page, url):
    page.goto(url + "?page=playground")
    wait_for_app(page, timeout=300)
    page.get_by_role("button", name="▶ Play").click()
    return wait_until(lambda: page.evaluate(COUNT) >= 10, 120)


def test_num_procs_2_serves_sessions_from_both_processes(page, console):
    server = Server(name="server-procs", args=["--num-procs", "2"])
    try:
        server.wait()
        # every forked process compiles (or loads) and says so; both must be ready before the class comes
        assert wait_until(lambda: server.output().count("lab: kernels ready") >= 2, 300), server.output()[-2000:]
        students = students_play(server.url.replace("http://", "ws://") + "/ws", 6)
        assert all(s.frames >= 5 for s in students), [s.frames for s in students]
        assert plays_in_the_browser(page, server.url)
        assert console == []
    finally:
        server.stop()


def test_two_lab_processes_behind_nginx(page, console, tmp_path):
    listen = _free_port()
    origin = ["--allow-websocket-origin", f"127.0.0.1:{listen}", "--use-xheaders"]
    servers = [Server(name=f"server-nginx-{i}", args=origin) for i in range(2)]
    conf = (ROOT / "deploy" / "nginx-classroom.conf").read_text()
    conf = conf.replace("{LISTEN}", f"127.0.0.1:{listen}").replace("{PREFIX}", str(tmp_path)).replace(
        "{BACKENDS}", " ".join(f"server 127.0.0.1:{s.port};" for s in servers))
    (tmp_path / "nginx.conf").write_text(conf)
    log = open(ARTIFACTS / "nginx.log", "w")
    nginx = subprocess.Popen([NGINX, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path), "-g", "daemon off;"],
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        for s in servers:
            s.wait()
        students = students_play(f"ws://127.0.0.1:{listen}/apps/ws", 8)
        assert all(s.frames >= 5 for s in students), [s.frames for s in students]
        # the user agents spread the sessions over both processes
        opened = [s.output().count("WebSocket connection opened") for s in servers]
        assert min(opened) >= 1, opened
        assert plays_in_the_browser(page, f"http://127.0.0.1:{listen}/apps")
        assert console == []
    finally:
        nginx.terminate()
        nginx.wait(10)
        log.close()
        for s in servers:
            s.stop()
