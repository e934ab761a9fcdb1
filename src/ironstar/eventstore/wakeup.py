"""Wakes subscribers on any event loop when new events may be readable.

A counter plus waiters avoids lost wake-ups: a reader notes the counter before
it reads, then waits only if nothing changed since.
"""

from __future__ import annotations

import asyncio
import threading


class Wakeup:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def counter(self) -> int:
        return self._counter

    def notify(self) -> None:
        """Safe to call from any thread."""
        with self._lock:
            self._counter += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed; its waiter is gone
                pass

    async def wait(self, seen: int, max_wait: float) -> None:
        """Return when the counter moves past ``seen`` or after ``max_wait`` seconds."""
        event = asyncio.Event()
        key = (asyncio.get_running_loop(), event)
        with self._lock:
            if self._counter != seen:
                return
            self._waiters.add(key)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that lands together with the wake-up, and close() then hangs.
            async with asyncio.timeout(max_wait):
                await event.wait()
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(key)
