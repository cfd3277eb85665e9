"""Per-session bookkeeping: every page registers what must be stopped when its tab closes."""

import threading

import panel as pn

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


def warm_up():
    """Loads (or compiles) every kernel a page uses, so no visitor waits for compilation."""
    from lab.engine.warmup import warm_up as warm

    seconds = warm()
    print(f"lab: kernels ready in {seconds:.1f} s", flush=True)


class SessionPage:
    """What a page owns in one browser session: its live runs (``live``, ``compared``) and its periodic
    callback. ``start_ticking`` registers the page, so closing the tab stops all of it."""

    live = None
    compared = None
    callback = None

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
        if self.callback is not None:
            self.callback.stop()

    def start_ticking(self, tick, period_ms):
        self.callback = pn.state.add_periodic_callback(tick, period=period_ms)
        session = pn.state.curdoc.session_context if pn.state.curdoc else None
        if session is not None:
            register(session.id, self)
