"""Shared kernel: identities, bounded values and chart references every context uses.

Value objects are validated where they are made: each ``parse_*`` function checks a
raw value and returns it under a ``NewType`` (``Name``, ``SqlText``, ...). Event fields
are typed with those NewTypes, so the type checker refuses an event built from an
unchecked string. Stored events are never re-validated when loaded: history is fact,
and bounds may change later without making old streams unreadable.
"""

from __future__ import annotations

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
MAX_JSON_BYTES: Final = 16 * 1024  # free-form JSON documents such as UI state

_BAD_ID_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


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


# An escaped NUL in encoded JSON: \u0000 after an even number of backslashes.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


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
    if _NUL.search(encoded):  # the event store refuses NUL (PostgreSQL's jsonb cannot hold it)
        raise InvalidValue(f"{what} must not contain NUL characters")
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


# A chart config as JSON: {"chart_type": "line", "x": ..., "y": [...], "title": ..., ...}.
# Its schema belongs to the analytics layer (ironstar.analytics.charts.config.ChartConfig,
# stored here via msgspec.to_builtins), which also checks it against the result's columns;
# the domain cannot import analytics, so it checks only what it can see.
ChartConfig = dict[str, Any]


def parse_chart_config(raw: ChartConfig) -> ChartConfig:
    """A non-empty JSON object naming a chart type, at most ``MAX_CHART_CONFIG_BYTES``."""
    config = parse_json_object(raw, what="chart config", limit=MAX_CHART_CONFIG_BYTES)
    chart_type = config.get("chart_type")
    if not isinstance(chart_type, str) or not chart_type.strip():
        raise InvalidChart("a chart config must name its chart_type")
    return config


class ChartDefinition(Value, frozen=True, kw_only=True):
    """A chart drawn from the result of one completed query run (the ChartRef of the seed)."""

    query_id: str
    config: ChartConfig


def parse_chart_definition(definition: ChartDefinition) -> ChartDefinition:
    return ChartDefinition(
        query_id=parse_id(definition.query_id, what="query id"),
        config=parse_chart_config(definition.config),
    )
