"""The floor under benchmark (a): its JSON API done with the least work Ironstar's rules allow.

Same server stack (FastAPI on uvicorn), same routes and answers the analysts need, same
rule that no database call runs on the event loop (STYLE habit 7). A command is one
hop to a writer thread for a durable append (SQLite, WAL, synchronous=FULL, as the
event store) and then one hop to a second thread updating a read-model row (as the
projection runner's read-your-writes wait); a read is one hop to a reader thread.
No sign-in, domain, codecs, projections or logs: what is left is the price of the web
stack and of the thread hand-offs themselves on this machine.

    uvicorn --app-dir benchmarks web_floor:app   (benchmarks/web.py starts it)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

DIRECTORY = Path(os.environ.get("IRONSTAR_FLOOR_DIR") or tempfile.mkdtemp(prefix="web-floor-"))


def connect(name: str, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(DIRECTORY / name, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn


events = connect("events.db", "FULL")
events.execute(
    "CREATE TABLE IF NOT EXISTS events (position INTEGER PRIMARY KEY, stream TEXT, data TEXT)"
)
views = connect("read.db", "NORMAL")
views.execute("CREATE TABLE IF NOT EXISTS views (id TEXT PRIMARY KEY, data TEXT)")
writer = ThreadPoolExecutor(1, thread_name_prefix="floor-writer")
projector = ThreadPoolExecutor(1, thread_name_prefix="floor-projector")
readers = ThreadPoolExecutor(4, thread_name_prefix="floor-reader")
local = threading.local()
ids = itertools.count(1)


def append(stream: str, data: str) -> None:
    events.execute("BEGIN IMMEDIATE")
    events.execute("INSERT INTO events (stream, data) VALUES (?, ?)", (stream, data))
    events.execute("COMMIT")


def project(stream: str, data: str) -> None:
    views.execute(
        "INSERT INTO views VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
        (stream, data),
    )


def read(key: str) -> list[Any]:
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = connect("read.db", "NORMAL")
    return conn.execute("SELECT data FROM views WHERE id = ?", (key,)).fetchall()


async def command(stream: str, request: Request) -> None:
    loop = asyncio.get_running_loop()
    data = json.dumps(await request.json())
    await loop.run_in_executor(writer, append, stream, data)
    await loop.run_in_executor(projector, project, stream, data)


async def fetch(key: str) -> list[Any]:
    return await asyncio.get_running_loop().run_in_executor(readers, read, key)


app = FastAPI()


@app.post("/api/dashboards", status_code=201)
async def create_dashboard(request: Request) -> dict[str, str]:
    dashboard_id = f"d{next(ids)}"
    await command(dashboard_id, request)
    return {"dashboard_id": dashboard_id}


@app.get("/api/dashboards/{dashboard_id}")
async def dashboard(dashboard_id: str) -> dict[str, Any]:
    await fetch(dashboard_id)
    return {"dashboard_id": dashboard_id, "tabs": [{"tab_id": "t1"}]}


@app.post("/api/dashboards/{dashboard_id}/charts", status_code=201)
async def add_chart(dashboard_id: str, request: Request) -> dict[str, str]:
    await command(dashboard_id, request)
    return {"chart_id": f"c{next(ids)}"}


@app.post("/api/dashboards/{dashboard_id}/{change:path}")
async def change(dashboard_id: str, change: str, request: Request) -> dict[str, str]:
    await command(dashboard_id, request)
    return {"dashboard_id": dashboard_id}


@app.get("/api/dashboards")
async def dashboards() -> dict[str, list[Any]]:
    return {"dashboards": await fetch("list")}


@app.get("/api/queries")
async def queries() -> dict[str, list[Any]]:
    return {"queries": await fetch("queries")}


@app.get("/api/preferences")
async def preferences() -> dict[str, list[Any]]:
    return {"preferences": await fetch("preferences")}
