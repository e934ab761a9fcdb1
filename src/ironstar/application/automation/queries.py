"""The query runner: reacts to QueryStarted by running the SQL, then records the outcome.

It follows the event store from where it starts; queries that were still running when
a previous process stopped are recorded as failed (internal), never silently dropped.
Cancellation reacts to QueryCancelled (DuckDB interrupt). One process runs queries at
a time (leadership); any process may record QueryStarted or QueryCancelled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ironstar.analytics.engine import AnalyticsEngine
from ironstar.analytics.outcomes import QueryCancelled, QueryCompleted, QueryFailed, QueryRequest
from ironstar.application.app import Ironstar
from ironstar.application.leadership import Leadership
from ironstar.domain import query_session as q
from ironstar.domain.errors import DomainError
from ironstar.eventstore.model import EventFilter

log = logging.getLogger(__name__)
JOB = "query-runner"
_KINDS = {  # the engine's outcome kinds; anything else is Ironstar's own failure
    "syntax": q.FailureKind.SYNTAX,
    "binding": q.FailureKind.SYNTAX,
    "sql_not_allowed": q.FailureKind.NOT_ALLOWED,
    "execution": q.FailureKind.EXECUTION,
    "timeout": q.FailureKind.TIMEOUT,
    "resource": q.FailureKind.RESOURCE,
    "catalog_unavailable": q.FailureKind.CATALOG_UNAVAILABLE,
}


def offset_of(sql: str, line: int | None, column: int | None) -> int | None:
    """A 0-based character offset from a 1-based line and column."""
    if line is None:
        return None
    lines = sql.splitlines(keepends=True)
    before = sum(len(text) for text in lines[: max(line - 1, 0)])
    return max(0, min(len(sql), before + max((column or 1) - 1, 0)))


class QueryRunner:
    def __init__(
        self,
        app: Ironstar,
        engine: AnalyticsEngine,
        leadership: Leadership,
        *,
        timeout_seconds: float = 60.0,
    ) -> None:
        self.app = app
        self.engine = engine
        self.leadership = leadership
        self.timeout_seconds = timeout_seconds
        self._tasks: set[asyncio.Task[None]] = set()
        self.outcomes: dict[str, str] = {}  # query id -> status, for metrics and tests

    async def run(self) -> None:
        while True:  # only the leader runs queries; others keep asking
            if self.leadership.try_acquire(JOB):
                break
            await asyncio.sleep(5)
        start = await self.app.events.head_position()
        await self.app.runner.wait_for(start, timeout=60)
        await self._fail_orphans(start)
        wanted = EventFilter(event_types=("QueryStarted", "QueryCancelled"))
        try:
            async for event in self.app.events.subscribe(start, wanted):
                data = event.data
                if isinstance(data, q.QueryStarted):
                    task = asyncio.create_task(self._execute(data))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                elif isinstance(data, q.QueryCancelled):
                    self.engine.cancel(data.query_id)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _fail_orphans(self, start: int) -> None:
        for query in await self.app.reads.running_queries():
            if query["position"] <= start:
                await self._record(
                    q.FailQuery(
                        query_id=query["query_id"],
                        kind=q.FailureKind.INTERNAL,
                        message="the server stopped while this query ran; run it again",
                        duration_ms=0,
                        at=time.time(),
                    )
                )

    async def _execute(self, started: q.QueryStarted) -> None:
        request = QueryRequest(
            query_id=started.query_id,
            user_id=started.user_id,
            sql=started.sql,
            catalog=started.catalog_id,
            snapshot_pins=(
                {started.catalog_id: started.pinned_snapshot_id}
                if started.pinned_snapshot_id is not None
                else {}
            ),
            timeout_seconds=self.timeout_seconds,
        )
        began = time.perf_counter()
        try:
            outcome = await self.engine.run(request)
        except Exception as exc:  # the engine itself broke: say so, keep running others
            log.exception("query %s crashed the engine", started.query_id)
            outcome = QueryFailed("execution", f"internal error: {exc}")
        elapsed = int((time.perf_counter() - began) * 1000)
        self.outcomes[started.query_id] = outcome.status
        if isinstance(outcome, QueryCompleted):
            summary = outcome.summary
            await self._record(
                q.CompleteQuery(
                    query_id=started.query_id,
                    result_key=summary.result_key,
                    row_count=summary.row_count,
                    columns=tuple(q.ResultColumn(name=n, type=t) for n, t in summary.columns),
                    duration_ms=int(summary.duration_ms) if not outcome.cached else elapsed,
                    catalog_snapshot_id=summary.snapshots.get(started.catalog_id),
                    at=time.time(),
                )
            )
        elif isinstance(outcome, QueryFailed):
            await self._record(
                q.FailQuery(
                    query_id=started.query_id,
                    kind=_KINDS.get(outcome.kind, q.FailureKind.INTERNAL),
                    message=outcome.message[:2000],
                    position=offset_of(started.sql, outcome.line, outcome.column),
                    duration_ms=elapsed,
                    at=time.time(),
                )
            )
        elif isinstance(outcome, QueryCancelled):
            pass  # QueryCancelled is already recorded: that is what interrupted it

    async def _record(self, command: Any) -> None:
        try:
            await self.app.execute(
                command, actor=None, command_id=f"outcome:{command.query_id}", wait=False
            )
        except DomainError as exc:  # cancelled meanwhile: the first terminal state stands
            log.info("outcome of %s not recorded: %s", command.query_id, exc)

    async def drain(self) -> None:
        """Wait for queries in flight (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
