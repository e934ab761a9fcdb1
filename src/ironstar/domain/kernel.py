"""Shared kernel: identities, bounded values and chart references every context uses.

Value objects are validated where they are made: each ``parse_*`` function checks a
raw value and returns it under a ``NewType`` (``Name``, ``SqlText``, ...). Event fields
are typed with those NewTypes, so the type checker refuses an event built from an
unchecked string. Stored events are never re-validated when loaded: history is fact,
and bounds may change later without making old streams unreadable.
"""

from __future__ import annotations

import enum
import math
import re
from typing import Any, Final, NewType

import msgspec

from ironstar.domain.errors import (
    InvalidChart,
    InvalidId,
    InvalidName,
    InvalidSql,
    InvalidValue,
    TooLarge,
)

UserId = NewType("UserId", str)
Name = NewType("Name", str)
SqlText = NewType("SqlText", str)

MAX_ID_LENGTH: Final = 150
MAX_NAME_LENGTH: Final = 120
MAX_TEXT_LENGTH: Final = 2_000  # messages and reasons
MAX_SQL_LENGTH: Final = 100_000
MAX_CHART_CONFIG_BYTES: Final = 8 * 1024
MAX_CHART_SERIES: Final = 20
MAX_JSON_BYTES: Final = 16 * 1024  # free-form JSON documents such as UI state

_BAD_ID_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-z]{3,20}")


# msgspec does not inherit struct options: every subclass repeats frozen=True, kw_only=True.


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every domain event: something that happened, named in the past tense."""


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every command: a request, named in the imperative, that may be refused."""


class Value(msgspec.Struct, frozen=True, kw_only=True):
    """Base of small immutable values carried inside commands, events and state."""


def parse_id(raw: str, *, what: str = "id") -> str:
    """An identifier: non-empty, bounded, no whitespace (it ends up in stream ids)."""

    if not isinstance(raw, str) or not raw:
        raise InvalidId(f"{what} must be a non-empty string")
    if len(raw) > MAX_ID_LENGTH:
        raise InvalidId(f"{what} is longer than {MAX_ID_LENGTH} characters")
    if _BAD_ID_CHARS.search(raw):
        raise InvalidId(f"{what} {raw!r} contains whitespace or control characters")
    return raw


def parse_user_id(raw: str) -> UserId:
    return UserId(parse_id(raw, what="user id"))


def user_id_for(provider: str, provider_user_id: str) -> UserId:
    """The stable user id of a sign-in identity, e.g. ``github:583231``."""
    return parse_user_id(f"{parse_id(provider, what='provider')}:{provider_user_id}")


