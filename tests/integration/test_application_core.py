"""Command handling and the projection runner, on a tiny counter aggregate."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ironstar.application.aggregates import AggregateSpec
from ironstar.application.handler import CommandHandler
from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.model import RecordedEvent
from ironstar.eventstore.sqlite import open_sqlite_store
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.projections.runner import ProjectionRunner, UnknownProjection
from ironstar.projections.sqlite_db import SqliteProjectionDatabase
from ironstar.projections.store import ProjectionStore, Tx

pytestmark = pytest.mark.anyio


class Increment(msgspec.Struct, frozen=True):
    by: int


class Incremented(msgspec.Struct, frozen=True):
    by: int
    total: int


class Counter(msgspec.Struct, frozen=True):
    total: int = 0


class TooBig(Exception):
    code = "too_big"


def decide(command: Increment, state: Counter) -> list[Incremented]:
    if command.by == 0:
        return []
    if state.total + command.by > 1_000_000:
        raise TooBig("counter would pass a million")
    return [Incremented(command.by, state.total + command.by)]


def evolve(state: Counter, event: Incremented) -> Counter:
    return Counter(event.total)


SPEC = AggregateSpec("counter", Counter, decide, evolve, Counter, snapshot_every=10)


def registry() -> EventRegistry:
    reg = EventRegistry()
    reg.register("Incremented", Incremented)
    return reg


class Totals:
    name = "totals"
    version = 1
    tables = ("totals",)
    event_types = frozenset({"Incremented"})

    def create(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS totals (stream_id TEXT PRIMARY KEY, total INTEGER)")

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        if event.data.by == 13:
            raise ValueError("unlucky")
        tx.execute(
            "INSERT INTO totals VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE "
            "SET total = excluded.total",
            (event.stream_id, event.data.total),
        )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def events(tmp_path: Path) -> AsyncIterator[SqlEventStore]:
    store = open_sqlite_store(tmp_path / "events.db", registry(), poll_interval=0.05)
    yield store
    await store.close()


@pytest.fixture
async def projections(tmp_path: Path) -> AsyncIterator[ProjectionStore]:
    db = ProjectionStore(SqliteProjectionDatabase(tmp_path / "read.db"))
    yield db
    await db.close()


async def test_a_command_appends_its_events_with_metadata(events: SqlEventStore) -> None:
    handler = CommandHandler(events)
    result = await handler.handle(SPEC, "counter:a", Increment(2), command_id="c1", user_id="u")
    assert (result.version, result.events) == (1, [Incremented(2, 2)])
    [stored] = await events.read_stream("counter:a")
    assert stored.metadata.user_id == "u" and stored.metadata.causation_id == "c1"
    assert stored.metadata.correlation_id == "c1"
    assert result.position == stored.position


async def test_the_same_command_id_never_writes_twice(events: SqlEventStore) -> None:
    handler = CommandHandler(events)
    first = await handler.handle(SPEC, "counter:a", Increment(2), command_id="c1", user_id="u")
    await handler.handle(SPEC, "counter:a", Increment(5), command_id="c2", user_id="u")
    for fresh in (handler, CommandHandler(events)):  # warm cache and cold start alike
        again = await fresh.handle(SPEC, "counter:a", Increment(2), command_id="c1", user_id="u")
        assert again.replayed and again.position == first.position
    assert [e.data.total for e in await events.read_stream("counter:a")] == [2, 7]


async def test_concurrent_handlers_re_decide_on_conflict(events: SqlEventStore) -> None:
    handlers = [CommandHandler(events) for _ in range(4)]
    await asyncio.gather(
        *[
            h.handle(SPEC, "counter:x", Increment(1), command_id=f"{i}-{j}", user_id="u")
            for i, h in enumerate(handlers)
            for j in range(10)
        ]
    )
    totals = [e.data.total for e in await events.read_stream("counter:x")]
    assert totals == list(range(1, 41))


async def test_one_handler_runs_commands_on_one_stream_one_at_a_time(
    events: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued on the stream's lock, never racing: each command appends exactly once
    (a race shows as a version conflict and a second append)."""
    handler = CommandHandler(events)
    appends = 0
    append = events.append

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal appends
        appends += 1
        return await append(*args, **kwargs)

    monkeypatch.setattr(events, "append", counted)

    async def client(k: int) -> None:
        for j in range(10):
            await handler.handle(
                SPEC, "counter:x", Increment(1), command_id=f"{k}-{j}", user_id="u"
            )

    await asyncio.gather(*(client(k) for k in range(4)))
    assert [e.data.total for e in await events.read_stream("counter:x")] == list(range(1, 41))
    assert appends == 40


