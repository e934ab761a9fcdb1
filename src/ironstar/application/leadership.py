"""Leadership for singleton background work (expiry sweeper, metadata refresh).

With several processes on one PostgreSQL, a session-level advisory lock elects the
one that runs a given job; on SQLite (one machine) a lock file does the same. A job
must stay safe even without the lock - the lock only avoids wasted duplicate work.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol


class Leadership(Protocol):
    def try_acquire(self, job: str) -> bool: ...
    def release(self, job: str) -> None: ...


class FileLeadership:
    """An exclusive, non-blocking flock per job in the data directory."""

    def __init__(self, directory: Path) -> None:
        self._dir = Path(directory)
        self._held: dict[str, int] = {}

    def try_acquire(self, job: str) -> bool:
        if job in self._held:
            return True
        self._dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._dir / f"{job}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._held[job] = fd
        return True

    def release(self, job: str) -> None:
        fd = self._held.pop(job, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class PostgresLeadership:
    """pg_try_advisory_lock on a dedicated connection: released if this process dies."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._conn: Any = psycopg.connect(url, autocommit=True)
        self._held: set[str] = set()

    @staticmethod
    def _key(job: str) -> int:
        return int.from_bytes(
            hashlib.sha256(f"ironstar:{job}".encode()).digest()[:8], "big", signed=True
        )

    def try_acquire(self, job: str) -> bool:
        if job in self._held:
            return True
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key(job),)).fetchone()
        if row and row[0]:
            self._held.add(job)
            return True
        return False

    def release(self, job: str) -> None:
        if job in self._held:
            self._held.discard(job)
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key(job),))

    def close(self) -> None:
        self._conn.close()
