"""`ironstar demo --headless` walks phases 1-6 and prints every read model."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from ironstar.analytics.demo_data import build_demo
from ironstar.application.demo import run_headless_demo
from ironstar.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.slow
async def test_headless_demo_walks_every_phase(tmp_path: Path) -> None:
    build_demo(tmp_path, sensor_rows=20_000, append_rows=2_000)
    out = io.StringIO()
    settings = Settings(data_dir=tmp_path, sqlite_synchronous="NORMAL")
    await run_headless_demo(settings, Console(file=out, width=200))
    text = out.getvalue()
    for phase in range(1, 7):
        assert f"Phase {phase}" in text
    assert "current catalog of demo:headless: penguins" in text
    assert "catalog_unavailable" in text  # the offline hf:// catalog is refused
    assert "Gentoo" in text and "5076.0" in text  # the query's result page
    assert "cancelled" in text and "syntax" in text
    assert "moved a chart to another tab" in text
    assert "Mass by species" in text and "Scratch" not in text
    assert "signed out: session is invalidated" in text
