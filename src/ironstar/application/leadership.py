"""Leadership for singleton background work (expiry sweeper, metadata refresh).

With several processes on one PostgreSQL, a session-level advisory lock elects the
one that runs a given job; on SQLite (one machine) a lock file does the same. A job
must stay safe even without the lock - the lock only avoids wasted duplicate work.

A lock can also be shared: every running server shares the read models' lock, and a
rebuild from the command line takes it alone, so it never drops tables a server writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol

READ_MODELS = "read-models"  # every server shares it; a rebuild holds it alone


class ReadModelsInUse(RuntimeError):
    """A server and a rebuild of the same read models never run at once."""

    code = "read_models_in_use"


class Leadership(Protocol):
    def try_acquire(self, job: str) -> bool:
        """Hold ``job`` alone; False if anyone holds it (alone or shared)."""
        ...

    def try_share(self, job: str) -> bool:
        """Hold ``job`` beside other sharers; False if someone holds it alone."""
        ...

    def release(self, job: str) -> None: ...
    def close(self) -> None:
        """Release everything held."""
        ...


class FileLeadership:
    """An exclusive, non-blocking flock per job in the data directory."""

    def __init__(self, directory: Path) -> None:
        self._dir = Path(directory)
        self._held: dict[str, int] = {}

    def try_acquire(self, job: str) -> bool:
        return self._lock(job, fcntl.LOCK_EX)

    def try_share(self, job: str) -> bool:
        return self._lock(job, fcntl.LOCK_SH)

    def _lock(self, job: str, mode: int) -> bool:
        if job in self._held:
            return True
        self._dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._dir / f"{job}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
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

    def close(self) -> None:
        for job in list(self._held):
            self.release(job)


class PostgresLeadership:
    """pg_try_advisory_lock on a dedicated connection: released if this process dies.

    Advisory locks are per database: ``scope`` (the deployment's schema) keeps two
    deployments sharing one database from electing one leader between them."""

    def __init__(self, url: str, *, scope: str = "ironstar") -> None:
        import psycopg

        self._conn: Any = psycopg.connect(url, autocommit=True)
        self._scope = scope
        self._held: dict[str, bool] = {}  # job -> held shared

    def _key(self, job: str) -> int:
        name = f"ironstar:{self._scope}:{job}"
        return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)

    def try_acquire(self, job: str) -> bool:
        return self._lock(job, shared=False)

    def try_share(self, job: str) -> bool:
        return self._lock(job, shared=True)

    def _lock(self, job: str, *, shared: bool) -> bool:
        if job in self._held:
            return True
        function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        row = self._conn.execute(f"SELECT {function}(%s)", (self._key(job),)).fetchone()
        if row and row[0]:
            self._held[job] = shared
            return True
        return False

    def release(self, job: str) -> None:
        if job in self._held:
            function = "pg_advisory_unlock_shared" if self._held.pop(job) else "pg_advisory_unlock"
            self._conn.execute(f"SELECT {function}(%s)", (self._key(job),))

    def close(self) -> None:
        # Ending the session would drop its locks too, but only once the server notices
        # the closed socket: give them back first, so whoever waits can take them at once.
        if self._held:
            with contextlib.suppress(Exception):  # a broken connection holds nothing
                self._conn.execute("SELECT pg_advisory_unlock_all()")
        self._held.clear()
        self._conn.close()
