"""Application-layer benchmark: commands/s through ``Ironstar.execute`` and projection rebuilds.

Run from the repository root:

    .venv/bin/python benchmarks/domain.py [--quick] [--backend sqlite|postgres|all]
                                          [--part commands|rebuild|all] [--profile PART]

Commands: a workspace mix (dashboards: create, add tabs, add/move/resize charts, move a
chart to another tab, rename tab and dashboard, reorder tabs; saved queries: save, rename,
update SQL; preferences: theme, UI state, default catalog), every command changing
something, each caller on its own aggregates. Measured through ``Ironstar.execute`` on an
app started as the server starts it (projections following live in the background):

* ``wait=False`` - the command is decided and its events durably appended;
* ``wait=True``  - read-your-writes: also every read model has applied it;

from one caller and from 32 concurrent callers (asyncio tasks), on SQLite with
synchronous=FULL (the default) and NORMAL, and on PostgreSQL (fresh schemas, dropped at
the end). Beside each, in the same run, the event store's own floor: the same number of
single-event appends straight into a fresh store with the same settings (one caller on
100 streams round robin, or 32 tasks on a stream each). Contenders run interleaved in
rounds (rotating order, fresh aggregates every round); each figure is the median round.

Rebuild: a realistic log over all six aggregates (sessions, catalogs, query runs,
dashboards, saved queries, preferences) is written straight through the event store in
large group-committed batches, then ``runner.rebuild()`` of every projection is timed,
then ``rebuild(names=[one])`` for each projection (which reads only the event types that
projection applies). The read floor is the same log read page by page (``read_all``, in
pages of the runner's CATCH_UP_PAGE, decoded) without applying anything.

``--profile commands|rebuild`` runs that part once more under cProfile (event loop and
worker threads) and prints the top costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import itertools
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # run as a script (python benchmarks/domain.py): this folder is on sys.path
    from report import print_table, verdict_cell, version
except ModuleNotFoundError:  # imported as benchmarks.domain (by the tests)
    from benchmarks.report import print_table, verdict_cell, version

from ironstar.application.app import Ironstar
from ironstar.bootstrap import build_app, build_registry
from ironstar.domain import catalog as cat
from ironstar.domain import dashboard as d
from ironstar.domain import preferences as p
from ironstar.domain import query_session as q
from ironstar.domain import saved_query as sq
from ironstar.domain import session as s
from ironstar.domain.grid import GRID_COLUMNS, GridRect, ensure_free
from ironstar.domain.kernel import ChartDefinition, DatasetRef, name_key
from ironstar.eventstore.model import NewEvent
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.projections.runner import CATCH_UP_PAGE
from ironstar.settings import Settings

PG_ENV = "IRONSTAR_BENCH_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
COMMANDS_TARGET = 3_000.0  # commands/s, one caller, SQLite
REBUILD_TARGET = 100_000.0  # events/s, all projections

# ---- scale ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    commands: int  # per contender and configuration, over all rounds
    rounds: int
    callers: int
    rebuild_events: int  # SQLite
    pg_rebuild_events: int
    rebuild_runs: int  # repeats of the all-projections rebuild (median)


FULL = Scale(
    commands=10_000,
    rounds=5,
    callers=32,
    rebuild_events=1_000_000,
    pg_rebuild_events=200_000,
    rebuild_runs=2,
)
QUICK = Scale(
    commands=768,
    rounds=3,
    callers=32,
    rebuild_events=100_000,
    pg_rebuild_events=20_000,
    rebuild_runs=1,
)

# ---- the command mix -----------------------------------------------------------------

Planned = tuple[Any, str, str]  # command, actor, command id


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def tick(self) -> float:
        self.now += 1.0
        return self.now


def caller_commands(prefix: str) -> Iterator[Planned]:
    """One user working in the workspace, episode after episode, each on new aggregates
    (a dashboard and a saved query) plus the user's own preferences stream. Every
    command changes something (no decide returns [])."""
    user = f"bench:{prefix}"
    clock = Clock()
    ids = itertools.count()
    theme = p.Theme.SYSTEM
    default_catalog: str | None = None
    saved_names: list[str] = []

    def cid() -> str:
        return f"{prefix}-c{next(ids)}"

    def chart(k: int, i: int, tab: str, rect: GridRect) -> d.AddChart:
        config = {"chart_type": "line", "x": "day", "y": ["revenue"], "title": f"Revenue {i}"}
        return d.AddChart(
            dashboard_id=f"{prefix}-d{k}",
            actor=user,
            at=clock.tick(),
            chart_id=f"c{i}",
            tab_id=tab,
            definition=ChartDefinition(query_id=f"{prefix}-q{k}-{i}", config=config),
            position=rect,
            query_completed=True,
        )

    for k in itertools.count():
        did, qid = f"{prefix}-d{k}", f"{prefix}-s{k}"
        dash: dict[str, Any] = {"dashboard_id": did, "actor": user}
        saved: dict[str, Any] = {"saved_query_id": qid, "actor": user}
        prefs: dict[str, Any] = {"user_id": user, "actor": user}
        episode: list[Any] = [
            d.CreateDashboard(**dash, at=clock.tick(), name=f"Sales {k}", first_tab_id="t1"),
            d.AddTab(**dash, at=clock.tick(), tab_id="t2", name="Details"),
            d.AddTab(**dash, at=clock.tick(), tab_id="t3", name="Archive"),
            chart(k, 1, "t1", GridRect(x=0, y=0, width=6, height=4)),
            chart(k, 2, "t1", GridRect(x=6, y=0, width=6, height=4)),
            chart(k, 3, "t1", GridRect(x=0, y=4, width=4, height=3)),
            chart(k, 4, "t2", GridRect(x=0, y=0, width=12, height=4)),
            d.MoveChart(**dash, at=clock.tick(), chart_id="c3", x=4, y=4),
            d.ResizeChart(**dash, at=clock.tick(), chart_id="c2", width=6, height=3),
            d.MoveChartToTab(**dash, at=clock.tick(), chart_id="c3", tab_id="t3"),
            d.RenameTab(**dash, at=clock.tick(), tab_id="t2", name="Detail view"),
            d.RenameDashboard(**dash, at=clock.tick(), name=f"Sales {k} (final)"),
            d.ReorderTabs(**dash, at=clock.tick(), tab_ids=("t2", "t1", "t3")),
            sq.SaveQuery(
                **saved,
                at=clock.tick(),
                name=f"Query {k}",
                sql=f"SELECT day, sum(revenue) FROM sales WHERE region = {k} GROUP BY day",
                dataset_ref=DatasetRef(catalog_id="lab", dataset="sales"),
                names_taken=tuple(saved_names[-20:]),  # what the read model would list
            ),
            sq.RenameSavedQuery(
                **saved, at=clock.tick(), name=f"Query {k} v2", names_taken=(f"Query {k}",)
            ),
            sq.UpdateSavedQuerySql(
                **saved, at=clock.tick(), sql=f"SELECT * FROM sales WHERE region = {k} LIMIT 100"
            ),
        ]
        saved_names.append(f"Query {k} v2")
        theme = p.Theme.DARK if theme is not p.Theme.DARK else p.Theme.LIGHT
        episode.append(p.SetTheme(**prefs, at=clock.tick(), theme=theme))
        ui = {"sidebar": 200 + k % 50, "collapsed": ["history"] if k % 2 else [], "tab": "t2"}
        episode.append(p.UpdateUiState(**prefs, at=clock.tick(), ui_state=ui))
        default_catalog = "lab" if default_catalog != "lab" else "fixtures"
        episode.append(p.SetDefaultCatalog(**prefs, at=clock.tick(), catalog_id=default_catalog))
        for command in episode:
            yield command, user, cid()


def plan(prefix: str, count: int) -> list[Planned]:
    return list(itertools.islice(caller_commands(prefix), count))


def mix_summary() -> str:
    counts = Counter(type(c).__module__.rsplit(".", 1)[-1] for c, _, _ in plan("x", 19))
    total = sum(counts.values())
    return ", ".join(f"{name} {n / total:.0%}" for name, n in counts.most_common())


# ---- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    value: float | None  # per second
    note: str = ""
    samples: tuple[float, ...] = ()

    def text(self) -> str:
        if self.value is None:
            return self.note or "—"
        return f"{self.value:,.0f}/s {self.note}".strip()


NA = Measure(None, "—")


def median_of(samples: list[float]) -> Measure:
    return Measure(statistics.median(samples), samples=tuple(samples))


@dataclass
class CommandRow:
    case: str
    app: Measure
    floor: Measure = NA
    target: str = "—"
    check: Callable[[CommandRow], bool] | None = None
    extra: str = ""

    def ratio(self) -> float | None:
        if self.app.value is None or not self.floor.value:
            return None
        return self.app.value / self.floor.value

    def verdict(self) -> str:
        if self.check is None:
            return "—" if self.target == "—" else "info"
        if self.app.value is None:
            return "MISS"
        return "PASS" if self.check(self) else "MISS"


@dataclass
class RebuildRow:
    case: str
    events: int  # events read
    own: int  # events the projection(s) applied
    seconds: float | None
    target: str = "—"
    note: str = ""

    @property
    def rate(self) -> float | None:
        return self.events / self.seconds if self.seconds else None

    def verdict(self) -> str:
        if self.target == "—":
            return "—"
        return "PASS" if (self.rate or 0) >= REBUILD_TARGET else "MISS"


def progress(msg: str) -> None:
    print(f"  · {msg}", file=sys.stderr, flush=True)


async def guarded(label: str, fn: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await fn()
    except Exception as exc:
        print(f"  ! {label} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("BENCH_TRACEBACK"):
            traceback.print_exc()
        return None


# ---- backends ------------------------------------------------------------------------


class Backend:
    name: str
    settings_notes: list[str]

    def app_settings(self, case: str) -> Settings: ...
    def floor_store(self, case: str) -> SqlEventStore: ...
    def raw_commit_rate(self) -> float | None:
        return None

    def cleanup(self) -> None: ...


class SqliteBackend(Backend):
    def __init__(self, root: Path, synchronous: str) -> None:
        self.synchronous = synchronous
        self.name = f"SQLite synchronous={synchronous}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"sqlite-{synchronous.lower()}-", dir=root))
        self.settings_notes = [
            f"files: fresh per case under {self.dir} (same filesystem as the repo)",
            f"app: build_app(Settings(data_dir=<fresh>, sqlite_synchronous='{synchronous}')) -> "
            "events.db (WAL, group commit) + read.db (WAL, synchronous=NORMAL)",
            f"floor: open_sqlite_store(<fresh>/floor.db, synchronous='{synchronous}')",
        ]

    def app_settings(self, case: str) -> Settings:
        return Settings(data_dir=self.dir / case, sqlite_synchronous=self.synchronous)  # type: ignore[arg-type]

    def floor_store(self, case: str) -> SqlEventStore:
        from ironstar.eventstore.sqlite import open_sqlite_store

        return open_sqlite_store(
            self.dir / case / "floor.db",
            build_registry(),
            synchronous=self.synchronous,  # type: ignore[arg-type]
        )

    def raw_commit_rate(self, count: int = 2_000) -> float:
        """Transactions/s of one small INSERT and COMMIT each, straight through sqlite3 in
        WAL mode with this durability and no store around it: the most one caller waiting
        on each of its own commits could reach on this disk."""
        path = self.dir / "raw-commits.db"
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
            payload = b"x" * 200
            started = time.perf_counter()
            for _ in range(count):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO t (payload) VALUES (?)", (payload,))
                conn.execute("COMMIT")
            return count / (time.perf_counter() - started)
        finally:
            conn.close()

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresBackend(Backend):
    name = "PostgreSQL"

    def __init__(self, url: str, root: Path) -> None:
        import psycopg

        self.psycopg = psycopg
        self.url = url
        self.run = uuid.uuid4().hex[:8]
        self.schemas: set[str] = set()
        self.dir = Path(tempfile.mkdtemp(prefix="pg-", dir=root))
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            show = {
                k: conn.execute(f"SHOW {k}").fetchone()[0]  # type: ignore[index]
                for k in ("server_version", "synchronous_commit", "fsync", "commit_delay")
            }
        self.version = show.pop("server_version")
        durability = ", ".join(f"{k}={v}" for k, v in show.items())
        self.settings_notes = [
            f"schemas: fresh per case, ironstar_dbench_{self.run}_<case> (+ _read), dropped "
            "at the end",
            f"server: {durability}",
            "app: build_app(Settings(database_url=..., postgres_schema=<fresh>))",
            "floor: open_postgres_store(url, schema=<fresh>)",
        ]

    def schema(self, case: str) -> str:
        name = f"ironstar_dbench_{self.run}_{case}"
        self.schemas.update({name, f"{name}_read"})
        return name

    def app_settings(self, case: str) -> Settings:
        return Settings(
            data_dir=self.dir / case, database_url=self.url, postgres_schema=self.schema(case)
        )

    def floor_store(self, case: str) -> SqlEventStore:
        from ironstar.eventstore.postgres import open_postgres_store

        return open_postgres_store(self.url, build_registry(), schema=self.schema(f"{case}_floor"))

    def cleanup(self) -> None:
        with self.psycopg.connect(self.url, autocommit=True) as conn:
            for schema in sorted(self.schemas):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.schemas.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- profiling -----------------------------------------------------------------------


class ThreadProfiler:
    """cProfile on the event loop plus every worker thread the wrapped calls run on."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.profiles: list[cProfile.Profile] = []
        self.main = cProfile.Profile()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            prof = getattr(self._local, "prof", None)
            if prof is None:
                prof = self._local.prof = cProfile.Profile()
                with self._lock:
                    self.profiles.append(prof)
            prof.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                prof.disable()

        return wrapped

    def instrument(self, app: Ironstar | None, stores: list[SqlEventStore]) -> None:
        for store in stores:
            store._writer._handle_batch = self.wrap(store._writer._handle_batch)  # type: ignore[method-assign]
            store._query = self.wrap(store._query)  # type: ignore[method-assign]
            store._to_events = self.wrap(store._to_events)  # type: ignore[method-assign]
        if app is not None:
            db = app.projections.database
            db.transaction = self.wrap(db.transaction)  # type: ignore[method-assign]

    def report(self, title: str, top: int = 25) -> str:
        out = io.StringIO()
        stats = pstats.Stats(self.main, stream=out)
        for prof in self.profiles:
            stats.add(prof)
        stats.strip_dirs()
        print(f"\n=== profile: {title} (event loop + {len(self.profiles)} threads) ===", file=out)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        return out.getvalue()


