"""Property-based: random appends and reads behave like a simple in-memory model."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ironstar.eventstore.errors import DuplicateEventId, WrongExpectedVersion
from ironstar.eventstore.model import ANY, NO_STREAM, STREAM_EXISTS, ExpectedVersion, NewEvent
from ironstar.eventstore.sqlite import open_sqlite_store
from tests.contract.events import Noted, contract_registry

STREAMS = ["m:a", "m:b", "m:c"]
# NUL is refused by design (PostgreSQL jsonb); lone surrogates are not UTF-8 (refused too).
NO_NUL = st.characters(exclude_characters="\x00", codec="utf-8")
TEXT = st.text(NO_NUL, max_size=20)


class EventStoreModel(RuleBasedStateMachine):
    """The model: a list of (stream, event id, text) in global order."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = tempfile.TemporaryDirectory()
        self.store = open_sqlite_store(
            Path(self.dir.name) / "events.db", contract_registry(), synchronous="OFF"
        )
        self.log: list[tuple[str, str, str]] = []
        self.appends: list[tuple[str, list[NewEvent], ExpectedVersion]] = []

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def version(self, stream: str) -> int:
        return sum(1 for s, _, _ in self.log if s == stream)

    @rule(
        stream=st.sampled_from(STREAMS),
        texts=st.lists(TEXT, min_size=1, max_size=4),
        expectation=st.sampled_from(["exact", "wrong", "no_stream", "exists", "any"]),
    )
    def append(self, stream: str, texts: list[str], expectation: str) -> None:
        current = self.version(stream)
        expected: ExpectedVersion = {
            "exact": current,
            "wrong": current + 1,
            "no_stream": NO_STREAM,
            "exists": STREAM_EXISTS,
            "any": ANY,
        }[expectation]
        should_fail = (
            expectation == "wrong"
            or (expectation == "no_stream" and current > 0)
            or (expectation == "exists" and current == 0)
        )
        events = [NewEvent(Noted(t)) for t in texts]
        if should_fail:
            with pytest.raises(WrongExpectedVersion):
                self.run(self.store.append(stream, events, expected))
            return
        result = self.run(self.store.append(stream, events, expected))
        assert result.first_version == current + 1
        self.log.extend((stream, e.event_id, t) for e, t in zip(events, texts, strict=True))
        self.appends.append((stream, events, expected))

    @precondition(lambda self: self.appends)
    @rule(data=st.data())
    def retry_an_earlier_append(self, data: st.DataObject) -> None:
        stream, events, expected = data.draw(st.sampled_from(self.appends))
        result = self.run(self.store.append(stream, events, expected))
        assert result.written is False

    @precondition(lambda self: self.log)
    @rule(data=st.data(), text=st.text(NO_NUL, max_size=5))
    def reuse_an_id_with_other_content(self, data: st.DataObject, text: str) -> None:
        stream, event_id, old = data.draw(st.sampled_from(self.log))
        if text == old:
            return
        with pytest.raises(DuplicateEventId):
            self.run(self.store.append(stream, [NewEvent(Noted(text), event_id)], ANY))

    @rule(stream=st.sampled_from(STREAMS), start=st.integers(1, 6), limit=st.integers(0, 6))
    def read_a_stream_window(self, stream: str, start: int, limit: int) -> None:
        got = self.run(self.store.read_stream(stream, start, limit))
        mine = [(e, t) for s, e, t in self.log if s == stream][start - 1 : start - 1 + limit]
        assert [(e.event_id, e.data.text) for e in got] == mine

    @invariant()
    def everything_reads_back_in_order(self) -> None:
        got = self.run(self.store.read_all(0, 10_000))
        assert [(e.stream_id, e.event_id, e.data.text) for e in got] == self.log
        assert [e.position for e in got] == list(range(1, len(got) + 1))

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()
        self.dir.cleanup()


TestEventStoreModel = EventStoreModel.TestCase
TestEventStoreModel.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)


def test_model_ids_are_uuids() -> None:
    assert uuid.UUID(NewEvent(Noted("x")).event_id).version == 4
