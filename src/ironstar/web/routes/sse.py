"""Server-sent events: one stream per page, carrying re-rendered fragments of the read
models it shows (``sse-swap`` targets), ``id`` = the event's global position."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from ironstar.eventstore.model import RecordedEvent
from ironstar.web import live
from ironstar.web.context import Viewer, require_viewer, services_of
from ironstar.web.routes.pages_dashboards import dashboard_body_html, owned_dashboard
from ironstar.web.routes.pages_home import catalogs_context, datasets_data, home_data
from ironstar.web.routes.pages_query import owned_query, query_live_html
from ironstar.web.routes.pages_saved import saved_context
from ironstar.web.routes.pages_support import layout_context, render_fragment
from ironstar.web.templating import SLOTS

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(require_viewer)]
HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def last_event_id(request: Request) -> int | None:
    """Where the client stopped: Last-Event-ID on reconnect, else the page's ``after``."""
    for raw in (request.headers.get("last-event-id"), request.query_params.get("after")):
        if raw and raw.strip().isdigit():
            return int(raw.strip())
    return None


def event_stream(
    request: Request,
    viewer: Viewer,
    view: tuple[Hashable, ...],
    wants: live.Wants,
    render: live.Render,
    event_name: str,
) -> StreamingResponse:
    """A stream of ``render``'s fragment; ``view`` names what the fragment shows besides the
    user and the URL base, so clients showing the same thing share one rendering."""
    services = services_of(request)
    broadcaster = live.broadcaster_of(request.app.state, services)
    keep_alive = float(getattr(request.app.state, "sse_keep_alive", live.KEEP_ALIVE_SECONDS))
    key = (event_name, *view, viewer.user_id, str(request.base_url))
    body = live.stream(
        broadcaster,
        wants,
        live.View(key, event_name, render),
        csrf_token=viewer.csrf,
        last_id=last_event_id(request),
        keep_alive=keep_alive,
    )
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)


def own(viewer: Viewer, stream_types: tuple[str, ...]) -> live.Wants:
    def wants(event: RecordedEvent) -> bool:
        return event.stream_type in stream_types and event.metadata.user_id == viewer.user_id

    return wants


@router.get("/dashboards/{dashboard_id}/events", name="events_dashboard")
async def dashboard_events(
    request: Request, viewer: SignedIn, dashboard_id: str, tab: str = ""
) -> StreamingResponse:
    await owned_dashboard(request, viewer, dashboard_id)
    stream_id = f"dashboard:{dashboard_id}"

    async def render() -> str:
        return await dashboard_body_html(request, viewer, dashboard_id, tab or None, slots=SLOTS)

    return event_stream(
        request,
        viewer,
        (dashboard_id, tab),
        lambda e: e.stream_id == stream_id,
        render,
        "dashboard",
    )


@router.get("/queries/{query_id}/events", name="events_query")
async def query_events(request: Request, viewer: SignedIn, query_id: str) -> StreamingResponse:
    await owned_query(request, viewer, query_id)
    stream_id = f"query:{query_id}"
    params = dict(request.query_params)
    shown = tuple(sorted((k, v) for k, v in params.items() if k != "after"))

    async def render() -> str:
        return await query_live_html(request, viewer, query_id, params, slots=SLOTS)

    return event_stream(
        request, viewer, (query_id, shown), lambda e: e.stream_id == stream_id, render, "query"
    )


@router.get("/events/catalogs", name="events_catalogs")
async def catalog_events(
    request: Request, viewer: SignedIn, view: str = "catalogs", q: str = ""
) -> StreamingResponse:
    def wants(event: RecordedEvent) -> bool:
        if event.stream_type != "catalog":
            return False
        return (
            event.event_type == "CatalogMetadataRefreshed"
            or event.metadata.user_id == viewer.user_id
        )

    async def render() -> str:
        context = await layout_context(request, viewer, view)
        context.update(SLOTS)
        if view == "datasets":
            context.update(await datasets_data(request, viewer, q[:200]))
            return render_fragment(request, "partials/dataset_tree.html", context)
        context.update(await catalogs_context(request, viewer))
        return render_fragment(request, "partials/catalog_list.html", context)

    return event_stream(request, viewer, (view, q), wants, render, "catalog")


LIST_VIEWS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "home": (("query", "dashboard", "saved_query"), "partials/home_body.html"),
    "dashboards": (("dashboard",), "partials/dashboards_list.html"),
    "saved": (("saved_query",), "partials/saved_list.html"),
}


@router.get("/events/me", name="events_me")
async def my_events(request: Request, viewer: SignedIn, view: str = "home") -> StreamingResponse:
    """The lists of the signed-in user's own things (home, dashboards, saved queries)."""
    stream_types, template = LIST_VIEWS.get(view, LIST_VIEWS["home"])

    async def render() -> str:
        context: dict[str, Any]
        if template.endswith("saved_list.html"):
            context = await saved_context(request, viewer)
        else:
            context = await layout_context(request, viewer, view)
            context.update(await home_data(request, viewer))
        context.update(SLOTS)
        return render_fragment(request, template, context)

    return event_stream(request, viewer, (view,), own(viewer, stream_types), render, "list")
