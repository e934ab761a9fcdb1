"""Event store benchmark: ours vs the raw driver floor vs eventsourcing 9.5.6.

Run from the repository root:

    .venv/bin/python benchmarks/eventstore.py [--quick] [--backend sqlite|postgres|all]

For each backend (SQLite, PostgreSQL) and in one run, every case is measured three ways:

* ours   - the Ironstar event store (``open_sqlite_store`` / ``open_postgres_store``);
* raw    - the driver floor: plain sqlite3 / psycopg writing rows of the same shape into
           the same schema (the store's own migration SQL), same durability settings;
* es     - the eventsourcing library 9.5.6 through its ``EventStore`` layer
           (``Application.events`` / ``.snapshots``: mapper + JSON transcoder + recorder),
           i.e. typed domain events in, typed domain events out, no aggregate folding -
           the closest match to what our store's append/load/read_all do.

Cases:
  (a) single-event appends, one at a time (100 streams round-robin, exact expected version)
  (b) the same from 32 concurrent appenders (ours: 32 asyncio tasks in one store, each on its
      own stream; raw and es: 32 threads)
  (c) one stream of 10,000 events in batches of 100
  (d) load a 10,000-event stream without and with a snapshot at the head (median)
  (e) read everything in position order, decoded into typed events, pages of 10,000
  (w) 4 writer stores appending concurrently while a 5th store subscribes and counts

Inputs (event objects, ids, raw rows) are prepared outside the timed regions for all three.
Every case uses fresh database files (SQLite: a temp dir under ./.bench-tmp/, on the repo's
filesystem) or a fresh PostgreSQL schema named ``ironstar_bench_<run>_<case>``; all are
removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, Snapshot

try:  # run as a script (python benchmarks/eventstore.py): this folder is on sys.path
    from report import print_table, verdict_cell, version
except ModuleNotFoundError:  # imported as benchmarks.eventstore
    from benchmarks.report import print_table, verdict_cell, version

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.migrations import migrations_for
from ironstar.eventstore.model import NewEvent
from ironstar.eventstore.sqlite import _split_statements, open_sqlite_store
from ironstar.eventstore.sqlstore import SqlEventStore

PG_ENV = "IRONSTAR_BENCH_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

# ---- scale ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    appends: int  # (a) and (b)
    concurrency: int  # (b)
    batch_events: int  # (c)
    batch_size: int  # (c)
    load_events: int  # (d)
    load_runs: int  # (d) without snapshot
    snapshot_runs: int  # (d) with snapshot
    read_events: int  # (e)
    read_runs: int  # (e)
    page: int  # (e)
    writers: int  # (w)
    writer_tasks: tuple[int, ...]  # (w) concurrent tasks per writer store
    writer_appends: int  # (w) total appends per variant
    a_rounds: int = 8  # (a) interleaving rounds
    threaded_raw: int = 4_000  # rows for the informational multi-threaded raw figures


FULL = Scale(
    appends=20_000,
    concurrency=32,
    batch_events=10_000,
    batch_size=100,
    load_events=10_000,
    load_runs=11,
    snapshot_runs=501,
    read_events=100_000,
    read_runs=3,
    page=10_000,
    writers=4,
    writer_tasks=(1, 8),
    writer_appends=8_000,
)
QUICK = Scale(
    appends=1_000,
    concurrency=32,
    batch_events=2_000,
    batch_size=100,
    load_events=2_000,
    load_runs=5,
    snapshot_runs=101,
    read_events=15_000,
    read_runs=1,
    page=10_000,
    writers=4,
    writer_tasks=(1, 8),
    writer_appends=600,
    threaded_raw=500,
)

# ---- events --------------------------------------------------------------------------

FILLER = "lorem ipsum dolor sit amet consectetur adipiscing "  # ~50 bytes of text


class Noted(msgspec.Struct, frozen=True):
    text: str
    n: int


def make_registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("Noted", Noted)
    return registry


def note(n: int) -> Noted:
    return Noted(f"{FILLER}{n:08d}", n)


_encoder = msgspec.json.Encoder()


@dataclass
class Item:
    """One event to append, in every representation the three contenders need."""

    stream: str
    version: int  # the version this event gets (expected version + 1 for single appends)
    data: Noted
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def items_round_robin(count: int, streams: int, prefix: str) -> list[Item]:
    return [Item(f"note:{prefix}{i % streams}", i // streams + 1, note(i)) for i in range(count)]


def items_per_stream(count: int, streams: int, prefix: str) -> list[list[Item]]:
    per = count // streams
    return [
        [Item(f"note:{prefix}{s}", v, note(s * per + v)) for v in range(1, per + 1)]
        for s in range(streams)
    ]


# ---- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    value: float | None  # throughput (per second) or latency (ms)
    note: str = ""

    def text(self, unit: str) -> str:
        if self.value is None:
            return self.note or "—"
        if unit == "ms":
            body = f"{self.value:.3f} ms" if self.value < 10 else f"{self.value:.1f} ms"
        else:
            body = f"{self.value:,.0f}/s"
        return f"{body} {self.note}".strip()


NA = Measure(None, "—")


@dataclass
class Row:
    case: str
    unit: str  # "/s" (higher is better) or "ms" (lower is better)
    ours: Measure
    raw: Measure = NA
    es: Measure = NA
    target: str = "—"
    check: Callable[[Row], bool | None] | None = None
    raw_label: str = ""

    def speed_vs(self, other: Measure) -> float | None:
        if self.ours.value is None or other.value is None or other.value == 0:
            return None
        if self.unit == "ms":
            return other.value / self.ours.value if self.ours.value else None
        return self.ours.value / other.value

    def verdict(self) -> str:
        if self.check is None:
            return "—" if self.target == "—" else "info"
        if self.ours.value is None:
            return "MISS"
        ok = self.check(self)
        return "—" if ok is None else ("PASS" if ok else "MISS")


def ratio_text(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}x"


async def guarded(label: str, fn: Callable[[], Awaitable[Measure]]) -> Measure:
    """Run one measurement; a failure becomes an 'error' cell, not a crashed run."""
    t0 = time.perf_counter()
    try:
        return await fn()
    except Exception as exc:
        print(f"  ! {label} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("BENCH_TRACEBACK"):
            traceback.print_exc()
        return Measure(None, f"error: {type(exc).__name__}")
    finally:
        if os.environ.get("BENCH_VERBOSE"):
            progress(f"{label}: {time.perf_counter() - t0:.1f} s")


def progress(msg: str) -> None:
    print(f"  · {msg}", file=sys.stderr, flush=True)


# ---- backends ------------------------------------------------------------------------


class Backend:
    """What differs between SQLite and PostgreSQL for ours, raw and eventsourcing."""

    name: str
    settings: list[str]

    def open_ours(self, case: str) -> SqlEventStore: ...
    def raw_connect(self, case: str, *, create: bool = False) -> Any: ...
    def raw_begin(self, conn: Any) -> None: ...
    def raw_commit(self, conn: Any) -> None: ...
    def raw_row(self, position: int, item: Item, tx: str, now: float) -> tuple[Any, ...]: ...
    def es_env(self, case: str, *, pool: int = 5) -> dict[str, str]: ...
    def cleanup(self) -> None: ...

    insert_sql: str
    select_cols: str
    ph: str  # placeholder

    def sql(self, text: str) -> str:
        return text.replace("?", self.ph)


class SqliteBackend(Backend):
    name = "SQLite"
    ph = "?"
    insert_sql = (
        "INSERT INTO events (position, event_id, stream_id, stream_type, stream_version, "
        "event_type, event_version, payload, user_id, causation_id, correlation_id, "
        "transaction_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    select_cols = (
        "position, stream_id, stream_type, stream_version, event_id, event_type, "
        "event_version, payload, user_id, causation_id, correlation_id, transaction_id, "
        "recorded_at"
    )

    def __init__(self, root: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sqlite-", dir=root))
        self.settings = [
            f"files: fresh per case under {self.dir} (same filesystem as the repo)",
            "ours: open_sqlite_store(path, synchronous='FULL') -> journal_mode=WAL, "
            "synchronous=FULL, BEGIN IMMEDIATE per group commit",
            "raw: sqlite3, isolation_level=None, PRAGMA journal_mode=WAL, synchronous=FULL, "
            "BEGIN IMMEDIATE ... COMMIT, schema = migrations_for('sqlite')",
            "eventsourcing: PERSISTENCE_MODULE=eventsourcing.sqlite, SQLITE_DBNAME=<fresh file>,"
            " (ORIGINATOR_ID_TYPE=uuid default); it sets journal_mode=WAL itself but never sets"
            f" synchronous (this sqlite {sqlite3.sqlite_version} defaults WAL to "
            f"{_sqlite_default_wal_sync()}); the benchmark also runs PRAGMA synchronous=FULL on"
            " each of its connections (patched SQLiteConnectionPool._create_connection)",
        ]
        _patch_es_sqlite_synchronous()

    def path(self, case: str) -> Path:
        return self.dir / f"{case}.db"

    def open_ours(self, case: str) -> SqlEventStore:
        return open_sqlite_store(self.path(case), make_registry(), synchronous="FULL")

    def raw_connect(self, case: str, *, create: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path(case), isolation_level=None, check_same_thread=False, timeout=60
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        if create:
            conn.execute("BEGIN IMMEDIATE")
            for migration in migrations_for("sqlite"):
                for statement in _split_statements(migration.sql):
                    conn.execute(statement)
            conn.execute("COMMIT")
        return conn

    def raw_begin(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def raw_commit(self, conn: sqlite3.Connection) -> None:
        conn.execute("COMMIT")

    def raw_row(self, position: int, item: Item, tx: str, now: float) -> tuple[Any, ...]:
        return (
            position,
            item.event_id,
            item.stream,
            "note",
            item.version,
            "Noted",
            1,
            _encoder.encode(item.data),
            None,
            None,
            None,
            tx,
            now,
        )

    def es_env(self, case: str, *, pool: int = 5) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.path(case)),
        }

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresBackend(Backend):
    name = "PostgreSQL"
    ph = "%s"
    insert_sql = (
        "INSERT INTO events (position, event_id, stream_id, stream_type, stream_version, "
        "event_type, event_version, payload, user_id, causation_id, correlation_id, "
        "transaction_id, recorded_at) "
        "VALUES (%s, %s::uuid, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s)"
    )
    select_cols = (
        "position, stream_id, stream_type, stream_version, event_id::text, event_type, "
        "event_version, payload::text, user_id, causation_id, correlation_id, "
        "transaction_id, recorded_at"
    )

    def __init__(self, url: str, open_store: Callable[..., SqlEventStore]) -> None:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        self.psycopg = psycopg
        self.url = url
        self._open_store = open_store
        self.run = uuid.uuid4().hex[:8]
        self.schemas: set[str] = set()
        self.info = conninfo_to_dict(url)
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            show = {
                k: conn.execute(f"SHOW {k}").fetchone()[0]  # type: ignore[index]
                for k in (
                    "server_version",
                    "synchronous_commit",
                    "fsync",
                    "wal_sync_method",
                    "commit_delay",
                    "full_page_writes",
                )
            }
        self.version = show.pop("server_version")
        durability = ", ".join(f"{k}={v}" for k, v in show.items())
        self.settings = [
            f"schemas: fresh per case, ironstar_bench_{self.run}_<case>, dropped at the end",
            f"server durability (the same for ours, raw and eventsourcing): {durability}",
            "ours: open_postgres_store(url, schema=<fresh>) (head-row lock + NOTIFY per commit)",
            "raw: psycopg 3, BEGIN; INSERT ...; COMMIT per transaction into the same schema "
            "(migrations_for('postgres')), positions from a counter",
            "eventsourcing: PERSISTENCE_MODULE=eventsourcing.postgres, POSTGRES_DBNAME/HOST/PORT/"
            "USER/PASSWORD from the URL, POSTGRES_SCHEMA=<fresh>, POSTGRES_POOL_SIZE=5 "
            "(32 for (b)), ORIGINATOR_ID_TYPE=uuid default",
        ]

    def schema(self, case: str) -> str:
        name = f"ironstar_bench_{self.run}_{case}"
        self.schemas.add(name)
        return name

    def open_ours(self, case: str) -> SqlEventStore:
        return self._open_store(self.url, make_registry(), schema=self.schema(case))

    def raw_connect(self, case: str, *, create: bool = False) -> Any:
        schema = self.schema(case)
        conn = self.psycopg.connect(self.url, autocommit=True)
        if create:
            conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        if create:
            for migration in migrations_for("postgres"):
                conn.execute(migration.sql.encode())
        return conn

    def raw_begin(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def raw_commit(self, conn: Any) -> None:
        conn.execute("COMMIT")

    def raw_row(self, position: int, item: Item, tx: str, now: float) -> tuple[Any, ...]:
        return (
            position,
            item.event_id,
            item.stream,
            "note",
            item.version,
            "Noted",
            1,
            _encoder.encode(item.data).decode(),
            None,
            None,
            None,
            tx,
            now,
        )

    def es_env(self, case: str, *, pool: int = 5) -> dict[str, str]:
        schema = self.schema(case)
        with self.psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(self.info.get("dbname", "postgres")),
            "POSTGRES_HOST": str(self.info.get("host", "127.0.0.1")),
            "POSTGRES_PORT": str(self.info.get("port", "5432")),
            "POSTGRES_USER": str(self.info.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(self.info.get("password", "")),
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": str(pool),
            "POSTGRES_MAX_OVERFLOW": "0",
        }

    def cleanup(self) -> None:
        with self.psycopg.connect(self.url, autocommit=True) as conn:
            for schema in sorted(self.schemas):
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.schemas.clear()


def _sqlite_default_wal_sync() -> str:
    conn = sqlite3.connect(":memory:")
    try:
        opts = [r[0] for r in conn.execute("PRAGMA compile_options")]
    finally:
        conn.close()
    for opt in opts:
        if opt.startswith("DEFAULT_WAL_SYNCHRONOUS="):
            return {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}[opt.split("=")[1]]
    return "the DEFAULT_SYNCHRONOUS (FULL)"


def _patch_es_sqlite_synchronous() -> None:
    from eventsourcing.sqlite import SQLiteConnectionPool

    original = SQLiteConnectionPool._create_connection
    if getattr(original, "_bench_patched", False):
        return

    def create(self: Any) -> Any:
        conn = original(self)
        conn._sqlite_conn.execute("PRAGMA synchronous=FULL")
        return conn

    create._bench_patched = True  # type: ignore[attr-defined]
    SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]


# ---- eventsourcing -------------------------------------------------------------------


class BenchNote(Aggregate):
    """eventsourcing's side of the benchmark: one typed event class, like ours."""

    class Noted(Aggregate.Event):
        text: str
        n: int


