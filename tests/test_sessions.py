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
