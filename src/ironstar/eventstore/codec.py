"""Typed event classes <-> JSON, through a registry of explicit names.

Stored names are chosen by hand (never module paths), so classes can move or be
renamed without touching history. Old payload versions are brought up to date
by upcasters, one step at a time, before decoding into the current class.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from ironstar.eventstore.errors import EventEncodingError, UnknownEventType

# A JSON \u0000 escape not itself escaped (an odd run of backslashes before the 'u').
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
E = TypeVar("E", bound=type)


class _Entry:
    __slots__ = ("cls", "decoder", "name", "upcasters", "version")

    def __init__(self, name: str, cls: type, version: int) -> None:
        self.name = name
        self.cls = cls
        self.version = version
        self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(cls)
        self.upcasters: dict[int, Upcaster] = {}


class EventRegistry:
    """Knows every storable event class by name and current version."""

    def __init__(self) -> None:
        self._by_name: dict[str, _Entry] = {}
        self._by_class: dict[type, _Entry] = {}
        self._encoder = msgspec.json.Encoder()
        self._raw = msgspec.json.Decoder(dict[str, Any])

    def register(self, name: str, cls: type, version: int = 1) -> None:
        if not name or not name.isidentifier():
            raise ValueError(f"event name {name!r} must be an identifier")
        if version < 1:
            raise ValueError("event version starts at 1")
        if not (isinstance(cls, type) and issubclass(cls, msgspec.Struct)):
            raise TypeError(f"{cls!r} must be a msgspec.Struct subclass")
        known = self._by_name.get(name)
        if known is not None and known.cls is not cls:
            raise ValueError(f"event name {name!r} already registered for {known.cls.__name__}")
        entry = _Entry(name, cls, version)
        self._by_name[name] = entry
        self._by_class[cls] = entry

    def event(self, name: str, version: int = 1) -> Callable[[E], E]:
        """Class decorator: ``@registry.event("ChartAdded")``."""

        def decorate(cls: E) -> E:
            self.register(name, cls, version)
            return cls

        return decorate

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning a ``from_version`` payload into the next version."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._entry(name).upcasters[from_version] = fn
            return fn

        return decorate

    def include(self, other: EventRegistry) -> None:
        """Merge another registry (e.g. one per aggregate module) into this one."""
        for entry in other._by_name.values():
            self.register(entry.name, entry.cls, entry.version)
            self._by_name[entry.name].upcasters.update(entry.upcasters)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def name_of(self, cls: type) -> str:
        entry = self._by_class.get(cls)
        if entry is None:
            raise UnknownEventType(getattr(cls, "__name__", repr(cls)))
        return entry.name

    def encode(self, data: object) -> tuple[str, int, bytes]:
        """Return (stored name, version, JSON payload) for a typed event."""
        entry = self._by_class.get(type(data))
        if entry is None:
            raise UnknownEventType(type(data).__name__)
        try:
            payload = self._encoder.encode(data)
        except (TypeError, ValueError, OverflowError) as exc:
            raise EventEncodingError(f"{entry.name} cannot be encoded as JSON: {exc}") from None
        if b"\\u0000" in payload and _NUL_ESCAPE.search(payload):
            # PostgreSQL's jsonb refuses NUL: refuse it on every adapter alike.
            raise EventEncodingError(f"{entry.name} contains a NUL character, which is not stored")
        return entry.name, entry.version, payload

    def decode(self, name: str, version: int, payload: bytes | str) -> Any:
        entry = self._by_name.get(name)
        if entry is None:
            raise UnknownEventType(name)
        if version == entry.version:
            try:
                return entry.decoder.decode(payload)
            except msgspec.ValidationError as exc:
                raise EventEncodingError(
                    f"stored {name} v{version} does not decode: {exc}"
                ) from None
        return self._upcast(entry, version, payload)

    def _upcast(self, entry: _Entry, version: int, payload: bytes | str) -> Any:
        if version > entry.version:
            raise EventEncodingError(
                f"stored {entry.name} is v{version}, newer than this code's v{entry.version}"
            )
        data = self._raw.decode(payload)
        for step in range(version, entry.version):
            upcast = entry.upcasters.get(step)
            if upcast is None:
                raise EventEncodingError(
                    f"no upcaster for {entry.name} from v{step} to v{step + 1}"
                )
            data = upcast(data)
        try:
            return msgspec.convert(data, entry.cls)
        except msgspec.ValidationError as exc:
            raise EventEncodingError(f"upcast {entry.name} does not decode: {exc}") from None

    def _entry(self, name: str) -> _Entry:
        entry = self._by_name.get(name)
        if entry is None:
            raise UnknownEventType(name)
        return entry