class BenchApp(Application[uuid.UUID]):
    is_snapshotting_enabled = True


class EsKit:
    """Builds eventsourcing's typed events and applications."""

    def __init__(self) -> None:
        self.ids: dict[str, uuid.UUID] = {}

    def id_of(self, stream: str) -> uuid.UUID:
        found = self.ids.get(stream)
        if found is None:
            found = self.ids[stream] = uuid.uuid5(uuid.NAMESPACE_URL, stream)
        return found

    def event(self, item: Item) -> Any:
        return BenchNote.Noted(
            originator_id=self.id_of(item.stream),
            originator_version=item.version,
            timestamp=datetime.now(UTC),
            text=item.data.text,
            n=item.data.n,
        )

    def app(self, env: dict[str, str]) -> Any:
        return BenchApp(env=env)


def es_close(app: Any) -> None:
    with contextlib.suppress(Exception):
        app.close()


# ---- timing helpers ------------------------------------------------------------------


def run_threads(count: int, work: Callable[[int], None]) -> float:
    """Start ``count`` threads on ``work(i)`` together; return the wall time."""
    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return elapsed


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


@contextlib.contextmanager
def closing_conn(conn: Any) -> Iterator[Any]:
    try:
        yield conn
    finally:
        conn.close()


# ---- the cases -----------------------------------------------------------------------


