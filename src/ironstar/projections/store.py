"""The projection store port: SQL tables for read models, one writer, many readers.

Projections write portable SQL with '?' placeholders; each adapter translates. The
writer runs on one dedicated thread, so no database call blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Tx(Protocol):
    """A write transaction as projections see it."""

    dialect: str  # "sqlite" or "postgres", for the few statements that differ

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...
    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class ProjectionDatabase(Protocol):
    """Blocking calls: use them on the writer thread or through ProjectionStore."""

    dialect: str

    def transaction(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one transaction on the writer connection; commit or roll back."""
        ...

    def bulk(self, enabled: bool) -> None:
        """Large transactions follow one another (catch-up, rebuild): favour throughput
        until called again with False. Called on the writer thread between transactions."""
        ...

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def read_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
    def table_names(self) -> set[str]: ...
    def close(self) -> None: ...


class ProjectionStore:
    """Async front of a ProjectionDatabase: writes on one thread, reads on a pool."""

    def __init__(self, database: ProjectionDatabase, *, read_threads: int = 4) -> None:
        self.database = database
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="projection-write")
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="projection-read")

    @property
    def dialect(self) -> str:
        return self.database.dialect

    async def write(self, work: Callable[[Tx], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self.database.transaction, work)

    def submit(self, work: Callable[[], T]) -> Future[T]:
        """Run ``work`` on the writer thread, after everything submitted before it; from
        any thread. ``work`` opens its own transactions (``self.database.transaction``)."""
        return self._writer.submit(work)

    async def bulk(self, enabled: bool) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self.database.bulk, enabled)

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.database.read, sql, params)

    async def query_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, _read_dicts, self.database, sql, params)

    async def read_with(self, work: Callable[[ProjectionDatabase], T]) -> T:
        """Several reads in one hop to a reader thread (one screen's queries together)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, work, self.database)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._close_sync)

    def _close_sync(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.database.close()


def _read_dicts(db: Any, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    return db.read_dicts(sql, params)
