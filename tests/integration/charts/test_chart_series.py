"""chart_data over real Parquet files: every chart type yields an option ECharts can take."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ironstar.analytics.charts.config import Aggregate, ChartConfig, ChartType
from ironstar.analytics.charts.series import chart_data
from ironstar.analytics.charts.validation import ChartValidationError

ODD = 'naïve "name"; DROP TABLE x; --'  # a column name that must only ever be quoted
TEMP = "température °C"


@pytest.fixture
def result(tmp_path: Path) -> Path:
    """2,000 rows: a time column, groups, text categories, decimals, nulls, odd names."""
    path = tmp_path / "result.parquet"
    duckdb.execute(
        f"""COPY (
            SELECT TIMESTAMP '2024-01-01' + to_minutes(i) AS t,
                   i AS n,
                   i % 3 AS grp,
                   'c' || (i % 60) AS "{ODD.replace('"', '""')}",
                   CAST(i % 13 AS DECIMAL(10, 2)) AS price,
                   CASE WHEN i % 10 = 0 THEN NULL ELSE i / 100.0 END AS "{TEMP}",
                   i % 2 = 0 AS even
            FROM range(1, 2001) AS r(i)
        ) TO '{path}' (FORMAT parquet)"""
    )
    return path


def draw(config: ChartConfig, source: Any, budget: int = 2000) -> dict[str, Any]:
    out = chart_data(config, source, budget)
    # What the browser receives: strict JSON, no NaN/Infinity, nothing Python-only.
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    return out


def cfg(chart_type: str, **fields: Any) -> ChartConfig:
    return ChartConfig(chart_type=ChartType(chart_type), **fields)


EVERY_TYPE = [
    (cfg("line", x="t", y=[TEMP]), "line"),
    (cfg("area", x="t", y=["n"], series="grp", stacked=True), "line"),
    (cfg("scatter", x="n", y=[TEMP]), "scatter"),
    (cfg("bar", x=ODD, y=["price"]), "bar"),
    (cfg("pie", x="grp", y=["price"]), "pie"),
    (cfg("histogram", y=[TEMP], bins=12), "bar"),
    (cfg("heatmap", x="grp", y=["even"], value="price"), "heatmap"),
    (cfg("boxplot", x="grp", y=["price", TEMP]), "boxplot"),
]


@pytest.mark.parametrize(
    ("config", "series_type"), EVERY_TYPE, ids=[c.chart_type for c, _ in EVERY_TYPE]
)
def test_every_chart_type_yields_a_json_option_with_the_right_series(
    result: Path, config: ChartConfig, series_type: str
) -> None:
    out = draw(config, result)
    option, meta = out["option"], out["meta"]
    assert option["series"], "at least one series"
    assert {s["type"] for s in option["series"]} == {series_type}
    assert meta["total_rows"] == 2000
    assert meta["chart_type"] == config.chart_type
    if "xAxis" in option:
        # Axis names clear the tick labels: the x name centred below them (far enough
        # that it never lands on them), the y name above the axis, never beside them.
        assert option["xAxis"]["nameLocation"] == "middle" and option["xAxis"]["nameGap"] >= 28
        assert option["yAxis"]["nameLocation"] == "end"
        assert option["grid"]["containLabel"] is True
    for index, series in enumerate(option["series"]):
        if "datasetIndex" in series:
            assert option["dataset"][series["datasetIndex"]]["source"], f"series {index} is empty"
        elif "data" in series:
            assert series["data"]
        else:
            assert option["dataset"][0]["source"]


def test_line_over_time_uses_a_time_axis_in_epoch_ms_in_x_order(result: Path) -> None:
    out = draw(
        cfg("line", x="t", y=["n"], title="Load", x_label="when", colors=["#ff0000"]), result
    )
    option = out["option"]
    assert option["xAxis"]["type"] == "time"
    assert option["xAxis"]["name"] == "when"
    assert option["title"]["text"] == "Load"
    assert option["color"] == ["#ff0000"]
    points = option["dataset"][0]["source"]
    start = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
    assert points[0] == [start + 60_000, 1.0]
    assert [p[0] for p in points] == sorted(p[0] for p in points)
    assert out["meta"]["series"] == [
        {"name": "n", "rows": 2000, "points": 2000, "downsampled": False}
    ]
    assert out["meta"]["downsampled"] is False


def test_nulls_are_skipped_and_counted(result: Path) -> None:
    out = draw(cfg("line", x="t", y=[TEMP]), result)
    assert len(out["option"]["dataset"][0]["source"]) == 1800
    assert out["meta"]["skipped_rows"] == {TEMP: 200}
    assert "200 values not drawn" in out["option"]["title"]["subtext"]


def test_a_series_column_splits_into_named_series(result: Path) -> None:
    out = draw(cfg("line", x="n", y=["n", "price"], series="grp"), result)
    names = [s["name"] for s in out["option"]["series"]]
    assert names == [f"{g} · {y}" for y in ("n", "price") for g in ("1", "2", "0")]
    assert out["option"]["legend"]["show"] is True
    for series in out["option"]["series"]:
        source = out["option"]["dataset"][series["datasetIndex"]]["source"]
        assert len(source) in (666, 667)


def test_log_axes_are_log_and_drop_non_positive_values(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pq.write_table(
        pa.table({"x": [-1.0, 0.0, 1.0, 10.0, 100.0], "y": [5.0, 5.0, 0.0, 2.0, 3.0]}), path
    )
    out = draw(cfg("scatter", x="x", y=["y"], log_x=True, log_y=True), path)
    option = out["option"]
    assert (option["xAxis"]["type"], option["yAxis"]["type"]) == ("log", "log")
    assert option["dataset"][0]["source"] == [[10.0, 2.0], [100.0, 3.0]]
    assert "<= 0 on a log axis" in option["title"]["subtext"]

    bars = draw(cfg("bar", x="x", y=["y"], log_y=True), path)["option"]
    assert bars["yAxis"]["type"] == "log"


def test_bar_keeps_top_categories_and_folds_the_rest_into_other(result: Path) -> None:
    out = draw(cfg("bar", x=ODD, y=["n"], max_categories=10), result)
    source = out["option"]["dataset"][0]["source"]
    assert len(source) == 11
    assert source[-1][0] == "(other: 50 more)"
    # The top categories by sum come first, largest first (text has no order of its own).
    sums = {f"c{k}": float(sum(range(k or 60, 2001, 60))) for k in range(60)}
    assert source[0] == list(max(sums.items(), key=lambda item: item[1]))
    assert [row[1] for row in source[:10]] == sorted((row[1] for row in source[:10]), reverse=True)
    assert sum(row[1] for row in source) == float(sum(range(1, 2001)))
    assert "top 10 of 60" in out["option"]["title"]["subtext"]


def test_bar_over_numbers_is_in_x_order_and_aggregates(result: Path) -> None:
    out = draw(cfg("bar", x="grp", y=["n"], aggregate=Aggregate.COUNT), result)
    assert out["option"]["dataset"][0]["source"] == [["0", 666.0], ["1", 667.0], ["2", 667.0]]
    mean = draw(cfg("bar", x="even", y=["price"], aggregate=Aggregate.MAX), result)
    assert mean["option"]["dataset"][0]["source"] == [["false", 12.0], ["true", 12.0]]


def test_pie_aggregates_by_x(result: Path) -> None:
    out = draw(cfg("pie", x="grp", y=["n"]), result)
    slices = dict(out["option"]["dataset"][0]["source"])
    assert sum(slices.values()) == float(sum(range(1, 2001)))
    assert slices["0"] == float(sum(range(3, 2001, 3)))
    assert out["option"]["series"][0]["encode"] == {"itemName": 0, "value": 1}
    assert "xAxis" not in out["option"]


def test_histogram_bins_cover_every_value_once(result: Path) -> None:
    out = draw(cfg("histogram", x="n", bins=4), result)
    source = out["option"]["dataset"][0]["source"]
    assert [row[1] for row in source] == [500, 500, 500, 500]
    assert [row[0] for row in source] == [
        "[1, 500.8)",
        "[500.8, 1000)",
        "[1000, 1500)",
        "[1500, 2000]",
    ]
    assert out["meta"]["bin_edges"] == [1.0, 500.75, 1000.5, 1500.25, 2000.0]


def test_histogram_of_a_constant_is_one_bin(tmp_path: Path) -> None:
    path = tmp_path / "const.parquet"
    pq.write_table(pa.table({"v": [3, 3, 3]}), path)
    source = draw(cfg("histogram", y=["v"]), path)["option"]["dataset"][0]["source"]
    assert source == [["[3, 3]", 3, 3.0, 3.0]]


def test_boxplot_quartiles_per_category(tmp_path: Path) -> None:
    path = tmp_path / "box.parquet"
    pq.write_table(
        pa.table({"k": ["b", "a", "a", "a", "a", "a", "b"], "v": [10, 1, 2, 3, 4, 5, None]}), path
    )
    option = draw(cfg("boxplot", x="k", y=["v"]), path)["option"]
    assert option["xAxis"]["data"] == ["a", "b"]
    assert option["series"][0]["data"] == [[1.0, 2.0, 3.0, 4.0, 5.0], [10.0] * 5]
    whole = draw(cfg("boxplot", y=["v"]), path)["option"]
    assert whole["xAxis"]["data"] == ["v"]
    assert whole["series"][0]["data"][0][0] == 1.0 and whole["series"][0]["data"][0][4] == 10.0


def test_heatmap_cells_index_sorted_axes(tmp_path: Path) -> None:
    path = tmp_path / "heat.parquet"
    pq.write_table(
        pa.table({"day": ["tue", "mon", "mon"], "hour": [2, 1, 1], "v": [5.0, 1.0, 2.0]}), path
    )
    option = draw(cfg("heatmap", x="day", y=["hour"], value="v"), path)["option"]
    assert option["xAxis"]["data"] == ["mon", "tue"]
    assert option["yAxis"]["data"] == ["1", "2"]
    assert option["series"][0]["data"] == [[0, 0, 3.0], [1, 1, 5.0]]
    assert (option["visualMap"]["min"], option["visualMap"]["max"]) == (3.0, 5.0)


EMPTY = [
    cfg("line", x="t", y=["v"]),
    cfg("scatter", x="t", y=["v"], series="k"),
    cfg("bar", x="k", y=["v"]),
    cfg("pie", x="k", y=["v"]),
    cfg("histogram", y=["v"]),
    cfg("heatmap", x="k", y=["k2"], value="v"),
    cfg("boxplot", x="k", y=["v"]),
]


@pytest.mark.parametrize("config", EMPTY, ids=[c.chart_type for c in EMPTY])
def test_empty_results_draw_an_empty_chart(tmp_path: Path, config: ChartConfig) -> None:
    path = tmp_path / "empty.parquet"
    schema = pa.schema(
        [("t", pa.timestamp("ms")), ("k", pa.string()), ("k2", pa.string()), ("v", pa.float64())]
    )
    pq.write_table(schema.empty_table(), path)
    out = draw(config, path)
    assert out["meta"]["total_rows"] == 0
    assert out["meta"]["downsampled"] is False


def test_all_null_values_draw_nothing_without_failing(tmp_path: Path) -> None:
    path = tmp_path / "nulls.parquet"
    pq.write_table(
        pa.table({"x": pa.array([1.0, None, float("nan")]), "y": pa.array([None, 1.0, 2.0])}), path
    )
    out = draw(cfg("line", x="x", y=["y"]), path)
    assert out["option"]["dataset"][0]["source"] == []
    assert out["meta"]["skipped_rows"] == {"y": 3}


def test_reads_a_binary_file_object(result: Path) -> None:
    data = io.BytesIO(result.read_bytes())
    out = draw(cfg("pie", x="even", y=["n"]), data)
    assert out["meta"]["total_rows"] == 2000


def test_a_mismatched_config_fails_before_any_query(result: Path) -> None:
    with pytest.raises(ChartValidationError) as caught:
        chart_data(cfg("pie", x="grp", y=["n", "price"]), result)
    assert (caught.value.rule, caught.value.column) == ("pie_one_measure", "price")
    with pytest.raises(ChartValidationError) as missing:
        chart_data(cfg("line", x="t", y=['n"; SELECT 1; --']), result)
    assert missing.value.rule == "column_exists"


def test_budget_below_the_minimum_is_refused(result: Path) -> None:
    with pytest.raises(ValueError, match="budget"):
        chart_data(cfg("line", x="t", y=["n"]), result, budget=3)


def test_histogram_labels_get_the_digits_their_edges_need() -> None:
    from ironstar.analytics.charts.distributions import _bin_labels

    assert _bin_labels([0.0, 1.00001, 1.00002, 2.0]) == [
        "[0, 1.00001)",
        "[1.00001, 1.00002)",
        "[1.00002, 2]",
    ]