class Bench:
    def __init__(self, backend: Backend, scale: Scale, es: EsKit) -> None:
        self.b = backend
        self.s = scale
        self.es = es
        self.rows: list[Row] = []
        self.raw_single: float | None = None

    # -- shared pieces --

    async def ours_singles(self, case: str, items: list[Item]) -> Measure:
        store = self.b.open_ours(case)
        try:
            events = [NewEvent(i.data, i.event_id) for i in items]
            t0 = time.perf_counter()
            for item, event in zip(items, events, strict=True):
                await store.append(item.stream, [event], item.version - 1)
            elapsed = time.perf_counter() - t0
            assert await store.head_position() == len(items)
        finally:
            await store.close()
        return Measure(len(items) / elapsed)

    def raw_singles(self, case: str, per_thread: list[list[Item]]) -> Measure:
        b = self.b
        with closing_conn(b.raw_connect(case, create=True)):
            pass
        counter = itertools.count(1)
        tx = str(uuid.uuid4())
        now = time.time()
        rows = [[b.raw_row(0, item, tx, now) for item in chunk] for chunk in per_thread]
        conns = [b.raw_connect(case) for _ in per_thread]

        def work(i: int) -> None:
            conn = conns[i]
            for row in rows[i]:
                b.raw_begin(conn)
                conn.execute(b.insert_sql, (next(counter), *row[1:]))
                b.raw_commit(conn)

        try:
            elapsed = run_threads(len(per_thread), work)
        finally:
            for conn in conns:
                conn.close()
        return Measure(sum(map(len, rows)) / elapsed)

    def es_singles(self, case: str, per_thread: list[list[Item]], pool: int = 5) -> Measure:
        app = self.es.app(self.b.es_env(case, pool=pool))
        try:
            events = [[self.es.event(i) for i in chunk] for chunk in per_thread]

            def work(i: int) -> None:
                put = app.events.put
                for event in events[i]:
                    put([event])

            elapsed = run_threads(len(per_thread), work)
            assert app.recorder.max_notification_id() == sum(map(len, events))
        finally:
            es_close(app)
        return Measure(sum(map(len, events)) / elapsed)

    # -- (a) --

    async def case_a(self) -> None:
        """Interleaved: the three run in alternating segments, so background load on a
        shared machine falls on all of them alike."""
        n, rounds = self.s.appends, self.s.a_rounds
        progress(f"(a) {n:,} single appends, one at a time ({rounds} interleaved rounds)")
        items = items_round_robin(n, 100, "a")
        segments = [items[k * n // rounds : (k + 1) * n // rounds] for k in range(rounds)]
        b = self.b
        elapsed = {"ours": 0.0, "raw": 0.0, "es": 0.0}
        failed: dict[str, str] = {}
        store = b.open_ours("a_ours")
        raw_conn = b.raw_connect("a_raw", create=True)
        app = self.es.app(b.es_env("a_es"))
        tx, now = str(uuid.uuid4()), time.time()
        try:
            events = [NewEvent(i.data, i.event_id) for i in items]
            rows = [b.raw_row(k, item, tx, now) for k, item in enumerate(items, 1)]
            es_events = [self.es.event(i) for i in items]

            async def ours(lo: int, hi: int) -> None:
                for item, event in zip(items[lo:hi], events[lo:hi], strict=True):
                    await store.append(item.stream, [event], item.version - 1)

            async def raw(lo: int, hi: int) -> None:
                for row in rows[lo:hi]:
                    b.raw_begin(raw_conn)
                    raw_conn.execute(b.insert_sql, row)
                    b.raw_commit(raw_conn)

            async def es(lo: int, hi: int) -> None:
                put = app.events.put
                for event in es_events[lo:hi]:
                    put([event])

            runners = {"ours": ours, "raw": raw, "es": es}
            names = list(runners)
            lo = 0
            for k, segment in enumerate(segments):
                hi = lo + len(segment)
                for name in names[k % 3 :] + names[: k % 3]:
                    if name in failed:
                        continue
                    t0 = time.perf_counter()
                    try:
                        await runners[name](lo, hi)
                    except Exception as exc:
                        failed[name] = f"error: {type(exc).__name__}"
                        print(f"  ! {name} (a) failed: {exc!r}", file=sys.stderr)
                    elapsed[name] += time.perf_counter() - t0
                lo = hi
            assert await store.head_position() == n
        finally:
            await store.close()
            raw_conn.close()
            es_close(app)
        got = {
            name: Measure(None, failed[name]) if name in failed else Measure(n / elapsed[name])
            for name in runners
        }
        self.raw_single = got["raw"].value
        self.rows.append(
            Row(
                f"(a) {n:,} single-event appends, one at a time",
                "/s",
                got["ours"],
                got["raw"],
                got["es"],
                "≥ 0.90x raw",
                lambda r: (r.speed_vs(r.raw) or 0) >= 0.9,
            )
        )

    # -- (b) --

    async def case_b(self) -> None:
        n, c = self.s.appends, self.s.concurrency
        progress(f"(b) {n:,} single appends from {c} concurrent appenders")
        chunks = items_per_stream(n, c, "b")

        async def ours() -> Measure:
            store = self.b.open_ours("b_ours")
            try:
                plans = [[(i, NewEvent(i.data, i.event_id)) for i in chunk] for chunk in chunks]

                async def appender(plan: list[tuple[Item, NewEvent]]) -> None:
                    for item, event in plan:
                        await store.append(item.stream, [event], item.version - 1)

                t0 = time.perf_counter()
                await asyncio.gather(*(appender(p) for p in plans))
                elapsed = time.perf_counter() - t0
                assert await store.head_position() == sum(map(len, chunks))
            finally:
                await store.close()
            return Measure(sum(map(len, chunks)) / elapsed)

        got = await guarded("ours (b)", ours)
        few = items_per_stream(min(n, self.s.threaded_raw), c, "b")  # info only: capped
        raw32 = await guarded("raw (b)", async_(lambda: self.raw_singles("b_raw", few)))
        es = await guarded("es (b)", async_(lambda: self.es_singles("b_es", chunks, pool=c)))
        floor = Measure(self.raw_single)
        row = Row(
            f"(b) {n:,} single appends, {c} concurrent",
            "/s",
            got,
            floor,
            es,
            "≥ 3x raw (a)",
            lambda r: (r.speed_vs(r.raw) or 0) >= 3.0,
        )
        self.rows.append(row)
        self.rows.append(
            Row(
                f"    raw with {c} threads, 1 tx/row, {sum(map(len, few)):,} rows (info)",
                "/s",
                raw32,
                floor,
            )
        )

    # -- (c) --

    async def case_c(self) -> None:
        n, size = self.s.batch_events, self.s.batch_size
        progress(f"(c) one stream of {n:,} events in batches of {size}")
        items = items_per_stream(n, 1, "c")[0]
        batches = [items[i : i + size] for i in range(0, n, size)]
        result = await self.ours_batches("c_ours", batches)
        raw = await guarded("raw (c)", async_(lambda: self.raw_batches("c_raw", batches)))
        es = await guarded("es (c)", async_(lambda: self.es_batches("c_es", batches)))
        target, check = "—", None
        if isinstance(self.b, SqliteBackend):
            target, check = "≥ 100,000/s", lambda r: (r.ours.value or 0) >= 100_000
        self.rows.append(
            Row(
                f"(c) 1 stream, {n:,} events in batches of {size}",
                "/s",
                result,
                raw,
                es,
                target,
                check,
            )
        )

    async def ours_batches(self, case: str, batches: list[list[Item]]) -> Measure:
        async def run() -> Measure:
            store = self.b.open_ours(case)
            try:
                plan = [
                    (b[0].stream, b[0].version - 1, [NewEvent(i.data, i.event_id) for i in b])
                    for b in batches
                ]
                t0 = time.perf_counter()
                for stream, expected, events in plan:
                    await store.append(stream, events, expected)
                elapsed = time.perf_counter() - t0
            finally:
                await store.close()
            return Measure(sum(map(len, batches)) / elapsed)

        return await guarded(f"ours {case}", run)

    def raw_batches(self, case: str, batches: list[list[Item]]) -> Measure:
        b = self.b
        conn = b.raw_connect(case, create=True)
        try:
            tx = str(uuid.uuid4())
            now = time.time()
            position = itertools.count(1)
            rows = [[b.raw_row(next(position), i, tx, now) for i in batch] for batch in batches]
            t0 = time.perf_counter()
            for chunk in rows:
                b.raw_begin(conn)
                conn.cursor().executemany(b.insert_sql, chunk)
                b.raw_commit(conn)
            elapsed = time.perf_counter() - t0
        finally:
            conn.close()
        return Measure(sum(map(len, rows)) / elapsed)

    def es_batches(self, case: str, batches: list[list[Item]], app: Any = None) -> Measure:
        own = app is None
        if own:
            app = self.es.app(self.b.es_env(case))
        try:
            events = [[self.es.event(i) for i in batch] for batch in batches]
            t0 = time.perf_counter()
            for chunk in events:
                app.events.put(chunk)
            elapsed = time.perf_counter() - t0
        finally:
            if own:
                es_close(app)
        return Measure(sum(map(len, events)) / elapsed)

    # -- (d) --

    async def case_d(self) -> None:
        n = self.s.load_events
        progress(f"(d) load a {n:,}-event stream, without and with a snapshot")
        items = items_per_stream(n, 1, "d")[0]
        stream = items[0].stream
        batches = [items[i : i + 100] for i in range(0, n, 100)]
        state = msgspec.json.encode({"count": n, "last": n, "text": FILLER})

        ours_plain: Measure = NA
        ours_snap: Measure = NA
        ours_direct: Measure = NA
        ours_direct_snap: Measure = NA

        async def ours() -> Measure:
            nonlocal ours_plain, ours_snap, ours_direct, ours_direct_snap
            built = await self.ours_batches("d_ours", batches)
            if built.value is None:
                raise RuntimeError("could not build the stream")
            store = self.b.open_ours("d_ours")
            try:
                loaded = await store.load(stream, 1)  # warm the reader connection
                assert len(loaded.events) == n and loaded.snapshot is None
                samples = []
                for _ in range(self.s.load_runs):
                    t0 = time.perf_counter()
                    await store.load(stream, 1)
                    samples.append(time.perf_counter() - t0)
                ours_plain = Measure(median_ms(samples))
                direct = []
                for _ in range(self.s.load_runs):
                    t0 = time.perf_counter()
                    store._load_sync(stream, 1)
                    direct.append(time.perf_counter() - t0)
                ours_direct = Measure(median_ms(direct))
                await store.save_snapshot(stream, n, 1, state)
                loaded = await store.load(stream, 1)
                assert loaded.snapshot is not None and not loaded.events
                samples = []
                for _ in range(self.s.snapshot_runs):
                    t0 = time.perf_counter()
                    await store.load(stream, 1)
                    samples.append(time.perf_counter() - t0)
                ours_snap = Measure(median_ms(samples))
                direct = []
                for _ in range(self.s.snapshot_runs):
                    t0 = time.perf_counter()
                    store._load_sync(stream, 1)
                    direct.append(time.perf_counter() - t0)
                ours_direct_snap = Measure(median_ms(direct))
            finally:
                await store.close()
            return ours_plain

        await guarded("ours (d)", ours)

        raw_plain: Measure = NA
        raw_snap: Measure = NA

        def raw() -> Measure:
            nonlocal raw_plain, raw_snap
            b = self.b
            conn = b.raw_connect("d_ours")  # the rows ours wrote: same shape, same file
            try:
                read = b.sql(
                    f"SELECT {b.select_cols} FROM events WHERE stream_id = ? "
                    "AND stream_version >= ? ORDER BY stream_version LIMIT ?"
                )
                snap = b.sql(
                    "SELECT stream_version, schema_version, state, recorded_at FROM snapshots "
                    "WHERE stream_id = ?"
                )
                assert len(conn.execute(read, (stream, 1, 2**62)).fetchall()) == n
                samples = []
                for _ in range(self.s.load_runs):
                    t0 = time.perf_counter()
                    conn.execute(read, (stream, 1, 2**62)).fetchall()
                    samples.append(time.perf_counter() - t0)
                raw_plain = Measure(median_ms(samples))
                samples = []
                for _ in range(self.s.snapshot_runs):
                    t0 = time.perf_counter()
                    version = conn.execute(snap, (stream,)).fetchall()[0][0]
                    conn.execute(read, (stream, version + 1, 2**62)).fetchall()
                    samples.append(time.perf_counter() - t0)
                raw_snap = Measure(median_ms(samples))
            finally:
                conn.close()
            return raw_plain

        if ours_plain.value is not None:
            await guarded("raw (d)", async_(raw))

        es_plain: Measure = NA
        es_snap: Measure = NA

        def es() -> Measure:
            nonlocal es_plain, es_snap
            app = self.es.app(self.b.es_env("d_es"))
            try:
                built = self.es_batches("d_es", batches, app)
                assert built.value
                oid = self.es.id_of(stream)
                assert len(list(app.events.get(oid))) == n
                samples = []
                for _ in range(self.s.load_runs):
                    t0 = time.perf_counter()
                    list(app.events.get(oid))
                    samples.append(time.perf_counter() - t0)
                es_plain = Measure(median_ms(samples))
                snapshot = Snapshot(
                    originator_id=oid,
                    originator_version=n,
                    timestamp=datetime.now(UTC),
                    topic=f"{BenchNote.__module__}:BenchNote",
                    state={"count": n, "last": n, "text": FILLER},
                )
                app.snapshots.put([snapshot])

                def load() -> tuple[Any, list[Any]]:
                    snaps = list(app.snapshots.get(oid, desc=True, limit=1))
                    after = snaps[0].originator_version if snaps else None
                    return (snaps[0] if snaps else None), list(app.events.get(oid, gt=after))

                got, tail = load()
                assert got is not None and not tail
                samples = []
                for _ in range(self.s.snapshot_runs):
                    t0 = time.perf_counter()
                    load()
                    samples.append(time.perf_counter() - t0)
                es_snap = Measure(median_ms(samples))
            finally:
                es_close(app)
            return es_plain

        await guarded("es (d)", async_(es))

        self.rows.append(
            Row(
                f"(d) load {n:,}-event stream, no snapshot (median)",
                "ms",
                ours_plain,
                raw_plain,
                es_plain,
                "≤ 30 ms",
                lambda r: (r.ours.value or 1e9) <= 30,
            )
        )
        self.rows.append(
            Row(
                "(d) load with snapshot at head (median)",
                "ms",
                ours_snap,
                raw_snap,
                es_snap,
                "≤ 0.2 ms",
                lambda r: (r.ours.value or 1e9) <= 0.2,
            )
        )
        self.rows.append(
            Row("    ours _load_sync, no snapshot (info)", "ms", ours_direct, raw_plain)
        )
        self.rows.append(
            Row("    ours _load_sync, with snapshot (info)", "ms", ours_direct_snap, raw_snap)
        )

    # -- (e) --

    async def case_e(self) -> None:
        n, page = self.s.read_events, self.s.page
        progress(f"(e) read all {n:,} events in order, typed, pages of {page:,}")
        streams = max(1, n // 100)
        items = [i for chunk in items_per_stream(n, streams, "e") for i in chunk]
        batches = [items[i : i + 100] for i in range(0, len(items), 100)]
        total = len(items)

        async def ours() -> Measure:
            store = self.b.open_ours("e_ours")
            try:
                plans = [
                    (b[0].stream, b[0].version - 1, [NewEvent(i.data, i.event_id) for i in b])
                    for b in batches
                ]

                async def fill(part: list[Any]) -> None:
                    for stream, expected, events in part:
                        await store.append(stream, events, expected)

                await asyncio.gather(*(fill(plans[k::8]) for k in range(8)))
                assert await store.head_position() == total
                await store.read_all(0, 10)  # warm the reader connection
                samples = []
                for _ in range(self.s.read_runs):
                    t0 = time.perf_counter()
                    after, count = 0, 0
                    while True:
                        got = await store.read_all(after, page)
                        if not got:
                            break
                        count += len(got)
                        after = got[-1].position
                    samples.append(time.perf_counter() - t0)
                    assert count == total and isinstance(got, list)
                    assert isinstance((await store.read_all(0, 1))[0].data, Noted)
            finally:
                await store.close()
            return Measure(total / statistics.median(samples))

        got = await guarded("ours (e)", ours)

        raw_plain: Measure = NA
        raw_decoded: Measure = NA

        def raw() -> Measure:
            nonlocal raw_plain, raw_decoded
            b = self.b
            conn = b.raw_connect("e_ours")
            decoder = msgspec.json.Decoder(Noted)
            sql = b.sql(
                f"SELECT {b.select_cols} FROM events WHERE position > ? ORDER BY position LIMIT ?"
            )
            try:
                for decode in (False, True):
                    samples = []
                    for _ in range(self.s.read_runs):
                        t0 = time.perf_counter()
                        after, count = 0, 0
                        while True:
                            rows = conn.execute(sql, (after, page)).fetchall()
                            if not rows:
                                break
                            if decode:
                                typed = [(r, decoder.decode(r[7])) for r in rows]
                                assert len(typed) == len(rows)
                            count += len(rows)
                            after = rows[-1][0]
                        samples.append(time.perf_counter() - t0)
                        assert count == total
                    m = Measure(total / statistics.median(samples))
                    if decode:
                        raw_decoded = m
                    else:
                        raw_plain = m
            finally:
                conn.close()
            return raw_plain

        if got.value is not None:
            await guarded("raw (e)", async_(raw))

        def es() -> Measure:
            app = self.es.app(self.b.es_env("e_es"))
            try:
                self.es_batches("e_es", batches, app)
                recorder, mapper = app.recorder, app.mapper
                samples = []
                for _ in range(self.s.read_runs):
                    t0 = time.perf_counter()
                    start, count = 1, 0
                    while True:
                        notes = recorder.select_notifications(start, page)
                        if not notes:
                            break
                        typed = [mapper.to_domain_event(x) for x in notes]
                        count += len(typed)
                        start = notes[-1].id + 1
                    samples.append(time.perf_counter() - t0)
                    assert count == total, count
            finally:
                es_close(app)
            return Measure(total / statistics.median(samples))

        es_m = await guarded("es (e)", async_(es))
        target, check = "—", None
        if isinstance(self.b, SqliteBackend):
            target, check = "≥ 500,000/s", lambda r: (r.ours.value or 0) >= 500_000
        self.rows.append(
            Row(
                f"(e) read all {total:,} in order, typed (pages {page:,})",
                "/s",
                got,
                raw_plain,
                es_m,
                target,
                check,
            )
        )
        self.rows.append(Row("    vs raw SELECT + msgspec decode (info)", "/s", got, raw_decoded))

    # -- (w) --

    async def case_w(self) -> None:
        for tasks in self.s.writer_tasks:
            await self.case_w_variant(tasks)

    async def case_w_variant(self, tasks: int) -> None:
        w, total = self.s.writers, self.s.writer_appends
        progress(f"(w) {w} writer stores x {tasks} task(s), {total:,} appends, 1 subscriber")
        case = f"w{tasks}_ours"
        chunks = items_per_stream(total, w * tasks, f"w{tasks}_")
        expected = {i.event_id for chunk in chunks for i in chunk}
        few = items_per_stream(min(total, self.s.threaded_raw), w * tasks, f"w{tasks}_")
        details = ""

        async def run() -> Measure:
            nonlocal details
            writers = [self.b.open_ours(case) for _ in range(w)]
            reader = self.b.open_ours(case)
            seen: list[str] = []
            positions: list[int] = []
            done = asyncio.Event()

            async def subscriber() -> None:
                async for event in reader.subscribe(0, batch_size=1000):
                    seen.append(event.event_id)
                    positions.append(event.position)
                    if len(seen) >= len(expected):
                        done.set()
                        # keep reading briefly: duplicates would show up here
                        break

            async def appender(store: SqlEventStore, chunk: list[Item]) -> None:
                for item in chunk:
                    await store.append(
                        item.stream, [NewEvent(item.data, item.event_id)], item.version - 1
                    )

            sub = asyncio.create_task(subscriber())
            try:
                await asyncio.sleep(0.05)
                t0 = time.perf_counter()
                await asyncio.gather(
                    *(appender(writers[k % w], chunk) for k, chunk in enumerate(chunks))
                )
                elapsed = time.perf_counter() - t0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), 15)
                lag = time.perf_counter() - t0 - elapsed
                if not sub.done():
                    sub.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sub
                extra = await reader.read_all(positions[-1] if positions else 0, 1000)
                seen.extend(e.event_id for e in extra)
                positions.extend(e.position for e in extra)
                missed = len(expected - set(seen))
                dups = len(seen) - len(set(seen))
                ordered = all(a < b for a, b in itertools.pairwise(positions))
                details = (
                    f"missed={missed} duplicated={dups} in-order={ordered} "
                    f"subscriber caught up {max(lag, 0) * 1000:.0f} ms after the last append"
                )
                self.w_ok = missed == 0 and dups == 0 and ordered
            finally:
                await asyncio.gather(*(store.close() for store in [*writers, reader]))
            return Measure(total / elapsed, f"(missed {missed}, dup {dups})")

        self.w_ok = False
        got = await guarded(f"ours {case}", run)
        raw = await guarded(
            f"raw {case}",
            async_(
                lambda: self.raw_singles(
                    f"w{tasks}_raw",
                    [[i for chunk in few[k::w] for i in chunk] for k in range(w)],
                )
            ),
        )
        ok = self.w_ok
        if isinstance(self.b, PostgresBackend):
            target = "≥ 2,500/s, 0 missed/dup"

            def check(r: Row) -> bool:
                return ok and (r.ours.value or 0) >= 2_500
        else:
            target = "0 missed/dup"

            def check(r: Row) -> bool:
                return ok

        self.rows.append(
            Row(
                f"(w) {w} writer stores x {tasks} task(s) + 1 subscriber",
                "/s",
                got,
                raw,
                NA,
                target,
                check,
                raw_label=f"raw: {w} threads, 1 tx/row",
            )
        )
        if details:
            progress(details)
            self.notes.append(f"(w) {w}x{tasks}: {details}")

    notes: list[str]

    async def run(self) -> list[Row]:
        self.notes = []
        for step in (self.case_a, self.case_b, self.case_c, self.case_d, self.case_e, self.case_w):
            t0 = time.perf_counter()
            await step()
            progress(f"{step.__name__} took {time.perf_counter() - t0:.1f} s")
        return self.rows


def async_(fn: Callable[[], Measure]) -> Callable[[], Awaitable[Measure]]:
    async def wrapped() -> Measure:
        return fn()

    return wrapped


# ---- output --------------------------------------------------------------------------


def print_results(title: str, rows: list[Row], notes: list[str]) -> None:
    columns = [
        ("case", False),
        ("ours", True),
        ("raw floor", True),
        ("eventsourcing", True),
        ("ours/raw", True),
        ("ours/es", True),
        ("target", False),
        ("result", False),
    ]
    cells = [
        [
            r.case,
            r.ours.text(r.unit),
            r.raw.text(r.unit),
            r.es.text(r.unit),
            ratio_text(r.speed_vs(r.raw)),
            ratio_text(r.speed_vs(r.es)),
            r.target,
            verdict_cell(r.verdict()),
        ]
        for r in rows
    ]
    explained = [
        "ratios are speed ratios (>1 = ours faster): throughput ours/other, latency other/ours. "
        "(b)'s raw floor is (a)'s raw one-transaction-per-row figure.",
        *(f"{r.case.strip()}: raw floor column = {r.raw_label}" for r in rows if r.raw_label),
    ]
    print_table(title, columns, cells, [*explained, *notes], width=160)


def machine_facts(pg: str) -> list[str]:
    return [
        f"cores: {os.cpu_count()}  platform: {platform.platform()}",
        f"python {platform.python_version()} ({sys.executable})",
        f"sqlite {sqlite3.sqlite_version}  PostgreSQL: {pg}",
        f"msgspec {version('msgspec')}  psycopg {version('psycopg')}  "
        f"eventsourcing {version('eventsourcing')}",
    ]


def postgres_backend(url: str) -> tuple[PostgresBackend | None, str]:
    try:
        from ironstar.eventstore.postgres import open_postgres_store
    except Exception as exc:
        return None, f"ironstar.eventstore.postgres is not importable ({type(exc).__name__}: {exc})"
    try:
        return PostgresBackend(url, open_postgres_store), ""
    except Exception as exc:
        return None, f"PostgreSQL at {url} is unreachable ({type(exc).__name__}: {exc})"


async def main_async(args: argparse.Namespace) -> int:
    scale = QUICK if args.quick else FULL
    root = Path.cwd() / ".bench-tmp"
    root.mkdir(exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    es = EsKit()
    url = os.environ.get(PG_ENV, PG_DEFAULT)
    started = time.perf_counter()
    results: list[tuple[str, list[Row], list[str], list[str]]] = []
    pg_version = "not used"
    try:
        if args.backend in ("sqlite", "all"):
            print("SQLite ...", file=sys.stderr, flush=True)
            sq = SqliteBackend(run_dir)
            try:
                bench = Bench(sq, scale, es)
                rows = await bench.run()
                results.append(("SQLite", rows, sq.settings, bench.notes))
            finally:
                sq.cleanup()
        if args.backend in ("postgres", "all"):
            print("PostgreSQL ...", file=sys.stderr, flush=True)
            pg, reason = postgres_backend(url)
            if pg is None:
                pg_version = f"skipped: {reason}"
                results.append(("PostgreSQL", [], [f"skipped: {reason}"], []))
            else:
                pg_version = pg.version
                try:
                    bench = Bench(pg, scale, es)
                    rows = await bench.run()
                    results.append(("PostgreSQL", rows, pg.settings, bench.notes))
                finally:
                    pg.cleanup()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            root.rmdir()  # only when no other run is using it

    print()
    mode = "quick" if args.quick else "full"
    print(f"Ironstar event store benchmark ({mode} run, {time.perf_counter() - started:.0f} s)")
    for line in machine_facts(pg_version):
        print(f"  {line}")
    misses = 0
    for name, rows, settings, notes in results:
        print()
        if not rows:
            print(f"{name}: {settings[0]}")
            continue
        print(f"{name} settings:")
        for line in settings:
            print(f"  {line}")
        print_results(f"{name} ({mode})", rows, notes)
        misses += sum(r.verdict() == "MISS" for r in rows)
    print()
    print(
        "eventsourcing runs through Application.events/.snapshots (its EventStore: mapper + "
        "JSON transcoder + ApplicationRecorder) with Aggregate.Event subclasses as typed events;"
        " read-all uses recorder.select_notifications + mapper.to_domain_event."
    )
    return 1 if misses and args.strict else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down run (< 60 s)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
