"""A whole class on one server: `panel serve apps/`, one real Chromium presenter page and N light student
sessions, everyone pressing play on the Playground.

    python benchmarks/classroom.py [--students 10,20,40] [--seconds 20] [--procs 1] [--after-close 60]
                                   [--cycles 100] [--no-presenter]

A light student is a websocket client speaking Bokeh's protocol as the page's JavaScript does: it pulls
the document (join time: connect to document received), presses play, and echoes the frame numbers
the page's JavaScript echoes (every few: the frame clock's acknowledgement). It does not build a Bokeh
document of its own, and runs niced, so 40 of them cost the machine little besides the server's work for them.

Printed per class size: frames/s per student (min, median), the presenter's frames/s, training steps/s
per student (median), the server's event-loop CPU ms per delivered frame (the CPU time of the server's
main thread, which runs the event loop, over the frames every client counted), the server's whole CPU,
RSS per session and join time; then RSS and threads a while after every session closed, and after
open/close cycles. Also the presenter's Chromium's CPU (it shares the machine here) and what the server's
pacer measured last: its event loop's busy share and the machine's. Numbers are printed, never asserted.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from bokeh.util.token import generate_jwt_token, generate_session_id
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
STEP = re.compile(r"step (\d+)")


def cpu_seconds_of(stat_paths):
    """User plus system CPU seconds summed over /proc stat files (processes or threads; gone ones: 0)."""
    total = 0.0
    for path in stat_paths:
        try:
            fields = Path(path).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# ----- the server --------------------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`panel serve apps/` in a subprocess, with the lab's stats written to a file once a second."""

    def __init__(self, procs=1, root=ROOT, pymalloc=False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/apps"
        self.stats_path = Path(tempfile.mkdtemp()) / "stats.json"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "LAB_STATS": str(self.stats_path)}
        if not pymalloc:  # as `make serve` starts it
            env["PYTHONMALLOC"] = "malloc"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "panel", "serve", "apps/", "--port", str(self.port), "--address", "127.0.0.1",
             "--allow-websocket-origin", f"127.0.0.1:{self.port}", "--num-procs", str(procs),
             "--check-unused-sessions", "1000", "--unused-session-lifetime", "1000"],
            cwd=root, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def wait(self, timeout=900):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "?page=none", timeout=30) as r:
                    if r.status == 200 and "lab: kernels ready" in Path(self.log.name).read_text():
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(Path(self.log.name).read_text()[-3000:])
            time.sleep(1)
        raise RuntimeError("the server did not start")

    def pids(self):
        """The server process and its forked workers (--num-procs)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [self.proc.pid, *map(int, out.split())]

    def cpu_seconds(self, loop_only=False):
        """CPU seconds of the server's processes, or of their main threads only: the event loops."""
        return cpu_seconds_of(f"/proc/{pid}/task/{pid}/stat" if loop_only else f"/proc/{pid}/stat"
                              for pid in self.pids())

    def memory(self):
        """(RSS in MB, threads) summed over the server's processes."""
        rss, threads = 0.0, 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            rss += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
            threads += int(re.search(r"Threads:\s+(\d+)", status).group(1))
        return rss, threads

    def stats(self):
        """The lab's own counters (apps.pacing writes them when LAB_STATS is set): loop CPU, frames."""
        try:
            return json.loads(self.stats_path.read_text())
        except (OSError, ValueError):
            return {}

    def stop(self):
        """The server and every process it forked."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


# ----- a light student ---------------------------------------------------------------------------------
def find_models(doc_json):
    """{key: id} of the models a student needs, found in a pulled document's JSON."""
    found = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object":
                attrs = node.get("attributes", {})
                if node.get("name") == "Toggle" and "Play" in str(attrs.get("label", "")):
                    found["play"] = node["id"]
                elif attrs.get("name") in ("frame_counter", "frame_ack", "status"):
                    found[attrs["name"]] = node["id"]
                elif node.get("name") == "CustomJS" and "cb_obj.data.frame[0]" in str(attrs.get("code", "")):
                    # which frames the page's JavaScript echoes: every ECHO_EVERY-th (older pages: even ones)
                    args = dict(attrs.get("args", {}).get("entries", []))
                    found["echo_every"] = int(args.get("every", 2))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc_json)
    return found


