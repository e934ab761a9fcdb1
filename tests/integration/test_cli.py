"""The command line, run as a user runs it: a subprocess on a fresh data directory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from ironstar.bootstrap import build_registry, open_event_store
from ironstar.domain import preferences
from ironstar.eventstore.model import NO_STREAM, EventMetadata, NewEvent
from ironstar.settings import Settings


def ironstar(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IRONSTAR_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ironstar.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def seed(data_dir: Path) -> None:
    async def run() -> None:
        store = open_event_store(Settings(data_dir=data_dir), build_registry())
        event = preferences.ThemeSet(user_id="local:analyst", at=1.0, theme=preferences.Theme.DARK)
        await store.append(
            "preferences:local:analyst",
            [NewEvent(event)],
            NO_STREAM,
            EventMetadata(user_id="local:analyst"),
        )
        await store.close()

    asyncio.run(run())


def test_migrate_stats_tail_and_projections(tmp_path: Path) -> None:
    first = ironstar(tmp_path, "db", "migrate")
    assert first.returncode == 0 and "applied 0001_events" in first.stdout
    assert "up to date" in ironstar(tmp_path, "db", "migrate").stdout
    seed(tmp_path)
    stats = ironstar(tmp_path, "events", "stats")
    assert stats.returncode == 0 and "ThemeSet" in stats.stdout and "preferences" in stats.stdout
    tail = ironstar(tmp_path, "events", "tail", "--no-follow")
    assert tail.returncode == 0
    assert "preferences:local:analyst@1" in tail.stdout and '"theme": "dark"' in tail.stdout
    rebuilt = ironstar(tmp_path, "projections", "rebuild", "--all")
    assert rebuilt.returncode == 0 and "up to position 1" in rebuilt.stdout
    unknown = ironstar(tmp_path, "projections", "rebuild", "nope")
    assert unknown.returncode == 2 and "unknown projection" in unknown.stdout
    assert ironstar(tmp_path, "projections", "rebuild").returncode == 2
