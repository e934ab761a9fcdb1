"""SIGKILL a writing process at random moments: what it acknowledged must survive, whole.

The child (crash_writer.py) appends single and three-event batches from several
tasks at once and prints one line per acknowledged append. After each kill the
store must reopen cleanly with every acknowledged event in place, no append
half-written, and positions gapless from 1.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import msgspec
import psycopg
import pytest

from ironstar.eventstore.model import RecordedEvent
from ironstar.eventstore.sqlstore import SqlEventStore
from tests.integration.crash_writer import MULTI, Ack, crash_registry

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CHILD = Path(__file__).with_name("crash_writer.py")
KILLS = 8
_ack = msgspec.json.Decoder(Ack)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """The child's command-line description of one fresh store."""
    if request.param == "sqlite":
        yield ["sqlite", str(tmp_path / "events.db")]
    else:
        url, schema = request.getfixturevalue("pg_schema")
        yield ["postgres", url, schema]


def _open(target: list[str]) -> SqlEventStore:
    if target[0] == "sqlite":
        from ironstar.eventstore.sqlite import open_sqlite_store

        return open_sqlite_store(target[1], crash_registry())
    from ironstar.eventstore.postgres import open_postgres_store

    return open_postgres_store(target[1], crash_registry(), schema=target[2])


def _run_and_kill(target: list[str], acks_before_kill: int | None, delay: float) -> list[Ack]:
    """Start the child; SIGKILL it ``delay`` s after that many acks (None: after spawning).

    Returns every append it acknowledged, including lines flushed just before the kill.
    """
    with tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(
            [sys.executable, str(CHILD), *target], stdout=subprocess.PIPE, stderr=stderr
        )
        assert child.stdout is not None
        lines: list[bytes] = []
        try:
            if acks_before_kill is None:
                time.sleep(delay)
            else:
                assert child.stdout.readline() == b"ready\n", "the child did not open the store"
                while len(lines) < acks_before_kill:
                    line = child.stdout.readline()
                    if not line:  # it died: the exit status check below shows why
                        break
                    lines.append(line)
                time.sleep(delay)  # land the kill at a random point of the next append
        finally:
            child.send_signal(signal.SIGKILL)
            rest = child.stdout.read()
            child.wait()
            child.stdout.close()
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    assert child.returncode == -signal.SIGKILL, f"the child died on its own:\n{errors}"
    # A line cut short by the kill was never acknowledged.
    lines += rest.splitlines(keepends=True)
    return [_ack.decode(line) for line in lines if line.endswith(b"\n") and line != b"ready\n"]


def _read_everything(target: list[str]) -> list[RecordedEvent]:
    async def read() -> list[RecordedEvent]:
        store = _open(target)
        try:
            return await store.read_all(0, limit=10**9)
        finally:
            await store.close()

    return asyncio.run(read())


def _check_store(target: list[str], acked: dict[str, tuple[str, int, int]]) -> None:
    events = _read_everything(target)
    positions = [e.position for e in events]
    assert positions == list(range(1, len(events) + 1)), "positions have gaps or repeats"
    by_id = {e.event_id: e for e in events}
    assert len(by_id) == len(events), "an event id is stored twice"

    for event_id, (stream, version, position) in acked.items():
        stored = by_id.get(event_id)
        assert stored is not None, f"acknowledged event {event_id} is gone"
        assert (stored.stream_id, stored.stream_version, stored.position) == (
            stream,
            version,
            position,
        )

    by_transaction: dict[str, list[RecordedEvent]] = defaultdict(list)
    by_stream: dict[str, list[RecordedEvent]] = defaultdict(list)
    for event in events:
        assert event.metadata.transaction_id is not None
        by_transaction[event.metadata.transaction_id].append(event)
        by_stream[event.stream_id].append(event)
    for group in by_transaction.values():
        assert len(group) == group[0].data.of, "an append is only partly stored"
        assert len({e.stream_id for e in group}) == 1
    for stream_events in by_stream.values():
        versions = [e.stream_version for e in stream_events]
        assert versions == list(range(1, len(versions) + 1)), "stream versions have gaps"
        assert all(e.data.seq == e.stream_version - 1 for e in stream_events)

    if target[0] == "sqlite":
        import sqlite3

        with sqlite3.connect(target[1]) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    else:
        with psycopg.connect(target[1]) as conn:
            head = conn.execute(f'SELECT position FROM "{target[2]}".head').fetchone()
        assert head == (len(events),), "the head row disagrees with the events"


def test_acknowledged_appends_survive_sigkill_whole(target: list[str]) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    # Two very early kills (maybe mid-import or mid-migration, then right after
    # opening), then kills after a random number of acknowledgements.
    plan: list[int | None] = [None, 0] + [rng.choice((1, 5, 50, 300)) for _ in range(KILLS - 2)]
    acked: dict[str, tuple[str, int, int]] = {}
    for acks_before_kill in plan:
        delay = rng.uniform(0.0, 0.3 if acks_before_kill is None else 0.005)
        for ack in _run_and_kill(target, acks_before_kill, delay):
            assert len(ack.event_ids) in (1, MULTI), f"seed {seed}"
            for offset, event_id in enumerate(ack.event_ids):
                acked[event_id] = (
                    ack.stream,
                    ack.first_version + offset,
                    ack.first_position + offset,
                )
        _check_store(target, acked)
    assert len(acked) >= 50, f"too few acknowledged events to prove anything (seed {seed})"
