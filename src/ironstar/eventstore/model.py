"""Values that cross the event-store port: new events, recorded events, results."""

from __future__ import annotations

import enum
import re
import uuid
from typing import Any, Final

import msgspec

from ironstar.eventstore.errors import InvalidAppend, InvalidStreamId

DEFAULT_STREAM_TYPE: Final = "default"
MAX_STREAM_ID_LENGTH: Final = 200
_STREAM_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")


class ExpectedState(enum.Enum):
    """Non-numeric expectations about a stream's version before an append."""

    NO_STREAM = "no_stream"
    STREAM_EXISTS = "stream_exists"
    ANY = "any"

    def __str__(self) -> str:
        return self.value


NO_STREAM: Final = ExpectedState.NO_STREAM
STREAM_EXISTS: Final = ExpectedState.STREAM_EXISTS
ANY: Final = ExpectedState.ANY

ExpectedVersion = int | ExpectedState


def stream_type_of(stream_id: str) -> str:
    """Validate a stream id of the form ``type:id`` and return its type.

    A stream id without a colon belongs to the ``default`` type.
    """
    if not isinstance(stream_id, str) or not stream_id:
        raise InvalidStreamId("stream id must be a non-empty string")
    if len(stream_id) > MAX_STREAM_ID_LENGTH:
        raise InvalidStreamId(f"stream id longer than {MAX_STREAM_ID_LENGTH} characters")
    if _FORBIDDEN.search(stream_id):
        raise InvalidStreamId(f"stream id {stream_id!r} contains whitespace or control characters")
    kind, sep, ident = stream_id.partition(":")
    if not sep:
        return DEFAULT_STREAM_TYPE
    if not ident:
        raise InvalidStreamId(f"stream id {stream_id!r} has an empty id after the type")
    if not _STREAM_TYPE.fullmatch(kind):
        raise InvalidStreamId(
            f"stream id {stream_id!r}: type must start with a letter and use letters, "
            "digits, '_', '.' or '-'"
        )
    return kind


def check_expected_version(expected: object) -> ExpectedVersion:
    if isinstance(expected, ExpectedState):
        return expected
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise InvalidAppend(
            f"expected version must be a non-negative int or an ExpectedState, got {expected!r}"
        )
    return expected


class EventMetadata(msgspec.Struct, frozen=True, omit_defaults=True):
    """Who caused an event and why; the transaction id is set by the store."""

    user_id: str | None = None
    causation_id: str | None = None
    correlation_id: str | None = None
    transaction_id: str | None = None


class NewEvent(msgspec.Struct, frozen=True):
    """An event to append: a registered typed payload and its unique id."""

    data: Any
    event_id: str = msgspec.field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        try:
            canonical = str(uuid.UUID(str(self.event_id)))
        except ValueError:
            raise InvalidAppend(f"event id {self.event_id!r} is not a UUID") from None
        if canonical != self.event_id:
            msgspec.structs.force_setattr(self, "event_id", canonical)


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as stored, with its envelope; ``data`` is the typed payload."""

    position: int
    stream_id: str
    stream_type: str
    stream_version: int
    event_id: str
    event_type: str
    event_version: int
    data: Any
    metadata: EventMetadata
    recorded_at: float


class AppendResult(msgspec.Struct, frozen=True):
    stream_id: str
    first_version: int
    last_version: int
    first_position: int
    last_position: int
    transaction_id: str
    written: bool  # False when an identical retry was recognised and nothing new was stored


class Snapshot(msgspec.Struct, frozen=True):
    stream_id: str
    stream_version: int
    schema_version: int
    state: bytes  # JSON, encoded and decoded by the aggregate's owner
    recorded_at: float


class LoadedStream(msgspec.Struct, frozen=True):
    """A snapshot (if a usable one exists) and the events after it."""

    stream_id: str
    snapshot: Snapshot | None
    events: list[RecordedEvent]

    @property
    def version(self) -> int:
        if self.events:
            return self.events[-1].stream_version
        return self.snapshot.stream_version if self.snapshot else 0


class EventFilter(msgspec.Struct, frozen=True):
    """Which events a reader wants; empty tuples mean everything."""

    stream_types: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()

    def matches(self, stream_type: str, event_type: str) -> bool:
        return (not self.stream_types or stream_type in self.stream_types) and (
            not self.event_types or event_type in self.event_types
        )


ALL_EVENTS: Final = EventFilter()