class Student:
    """One light session: join, press play, count and acknowledge frames, read the step counter."""

    def __init__(self, ws_url, query, user_agent="lab-light-student"):
        self.ws_url, self.query, self.user_agent = ws_url, query, user_agent
        self.protocol = Protocol()
        self.frames = 0
        self.steps = []  # (time, step) seen in the status line
        self.join_seconds = None
        self.socket = None
        self.ids = {}
        self.next_id = 0

    async def send(self, msgtype, content):
        self.next_id += 1
        header = {"msgid": f"student{self.next_id}", "msgtype": msgtype}
        for part in (header, {}, content):
            await self.socket.write_message(json.dumps(part))

    async def patch(self, *events):
        await self.send("PATCH-DOC", {"events": list(events)})

    async def join(self):
        started = time.perf_counter()
        session_id = generate_session_id()
        token = generate_jwt_token(session_id)
        request = HTTPRequest(f"{self.ws_url}?{self.query}", headers={"User-Agent": self.user_agent})
        self.socket = await websocket_connect(request, subprotocols=["bokeh", token], max_message_size=100 * 2 ** 20)
        receiver = Receiver(self.protocol)
        await self.receive(receiver)  # ACK
        request = self.protocol.create("PULL-DOC-REQ")
        for part in (request.header_json, request.metadata_json, request.content_json):
            await self.socket.write_message(part)
        while True:
            msg = await self.receive(receiver)
            if msg.msgtype == "PULL-DOC-REPLY":
                break
        self.join_seconds = time.perf_counter() - started
        self.ids = find_models(msg.content["doc"])
        missing = {"play", "frame_counter", "frame_ack", "status"} - set(self.ids)
        if missing:
            raise RuntimeError(f"the page lacks {missing}")
        self.receiver = receiver

    async def receive(self, receiver):
        while True:
            fragment = await self.socket.read_message()
            if fragment is None:
                raise ConnectionError("the server closed the session")
            msg = await receiver.consume(fragment)
            if msg is not None:
                return msg

    async def play(self):
        await self.patch({"kind": "ModelChanged", "model": {"id": self.ids["play"]}, "attr": "active", "new": True})

    async def listen(self):
        """Counts frames and acknowledges each, as the page's JavaScript does. A frame message is read as
        text (header, metadata, content, then any binary buffers), not decoded into a document: the
        clients share the machine with the server, and should cost it as little as a browser elsewhere."""
        counter = re.compile(re.escape(f'"id":"{self.ids["frame_counter"]}"}},"attr":"data",')
                             + r'"(?:data|new)":\{"type":"map","entries":\[\["frame",\[(\d+)\]')
        try:
            while True:
                header = json.loads(await self.read())
                await self.read()  # metadata
                content = await self.read()
                for _ in range(2 * header.get("num_buffers", 0)):
                    await self.read()
                if header["msgtype"] != "PATCH-DOC":
                    continue
                found = counter.search(content)
                if found:
                    self.frames += 1
                    if int(found.group(1)) % self.ids.get("echo_every", 2):
                        continue  # the page echoes only some frames (apps.pacing.ECHO_EVERY)
                    await self.patch({"kind": "ModelChanged", "model": {"id": self.ids["frame_ack"]}, "attr": "data",
                                      "new": {"type": "map", "entries": [["frame", [int(found.group(1))]]]}})
                step = STEP.search(content)
                if step and self.ids["status"] in content:
                    self.steps.append((time.perf_counter(), int(step.group(1))))
        except (ConnectionError, asyncio.CancelledError):
            pass

    async def read(self):
        fragment = await self.socket.read_message()
        if fragment is None:
            raise ConnectionError("the server closed the session")
        return fragment

    def close(self):
        if self.socket is not None:
            self.socket.close()


