"""SQLite projection database: one file beside the event store, WAL, one writer."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ironstar.sqlite_wal import WalCheckpointer

T = TypeVar("T")


class _SqliteTx:
    __slots__ = ("_conn",)
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._conn.execute(sql, params).fetchone()
        return row

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, params).fetchall())


class SqliteProjectionDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        # Read models can always be rebuilt from events, so NORMAL durability is enough.
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._synchronous = synchronous
        self._writer = self._connect()
        # Live commits never checkpoint inline (a commit crossing the threshold stalled
        # every command waiting for read-your-writes); a background thread does it.
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = WalCheckpointer(self._connect)
        self._checkpointer.start()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        # Some builds (Debian's among them) zero every freed page by default, so dropping
        # a table for a rebuild rewrote all of it. Read models hold nothing the event
        # store does not keep forever: zero only where it costs no extra I/O.
        conn.execute("PRAGMA secure_delete=FAST")
        return conn

    def transaction(self, work: Callable[[Any], T]) -> T:
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(_SqliteTx(conn))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._checkpointer.dirty = True
        return result

    def bulk(self, enabled: bool) -> None:
        # Checkpoints copy the WAL into the database and sync both files: at the default
        # 1,000 pages (4 MB) a rebuild writing hundreds of MB mostly waited on those syncs.
        # Checkpointing every 64 MB instead keeps every commit as durable as it was
        # (synchronous=OFF would be fine for a process crash, but a power loss during a
        # checkpoint could leave a corrupt file that nothing notices and rebuilds). Back to
        # normal afterwards: the background checkpointer brings the WAL down again.
        pages = 16_384 if enabled else 0
        self._writer.execute(f"PRAGMA wal_autocheckpoint={pages}")
        self._writer.execute(f"PRAGMA cache_size={-65_536 if enabled else -2_000}")

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._reader().execute(sql, params).fetchall())

    def read_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._reader().execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def table_names(self) -> set[str]:
        rows = self.read("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}

    def close(self) -> None:
        self._checkpointer.stop()
        with self._lock:
            readers, self._readers = self._readers, []
        for conn in [*readers, self._writer]:
            conn.close()
