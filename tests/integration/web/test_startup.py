"""The server accepts connections at once and answers "starting" until it is ready.

A first start builds the demo catalogs for up to a minute; a browser opened meanwhile
gets a page that says what is happening and reloads itself, never "connection refused".
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from ironstar.settings import Settings
from ironstar.web.app import create_app
from tests.integration.web.conftest import serve_app, web_settings

HTML = {"Accept": "text/html"}


def wait_ready(client: httpx.Client, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while client.get("/health/ready").status_code != 200:
        assert time.monotonic() < deadline, "the server never became ready"
        time.sleep(0.05)


def test_requests_while_starting_get_a_starting_answer_then_the_app(tmp_path: Path) -> None:
    released = asyncio.Event()

    async def slow_prepare(_: Settings) -> None:  # stands in for the demo build
        await released.wait()

    app = create_app(web_settings(tmp_path / "data"), prepare=slow_prepare)
    with serve_app(app) as (url, loop), httpx.Client(base_url=url) as client:
        page = client.get("/", headers=HTML)
        assert page.status_code == 503
        assert page.headers["retry-after"] == "2"
        assert "Ironstar is starting" in page.text
        assert "Building the demo catalogs" in page.text
        assert '<meta http-equiv="refresh"' in page.text

        api = client.get("/api/dashboards")
        assert api.status_code == 503
        assert api.json()["code"] == "not_ready"
        assert "building the demo catalogs" in api.json()["message"]

        assert client.get("/health/live").status_code == 200
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "starting"
        assert client.get("/static/ironstar.css").status_code == 200  # the page's own style

        loop.call_soon_threadsafe(released.set)
        wait_ready(client)
        assert client.get("/api/session").status_code == 401  # the real app answers now
        login = client.get("/login", headers=HTML)
        assert login.status_code == 200


def test_a_failed_start_is_shown_not_retried_forever(tmp_path: Path) -> None:
    async def broken_prepare(_: Settings) -> None:
        raise RuntimeError("the demo data directory is not writable")

    app = create_app(web_settings(tmp_path / "data"), prepare=broken_prepare)
    with serve_app(app) as (url, _), httpx.Client(base_url=url) as client:
        deadline = time.monotonic() + 10
        while "could not start" not in (page := client.get("/", headers=HTML)).text:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert page.status_code == 503
        assert "the demo data directory is not writable" in page.text
        assert 'http-equiv="refresh"' not in page.text
        assert client.get("/api/preferences").json()["message"].startswith("start-up failed")
        live = client.get("/health/live")
        assert live.status_code == 503
        assert live.json()["status"] == "failed"
