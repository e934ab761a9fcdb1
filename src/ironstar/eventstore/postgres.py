"""PostgreSQL adapter: psycopg 3, one schema per store, LISTEN/NOTIFY to wake subscribers.

Writers lock the single ``head`` row for their whole transaction and hand out
positions after it, so positions follow commit order across every process that
writes to the schema: a reader can never see position N+1 before N.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.errors import EventEncodingError, InvalidAppend, StoreUnavailable
from ironstar.eventstore.migrations import migrations_for
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.eventstore.wakeup import Wakeup

log = logging.getLogger(__name__)

# Lower case only, so the name needs no quoting in search_path or anywhere else.
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_CONNECT_TIMEOUT = 10
_LISTEN_TICK = 0.1  # how often the listener checks whether it should stop
_MAX_RECONNECT_DELAY = 5.0


def application_name(role: str, schema: str) -> str:
    """What each connection calls itself in pg_stat_activity (truncated to 63 bytes)."""
    return f"ironstar-{role}:{schema}"[:63]


class PostgresDialect:
    name = "postgres"
    exact_payloads = False
    event_id_expr = "event_id::text"
    event_id_param = "?::uuid"
    payload_expr = "payload::text"
    operational_errors: tuple[type[BaseException], ...] = (
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
    _insert = (
        "INSERT INTO events (position, event_id, stream_id, stream_type, stream_version, "
        "event_type, event_version, payload, user_id, causation_id, correlation_id, "
        "transaction_id, recorded_at) "
        "VALUES (%s, %s::uuid, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s)"
    )

    def __init__(self, url: str, *, schema: str = "ironstar", pool_size: int = 4) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(
                f"schema {schema!r} must be 1-63 lower-case letters, digits or '_', "
                "not starting with a digit"
            )
        self.url = url
        self.schema = schema
        self.channel = schema
        self.pool_size = pool_size
        self._head: int | None = None
        self._pool: ConnectionPool | None = None
        self._pool_lock = threading.Lock()
        self._listener: _Listener | None = None
        self._closed = False

    # ---- connections -----------------------------------------------------------------

    def _conninfo(self, role: str) -> dict[str, Any]:
        """Connection arguments: the URL's own, plus our search_path and a name."""
        options = conninfo_to_dict(self.url).get("options", "")
        return {
            "autocommit": True,
            "connect_timeout": _CONNECT_TIMEOUT,
            "application_name": application_name(role, self.schema),
            "options": f"{options} -c search_path={self.schema}".strip(),
        }

    def _connect(self, role: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, **self._conninfo(role))

    def connect_writer(self) -> psycopg.Connection[Any]:
        return self._connect("writer")

    @contextlib.contextmanager
    def reading(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._reader_pool().connection() as conn:
                yield conn
        except self.operational_errors as exc:
            # The pool drops the broken connection; the next read gets a fresh one.
            raise StoreUnavailable(f"cannot read events: {exc}") from exc

    def _reader_pool(self) -> ConnectionPool:
        # Opened on first read, so a failed migration leaves no pool threads behind.
        with self._pool_lock:
            if self._pool is None:
                if self._closed:
                    raise psycopg.InterfaceError("the PostgreSQL dialect is closed")
                self._pool = ConnectionPool(
                    self.url,
                    kwargs=self._conninfo("reader"),
                    min_size=1,
                    max_size=self.pool_size,
                    name=application_name("readers", self.schema),
                    timeout=_CONNECT_TIMEOUT,
                    open=True,
                )
            return self._pool

    # ---- schema ----------------------------------------------------------------------

    def migrate(self) -> list[str]:
        applied = []
        schema = sql.Identifier(self.schema)
        with self._connect("migrate") as conn:
            # Session lock keyed on the schema: concurrent first starts wait here,
            # and even CREATE SCHEMA IF NOT EXISTS is not safe against a race.
            conn.execute(
                "SELECT pg_advisory_lock(hashtextextended(%s, 0))",
                (f"ironstar.migrate:{self.schema}",),
            )
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            conn.execute(sql.SQL("SET search_path TO {}").format(schema))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in migrations_for("postgres"):
                if migration.version in done:
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)  # no parameters, so it may hold many statements
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                applied.append(f"{migration.version:04d}_{migration.name}")
            # Closing the connection releases the advisory lock.
        return applied

    # ---- writing ---------------------------------------------------------------------

    def begin_write(self, conn: psycopg.Connection[Any]) -> None:
        # One round trip for both statements (no parameters: the simple protocol allows it).
        cur = conn.execute("BEGIN; SELECT position FROM head WHERE id = 1 FOR UPDATE")
        cur.nextset()
        row = cur.fetchone()
        if row is None:
            raise RuntimeError(f"schema {self.schema!r} has no head row; was it migrated?")
        self._head = int(row[0])

    def insert_events(self, conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> int:
        if self._head is None:
            raise RuntimeError("insert_events outside a write transaction")
        first = self._head + 1
        params = [(first + i, *row[:6], _text(row[6]), *row[7:]) for i, row in enumerate(rows)]
        try:
            with conn.cursor() as cur:
                if len(params) == 1:
                    cur.execute(self._insert, params[0])
                else:
                    cur.executemany(self._insert, params)
        except psycopg.errors.UntranslatableCharacter as exc:
            raise EventEncodingError(f"PostgreSQL cannot store this payload: {exc}") from None
        except psycopg.DataError as exc:  # e.g. a NUL character in a metadata string
            raise InvalidAppend(f"PostgreSQL cannot store this event: {exc}") from None
        # Only now: a failed insert is rolled back to its savepoint and must not use up positions.
        self._head = first + len(rows) - 1
        return first

    def before_commit(self, conn: psycopg.Connection[Any], last_position: int) -> None:
        if last_position > 0:
            conn.execute(
                "WITH moved AS (UPDATE head SET position = %s WHERE id = 1) "
                "SELECT pg_notify(%s, %s)",
                (last_position, self.channel, str(last_position)),
            )

    def after_rollback(self) -> None:
        self._head = None

    def is_unique_violation(self, exc: BaseException, column: str) -> bool:
        if not isinstance(exc, psycopg.errors.UniqueViolation):
            return False
        constraint = exc.diag.constraint_name or ""
        return column in constraint or column in str(exc)

    def sql(self, text: str) -> str:
        # The shared SQL has no literal '%' or '?' besides placeholders.
        return text.replace("?", "%s")

    # ---- notifications and lifecycle -----------------------------------------------

    def start_listener(self, wakeup: Wakeup) -> None:
        if self._listener is None:
            self._listener = _Listener(lambda: self._connect("listener"), self.channel, wakeup)
            # Wake-ups are live once the store is open (polling covers it if this times out).
            self._listener.listening.wait(_CONNECT_TIMEOUT)

    def close(self) -> None:
        self._closed = True
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def _text(payload: bytes | str) -> str:
    # msgspec hands over bytes, which psycopg would send as bytea; jsonb wants text.
    return payload.decode() if isinstance(payload, bytes) else payload


class _Listener:
    """A daemon thread that LISTENs on the store's channel and wakes subscribers.

    It reconnects after a lost connection, and wakes everyone once it is back,
    since notifications sent while it was away are gone.
    """

    def __init__(self, connect: Any, channel: str, wakeup: Wakeup) -> None:
        self._connect = connect
        self._channel = channel
        self._wakeup = wakeup
        self._stopping = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"postgres-listen-{channel}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=_LISTEN_TICK + _CONNECT_TIMEOUT)

    def _run(self) -> None:
        delay = 0.1
        reconnected = False
        while not self._stopping.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    delay = 0.1
                    self.listening.set()
                    if reconnected:
                        self._wakeup.notify()
                    self._listen(conn)
            except Exception as exc:  # never let the thread die: subscribers would only poll
                if self._stopping.is_set():
                    return
                log.warning("event notifications lost (%s); reconnecting in %.1fs", exc, delay)
                reconnected = True
                self.listening.clear()
                self._stopping.wait(delay)
                delay = min(delay * 2, _MAX_RECONNECT_DELAY)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stopping.is_set():
            for _ in conn.notifies(timeout=_LISTEN_TICK):
                self._wakeup.notify()


def open_postgres_store(
    url: str,
    registry: EventRegistry,
    *,
    schema: str = "ironstar",
    poll_interval: float = 1.0,
) -> SqlEventStore:
    """Open (creating and migrating as needed) the event store in ``schema`` at ``url``."""
    return SqlEventStore(PostgresDialect(url, schema=schema), registry, poll_interval=poll_interval)