def parse_name(raw: str, *, what: str = "name") -> Name:
    """A human name: trimmed, non-empty, at most ``MAX_NAME_LENGTH``, one line."""

    if not isinstance(raw, str):
        raise InvalidName(f"{what} must be text")
    name = raw.strip()
    if not name:
        raise InvalidName(f"{what} must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"{what} is longer than {MAX_NAME_LENGTH} characters")
    if _CONTROL_CHARS.search(name):
        raise InvalidName(f"{what} must not contain control characters or line breaks")
    return Name(name)


def name_key(name: str) -> str:
    """What two names are compared by when they must be unique ("Q4" equals " q4 ")."""
    return name.strip().casefold()


def parse_text(raw: str, *, what: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """Free text (a message, a reason): bounded, may be empty."""

    if not isinstance(raw, str):
        raise InvalidValue(f"{what} must be text")
    if len(raw) > limit:
        raise InvalidValue(f"{what} is longer than {limit} characters")
    return raw


def parse_sql(raw: str) -> SqlText:
    """SQL text: not blank, at most ``MAX_SQL_LENGTH``; parsing it is the engine's job."""

    if not isinstance(raw, str) or not raw.strip():
        raise InvalidSql("SQL must not be empty")
    if len(raw) > MAX_SQL_LENGTH:
        raise InvalidSql(f"SQL is longer than {MAX_SQL_LENGTH} characters")
    return SqlText(raw)


def parse_json_object(
    raw: dict[str, Any], *, what: str, limit: int = MAX_JSON_BYTES
) -> dict[str, Any]:
    """A JSON object of at most ``limit`` encoded bytes, in canonical form.

    The value is re-decoded from its encoding so that what the event carries is
    exactly what a reader will get back (tuples become lists, and so on).
    """

    if not isinstance(raw, dict):
        raise InvalidValue(f"{what} must be a JSON object")
    try:
        encoded = msgspec.json.encode(raw)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidValue(f"{what} is not JSON: {exc}") from None
    if len(encoded) > limit:
        raise TooLarge(f"{what} is {len(encoded)} bytes; at most {limit} are allowed")
    decoded: dict[str, Any] = msgspec.json.decode(encoded)
    return decoded


def parse_instant(raw: float, *, what: str = "time") -> float:
    """A clock reading in epoch seconds, passed in on a command."""

    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise InvalidValue(f"{what} must be a finite number of seconds")
    if raw < 0:
        raise InvalidValue(f"{what} must not be before the epoch")
    return float(raw)


class DatasetRef(Value, frozen=True, kw_only=True):
    """A dataset inside a DuckLake catalog."""

    catalog_id: str
    dataset: str


def parse_dataset_ref(ref: DatasetRef) -> DatasetRef:
    parse_id(ref.catalog_id, what="catalog id")
    parse_name(ref.dataset, what="dataset name")
    return ref


class ChartType(enum.StrEnum):
    LINE = "line"
    BAR = "bar"
    SCATTER = "scatter"
    AREA = "area"
    HISTOGRAM = "histogram"
    PIE = "pie"
    HEATMAP = "heatmap"
    TABLE = "table"


class ChartConfig(Value, frozen=True, kw_only=True):
    """How to draw a query's result. Column names are checked against the result
    schema by the analytics layer; the domain checks only what it can see here."""

    chart_type: ChartType
    x: str | None = None
    y: tuple[str, ...] = ()
    series: str | None = None
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    colours: tuple[str, ...] = ()
    log_x: bool = False
    log_y: bool = False


def parse_chart_config(config: ChartConfig) -> ChartConfig:

    if not isinstance(config.chart_type, ChartType):
        raise InvalidChart(f"unknown chart type {config.chart_type!r}")
    columns = [c for c in (config.x, config.series) if c is not None] + list(config.y)
    if config.chart_type is not ChartType.TABLE and not config.y:
        raise InvalidChart(f"a {config.chart_type.value} chart needs at least one y column")
    if len(config.y) > MAX_CHART_SERIES:
        raise InvalidChart(f"a chart draws at most {MAX_CHART_SERIES} y columns")
    for column in columns:
        if not column.strip() or len(column) > MAX_NAME_LENGTH:
            raise InvalidChart(f"column name {column!r} is empty or too long")
    for label in (config.title, config.x_label, config.y_label):
        if len(label) > MAX_NAME_LENGTH or _CONTROL_CHARS.search(label):
            raise InvalidChart("chart titles and labels are one line of at most 120 characters")
    for colour in config.colours:
        if not _COLOUR.fullmatch(colour):
            raise InvalidChart(f"colour {colour!r} is neither #hex nor a colour name")
    size = len(msgspec.json.encode(config))
    if size > MAX_CHART_CONFIG_BYTES:
        raise TooLarge(f"chart config is {size} bytes; at most {MAX_CHART_CONFIG_BYTES}")
    return config


class ChartDefinition(Value, frozen=True, kw_only=True):
    """A chart drawn from the result of one completed query run."""

    query_id: str
    config: ChartConfig


def parse_chart_definition(definition: ChartDefinition) -> ChartDefinition:
    parse_id(definition.query_id, what="query id")
    parse_chart_config(definition.config)
    return definition
