"""End-to-end fixtures: Chromium (Debian's package, installed when missing and root;
skipped with a reason otherwise, failing in CI) and Ironstar served with a real DuckLake
catalog ("lab") and one that cannot be reached ("fixtures", an hf:// catalog offline)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import ensure_chromium
from tests.integration.analytics.conftest import LAB_TABLES, write_lake
from tests.integration.web.conftest import ServedApp, serve_ironstar, web_settings

CATALOGS = """
[catalogs.lab]
kind = "ducklake"
metadata = "lake/lab/metadata.ducklake"
data_path = "lake/lab/data/"
description = "Field measurements from seven stations"

[catalogs.fixtures]
kind = "ducklake"
location = "hf://datasets/sciexp/fixtures"
description = "Shared fixtures on the Hugging Face hub"
"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def lab_data_dir(root: Path) -> Path:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    write_lake(data, "lab", *LAB_TABLES)
    (data / "catalogs.toml").write_text(CATALOGS)
    return data


@pytest.fixture(scope="session")
def chromium() -> str:
    return ensure_chromium()


@pytest.fixture(scope="module")  # Playwright's sync API holds a loop: never past a module
def browser(chromium: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def lab_app(tmp_path: Path) -> Iterator[ServedApp]:
    with serve_ironstar(web_settings(lab_data_dir(tmp_path), query_timeout_seconds=30)) as app:
        app.app.state.sse_keep_alive = 5.0
        yield app


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go (IRONSTAR_SCREENSHOTS keeps them somewhere you can look)."""
    target = Path(os.environ.get("IRONSTAR_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target
