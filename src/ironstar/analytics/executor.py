"""QueryExecutor: runs user SQL in sandboxed DuckDB engines, off the event loop.

Flow of one query (all DuckDB work in a worker thread):
check the SQL -> take a session -> BEGIN -> read each catalog's DuckLake snapshot -> cache
hit? -> run, streaming Arrow batches into Parquet -> COMMIT. Reading the snapshot ids inside
the query's own transaction makes them exactly the versions the query saw.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb

from ironstar.analytics.availability import CatalogUnavailable
from ironstar.analytics.blobstore import BlobStore
from ironstar.analytics.cache import ResultCache, cache_key
from ironstar.analytics.metadata import current_snapshot
from ironstar.analytics.outcomes import (
    QueryCancelled,
    QueryCompleted,
    QueryFailed,
    QueryOutcome,
    QueryRequest,
)
from ironstar.analytics.pool import SessionPool
from ironstar.analytics.results import ResultStopped, ResultSummary, dedupe, write_parquet
from ironstar.analytics.running import RunningQuery
from ironstar.analytics.sandbox import QuerySyntaxError, SandboxViolation, SqlChecker
from ironstar.analytics.sessions import SandboxSession, open_session


@dataclass(frozen=True)
class ExecutorConfig:
    max_workers: int = 4
    per_user_limit: int = 2
    default_timeout_seconds: float = 60.0
    batch_rows: int = 122_880  # a multiple of DuckDB's 2048-row vectors
    result_prefix: str = "results"


@dataclass
class _Plan:
    catalogs: frozenset[str]
    pins: Mapping[str, int] = field(default_factory=dict)


class QueryExecutor:
    def __init__(
        self,
        pool: SessionPool,
        store: BlobStore,
        cache: ResultCache | None = None,
        config: ExecutorConfig | None = None,
    ) -> None:
        self.pool = pool
        self.store = store
        self.cache = cache
        self.config = config or ExecutorConfig()
        self.checker = SqlChecker()
        self._threads = ThreadPoolExecutor(self.config.max_workers, thread_name_prefix="query")
        self._user_slots: dict[str, asyncio.Semaphore] = {}
        self._running: dict[str, RunningQuery] = {}
        self._lock = threading.Lock()

    async def run(self, request: QueryRequest) -> QueryOutcome:
        handle = RunningQuery(request.query_id)
        with self._lock:
            if request.query_id in self._running:
                return QueryFailed("invalid", f"query {request.query_id} is already running")
            self._running[request.query_id] = handle
        try:
            slots = self._user_slots.setdefault(
                request.user_id, asyncio.Semaphore(self.config.per_user_limit)
            )
            async with slots:
                if handle.cancel_requested:
                    return QueryCancelled()
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._threads, self._run_sync, request, handle)
        except asyncio.CancelledError:
            handle.request_stop("cancel")
            raise
        finally:
            with self._lock:
                self._running.pop(request.query_id, None)

    def cancel(self, query_id: str) -> bool:
        """Interrupt a queued or running query; False if it is not known (already finished)."""
        with self._lock:
            handle = self._running.get(query_id)
        if handle is None:
            return False
        handle.request_stop("cancel")
        return True

    def running(self) -> list[str]:
        """Queries not finished yet: executing, or queued for a slot."""
        with self._lock:
            return list(self._running)

    def executing(self) -> list[str]:
        """Queries DuckDB is running now (the rest of ``running()`` wait for a slot)."""
        with self._lock:
            return [query_id for query_id, handle in self._running.items() if handle.executing]

    async def close(self) -> None:
        for query_id in self.running():
            self.cancel(query_id)
        await asyncio.to_thread(self._threads.shutdown, wait=True)
        self.pool.close()
        self.checker.close()

    # --- worker thread ---------------------------------------------------------------

    def _run_sync(self, request: QueryRequest, handle: RunningQuery) -> QueryOutcome:
        started = time.perf_counter()
        timeout = request.timeout_seconds or self.config.default_timeout_seconds
        handle.arm_timeout(timeout)
        try:
            return self._execute(request, handle, started)
        except SandboxViolation as exc:
            return QueryFailed("sql_not_allowed", str(exc))
        except QuerySyntaxError as exc:
            return QueryFailed("syntax", str(exc), exc.line, exc.column)
        except CatalogUnavailable as exc:
            return QueryFailed("catalog_unavailable", str(exc))
        except (duckdb.InterruptException, ResultStopped):
            return self._stopped(handle, timeout)
        except duckdb.OutOfMemoryException as exc:
            return QueryFailed("resource", _message(exc))
        except duckdb.PermissionException as exc:
            return QueryFailed("sql_not_allowed", _message(exc))
        except duckdb.ParserException as exc:
            return QueryFailed("syntax", _message(exc))
        except (duckdb.BinderException, duckdb.CatalogException) as exc:
            return QueryFailed("binding", _message(exc))  # no such table, column, function
        except duckdb.Error as exc:
            if handle.stop_reason is not None:  # an interrupt can surface as another error
                return self._stopped(handle, timeout)
            return QueryFailed("execution", _message(exc))
        finally:
            handle.finish()

    def _stopped(self, handle: RunningQuery, timeout: float) -> QueryOutcome:
        if handle.stop_reason == "timeout":
            return QueryFailed(
                "timeout", f"the query ran longer than {timeout:g} s and was stopped"
            )
        return QueryCancelled()

    def _plan(self, request: QueryRequest) -> _Plan:
        names = frozenset(self.pool.registry.names())
        checked = self.checker.check(request.sql, names)
        catalogs = set(checked.named_catalogs)
        if request.catalog is not None:
            if request.catalog not in names:
                raise CatalogUnavailable(request.catalog, "no such catalog is configured")
            catalogs.add(request.catalog)
        unknown = set(request.snapshot_pins) - names
        if unknown:
            raise CatalogUnavailable(sorted(unknown)[0], "no such catalog is configured")
        return _Plan(frozenset(catalogs | set(request.snapshot_pins)), dict(request.snapshot_pins))

    def _session(self, plan: _Plan) -> SandboxSession:
        if not plan.pins:
            return self.pool.acquire()
        for name in plan.catalogs:  # a time-travel engine of its own, but same availability rules
            if not self.pool.health.would_retry(name):
                raise self.pool.health.breaker(name).unavailable(name)
        configs = [self.pool.registry.get(name) for name in sorted(plan.catalogs)]
        return open_session(configs, self.pool.limits, None, self.pool.attach_timeout, plan.pins)

    def _execute(self, request: QueryRequest, handle: RunningQuery, started: float) -> QueryOutcome:
        plan = self._plan(request)
        if handle.stop_reason:
            raise ResultStopped()
        session = self._session(plan)
        reusable = True
        try:
            for name in sorted(plan.catalogs):
                if name not in session.attached:
                    reason = session.failures.get(name) or "not attached"
                    raise CatalogUnavailable(name, reason)
            cursor = session.conn.cursor()
            handle.attach(cursor)
            try:
                return self._run_in_transaction(request, plan, cursor, handle, started)
            finally:
                handle.detach()
                cursor.close()
        except BaseException as exc:
            reusable = isinstance(exc, Exception)
            raise
        finally:
            if plan.pins:
                session.close()
            else:
                self.pool.release(session, reusable)

    def _run_in_transaction(
        self,
        request: QueryRequest,
        plan: _Plan,
        cursor: duckdb.DuckDBPyConnection,
        handle: RunningQuery,
        started: float,
    ) -> QueryOutcome:
        if request.catalog is not None:
            cursor.execute(f'USE "{request.catalog}"')
        # One transaction pins what the snapshot ids and the query see; with no catalog
        # involved there is nothing to pin, and two round trips fewer matter for tiny queries.
        in_transaction = bool(plan.catalogs)
        if in_transaction:
            cursor.execute("BEGIN TRANSACTION")
        try:
            snapshots = {name: current_snapshot(cursor, name) for name in sorted(plan.catalogs)}
            key = cache_key(request.sql, request.catalog, snapshots)
            if self.cache is not None and request.use_cache:
                cached = self.cache.get(key)
                if cached is not None:
                    return QueryCompleted(cached, cached=True)
            result_key = f"{self.config.result_prefix}/{request.query_id}.parquet"
            cursor.execute(request.sql)
            description = cursor.description or []
            names = dedupe([column[0] for column in description])
            columns = tuple(
                (name, str(column[1])) for name, column in zip(names, description, strict=True)
            )
            reader = cursor.to_arrow_reader(self.config.batch_rows)
            rows, size = write_parquet(reader, self.store, result_key, handle.should_stop)
            summary = ResultSummary(
                row_count=rows,
                columns=columns,
                bytes=size,
                duration_ms=(time.perf_counter() - started) * 1000,
                result_key=result_key,
                snapshots=snapshots,
            )
            if self.cache is not None:
                self.cache.put(key, summary)
            return QueryCompleted(summary)
        finally:
            if in_transaction:
                try:
                    cursor.execute("ROLLBACK")  # read-only: nothing to commit
                except duckdb.Error:
                    pass


def _message(exc: BaseException) -> str:
    """DuckDB's message without the class-name prefix noise users do not need."""
    return str(exc).strip() or type(exc).__name__
