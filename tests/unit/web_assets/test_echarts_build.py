"""The custom ECharts build contains what the server's chart options ask for.

scripts/build-echarts bundles only the charts and components that scripts/echarts-entry.js
imports; an option naming anything else would draw without it, silently. These tests build
an option of every chart type and check each series type and option component against the
entry's imports.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ironstar.analytics.charts import chart_data
from ironstar.analytics.charts.config import ChartType, parse_chart_config

ROOT = Path(__file__).resolve().parents[3]
ENTRY = ROOT / "scripts" / "echarts-entry.js"

CONFIGS: dict[ChartType, dict[str, Any]] = {
    ChartType.LINE: {"x": "t", "y": ["a", "b"]},
    ChartType.AREA: {"x": "t", "y": ["a"], "series": "region", "stacked": True},
    ChartType.SCATTER: {"x": "a", "y": ["b"], "series": "region", "log_y": True},
    ChartType.BAR: {"x": "region", "y": ["a"], "series": "year", "stacked": True},
    ChartType.PIE: {"x": "region", "y": ["b"]},
    ChartType.HEATMAP: {"x": "region", "y": ["year"], "value": "a", "aggregate": "mean"},
    ChartType.HISTOGRAM: {"x": "b"},
    ChartType.BOXPLOT: {"x": "region", "y": ["a", "b"]},
}

# Top-level option keys -> the echarts/components export that draws them.
COMPONENTS = {
    "title": "TitleComponent",
    "legend": "LegendComponent",
    "tooltip": "TooltipComponent",
    "grid": "GridComponent",
    "xAxis": "GridComponent",
    "yAxis": "GridComponent",
    "dataset": "DatasetComponent",
    "visualMap": "VisualMapContinuousComponent",
    "aria": "AriaComponent",  # ironstar.js turns it on for every chart
}
NOT_COMPONENTS = {"series", "animation", "color", "backgroundColor", "textStyle"}


def imported() -> set[str]:
    return set(re.findall(r"\b([A-Z][A-Za-z]+(?:Chart|Component|Renderer))\b", ENTRY.read_text()))


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("echarts") / "result.parquet"
    duckdb.execute(
        f"""COPY (
            SELECT TIMESTAMP '2024-01-01' + i * INTERVAL 1 HOUR AS t,
                   i % 7 + 1.5 AS a, (i * 37 % 101) / 3.0 + 1 AS b,
                   ['north', 'south', 'east'][i % 3 + 1] AS region, 2020 + i % 4 AS year
            FROM range(300) AS r(i)
        ) TO '{path}' (FORMAT parquet)"""
    )
    return path


@pytest.mark.parametrize("chart_type", list(ChartType), ids=str)
def test_every_chart_types_option_is_in_the_build(chart_type: ChartType, result: Path) -> None:
    config = parse_chart_config({"chart_type": str(chart_type), **CONFIGS[chart_type]})
    option = chart_data(config, result)["option"]
    needed = {f"{series['type'].capitalize()}Chart" for series in option["series"]}
    for key, value in option.items():
        if key in NOT_COMPONENTS:
            continue
        assert key in COMPONENTS, f"{key}: name its component here and in the entry, rebuild"
        if key == "visualMap":
            assert "pieces" not in value and "categories" not in value  # piecewise
        needed.add(COMPONENTS[key])
    needed.add(COMPONENTS["aria"])
    assert needed <= imported(), "scripts/echarts-entry.js lacks these: rebuild with them"


def test_the_build_draws_on_canvas_as_ironstar_js_asks() -> None:
    assert 'renderer: "canvas"' in (ROOT / "src/ironstar/web/static/ironstar.js").read_text()
    assert "CanvasRenderer" in imported()
    assert "SVGRenderer" not in imported()
