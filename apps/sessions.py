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


def active_sessions():
    with _GUARD:
        return {sid: len(objs) for sid, objs in _OWNED.items()}


def warm_up():
    """Loads (or compiles) every kernel a page uses, so no visitor waits for compilation."""
    from lab.warmup import warm_up as warm

    seconds = warm()
    print(f"lab: kernels ready in {seconds:.1f} s", flush=True)
