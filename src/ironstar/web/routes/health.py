"""Liveness, readiness (seed 004: refuse traffic until ready) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["operations"])


@router.get("/health/live", responses={503: {"description": "start-up failed"}})
async def live(request: Request) -> JSONResponse:
    """The process answers (503 once start-up has failed: restarting it is the cure)."""
    startup = getattr(request.app.state, "startup", None)
    if startup is not None and startup.failed:
        return JSONResponse({"status": "failed", "error": startup.step}, status_code=503)
    return JSONResponse({"status": "live"})


@router.get("/health/ready", responses={503: {"description": "not ready yet"}})
async def ready(request: Request) -> JSONResponse:
    """Ready once the event store, the read models and the catalogs are up."""
    checks = dict(request.app.state.readiness)
    ok = all(checks.values()) and bool(checks)
    return JSONResponse(
        {"status": "ready" if ok else "starting", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    state = request.app.state
    services = state.services
    head = await services.app.events.head_position()
    state.metrics.events_head.set(head)
    state.metrics.projection_lag.set(max(0, head - services.app.runner.position))
    executor = services.engine.executor
    executing, unfinished = len(executor.executing()), len(executor.running())
    state.metrics.queries_running.set(executing)
    state.metrics.queries_queued.set(max(0, unfinished - executing))
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
