"""A first chart for a result without one: chosen by column kinds, valid, and drawn."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ironstar.analytics.charts.config import parse_chart_config
from ironstar.analytics.charts.series import chart_data
from ironstar.analytics.charts.suggest import suggested_config
from ironstar.analytics.charts.validation import validate

CASES = [
    (  # over time: a line of the first measure
        "SELECT DATE '2024-01-01' + CAST(i AS INTEGER) AS day, 'x' AS label, "
        "i * 1.5 AS value FROM range(30) t(i)",
        {"chart_type": "line", "x": "day", "y": ["value"]},
    ),
    (  # by category: bars
        "SELECT 'c' || (i % 4) AS species, i AS id, i * 2.0 AS mass FROM range(40) t(i)",
        {"chart_type": "bar", "x": "species", "y": ["id"]},
    ),
    (  # two measures: a scatter
        "SELECT i AS length, i % 7 AS depth FROM range(50) t(i)",
        {"chart_type": "scatter", "x": "length", "y": ["depth"]},
    ),
    (  # one measure: a histogram
        "SELECT random() AS r FROM range(100)",
        {"chart_type": "histogram", "x": "r", "y": []},
    ),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_the_suggestion_fits_the_columns_and_draws(
    tmp_path: Path, sql: str, expected: dict[str, object]
) -> None:
    path = tmp_path / "result.parquet"
    duckdb.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
    suggested = suggested_config(pq.read_schema(path))
    assert suggested == expected
    config = parse_chart_config(suggested)
    validate(config, pq.read_schema(path))
    drawn = chart_data(config, path, 2000)
    assert drawn["option"]["series"] and json.dumps(drawn)


def test_nothing_is_suggested_when_nothing_can_be_drawn(tmp_path: Path) -> None:
    path = tmp_path / "result.parquet"
    duckdb.execute(f"COPY (SELECT 'a' AS name, [1, 2] AS list) TO '{path}' (FORMAT parquet)")
    assert suggested_config(pq.read_schema(path)) is None
