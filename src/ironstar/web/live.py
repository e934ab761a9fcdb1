"""Live pages: one broadcaster per app fans stored events out to SSE clients.

The broadcaster follows the event store from its head. For each event it first waits
until the read models reflect it (so a fragment rendered now shows the change), then
hands it to every channel - the clients showing one view (``View.key``: same route,
subject, options, user). A channel renders its fragment once for all its clients, then
offers the event to each client that wants it. Each client owns a bounded queue: offering
never blocks, and a client whose queue is full is marked lagging and told to reload, so
one slow browser can stall neither commands nor other browsers.

A client fills the channel's rendering in with its own CSRF token and fresh idempotency
keys (``templating.Slotted``). A fragment is the whole current state of what a page shows,
so a client behind by several events sends only the newest fragment, with the newest
position as its id: that fragment includes every earlier change.

A reconnecting client names the last position it saw (Last-Event-ID, or ``after`` for
the first connection of a page rendered at that position): the store is read back for
events it missed, then live ones follow, deduplicated by position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
    """One open stream: which events it wants and what it has not sent yet.

    The queue holds events whose rendering is ready, and ``None`` when it is time to
    say the stream is alive. A client without a view is offered events directly."""

    wants: Wants
    view: View | None = None
    queue: asyncio.Queue[RecordedEvent | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    lagging: bool = False
    ticker: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def key(self) -> Hashable:
        return self.view.key if self.view is not None else None

    def offer(self, event: RecordedEvent) -> None:
        if self.lagging:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True  # the stream sends "reload" and ends; nothing else blocks

    def keep_alive(self, every: float) -> None:
        """Every ``every`` seconds, wakes the stream if it is idle to send a keep-alive.
        One timer per client, re-armed as it fires: cheaper than a timeout on each wait."""
        loop = asyncio.get_running_loop()

        def tick() -> None:
            if self.queue.empty():
                self.queue.put_nowait(None)
            self.ticker = loop.call_later(every, tick)

        self.ticker = loop.call_later(every, tick)

    def close(self) -> None:
        if self.ticker is not None:
            self.ticker.cancel()

    def newest(self, first: RecordedEvent | None) -> RecordedEvent | None:
        """``first`` and every event queued behind it: the newest of them (None: none)."""
        newest = first
        while not self.queue.empty():
            event = self.queue.get_nowait()
            if event is not None and (newest is None or event.position > newest.position):
                newest = event
        return newest


class Channel:
    """The clients showing one view, and that view's newest rendering.

    Events wait until a rendering started after the read models reached them is ready,
    then go to the clients that want them; one rendering serves every event it covers."""

    def __init__(self, view: View | None, runner: ProjectionRunner) -> None:
        self.view = view
        self.runner = runner
        self.clients: set[Client] = set()
        self.renderings = 0  # renderings made so far
        # (read-model position it shows, the rendering or why there is none)
        self.latest: tuple[int, Slotted | Exception] | None = None
        self._waiting: list[tuple[RecordedEvent, list[Client]]] = []
        self._task: asyncio.Task[None] | None = None

    def publish(self, event: RecordedEvent) -> None:
        members = [c for c in self.clients if not c.lagging and c.wants(event)]
        if members:
            self.deliver(event, members)

    def deliver(self, event: RecordedEvent, members: list[Client]) -> None:
        """Offers ``event`` to ``members`` once a rendering covering it is ready."""
        covered = self.latest is not None and self.latest[0] >= event.position
        if self.view is None or covered:
            for client in members:
                client.offer(event)
            return
        self._waiting.append((event, members))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._render(self.view), name="sse-render")

    def rendering(self, position: int) -> Slotted | None:
        """The newest rendering, if it shows ``position``; raises what its render raised."""
        if self.latest is None or self.latest[0] < position:
            return None
        if isinstance(self.latest[1], Exception):
            raise self.latest[1]
        return self.latest[1]

    async def _render(self, view: View) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            # The read models showed these events before they were published here (or
            # the broadcaster gave up waiting for them), so a rendering from now covers them.
            shows = max(self.runner.position, *(event.position for event, _ in batch))
            result: Slotted | Exception
            try:
                result = Slotted.parse(format_message(view.event_name, await view.render()))
            except Exception as exc:  # the clients end with "reload" when they see it
                result = exc
            self.renderings += 1
            if self.latest is None or self.latest[0] <= shows:
                self.latest = (shows, result)
            for event, members in batch:
                for client in members:
                    client.offer(event)
            view = self.view or view

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class Broadcaster:
    def __init__(self, services: Services, metrics: Metrics | None = None) -> None:
        self.services = services
        self.metrics = metrics
        self.clients: set[Client] = set()
        self.channels: dict[Hashable, Channel] = {}
        self.position = 0  # the last event offered to clients
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def renderings(self) -> int:
        """Renderings made by the channels open now."""
        return sum(channel.renderings for channel in self.channels.values())

    async def start(self) -> None:
        async with self._lock:
            if self._task is not None and not self._task.done():
                return
            self.position = await self.services.app.events.head_position()
            self._task = asyncio.create_task(self._follow(self.position), name="sse-broadcaster")

    async def stop(self) -> None:
        for channel in self.channels.values():
            channel.stop()
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
                    # sees this position as its start or is handed this event.
                    after = self.position = event.position
                    for channel in tuple(self.channels.values()):
                        channel.publish(event)
                return  # the store closed
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SSE broadcaster failed; following again from %s in 1 s", after)
                await asyncio.sleep(1)

    def channel_of(self, client: Client) -> Channel:
        return self.channels[client.key]

    def register(self, client: Client) -> int:
        """Adds a client; returns the position live delivery starts after."""
        channel = self.channels.get(client.key)
        if channel is None:
            channel = Channel(client.view, self.services.app.runner)
            self.channels[client.key] = channel
        channel.clients.add(client)
        self.clients.add(client)
        if self.metrics is not None:
            self.metrics.sse_clients.set(len(self.clients))
        return self.position

    def unregister(self, client: Client) -> None:
        if client in self.clients:
            self.clients.remove(client)
            channel = self.channel_of(client)
            channel.clients.discard(client)
            if not channel.clients:
                del self.channels[client.key]
            elif channel.view is client.view:  # let the leaver's request go
                channel.view = next(iter(channel.clients)).view
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
) -> AsyncIterator[bytes]:
    """The SSE body for one client: what it missed, then live changes, keep-alives between.

    Each message is the view's newest rendering, filled in with ``csrf_token`` and fresh
    idempotency keys. A rendering that raised (e.g. the dashboard is gone) ends the stream
    with "reload"."""
    await broadcaster.start()
    client = Client(wants, view)
    start = broadcaster.register(client)
    channel = broadcaster.channel_of(client)
    client.keep_alive(keep_alive)
    try:
        yield b"retry: 1000\n: connected\n\n"
        sent = last_id if last_id is not None else start
        if last_id is not None and last_id < start:
            replayed = await broadcaster.replay(client, last_id, start)
            if replayed is None:
                yield format_message("reload", "too much was missed", start).encode()
                return
            if replayed:  # the newest fragment shows every missed change
                channel.deliver(replayed[-1], [client])
        while True:
            if client.lagging:
                yield format_message(
                    "reload", "this page fell behind", broadcaster.position
                ).encode()
                return
            event = client.newest(await client.queue.get())
            if event is None:
                yield b": keep-alive\n\n"
                continue
            if event.position <= sent:
                continue  # seen already (replay and live overlap)
            try:
                rendering = channel.rendering(event.position)
            except Exception as exc:  # the page's subject is gone or no longer ours
                log.info("SSE stream ends with reload: %s", exc)
                yield format_message("reload", "the page changed", event.position).encode()
                return
            if rendering is None:  # the read models were rebuilt meanwhile: render anew
                channel.deliver(event, [client])
                continue
            sent = event.position
            yield b"id: %d\n%s" % (sent, rendering.fill(csrf_token))
    finally:
        client.close()
        broadcaster.unregister(client)


def broadcaster_of(state: object, services: Services) -> Broadcaster:
    """The app's broadcaster, created on first use (``app.state.broadcaster``)."""
    existing = getattr(state, "broadcaster", None)
    if isinstance(existing, Broadcaster) and existing.services is services:
        return existing
    created = Broadcaster(services, getattr(state, "metrics", None))
    state.broadcaster = created  # type: ignore[attr-defined]
    return created