# ----- the presenter -----------------------------------------------------------------------------------
class Presenter:
    """A real Chromium page with ?present=1, driven by Playwright's async API."""

    async def start(self, url):
        from playwright.async_api import async_playwright

        self.playwright = await async_playwright().start()
        self.browser = await self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = await self.browser.new_page(viewport={"width": 1920, "height": 1080})
        await self.page.goto(f"{url}?page=playground&present=1", timeout=120_000)
        await self.page.get_by_role("button", name="▶ Play").click(timeout=120_000)

    def cpu_seconds(self):
        """CPU seconds of every Chromium process (the presenter's browser: renderer, GPU, network...)."""
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and "chrom" in Path(_cmdline(p)).name]
        return cpu_seconds_of(f"/proc/{pid}/stat" for pid in pids)

    async def frame(self):
        return await self.page.evaluate(
            "() => Bokeh.documents[0].get_model_by_name('frame_counter').data.frame[0]")

    async def close(self):
        await self.browser.close()
        await self.playwright.stop()


def _cmdline(proc_dir):
    try:
        return (proc_dir / "cmdline").read_bytes().split(b"\0", 1)[0].decode()
    except OSError:
        return ""


class NoPresenter:
    """--no-presenter: the projector's browser on another machine (this machine's CPU is the server's)."""

    async def start(self, url):
        pass

    def cpu_seconds(self):
        return 0.0

    async def frame(self):
        return 0

    async def close(self):
        pass


# ----- one measurement ---------------------------------------------------------------------------------
def rate(samples, seconds):
    return samples / seconds if seconds > 0 else float("nan")


async def measure(server, n, seconds, presenter):
    ws_url = server.url.replace("http://", "ws://") + "/ws"
    rss_before, _ = server.memory()
    students = [Student(ws_url, "page=playground") for _ in range(n)]
    for s in students:  # one after another, as a class arrives
        await s.join()
        await s.play()
    listeners = [asyncio.ensure_future(s.listen()) for s in students]
    await asyncio.sleep(5)  # every run going
    print(f"measuring {n} students for {seconds:.0f} s", flush=True)  # (a profiler can attach now)
    frames0 = [s.frames for s in students]
    presenter0 = await presenter.frame()
    browser0 = presenter.cpu_seconds()
    cpu0, loop0, t0 = server.cpu_seconds(), server.cpu_seconds(loop_only=True), time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - t0
    cpu1, loop1 = server.cpu_seconds(), server.cpu_seconds(loop_only=True)
    browser1 = presenter.cpu_seconds()
    presenter_frames = await presenter.frame() - presenter0
    presenter_fps = rate(presenter_frames, elapsed) if isinstance(presenter, Presenter) else float("nan")
    fps = [rate(s.frames - f0, elapsed) for s, f0 in zip(students, frames0)]
    steps = []
    for s in students:
        window = [(t, k) for t, k in s.steps if t >= t0]
        if len(window) >= 2:
            steps.append((window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0]))
    rss_after, threads = server.memory()
    stats = server.stats()
    delivered = presenter_frames + sum(s.frames - f0 for s, f0 in zip(students, frames0))
    loop_ms = 1000 * (loop1 - loop0) / delivered if delivered else float("nan")
    row = {
        "students": n,
        "fps min": min(fps) if fps else float("nan"),
        "fps median": statistics.median(fps) if fps else float("nan"),
        "presenter fps": presenter_fps,
        "steps/s median": statistics.median(steps) if steps else float("nan"),
        "loop ms/frame": loop_ms,
        "loop CPU %": 100 * (loop1 - loop0) / elapsed,
        "server CPU %": 100 * (cpu1 - cpu0) / elapsed,
        "presenter CPU %": 100 * (browser1 - browser0) / elapsed,  # its Chromium, on the same machine
        "MB/session": (rss_after - rss_before) / n if n else float("nan"),
        "join s median": statistics.median(s.join_seconds for s in students) if students else float("nan"),
        "join s max": max(s.join_seconds for s in students) if students else float("nan"),
        "threads": threads,
        "paced fps": stats.get("student_fps", float("nan")),
        # what the pacer measured last (smoothed): the event loop's busy share, and the machine's
        "pacer loop %": 100 * stats.get("load", float("nan")),
        "pacer machine %": 100 * stats.get("machine", float("nan")),
    }
    for s in students:
        s.close()
    for task in listeners:
        task.cancel()
    return row


