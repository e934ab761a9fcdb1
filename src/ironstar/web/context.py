"""Per-request context: the signed-in user, the session, and the services."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ironstar.bootstrap import Services
from ironstar.domain.kernel import UserId
from ironstar.web.errors import WebError
from ironstar.web.security import csrf_token, csrf_valid

SESSION_COOKIE = "ironstar_session"
REFRESH_AFTER_SECONDS = 60.0  # sliding TTL: refresh at most once a minute per session


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the user of an active session."""

    user_id: UserId
    session_id: str
    login: str
    display_name: str
    csrf: str

    @property
    def name(self) -> str:
        return self.display_name or self.login


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def current_viewer(request: Request) -> Viewer | None:
    """The viewer of an active, unexpired session, refreshing its TTL (debounced)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    services = services_of(request)
    row = await services.app.reads.session(session_id)
    now = services.workflow.clock()
    if row is None or row["status"] != "active" or row["expires_at"] <= now:
        return None
    last = row["refreshed_at"] or row["created_at"]
    if now - last >= REFRESH_AFTER_SECONDS:
        try:
            await services.workflow.refresh_session(session_id)
        except Exception:  # refreshing is best effort; the session stays valid until expiry
            pass
    return Viewer(
        user_id=UserId(row["user_id"]),
        session_id=session_id,
        login=row["login"],
        display_name=row["display_name"],
        csrf=csrf_token(request.app.state.secret, session_id),
    )


async def require_viewer(request: Request) -> Viewer:
    viewer = await current_viewer(request)
    if viewer is None:
        raise WebError("not_authenticated", "sign in to continue")
    request.state.viewer = viewer
    return viewer


def check_csrf(request: Request, viewer: Viewer, form_token: str | None = None) -> None:
    token = request.headers.get("x-csrf-token") or form_token
    if not csrf_valid(request.app.state.secret, viewer.session_id, token):
        raise WebError("csrf_failed", "the form expired or came from elsewhere; reload and retry")


def idempotency_key(request: Request, form_key: str | None = None) -> str | None:
    """The caller's key for this submission (header or form field), scoped to the session."""
    key = request.headers.get("idempotency-key") or form_key
    if not key:
        return None
    if len(key) > 100:
        raise WebError("bad_request", "an idempotency key is at most 100 characters")
    return key
