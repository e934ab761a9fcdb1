"""Live pages over real HTTP: SSE messages with id = global position, replay on reconnect
with Last-Event-ID, keep-alives, and a slow client that stalls nobody."""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx
import pytest

from ironstar.web import live
from ironstar.web.live import Broadcaster
from tests.integration.web.conftest import ServedApp

KEEP_ALIVE = 0.3


@dataclass
class Message:
    id: int | None = None
    event: str = "message"
    data: list[str] = field(default_factory=list)
    comment: str = ""


class Listener:
    """Reads one SSE stream in a thread; messages and comments arrive on ``inbox``."""

    def __init__(self, client: httpx.Client, path: str, headers: dict[str, str] | None = None):
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.status = 0
        self._client, self._path, self._headers = client, path, headers or {}
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        assert self._opened.wait(10), "the stream did not open"
        assert self.status == 200
        assert self._connected.wait(10), "the stream never said it was connected"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with self._client.stream("GET", self._path, headers=self._headers) as response:
            self.status = response.status_code
            self._opened.set()
            current = Message()
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line == "":
                    if current.data or current.comment:
                        self.inbox.put(current)
                    current = Message()
                elif line.startswith(":"):
                    current.comment = line[1:].strip()
                    if current.comment == "connected":
                        self._connected.set()
                elif line.startswith("id:"):
                    current.id = int(line[3:].strip())
                elif line.startswith("event:"):
                    current.event = line[6:].strip()
                elif line.startswith("data:"):
                    current.data.append(line[5:].removeprefix(" "))

    def next(self, event: str, timeout: float = 5) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} message within {timeout} s")
            try:
                message = self.inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if message.event == event and message.data:
                return message

    def drain(self, seconds: float) -> list[Message]:
        """Every data message arriving within ``seconds``."""
        found: list[Message] = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = self.inbox.get(timeout=remaining)
            except queue.Empty:
                break
            if message.data:
                found.append(message)
        return found


@pytest.fixture
def board(served: ServedApp, local_client: httpx.Client) -> Iterator[str]:
    served.app.state.sse_keep_alive = KEEP_ALIVE
    response = local_client.post(
        "/dashboards", data={"name": "Live board", "idempotency_key": "live-board"}
    )
    assert response.status_code == 303, response.text
    yield response.headers["location"].rsplit("/", 1)[1]


def rename(client: httpx.Client, board: str, name: str) -> float:
    started = time.perf_counter()
    response = client.post(f"/dashboards/{board}/rename", data={"name": name})
    assert response.status_code == 303, response.text
    return time.perf_counter() - started


def positions(served: ServedApp, event_type: str) -> list[int]:
    return [e.position for e in served.events(event_type)]


