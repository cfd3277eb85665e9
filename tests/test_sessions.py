"""What a closing tab releases (apps.sessions): its runs stop, and once the last tab is gone the server
gives its freed memory back."""

from apps import sessions


class Owned:
    def __init__(self):
        self.stopped = 0

    def stop(self):
        self.stopped += 1

    def threads_alive(self):
        return 0


def test_a_closing_tab_stops_what_it_owned_and_the_last_one_says_so(monkeypatch):
    monkeypatch.setattr(sessions, "_OWNED", {})
    a, b = Owned(), Owned()
    sessions.register("tab-a", a)
    sessions.register("tab-b", b)
    assert sessions.release("tab-a") is False  # another tab is still open
    assert a.stopped == 1 and b.stopped == 0
    assert sessions.release("tab-a") is False  # twice is harmless
    assert a.stopped == 1
    assert sessions.release("tab-b") is True  # the last one: memory may go back
    assert b.stopped == 1


def test_giving_memory_back_runs_here():
    sessions.give_back_memory()  # glibc's malloc_trim where there is one; a collection everywhere


def test_no_memory_goes_back_while_a_tab_is_open(monkeypatch):
    trims = []
    monkeypatch.setattr(sessions, "_OWNED", {})
    monkeypatch.setattr(sessions, "_LIBC", type("Libc", (), {"malloc_trim": lambda self, pad: trims.append(pad)})())
    sessions.register("tab-a", Owned())
    sessions.give_back_memory()  # a tab opened between the last one closing and the give-back
    assert trims == []
    sessions.release("tab-a")
    sessions.give_back_memory()
    assert trims == [0]


def test_on_the_server_memory_goes_back_a_moment_after_the_last_tab_closed(monkeypatch):
    """apps/server_lifecycle's hook: the give-back runs on the server's event loop GIVE_BACK_AFTER seconds
    later (Bokeh lets go of the tab's document after its hooks), not inside the hook."""
    import asyncio
    import threading

    from apps import server_lifecycle

    trims = []
    monkeypatch.setattr(sessions, "_OWNED", {})
    monkeypatch.setattr(sessions, "GIVE_BACK_AFTER", 0.05)
    monkeypatch.setattr(sessions, "_LIBC", type("Libc", (), {"malloc_trim": lambda self, pad: trims.append(pad)})())
    seen_in_hook = []

    async def a_tab_closes():
        sessions.register("tab-a", Owned())
        server_lifecycle.on_session_destroyed(type("Context", (), {"id": "tab-a"})())
        seen_in_hook.append(list(trims))
        while not trims:  # the scheduled give-back ran
            await asyncio.sleep(0.01)

    # a loop of its own, as the server's (the test process may already run one in this thread)
    thread = threading.Thread(target=lambda: asyncio.run(asyncio.wait_for(a_tab_closes(), 60)))
    thread.start()
    thread.join(90)
    assert seen_in_hook == [[]] and trims == [0]
