"""ChartConfig: a bounded, JSON round-tripping record, refused when malformed."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from ironstar.analytics.charts.config import (
    MAX_COLORS,
    MAX_Y_COLUMNS,
    Aggregate,
    ChartConfig,
    ChartType,
    InvalidChartConfig,
    encode_chart_config,
    parse_chart_config,
)


def test_round_trips_through_json_as_events_carry_it() -> None:
    original = ChartConfig(
        chart_type=ChartType.BAR,
        x="région",
        y=["sales", "cost"],
        series="year",
        aggregate=Aggregate.MEAN,
        title="Sales",
        colors=["#1f77b4", "#FFF", "#ff000080"],
        log_y=True,
        stacked=True,
        max_categories=10,
    )
    encoded = encode_chart_config(original)
    assert msgspec.json.decode(encoded)["chart_type"] == "bar"
    assert parse_chart_config(encoded) == original
    assert parse_chart_config(msgspec.json.decode(encoded)) == original


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"chart_type": "line", "colors": ["red"]}, "colors"),
        ({"chart_type": "line", "colors": ["#12345"]}, "colors"),
        ({"chart_type": "line", "colors": ["#fff"] * (MAX_COLORS + 1)}, "colors"),
        ({"chart_type": "line", "y": [f"c{i}" for i in range(MAX_Y_COLUMNS + 1)]}, "y"),
        ({"chart_type": "line", "y": ["a", "a"]}, "more than once"),
        ({"chart_type": "line", "x": ""}, "x"),
        ({"chart_type": "line", "title": "t" * 201}, "title"),
        ({"chart_type": "histogram", "bins": 0}, "bins"),
        ({"chart_type": "bar", "max_categories": 100_000}, "max_categories"),
        ({"chart_type": "donut"}, "chart_type"),
        ({"chart_type": "line", "colour": "#fff"}, "colour"),
        ({"x": "a"}, "chart_type"),
    ],
)
def test_malformed_configs_are_refused_on_decode(raw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidChartConfig) as caught:
        parse_chart_config(raw)
    assert fragment in str(caught.value)
    assert caught.value.code == "invalid_chart_config"


def test_constraints_also_hold_when_code_builds_a_config_directly() -> None:
    with pytest.raises(InvalidChartConfig, match="colors"):
        ChartConfig(chart_type=ChartType.LINE, colors=["blue"])
    with pytest.raises(InvalidChartConfig, match="bins"):
        ChartConfig(chart_type=ChartType.HISTOGRAM, bins=10_000)


def test_invalid_json_is_a_config_error() -> None:
    with pytest.raises(InvalidChartConfig, match="JSON"):
        parse_chart_config(b"{not json")


def test_config_is_frozen() -> None:
    cfg = ChartConfig(chart_type=ChartType.PIE, x="a", y=["b"])
    with pytest.raises(AttributeError):
        cfg.x = "c"  # type: ignore[misc]
