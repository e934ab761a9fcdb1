"""Typed event-store errors, each with a stable code for callers and the API."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of every error the event store raises on purpose."""

    code = "event_store_error"


class InvalidStreamId(EventStoreError, ValueError):
    code = "invalid_stream_id"


class InvalidAppend(EventStoreError, ValueError):
    """The append request itself is malformed (no events, bad id, bad version)."""

    code = "invalid_append"


class WrongExpectedVersion(EventStoreError):
    """The stream is not at the version the caller expected; nothing was written."""

    code = "wrong_expected_version"

    def __init__(self, stream_id: str, expected: object, actual: int) -> None:
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateEventId(EventStoreError):
    """An event id was reused for different content (or in another place)."""

    code = "duplicate_event_id"

    def __init__(self, event_id: str, reason: str) -> None:
        super().__init__(f"event id {event_id} already stored: {reason}")
        self.event_id = event_id


class UnknownEventType(EventStoreError, LookupError):
    code = "unknown_event_type"

    def __init__(self, name: str) -> None:
        super().__init__(f"event type {name!r} is not registered")
        self.name = name


class EventEncodingError(EventStoreError, ValueError):
    """A payload cannot be turned into JSON (or back into its typed class)."""

    code = "event_encoding_error"


class StoreClosed(EventStoreError):
    code = "store_closed"


class StoreUnavailable(EventStoreError):
    """The backing database cannot be reached or refused the operation."""

    code = "store_unavailable"
