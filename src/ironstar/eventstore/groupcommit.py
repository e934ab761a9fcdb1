"""Group commit: one writer thread gathers concurrent requests into one transaction.

Each request is still validated and applied on its own (the batch handler uses a
savepoint per request), so one failing request never fails its neighbours, while
the commit - and its fsync - is paid once per batch instead of once per request.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from ironstar.eventstore.errors import StoreClosed

BatchHandler = Callable[[Sequence[Any]], list[Any]]
"""Applies requests in one transaction; returns one result or exception per request."""

_STOP = object()


class GroupCommitWriter:
    def __init__(self, handle_batch: BatchHandler, *, name: str, max_batch: int = 512) -> None:
        self._handle_batch = handle_batch
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(self, request: Any) -> Any:
        if self._closed:
            raise StoreClosed("the event store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put((request, future, loop))
        return await future

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stopping = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            try:
                outcomes = self._handle_batch([request for request, _, _ in batch])
            except BaseException as exc:  # the handler failed as a whole: fail every request
                outcomes = [exc] * len(batch)
            self._settle(batch, outcomes)
            if stopping:
                return

    @staticmethod
    def _settle(batch: list[Any], outcomes: list[Any]) -> None:
        # One wake-up per event loop, not one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = (
            defaultdict(list)
        )
        for (_, future, loop), outcome in zip(batch, outcomes, strict=True):
            by_loop[loop].append((future, outcome))
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, pairs)
            except RuntimeError:  # the caller's loop has closed; nobody is waiting
                pass


def _resolve_all(pairs: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in pairs:
        if future.cancelled():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
