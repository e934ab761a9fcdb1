"""One runner for every projection: catch up, follow live, checkpoint with the rows.

Each page of events is applied to every projection inside one transaction that also
moves each projection's checkpoint, so a crash never leaves rows and checkpoint out of
step, and re-applying after a restart starts exactly where the last commit ended.

Pages are applied on the projection store's writer thread, in position order, by one
queue two paths feed: the follower on the event loop (catch-up, and whatever another
process committed), and - for events this process commits - the event store's writer
thread, which hands each committed transaction straight over (``committed_here``), so
a command's events reach the read models without waiting for the event loop to turn.
Either way the loop hears of each applied page in order, and only then wakes the
read-your-writes waiters.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Protocol

from ironstar.eventstore.model import ALL_EVENTS, EventFilter, RecordedEvent
from ironstar.eventstore.ports import EventStore
from ironstar.projections.store import ProjectionStore, Tx

log = logging.getLogger(__name__)


class Projection(Protocol):
    """A read model. It may also define ``apply_page(tx, events)``: the page's events it
    reads, in order, leaving exactly the rows ``apply`` one by one would, in fewer
    statements. The runner then uses it for every page (catch-up and live alike), and
    ``apply`` only to isolate a failing event."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int:
        """Bump when tables or logic change: the projection is rebuilt on start."""
        ...

    @property
    def tables(self) -> tuple[str, ...]: ...
    @property
    def event_types(self) -> frozenset[str]:
        """What it reads; the runner skips everything else."""
        ...

    def create(self, tx: Tx) -> None: ...
    def apply(self, tx: Tx, event: RecordedEvent) -> None: ...


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Catch-up allocates millions of short-lived, acyclic objects (rows, events,
    payloads), and the cyclic collector kept walking them: ~8% of a 1M-event rebuild,
    with no cycles found (peak memory was the same without it). Pause it while catching
    up, then collect the young generations once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(1)


# Catch-up and rebuild pages: each is one transaction, so a row that many events change
# (a dashboard, a query run) is loaded and written once per page. 20,000 events ran a
# 1M-event rebuild ~1.4x faster than 5,000, for ~50 MB more memory; larger pages gained
# nothing more.
CATCH_UP_PAGE = 20_000


class UnknownProjection(LookupError):
    code = "unknown_projection"


class ProjectionsHalted(RuntimeError):
    """A page could not be applied; the runner restarts from its stored checkpoints."""


_CHECKPOINTS = (
    "CREATE TABLE IF NOT EXISTS projection_checkpoints ("
    "name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL, "
    "updated_at DOUBLE PRECISION NOT NULL)"
)
_ERRORS = (
    "CREATE TABLE IF NOT EXISTS projection_errors ("
    "name TEXT NOT NULL, position BIGINT NOT NULL, event_type TEXT NOT NULL, "
    "error TEXT NOT NULL, recorded_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (name, position))"
)


