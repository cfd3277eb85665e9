"""apps.notebook's pages keep their timer: in a notebook, Panel's periodic callback is a task on the kernel's
event loop that ends for good at its callback's first exception, and the page would freeze silently."""

import asyncio
import logging
import threading

from own_loop import run_apart

from apps import notebook


def test_a_frame_that_raises_is_reported_once_and_the_timer_goes_on(caplog):
    calls = []

    def failing():
        calls.append(1)
        raise RuntimeError("the comm is gone")

    async def run():  # the timer starts on the running loop, as in a kernel (a loop of its own: see run_apart)
        page = notebook.playground(dataset="xor", hidden="4")
        page.frame = failing
        try:
            while len(calls) < 3:  # the timer called the failing frame again after it raised
                await asyncio.sleep(0.01)
        finally:
            page.stop()
        return page

    with caplog.at_level(logging.ERROR, logger="apps.notebook"):
        page = run_apart(asyncio.wait_for(run(), 60))
    assert "Display error: RuntimeError: the comm is gone" in page.page.messages.pane.object
    assert page.page.messages.pane.visible
    assert sum("the comm is gone" in r.getMessage() for r in caplog.records) == 1


def test_messages_from_the_browser_are_handled_on_the_loop_that_runs_the_page():
    """Jupyter hands comm messages to a subshell's thread: they must reach the page on its own loop, in order."""
    handled = []

    async def run():
        page = notebook.playground(dataset="xor", hidden="4")
        assert page.layout._on_msg == page.on_msg  # what Panel binds when the cell is shown
        page.handle = lambda ref, manager, msg: handled.append((msg, threading.get_ident()))
        subshell = threading.Thread(target=lambda: [page.layout._on_msg("ref", None, i) for i in range(5)])
        subshell.start()
        try:
            while len(handled) < 5:
                await asyncio.sleep(0.01)
        finally:
            subshell.join()
            page.stop()
        page.layout._on_msg("ref", None, 5)  # on the page's own thread: at once
        return threading.get_ident(), subshell.ident

    loop_thread, subshell_thread = run_apart(asyncio.wait_for(run(), 60))
    assert [m for m, _ in handled] == list(range(6))
    assert {t for _, t in handled} == {loop_thread} != {subshell_thread}
