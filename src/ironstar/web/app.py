"""The ASGI app: lifespan (services, demo data, readiness), middleware, errors, routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
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
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ironstar.bootstrap import Services, build_services
from ironstar.settings import Settings
from ironstar.web import routes
from ironstar.web.errors import describe
from ironstar.web.metrics import Metrics
from ironstar.web.security import BodySizeLimit, SecurityHeaders, load_secret
from ironstar.web.static_files import VersionedStaticFiles

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
        startup = Startup()
        app.state.startup = startup
        app.state.readiness = {"event_store": False, "projections": False, "catalogs": False}
        task = asyncio.create_task(_start(app, settings, services, prepare), name="startup")
        if services is not None:
            await task  # embedded (tests): ready before the first request
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            app.state.readiness = {"event_store": False, "projections": False, "catalogs": False}
            built = getattr(app.state, "services", None)
            if services is None and built is not None:
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
    app.mount("/static", VersionedStaticFiles(), name="static")
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


class Startup:
    """What the server is doing before it is ready, for the "starting" page."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.step = "opening the event store"
        self.failed = False

    @property
    def elapsed(self) -> int:
        return round(time.monotonic() - self.began)


async def _start(
    app: FastAPI,
    settings: Settings,
    services: Services | None,
    prepare: Callable[[Settings], Awaitable[None]] | None,
) -> None:
    """Everything before the first real request, in the background: the server accepts
    connections at once and answers "starting" (503) until the read models and catalogs
    are up (seed 004: refuse traffic until ready)."""
    startup: Startup = app.state.startup
    readiness = app.state.readiness
    try:
        if prepare is not None:
            startup.step = "building the demo catalogs"
            await prepare(settings)
        startup.step = "opening the event store"
        built: Services = (
            services if services is not None else await asyncio.to_thread(build_services, settings)
        )
        app.state.services = built
        readiness["event_store"] = True
        await built.start()
        head = await built.app.events.head_position()
        runner = built.app.runner
        while not await runner.wait_for(head, timeout=1.0):
            startup.step = f"bringing the read models up to date ({runner.position:,} of {head:,})"
        readiness["projections"] = True
        startup.step = "opening the catalogs"
        await built.engine.warm_up()
        readiness["catalogs"] = True
        if services is None:
            # What start-up built lives as long as the process: keep it out of the cyclic
            # collector, whose full passes over it took 50-150 ms (a p99 spike each time).
            gc.collect()
            gc.freeze()
        log.info("ironstar ready on head position %s", head)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        startup.failed = True
        startup.step = f"{type(exc).__name__}: {exc}"
        log.exception("ironstar could not start")
        if services is not None:
            raise


def is_ready(state: Any) -> bool:
    readiness: dict[str, bool] | None = getattr(state, "readiness", None)
    return all(readiness.values()) if readiness else False


# Answered while starting: probes, and the assets the "starting" page itself uses.
_ALWAYS_OPEN = ("/health/", "/static/")


async def _starting(scope: Scope, receive: Receive, send: Send, owner: FastAPI) -> int:
    """503 while starting: a page that reloads itself, or the API's error body."""
    startup: Startup | None = getattr(owner.state, "startup", None)
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
        body = {
            "code": "not_ready",
            "message": f"Ironstar is starting: {step}"
            if not failed
            else f"start-up failed: {step}",
            "details": {"checks": dict(getattr(owner.state, "readiness", {}))},
        }
        response = JSONResponse(body, status_code=503, headers=headers)
    await response(scope, receive, send)
    return 503


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
            if not is_ready(self.owner.state) and not scope["path"].startswith(_ALWAYS_OPEN):
                await _starting(scope, receive, send_with_id, self.owner)
            else:
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
