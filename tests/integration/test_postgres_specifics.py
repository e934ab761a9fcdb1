"""What only the PostgreSQL adapter does: schemas, migrations under races, LISTEN, reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator

import msgspec
import psycopg
import pytest

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.errors import EventEncodingError, InvalidAppend, StoreUnavailable
from ironstar.eventstore.model import ANY, NO_STREAM, EventMetadata, NewEvent
from ironstar.eventstore.postgres import application_name, open_postgres_store
from ironstar.eventstore.sqlstore import SqlEventStore

pytestmark = pytest.mark.postgres

PgSchema = tuple[str, str]


class Pinged(msgspec.Struct, frozen=True):
    n: int


class Said(msgspec.Struct, frozen=True):
    text: str


def _registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("Pinged", Pinged)
    registry.register("Said", Said)
    return registry


def _open(pg: PgSchema, poll_interval: float = 1.0) -> SqlEventStore:
    url, schema = pg
    return open_postgres_store(url, _registry(), schema=schema, poll_interval=poll_interval)


@contextlib.asynccontextmanager
async def _stores(*stores: SqlEventStore) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for store in stores:
            await store.close()


def _backend_pids(url: str, role: str, schema: str) -> dict[int, str]:
    """pid -> last query of the connections the adapter opened for ``role``."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE application_name = %s",
            (application_name(role, schema),),
        ).fetchall()
    return {pid: query for pid, query in rows}


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        # The timeout makes the call wait until the backend is really gone.
        assert conn.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)


async def _wake_latencies(subscriber: SqlEventStore, writer: SqlEventStore) -> list[float]:
    """Seconds from starting an append on ``writer`` to ``subscriber`` delivering it.

    Each append comes 0.3 s into the subscriber's 1 s poll wait, so polling alone
    would take about 0.7 s: only a notification makes it faster.
    """
    arrivals: asyncio.Queue[float] = asyncio.Queue()

    async def tail() -> None:
        async for _ in subscriber.subscribe(await subscriber.head_position()):
            arrivals.put_nowait(time.monotonic())

    task = asyncio.create_task(tail())
    latencies = []
    try:
        for n in range(3):
            await asyncio.sleep(0.3)
            started = time.monotonic()
            await writer.append("ping:x", [NewEvent(Pinged(n))], ANY)
            latencies.append(await asyncio.wait_for(arrivals.get(), 5) - started)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return latencies


def test_migration_is_applied_once_and_reopening_is_a_no_op(pg_schema: PgSchema) -> None:
    url, schema = pg_schema

    async def scenario() -> None:
        first = _open(pg_schema)
        async with _stores(first):
            assert first.applied_migrations == ["0001_events"]
            await first.append("ping:a", [NewEvent(Pinged(1))], NO_STREAM)
        again = _open(pg_schema)
        async with _stores(again):
            assert again.applied_migrations == []
            assert [e.data for e in await again.read_stream("ping:a")] == [Pinged(1)]

    asyncio.run(scenario())
    with psycopg.connect(url) as conn:
        rows = conn.execute(f'SELECT version, name FROM "{schema}".schema_migrations').fetchall()
    assert rows == [(1, "events")]


def test_concurrent_first_starts_on_a_fresh_schema_migrate_exactly_once(
    pg_schema: PgSchema,
) -> None:
    starters = 4
    barrier = threading.Barrier(starters)
    opened: list[SqlEventStore] = []
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            opened.append(_open(pg_schema))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def scenario() -> None:
        async with _stores(*opened):
            assert failures == []
            applied = sorted(store.applied_migrations for store in opened)
            assert applied == [[]] * (starters - 1) + [["0001_events"]]
            for n, store in enumerate(opened):
                await store.append("ping:shared", [NewEvent(Pinged(n))], n)
            assert await opened[0].stream_version("ping:shared") == starters

    asyncio.run(scenario())


def test_schemas_isolate_stores(pg_schema: PgSchema) -> None:
    url, schema = pg_schema
    other_schema = f"{schema}_other"

    async def scenario() -> None:
        one, other = _open(pg_schema), _open((url, other_schema))
        async with _stores(one, other):
            await one.append("ping:a", [NewEvent(Pinged(1))], NO_STREAM)
            await other.append("ping:a", [NewEvent(Pinged(2)), NewEvent(Pinged(3))], NO_STREAM)
            assert [e.data.n for e in await one.read_all()] == [1]
            assert [e.data.n for e in await other.read_all()] == [2, 3]
            assert (await one.head_position(), await other.head_position()) == (1, 2)

    try:
        asyncio.run(scenario())
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE')


def test_schema_names_are_whitelisted() -> None:
    for bad in ("Upper", "has space", 'quote"d', "1digit", "x" * 64, ""):
        with pytest.raises(ValueError):
            open_postgres_store("postgresql://unused", _registry(), schema=bad)


