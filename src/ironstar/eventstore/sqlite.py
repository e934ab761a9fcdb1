"""SQLite adapter: the embedded default. One file, WAL, one writer, durable by default."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.migrations import migrations_for
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.eventstore.wakeup import Wakeup
from ironstar.sqlite_wal import WalCheckpointer

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


def _split_statements(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in current.splitlines()
    ):
        raise ValueError("migration ends with an incomplete statement")
    return statements


class SqliteDialect:
    name = "sqlite"
    exact_payloads = True
    event_id_expr = "event_id"
    event_id_param = "?"
    payload_expr = "payload"
    operational_errors: tuple[type[BaseException], ...] = (sqlite3.OperationalError,)
    _insert = (
        "INSERT INTO events (position, event_id, stream_id, stream_type, stream_version, "
        "event_type, event_version, payload, user_id, causation_id, correlation_id, "
        "transaction_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    _insert_first = _insert.replace("(?,", "(NULL,", 1) + " RETURNING position"

    def __init__(
        self, path: Path, *, synchronous: Synchronous = "FULL", busy_timeout: float = 30.0
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unknown synchronous mode {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._checkpointer = WalCheckpointer(self._connect)

    def sql(self, text: str) -> str:
        return text

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    def connect_writer(self) -> sqlite3.Connection:
        conn = self._connect()
        # The writer never checkpoints: copying the WAL back (and its fsync) inside a
        # commit stalled every append waiting on that commit. A background thread does it.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        yield conn

    def migrate(self) -> list[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        applied = []
        try:
            conn.execute("BEGIN IMMEDIATE")  # serialises concurrent first starts
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in migrations_for("sqlite"):
                if migration.version in done:
                    continue
                for statement in _split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
                applied.append(f"{migration.version:04d}_{migration.name}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        return applied

    def begin_write(self, conn: sqlite3.Connection) -> None:
        # IMMEDIATE takes the database's write lock now, so writers in other
        # processes queue here and positions follow commit order.
        conn.execute("BEGIN IMMEDIATE")

    def insert_events(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
        first: int = conn.execute(self._insert_first, rows[0]).fetchone()[0]
        if len(rows) > 1:
            conn.executemany(self._insert, [(first + i, *row) for i, row in enumerate(rows[1:], 1)])
        return first

    def before_commit(self, conn: Any, last_position: int) -> None:
        self._checkpointer.dirty = True

    def after_rollback(self) -> None:
        pass

    def is_unique_violation(self, exc: BaseException, column: str) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and column in str(exc)

    def start_listener(self, wakeup: Wakeup) -> None:
        # Other processes' commits are found by the subscribers' periodic re-read.
        self._checkpointer.start()

    def close(self) -> None:
        self._checkpointer.stop()
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()


def open_sqlite_store(
    path: Path | str,
    registry: EventRegistry,
    *,
    synchronous: Synchronous = "FULL",
    poll_interval: float = 0.25,
) -> SqlEventStore:
    """Open (creating and migrating as needed) the SQLite event store at ``path``."""
    return SqlEventStore(
        SqliteDialect(Path(path), synchronous=synchronous), registry, poll_interval=poll_interval
    )
