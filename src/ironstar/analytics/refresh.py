"""Metadata refresh with a fallback: a catalog that is down serves its last known metadata."""

from __future__ import annotations

import asyncio
import threading

import duckdb

from ironstar.analytics.availability import CatalogUnavailable
from ironstar.analytics.metadata import CatalogMetadata, read_metadata
from ironstar.analytics.pool import SessionPool


class MetadataRefresher:
    def __init__(self, pool: SessionPool) -> None:
        self.pool = pool
        self._last_known: dict[str, CatalogMetadata] = {}
        self._lock = threading.Lock()

    def last_known(self, catalog: str) -> CatalogMetadata | None:
        with self._lock:
            return self._last_known.get(catalog)

    def refresh_sync(self, catalog: str) -> CatalogMetadata:
        """Fresh metadata, or the last known one marked stale, or CatalogUnavailable."""
        self.pool.registry.get(catalog)  # unknown names are a configuration error, not "down"
        breaker = self.pool.health.breaker(catalog)
        session = self.pool.acquire()
        reusable = True
        try:
            if catalog in session.attached:
                try:
                    metadata = read_metadata(session.conn.cursor(), catalog)
                except duckdb.Error as exc:
                    reason = str(exc).split("\n", 1)[0]
                    breaker.record_failure(reason)
                    reusable = False
                    return self._fallback(catalog, reason)
                with self._lock:
                    self._last_known[catalog] = metadata
                return metadata
            reason = (
                session.failures.get(catalog) or breaker.snapshot().last_reason or "not attached"
            )
            return self._fallback(catalog, reason)
        finally:
            self.pool.release(session, reusable)

    async def refresh(self, catalog: str) -> CatalogMetadata:
        return await asyncio.to_thread(self.refresh_sync, catalog)

    def _fallback(self, catalog: str, reason: str) -> CatalogMetadata:
        last = self.last_known(catalog)
        if last is None:
            raise CatalogUnavailable(
                catalog, reason, self.pool.health.breaker(catalog).snapshot().retry_at
            )
        return last.as_stale(reason)
