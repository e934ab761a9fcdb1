"""Typed domain errors: each has a stable ``code`` for the API and a message for people.

The intermediate bases (``InvalidValue``, ``NotFound``, ``Conflict``, ``SessionEnded``)
let the web layer map a whole family to one HTTP status; the codes stay specific.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A command was refused; nothing was decided and no state changed."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- the command itself is malformed -------------------------------------------------


class InvalidValue(DomainError):
    code = "invalid_value"


class InvalidId(InvalidValue):
    code = "invalid_id"


class InvalidName(InvalidValue):
    code = "invalid_name"


class InvalidSql(InvalidValue):
    code = "invalid_sql"


class TooLarge(InvalidValue):
    code = "too_large"


class InvalidChart(InvalidValue):
    code = "invalid_chart"


class OutOfGrid(InvalidValue):
    code = "out_of_grid"


# -- who may do it -------------------------------------------------------------------


class Forbidden(DomainError):
    code = "forbidden"


# -- what it refers to does not exist --------------------------------------------------


class NotFound(DomainError):
    code = "not_found"


class UnknownTab(NotFound):
    code = "unknown_tab"


class UnknownChart(NotFound):
    code = "unknown_chart"


class UnknownCatalog(NotFound):
    code = "unknown_catalog"


class Deleted(NotFound):
    """The aggregate existed and was deleted; nothing more is accepted."""

    code = "deleted"


# -- the current state does not allow it ---------------------------------------------


class Conflict(DomainError):
    code = "conflict"


class AlreadyExists(Conflict):
    code = "already_exists"


class NameTaken(Conflict):
    code = "name_taken"


class GridOverlap(Conflict):
    code = "grid_overlap"


class TabNotEmpty(Conflict):
    code = "tab_not_empty"


class LastTab(Conflict):
    code = "last_tab"


class QueryNotRunning(Conflict):
    code = "query_not_running"


class QueryNotCompleted(Conflict):
    code = "query_not_completed"


class SessionNotExpired(Conflict):
    code = "session_not_expired"


class CatalogUnavailable(Conflict):
    code = "catalog_unavailable"


# -- the session can no longer be used: the user must sign in again -------------------


class SessionEnded(DomainError):
    code = "session_ended"


class SessionExpired(SessionEnded):
    code = "session_expired"


class SessionInvalidated(SessionEnded):
    code = "session_invalidated"
