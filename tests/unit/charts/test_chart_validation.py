"""Every validation rule, one failing example each, on hand-made schemas."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from ironstar.analytics.charts.config import ChartConfig, ChartType
from ironstar.analytics.charts.rules import RULES, rules_table
from ironstar.analytics.charts.validation import ChartValidationError, validate

SCHEMA = pa.schema(
    [
        ("t", pa.timestamp("us")),
        ("day", pa.date32()),
        ("n", pa.int64()),
        ("f", pa.float64()),
        ("price", pa.decimal128(10, 2)),
        ("name", pa.string()),
        ("flag", pa.bool_()),
        ("tags", pa.list_(pa.string())),
        ("dict_name", pa.dictionary(pa.int32(), pa.string())),
        ("température °C", pa.float32()),
        ('we"ird', pa.int32()),
    ]
)


def config(chart_type: str, **fields: Any) -> ChartConfig:
    return ChartConfig(chart_type=ChartType(chart_type), **fields)


FAILING: list[tuple[str, ChartConfig, str | None]] = [
    # (rule, config, column named in the error)
    ("column_exists", config("line", x="t", y=["missing"]), "missing"),
    ("column_exists", config("bar", x="nope", y=["n"]), "nope"),
    ("x_required", config("line", y=["f"]), None),
    ("x_required", config("pie", y=["f"]), None),
    ("y_required", config("scatter", x="f"), None),
    ("y_required", config("boxplot", x="name"), None),
    ("y_numeric", config("line", x="t", y=["f", "name"]), "name"),
    ("y_numeric", config("bar", x="name", y=["flag"]), "flag"),
    ("y_numeric", config("histogram", y=["t"]), "t"),
    ("y_numeric", config("histogram", x="name"), "name"),
    ("y_numeric", config("boxplot", x="name", y=["tags"]), "tags"),
    ("y_numeric", config("pie", x="name", y=["name"]), "name"),
    ("x_orderable", config("line", x="name", y=["f"]), "name"),
    ("x_orderable", config("area", x="flag", y=["f"]), "flag"),
    ("x_orderable", config("scatter", x="dict_name", y=["f"]), "dict_name"),
    ("category_scalar", config("bar", x="tags", y=["n"]), "tags"),
    ("category_scalar", config("heatmap", x="name", y=["tags"], value="f"), "tags"),
    ("category_scalar", config("boxplot", x="tags", y=["f"]), "tags"),
    ("pie_one_measure", config("pie", x="name", y=["n", "f"]), "f"),
    ("pie_categorical_x", config("pie", x="f", y=["n"]), "f"),
    ("pie_categorical_x", config("pie", x="t", y=["n"]), "t"),
    ("heatmap_shape", config("heatmap", x="name", y=["n"]), None),
    ("heatmap_shape", config("heatmap", x="name", y=["n", "f"], value="f"), "f"),
    ("heatmap_numeric_value", config("heatmap", x="name", y=["n"], value="name"), "name"),
    ("histogram_one_column", config("histogram", x="f", y=["n"]), "n"),
    ("histogram_one_column", config("histogram"), None),
    ("series_categorical", config("line", x="t", y=["f"], series="f"), "f"),
    ("series_unsupported", config("pie", x="name", y=["n"], series="flag"), "flag"),
    ("value_unsupported", config("bar", x="name", y=["n"], value="f"), "f"),
    ("log_x_numeric", config("line", x="t", y=["f"], log_x=True), "t"),
    ("log_x_numeric", config("bar", x="name", y=["f"], log_x=True), "name"),
    ("log_y_numeric", config("pie", x="name", y=["n"], log_y=True), "n"),
    ("stacked_unsupported", config("scatter", x="f", y=["n"], stacked=True), None),
]


@pytest.mark.parametrize(("rule", "cfg", "column"), FAILING, ids=[f[0] for f in FAILING])
def test_each_failing_example_names_its_rule_and_column(
    rule: str, cfg: ChartConfig, column: str | None
) -> None:
    with pytest.raises(ChartValidationError) as caught:
        validate(cfg, SCHEMA)
    error = caught.value
    assert (error.rule, error.column) == (rule, column)
    assert error.code == "chart_type_mismatch"
    assert f"rule {rule}" in str(error)
    if column is not None:
        assert repr(column) in str(error)


def test_every_rule_in_the_table_has_a_failing_example() -> None:
    assert {rule.id for rule in RULES} == {rule for rule, _, _ in FAILING}


PASSING = [
    config("line", x="t", y=["f", "n", "price"], series="name", log_y=True),
    config("line", x="day", y=["f"], stacked=True),
    config("area", x="n", y=["f"], series="flag", log_x=True),
    config("scatter", x="f", y=["température °C"], series='we"ird'),
    config("scatter", x="t", y=["n"]),
    config("bar", x="name", y=["n", "f"], series="dict_name", stacked=True, log_y=True),
    config("bar", x="t", y=["price"]),
    config("pie", x="name", y=["n"]),
    config("pie", x="flag", y=["f"]),
    config("pie", x='we"ird', y=["f"]),
    config("histogram", y=["f"], log_y=True),
    config("histogram", x="price"),
    config("heatmap", x="name", y=["day"], value="f"),
    config("boxplot", y=["f", "n"]),
    config("boxplot", x="name", y=["f"], log_y=True),
]


@pytest.mark.parametrize("cfg", PASSING, ids=[f"{c.chart_type}-{i}" for i, c in enumerate(PASSING)])
def test_configs_that_fit_the_schema_pass(cfg: ChartConfig) -> None:
    validate(cfg, SCHEMA)


def test_duplicate_result_columns_are_ambiguous() -> None:
    schema = pa.schema([("a", pa.int64()), ("a", pa.float64()), ("b", pa.int64())])
    with pytest.raises(ChartValidationError) as caught:
        validate(config("line", x="b", y=["a"]), schema)
    assert (caught.value.rule, caught.value.column) == ("column_exists", "a")
    assert "2 columns" in str(caught.value)


def test_rules_table_is_json_ready_for_the_ui() -> None:
    import json

    rows = rules_table()
    assert json.loads(json.dumps(rows)) == rows
    pie_rules = {row["id"] for row in rows if "pie" in row["chart_types"]}  # type: ignore[operator]
    assert {"pie_one_measure", "pie_categorical_x", "column_exists"} <= pie_rules
