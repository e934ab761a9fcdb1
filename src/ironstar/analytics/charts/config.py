"""The chart configuration an analyst chooses: a frozen, JSON-able record that events can carry.

Field limits live in the annotated types, so they show up in the JSON Schema and are enforced
both when a config is decoded (``parse_chart_config``) and when code builds one directly.
Whether a config fits a particular result is a separate question: see ``validation``.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Final

import msgspec


class ChartType(enum.StrEnum):
    LINE = "line"
    BAR = "bar"
    AREA = "area"
    SCATTER = "scatter"
    PIE = "pie"
    HISTOGRAM = "histogram"
    HEATMAP = "heatmap"
    BOXPLOT = "boxplot"


class Aggregate(enum.StrEnum):
    """How bar, pie and heatmap charts fold several rows into one value per category."""

    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    COUNT = "count"


MAX_Y_COLUMNS: Final = 8
MAX_COLORS: Final = 32
MAX_CATEGORIES: Final = 500
DEFAULT_CATEGORIES: Final = 50
MAX_BINS: Final = 500
DEFAULT_BINS: Final = 20

ColumnName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Label = Annotated[str, msgspec.Meta(max_length=200)]
# #rgb, #rgba, #rrggbb or #rrggbbaa: the CSS hex forms ECharts accepts as colours.
HexColor = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$",
        description="CSS hex colour",
    ),
]
YColumns = Annotated[list[ColumnName], msgspec.Meta(max_length=MAX_Y_COLUMNS)]
Colors = Annotated[list[HexColor], msgspec.Meta(max_length=MAX_COLORS)]
Bins = Annotated[int, msgspec.Meta(ge=1, le=MAX_BINS)]
CategoryLimit = Annotated[int, msgspec.Meta(ge=1, le=MAX_CATEGORIES)]


class InvalidChartConfig(ValueError):
    """The config is malformed on its own (bad colour, too many columns), whatever the data."""

    code = "invalid_chart_config"


class ChartConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    chart_type: ChartType
    x: ColumnName | None = None
    y: YColumns = msgspec.field(default_factory=list)
    series: ColumnName | None = None  # colour/group column: one drawn series per value
    value: ColumnName | None = None  # heatmap cell value
    aggregate: Aggregate = Aggregate.SUM
    title: Label = ""
    x_label: Label = ""
    y_label: Label = ""
    colors: Colors = msgspec.field(default_factory=list)
    log_x: bool = False
    log_y: bool = False
    bins: Bins = DEFAULT_BINS
    stacked: bool = False
    max_categories: CategoryLimit = DEFAULT_CATEGORIES

    def __post_init__(self) -> None:
        # Meta constraints are only checked on decode; re-check them for directly built
        # configs so an invalid one can never reach an event.
        for name in _CONSTRAINED_FIELDS:
            try:
                msgspec.convert(getattr(self, name), _FIELD_TYPES[name])
            except msgspec.ValidationError as exc:
                raise InvalidChartConfig(f"{name}: {exc}") from None
        if len(set(self.y)) != len(self.y):
            raise InvalidChartConfig("y: a column is listed more than once")


_FIELD_TYPES: Final[dict[str, Any]] = {
    "x": ColumnName | None,
    "y": YColumns,
    "series": ColumnName | None,
    "value": ColumnName | None,
    "title": Label,
    "x_label": Label,
    "y_label": Label,
    "colors": Colors,
    "bins": Bins,
    "max_categories": CategoryLimit,
}
_CONSTRAINED_FIELDS: Final = tuple(_FIELD_TYPES)


def parse_chart_config(raw: bytes | str | dict[str, Any]) -> ChartConfig:
    """Decode a config from JSON text or a JSON-like dict, raising ``InvalidChartConfig``."""
    try:
        if isinstance(raw, dict):
            return msgspec.convert(raw, ChartConfig)
        return msgspec.json.decode(raw, type=ChartConfig)
    except msgspec.ValidationError as exc:
        raise InvalidChartConfig(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise InvalidChartConfig(f"not valid JSON: {exc}") from None


def encode_chart_config(config: ChartConfig) -> bytes:
    return msgspec.json.encode(config)