async def test_a_command_that_changes_nothing_writes_nothing(events: SqlEventStore) -> None:
    result = await CommandHandler(events).handle(
        SPEC, "counter:a", Increment(0), command_id="z", user_id="u"
    )
    assert result.events == [] and await events.head_position() == 0


async def test_refusals_are_raised_and_write_nothing(events: SqlEventStore) -> None:
    with pytest.raises(TooBig):
        await CommandHandler(events).handle(
            SPEC, "counter:a", Increment(2_000_000), command_id="big", user_id="u"
        )
    assert await events.head_position() == 0


async def test_snapshots_are_taken_and_used(events: SqlEventStore) -> None:
    handler = CommandHandler(events)
    for i in range(25):
        await handler.handle(SPEC, "counter:s", Increment(1), command_id=f"s{i}", user_id="u")
    snapshot = await events.load_snapshot("counter:s", SPEC.snapshot_schema)
    assert snapshot is not None and snapshot.stream_version == 20
    state, version = await CommandHandler(events).load_state(SPEC, "counter:s")
    assert (state, version) == (Counter(25), 25)


@pytest.fixture
async def following(
    events: SqlEventStore, projections: ProjectionStore
) -> AsyncIterator[ProjectionRunner]:
    """A runner following the store live (started; stopped afterwards)."""
    runner = ProjectionRunner(events, projections, [Totals()])
    await runner.start()
    yield runner
    await runner.stop()


async def test_runner_catches_up_follows_live_and_gives_read_your_writes(
    events: SqlEventStore, projections: ProjectionStore
) -> None:
    handler = CommandHandler(events)
    await handler.handle(SPEC, "counter:a", Increment(1), command_id="a1", user_id="u")
    runner = ProjectionRunner(events, projections, [Totals()])
    await runner.start()
    try:
        result = await handler.handle(SPEC, "counter:a", Increment(4), command_id="a2", user_id="u")
        assert await runner.wait_for(result.position, timeout=5)
        assert await projections.query("SELECT total FROM totals") == [(5,)]
        assert runner.checkpoints() == {"totals": result.position}
    finally:
        await runner.stop()


async def test_read_your_writes_wakes_each_waiter_once_its_position_is_applied(
    events: SqlEventStore, projections: ProjectionStore, following: ProjectionRunner
) -> None:
    handler, runner = CommandHandler(events), following
    first = await handler.handle(SPEC, "counter:w", Increment(1), command_id="w1", user_id="u")
    assert await runner.wait_for(first.position, timeout=5)
    # Nobody writes this position yet: the wait times out and says so ...
    assert not await runner.wait_for(first.position + 1, timeout=0.05)
    # ... and waiters for the next two positions (and one already passed) are each
    # woken by the write that reaches theirs, the timed-out waiter notwithstanding.
    later = [asyncio.ensure_future(runner.wait_for(first.position + n, timeout=5)) for n in (2, 1)]
    assert await runner.wait_for(first.position, timeout=0.01)
    await handler.handle(SPEC, "counter:w", Increment(1), command_id="w2", user_id="u")
    assert await later[1]
    assert not later[0].done()
    await handler.handle(SPEC, "counter:w", Increment(1), command_id="w3", user_id="u")
    assert await later[0]
    assert await projections.query("SELECT total FROM totals") == [(3,)]


async def test_rebuild_from_zero_equals_the_live_projection(
    events: SqlEventStore, projections: ProjectionStore
) -> None:
    handler = CommandHandler(events)
    runner = ProjectionRunner(events, projections, [Totals()], batch_size=7)
    await runner.start()
    last = None
    for i in range(60):
        last = await handler.handle(
            SPEC, f"counter:{i % 6}", Increment(i % 5 + 1), command_id=f"r{i}", user_id="u"
        )
    assert last is not None and await runner.wait_for(last.position)
    live = await projections.query("SELECT * FROM totals ORDER BY stream_id")
    assert await runner.rebuild(["totals"]) == last.position
    assert await projections.query("SELECT * FROM totals ORDER BY stream_id") == live
    with pytest.raises(UnknownProjection):
        await runner.rebuild(["nope"])


