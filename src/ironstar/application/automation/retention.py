"""Result retention (opt-in): delete query results older than a configured age.

A removed result loses no data: its query recorded the SQL and the DuckLake snapshots it
read, so "re-run pinned to snapshot" computes the same rows again; until then its pages
and the API answer 410 ``result_not_found``. One process sweeps at a time (leadership).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ironstar.analytics.blobstore import BlobStore
from ironstar.analytics.results import purge_results
from ironstar.application.automation.periodic import while_leading
from ironstar.application.leadership import Leadership

log = logging.getLogger(__name__)
JOB = "result-retention"


async def purge_old_results(
    store: BlobStore, max_age_seconds: float, *, now: float | None = None
) -> list[str]:
    """Delete results (and their cache entries) older than ``max_age_seconds``; the listing
    and deleting run on a worker thread."""
    return await asyncio.to_thread(purge_results, store, max_age_seconds, now)


def retention_job(
    store: BlobStore,
    leadership: Leadership,
    *,
    max_age_seconds: float,
    interval: float = 3600.0,
) -> Callable[[], Awaitable[None]]:
    """A background job: purge every ``interval`` seconds while this process leads."""

    async def purge() -> None:
        removed = await purge_old_results(store, max_age_seconds)
        if removed:
            log.info("retention removed %d stored result file(s)", len(removed))

    return while_leading(leadership, JOB, interval, purge)
