"""The server accepts connections at once and answers "starting" until it is ready.

A first start builds the demo catalogs for up to a minute; a browser opened meanwhile
gets a page that says what is happening and reloads itself, never "connection refused".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ironstar.settings import Settings
from ironstar.web.app import create_app
from tests.integration.web.conftest import serve_app, web_settings

HTML = {"Accept": "text/html"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


def test_a_server_stopped_by_sigterm_writes_every_log_line_first(tmp_path: Path) -> None:
    """Log lines are written by a thread; uvicorn ends the process with the signal's
    default action once it has stopped, so the queue must be written out before."""
    port = free_port()
    env = {
        **os.environ,
        "IRONSTAR_DATA_DIR": str(tmp_path / "data"),
        "IRONSTAR_DEMO_ON_START": "0",
        "IRONSTAR_PORT": str(port),
    }
    for key in ("IRONSTAR_GITHUB_CLIENT_ID", "IRONSTAR_OIDC_DISCOVERY_URL"):
        env.pop(key, None)
    cli = Path(sys.executable).with_name("ironstar")
    with (tmp_path / "server.log").open("w+") as log:
        child = subprocess.Popen([str(cli), "serve"], env=env, stdout=log, stderr=log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                deadline = time.monotonic() + 120
                while True:
                    assert child.poll() is None, "the server exited"
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get("/health/ready").status_code == 200:
                            break
                    assert time.monotonic() < deadline, "the server never became ready"
                    time.sleep(0.1)
                ids = [f"last-{n}" for n in range(200)]
                for request_id in ids:
                    client.get("/health/live", headers={"x-request-id": request_id})
            child.send_signal(signal.SIGTERM)
            assert child.wait(60) == -signal.SIGTERM  # the signal's own exit status kept
        finally:
            if child.poll() is None:
                child.kill()
        log.seek(0)
        lines = [json.loads(line) for line in log if line.startswith("{")]
    logged = [line.get("request_id") for line in lines]
    assert all(request_id in logged for request_id in ids)
    assert lines[-1]["message"].startswith("Finished server process")
