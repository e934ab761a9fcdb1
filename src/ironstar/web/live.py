"""Live pages: one broadcaster per app fans stored events out to SSE clients.

The broadcaster follows the event store from its head. For each event it first waits
until the read models reflect it (so a re-rendered fragment shows the change), then
offers it to every client whose page cares. Each client owns a bounded queue: offering
never blocks, and a client whose queue is full is marked lagging and told to reload,
so one slow browser can stall neither commands nor other browsers.

A reconnecting client names the last position it saw (Last-Event-ID, or ``after`` for
the first connection of a page rendered at that position): the events it missed are
read back from the store, then live ones follow, deduplicated by position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from ironstar.bootstrap import Services
from ironstar.eventstore.model import RecordedEvent
from ironstar.web.metrics import Metrics

log = logging.getLogger("ironstar.web.live")

QUEUE_SIZE = 256
KEEP_ALIVE_SECONDS = 15.0
REPLAY_LIMIT = 5_000  # events scanned on reconnect before giving up and asking to reload
READ_MODEL_TIMEOUT = 5.0

Wants = Callable[[RecordedEvent], bool]
Render = Callable[[RecordedEvent], Awaitable[str | None]]


@dataclass(eq=False)
class Client:
    """One open stream: which events it wants and what it has not sent yet."""

    wants: Wants
    queue: asyncio.Queue[RecordedEvent] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    lagging: bool = False

    def offer(self, event: RecordedEvent) -> None:
        if self.lagging or not self.wants(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True  # the stream sends "reload" and ends; nothing else blocks


class Broadcaster:
    def __init__(self, services: Services, metrics: Metrics | None = None) -> None:
        self.services = services
        self.metrics = metrics
        self.clients: set[Client] = set()
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
        if self.metrics is not None:
            self.metrics.sse_clients.set(len(self.clients))
        return self.position

    def unregister(self, client: Client) -> None:
        self.clients.discard(client)
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
    render: Render,
    event_name: str,
    *,
    last_id: int | None,
    keep_alive: float = KEEP_ALIVE_SECONDS,
) -> AsyncIterator[str]:
    """The SSE body for one client: missed events, then live ones, keep-alives between.

    ``render`` turns an event into the HTML the page swaps in (None: skip it; raising
    ends the stream with "reload", e.g. when the dashboard is gone)."""
    await broadcaster.start()
    client = Client(wants)
    start = broadcaster.register(client)
    try:
        yield "retry: 1000\n: connected\n\n"
        sent = last_id if last_id is not None else start
        backlog: list[RecordedEvent] = []
        if last_id is not None and last_id < start:
            replayed = await broadcaster.replay(client, last_id, start)
            if replayed is None:
                yield format_message("reload", "too much was missed", start)
                return
            backlog = replayed
        runner = broadcaster.services.app.runner
        while True:
            if client.lagging:
                yield format_message("reload", "this page fell behind", broadcaster.position)
                return
            if backlog:
                event = backlog.pop(0)
            else:
                try:
                    event = await asyncio.wait_for(client.queue.get(), keep_alive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
            if event.position <= sent:
                continue  # seen already (replay and live overlap)
            await runner.wait_for(event.position, READ_MODEL_TIMEOUT)
            try:
                html = await render(event)
            except Exception as exc:  # the page's subject is gone or no longer ours
                log.info("SSE stream ends with reload: %s", exc)
                yield format_message("reload", "the page changed", event.position)
                return
            sent = event.position
            if html is not None:
                yield format_message(event_name, html, event.position)
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