async def test_a_restarted_runner_resumes_from_its_checkpoint(
    events: SqlEventStore, projections: ProjectionStore
) -> None:
    handler = CommandHandler(events)
    await handler.handle(SPEC, "counter:a", Increment(1), command_id="a1", user_id="u")
    first = ProjectionRunner(events, projections, [Totals()])
    await first.prepare()
    await first.catch_up()
    await handler.handle(SPEC, "counter:a", Increment(2), command_id="a2", user_id="u")
    second = ProjectionRunner(events, projections, [Totals()])
    await second.prepare()
    assert second.position == 1
    assert await second.catch_up() == 2
    assert await projections.query("SELECT total FROM totals") == [(3,)]


async def test_a_failing_event_is_recorded_and_skipped_not_fatal(
    events: SqlEventStore, projections: ProjectionStore
) -> None:
    handler = CommandHandler(events)
    for i, by in enumerate([1, 13, 2]):
        await handler.handle(SPEC, "counter:a", Increment(by), command_id=f"f{i}", user_id="u")
    runner = ProjectionRunner(events, projections, [Totals()])
    await runner.prepare()
    assert await runner.catch_up() == 3
    assert await projections.query("SELECT total FROM totals") == [(16,)]
    errors = await projections.query("SELECT name, position, event_type FROM projection_errors")
    assert errors == [("totals", 2, "Incremented")]


async def test_live_commits_reach_the_read_models_in_order_from_the_writer_thread(
    events: SqlEventStore, projections: ProjectionStore
) -> None:
    handler = CommandHandler(events)
    runner = ProjectionRunner(events, projections, [Totals()])
    seen: list[int] = []
    runner.listeners.append(lambda page: seen.extend(e.position for e in page))
    await runner.start()
    try:
        assert events.committed_here  # the runner follows this process's commits directly
        results = await asyncio.gather(
            *(
                handler.handle(
                    SPEC, f"counter:{n % 5}", Increment(1), command_id=f"c{n}", user_id="u"
                )
                for n in range(60)
            )
        )
        last = max(r.position for r in results)
        assert await runner.wait_for(last, timeout=5)
        assert seen == list(range(1, last + 1))  # every event once, in order
        totals = await projections.query("SELECT stream_id, total FROM totals ORDER BY stream_id")
        assert totals == [(f"counter:{n}", 12) for n in range(5)]
    finally:
        await runner.stop()
    assert not events.committed_here


async def test_a_page_the_database_refuses_halts_the_runner_until_it_restarts_from_its_checkpoints(
    events: SqlEventStore,
    projections: ProjectionStore,
    following: ProjectionRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, runner = CommandHandler(events), following
    first = await handler.handle(SPEC, "counter:h", Increment(1), command_id="h1", user_id="u")
    assert await runner.wait_for(first.position, timeout=5)
    broken = {"left": 1}
    real = SqliteProjectionDatabase.transaction

    def failing_once(self: SqliteProjectionDatabase, work: Any) -> Any:
        if broken["left"]:
            broken["left"] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, work)

    # The page fails, and so does applying its one event alone (the database is down):
    # nothing past it may be applied, and the runner starts again from its checkpoints.
    monkeypatch.setattr(SqliteProjectionDatabase, "transaction", failing_once)
    monkeypatch.setattr(ProjectionRunner, "_apply_isolated", _refuse)
    second = await handler.handle(SPEC, "counter:h", Increment(2), command_id="h2", user_id="u")
    third = await handler.handle(SPEC, "counter:h", Increment(4), command_id="h3", user_id="u")
    assert not await runner.wait_for(second.position, timeout=0.3)
    monkeypatch.undo()
    assert await runner.wait_for(third.position, timeout=10)
    assert await projections.query("SELECT total FROM totals") == [(7,)]
    assert runner.failures >= 1


def _refuse(self: ProjectionRunner, page: list[RecordedEvent]) -> dict[str, int]:
    raise sqlite3.OperationalError("disk I/O error")
