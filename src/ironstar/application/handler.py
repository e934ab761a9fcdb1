"""Command handling: load (cache or snapshot + tail) -> decide -> append, with retries.

Idempotency: event ids are derived from the command id, so a retried command either
finds its events already stored (and returns them) or appends the very same ids,
which the store recognises. Concurrency: the append carries the version the decision
was based on; on a conflict the aggregate is re-loaded and re-decided.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec

from ironstar.application.aggregates import AggregateSpec
from ironstar.eventstore.errors import DuplicateEventId, WrongExpectedVersion
from ironstar.eventstore.model import NO_STREAM, EventMetadata, NewEvent
from ironstar.eventstore.ports import EventStore

_EVENT_IDS = uuid.UUID("6f1c7a52-3f0e-4c55-9d59-2d4f3cf9a7e1")
MAX_ATTEMPTS = 10


class CommandRetriesExhausted(Exception):
    code = "concurrent_modification"


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    version: int
    position: int  # global position of the last event written (0 if nothing was written)
    events: list[Any]
    replayed: bool = False  # True when this command id had already been handled


def event_ids_for(stream_id: str, command_id: str, count: int) -> list[str]:
    return [str(uuid.uuid5(_EVENT_IDS, f"{stream_id}\n{command_id}\n{i}")) for i in range(count)]


class _Loaded:
    __slots__ = ("state", "version")

    def __init__(self, state: Any, version: int) -> None:
        self.state = state
        self.version = version


class _StreamLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0  # tasks holding or awaiting the lock


class CommandHandler:
    def __init__(self, store: EventStore, *, cache_size: int = 10_000) -> None:
        self._store = store
        self._cache: OrderedDict[str, _Loaded] = OrderedDict()
        self._cache_size = cache_size
        self._locks: dict[str, _StreamLock] = {}

    async def handle(
        self,
        spec: AggregateSpec,
        stream_id: str,
        command: Any,
        *,
        command_id: str,
        user_id: str | None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Decide and append; commands on one stream in this process queue up rather
        than race (other processes are handled by the expected-version retry)."""
        # A stream's lock lives while anyone holds or awaits it. (Dropping it once it
        # looked unlocked was a race: a released lock looks unlocked until its next
        # waiter runs, so a newcomer made a second lock and ran beside that waiter.)
        held = self._locks.get(stream_id)
        if held is None:
            held = self._locks[stream_id] = _StreamLock()
        held.users += 1
        try:
            async with held.lock:
                return await self._handle(
                    spec,
                    stream_id,
                    command,
                    command_id=command_id,
                    user_id=user_id,
                    correlation_id=correlation_id,
                )
        finally:
            held.users -= 1
            if not held.users:
                del self._locks[stream_id]

    async def _handle(
        self,
        spec: AggregateSpec,
        stream_id: str,
        command: Any,
        *,
        command_id: str,
        user_id: str | None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        if not command_id:
            raise ValueError("a command needs a command id")
        first_id = event_ids_for(stream_id, command_id, 1)[0]
        metadata = EventMetadata(
            user_id=user_id, causation_id=command_id, correlation_id=correlation_id or command_id
        )
        for attempt in range(MAX_ATTEMPTS):
            loaded = self._cache.get(stream_id) or await self._load(spec, stream_id)
            try:
                events = spec.decide(command, loaded.state)
            except Exception:
                # A refusal may stem from a stale cached state: refuse only on fresh state.
                if stream_id in self._cache:
                    self._cache.pop(stream_id, None)
                    fresh = await self._load(spec, stream_id)
                    if fresh.version != loaded.version:
                        continue
                replay = await self._replayed(spec, stream_id, first_id, command_id)
                if replay is not None:
                    return replay
                raise
            if not events:
                return CommandResult(stream_id, loaded.version, 0, [])
            ids = event_ids_for(stream_id, command_id, len(events))
            expected = loaded.version if loaded.version else NO_STREAM
            try:
                result = await self._store.append(
                    stream_id,
                    [NewEvent(e, i) for e, i in zip(events, ids, strict=True)],
                    expected,
                    metadata,
                )
            except (WrongExpectedVersion, DuplicateEventId):
                # Exponential back-off with jitter spreads racing writers apart.
                await asyncio.sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))
                # Someone else wrote first, or this very command did (a retry after a
                # later change): re-load, and answer with the earlier result if it is ours.
                self._cache.pop(stream_id, None)
                replay = await self._replayed(spec, stream_id, first_id, command_id)
                if replay is not None:
                    return replay
                continue
            if not result.written:
                return await self._replayed(spec, stream_id, first_id, command_id) or (
                    CommandResult(
                        stream_id, result.last_version, result.last_position, events, True
                    )
                )
            state = spec.fold(loaded.state, events)
            self._remember(stream_id, _Loaded(state, result.last_version))
            if result.last_version // spec.snapshot_every > loaded.version // spec.snapshot_every:
                await self._store.save_snapshot(
                    stream_id, result.last_version, spec.snapshot_schema, msgspec.json.encode(state)
                )
            return CommandResult(stream_id, result.last_version, result.last_position, events)
        raise CommandRetriesExhausted(
            f"{stream_id} kept changing while the command was decided; try again"
        )

    async def load_state(self, spec: AggregateSpec, stream_id: str) -> tuple[Any, int]:
        """Current state and version of an aggregate, read from the store."""
        loaded = await self._load(spec, stream_id)
        return loaded.state, loaded.version

    async def _load(self, spec: AggregateSpec, stream_id: str) -> _Loaded:
        stream = await self._store.load(stream_id, spec.snapshot_schema)
        if stream.snapshot is not None:
            state = msgspec.json.decode(stream.snapshot.state, type=spec.state_type)
        else:
            state = spec.initial()
        state = spec.fold(state, [e.data for e in stream.events])
        loaded = _Loaded(state, stream.version)
        self._remember(stream_id, loaded)
        return loaded

    async def _replayed(
        self, spec: AggregateSpec, stream_id: str, first_id: str, command_id: str
    ) -> CommandResult | None:
        """If this command id already produced events, describe them instead of re-deciding."""
        first = await self._store.find_event(first_id)
        if first is None:
            return None
        tail = await self._store.read_stream(stream_id, first.stream_version)
        mine = [e for e in tail if e.metadata.causation_id == command_id]
        last = mine[-1] if mine else first
        return CommandResult(
            stream_id, last.stream_version, last.position, [e.data for e in mine], True
        )

    def _remember(self, stream_id: str, loaded: _Loaded) -> None:
        self._cache[stream_id] = loaded
        self._cache.move_to_end(stream_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def forget(self, stream_id: str | None = None) -> None:
        """Drop cached state (all of it when no stream is named)."""
        if stream_id is None:
            self._cache.clear()
        else:
            self._cache.pop(stream_id, None)
