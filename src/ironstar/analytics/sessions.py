"""Sandboxed DuckDB engines with the catalogs attached READ_ONLY.

Each session is its own DuckDB database instance, so the memory and thread limits set on it
bound the one query it runs at a time. Attaching is done with a timeout in a helper thread:
a remote catalog with no network must fail within the timeout, not hang a worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import duckdb

from ironstar.analytics.availability import CatalogHealth
from ironstar.analytics.catalogs import CatalogConfig
from ironstar.analytics.extensions import load_extensions, offline_connection
from ironstar.analytics.sandbox import SandboxLimits, lock_down


@dataclass
class SandboxSession:
    conn: duckdb.DuckDBPyConnection
    attached: frozenset[str]
    failures: dict[str, str] = field(default_factory=dict)  # catalog -> reason
    pins: Mapping[str, int] = field(default_factory=dict)
    created_at: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        try:
            self.conn.close()
        except duckdb.Error:
            pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.split("\n", 1)[0] if text else type(exc).__name__


def attach_with_timeout(conn: duckdb.DuckDBPyConnection, sql: str, timeout: float) -> str | None:
    """Run one ATTACH; return None on success or the reason it failed or timed out."""
    cursor = conn.cursor()
    outcome: list[str | None] = []

    def attach() -> None:
        try:
            cursor.execute(sql)
            outcome.append(None)
        except Exception as exc:  # any failure means "unavailable", with its reason
            outcome.append(_first_line(exc))

    worker = threading.Thread(target=attach, name="duckdb-attach", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        cursor.interrupt()
        return f"attaching timed out after {timeout:g} s"
    return outcome[0]


def open_session(
    catalogs: Iterable[CatalogConfig],
    limits: SandboxLimits,
    health: CatalogHealth | None = None,
    attach_timeout: float = 10.0,
    pins: Mapping[str, int] | None = None,
) -> SandboxSession:
    """A locked engine with every catalog the breakers allow attached (pinned if asked)."""
    pins = dict(pins or {})
    conn = offline_connection()
    attached: list[CatalogConfig] = []
    failures: dict[str, str] = {}
    try:
        wanted = list(catalogs)
        load_extensions(conn, [ext for config in wanted for ext in config.required_extensions])
        if any("httpfs" in config.required_extensions for config in wanted):
            conn.execute(f"SET http_timeout = {max(1, int(attach_timeout))}")
            conn.execute("SET http_retries = 0")
        for config in wanted:
            breaker = health.breaker(config.name) if health else None
            if breaker is not None and not breaker.allow():
                failures[config.name] = breaker.snapshot().last_reason or "unavailable"
                continue
            reason = attach_with_timeout(
                conn, config.attach_sql(snapshot_version=pins.get(config.name)), attach_timeout
            )
            if reason is None:
                attached.append(config)
                if breaker is not None:
                    breaker.record_success()
            else:
                failures[config.name] = reason
                if breaker is not None:
                    breaker.record_failure(reason)
        roots = tuple(root for config in attached for root in config.readable_roots)
        lock_down(conn, limits, roots)
    except BaseException:
        conn.close()
        raise
    return SandboxSession(conn, frozenset(c.name for c in attached), failures, pins)
