"""What every HTML page shares: the layout context, rendering, form parsing, inline errors.

No ``router`` here: the app factory only mounts modules that define one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ironstar.ids import new_id
from ironstar.web.context import Viewer, check_csrf, idempotency_key, services_of
from ironstar.web.errors import WebError, describe
from ironstar.web.formatting import add_filters

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
_IDS = uuid.UUID("5d6c8f1e-3b0a-4c1e-9a57-7e0f4c2b9d11")


@cache
def _static_version(path: str) -> str:
    try:
        return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={_static_version(path)}"


@cache
def templates() -> Jinja2Templates:
    """The shared environment (web/templating.py) when present, else one of our own."""
    try:
        from ironstar.web import templating  # the auth engineer's shared environment
    except ImportError:
        shared = None
    else:
        shared = getattr(templating, "templates", None)
    if isinstance(shared, Jinja2Templates):
        shared.env.globals.setdefault("static_url", static_url)
        add_filters(shared.env)
        return shared
    own = Jinja2Templates(directory=str(TEMPLATES_DIR))
    own.env.globals["static_url"] = static_url
    add_filters(own.env)
    return own


async def layout_context(request: Request, viewer: Viewer, active_nav: str) -> dict[str, Any]:
    """The context base.html documents, plus ``prefs`` and ``viewer``."""
    services = services_of(request)
    prefs = await services.app.reads.preferences(viewer.user_id)
    return {
        "request": request,
        "viewer": viewer,
        "user": viewer,
        "prefs": prefs,
        "theme": (prefs or {}).get("theme") or "system",
        "csrf_token": viewer.csrf,
        "current_catalog": await services.app.reads.current_catalog(viewer.user_id),
        "active_nav": active_nav,
        "ui_state_url": request.url_for("ui_state").path,
        "server_time_ms": int(services.workflow.clock() * 1000),
        # The page shows every event up to here; its SSE stream resumes after it.
        "live_after": services.app.runner.position,
        "new_key": new_id,
        # Optional parts of pages (StrictUndefined: every name a template tests must exist).
        "error": None,
        "saved_row": None,
        "saved_message": None,
        "name": "",
        "query": None,
        "auto_selected": None,
        "auto_error": None,
        "live_query": "",
        "as_of": None,
    }


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    response: HTMLResponse = templates().TemplateResponse(
        request, name, dict(context), status_code=status_code, headers=dict(headers or {})
    )
    return response


def render_fragment(request: Request, name: str, context: Mapping[str, Any]) -> str:
    """A partial as a string (SSE messages), with url_for bound to ``request``."""
    return templates().get_template(name).render({"request": request, **context})


async def form_of(request: Request, viewer: Viewer) -> dict[str, str]:
    """The posted form as plain strings, after the CSRF check."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, viewer, fields.get("csrf_token"))
    return fields


def command_key(request: Request, fields: Mapping[str, str]) -> str | None:
    return idempotency_key(request, fields.get("idempotency_key"))


def derived_id(viewer: Viewer, key: str | None, kind: str) -> str | None:
    """An aggregate id fixed by the submission's idempotency key, so a double submit
    addresses the same new aggregate (and is recognised as a replay) instead of a twin."""
    if not key:
        return None
    return uuid.uuid5(_IDS, f"{viewer.user_id}\n{kind}\n{key}").hex


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error_of(exc: BaseException) -> tuple[int, dict[str, Any]] | None:
    """(status, {code, message, details}) for an error a user can act on; None otherwise."""
    status, body = describe(exc)
    if status == 500 or body["code"] in ("csrf_failed", "not_authenticated"):
        return None
    return status, body


def int_field(fields: Mapping[str, str], name: str, *, low: int = 0, high: int = 10_000) -> int:
    raw = (fields.get(name) or "").strip()
    try:
        value = int(raw)
    except ValueError:
        raise WebError("invalid_value", f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise WebError("invalid_value", f"{name} must be between {low} and {high}")
    return value


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def no_content() -> Response:
    return Response(status_code=204)
