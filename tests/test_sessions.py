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


def test_a_closing_tab_stops_what_it_owned_and_the_last_one_gives_memory_back(monkeypatch):
    given_back = []
    monkeypatch.setattr(sessions, "give_back_memory", lambda: given_back.append(1))
    monkeypatch.setattr(sessions, "_OWNED", {})
    a, b = Owned(), Owned()
    sessions.register("tab-a", a)
    sessions.register("tab-b", b)
    sessions.release("tab-a")
    assert a.stopped == 1 and b.stopped == 0 and given_back == []  # another tab is still open
    sessions.release("tab-a")  # twice is harmless
    assert a.stopped == 1
    sessions.release("tab-b")
    assert b.stopped == 1 and given_back == [1]


def test_giving_memory_back_runs_here():
    sessions.give_back_memory()  # glibc's malloc_trim where there is one; a collection everywhere


def test_on_a_server_memory_goes_back_a_moment_after_the_last_tab_and_not_while_a_tab_is_open(monkeypatch):
    """On the event loop the give-back waits (Bokeh drops a closed tab's document after its hooks ran),
    and gives nothing back when a tab opened in the meantime."""
    import asyncio

    trims, calls = [], []
    original = sessions.give_back_memory
    monkeypatch.setattr(sessions, "_OWNED", {})
    monkeypatch.setattr(sessions, "GIVE_BACK_AFTER", 0.05)
    monkeypatch.setattr(sessions, "_LIBC", type("Libc", (), {"malloc_trim": lambda self, pad: trims.append(pad)})())
    monkeypatch.setattr(sessions, "give_back_memory", lambda: (calls.append(1), original()))

    async def last_tab_closes(then_opens=None):
        calls.clear()
        sessions.register("tab-a", Owned())
        sessions.release("tab-a")
        assert calls == []  # not yet: the tab's document is still Bokeh's
        if then_opens:
            sessions.register(then_opens, Owned())
        while not calls:  # the scheduled give-back ran
            await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(last_tab_closes(then_opens="tab-b"), 60))
    assert trims == []  # a tab is open again: nothing given back
    monkeypatch.setattr(sessions, "_OWNED", {})
    asyncio.run(asyncio.wait_for(last_tab_closes(), 60))
    assert trims == [0]