def test_notify_wakes_a_subscriber_of_another_store_well_before_the_poll(
    pg_schema: PgSchema,
) -> None:
    async def scenario() -> list[float]:
        subscriber, writer = _open(pg_schema), _open(pg_schema)
        async with _stores(subscriber, writer):
            return await _wake_latencies(subscriber, writer)

    latencies = asyncio.run(scenario())
    assert max(latencies) < 0.5, latencies


def test_a_killed_writer_connection_fails_one_append_then_reconnects(
    pg_schema: PgSchema,
) -> None:
    url, schema = pg_schema

    async def scenario() -> None:
        store = _open(pg_schema)
        async with _stores(store):
            await store.append("ping:a", [NewEvent(Pinged(1))], NO_STREAM)
            (writer_pid,) = _backend_pids(url, "writer", schema)
            _terminate(url, writer_pid)
            with pytest.raises(StoreUnavailable):
                await store.append("ping:a", [NewEvent(Pinged(2))], 1)
            await store.append("ping:a", [NewEvent(Pinged(3))], 1)
            assert [e.data.n for e in await store.read_stream("ping:a")] == [1, 3]
            assert list(_backend_pids(url, "writer", schema)) != [writer_pid]

    asyncio.run(scenario())


def test_reads_fail_typed_when_their_connection_dies_and_then_recover(
    pg_schema: PgSchema,
) -> None:
    url, schema = pg_schema

    async def scenario() -> None:
        store = _open(pg_schema)
        async with _stores(store):
            await store.append("ping:a", [NewEvent(Pinged(1))], NO_STREAM)
            assert len(await store.read_stream("ping:a")) == 1  # opens the reader pool
            readers = _backend_pids(url, "reader", schema)
            assert readers
            for pid in readers:
                _terminate(url, pid)
            failures = 0
            while True:  # each dead pooled connection fails one read, then is replaced
                try:
                    events = await store.read_stream("ping:a")
                    break
                except StoreUnavailable:
                    failures += 1
                    assert failures <= len(readers)
            assert failures >= 1
            assert [e.data for e in events] == [Pinged(1)]

    asyncio.run(scenario())


def test_what_postgresql_cannot_store_is_a_typed_error_and_spares_its_neighbours(
    pg_schema: PgSchema,
) -> None:
    # jsonb has no \u0000 and text columns no NUL, unlike SQLite.
    async def scenario() -> None:
        store = _open(pg_schema)
        async with _stores(store):
            fine, nul_payload, nul_metadata = await asyncio.gather(
                store.append("said:ok", [NewEvent(Said("fine"))], NO_STREAM),
                store.append("said:a", [NewEvent(Said("a\x00b"))], NO_STREAM),
                store.append(
                    "said:b", [NewEvent(Said("b"))], NO_STREAM, EventMetadata(user_id="u\x00")
                ),
                return_exceptions=True,
            )
            assert isinstance(nul_payload, EventEncodingError)
            assert isinstance(nul_metadata, InvalidAppend)
            assert not isinstance(fine, BaseException)
            assert [e.stream_id for e in await store.read_all()] == ["said:ok"]
            with pytest.raises(EventEncodingError):  # alone, without a batch around it
                await store.append("said:a", [NewEvent(Said("\x00"))], NO_STREAM)
            await store.append("said:a", [NewEvent(Said("a"))], NO_STREAM)
            assert await store.head_position() == 2

    asyncio.run(scenario())


def test_the_listener_reconnects_after_its_connection_is_terminated(
    pg_schema: PgSchema,
) -> None:
    url, schema = pg_schema

    def relistening(old_pid: int) -> bool:
        return any(
            pid != old_pid and query.startswith("LISTEN")
            for pid, query in _backend_pids(url, "listener", schema).items()
        )

    async def scenario() -> list[float]:
        subscriber = _open(pg_schema)
        async with _stores(subscriber):
            (listener_pid,) = _backend_pids(url, "listener", schema)
            _terminate(url, listener_pid)
            deadline = time.monotonic() + 10
            while not relistening(listener_pid):
                assert time.monotonic() < deadline, "the listener did not come back"
                await asyncio.sleep(0.05)
            writer = _open(pg_schema)
            async with _stores(writer):
                return await _wake_latencies(subscriber, writer)

    latencies = asyncio.run(scenario())
    assert max(latencies) < 0.5, latencies


def test_unreachable_server_fails_fast_with_an_operational_error() -> None:
    # Port 1 on localhost refuses at once: opening must fail, not hang or leak threads.
    before = threading.active_count()
    with pytest.raises(psycopg.OperationalError):
        open_postgres_store(f"postgresql://postgres@127.0.0.1:1/{uuid.uuid4().hex}", _registry())
    assert threading.active_count() == before
