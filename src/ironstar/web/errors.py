"""Every error a user can meet, as {code, message, details} with one HTTP status per code.

Domain, analytics and store errors carry a stable ``code``; this table is the only place
that decides their HTTP status. Anything without a code is an internal error: logged
with its traceback, shown as a short message with the request id, never a traceback.
"""

from __future__ import annotations

from typing import Any

STATUS_BY_CODE: dict[str, int] = {
    # the request itself
    "bad_request": 400,
    "validation_error": 422,
    "invalid_value": 422,
    "invalid_id": 422,
    "invalid_name": 422,
    "invalid_sql": 422,
    "invalid_chart": 422,
    "invalid_chart_config": 422,
    "chart_type_mismatch": 422,
    "out_of_grid": 422,
    "too_large": 413,
    "payload_too_large": 413,
    "sql_not_allowed": 422,
    "invalid_stream_id": 422,
    "invalid_append": 422,
    "event_encoding_error": 422,
    # who
    "not_authenticated": 401,
    "session_expired": 401,
    "session_invalidated": 401,
    "csrf_failed": 403,
    "forbidden": 403,
    "local_mode_only": 403,
    "rate_limited": 429,
    # what
    "not_found": 404,
    "method_not_allowed": 405,
    "unknown_tab": 404,
    "unknown_chart": 404,
    "unknown_catalog": 404,
    "deleted": 410,
    "result_gone": 410,
    "result_not_found": 410,  # the result's Parquet was removed (retention)
    # state
    "conflict": 409,
    "already_exists": 409,
    "name_taken": 409,
    "grid_overlap": 409,
    "tab_not_empty": 409,
    "last_tab": 409,
    "query_not_running": 409,
    "query_not_completed": 409,
    "session_not_expired": 409,
    "concurrent_modification": 409,
    "wrong_expected_version": 409,
    "duplicate_event_id": 409,
    "catalog_unavailable": 503,
    "store_unavailable": 503,
    "projections_lagging": 503,
    "not_ready": 503,
    "internal": 500,
}


class WebError(Exception):
    """An error raised by the web layer itself (auth, CSRF, bad request, ...)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def describe(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for a known error; (500, generic body) otherwise."""
    code = getattr(exc, "code", None)
    if not isinstance(code, str) or code not in STATUS_BY_CODE:
        return 500, {
            "code": "internal",
            "message": "something went wrong on our side",
            "details": {},
        }
    details: dict[str, Any] = dict(getattr(exc, "details", {}) or {})
    for attribute in ("column", "rule", "reason", "actual", "stream_id"):
        value = getattr(exc, attribute, None)
        if value is not None and attribute not in details:
            details[attribute] = value if isinstance(value, int | float | str) else str(value)
    message = getattr(exc, "message", None) or str(exc) or code.replace("_", " ")
    return STATUS_BY_CODE[code], {"code": code, "message": message, "details": details}
