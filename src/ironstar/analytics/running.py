"""A query in flight: its cursor and the cancel/timeout machinery that interrupts it.

DuckDB's interrupt only affects a statement already running on that cursor, so a stop that
lands between statements could be lost; the stopper keeps interrupting until the query ends.
"""

from __future__ import annotations

import threading

import duckdb

_RETRY_SECONDS = 0.05


class RunningQuery:
    def __init__(self, query_id: str) -> None:
        self.query_id = query_id
        self.stop_reason: str | None = None  # "cancel" | "timeout"
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    @property
    def executing(self) -> bool:
        """Running in DuckDB now (not waiting for a slot)."""
        return self._cursor is not None

    @property
    def cancel_requested(self) -> bool:
        return self.stop_reason is not None

    def should_stop(self) -> bool:
        return self.stop_reason is not None

    def arm_timeout(self, seconds: float) -> None:
        self._timer = threading.Timer(seconds, self.request_stop, args=("timeout",))
        self._timer.daemon = True
        self._timer.start()

    def attach(self, cursor: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            self._cursor = cursor

    def detach(self) -> None:
        with self._lock:
            self._cursor = None

    def request_stop(self, reason: str) -> None:
        with self._lock:
            if self.stop_reason is not None or self._done.is_set():
                return
            self.stop_reason = reason
        threading.Thread(target=self._keep_interrupting, daemon=True).start()

    def _keep_interrupting(self) -> None:
        while not self._done.is_set():
            with self._lock:  # held so the worker cannot close the cursor mid-interrupt
                if self._cursor is not None:
                    try:
                        self._cursor.interrupt()
                    except duckdb.Error:
                        pass
            self._done.wait(_RETRY_SECONDS)

    def finish(self) -> None:
        with self._lock:
            self._done.set()
        if self._timer is not None:
            self._timer.cancel()
