"""Per-request context: the signed-in user, the session, and the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from ironstar.bootstrap import Services
from ironstar.domain.kernel import UserId
from ironstar.eventstore.model import RecordedEvent
from ironstar.web.errors import WebError
from ironstar.web.security import csrf_matches, csrf_token

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


class SessionCache:
    """Active sessions' rows, kept so a request does not read the session table.

    Every request needs its session, and reading it costs a hop to a database thread -
    more than the rest of a small request. The projection runner tells the cache about
    every applied event on a session stream (refresh, sign-out, expiry), in this process
    and in any other sharing the event store, so an entry never outlives a change; expiry
    by the clock is checked on every request anyway.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.changes = 0  # session events applied so far: a read racing one is not kept
        self._rows: dict[str, dict[str, Any]] = {}

    def get(self, session_id: str) -> dict[str, Any] | None:
        return self._rows.get(session_id)

    def put(self, session_id: str, row: dict[str, Any], changes_before_read: int) -> None:
        if changes_before_read != self.changes:
            return  # a session changed while the row was read: it may be stale already
        if len(self._rows) >= self.size:
            self._rows.clear()  # crude but bounded; rows are cheap to read back
        self._rows[session_id] = row

    def applied(self, page: list[RecordedEvent]) -> None:
        """Runner listener: forget sessions whose stream changed."""
        for event in page:
            if event.stream_type == "session":
                self.changes += 1
                self._rows.pop(getattr(event.data, "session_id", ""), None)


def session_cache(request: Request) -> SessionCache:
    runner = services_of(request).app.runner
    held = getattr(request.app.state, "session_cache", None)
    if held is not None and held[0] is runner:
        cache: SessionCache = held[1]
        return cache
    cache = SessionCache()  # one per runner: it is the runner that keeps it current
    runner.listeners.append(cache.applied)
    request.app.state.session_cache = (runner, cache)
    return cache


async def current_viewer(request: Request) -> Viewer | None:
    """The viewer of an active, unexpired session, refreshing its TTL (debounced)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    services = services_of(request)
    cache = session_cache(request)
    row = cache.get(session_id)
    if row is None:
        changes = cache.changes
        row = await services.app.reads.session(session_id)
        if row is not None and row["status"] == "active":
            cache.put(session_id, row, changes)
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
    if not csrf_matches(viewer.csrf, token):
        raise WebError("csrf_failed", "the form expired or came from elsewhere; reload and retry")


def idempotency_key(request: Request, form_key: str | None = None) -> str | None:
    """The caller's key for this submission (header or form field), scoped to the session."""
    key = request.headers.get("idempotency-key") or form_key
    if not key:
        return None
    if len(key) > 100:
        raise WebError("bad_request", "an idempotency key is at most 100 characters")
    return key
