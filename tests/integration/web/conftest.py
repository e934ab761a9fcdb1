"""Fixtures for web tests: Ironstar served by uvicorn on a free loopback port.

- ``served``: a local-mode app (no identity provider) on a tmp data dir, no demo data.
- ``local_client``: an ``httpx.Client`` signed in through ``POST /login/local``; it sends
  the session's CSRF token as ``X-CSRF-Token`` on every request and does not follow
  redirects (assert on them).
- ``serve_ironstar(settings, clock=...)``: the context manager behind them, for tests that
  need other settings (providers, TTLs) or a clock they control.

Talk to the services through ``ServedApp.call(coroutine)``: it runs on the server's event
loop, where the services live.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from ironstar.bootstrap import Services, build_services
from ironstar.settings import Settings
from ironstar.web.app import create_app

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServedApp:
    url: str
    app: FastAPI
    services: Services
    settings: Settings
    loop: asyncio.AbstractEventLoop

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``coroutine`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30, **kwargs)

    def events(self, event_type: str | None = None) -> list[Any]:
        """Every stored event (optionally of one type), in commit order."""
        found = self.call(self.services.app.events.read_all(0, 100_000))
        return [e for e in found if event_type is None or e.event_type == event_type]


@contextlib.contextmanager
def serve_app(
    app: ASGIApp, host: str = "127.0.0.1"
) -> Iterator[tuple[str, asyncio.AbstractEventLoop]]:
    """Serve any ASGI app on a free port in a background thread; yields (url, loop)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}", loop
    finally:
        server.should_exit = True
        thread.join(30)
        loop.close()


@contextlib.contextmanager
def serve_ironstar(
    settings: Settings, *, clock: Callable[[], float] = time.time
) -> Iterator[ServedApp]:
    services = build_services(settings, clock=clock)
    app = create_app(settings, services=services)
    with serve_app(app) as (url, loop):
        served = ServedApp(url, app, services, settings, loop)
        try:
            yield served
        finally:
            served.call(services.close())


def web_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, demo_on_start=False, expiry_sweep_seconds=3600, **overrides)


def sign_in_locally(served: ServedApp) -> tuple[httpx.Client, str]:
    """A client signed in as the local analyst, and its CSRF token."""
    client = served.client()
    try:
        response = client.post("/login/local", data={"next": "/"})
        assert response.status_code == 303, response.text
        session = client.get("/api/session")
        assert session.status_code == 200, session.text
    except BaseException:
        client.close()
        raise
    return client, session.json()["csrf_token"]


@contextlib.contextmanager
def signed_in(served: ServedApp) -> Iterator[httpx.Client]:
    """A client of the local analyst that sends its CSRF token; closed afterwards."""
    client, csrf = sign_in_locally(served)
    client.headers["x-csrf-token"] = csrf
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    with serve_ironstar(web_settings(tmp_path / "data")) as app:
        yield app


@pytest.fixture
def local_client(served: ServedApp) -> Iterator[httpx.Client]:
    with signed_in(served) as client:
        yield client


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[ServedApp]:
    """A server on the browser tests' small 'lab' catalog."""
    from tests.e2e.conftest import lab_data_dir

    with serve_ironstar(web_settings(lab_data_dir(tmp_path))) as app:
        yield app
