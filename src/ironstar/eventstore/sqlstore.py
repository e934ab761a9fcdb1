"""The event store over a SQL database, shared by the SQLite and PostgreSQL adapters.

Writes go through one group-commit writer thread per store; reads run in a small
thread pool, so no database call ever blocks the event loop. What differs between
databases (connections, locking, placeholders, notifications) lives in a Dialect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import msgspec

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.errors import (
    DuplicateEventId,
    EventStoreError,
    InvalidAppend,
    StoreClosed,
    StoreUnavailable,
    WrongExpectedVersion,
)
from ironstar.eventstore.groupcommit import GroupCommitWriter
from ironstar.eventstore.model import (
    ALL_EVENTS,
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    EventFilter,
    EventMetadata,
    ExpectedVersion,
    LoadedStream,
    NewEvent,
    RecordedEvent,
    Snapshot,
    check_expected_version,
    stream_type_of,
)
from ironstar.eventstore.recent import RecentEvents, matching
from ironstar.eventstore.wakeup import Wakeup

log = logging.getLogger(__name__)

MAX_EVENTS_PER_APPEND = 10_000
_NO_LIMIT = 2**62
_json = msgspec.json.Decoder()


class Dialect(Protocol):
    """What one database needs to say differently."""

    name: str
    event_id_expr: str  # the event id column read back as text
    event_id_param: str  # a placeholder comparing with the event id column
    payload_expr: str  # the payload column read back as JSON text or bytes
    # True when the payload reads back byte for byte as written (SQLite text), so local
    # subscribers may be handed what was just committed; PostgreSQL's jsonb reorders keys.
    exact_payloads: bool
    operational_errors: tuple[type[BaseException], ...]

    def connect_writer(self) -> Any: ...
    def reading(self) -> contextlib.AbstractContextManager[Any]: ...
    def migrate(self) -> list[str]: ...
    def begin_write(self, conn: Any) -> None:
        """Start the write transaction, serialising writers across processes."""
        ...

    def insert_events(self, conn: Any, rows: list[tuple[Any, ...]]) -> int:
        """Insert rows (all columns but position) at the next positions; return the first."""
        ...

    def before_commit(self, conn: Any, last_position: int) -> None:
        """last_position is 0 when the batch wrote no event."""
        ...

    def after_rollback(self) -> None: ...
    def is_unique_violation(self, exc: BaseException, column: str) -> bool: ...
    def sql(self, text: str) -> str:
        """Turn the shared '?' placeholders into the driver's."""
        ...

    def start_listener(self, wakeup: Wakeup) -> None: ...
    def close(self) -> None: ...


class _AppendRequest:
    __slots__ = ("expected", "metadata", "rows", "stream_id", "stream_type")

    def __init__(
        self,
        stream_id: str,
        stream_type: str,
        rows: list[tuple[str, str, int, bytes, Any]],
        expected: ExpectedVersion,
        metadata: EventMetadata,
    ) -> None:
        self.stream_id = stream_id
        self.stream_type = stream_type
        self.rows = rows  # (event_id, event_type, event_version, payload, data)
        self.expected = expected
        self.metadata = metadata


class _SnapshotRequest:
    __slots__ = ("schema_version", "state", "stream_id", "stream_version")

    def __init__(self, stream_id: str, stream_version: int, schema_version: int, state: bytes):
        self.stream_id = stream_id
        self.stream_version = stream_version
        self.schema_version = schema_version
        self.state = state


def _check_version(stream_id: str, expected: ExpectedVersion, current: int) -> None:
    if expected is ANY:
        return
    if expected is NO_STREAM:
        ok = current == 0
    elif expected is STREAM_EXISTS:
        ok = current > 0
    else:
        ok = current == expected
    if not ok:
        raise WrongExpectedVersion(stream_id, expected, current)


def _rows(
    request: _AppendRequest, current: int, transaction_id: str, now: float
) -> list[tuple[Any, ...]]:
    """The stored rows of one append (every column but the position)."""
    meta = request.metadata
    return [
        (
            event_id,
            request.stream_id,
            request.stream_type,
            current + offset,
            name,
            version,
            payload,
            meta.user_id,
            meta.causation_id,
            meta.correlation_id,
            transaction_id,
            now,
        )
        for offset, (event_id, name, version, payload, _) in enumerate(request.rows, 1)
    ]


