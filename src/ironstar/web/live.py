"""Live pages: one broadcaster per app fans stored events out to SSE clients.

The broadcaster follows the event store from its head. For each event it first waits
until the read models reflect it (so a re-rendered fragment shows the change), then
offers it to every client whose page cares. Each client owns a bounded queue: offering
never blocks, and a client whose queue is full is marked lagging and told to reload,
so one slow browser can stall neither commands nor other browsers.

A fragment is the whole current state of what a page shows, so it is rendered once for
every client showing the same view (``View.key``) and filled in per client with its own
CSRF token and fresh idempotency keys (``templating.Slotted``). A client that has fallen
behind by several events sends only the newest fragment, with the newest position as its
id: that fragment includes every earlier change, so nothing the id claims is skipped.

A reconnecting client names the last position it saw (Last-Event-ID, or ``after`` for
the first connection of a page rendered at that position): the store is read back for
events it missed, then live ones follow, deduplicated by position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from ironstar.bootstrap import Services
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.runner import ProjectionRunner
from ironstar.web.metrics import Metrics
from ironstar.web.templating import Slotted

log = logging.getLogger("ironstar.web.live")

QUEUE_SIZE = 256
KEEP_ALIVE_SECONDS = 15.0
REPLAY_LIMIT = 5_000  # events scanned on reconnect before giving up and asking to reload
READ_MODEL_TIMEOUT = 5.0

Wants = Callable[[RecordedEvent], bool]
Render = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class View:
    """What a page shows live. Clients with equal keys get the same fragment (up to their
    CSRF token and idempotency keys), so the key names everything the rendering reads:
    route, subject, options, user and the URL base links are built from."""

    key: Hashable
    event_name: str
    render: Render  # the fragment's HTML, rendered with templating.SLOTS


@dataclass(eq=False)
class Client:
    """One open stream: which events it wants and what it has not sent yet."""

    wants: Wants
    queue: asyncio.Queue[RecordedEvent] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    lagging: bool = False
    view_key: Hashable = None

    def offer(self, event: RecordedEvent) -> None:
        if self.lagging or not self.wants(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True  # the stream sends "reload" and ends; nothing else blocks

    def newest(self) -> int:
        """Takes every queued event; the newest position among them (0: none)."""
        newest = 0
        while not self.queue.empty():
            newest = max(newest, self.queue.get_nowait().position)
        return newest


class Renderings:
    """The latest rendering of each view, shared by all the clients showing it.

    A rendering started when the read models stood at position R shows every event up to
    R, so it serves any client asking for a position <= R; a newer position renders anew.
    The first client to ask starts the rendering; the others await the same task."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self.runner = runner
        self.count = 0  # renderings started (for tests and metrics)
        self._latest: dict[Hashable, tuple[int, asyncio.Task[Slotted]]] = {}
        self._viewers: Counter[Hashable] = Counter()

    async def at(self, view: View, position: int) -> Slotted:
        """A rendering of ``view`` showing at least every event up to ``position``; the read
        models must have reached it. Raises what the view's render raised."""
        held = self._latest.get(view.key)
        if held is None or held[0] < position:
            task = asyncio.create_task(self._render(view), name="sse-render")
            task.add_done_callback(_retrieve)
            held = self._latest[view.key] = (self.runner.position, task)
            self.count += 1
        # Shielded: a client leaving must not cancel the rendering others wait for.
        return await asyncio.shield(held[1])

    @staticmethod
    async def _render(view: View) -> Slotted:
        return Slotted.parse(format_message(view.event_name, await view.render()))

    def watch(self, key: Hashable) -> None:
        self._viewers[key] += 1

    def unwatch(self, key: Hashable) -> None:
        self._viewers[key] -= 1
        if self._viewers[key] <= 0:
            del self._viewers[key]
            self._latest.pop(key, None)


def _retrieve(task: asyncio.Task[Slotted]) -> None:
    """Marks a failed rendering's error as seen (the clients awaiting it got it already)."""
    if not task.cancelled():
        task.exception()