def test_a_command_appears_on_the_stream_with_its_position(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    registry = served.app.state.metrics.registry
    with Listener(local_client, f"/dashboards/{board}/events") as stream:
        assert registry.get_sample_value("ironstar_sse_clients") == 1
        rename(local_client, board, "Renamed live")
        message = stream.next("dashboard")
    [position] = positions(served, "DashboardRenamed")
    assert message.id == position
    assert any("Renamed live" in line for line in message.data)


def test_reconnecting_with_last_event_id_sends_what_was_missed_once(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    """The fragment is the whole current state: one message shows every missed change,
    with the newest missed position as its id."""
    with Listener(local_client, f"/dashboards/{board}/events") as stream:
        rename(local_client, board, "Seen")
        seen = stream.next("dashboard")
    for n in range(3):
        rename(local_client, board, f"Missed {n}")
    rename_positions = positions(served, "DashboardRenamed")
    missed = rename_positions[1:]
    headers = {"last-event-id": str(seen.id)}
    with Listener(local_client, f"/dashboards/{board}/events", headers) as again:
        replayed = again.drain(KEEP_ALIVE * 4)
        rename(local_client, board, "Live again")
        live = again.next("dashboard")
    assert [m.id for m in replayed] == missed[-1:]
    assert any("Missed 2" in line for line in replayed[-1].data)
    assert live.id == positions(served, "DashboardRenamed")[-1]


def test_the_page_position_resumes_a_first_connection(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    page = local_client.get(f"/dashboards/{board}", headers={"accept": "text/html"})
    assert page.status_code == 200
    after = page.text.split("?after=", 1)[1].split("&", 1)[0].split('"', 1)[0]
    rename(local_client, board, "Changed before the stream opened")
    with Listener(local_client, f"/dashboards/{board}/events?after={after}") as stream:
        message = stream.next("dashboard")
    assert message.id == positions(served, "DashboardRenamed")[-1]


def test_keep_alive_comments_flow_when_nothing_happens(
    local_client: httpx.Client, board: str
) -> None:
    with Listener(local_client, f"/dashboards/{board}/events") as stream:
        deadline = time.monotonic() + 3
        comments = []
        while time.monotonic() < deadline and "keep-alive" not in comments:
            try:
                comments.append(stream.inbox.get(timeout=0.5).comment)
            except queue.Empty:
                pass
    assert "keep-alive" in comments


def test_another_users_dashboard_stream_is_not_found(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    stranger = served.client()
    try:
        response = stranger.get(f"/dashboards/{board}/events")
        assert response.status_code in (401, 303)
    finally:
        stranger.close()
    response = local_client.get("/dashboards/not-a-board/events")
    assert response.status_code == 404


def open_slow_client(served: ServedApp, client: httpx.Client, path: str) -> socket.socket:
    """A raw connection that asks for the stream and then never reads a byte."""
    url = urlparse(served.url)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
    sock.connect((url.hostname or "127.0.0.1", url.port or 80))
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nCookie: {cookie}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    )
    sock.sendall(request.encode())
    return sock


def test_a_slow_client_stalls_neither_commands_nor_other_clients(
    served: ServedApp, local_client: httpx.Client, board: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "QUEUE_SIZE", 64)
    path = f"/dashboards/{board}/events"
    slow = open_slow_client(served, local_client, path)
    try:
        broadcaster: Broadcaster = _wait_for_broadcaster(served, clients=1)
        # Besides the socket the kernel still buffers for, a client that takes nothing.
        stuck = live.Client(lambda event: True)
        served.call(_register(broadcaster, stuck))
        with Listener(local_client, path) as healthy:
            latencies = []
            received: list[Message] = []
            for n in range(300):
                latencies.append(rename(local_client, board, f"Name {n}"))
                received += healthy.drain(0)
            last = positions(served, "DashboardRenamed")[-1]
            deadline = time.monotonic() + 10
            while (not received or received[-1].id != last) and time.monotonic() < deadline:
                received += healthy.drain(0.5)
            assert len(broadcaster.clients) == 3
            assert [c for c in broadcaster.clients if c.lagging] == [stuck]
        assert stuck.queue.qsize() == 64, "the stuck client's buffer is bounded"
        # A client that fell behind gets the newest state once (a fragment shows it all).
        ids = [m.id or 0 for m in received]
        assert ids == sorted(set(ids)), "a position was sent twice or out of order"
        assert ids[-1] == last, "the healthy client missed the last change"
        assert any("Name 299" in line for line in received[-1].data)
        assert max(latencies) < 1.0, f"a command took {max(latencies):.3f} s"
        served.call(_unregister(broadcaster, stuck))
    finally:
        slow.close()


def _wait_for_broadcaster(served: ServedApp, clients: int) -> Broadcaster:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        broadcaster = getattr(served.app.state, "broadcaster", None)
        if isinstance(broadcaster, Broadcaster) and len(broadcaster.clients) >= clients:
            return broadcaster
        time.sleep(0.02)
    raise AssertionError("the slow client never connected")


async def _register(broadcaster: Broadcaster, client: live.Client) -> None:
    broadcaster.register(client)


async def _unregister(broadcaster: Broadcaster, client: live.Client) -> None:
    broadcaster.unregister(client)