# ---- commands ------------------------------------------------------------------------


async def close_app(app: Ironstar) -> None:
    """``app.close()``, first making sure the projection follower really stops.

    On Python 3.11, ``asyncio.wait_for`` returns the inner result instead of raising when
    a cancellation arrives just as the inner future completes (gh-86296, fixed in 3.12).
    The follower waits for new events with ``wait_for(event.wait(), poll)``
    (eventstore/wakeup.py), so a commit's wake-up landing together with
    ``runner.stop()``'s cancel swallows the cancel and ``stop()`` then awaits a task that
    keeps following forever. Re-cancelling until it is done avoids hanging the run."""
    task = app.runner._task
    while task is not None and not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    await app.close()


async def settle(app: Ironstar) -> float:
    """Seconds until every projection shows everything appended so far."""
    t0 = time.perf_counter()
    head = await app.events.head_position()
    if not await app.runner.wait_for(head, 600):
        raise RuntimeError("projections did not catch up in 600 s")
    return time.perf_counter() - t0


async def run_app(app: Ironstar, plans: list[list[Planned]], wait: bool) -> tuple[float, int]:
    """All callers at once (one caller: one list); returns (seconds, events written)."""
    written = 0

    async def caller(commands: list[Planned]) -> None:
        nonlocal written
        execute = app.execute
        for command, actor, command_id in commands:
            result = await execute(command, actor=actor, command_id=command_id, wait=wait)
            if not result.events or result.replayed:
                raise RuntimeError(f"{type(command).__name__} changed nothing: {result}")
            written += len(result.events)

    t0 = time.perf_counter()
    if len(plans) == 1:
        await caller(plans[0])
    else:
        await asyncio.gather(*(caller(c) for c in plans))
    return time.perf_counter() - t0, written


