"""Per-session bookkeeping: every page registers what must be stopped when its tab closes."""

import ctypes
import ctypes.util
import gc
import threading

_OWNED = {}
_GUARD = threading.Lock()


def register(session_id, stoppable):
    """Remember an object with stop() and threads_alive() that belongs to one browser session."""
    with _GUARD:
        _OWNED.setdefault(session_id, []).append(stoppable)


def release(session_id):
    """Stop everything a session owned (called when its tab closes); idempotent. True when that was the
    last open tab: then the caller gives the memory back (give_back_memory; on a server, GIVE_BACK_AFTER
    seconds later: Bokeh lets go of a closed tab's document only after its destroy hooks ran)."""
    with _GUARD:
        owned = _OWNED.pop(session_id, [])
    alive = 0
    for obj in owned:
        obj.stop()
        alive += obj.threads_alive()
    if owned:
        print(f"lab: session {session_id} destroyed, stopped {len(owned)} run(s), threads alive: {alive}",
              flush=True)
    with _GUARD:
        empty = not _OWNED
    return bool(owned) and empty


GIVE_BACK_AFTER = 3.0  # seconds


def give_back_memory():
    """Once the last tab closed (and still no tab is open): collect, and have the C allocator (glibc)
    return its free pages to the system, which it otherwise keeps.

    Python's own small-object allocator keeps a 1 MB arena while any object in it lives, and after a
    class the arenas its sessions filled stay pinned by a few survivors: measured with
    benchmarks/classroom.py, 85 arenas held 94 MB of empty pools 15 s after a class of 40, with as many
    objects alive as before it (92.9 MB of them). Started with PYTHONMALLOC=malloc (as ``make serve``
    starts it) every allocation is glibc's, and this gives it all back: RSS 298 MB 60 s after a class of
    40 against 293 MB before it (444 against 325 MB with Python's allocator), for about 5% more
    event-loop CPU per frame. Elsewhere than glibc this only collects."""
    with _GUARD:
        if _OWNED:
            return  # a tab opened meanwhile: its own closing gives back
    gc.collect()
    trim = getattr(_LIBC, "malloc_trim", None) if _LIBC is not None else None
    if trim is not None:
        trim(0)


def _libc():
    try:
        name = ctypes.util.find_library("c")
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


_LIBC = _libc()


class SessionPage:
    """What a page owns in one browser session: its live runs (``live``, ``compared``). ``register``
    ties the page to its session, so closing the tab stops all of it."""

    live = None
    compared = None

    def runs(self):
        return [r for r in (self.live, self.compared) if r is not None]

    def stop_runs(self):
        for run in self.runs():
            run.stop()

    def threads_alive(self):
        return sum(run.thread_alive for run in self.runs())

    def stop(self):
        """Everything this tab owns stops (closing the tab calls this)."""
        self.stop_runs()

    def register(self, session_id):
        register(session_id, self)
