"""Child process for the crash-safety test: appends until killed, acknowledging each append.

    python crash_writer.py sqlite PATH
    python crash_writer.py postgres URL SCHEMA

Prints ``ready`` once the store is open, then one JSON line per acknowledged append,
flushed before the next one starts, so the parent knows exactly what was promised.
"""

from __future__ import annotations

import asyncio
import random
import sys

import msgspec

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.model import NewEvent
from ironstar.eventstore.sqlstore import SqlEventStore

WRITERS = 4  # concurrent appenders, so the group-commit writer batches them
MULTI = 3  # events in a multi-event append


class Ticked(msgspec.Struct, frozen=True):
    seq: int
    of: int  # how many events the append carrying this one had


class Ack(msgspec.Struct, frozen=True):
    stream: str
    first_version: int
    last_version: int
    first_position: int
    last_position: int
    event_ids: list[str]


def crash_registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("Ticked", Ticked)
    return registry


def _open(argv: list[str]) -> SqlEventStore:
    kind, *where = argv
    if kind == "sqlite":
        from ironstar.eventstore.sqlite import open_sqlite_store

        return open_sqlite_store(where[0], crash_registry())
    from ironstar.eventstore.postgres import open_postgres_store

    return open_postgres_store(where[0], crash_registry(), schema=where[1])


async def _append_forever(store: SqlEventStore, writer: int) -> None:
    stream = f"crash:w{writer}"
    version = await store.stream_version(stream)
    encode = msgspec.json.encode
    while True:
        size = random.choice((1, MULTI))
        events = [NewEvent(Ticked(version + k, size)) for k in range(size)]
        result = await store.append(stream, events, version)
        version = result.last_version
        ack = Ack(
            stream,
            result.first_version,
            result.last_version,
            result.first_position,
            result.last_position,
            [e.event_id for e in events],
        )
        sys.stdout.buffer.write(encode(ack) + b"\n")
        sys.stdout.flush()


async def main(argv: list[str]) -> None:
    store = _open(argv)
    print("ready", flush=True)
    await asyncio.gather(*(_append_forever(store, w) for w in range(WRITERS)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