FloorItem = tuple[str, NewEvent, int]  # stream, event, expected version


def floor_items(prefix: str, count: int, streams: int) -> list[FloorItem]:
    """Single-event appends of a typical event (DashboardRenamed) round robin over streams."""
    out = []
    for i in range(count):
        data = d.DashboardRenamed(
            dashboard_id=f"{prefix}-{i % streams}",
            user_id=f"bench:{prefix}",
            at=1_800_000_000.0 + i,
            name=f"Sales {i} (final)",
        )
        out.append((d.stream_id(f"{prefix}-{i % streams}"), NewEvent(data), i // streams))
    return out


async def run_floor(store: SqlEventStore, plans: list[list[FloorItem]]) -> float:
    async def appender(items: list[FloorItem]) -> None:
        append = store.append
        for stream, event, expected in items:
            await append(stream, [event], expected)

    t0 = time.perf_counter()
    if len(plans) == 1:
        await appender(plans[0])
    else:
        await asyncio.gather(*(appender(c) for c in plans))
    return time.perf_counter() - t0


@dataclass
class CommandResults:
    rows: list[CommandRow]
    notes: list[str]


async def bench_commands(
    backend: Backend, scale: Scale, *, target: bool, profiler: ThreadProfiler | None = None
) -> CommandResults:
    """Six contenders, interleaved over rounds: floor/app(wait False)/app(wait True), each
    from one caller and from ``scale.callers`` concurrent callers."""
    n, rounds, c = scale.commands, scale.rounds, scale.callers
    per_round = n // rounds
    progress(f"{backend.name}: {n:,} commands per contender, {rounds} rounds, 1 and {c} callers")
    app = build_app(backend.app_settings("commands"))
    floor = backend.floor_store("commands")
    if profiler is not None:
        profiler.instrument(app, [app.events, floor])
    await app.start()
    rates: dict[str, list[float]] = {}
    lag: list[float] = []
    written: Counter[str] = Counter()
    issued: Counter[str] = Counter()
    run_ids = itertools.count()
    try:

        async def contender(name: str) -> None:
            callers = 1 if name.endswith("1") else c
            share = per_round // callers
            tag = f"r{next(run_ids)}"
            if name.startswith("floor"):
                streams = 100 if callers == 1 else 1
                chunks = [floor_items(f"{tag}-{i}", share, streams) for i in range(callers)]
                seconds = await run_floor(floor, chunks)
            else:
                plans = [plan(f"{tag}-{i}", share) for i in range(callers)]
                await settle(app)
                seconds, events = await run_app(app, plans, wait=name.startswith("wait"))
                written[name] += events
                issued[name] += share * callers
                behind = await settle(app)
                if name.startswith("nowait"):
                    lag.append(behind)
            rates.setdefault(name, []).append(share * callers / seconds)

        names = ["floor1", "nowait1", "wait1", f"floor{c}", f"nowait{c}", f"wait{c}"]
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                if profiler is not None:
                    profiler.main.enable()
                try:
                    await contender(name)
                finally:
                    if profiler is not None:
                        profiler.main.disable()
        errors = await app.projections.query("SELECT count(*) FROM projection_errors")
        if errors[0][0]:
            raise RuntimeError(f"{errors[0][0]} projection errors")
    finally:
        await close_app(app)
        await floor.close()

    def m(name: str) -> Measure:
        return median_of(rates[name]) if name in rates else Measure(None, "error")

    def meets(row: CommandRow) -> bool:
        return (row.app.value or 0) >= COMMANDS_TARGET

    rows = [
        CommandRow(
            "1 caller, wait=False (appended)",
            m("nowait1"),
            m("floor1"),
            "≥ 3,000/s" if target else "—",
            meets if target else None,
        ),
        CommandRow("1 caller, wait=True (read-your-writes)", m("wait1"), m("floor1")),
        CommandRow(f"{c} callers, wait=False (appended)", m(f"nowait{c}"), m(f"floor{c}")),
        CommandRow(f"{c} callers, wait=True (read-your-writes)", m(f"wait{c}"), m(f"floor{c}")),
    ]
    floor1 = m("floor1").value
    raw = await asyncio.to_thread(backend.raw_commit_rate) if target else None
    notes = [
        *(
            [
                f"SQLite alone, one INSERT + COMMIT per transaction with this durability and "
                f"no Python store around it: {raw:,.0f} transactions/s on this disk"
            ]
            if raw is not None
            else []
        ),
        *(
            [
                f"one caller waits for each command's own commit: the store alone does "
                f"{floor1:,.0f} single-event appends/s here, so {COMMANDS_TARGET:,.0f} "
                "commands/s from one caller is above the floor on this machine"
            ]
            if target and floor1 is not None and floor1 < COMMANDS_TARGET
            else []
        ),
        f"events per command: {sum(written.values()) / max(sum(issued.values()), 1):.3f} "
        f"(every command changed something; {sum(issued.values()):,} commands in all)",
        "projections lag after a wait=False segment (s, per round): "
        + ", ".join(f"{x:.2f}" for x in lag),
        "rounds (/s): "
        + "; ".join(f"{k} " + " ".join(f"{v:,.0f}" for v in vs) for k, vs in rates.items()),
    ]
    return CommandResults(rows, notes)


# ---- a realistic log for the rebuild -------------------------------------------------

DATASETS = ("sales", "weather", "traffic", "energy", "health")
THEMES = (p.Theme.LIGHT, p.Theme.DARK, p.Theme.SYSTEM)
CHART_SIZES = ((6, 4), (4, 3), (12, 4), (3, 2), (6, 3), (4, 4))


class LogGenerator:
    """Streams of valid event sequences, interleaved: each step picks an aggregate type by
    weight, then one of its active streams at random, and takes that stream's next event.
    A finished stream is replaced by a new one."""

    WEIGHTS = {
        "query": 30,
        "dashboard": 30,
        "preferences": 12,
        "saved_query": 10,
        "session": 10,
        "catalog": 8,
    }
    ACTIVE = {
        "query": 300,
        "dashboard": 400,
        "preferences": 200,
        "saved_query": 200,
        "session": 200,
        "catalog": 5,
    }

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.now = 1_800_000_000.0
        self.serial = itertools.count()
        self.users = [f"github:{1000 + i}" for i in range(300)]
        self.makers: dict[str, Callable[[], Iterator[tuple[str, Any]]]] = {
            "query": self.query,
            "dashboard": self.dashboard,
            "preferences": self.preferences,
            "saved_query": self.saved_query,
            "session": self.session,
            "catalog": self.catalog,
        }
        self.kinds = list(self.WEIGHTS)
        self.cum = list(itertools.accumulate(self.WEIGHTS.values()))
        self.pref_users = iter(f"github:{5000 + i}" for i in itertools.count())
        self.catalog_ids = iter(f"cat{i}" for i in itertools.count())
        self.active: dict[str, list[Iterator[tuple[str, Any]]]] = {
            kind: [self.makers[kind]() for _ in range(self.ACTIVE[kind])] for kind in self.kinds
        }
        self.sample: list[list[Any]] = []  # the first dashboards' events, for check_dashboards
        self._sampling: dict[str, list[Any]] = {}

    def at(self) -> float:
        self.now += 0.05
        return self.now

    def user(self) -> str:
        return self.rng.choice(self.users)

    def next(self) -> tuple[str, Any]:
        rng = self.rng
        kind = rng.choices(self.kinds, cum_weights=self.cum)[0]
        pool = self.active[kind]
        i = rng.randrange(len(pool))
        while True:
            try:
                return next(pool[i])
            except StopIteration:
                pool[i] = self.makers[kind]()

    # -- aggregates --

    def session(self) -> Iterator[tuple[str, Any]]:
        sid = f"sess-{next(self.serial)}"
        user = self.user()
        who = s.SignInIdentity(
            provider="github",
            provider_user_id=user.split(":")[1],
            login=f"u{user[7:]}",
            display_name=f"User {user[7:]}",
        )
        stream, ttl = s.stream_id(sid), 8 * 3600.0
        at = self.at()
        yield (
            stream,
            s.SessionCreated(
                session_id=sid, user_id=user, identity=who, expires_at=at + ttl, at=at
            ),
        )
        for _ in range(self.rng.randint(0, 8)):
            at = self.at()
            yield (
                stream,
                s.SessionRefreshed(session_id=sid, user_id=user, expires_at=at + ttl, at=at),
            )
        if self.rng.random() < 0.7:
            yield (
                stream,
                s.SessionInvalidated(session_id=sid, user_id=user, reason="logout", at=self.at()),
            )
        else:
            yield (
                stream,
                s.SessionExpired(session_id=sid, user_id=user, expires_at=self.now, at=self.at()),
            )

    def catalog(self) -> Iterator[tuple[str, Any]]:
        cid = next(self.catalog_ids)
        stream = cat.stream_id(cid)
        rng = self.rng
        yield stream, self.metadata(cid, 0)
        for snapshot in itertools.count(1):
            for _ in range(rng.randint(200, 600)):
                yield stream, cat.CatalogSelected(catalog_id=cid, user_id=self.user(), at=self.at())
            yield stream, self.metadata(cid, snapshot)

    def metadata(self, cid: str, snapshot: int) -> cat.CatalogMetadataRefreshed:
        datasets = tuple(
            cat.DatasetMetadata(
                name=name,
                table_count=4,
                schema_version=snapshot,
                tables=tuple(
                    cat.TableMetadata(
                        name=f"{name}_{t}",
                        row_count=10_000 * (t + 1),
                        columns=tuple(
                            cat.ColumnMetadata(name=f"col{c}", type="DOUBLE") for c in range(6)
                        ),
                    )
                    for t in range(4)
                ),
            )
            for name in DATASETS
        )
        return cat.CatalogMetadataRefreshed(
            catalog_id=cid, datasets=datasets, snapshot_id=snapshot, user_id=None, at=self.at()
        )

    def query(self) -> Iterator[tuple[str, Any]]:
        rng = self.rng
        qid = f"run-{next(self.serial)}"
        user, stream = self.user(), q.stream_id(qid)
        dataset = rng.choice(DATASETS)
        config = (
            {"chart_type": "bar", "x": "day", "y": ["value"], "title": f"{dataset} by day"}
            if rng.random() < 0.4
            else None
        )
        started = self.at()
        yield (
            stream,
            q.QueryStarted(
                query_id=qid,
                user_id=user,
                sql=f"SELECT day, avg(value) AS value FROM {dataset} GROUP BY day ORDER BY day",
                catalog_id="lab",
                dataset_ref=DatasetRef(catalog_id="lab", dataset=dataset),
                chart_config=config,
                at=started,
            ),
        )
        roll = rng.random()
        if roll < 0.8:
            yield (
                stream,
                q.QueryCompleted(
                    query_id=qid,
                    user_id=user,
                    result_key=f"results/{qid}.parquet",
                    row_count=rng.randint(1, 5000),
                    columns=(
                        q.ResultColumn(name="day", type="DATE"),
                        q.ResultColumn(name="value", type="DOUBLE"),
                    ),
                    duration_ms=rng.randint(5, 3000),
                    catalog_snapshot_id=3,
                    at=self.at(),
                ),
            )
        elif roll < 0.95:
            yield (
                stream,
                q.QueryFailed(
                    query_id=qid,
                    user_id=user,
                    kind=q.FailureKind.SYNTAX,
                    message='syntax error at or near "GROUP"',
                    position=42,
                    duration_ms=3,
                    at=self.at(),
                ),
            )
        else:
            yield stream, q.QueryCancelled(query_id=qid, user_id=user, at=self.at())

    def saved_query(self) -> Iterator[tuple[str, Any]]:
        rng = self.rng
        qid = f"saved-{next(self.serial)}"
        user, stream = self.user(), sq.stream_id(qid)
        common = {"saved_query_id": qid, "user_id": user}
        ref = DatasetRef(catalog_id="lab", dataset=rng.choice(DATASETS))
        yield (
            stream,
            sq.QuerySaved(
                **common, at=self.at(), name=f"Query {qid}", sql="SELECT 1", dataset_ref=ref
            ),
        )
        for i in range(rng.randint(1, 8)):
            roll = rng.random()
            if roll < 0.3:
                yield stream, sq.QueryRenamed(**common, at=self.at(), name=f"Query {qid} v{i}")
            elif roll < 0.8:
                sql = f"SELECT * FROM {ref.dataset} LIMIT {i + 10}"
                yield stream, sq.QuerySqlUpdated(**common, at=self.at(), sql=sql)
            else:
                ref = DatasetRef(catalog_id="lab", dataset=rng.choice(DATASETS))
                yield stream, sq.DatasetRefUpdated(**common, at=self.at(), dataset_ref=ref)
        if rng.random() < 0.1:
            yield stream, sq.QueryDeleted(**common, at=self.at())

    def preferences(self) -> Iterator[tuple[str, Any]]:
        rng = self.rng
        user = next(self.pref_users)
        stream = p.stream_id(user)
        theme: p.Theme = p.Theme.SYSTEM
        default: str | None = None
        yield stream, p.PreferencesInitialized(user_id=user, at=self.at(), theme=theme)
        for i in range(rng.randint(5, 300)):
            roll = rng.random()
            if roll < 0.25:
                theme = rng.choice([t for t in THEMES if t is not theme])
                yield stream, p.ThemeSet(user_id=user, at=self.at(), theme=theme)
            elif roll < 0.85:
                ui = {"sidebar": 180 + i % 90, "collapsed": ["history"] if i % 3 else []}
                yield stream, p.UiStateUpdated(user_id=user, at=self.at(), ui_state=ui)
            elif default is None or roll < 0.95:
                default = "fixtures" if default == "lab" else "lab"
                yield stream, p.DefaultCatalogSet(user_id=user, at=self.at(), catalog_id=default)
            else:
                default = None
                yield stream, p.DefaultCatalogCleared(user_id=user, at=self.at())

    def dashboard(self) -> Iterator[tuple[str, Any]]:
        """Create, tabs, charts at free places, then edits; every event valid for the
        domain's rules (tabs exist, names unique, charts inside the grid, no overlaps)."""
        rng = self.rng
        did = f"dash-{next(self.serial)}"
        user, stream = self.user(), d.stream_id(did)
        sample = self._sampling.setdefault(did, []) if len(self.sample) < 300 else None
        if sample is not None:
            self.sample.append(sample)
        base = {"dashboard_id": did, "user_id": user}
        tabs: list[list[str]] = [["t0", "Overview"]]
        charts: dict[str, tuple[str, GridRect]] = {}  # chart id -> (tab, rect)
        serial = itertools.count(1)

        def emit(event: Any) -> tuple[str, Any]:
            if sample is not None:
                sample.append(event)
            return stream, event

        def occupied(tab: str, but: str = "") -> dict[str, GridRect]:
            return {k: r for k, (t, r) in charts.items() if t == tab and k != but}

        def fits(rect: GridRect, tab: str, but: str = "") -> bool:
            if not rect.inside_grid():
                return False
            return not any(rect.overlaps(o) for o in occupied(tab, but).values())

        def free_spot(tab: str, w: int, h: int) -> GridRect:
            for y in itertools.count(0):
                for x in range(0, GRID_COLUMNS - w + 1):
                    rect = GridRect(x=x, y=y, width=w, height=h)
                    if fits(rect, tab):
                        return rect
            raise AssertionError("unreachable")

        def add_chart() -> Any:
            tab = rng.choice(tabs)[0]
            w, h = rng.choice(CHART_SIZES)
            rect = free_spot(tab, w, h)
            chart_id = f"c{next(serial)}"
            charts[chart_id] = (tab, rect)
            kind = rng.choice(("line", "bar", "scatter", "area"))
            definition = ChartDefinition(
                query_id=f"run-{rng.randrange(10**6)}",
                config={
                    "chart_type": kind,
                    "x": "day",
                    "y": ["value"],
                    "title": f"{kind} {chart_id}",
                },
            )
            return d.ChartAdded(
                **base,
                at=self.at(),
                chart_id=chart_id,
                tab_id=tab,
                definition=definition,
                position=rect,
            )

        yield emit(
            d.DashboardCreated(
                **base, at=self.at(), name=f"Dashboard {did}", tab_id="t0", tab_name="Overview"
            )
        )
        for _ in range(rng.randint(1, 3)):
            tab_id = f"t{next(serial)}"
            tabs.append([tab_id, f"Tab {tab_id}"])
            yield emit(d.TabAdded(**base, at=self.at(), tab_id=tab_id, name=f"Tab {tab_id}"))
        for _ in range(rng.randint(3, 8)):
            yield emit(add_chart())
        for _ in range(rng.randint(5, 40)):
            roll = rng.random()
            event: Any = None
            if roll < 0.30 and charts:  # move within the tab
                chart_id = rng.choice(list(charts))
                tab, rect = charts[chart_id]
                for _ in range(8):
                    x = rng.randrange(0, GRID_COLUMNS - rect.width + 1)
                    wanted = GridRect(
                        x=x, y=rng.randrange(0, 12), width=rect.width, height=rect.height
                    )
                    if wanted != rect and fits(wanted, tab, chart_id):
                        charts[chart_id] = (tab, wanted)
                        event = d.ChartMoved(
                            **base, at=self.at(), chart_id=chart_id, tab_id=tab, position=wanted
                        )
                        break
            elif roll < 0.45 and charts:  # resize
                chart_id = rng.choice(list(charts))
                tab, rect = charts[chart_id]
                w, h = rng.choice(CHART_SIZES)
                wanted = GridRect(x=rect.x, y=rect.y, width=w, height=h)
                if wanted != rect and fits(wanted, tab, chart_id):
                    charts[chart_id] = (tab, wanted)
                    event = d.ChartResized(
                        **base, at=self.at(), chart_id=chart_id, tab_id=tab, position=wanted
                    )
            elif roll < 0.55 and charts and len(tabs) > 1:  # to another tab's highest free place
                chart_id = rng.choice(list(charts))
                tab, rect = charts[chart_id]
                target = rng.choice([t[0] for t in tabs if t[0] != tab])
                placed = free_spot(target, rect.width, rect.height)
                charts[chart_id] = (target, placed)
                event = d.ChartMovedToTab(
                    **base,
                    at=self.at(),
                    chart_id=chart_id,
                    from_tab_id=tab,
                    tab_id=target,
                    position=placed,
                )
            elif roll < 0.65:
                event = add_chart()
            elif roll < 0.72 and charts:
                chart_id = rng.choice(list(charts))
                tab, _ = charts.pop(chart_id)
                event = d.ChartRemoved(**base, at=self.at(), chart_id=chart_id, tab_id=tab)
            elif roll < 0.80:
                tab = rng.choice(tabs)
                name = f"{tab[0]} {next(serial)}"
                if all(name_key(t[1]) != name_key(name) for t in tabs):
                    tab[1] = name
                    event = d.TabRenamed(**base, at=self.at(), tab_id=tab[0], name=name)
            elif roll < 0.86 and len(tabs) > 1:
                order = [t[0] for t in tabs]
                rng.shuffle(order)
                if order != [t[0] for t in tabs]:
                    tabs.sort(key=lambda t: order.index(t[0]))
                    event = d.TabsReordered(**base, at=self.at(), tab_ids=tuple(order))
            elif roll < 0.90 and len(tabs) > 1:
                empty = [t for t in tabs if not occupied(t[0])]
                if empty:
                    tabs.remove(empty[0])
                    event = d.TabRemoved(**base, at=self.at(), tab_id=empty[0][0])
            elif roll < 0.94 and len(tabs) < 8:
                tab_id = f"t{next(serial)}"
                tabs.append([tab_id, f"Tab {tab_id}"])
                event = d.TabAdded(**base, at=self.at(), tab_id=tab_id, name=f"Tab {tab_id}")
            else:
                event = d.DashboardRenamed(**base, at=self.at(), name=f"Dashboard {next(serial)}")
            if event is not None:
                yield emit(event)
        if rng.random() < 0.05:
            yield emit(d.DashboardDeleted(**base, at=self.at()))


def check_dashboards(samples: list[list[Any]]) -> int:
    """Fold sampled dashboards with the domain's evolve and check the domain's rules hold
    after every event (so the dashboard_history fold sees consistent payloads)."""
    checked = 0
    for events in samples:
        state = None
        for event in events:
            state = d.evolve(state, event)
            tab_ids = [t.tab_id for t in state.tabs]
            assert state.tabs and len(set(tab_ids)) == len(tab_ids), event
            names = [name_key(t.name) for t in state.tabs]
            assert len(set(names)) == len(names), event
            for chart in state.charts:
                assert chart.tab_id in tab_ids and chart.position.inside_grid(), event
                ensure_free(
                    chart.position, state.occupied(chart.tab_id, except_chart=chart.chart_id)
                )
            checked += 1
    return checked


async def generate_log(store: SqlEventStore, count: int, chunk: int = 8_000) -> Counter[str]:
    """``count`` events, appended per stream in group-committed batches of many appends."""
    gen = LogGenerator()
    versions: dict[str, int] = {}
    types: Counter[str] = Counter()
    written = 0
    while written < count:
        pending: dict[str, list[Any]] = {}
        for _ in range(min(chunk, count - written)):
            stream, event = gen.next()
            pending.setdefault(stream, []).append(event)
            types[type(event).__name__] += 1
        appends = []
        for stream, events in pending.items():
            current = versions.get(stream, 0)
            versions[stream] = current + len(events)
            appends.append(store.append(stream, [NewEvent(e) for e in events], current))
        await asyncio.gather(*appends)
        written += sum(len(v) for v in pending.values())
    check_dashboards(gen.sample)
    return types


def own_events(projection: Any, types: Counter[str]) -> int:
    return sum(n for name, n in types.items() if name in projection.event_types)


async def bench_rebuild(
    backend: Backend,
    count: int,
    runs: int,
    *,
    target: bool,
    profiler: ThreadProfiler | None = None,
    singles: bool = True,
    case: str = "rebuild",
) -> tuple[list[RebuildRow], list[str]]:
    app = build_app(backend.app_settings(case))
    rows: list[RebuildRow] = []
    notes: list[str] = []
    try:
        progress(f"{backend.name}: generating {count:,} events")
        t0 = time.perf_counter()
        types = await generate_log(app.events, count)
        gen_s = time.perf_counter() - t0
        head = await app.events.head_position()
        assert head == count, (head, count)
        streams = await app.events.stats()
        notes.append(
            f"log: {count:,} events in {gen_s:.1f} s ({count / gen_s:,.0f}/s through "
            f"SqlEventStore.append, group-committed); by stream type: "
            + ", ".join(
                f"{t} {n:,}"
                for t, n in sorted(_by_stream_type(streams).items(), key=lambda kv: -kv[1])
            )
        )
        await app.runner.prepare()
        if profiler is not None:
            profiler.instrument(app, [app.events])
            profiler.main.enable()

        # the read floor: the same pages the runner reads, decoded, nothing applied
        progress(f"{backend.name}: read floor")
        t0 = time.perf_counter()
        position, read = 0, 0
        while True:
            page = await app.events.read_all(position, CATCH_UP_PAGE)
            if not page:
                break
            position, read = page[-1].position, read + len(page)
        rows.append(
            RebuildRow(
                f"read floor: read_all pages of {CATCH_UP_PAGE:,}, decoded",
                read,
                read,
                time.perf_counter() - t0,
            )
        )

        samples = []
        for run in range(runs):
            progress(f"{backend.name}: rebuild() of all projections ({run + 1}/{runs})")
            t0 = time.perf_counter()
            await app.runner.rebuild()
            samples.append(time.perf_counter() - t0)
        total = sum(own_events(p, types) for p in app.runner.projections)
        rows.append(
            RebuildRow(
                "rebuild(): all 9 projections",
                count,
                total,
                statistics.median(samples),
                "≥ 100,000 ev/s" if target else "—",
                note=" ".join(f"{count / x:,.0f}" for x in samples) if runs > 1 else "",
            )
        )
        await check_read_models(app, types)
        if singles:
            for projection in app.runner.projections:
                progress(f"{backend.name}: rebuild(names=[{projection.name!r}])")
                t0 = time.perf_counter()
                await app.runner.rebuild(names=[projection.name])
                rows.append(
                    RebuildRow(
                        f"  rebuild(names=['{projection.name}'])",
                        count,
                        own_events(projection, types),
                        time.perf_counter() - t0,
                    )
                )
        if profiler is not None:
            profiler.main.disable()
        await check_read_models(app, types)
    finally:
        await close_app(app)
    return rows, notes


def _by_stream_type(stats: list[tuple[str, str, int]]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for stream_type, _, n in stats:
        out[stream_type] += n
    return out


async def check_read_models(app: Ironstar, types: Counter[str]) -> None:
    """The rebuild really applied everything: no errors, rows where rows are expected."""
    one = app.projections.query
    errors = (await one("SELECT count(*) FROM projection_errors"))[0][0]
    assert errors == 0, f"{errors} projection errors"
    dashboard_events = sum(n for t, n in types.items() if t in DASHBOARD_EVENTS)
    history = (await one("SELECT count(*) FROM dashboard_history"))[0][0]
    assert history == dashboard_events, (history, dashboard_events)
    dashboards = (await one("SELECT count(*) FROM dashboards"))[0][0]
    assert dashboards == types["DashboardCreated"], dashboards
    queries = (await one("SELECT count(*) FROM queries"))[0][0]
    assert queries == types["QueryStarted"], queries
    positions = set(app.runner.checkpoints().values())
    assert positions == {await app.events.head_position()}, positions


DASHBOARD_EVENTS = frozenset(e.__name__ for e in d.EVENTS)


# ---- output --------------------------------------------------------------------------


def print_commands(title: str, rows: list[CommandRow], notes: list[str]) -> None:
    columns = [
        ("case", False),
        ("app (Ironstar.execute)", True),
        ("store floor (append)", True),
        ("app/floor", True),
        ("target", False),
        ("result", False),
    ]
    cells = []
    for r in rows:
        ratio = r.ratio()
        cells.append(
            [
                r.case,
                r.app.text() + " cmd",
                r.floor.text(),
                "—" if ratio is None else f"{ratio:.2f}x",
                r.target,
                verdict_cell(r.verdict()),
            ]
        )
    print_table(title, columns, cells, notes)


def print_rebuild(title: str, rows: list[RebuildRow], notes: list[str]) -> None:
    columns = [
        ("case", False),
        ("events read", True),
        ("events applied", True),
        ("seconds", True),
        ("events read/s", True),
        ("applied/s", True),
        ("target", False),
        ("result", False),
    ]
    cells = []
    for r in rows:
        sec = r.seconds or 0
        cells.append(
            [
                r.case,
                f"{r.events:,}",
                f"{r.own:,}",
                f"{sec:.2f}",
                f"{r.rate:,.0f}" if r.rate else "—",
                f"{r.own / sec:,.0f}" if sec else "—",
                r.target,
                verdict_cell(r.verdict()),
            ]
        )
    runs = [f"{r.case.strip()}: runs (events/s) {r.note}" for r in rows if r.note]
    print_table(title, columns, cells, [*runs, *notes])


def machine_facts(pg: str) -> list[str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return [
        f"cores: {os.cpu_count()}  load average at the end: "
        + " ".join(f"{x:.2f}" for x in load)  # type: ignore[union-attr]
        + f"  platform: {platform.platform()}",
        f"python {platform.python_version()}  sqlite {sqlite3.sqlite_version}  PostgreSQL: {pg}",
        f"msgspec {version('msgspec')}  psycopg {version('psycopg')}",
    ]


# ---- main ----------------------------------------------------------------------------


def postgres_backend(url: str, root: Path) -> tuple[PostgresBackend | None, str]:
    try:
        return PostgresBackend(url, root), ""
    except Exception as exc:
        return None, f"PostgreSQL at {url} is unreachable ({type(exc).__name__}: {exc})"


@dataclass
class Report:
    sections: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    misses: int = 0
    profiles: list[str] = field(default_factory=list)


async def main_async(args: argparse.Namespace) -> int:
    scale = QUICK if args.quick else FULL
    if args.events:
        scale = Scale(**{**scale.__dict__, "rebuild_events": args.events})
    root = Path.cwd() / ".bench-tmp"
    root.mkdir(exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="domain-", dir=root))
    url = os.environ.get(PG_ENV, PG_DEFAULT)
    started = time.perf_counter()
    report = Report()
    pg_version = "not used"
    want_sqlite = args.backend in ("sqlite", "all")
    want_pg = args.backend in ("postgres", "all")
    commands = args.part in ("commands", "all")
    rebuild = args.part in ("rebuild", "all")
    mode = "quick" if args.quick else "full"

    def add_commands(name: str, result: CommandResults | None, backend: Backend) -> None:
        if result is None:
            report.sections.append((name, lambda: print(f"{name}: failed (see stderr)")))
            return
        report.misses += sum(r.verdict() == "MISS" for r in result.rows)
        notes = [*backend.settings_notes, *result.notes]
        report.sections.append(
            (name, lambda: print_commands(f"Commands/s - {name} ({mode})", result.rows, notes))
        )

    def add_rebuild(name: str, result: Any, backend: Backend) -> None:
        if result is None:
            report.sections.append((name, lambda: print(f"{name} rebuild: failed (see stderr)")))
            return
        rows, notes = result
        report.misses += sum(r.verdict() == "MISS" for r in rows)
        report.sections.append(
            (name, lambda: print_rebuild(f"Projection rebuild - {name} ({mode})", rows, notes))
        )

    try:
        sqlite_backends: list[SqliteBackend] = []
        if want_sqlite:
            sqlite_backends = [SqliteBackend(run_dir, "FULL"), SqliteBackend(run_dir, "NORMAL")]
        pg: PostgresBackend | None = None
        if want_pg:
            pg, reason = postgres_backend(url, run_dir)
            if pg is None:
                pg_version = f"skipped: {reason}"
                report.sections.append(("PostgreSQL", lambda: print(f"PostgreSQL: {reason}")))
            else:
                pg_version = pg.version
        try:
            if commands:
                print("commands ...", file=sys.stderr, flush=True)
                for sb in sqlite_backends:
                    res = await guarded(
                        sb.name, lambda sb=sb: bench_commands(sb, scale, target=True)
                    )  # type: ignore[misc]
                    add_commands(sb.name, res, sb)
                if pg is not None:
                    res = await guarded("pg", lambda: bench_commands(pg, scale, target=False))
                    add_commands(pg.name, res, pg)
            if rebuild:
                print("rebuild ...", file=sys.stderr, flush=True)
                if sqlite_backends:
                    sb = sqlite_backends[-1]
                    res = await guarded(
                        "rebuild",
                        lambda: bench_rebuild(
                            sb, scale.rebuild_events, scale.rebuild_runs, target=True
                        ),
                    )
                    add_rebuild("SQLite", res, sb)
                if pg is not None and args.quick and want_sqlite:
                    report.sections.append(
                        (
                            "PostgreSQL rebuild",
                            lambda: print(
                                "PostgreSQL rebuild: skipped in --quick with SQLite (run "
                                "--quick --backend postgres --part rebuild for it)"
                            ),
                        )
                    )
                elif pg is not None:
                    res = await guarded(
                        "pg rebuild",
                        lambda: bench_rebuild(
                            pg, scale.pg_rebuild_events, 1, target=True, singles=not args.quick
                        ),
                    )
                    add_rebuild("PostgreSQL", res, pg)
            if args.profile and sqlite_backends:
                # commands at the default durability; the rebuild as the rebuild case ran
                sb = sqlite_backends[0 if args.profile == "commands" else -1]
                profiler = ThreadProfiler()
                if args.profile == "commands":
                    print("profiling commands ...", file=sys.stderr, flush=True)
                    small = Scale(
                        **{**scale.__dict__, "rounds": 1, "commands": scale.commands // 2}
                    )
                    await bench_commands(sb, small, target=False, profiler=profiler)
                else:
                    print("profiling rebuild ...", file=sys.stderr, flush=True)
                    await bench_rebuild(
                        sb,
                        scale.rebuild_events // 2,
                        1,
                        target=False,
                        profiler=profiler,
                        singles=False,
                        case="profile-rebuild",
                    )
                report.profiles.append(profiler.report(f"{args.profile} on {sb.name}"))
        finally:
            for sb in sqlite_backends:
                sb.cleanup()
            if pg is not None:
                pg.cleanup()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            root.rmdir()

    print()
    print(f"Ironstar application benchmark ({mode} run, {time.perf_counter() - started:.0f} s)")
    for line in machine_facts(pg_version):
        print(f"  {line}")
    print(
        f"  command mix: {mix_summary()}; targets: 1 caller on SQLite ≥ 3,000 commands/s, "
        "rebuild ≥ 100,000 events/s"
    )
    for _, show in report.sections:
        print()
        show()
    for text in report.profiles:
        print(text)
    return 1 if report.misses and args.strict else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down run (< 60 s)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--part", choices=("commands", "rebuild", "all", "none"), default="all")
    parser.add_argument("--profile", choices=("commands", "rebuild"), default=None)
    parser.add_argument("--events", type=int, default=0, help="override the rebuild's log size")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
