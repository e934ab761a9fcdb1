"""The event-store contract: every adapter must pass every test here."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.errors import (
    DuplicateEventId,
    EventEncodingError,
    InvalidAppend,
    InvalidStreamId,
    UnknownEventType,
    WrongExpectedVersion,
)
from ironstar.eventstore.model import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    EventFilter,
    EventMetadata,
    NewEvent,
)
from ironstar.eventstore.sqlstore import SqlEventStore
from tests.contract.conftest import StoreFactory
from tests.contract.events import Noted, Opaque, Renamed, Unregistered, contract_registry

pytestmark = pytest.mark.anyio


def noted(*texts: str) -> list[NewEvent]:
    return [NewEvent(Noted(t)) for t in texts]


# ---- expected versions ---------------------------------------------------------------


async def test_no_stream_creates_a_stream_at_version_one(store: SqlEventStore) -> None:
    result = await store.append("note:a", noted("x", "y"), NO_STREAM)
    assert (result.first_version, result.last_version, result.written) == (1, 2, True)
    assert result.last_position - result.first_position == 1
    assert await store.stream_version("note:a") == 2


async def test_no_stream_on_an_existing_stream_fails_with_the_actual_version(
    store: SqlEventStore,
) -> None:
    await store.append("note:a", noted("x"), NO_STREAM)
    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append("note:a", noted("y"), NO_STREAM)
    assert caught.value.actual == 1
    assert caught.value.code == "wrong_expected_version"
    assert len(await store.read_stream("note:a")) == 1


async def test_exact_version_must_match(store: SqlEventStore) -> None:
    await store.append("note:a", noted("x"), 0)
    await store.append("note:a", noted("y"), 1)
    for wrong in (0, 1, 3):
        with pytest.raises(WrongExpectedVersion) as caught:
            await store.append("note:a", noted("z"), wrong)
        assert caught.value.actual == 2
    await store.append("note:a", noted("z"), 2)
    assert [e.data.text for e in await store.read_stream("note:a")] == ["x", "y", "z"]


async def test_stream_exists_requires_a_stream(store: SqlEventStore) -> None:
    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append("note:a", noted("x"), STREAM_EXISTS)
    assert caught.value.actual == 0
    await store.append("note:a", noted("x"), ANY)
    result = await store.append("note:a", noted("y"), STREAM_EXISTS)
    assert result.first_version == 2


async def test_any_appends_whatever_the_version(store: SqlEventStore) -> None:
    for i in range(3):
        result = await store.append("note:a", noted(str(i)), ANY)
        assert result.first_version == i + 1


# ---- idempotency ---------------------------------------------------------------------


async def test_retrying_the_same_append_writes_nothing_new(store: SqlEventStore) -> None:
    events = noted("x", "y")
    first = await store.append("note:a", events, NO_STREAM)
    head = await store.head_position()
    again = await store.append("note:a", events, NO_STREAM)
    assert again.written is False
    assert (again.first_position, again.last_position) == (
        first.first_position,
        first.last_position,
    )
    assert again.transaction_id == first.transaction_id
    assert await store.head_position() == head
    assert len(await store.read_stream("note:a")) == 2


async def test_retry_after_other_appends_is_still_recognised(store: SqlEventStore) -> None:
    events = noted("x")
    await store.append("note:a", events, 0)
    await store.append("note:a", noted("later"), 1)
    again = await store.append("note:a", events, 0)
    assert again.written is False and again.first_version == 1
    retried_any = await store.append("note:a", events, ANY)
    assert retried_any.written is False


async def test_same_id_with_different_content_is_rejected(store: SqlEventStore) -> None:
    event_id = str(uuid.uuid4())
    await store.append("note:a", [NewEvent(Noted("x"), event_id)], NO_STREAM)
    with pytest.raises(DuplicateEventId) as caught:
        await store.append("note:a", [NewEvent(Noted("changed"), event_id)], NO_STREAM)
    assert caught.value.code == "duplicate_event_id"
    with pytest.raises(DuplicateEventId):
        await store.append("note:b", [NewEvent(Noted("x"), event_id)], NO_STREAM)
    with pytest.raises(DuplicateEventId):  # a later id of the append is already stored
        await store.append("note:a", [NewEvent(Noted("new")), NewEvent(Noted("x"), event_id)], ANY)
    assert [e.data.text for e in await store.read_all()] == ["x"]


async def test_same_ids_under_another_expectation_are_rejected(store: SqlEventStore) -> None:
    events = noted("x")
    await store.append("note:a", noted("first"), NO_STREAM)
    await store.append("note:a", events, 1)
    with pytest.raises(DuplicateEventId):
        await store.append("note:a", events, 5)


async def test_duplicate_ids_inside_one_append_are_rejected(store: SqlEventStore) -> None:
    event = NewEvent(Noted("x"))
    with pytest.raises(InvalidAppend):
        await store.append("note:a", [event, event], NO_STREAM)
    assert await store.head_position() == 0


# ---- concurrency and ordering --------------------------------------------------------


async def test_racing_writers_on_one_stream_exactly_one_wins_each_version(
    open_store: StoreFactory,
) -> None:
    stores = [open_store() for _ in range(4)]
    await stores[0].append("race:1", noted("start"), NO_STREAM)
    for version in range(1, 6):
        attempts = [
            s.append("race:1", noted(f"v{version}-w{i}-{j}"), version)
            for i, s in enumerate(stores)
            for j in range(3)
        ]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
        winners = [o for o in outcomes if not isinstance(o, BaseException)]
        losers = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, WrongExpectedVersion) for o in losers), losers
    events = await stores[0].read_stream("race:1")
    assert [e.stream_version for e in events] == list(range(1, 7))


async def test_a_conflicting_append_does_not_fail_its_neighbours(store: SqlEventStore) -> None:
    await store.append("note:busy", noted("x"), NO_STREAM)
    good = [store.append(f"note:{i}", noted(str(i)), NO_STREAM) for i in range(20)]
    bad = [store.append("note:busy", noted("conflict"), NO_STREAM)]
    outcomes = await asyncio.gather(*good, *bad, return_exceptions=True)
    assert all(not isinstance(o, BaseException) for o in outcomes[:20])
    assert isinstance(outcomes[20], WrongExpectedVersion)
    assert await store.head_position() == 21


async def test_positions_increase_and_versions_are_gapless(store: SqlEventStore) -> None:
    await asyncio.gather(*[store.append(f"note:{i % 5}", noted("a", "b"), ANY) for i in range(50)])
    events = await store.read_all(0, 10_000)
    positions = [e.position for e in events]
    assert positions == sorted(set(positions)) and len(events) == 100
    for sid in {e.stream_id for e in events}:
        versions = [e.stream_version for e in events if e.stream_id == sid]
        assert versions == list(range(1, len(versions) + 1))
    together = {}
    for e in events:
        together.setdefault(e.metadata.transaction_id, []).append(e.position)
    assert all(len(p) == 2 and p[1] == p[0] + 1 for p in together.values())


# ---- reading -------------------------------------------------------------------------


async def test_envelope_is_complete(store: SqlEventStore) -> None:
    meta = EventMetadata(user_id="u1", causation_id="c1", correlation_id="r1")
    event = NewEvent(Noted("x", 7))
    result = await store.append("note:env", [event], NO_STREAM, meta)
    [recorded] = await store.read_stream("note:env")
    assert recorded.event_id == event.event_id
    assert recorded.stream_type == "note" and recorded.stream_version == 1
    assert recorded.position == result.first_position
    assert (recorded.event_type, recorded.event_version) == ("Noted", 1)
    assert recorded.data == Noted("x", 7)
    assert recorded.metadata == EventMetadata("u1", "c1", "r1", result.transaction_id)
    assert recorded.recorded_at > 1_600_000_000


async def test_stream_id_without_a_type_belongs_to_default(store: SqlEventStore) -> None:
    await store.append("loose", noted("x"), NO_STREAM)
    [recorded] = await store.read_stream("loose")
    assert recorded.stream_type == "default"
    assert await store.streams_of_type("default") == ["loose"]


async def test_read_stream_from_version_and_limit(store: SqlEventStore) -> None:
    await store.append("note:a", noted(*"abcdef"), NO_STREAM)
    page = await store.read_stream("note:a", from_version=3, limit=2)
    assert [e.data.text for e in page] == ["c", "d"]
    assert await store.read_stream("note:missing") == []


async def test_read_all_filters_by_stream_and_event_type(store: SqlEventStore) -> None:
    await store.append("note:a", noted("x"), ANY)
    await store.append("tag:a", [NewEvent(Renamed("t"))], ANY)
    await store.append("note:b", [NewEvent(Renamed("n"))], ANY)
    by_stream = await store.read_all(filter=EventFilter(stream_types=("note",)))
    assert [e.stream_id for e in by_stream] == ["note:a", "note:b"]
    by_type = await store.read_all(filter=EventFilter(event_types=("Renamed",)))
    assert [e.stream_id for e in by_type] == ["tag:a", "note:b"]
    both = await store.read_all(filter=EventFilter(("note",), ("Renamed",)))
    assert [e.stream_id for e in both] == ["note:b"]
    after = await store.read_all(after_position=by_type[0].position, limit=1)
    assert [e.stream_id for e in after] == ["note:b"]


async def test_streams_of_a_type(store: SqlEventStore) -> None:
    for sid in ("note:b", "note:a", "tag:x", "note:a"):
        await store.append(sid, noted("x"), ANY)
    assert await store.streams_of_type("note") == ["note:a", "note:b"]
    assert await store.streams_of_type("nothing") == []


# ---- subscriptions -------------------------------------------------------------------


async def _collect(store: SqlEventStore, count: int, after: int = 0, **kw: object) -> list:
    received = []
    async for event in store.subscribe(after, **kw):  # type: ignore[arg-type]
        received.append(event)
        if len(received) == count:
            break
    return received


async def test_subscription_delivers_history_then_live(store: SqlEventStore) -> None:
    await store.append("note:a", noted("h1", "h2"), NO_STREAM)
    task = asyncio.create_task(_collect(store, 4))
    await asyncio.sleep(0.1)
    await store.append("note:a", noted("l1"), 2)
    await store.append("note:b", noted("l2"), NO_STREAM)
    received = await asyncio.wait_for(task, 10)
    assert [e.data.text for e in received] == ["h1", "h2", "l1", "l2"]


async def test_subscription_from_a_position_with_a_filter(store: SqlEventStore) -> None:
    await store.append("note:a", noted("skip"), ANY)
    first = await store.append("tag:a", [NewEvent(Renamed("t1"))], ANY)
    await store.append("note:a", noted("skip2"), ANY)
    task = asyncio.create_task(
        _collect(store, 2, after=0, filter=EventFilter(stream_types=("tag",)))
    )
    await asyncio.sleep(0.05)
    await store.append("tag:b", [NewEvent(Renamed("t2"))], ANY)
    received = await asyncio.wait_for(task, 10)
    assert [e.data.name for e in received] == ["t1", "t2"]
    assert received[0].position == first.first_position


async def test_four_writers_and_a_tailing_reader_miss_nothing(open_store: StoreFactory) -> None:
    """Separate store objects mean separate writer connections racing to commit."""
    writers = [open_store() for _ in range(4)]
    reader = open_store()
    per_writer, total = 2_000, 8_000
    tail = asyncio.create_task(_collect(reader, total))

    async def write(index: int, store: SqlEventStore) -> list[str]:
        ids: list[str] = []
        written = 0
        while written < per_writer:
            size = min(1 + written % 4, per_writer - written)
            batch = [NewEvent(Noted(f"w{index}", written + k)) for k in range(size)]
            await store.append(f"load:{index}-{written % 7}", batch, ANY)
            ids.extend(e.event_id for e in batch)
            written += size
        return ids

    written = await asyncio.gather(*[write(i, s) for i, s in enumerate(writers)])
    received = await asyncio.wait_for(tail, 120)
    expected_ids = {i for ids in written for i in ids}
    got_ids = [e.event_id for e in received]
    assert len(got_ids) == total
    assert len(set(got_ids)) == total, "duplicates delivered"
    assert set(got_ids) == expected_ids, "events missed"
    positions = [e.position for e in received]
    assert positions == sorted(positions)


async def test_a_writer_tailing_its_own_and_others_commits_misses_nothing(
    open_store: StoreFactory,
) -> None:
    """A store hands its own commits to its subscribers from memory; other stores' commits
    fall between them and must be read from the database, in position order."""
    mine, others = open_store(), [open_store() for _ in range(2)]
    per_writer = 600
    tail = asyncio.create_task(_collect(mine, per_writer * 3))

    async def write(index: int, store: SqlEventStore) -> None:
        for n in range(0, per_writer, 2):
            batch = [NewEvent(Noted(f"w{index}", n + k)) for k in range(2)]
            await store.append(f"mix:{index}-{n % 5}", batch, ANY)

    await asyncio.gather(*[write(i, s) for i, s in enumerate([mine, *others])])
    received = await asyncio.wait_for(tail, 120)
    positions = [e.position for e in received]
    assert positions == list(range(1, per_writer * 3 + 1)), "missed, duplicated or reordered"
    assert received == await mine.read_all(0, per_writer * 3)


async def test_live_events_equal_what_a_reader_decodes(store: SqlEventStore) -> None:
    """Events a subscriber gets straight after the commit are exactly the stored ones."""
    head = await store.head_position()
    task = asyncio.create_task(_collect(store, 5, after=head))
    await asyncio.sleep(0.05)
    meta = EventMetadata(user_id="u1", causation_id="c1", correlation_id="r1")
    await store.append("note:live", noted("a", "b"), NO_STREAM, meta)
    await asyncio.gather(
        store.append("tag:live", [NewEvent(Renamed("t"))], NO_STREAM),
        store.append("note:live2", [NewEvent(Noted("ü ✓", 7))], NO_STREAM),
        store.append("note:live3", noted("z"), NO_STREAM),
    )
    received = await asyncio.wait_for(task, 10)
    assert received == await store.read_all(head, 100)
    assert received[0].metadata.transaction_id


# ---- snapshots -----------------------------------------------------------------------


async def test_snapshot_round_trip_and_load_is_snapshot_plus_tail(store: SqlEventStore) -> None:
    await store.append("note:s", noted(*"abcde"), NO_STREAM)
    await store.save_snapshot("note:s", 3, 1, b'{"count":3}')
    await store.append("note:s", noted("f"), 5)
    loaded = await store.load("note:s", schema_version=1)
    assert loaded.snapshot is not None and loaded.snapshot.state == b'{"count":3}'
    assert loaded.snapshot.stream_version == 3
    assert [e.data.text for e in loaded.events] == ["d", "e", "f"]
    assert loaded.version == 6


async def test_snapshot_of_another_schema_is_ignored(store: SqlEventStore) -> None:
    await store.append("note:s", noted(*"abc"), NO_STREAM)
    await store.save_snapshot("note:s", 2, 1, b"old-shape")
    assert await store.load_snapshot("note:s", schema_version=2) is None
    loaded = await store.load("note:s", schema_version=2)
    assert loaded.snapshot is None and len(loaded.events) == 3


async def test_an_older_snapshot_never_replaces_a_newer_one(store: SqlEventStore) -> None:
    await store.append("note:s", noted(*"abcd"), NO_STREAM)
    await store.save_snapshot("note:s", 4, 1, b"four")
    await store.save_snapshot("note:s", 2, 1, b"two")
    snapshot = await store.load_snapshot("note:s", 1)
    assert snapshot is not None and snapshot.state == b"four"
    assert await store.load_snapshot("note:none", 1) is None


# ---- codec and upcasting -------------------------------------------------------------


class NotedV2(msgspec.Struct, frozen=True):
    text: str
    n: int
    language: str


async def test_old_event_versions_are_upcast_on_read(open_store: StoreFactory) -> None:
    old = open_store()
    await old.append("note:u", [NewEvent(Noted("hello", 1))], NO_STREAM)
    registry = EventRegistry()
    registry.register("Noted", NotedV2, version=2)

    @registry.upcaster("Noted", from_version=1)
    def add_language(payload: dict) -> dict:
        return {**payload, "language": "en"}

    new = open_store(registry)
    [event] = await new.read_stream("note:u")
    assert event.data == NotedV2("hello", 1, "en")
    assert event.event_version == 1  # the stored version is history; the payload is current


async def test_reading_an_event_type_this_code_does_not_know_is_a_clear_error(
    open_store: StoreFactory,
) -> None:
    await open_store().append("note:x", noted("x"), NO_STREAM)
    registry = EventRegistry()
    registry.register("Renamed", Renamed)
    with pytest.raises(UnknownEventType, match="Noted"):
        await open_store(registry).read_all()


# ---- payloads ------------------------------------------------------------------------


async def test_large_and_unicode_payloads_round_trip(store: SqlEventStore) -> None:
    texts = [
        "naïve café — 東京 — مرحبا — 🧪🔬",
        'quotes " and \\ backslashes and \n newlines \t tabs',
        "x" * 1_000_000,
        "\u2028\u2029 separators and \U0001f600",
    ]
    await store.append("note:big", noted(*texts), NO_STREAM)
    assert [e.data.text for e in await store.read_stream("note:big")] == texts
    nested = {"a": [1, 2.5, None, True], "b": {"ü": "✓"}, "n": 2**53}
    await store.append("note:opaque", [NewEvent(Opaque(nested))], NO_STREAM)
    [event] = await store.read_stream("note:opaque")
    assert event.data.value == nested


# ---- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "stream_id", ["", ":x", "note:", "has space:1", "note:a b", "tab\tx", "1bad:x", "x" * 201]
)
async def test_malformed_stream_ids_are_rejected(store: SqlEventStore, stream_id: str) -> None:
    with pytest.raises(InvalidStreamId) as caught:
        await store.append(stream_id, noted("x"), ANY)
    assert caught.value.code == "invalid_stream_id"
    assert await store.head_position() == 0


async def test_unregistered_event_type_is_rejected_and_nothing_written(
    store: SqlEventStore,
) -> None:
    with pytest.raises(UnknownEventType):
        await store.append("note:a", [NewEvent(Noted("ok")), NewEvent(Unregistered(1))], ANY)
    assert await store.head_position() == 0


async def test_unserialisable_payload_is_rejected_and_nothing_written(
    store: SqlEventStore,
) -> None:
    with pytest.raises(EventEncodingError):
        await store.append("note:a", [NewEvent(Opaque(object()))], ANY)
    with pytest.raises(EventEncodingError):
        await store.append("note:a", [NewEvent(Opaque({1j: "complex key"}))], ANY)
    assert await store.head_position() == 0


@pytest.mark.parametrize("expected", [-1, 1.5, "1", None, True])
async def test_bad_expected_versions_are_rejected(store: SqlEventStore, expected: object) -> None:
    with pytest.raises(InvalidAppend):
        await store.append("note:a", noted("x"), expected)  # type: ignore[arg-type]


async def test_empty_appends_and_bad_event_ids_are_rejected(store: SqlEventStore) -> None:
    with pytest.raises(InvalidAppend):
        await store.append("note:a", [], ANY)
    with pytest.raises(InvalidAppend):
        NewEvent(Noted("x"), "not-a-uuid")
    assert await store.head_position() == 0


def test_registry_is_shared_by_the_contract() -> None:
    assert contract_registry().names() == ["Noted", "Opaque", "Renamed"]


async def test_find_event_by_id(store: SqlEventStore) -> None:
    event = NewEvent(Noted("findme"))
    result = await store.append("note:f", [event], NO_STREAM)
    found = await store.find_event(event.event_id)
    assert found is not None and found.position == result.first_position
    assert found.data == Noted("findme")
    assert await store.find_event(str(uuid.uuid4())) is None


async def test_subscribe_batches_pages_in_order(store: SqlEventStore) -> None:
    await store.append("note:p", noted(*"abcdefg"), NO_STREAM)
    pages = []
    async for page in store.subscribe_batches(0, batch_size=3):
        pages.append([e.data.text for e in page])
        if sum(len(p) for p in pages) == 7:
            break
    assert pages == [["a", "b", "c"], ["d", "e", "f"], ["g"]]


async def test_nul_characters_are_refused_by_every_adapter(store: SqlEventStore) -> None:
    with pytest.raises(EventEncodingError, match="NUL"):
        await store.append("note:nul", noted("before\x00after"), NO_STREAM)
    assert await store.head_position() == 0
