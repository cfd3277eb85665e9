"""Per-session bookkeeping: every page registers what must be stopped when its tab closes."""

import threading

_OWNED = {}
_GUARD = threading.Lock()


def register(session_id, stoppable):
    """Remember an object with stop() and threads_alive() that belongs to one browser session."""
    with _GUARD:
        _OWNED.setdefault(session_id, []).append(stoppable)


def release(session_id):
    """Stop everything a session owned (called when its tab closes); idempotent."""
    with _GUARD:
        owned = _OWNED.pop(session_id, [])
    alive = 0
    for obj in owned:
        obj.stop()
        alive += obj.threads_alive()
    if owned:
        print(f"lab: session {session_id} destroyed, stopped {len(owned)} run(s), threads alive: {alive}",
              flush=True)


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
