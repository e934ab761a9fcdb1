"""Pieces of an ECharts ``option`` shared by every chart type, and the metadata beside it."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, Final

from ironstar.analytics.charts.config import ChartConfig

NULL_LABEL: Final = "(null)"
MAX_SERIES: Final = 20  # colour groups drawn at most; the largest ones win


def base_option(config: ChartConfig, notes: list[str], *, legend: bool) -> dict[str, Any]:
    """Title (notes as subtitle), tooltip, legend and colours; chart builders add the rest."""
    option: dict[str, Any] = {
        "title": {"text": config.title, "subtext": "; ".join(notes)},
        "tooltip": {"trigger": "axis"},
        "legend": {"show": legend, "type": "scroll", "bottom": 0},
        "animation": False,  # large option objects; redraws should be instant
        # Room for the title (and notes) and the y axis name above the plot, the x axis
        # name (and legend) below it; the tick labels are fitted inside (containLabel).
        "grid": {
            "left": 16,
            "right": 28,
            "top": 84 if notes else 64,
            "bottom": 60 if legend else 36,
            "containLabel": True,
        },
    }
    if config.colors:
        option["color"] = list(config.colors)
    return option


def x_axis(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    """A horizontal axis of ECharts type ``value``, ``log``, ``time`` or ``category``: its
    name centred under the tick labels (the default 15 px gap put it on top of them)."""
    result: dict[str, Any] = {"type": kind, "name": name, "nameLocation": "middle", "nameGap": 30}
    result.update(extra)
    return result


def y_axis(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    """A vertical axis: its name above the axis, read left to right. Turned and centred
    beside the tick labels it collided with them whenever they were wider than its gap,
    and their width depends on the data."""
    result: dict[str, Any] = {
        "type": kind,
        "name": name,
        "nameLocation": "end",
        "nameGap": 12,
        "nameTextStyle": {"align": "left"},
    }
    result.update(extra)
    return result


def category_label(value: object) -> str:
    """How a category value reads on an axis or in a legend."""
    if value is None:
        return NULL_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float | decimal.Decimal):
        return format(value, "g")
    return str(value)


def meta(
    config: ChartConfig,
    series: list[dict[str, Any]],
    notes: list[str],
    *,
    method: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Facts about what was drawn: per-series rows and points, downsampling, notes."""
    return {
        "chart_type": str(config.chart_type),
        "series": series,
        "downsampled": any(s.get("downsampled", False) for s in series),
        "method": method,
        "notes": notes,
        **extra,
    }


def ranks_by_key(keys: list[Any]) -> list[int]:
    """Ranks (1-based positions in ``keys``) sorted by their key's value, NULL last."""
    return sorted(
        range(1, len(keys) + 1),
        key=lambda rank: (
            keys[rank - 1] is None,
            keys[rank - 1] if keys[rank - 1] is not None else 0,
        ),
    )
