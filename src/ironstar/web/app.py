"""The ASGI app: lifespan (services, demo data, readiness), middleware, errors, routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import pkgutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from ironstar.bootstrap import Services, build_services
from ironstar.settings import Settings
from ironstar.web import routes
from ironstar.web.errors import describe
from ironstar.web.metrics import Metrics
from ironstar.web.request_context import RequestContext, wants_html
from ironstar.web.security import load_secret
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
        # Metrics are Prometheus and logs our own JSON lines (see Metrics, logs.py): no
        # OpenTelemetry, so skip its per-request provider lookups.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.secret = load_secret(settings.data_dir)
    app.state.metrics = Metrics()
    app.state.readiness = {"event_store": False, "projections": False, "catalogs": False}
    app.mount("/static", VersionedStaticFiles(), name="static")
    _install_errors(app)
    _install_request_context(app, settings)
    for module in pkgutil.iter_modules(routes.__path__):
        loaded = importlib.import_module(f"{routes.__name__}.{module.name}")
        router = getattr(loaded, "router", None)
        for each in getattr(loaded, "routers", (router,) if router is not None else ()):
            # The routes go straight onto the app's router, not through include_router:
            # FastAPI keeps an included router as one nested route and searches it, with
            # scope bookkeeping per candidate, twice per request - a third of the CPU of
            # a simple API read. The modules' routers carry no prefix or dependencies of
            # their own beyond what their routes already hold.
            app.router.routes.extend(each.routes)
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
            # Then collect the older generations far less often: under load, with the
            # default thresholds, a 5-6 ms middle pass ran every second or so and a ~30 ms
            # full pass every few seconds over caches that hold no garbage.
            gc.collect()
            gc.freeze()
            gc.set_threshold(5_000, 100, 100)
        log.info("ironstar ready on head position %s", head)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        startup.failed = True
        startup.step = f"{type(exc).__name__}: {exc}"
        log.exception("ironstar could not start")
        if services is not None:
            raise


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


def _install_request_context(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(RequestContext, owner=app, body_limit=settings.max_body_bytes)
