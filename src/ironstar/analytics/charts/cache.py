"""Computed chart data kept in memory, keyed by everything that determines it.

What a chart shows depends only on the result file, the chart config and the point budget.
A result file is written once and never changed in place, but the key still carries its
size and modification time, so a file replaced under the same name can never be answered
from an old entry. A dashboard opened by several people, reloaded, re-themed or refreshed
over SSE then costs DuckDB nothing; and charts requested together for the same key (one
result drawn twice on a dashboard, a page's preload and its script) share one computation.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

import msgspec

# (result key, file size, file mtime, encoded chart config, point budget)
ChartKey = tuple[str, int, float, bytes, int]
ChartData = dict[str, Any]

DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024


class ChartCache:
    """An LRU bounded by the JSON size of what it holds, with one computation per key.

    Use it from one event loop; entries are shared, so callers must not modify them.
    Failures (a config that does not fit the result, a missing file) are not kept.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[ChartKey, tuple[ChartData, int]] = OrderedDict()
        self._running: dict[ChartKey, asyncio.Future[tuple[ChartData, int]]] = {}

    async def get(self, key: ChartKey, compute: Callable[[], ChartData]) -> ChartData:
        """The entry for ``key``, computing it with ``compute`` in a worker thread if absent."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry[0]
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(asyncio.to_thread(_weighed, compute))
            self._running[key] = running
            running.add_done_callback(functools.partial(self._finished, key))
        # A waiter that goes away (a closed tab) leaves the computation to the others.
        data, _ = await asyncio.shield(running)
        return data

    def _finished(self, key: ChartKey, done: asyncio.Future[tuple[ChartData, int]]) -> None:
        self._running.pop(key, None)
        if done.cancelled() or done.exception() is not None:
            return
        data, size = done.result()
        if size > self._max_bytes:
            return
        self._entries[key] = (data, size)
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)


def _weighed(compute: Callable[[], ChartData]) -> tuple[ChartData, int]:
    data = compute()
    return data, len(msgspec.json.encode(data, enc_hook=str))