async def cycles(server, count):
    """Open and close `count` sessions one after another (each joins and plays for a moment)."""
    ws_url = server.url.replace("http://", "ws://") + "/ws"
    for _ in range(count):
        s = Student(ws_url, "page=playground")
        await s.join()
        await s.play()
        await asyncio.sleep(0.2)
        s.close()


def print_table(rows):
    keys = list(rows[0])
    print("  ".join(f"{k:>13}" for k in keys))
    for row in rows:
        print("  ".join(f"{row[k]:>13.1f}" if isinstance(row[k], float) else f"{row[k]:>13}" for k in keys))


async def main(args):
    server = Server(args.procs, args.root, args.pymalloc)
    try:
        started = time.perf_counter()
        server.wait()
        print(f"server ready in {time.perf_counter() - started:.0f} s; uptime: {os.popen('uptime').read().strip()}")
        rss0, threads0 = server.memory()
        presenter = NoPresenter() if args.no_presenter else Presenter()
        await presenter.start(server.url)
        # The light students stand in for browsers on the students' own laptops: on this machine they run
        # niced, as background work the server's pacer does not count as load (Chromium, started above,
        # keeps its normal priority: the projector's browser often does share the teacher's machine).
        os.nice(19)
        rows = []
        for n in args.students:
            rows.append(await measure(server, n, args.seconds, presenter))
            print_table(rows[-1:] if len(rows) > 1 else rows)
            await asyncio.sleep(3)
        print(f"\nuptime after the runs: {os.popen('uptime').read().strip()}")
        print_table(rows)
        await presenter.close()
        await asyncio.sleep(args.after_close)
        rss1, threads1 = server.memory()
        print(f"\nbaseline before any session: RSS {rss0:.0f} MB, {threads0} threads; "
              f"{args.after_close:.0f} s after every session closed: RSS {rss1:.0f} MB, {threads1} threads")
        if args.cycles:
            await cycles(server, args.cycles)
            await asyncio.sleep(args.after_close)
            rss2, threads2 = server.memory()
            print(f"after {args.cycles} more open/close cycles and {args.after_close:.0f} s: RSS {rss2:.0f} MB "
                  f"({(rss2 - rss1) * 1024 / args.cycles:.0f} kB per cycle), {threads2} threads")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", default="10,20,40", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--seconds", default=20.0, type=float, help="measuring window per class size")
    parser.add_argument("--procs", default=1, type=int, help="panel serve --num-procs")
    parser.add_argument("--after-close", default=60.0, type=float, help="seconds to wait after closing")
    parser.add_argument("--root", default=ROOT, type=Path, help="the checkout to serve (e.g. an older one)")
    parser.add_argument("--no-presenter", action="store_true",
                        help="no Chromium presenter page: the server alone on this machine")
    parser.add_argument("--pymalloc", action="store_true",
                        help="the server with Python's own allocator (make serve sets PYTHONMALLOC=malloc)")
    parser.add_argument("--cycles", default=100, type=int, help="open/close cycles at the end (0: none)")
    asyncio.run(main(parser.parse_args()))
