"""Coroutines of a test on an event loop of their own."""

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_apart(coroutine):
    """Runs a coroutine on an event loop of its own, in a thread: after the browser tests, Playwright
    leaves a loop running in pytest's thread, where asyncio.run refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
