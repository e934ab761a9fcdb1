"""Metadata refresh reads datasets, tables, columns, row counts and DuckLake versions."""

from __future__ import annotations

import pytest

from ironstar.analytics.refresh import MetadataRefresher

from .conftest import Engine, write_lake

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_metadata_describes_the_catalog(async_engine: Engine) -> None:
    refresher = MetadataRefresher(async_engine.pool)
    metadata = await refresher.refresh("lab")
    assert {d.name for d in metadata.datasets} == {"main", "field"}
    measurements = metadata.table("main", "measurements")
    assert measurements.row_count == 1000
    assert [(c.name, c.type) for c in measurements.columns] == [
        ("id", "BIGINT"),
        ("station", "BIGINT"),
        ("value", "DECIMAL(22,2)"),
        ("label", "VARCHAR"),
    ]
    assert metadata.table("main", "odd names").columns[3].name == "名前"
    assert metadata.table("field", "sites").row_count == 2

    async_engine.release_catalogs()
    write_lake(async_engine.data_dir, "lab", "ALTER TABLE field.sites ADD COLUMN elevation INT")
    changed = await refresher.refresh("lab")
    assert changed.snapshot_id > metadata.snapshot_id
    assert changed.schema_version > metadata.schema_version
    assert changed.table("field", "sites").columns[-1].name == "elevation"