class ProjectionRunner:
    def __init__(
        self,
        events: EventStore,
        db: ProjectionStore,
        projections: Sequence[Projection],
        *,
        batch_size: int = 1000,
        catch_up_batch_size: int = CATCH_UP_PAGE,
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names must be unique: {names}")
        self._events = events
        self._db = db
        self._projections = list(projections)
        self._batch_size = batch_size
        # Catch-up and rebuilds read larger pages: fewer commits (and WAL checkpoints) per
        # event; live following keeps small pages so each commit shows up quickly.
        self._catch_up_batch_size = max(batch_size, catch_up_batch_size)
        self._checkpoints: dict[str, int] = {}  # as the event loop has heard of them
        self._written: dict[str, int] = {}  # as the writer thread has committed them
        self._position = 0
        # Hand-off of pages to the writer thread: ``_queued`` is the last position handed
        # over by either path, and a page is only ever queued right after it (the lock
        # makes "check, then queue" one step), so no page is applied twice or out of order.
        self._handoff = threading.Lock()
        self._queued = 0
        self._loop: asyncio.AbstractEventLoop | None = None  # set while following live
        self._generation = 0  # bumped on stop: pages queued before it are not published
        # Set on the writer thread when a page could not be applied at all (the database
        # failed, not one event): later pages are refused until the runner restarts from
        # the checkpoints it stored, so nothing is ever applied past a missing page.
        self._halted = False
        self._restarting: asyncio.Task[None] | None = None
        # Read-your-writes waiters, by the position each waits for: a page wakes only the
        # commands it satisfies (a condition variable woke every waiter on every page, and
        # each re-took its lock in turn to check and sleep again).
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self.failures = 0
        # Called on the event loop with each page once the read models show it, before
        # anyone waiting for those positions is woken (e.g. to evict cached sessions).
        self.listeners: list[Callable[[list[RecordedEvent]], None]] = []

    @property
    def position(self) -> int:
        """Every projection has applied all events up to here."""
        return self._position

    @property
    def started_following(self) -> bool:
        return self._task is not None

    @property
    def projections(self) -> list[Projection]:
        return list(self._projections)

    def checkpoints(self) -> dict[str, int]:
        return dict(self._checkpoints)

    async def prepare(self) -> None:
        """Create tables and load checkpoints; rebuild projections whose version changed."""
        self._checkpoints = await self._db.write(self._prepare)
        self._restart_at(min(self._checkpoints.values(), default=0))

    def _restart_at(self, position: int) -> None:
        """The writer thread is idle and the checkpoints are as stored: go on from there."""
        self._written = dict(self._checkpoints)
        self._position = position
        with self._handoff:
            self._queued = position
            self._halted = False

    def _prepare(self, tx: Tx) -> dict[str, int]:
        tx.execute(_CHECKPOINTS)
        tx.execute(_ERRORS)
        stored = {
            name: (position, version)
            for name, position, version in tx.fetchall(
                "SELECT name, position, version FROM projection_checkpoints"
            )
        }
        result = {}
        for projection in self._projections:
            position, version = stored.get(projection.name, (0, None))
            if version != projection.version:
                self._reset(tx, projection)
                position = 0
            else:
                projection.create(tx)
            result[projection.name] = position
        return result

    def _reset(self, tx: Tx, projection: Projection) -> None:
        for table in projection.tables:
            tx.execute(f'DROP TABLE IF EXISTS "{table}"')
        projection.create(tx)
        tx.execute("DELETE FROM projection_errors WHERE name = ?", (projection.name,))
        tx.execute(
            "INSERT INTO projection_checkpoints (name, position, version, updated_at) "
            "VALUES (?, 0, ?, ?) ON CONFLICT (name) DO UPDATE SET position = 0, "
            "version = excluded.version, updated_at = excluded.updated_at",
            (projection.name, projection.version, time.time()),
        )

    def _reset_all(self, tx: Tx, projections: list[Projection]) -> None:
        for projection in projections:
            self._reset(tx, projection)

    async def start(self) -> None:
        """Prepare, then catch up and follow live in the background."""
        await self.prepare()
        with self._handoff:
            self._loop = asyncio.get_running_loop()
        hooks = getattr(self._events, "committed_here", None)
        if isinstance(hooks, list) and self._committed_here not in hooks:
            hooks.append(self._committed_here)
        self._task = asyncio.create_task(self._follow(), name="projection-runner")

    async def stop(self) -> None:
        hooks = getattr(self._events, "committed_here", None)
        if isinstance(hooks, list) and self._committed_here in hooks:
            hooks.remove(self._committed_here)
        with self._handoff:
            self._loop = None
            self._generation += 1
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def catch_up(self) -> int:
        """Apply everything committed so far, then return (no live following)."""
        head = await self._events.head_position()
        if self._position >= head:
            return self._position
        if head - self._position <= self._catch_up_batch_size:  # a page or less: as it is
            await self._catch_up_to(head)
        else:
            await self._db.bulk(True)
            try:
                with _no_cycle_collection():
                    await self._catch_up_to(head)
            finally:
                await self._db.bulk(False)
        if self._position < head:  # the filter left the last events out: none was wanted
            self._checkpoints.update(await self._db.write(lambda tx: self._advance(tx, head)))
            with self._handoff:
                self._queued = max(self._queued, head)
            self._moved_to(min(self._checkpoints.values(), default=head))
        return self._position

    async def _catch_up_to(self, head: int) -> None:
        limit, wanted = self._catch_up_batch_size, self._wanted(head)
        # The next page is read while this one is applied: the reader's time in SQLite
        # (or the network) overlaps the writer's, as both release the GIL there.
        reading = asyncio.ensure_future(self._events.read_all(self._position, limit, wanted))
        try:
            while True:
                page = await reading
                done = not page or len(page) < limit or page[-1].position >= head
                if not done:
                    reading = asyncio.ensure_future(
                        self._events.read_all(page[-1].position, limit, wanted)
                    )
                if page:
                    await self._apply(page)
                if done:
                    break
        finally:
            reading.cancel()

    def _wanted(self, head: int) -> EventFilter:
        """Only the types the projections behind read, when that leaves some out (a
        rebuild of one projection reads its own events, not the whole log)."""
        behind = [p for p in self._projections if self._checkpoints.get(p.name, 0) < head]
        types = frozenset().union(*(p.event_types for p in behind))
        if types == frozenset().union(*(p.event_types for p in self._projections)):
            return ALL_EVENTS
        return EventFilter(event_types=tuple(sorted(types)))

    def _advance(self, tx: Tx, head: int) -> dict[str, int]:
        moved = {name: head for name, position in self._written.items() if position < head}
        self._save_checkpoints(tx, moved)
        self._written.update(moved)
        return moved

    async def rebuild(self, names: Iterable[str] | None = None) -> int:
        """Drop and re-create the named projections (all by default), then catch up."""
        chosen = self._select(names)
        await self.stop()
        await self._db.write(lambda tx: self._reset_all(tx, chosen))
        for projection in chosen:
            self._checkpoints[projection.name] = 0
        self._restart_at(min(self._checkpoints.values(), default=0))
        return await self.catch_up()

    async def wait_for(self, position: int, timeout: float = 10.0) -> bool:
        """Read-your-writes: True once every projection has applied ``position``."""
        if self._position >= position:
            return True
        reached: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (position, next(self._arrivals), reached))
        try:
            async with asyncio.timeout(timeout):
                await reached
        except TimeoutError:
            return self._position >= position
        return True

    def _moved_to(self, position: int) -> None:
        """Every projection has applied ``position``: wake whoever waited for it."""
        self._position = position
        waiters = self._waiters
        while waiters and waiters[0][0] <= position:
            reached = heapq.heappop(waiters)[2]
            if not reached.done():  # a waiter that timed out left its future behind
                reached.set_result(None)

    def _select(self, names: Iterable[str] | None) -> list[Projection]:
        if names is None:
            return list(self._projections)
        by_name = {p.name: p for p in self._projections}
        wanted = list(names)
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise UnknownProjection(
                f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(sorted(by_name))}"
            )
        return [by_name[n] for n in wanted]

    async def _follow(self) -> None:
        while True:
            try:
                await self.catch_up()  # large pages first (a start after a version bump)
                async for page in self._events.subscribe_batches(
                    self._queued, batch_size=self._batch_size
                ):
                    await self._apply(page)  # usually handed over already: then a no-op
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the read side alive; the store may come back
                log.exception("projection runner failed; retrying in 1 s")
                self.failures += 1
                await asyncio.sleep(1)

    async def _apply(self, page: list[RecordedEvent]) -> None:
        """Apply what of ``page`` was not handed over yet; return once the loop has
        heard it was applied."""
        queued = self._hand_off(page, asyncio.get_running_loop())
        if queued is not None:
            await asyncio.wrap_future(queued)

    def _committed_here(self, events: list[RecordedEvent]) -> None:
        """On the event store's writer thread, right after a commit: queue its events at
        once if they continue exactly where the queue stands (otherwise - events of
        another process in between, or catch-up still behind - the follower reads them)."""
        loop = self._loop
        if loop is not None and events:
            self._hand_off(events, loop, only_if_next=True)

    def _hand_off(
        self, page: list[RecordedEvent], loop: asyncio.AbstractEventLoop, only_if_next: bool = False
    ) -> Future[None] | None:
        with self._handoff:
            if only_if_next and (self._loop is None or page[0].position != self._queued + 1):
                return None
            if page[0].position <= self._queued:
                page = [event for event in page if event.position > self._queued]
                if not page:
                    return None
            self._queued = page[-1].position
            generation = self._generation
            try:
                return self._db.submit(lambda: self._apply_and_publish(page, loop, generation))
            except RuntimeError:  # the store is closing; the follower will retry
                self._queued = page[0].position - 1
                return None

    def _apply_and_publish(
        self, page: list[RecordedEvent], loop: asyncio.AbstractEventLoop, generation: int
    ) -> None:
        """On the projection writer thread: apply, then tell the loop (in page order)."""
        if self._halted:
            raise ProjectionsHalted("an earlier page could not be applied; restarting")
        database = self._db.database
        try:
            try:
                moved = database.transaction(lambda tx: self._apply_page(tx, page))
            except Exception:
                log.exception("a page of events failed; applying one event at a time")
                moved = self._apply_isolated(page)
        except Exception:
            self._halted = True
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._halted_on_failure, generation)
            raise
        self._written.update(moved)
        try:
            loop.call_soon_threadsafe(self._published, page, moved, generation)
        except RuntimeError:  # that loop has closed: nobody is waiting
            pass

    def _halted_on_failure(self, generation: int) -> None:
        """A page failed as a whole: start again from the stored checkpoints, shortly."""
        self.failures += 1
        if generation == self._generation and self._loop is not None:
            self._restarting = asyncio.create_task(
                self._restart(), name="projection-runner-restart"
            )

    async def _restart(self) -> None:
        await asyncio.sleep(1)
        if self._loop is not None:  # not stopped meanwhile
            await self.stop()
            await self.start()

    def _published(self, page: list[RecordedEvent], moved: dict[str, int], generation: int) -> None:
        if generation != self._generation:
            return  # stopped meanwhile: a restart reads the checkpoints back from the store
        self._checkpoints.update(moved)
        for listener in self.listeners:
            try:
                listener(page)
            except Exception:
                log.exception("a projection listener failed")
        self._moved_to(min(self._checkpoints.values(), default=page[-1].position))

    def _apply_page(self, tx: Tx, page: list[RecordedEvent]) -> dict[str, int]:
        last = page[-1].position
        moved = {}
        # One pass over the page hands each event to the projections reading its type
        # (rather than every projection testing every event); each projection still
        # applies its events in page order, one projection after the other.
        behind = [p for p in self._projections if self._written.get(p.name, 0) < last]
        wanted: list[list[RecordedEvent]] = [[] for _ in behind]
        readers: dict[str, list[list[RecordedEvent]]] = {}
        for projection, mine in zip(behind, wanted, strict=True):
            for event_type in projection.event_types:
                readers.setdefault(event_type, []).append(mine)
        for event in page:
            for mine in readers.get(event.event_type, ()):
                mine.append(event)
        for projection, mine in zip(behind, wanted, strict=True):
            done = self._written.get(projection.name, 0)
            if mine and mine[0].position <= done:
                mine = [event for event in mine if event.position > done]
            apply_page = getattr(projection, "apply_page", None)
            if apply_page is not None:
                if mine:
                    apply_page(tx, mine)
            else:
                for event in mine:
                    projection.apply(tx, event)
            moved[projection.name] = last
        self._save_checkpoints(tx, moved)
        return moved

    def _save_checkpoints(self, tx: Tx, moved: dict[str, int]) -> None:
        # One statement per position, not per projection: a live page moves all of them
        # to its last event, and each statement costs the writer thread a round trip
        # through the GIL, which a busy event loop can hold for milliseconds.
        now = time.time()
        names_at: dict[int, list[str]] = {}
        for name, position in moved.items():
            names_at.setdefault(position, []).append(name)
        for position, names in names_at.items():
            marks = ", ".join("?" * len(names))
            tx.execute(
                "UPDATE projection_checkpoints SET position = ?, updated_at = ? "
                f"WHERE name IN ({marks})",
                (position, now, *names),
            )

    def _apply_isolated(self, page: list[RecordedEvent]) -> dict[str, int]:
        """A failing event is recorded in projection_errors and skipped by that projection
        only, so one bad event never stalls every screen. On the writer thread."""
        database = self._db.database
        moved: dict[str, int] = {}
        for projection in self._projections:
            done = self._written.get(projection.name, 0)
            for event in page:
                if event.position <= done:
                    continue
                if event.event_type in projection.event_types:
                    try:
                        database.transaction(partial(self._apply_one, p=projection, e=event))
                    except Exception as exc:
                        log.error(
                            "projection %s failed on event %s: %s",
                            projection.name,
                            event.position,
                            exc,
                        )
                        database.transaction(
                            partial(self._record_error, p=projection, e=event, x=exc)
                        )
                moved[projection.name] = event.position
        return moved

    def _apply_one(self, tx: Tx, *, p: Projection, e: RecordedEvent) -> None:
        p.apply(tx, e)
        self._save_checkpoints(tx, {p.name: e.position})

    def _record_error(self, tx: Tx, *, p: Projection, e: RecordedEvent, x: BaseException) -> None:
        projection, event, exc = p, e, x
        tx.execute(
            "INSERT INTO projection_errors (name, position, event_type, error, recorded_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, position) DO NOTHING",
            (projection.name, event.position, event.event_type, repr(exc)[:2000], time.time()),
        )
        self._save_checkpoints(tx, {projection.name: event.position})
