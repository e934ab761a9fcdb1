"""The event-store port: what the application needs from any persistence adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from ironstar.eventstore.model import (
    ALL_EVENTS,
    AppendResult,
    EventFilter,
    EventMetadata,
    ExpectedVersion,
    LoadedStream,
    NewEvent,
    RecordedEvent,
    Snapshot,
)


class EventStore(Protocol):
    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion,
        metadata: EventMetadata | None = None,
    ) -> AppendResult:
        """Append atomically if the stream is at ``expected_version``; idempotent on event ids."""
        ...

    async def read_stream(
        self, stream_id: str, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]: ...

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, filter: EventFilter = ALL_EVENTS
    ) -> list[RecordedEvent]: ...

    async def stream_version(self, stream_id: str) -> int:
        """Current version of a stream; 0 when it does not exist."""
        ...

    async def streams_of_type(self, stream_type: str) -> list[str]: ...

    async def head_position(self) -> int:
        """Global position of the last committed event; 0 for an empty store."""
        ...

    def subscribe(
        self, after_position: int = 0, filter: EventFilter = ALL_EVENTS, batch_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        """History after ``after_position``, then live events, in global order."""
        ...

    def subscribe_batches(
        self, after_position: int = 0, filter: EventFilter = ALL_EVENTS, batch_size: int = 1000
    ) -> AsyncIterator[list[RecordedEvent]]:
        """Like subscribe, a page at a time (for projections that write per batch)."""
        ...

    async def find_event(self, event_id: str) -> RecordedEvent | None: ...

    async def save_snapshot(
        self, stream_id: str, stream_version: int, schema_version: int, state: bytes
    ) -> None: ...

    async def load_snapshot(self, stream_id: str, schema_version: int) -> Snapshot | None:
        """Latest snapshot of that schema version; an older schema is ignored."""
        ...

    async def load(self, stream_id: str, schema_version: int) -> LoadedStream:
        """Snapshot (when usable) plus the events after it, read consistently."""
        ...

    async def close(self) -> None: ...