class SqlEventStore:
    """Implements the EventStore port for any Dialect."""

    def __init__(
        self,
        dialect: Dialect,
        registry: EventRegistry,
        *,
        poll_interval: float = 0.25,
        read_threads: int = 4,
    ) -> None:
        self._dialect = dialect
        self._registry = registry
        self._poll_interval = poll_interval
        self._wakeup = Wakeup()
        self._recent = RecentEvents()
        # Called on the writer thread with each transaction's events, in position order,
        # right after its commit (SQLite only: what a reader would decode). For work that
        # must follow a commit without a detour through an event loop - the projection
        # runner hands live pages straight to its writer thread. Must be quick.
        self.committed_here: list[Callable[[list[RecordedEvent]], None]] = []
        self._sql = _Statements(dialect)
        self._writer_conn: Any = None
        self.applied_migrations = dialect.migrate()
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix=f"{dialect.name}-read")
        self._writer = GroupCommitWriter(self._handle_batch, name=f"{dialect.name}-writer")
        self._closed = False
        dialect.start_listener(self._wakeup)

    @property
    def registry(self) -> EventRegistry:
        return self._registry

    # ---- writing -------------------------------------------------------------------

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion,
        metadata: EventMetadata | None = None,
    ) -> AppendResult:
        stream_type = stream_type_of(stream_id)
        expected = check_expected_version(expected_version)
        if not events:
            raise InvalidAppend("an append needs at least one event")
        if len(events) > MAX_EVENTS_PER_APPEND:
            raise InvalidAppend(f"at most {MAX_EVENTS_PER_APPEND} events per append")
        if metadata is None:
            metadata = EventMetadata()
        elif not isinstance(metadata, EventMetadata):
            raise InvalidAppend("metadata must be an EventMetadata")
        rows = []
        seen: set[str] = set()
        for event in events:
            if not isinstance(event, NewEvent):
                raise InvalidAppend(f"expected NewEvent, got {type(event).__name__}")
            if event.event_id in seen:
                raise InvalidAppend(f"event id {event.event_id} appears twice in one append")
            seen.add(event.event_id)
            name, version, payload = self._registry.encode(event.data)
            rows.append((event.event_id, name, version, payload, event.data))
        request = _AppendRequest(stream_id, stream_type, rows, expected, metadata)
        result: AppendResult = await self._writer.submit(request)
        return result

    async def save_snapshot(
        self, stream_id: str, stream_version: int, schema_version: int, state: bytes
    ) -> None:
        stream_type_of(stream_id)
        if stream_version < 1:
            raise InvalidAppend("a snapshot needs a stream version of at least 1")
        await self._writer.submit(
            _SnapshotRequest(stream_id, stream_version, schema_version, bytes(state))
        )

    def _handle_batch(self, requests: Sequence[Any]) -> list[Any]:
        """Runs on the writer thread: one transaction for the whole batch."""
        dialect = self._dialect
        try:
            conn = self._connection()
            dialect.begin_write(conn)
        except dialect.operational_errors as exc:
            self._drop_connection()
            return [StoreUnavailable(f"cannot start a write: {exc}")] * len(requests)
        now = time.time()
        outcomes: list[Any] = []
        last_position = 0
        isolate = len(requests) > 1
        try:
            together = self._apply_together(conn, requests, now) if isolate else None
            if together is not None:
                outcomes = together
                last_position = max(
                    (o.last_position for o in outcomes if isinstance(o, AppendResult)), default=0
                )
            for request in requests if together is None else ():
                if isolate:
                    conn.execute("SAVEPOINT request")
                try:
                    outcome = self._apply(conn, request, now)
                except Exception as exc:
                    if not isolate:
                        raise
                    conn.execute("ROLLBACK TO SAVEPOINT request")
                    outcome = self._translate(exc, request)
                if isolate:
                    conn.execute("RELEASE SAVEPOINT request")
                if isinstance(outcome, AppendResult) and outcome.written:
                    last_position = outcome.last_position
                outcomes.append(outcome)
            dialect.before_commit(conn, last_position)
            conn.execute("COMMIT")
        except Exception as exc:
            dialect.after_rollback()
            self._rollback(conn)
            if not isolate:
                return [self._translate(exc, requests[0])]
            failure = StoreUnavailable(f"commit failed: {exc}")
            return [o if isinstance(o, EventStoreError) else failure for o in outcomes] + [
                failure
            ] * (len(requests) - len(outcomes))
        if last_position and dialect.exact_payloads:
            self._remember(requests, outcomes, now)
            self._wakeup.notify()
        return outcomes

    def _remember(self, requests: Sequence[Any], outcomes: list[Any], now: float) -> None:
        """What was just committed, as a reader would decode it, for local subscribers."""
        decode = self._registry.decode
        committed: list[RecordedEvent] = []
        for request, outcome in zip(requests, outcomes, strict=True):
            if not (isinstance(outcome, AppendResult) and outcome.written):
                continue
            meta = request.metadata
            metadata = EventMetadata(
                meta.user_id, meta.causation_id, meta.correlation_id, outcome.transaction_id
            )
            for offset, (event_id, name, version, payload, _) in enumerate(request.rows):
                committed.append(
                    RecordedEvent(
                        outcome.first_position + offset,
                        request.stream_id,
                        request.stream_type,
                        outcome.first_version + offset,
                        event_id,
                        name,
                        version,
                        decode(name, version, payload),
                        metadata,
                        now,
                    )
                )
        committed.sort(key=lambda e: e.position)
        self._recent.add(committed)
        for hook in tuple(self.committed_here):  # the loop may add or remove one meanwhile
            try:
                hook(committed)
            except Exception:  # the commit stands; a hook's failure is its own
                log.exception("a commit hook failed")

    def _apply_together(self, conn: Any, requests: Sequence[Any], now: float) -> list[Any] | None:
        """The common case in a few statements for the whole batch: read every stream's
        version at once, validate in memory, insert all rows with one executemany.

        Returns None - having changed nothing - when the batch needs the careful path
        (a retried or duplicated event id, an unexpected database error): that path
        applies each request on its own savepoint."""
        appends = [r for r in requests if isinstance(r, _AppendRequest)]
        all_ids = [row[0] for r in appends for row in r.rows]
        if len(set(all_ids)) != len(all_ids):
            return None
        versions: dict[str, int] = {}
        if appends:
            first_ids = [r.rows[0][0] for r in appends]
            if conn.execute(self._sql.any_event_of(len(first_ids)), first_ids).fetchone():
                return None  # a retry: let the careful path recognise it
            streams = list({r.stream_id: None for r in appends})
            rows = conn.execute(self._sql.versions_of(len(streams)), streams).fetchall()
            versions = {sid: version or 0 for sid, version in rows}
        conn.execute("SAVEPOINT together")
        try:
            outcomes = self._decide_together(conn, requests, versions, now)
        except Exception:
            conn.execute("ROLLBACK TO SAVEPOINT together")
            conn.execute("RELEASE SAVEPOINT together")
            return None
        conn.execute("RELEASE SAVEPOINT together")
        return outcomes

    def _decide_together(
        self, conn: Any, requests: Sequence[Any], versions: dict[str, int], now: float
    ) -> list[Any]:
        outcomes: list[Any] = []
        rows: list[tuple[Any, ...]] = []
        placed: list[tuple[int, int, int, int, str, str]] = []  # outcome index, row offset, ...
        for request in requests:
            if isinstance(request, _SnapshotRequest):
                outcomes.append(self._apply(conn, request, now))
                continue
            current = versions.get(request.stream_id, 0)
            try:
                _check_version(request.stream_id, request.expected, current)
            except WrongExpectedVersion as exc:
                outcomes.append(exc)
                continue
            transaction_id = str(uuid.uuid4())
            placed.append(
                (
                    len(outcomes),
                    len(rows),
                    current,
                    len(request.rows),
                    request.stream_id,
                    transaction_id,
                )
            )
            rows.extend(_rows(request, current, transaction_id, now))
            versions[request.stream_id] = current + len(request.rows)
            outcomes.append(None)
        if rows:  # last: a failure here leaves the dialect's position counter untouched
            first = self._dialect.insert_events(conn, rows)
            for index, offset, current, count, stream_id, transaction_id in placed:
                outcomes[index] = AppendResult(
                    stream_id=stream_id,
                    first_version=current + 1,
                    last_version=current + count,
                    first_position=first + offset,
                    last_position=first + offset + count - 1,
                    transaction_id=transaction_id,
                    written=True,
                )
        return outcomes

    def _apply(self, conn: Any, request: Any, now: float) -> Any:
        if isinstance(request, _SnapshotRequest):
            conn.execute(
                self._sql.upsert_snapshot,
                (
                    request.stream_id,
                    request.stream_version,
                    request.schema_version,
                    request.state,
                    now,
                ),
            )
            return None
        # One statement answers both: where the stream is, and whether this is a retry.
        current, owner = conn.execute(
            self._sql.version_and_owner, (request.stream_id, request.rows[0][0])
        ).fetchone()
        if owner is not None:
            return self._recognise_retry(conn, request, owner)
        current = current or 0
        _check_version(request.stream_id, request.expected, current)
        transaction_id = str(uuid.uuid4())
        params = _rows(request, current, transaction_id, now)
        first_position = self._dialect.insert_events(conn, params)
        count = len(params)
        return AppendResult(
            stream_id=request.stream_id,
            first_version=current + 1,
            last_version=current + count,
            first_position=first_position,
            last_position=first_position + count - 1,
            transaction_id=transaction_id,
            written=True,
        )

    def _recognise_retry(self, conn: Any, request: _AppendRequest, owner: str) -> AppendResult:
        """Same ids again: succeed without writing if it is truly the same append."""
        event_id = request.rows[0][0]
        if owner != request.stream_id:
            raise DuplicateEventId(event_id, f"it belongs to stream {owner!r}")
        stream_id = owner
        first_version = conn.execute(self._sql.version_of_event, (event_id,)).fetchone()[0]
        expected = request.expected
        if (expected is NO_STREAM and first_version != 1) or (
            isinstance(expected, int) and first_version != expected + 1
        ):
            raise DuplicateEventId(
                event_id, f"it was appended at version {first_version} under another expectation"
            )
        stored = conn.execute(
            self._sql.retry_rows,
            (stream_id, first_version, first_version + len(request.rows) - 1),
        ).fetchall()
        if len(stored) != len(request.rows):
            raise DuplicateEventId(event_id, "the earlier append had different events")
        for (sid, name, version, payload, _), row in zip(request.rows, stored, strict=True):
            if (sid, name, version) != (row[0], row[1], row[2]) or _json.decode(
                payload
            ) != _json.decode(row[3]):
                raise DuplicateEventId(sid, "the same id was stored with different content")
        return AppendResult(
            stream_id=stream_id,
            first_version=first_version,
            last_version=first_version + len(stored) - 1,
            first_position=stored[0][4],
            last_position=stored[-1][4],
            transaction_id=stored[0][5],
            written=False,
        )

    def _translate(self, exc: BaseException, request: Any) -> BaseException:
        if isinstance(exc, EventStoreError):
            return exc
        if isinstance(request, _AppendRequest):
            if self._dialect.is_unique_violation(exc, "event_id"):
                return DuplicateEventId("(one of this append's)", "an event id is already stored")
            if self._dialect.is_unique_violation(exc, "stream_version"):
                return WrongExpectedVersion(request.stream_id, request.expected, -1)
        if isinstance(exc, self._dialect.operational_errors):
            self._drop_connection()
            return StoreUnavailable(str(exc))
        return exc

    def _connection(self) -> Any:
        if self._writer_conn is None:
            self._writer_conn = self._dialect.connect_writer()
        return self._writer_conn

    def _drop_connection(self) -> None:
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _rollback(self, conn: Any) -> None:
        try:
            conn.execute("ROLLBACK")
        except Exception:
            self._drop_connection()

    # ---- reading -------------------------------------------------------------------

    async def _read(self, fn: Any, *args: Any) -> Any:
        if self._closed:
            raise StoreClosed("the event store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, fn, *args)

    def _to_events(self, rows: list[Any]) -> list[RecordedEvent]:
        # Hot path (catch-up reads): positional construction, and one metadata object per
        # transaction (events appended together share it) instead of one per row.
        decode = self._registry.decode
        event, meta = RecordedEvent, EventMetadata
        result = []
        last_key: tuple[Any, ...] = ()
        last_meta = meta()
        for r in rows:
            key = (r[8], r[9], r[10], r[11])
            if key != last_key:
                last_key, last_meta = key, meta(*key)
            result.append(
                event(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    decode(r[5], r[6], r[7]),
                    last_meta,
                    r[12],
                )
            )
        return result

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._dialect.reading() as conn:
            return list(conn.execute(sql, params).fetchall())

    def _read_stream_sync(self, stream_id: str, from_version: int, limit: int) -> list[Any]:
        return self._to_events(self._query(self._sql.read_stream, (stream_id, from_version, limit)))

    async def read_stream(
        self, stream_id: str, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        stream_type_of(stream_id)
        result: list[RecordedEvent] = await self._read(
            self._read_stream_sync,
            stream_id,
            max(from_version, 1),
            _NO_LIMIT if limit is None else max(limit, 0),
        )
        return result

    def _read_all_sync(self, after: int, limit: int, filter: EventFilter) -> list[RecordedEvent]:
        sql, params = self._sql.read_all(after, limit, filter)
        return self._to_events(self._query(sql, params))

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, filter: EventFilter = ALL_EVENTS
    ) -> list[RecordedEvent]:
        result: list[RecordedEvent] = await self._read(
            self._read_all_sync, max(after_position, 0), max(limit, 0), filter
        )
        return result

    def _scalar(self, sql: str, params: Sequence[Any]) -> Any:
        rows = self._query(sql, params)
        return rows[0][0] if rows else None

    async def stream_version(self, stream_id: str) -> int:
        stream_type_of(stream_id)
        version = await self._read(self._scalar, self._sql.stream_version, (stream_id,))
        return int(version or 0)

    async def streams_of_type(self, stream_type: str) -> list[str]:
        rows = await self._read(self._query, self._sql.streams_of_type, (stream_type,))
        return [row[0] for row in rows]

    async def head_position(self) -> int:
        return int(await self._read(self._scalar, self._sql.head, ()) or 0)

    async def stats(self) -> list[tuple[str, str, int]]:
        """(stream type, event type, count) for every combination present."""
        rows = await self._read(self._query, self._sql.stats, ())
        return [(r[0], r[1], int(r[2])) for r in rows]

    def _snapshot_sync(self, stream_id: str, schema_version: int) -> Snapshot | None:
        rows = self._query(self._sql.snapshot, (stream_id,))
        if not rows or rows[0][1] != schema_version:
            return None
        version, schema, state, recorded = rows[0]
        return Snapshot(stream_id, version, schema, bytes(state), recorded)

    async def load_snapshot(self, stream_id: str, schema_version: int) -> Snapshot | None:
        stream_type_of(stream_id)
        result: Snapshot | None = await self._read(self._snapshot_sync, stream_id, schema_version)
        return result

    def _load_sync(self, stream_id: str, schema_version: int) -> LoadedStream:
        snapshot = self._snapshot_sync(stream_id, schema_version)
        after = snapshot.stream_version if snapshot else 0
        events = self._read_stream_sync(stream_id, after + 1, _NO_LIMIT)
        return LoadedStream(stream_id, snapshot, events)

    async def load(self, stream_id: str, schema_version: int) -> LoadedStream:
        stream_type_of(stream_id)
        result: LoadedStream = await self._read(self._load_sync, stream_id, schema_version)
        return result

    async def subscribe_batches(
        self, after_position: int = 0, filter: EventFilter = ALL_EVENTS, batch_size: int = 1000
    ) -> AsyncIterator[list[RecordedEvent]]:
        """History then live, in pages, in position order. Commit order equals position
        order in every dialect (writers are serialised), so reading forward never skips
        a late commit; a wake-up only shortens the wait before the next read."""
        position = after_position
        while not self._closed:
            seen = self._wakeup.counter
            recent = self._recent.after(position, batch_size)
            if recent is not None:  # committed here, right after ``position``: no read
                position = recent[-1].position
                page = matching(recent, filter)
                if page:
                    yield page
                if len(recent) == batch_size:
                    continue
            else:
                page = await self.read_all(position, batch_size, filter)
                if page:
                    position = page[-1].position
                    yield page
                if len(page) == batch_size:
                    continue
            await self._wakeup.wait(seen, self._poll_interval)

    async def subscribe(
        self, after_position: int = 0, filter: EventFilter = ALL_EVENTS, batch_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        async for page in self.subscribe_batches(after_position, filter, batch_size):
            for event in page:
                yield event

    def _find_event_sync(self, event_id: str) -> RecordedEvent | None:
        events = self._to_events(self._query(self._sql.event_by_id, (event_id,)))
        return events[0] if events else None

    async def find_event(self, event_id: str) -> RecordedEvent | None:
        """The stored event with this id, if any (lets commands be idempotent by id)."""
        result: RecordedEvent | None = await self._read(self._find_event_sync, event_id)
        return result

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wakeup.notify()
        await asyncio.get_running_loop().run_in_executor(None, self._close_sync)

    def _close_sync(self) -> None:
        self._writer.close()
        self._drop_connection()
        self._readers.shutdown(wait=True)
        self._dialect.close()


class _Statements:
    """The SQL every dialect shares, with its placeholders already converted."""

    def __init__(self, dialect: Dialect) -> None:
        s = dialect.sql
        cols = self.event_columns = (
            f"position, stream_id, stream_type, stream_version, {dialect.event_id_expr}, "
            f"event_type, event_version, {dialect.payload_expr}, user_id, causation_id, "
            "correlation_id, transaction_id, recorded_at"
        )
        self._dialect = dialect
        self.stream_version = s(
            "SELECT stream_version FROM events WHERE stream_id = ? "
            "ORDER BY stream_version DESC LIMIT 1"
        )
        self.version_and_owner = s(
            f"SELECT ({self.stream_version}), "
            f"(SELECT stream_id FROM events WHERE event_id = {dialect.event_id_param})"
        )
        self.event_by_id = s(f"SELECT {cols} FROM events WHERE event_id = {dialect.event_id_param}")
        self._s = s
        self.version_of_event = s(
            f"SELECT stream_version FROM events WHERE event_id = {dialect.event_id_param}"
        )
        self.retry_rows = s(
            f"SELECT {dialect.event_id_expr}, event_type, event_version, {dialect.payload_expr}, "
            "position, transaction_id FROM events "
            "WHERE stream_id = ? AND stream_version BETWEEN ? AND ? ORDER BY stream_version"
        )
        self.read_stream = s(
            f"SELECT {cols} FROM events WHERE stream_id = ? AND stream_version >= ? "
            "ORDER BY stream_version LIMIT ?"
        )
        self.streams_of_type = s(
            "SELECT stream_id FROM events WHERE stream_type = ? AND stream_version = 1 "
            "ORDER BY stream_id"
        )
        self.head = "SELECT coalesce(max(position), 0) FROM events"
        self.stats = (
            "SELECT stream_type, event_type, count(*) FROM events "
            "GROUP BY stream_type, event_type ORDER BY stream_type, event_type"
        )
        self.snapshot = s(
            "SELECT stream_version, schema_version, state, recorded_at FROM snapshots "
            "WHERE stream_id = ?"
        )
        self.upsert_snapshot = s(
            "INSERT INTO snapshots (stream_id, stream_version, schema_version, state, "
            "recorded_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET "
            "stream_version = excluded.stream_version, schema_version = excluded.schema_version, "
            "state = excluded.state, recorded_at = excluded.recorded_at "
            "WHERE excluded.stream_version >= snapshots.stream_version "
            "OR excluded.schema_version <> snapshots.schema_version"
        )

    def any_event_of(self, count: int) -> str:
        marks = ", ".join([self._dialect.event_id_param] * count)
        return self._s(f"SELECT 1 FROM events WHERE event_id IN ({marks}) LIMIT 1")

    def versions_of(self, count: int) -> str:
        """Each stream's version, by an index probe per stream (never a scan of a stream)."""
        values = ", ".join(["(CAST(? AS TEXT))"] * count)
        return self._s(
            f"WITH wanted(sid) AS (VALUES {values}) SELECT sid, (SELECT stream_version "
            "FROM events WHERE stream_id = wanted.sid ORDER BY stream_version DESC LIMIT 1) "
            "FROM wanted"
        )

    def read_all(self, after: int, limit: int, filter: EventFilter) -> tuple[str, list[Any]]:
        where = ["position > ?"]
        params: list[Any] = [after]
        for column, values in (
            ("stream_type", filter.stream_types),
            ("event_type", filter.event_types),
        ):
            if values:
                if column == "event_type" and len(values) > 1:
                    # Through the (event_type, position) index, every later event of each
                    # type would be found and sorted for each page (quadratic over a long
                    # log): scan in position order instead, stopping at the limit.
                    column = "event_type || ''"
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        params.append(limit)
        sql = (
            f"SELECT {self.event_columns} FROM events WHERE {' AND '.join(where)} "
            "ORDER BY position LIMIT ?"
        )
        return self._dialect.sql(sql), params
