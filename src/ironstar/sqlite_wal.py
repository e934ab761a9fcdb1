"""Copying a SQLite WAL back into its database off the commit path.

SQLite's automatic checkpoint runs inside the commit that crosses the threshold: that
commit (and every caller waiting on it) stalls while the WAL is copied and both files
are synced. Writers here turn it off and leave the work to this thread.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Copies the WAL back into the database off the commit path, about once a second.

    PASSIVE never blocks writers or readers. If readers keep it from ever finishing and
    the WAL passes ``limit`` bytes, a TRUNCATE checkpoint (which waits for them and
    briefly holds writers) bounds the file."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        interval: float = 1.0,
        limit: int = 64 * 1024 * 1024,
    ) -> None:
        self._connect = connect
        self._interval = interval
        self._limit = limit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dirty = False
        self.checkpoints = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self._interval):
                if not self.dirty:
                    continue
                self.dirty = False
                try:
                    conn = conn or self._connect()
                    busy, wal_pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
                    if busy and wal_pages * page_size > self._limit:
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # retried on the next tick; nothing is lost
                    log.warning("WAL checkpoint failed: %s", exc)
                    self.dirty = True
        finally:
            if conn is not None:
                conn.close()
