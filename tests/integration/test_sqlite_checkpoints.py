"""SQLite event store: the WAL is copied back by a background thread, not inside commits."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from ironstar.eventstore.model import ANY, NewEvent
from ironstar.eventstore.sqlite import SqliteDialect, open_sqlite_store
from tests.contract.events import Noted, contract_registry

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_commits_leave_the_wal_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = open_sqlite_store(path, contract_registry())
    dialect = store._dialect
    assert isinstance(dialect, SqliteDialect)
    writer = store._connection()
    assert writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    for n in range(300):
        await store.append(f"note:{n % 9}", [NewEvent(Noted("x" * 500, n))], ANY)
    deadline = time.monotonic() + 10
    while dialect._checkpointer.checkpoints == 0:
        assert time.monotonic() < deadline, "no checkpoint within 10 s"
        await asyncio.sleep(0.05)
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 300
