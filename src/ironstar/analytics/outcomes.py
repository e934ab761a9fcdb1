"""What a query asks for and how it ends: the executor's public records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ironstar.analytics.results import ResultSummary

FailureKind = Literal[
    "syntax",
    "binding",  # parses, but names no such table, column or function
    "sql_not_allowed",
    "timeout",
    "resource",
    "catalog_unavailable",
    "execution",
    "invalid",
]


@dataclass(frozen=True)
class QueryRequest:
    query_id: str  # also names the result blob: letters, digits, '-', '_', '.'
    user_id: str
    sql: str
    catalog: str | None = None  # default catalog (USE); others can be named as <catalog>.
    snapshot_pins: Mapping[str, int] = field(default_factory=dict)  # time travel
    timeout_seconds: float | None = None  # None: the executor's default
    use_cache: bool = True


@dataclass(frozen=True)
class QueryCompleted:
    summary: ResultSummary
    cached: bool = False
    status: Literal["completed"] = "completed"


@dataclass(frozen=True)
class QueryFailed:
    kind: FailureKind
    message: str
    line: int | None = None
    column: int | None = None
    status: Literal["failed"] = "failed"


@dataclass(frozen=True)
class QueryCancelled:
    message: str = "the query was cancelled"
    status: Literal["cancelled"] = "cancelled"


QueryOutcome = QueryCompleted | QueryFailed | QueryCancelled
