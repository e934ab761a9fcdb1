"""The one request middleware: everything each HTTP request needs around the routes.

Request id, the "starting" answer until the server is ready, the body size limit,
security headers, the latency metric, the structured request log, and coded errors
answered as ordinary responses. One plain ASGI layer rather than one per concern:
every layer costs a call per request and a wrapper per message sent, and a live page
sends a message per change to hundreds of clients. Streaming responses (SSE) pass
through untouched.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ironstar.ids import new_id
from ironstar.web.security import (
    BodyTooLarge,
    add_security_headers,
    declared_too_large,
    limited,
    refuse_too_large,
)

log = logging.getLogger("ironstar.web")

# Answered while starting: probes, and the assets the "starting" page itself uses.
_ALWAYS_OPEN = ("/health/", "/static/")


def is_ready(state: Any) -> bool:
    readiness: dict[str, bool] | None = getattr(state, "readiness", None)
    return all(readiness.values()) if readiness else False


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


class RequestContext:
    def __init__(self, app: ASGIApp, owner: FastAPI, body_limit: int = 2 * 1024 * 1024) -> None:
        self.app = app
        self.owner = owner
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value
                break
        request_id = (given.decode("latin-1") or new_id())[:64]
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        encoded_id = request_id.encode("latin-1")

        async def send_with_context(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                add_security_headers(message)
                message["headers"].append((b"x-request-id", encoded_id))
            await send(message)

        try:
            if not is_ready(self.owner.state) and not scope["path"].startswith(_ALWAYS_OPEN):
                await _starting(scope, receive, send_with_context, self.owner)
            elif declared_too_large(scope, self.body_limit):
                await refuse_too_large(send_with_context, self.body_limit)
            else:
                await self.app(scope, limited(receive, self.body_limit), send_with_context)
        except BodyTooLarge:
            if response_started:
                raise
            await refuse_too_large(send_with_context, self.body_limit)
        except Exception as exc:
            if response_started:
                raise
            request = Request(scope, receive)
            response = await self.owner.state.handle_error(request, exc)
            await response(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.owner.state.metrics.request_seconds.labels(
                scope["method"], route, str(status)
            ).observe(elapsed)
            viewer = scope.get("state", {}).get("viewer")
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                    "user": getattr(viewer, "user_id", None),
                },
            )


async def _starting(scope: Scope, receive: Receive, send: Send, owner: FastAPI) -> None:
    """503 while starting: a page that reloads itself, or the API's error body."""
    startup = getattr(owner.state, "startup", None)
    step = startup.step if startup else "starting"
    failed = bool(startup and startup.failed)
    request = Request(scope, receive)
    headers = {"retry-after": "2", "cache-control": "no-store"}
    response: Response
    if wants_html(request):
        from ironstar.web.routes.pages_support import render_fragment

        context = {
            "step": step,
            "failed": failed,
            "retry_after": 2,
            "elapsed": startup.elapsed if startup else 0,
        }
        html = render_fragment(request, "pages/starting.html", context)
        response = Response(html, status_code=503, media_type="text/html", headers=headers)
    else:
        message = f"start-up failed: {step}" if failed else f"Ironstar is starting: {step}"
        body = {
            "code": "not_ready",
            "message": message,
            "details": {"checks": dict(getattr(owner.state, "readiness", {}))},
        }
        response = JSONResponse(body, status_code=503, headers=headers)
    await response(scope, receive, send)
