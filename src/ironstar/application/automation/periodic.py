"""Singleton background work: do something every so often, in the leading process only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ironstar.application.leadership import Leadership


def while_leading(
    leadership: Leadership, job: str, interval: float, work: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """A background job that runs ``work`` every ``interval`` seconds while this process
    holds ``job``'s leadership (trying to take it over each time it does not)."""

    async def run() -> None:
        while True:
            if leadership.try_acquire(job):
                await work()
            await asyncio.sleep(interval)

    return run
