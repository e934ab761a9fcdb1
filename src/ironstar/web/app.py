"""The ASGI app: lifespan (services, demo data, readiness), middleware, errors, routers."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ironstar.bootstrap import Services, build_services
from ironstar.settings import Settings
from ironstar.web import routes
from ironstar.web.errors import describe
from ironstar.web.metrics import Metrics
from ironstar.web.security import BodySizeLimit, SecurityHeaders, load_secret

log = logging.getLogger("ironstar.web")
STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    prepare: Callable[[Settings], Awaitable[None]] | None = None,
) -> FastAPI:
    """``prepare`` runs before the services start (the CLI builds demo data there)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.readiness = {"event_store": False, "projections": False, "catalogs": False}
        if prepare is not None:
            await prepare(settings)
        owned = services is None
        built: Services = (
            services if services is not None else await asyncio.to_thread(build_services, settings)
        )
        app.state.services = built
        app.state.readiness["event_store"] = True
        await built.start()
        head = await built.app.events.head_position()
        app.state.readiness["projections"] = await built.app.runner.wait_for(head, timeout=600)
        await built.engine.warm_up()
        app.state.readiness["catalogs"] = True
        log.info("ironstar ready on head position %s", head)
        try:
            yield
        finally:
            app.state.readiness = {"event_store": False, "projections": False, "catalogs": False}
            if owned:
                await built.close()

    app = FastAPI(
        title="Ironstar",
        version="0.1.0",
        description="Event-sourced scientific data analysis: every HTML page has a JSON twin.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.secret = load_secret(settings.data_dir)
    app.state.metrics = Metrics()
    app.state.readiness = {"event_store": False, "projections": False, "catalogs": False}
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_errors(app)
    _install_request_context(app)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    for module in pkgutil.iter_modules(routes.__path__):
        loaded = importlib.import_module(f"{routes.__name__}.{module.name}")
        router = getattr(loaded, "router", None)
        if router is not None:
            app.include_router(router)
        install = getattr(loaded, "install", None)  # app-wide hooks, e.g. render_error
        if callable(install):
            install(app)
    return app


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _install_errors(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        status, body = describe(exc)
        body["details"].setdefault("request_id", getattr(request.state, "request_id", None))
        if status == 500:
            log.exception(
                "unhandled error on %s %s", request.method, request.url.path, exc_info=exc
            )
        if status == 401 and wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={target}", status_code=303)
        if wants_html(request):
            render = getattr(request.app.state, "render_error", None)
            if render is not None:
                page: Response = await render(request, status, body)
                return page
        return JSONResponse(body, status_code=status)

    async def invalid(request: Request, exc: Exception) -> Response:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        body = {
            "code": "validation_error",
            "message": "the request is not valid: "
            + "; ".join(
                f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in errors[:5]
            ),
            "details": {
                "errors": _jsonable(errors),
                "request_id": getattr(request.state, "request_id", None),
            },
        }
        return JSONResponse(body, status_code=422)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, handle)
    # Starlette's handler for ``Exception`` answers and then re-raises, and the server then
    # drops the keep-alive connection; the request middleware answers through this instead.
    app.state.handle_error = handle


def _jsonable(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg")),
            "type": str(e.get("type")),
        }
        for e in errors
    ]


class RequestContext:
    """Request id, latency metric, structured request log, and coded errors answered as
    ordinary responses. Plain ASGI: streaming responses (SSE) pass through untouched."""

    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = (given or uuid.uuid4().hex)[:64]
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                raise
            request = Request(scope, receive)
            response = await self.owner.state.handle_error(request, exc)
            await response(scope, receive, send_with_id)
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


def _install_request_context(app: FastAPI) -> None:
    app.add_middleware(RequestContext, owner=app)
