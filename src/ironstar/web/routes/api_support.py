"""What every JSON API route shares: the viewer, CSRF, idempotency keys, error responses.

A command's idempotency key becomes its command id, scoped to the user and the URL it was
sent to, so a double click or a retry is recognised by the event store and writes nothing.
Ids of things a command creates are derived from the same key, so a retried "create"
lands on the same stream and is recognised too.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from fastapi import Depends, FastAPI, Header, Path, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from ironstar.application.handler import CommandResult, event_ids_for
from ironstar.bootstrap import Services
from ironstar.domain import errors
from ironstar.domain.kernel import MAX_ID_LENGTH
from ironstar.ids import new_id
from ironstar.web.api_models import ID_PATTERN, Error
from ironstar.web.context import Viewer, check_csrf, require_viewer, services_of
from ironstar.web.errors import STATUS_BY_CODE

REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_PATTERN = r"^[\x21-\x7e]{1,100}$"


def _error_responses() -> dict[int | str, dict[str, Any]]:
    by_status: dict[int, list[str]] = {}
    for code, status in STATUS_BY_CODE.items():
        by_status.setdefault(status, []).append(code)
    return {
        status: {"model": Error, "description": "codes: " + ", ".join(sorted(codes))}
        for status, codes in sorted(by_status.items())
    }


# Every API route documents every error status: the codes behind each are listed.
ERRORS = _error_responses()


@dataclass(frozen=True)
class Reader:
    viewer: Viewer
    services: Services

    @property
    def user(self) -> str:
        return self.viewer.user_id


@dataclass(frozen=True)
class Commander(Reader):
    """A signed-in, CSRF-checked state change with its command id."""

    command_id: str
    keyed: bool  # the caller sent an Idempotency-Key
    path: str

    def derived_id(self, purpose: str) -> str:
        """An id for something this command creates: stable across retries of one key."""
        if not self.keyed:
            return new_id()
        return hashlib.sha256(f"{self.command_id}\n{purpose}".encode()).hexdigest()[:32]

    async def written(self, result: CommandResult, response: Response) -> int:
        """The position a command wrote. A retry that changes nothing this time answers
        with the position its first attempt wrote, so it gets the same answer."""
        if result.replayed:
            response.headers[REPLAYED_HEADER] = "true"
            return result.position
        if result.position or not self.keyed:
            return result.position
        earlier = await self.prior(result.stream_id)
        if earlier:
            response.headers[REPLAYED_HEADER] = "true"
        return earlier

    async def create(
        self, stream_id: str, response: Response, run: Callable[[], Awaitable[object]]
    ) -> int:
        """Run a use case that creates ``stream_id`` and answers only with an id; return
        the position it wrote (or, on a retry, the position the first attempt wrote)."""
        earlier = await self.prior(stream_id) if self.keyed else 0
        await run()
        if earlier:
            response.headers[REPLAYED_HEADER] = "true"
            return earlier
        return await self.prior(stream_id)

    async def prior(self, stream_id: str) -> int:
        """The last position this command id wrote on ``stream_id`` (0 if it wrote none)."""
        events = self.services.app.events
        first = await events.find_event(event_ids_for(stream_id, self.command_id, 1)[0])
        if first is None:
            return 0
        tail = await events.read_stream(stream_id, first.stream_version)
        mine = [e.position for e in tail if e.metadata.causation_id == self.command_id]
        return max(mine, default=first.position)


async def reader(request: Request) -> Reader:
    viewer = await require_viewer(request)
    return Reader(viewer, services_of(request))


async def commander(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="The same key on a retry returns the first answer and writes nothing.",
            max_length=100,
            pattern=IDEMPOTENCY_PATTERN,
        ),
    ] = None,
) -> Commander:
    viewer = await require_viewer(request)
    check_csrf(request, viewer)
    path = f"{request.method} {request.url.path}"
    if idempotency_key:
        scoped = f"{viewer.user_id}\n{path}\n{idempotency_key}"
        command_id = "api:" + hashlib.sha256(scoped.encode()).hexdigest()[:40]
    else:
        command_id = "api:" + new_id()
    return Commander(viewer, services_of(request), command_id, bool(idempotency_key), path)


Read = Annotated[Reader, Depends(reader)]
Command = Annotated[Commander, Depends(commander)]


_ENCODER = msgspec.json.Encoder()


def row_list(model: type[BaseModel], key: str, rows: list[dict[str, Any]]) -> Response:
    """``{key: [rows]}`` with each row cut to ``model``'s fields, encoded directly.

    For long lists of flat read-model rows whose columns already have the model's types
    (the route keeps ``response_model`` for the OpenAPI document): validating a few
    hundred rows through pydantic cost more than the rest of the request."""
    fields = tuple(model.model_fields)
    body = {key: [{name: row[name] for name in fields} for row in rows]}
    return Response(_ENCODER.encode(body), media_type="application/json")


def not_found(what: str) -> errors.NotFound:
    return errors.NotFound(f"there is no {what} of yours")


def jsonable(value: Any) -> Any:
    """A result cell or chart value as strict JSON (no NaN, no bytes, no datetimes)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


def path_id(description: str) -> Any:
    """A path parameter holding an id: bounded, no whitespace or control characters."""
    return Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN, description=description)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def install(app: FastAPI) -> None:
    """Called by the app factory: routing errors under /api/ (no such route, wrong method)
    answer in the API's error format too; elsewhere FastAPI's own handler stays."""

    async def routing_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/api/") or not isinstance(exc, HTTPException):
            return await http_exception_handler(request, exc)  # type: ignore[arg-type]
        code = HTTP_CODES.get(exc.status_code, "bad_request")
        body = {
            "code": code,
            "message": str(exc.detail) if exc.detail else code.replace("_", " "),
            "details": {"request_id": getattr(request.state, "request_id", None)},
        }
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(HTTPException, routing_error)
