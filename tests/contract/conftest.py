"""Every event-store adapter runs the same contract: one fixture per adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.sqlstore import SqlEventStore
from tests.conftest import postgres_url
from tests.contract.events import contract_registry

StoreFactory = Callable[..., SqlEventStore]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Opens stores on one fresh database; several may be open at once (separate writers)."""
    opened: list[SqlEventStore] = []
    if request.param == "sqlite":
        from ironstar.eventstore.sqlite import open_sqlite_store

        def factory(registry: EventRegistry | None = None) -> SqlEventStore:
            store = open_sqlite_store(
                tmp_path / "events.db", registry or contract_registry(), poll_interval=0.05
            )
            opened.append(store)
            return store
    else:
        import uuid

        import psycopg

        from ironstar.eventstore.postgres import open_postgres_store

        url = postgres_url()
        schema = f"ironstar_contract_{uuid.uuid4().hex[:12]}"

        def factory(registry: EventRegistry | None = None) -> SqlEventStore:
            store = open_postgres_store(url, registry or contract_registry(), schema=schema)
            opened.append(store)
            return store

    yield factory
    for store in opened:
        await store.close()
    if request.param == "postgres":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
async def store(open_store: StoreFactory) -> SqlEventStore:
    return open_store()