class Broadcaster:
    def __init__(self, services: Services, metrics: Metrics | None = None) -> None:
        self.services = services
        self.metrics = metrics
        self.clients: set[Client] = set()
        self.renderings = Renderings(services.app.runner)
        self.position = 0  # the last event offered to clients
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._lock:
            if self._task is not None and not self._task.done():
                return
            self.position = await self.services.app.events.head_position()
            self._task = asyncio.create_task(self._follow(self.position), name="sse-broadcaster")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _follow(self, after: int) -> None:
        events, runner = self.services.app.events, self.services.app.runner
        while True:
            try:
                async for event in events.subscribe(after):
                    await runner.wait_for(event.position, READ_MODEL_TIMEOUT)
                    # No await between these lines: a client registering now either
                    # sees this position as its start or receives this event.
                    after = self.position = event.position
                    for client in tuple(self.clients):
                        client.offer(event)
                return  # the store closed
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SSE broadcaster failed; following again from %s in 1 s", after)
                await asyncio.sleep(1)

    def register(self, client: Client) -> int:
        """Adds a client; returns the position live delivery starts after."""
        self.clients.add(client)
        self.renderings.watch(client.view_key)
        if self.metrics is not None:
            self.metrics.sse_clients.set(len(self.clients))
        return self.position

    def unregister(self, client: Client) -> None:
        if client in self.clients:
            self.clients.remove(client)
            self.renderings.unwatch(client.view_key)
        if self.metrics is not None:
            self.metrics.sse_clients.set(len(self.clients))

    async def replay(self, client: Client, after: int, until: int) -> list[RecordedEvent] | None:
        """Stored events in (after, until] the client wants; None when too many to scan."""
        missed: list[RecordedEvent] = []
        scanned = 0
        position = after
        while position < until:
            page = await self.services.app.events.read_all(position, 500)
            if not page:
                break
            for event in page:
                if event.position > until:
                    return missed
                if client.wants(event):
                    missed.append(event)
            position = page[-1].position
            scanned += len(page)
            if scanned > REPLAY_LIMIT:
                return None
        return missed


def format_message(event: str, data: str, message_id: int | None = None) -> str:
    lines = []
    if message_id is not None:
        lines.append(f"id: {message_id}")
    lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in (data.splitlines() or [""]))
    return "\n".join(lines) + "\n\n"


async def stream(
    broadcaster: Broadcaster,
    wants: Wants,
    view: View,
    *,
    csrf_token: str,
    last_id: int | None,
    keep_alive: float = KEEP_ALIVE_SECONDS,
) -> AsyncIterator[str]:
    """The SSE body for one client: what it missed, then live changes, keep-alives between.

    Each message is the view's newest rendering, filled in with ``csrf_token`` and fresh
    idempotency keys. A rendering that raises (e.g. the dashboard is gone) ends the stream
    with "reload"."""
    await broadcaster.start()
    client = Client(wants, view_key=view.key)
    start = broadcaster.register(client)
    try:
        yield "retry: 1000\n: connected\n\n"
        sent = last_id if last_id is not None else start
        pending = 0  # the newest position this client wants and has not been sent
        if last_id is not None and last_id < start:
            replayed = await broadcaster.replay(client, last_id, start)
            if replayed is None:
                yield format_message("reload", "too much was missed", start)
                return
            pending = max((event.position for event in replayed), default=0)
        runner = broadcaster.services.app.runner
        while True:
            if client.lagging:
                yield format_message("reload", "this page fell behind", broadcaster.position)
                return
            pending = max(pending, client.newest())
            if pending <= sent:  # nothing new (replay and live overlap): wait for more
                try:
                    async with asyncio.timeout(keep_alive):
                        pending = (await client.queue.get()).position
                except TimeoutError:
                    yield ": keep-alive\n\n"
                continue
            await runner.wait_for(pending, READ_MODEL_TIMEOUT)
            try:
                rendering = await broadcaster.renderings.at(view, pending)
            except Exception as exc:  # the page's subject is gone or no longer ours
                log.info("SSE stream ends with reload: %s", exc)
                yield format_message("reload", "the page changed", pending)
                return
            sent = pending
            yield f"id: {sent}\n{rendering.fill(csrf_token)}"
    finally:
        broadcaster.unregister(client)


def broadcaster_of(state: object, services: Services) -> Broadcaster:
    """The app's broadcaster, created on first use (``app.state.broadcaster``)."""
    existing = getattr(state, "broadcaster", None)
    if isinstance(existing, Broadcaster) and existing.services is services:
        return existing
    created = Broadcaster(services, getattr(state, "metrics", None))
    state.broadcaster = created  # type: ignore[attr-defined]
    return created
