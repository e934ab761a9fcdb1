"""Sign-in, sign-out and the current session (HTML pages with a JSON twin for the session).

GET  /login                     the providers (or, in local mode, "Continue as local analyst")
POST /login/local               local single-user mode, loopback clients only
GET  /auth/{provider}/start     redirect to the provider with state, PKCE and nonce
GET  /auth/{provider}/callback  check state, exchange the code, sign in, set the cookie
POST /logout                    invalidate the session (CSRF-checked), clear the cookie
GET  /api/session               who is signed in and until when (401 when signed out)

Sign-in routes are rate-limited per client address (429 with Retry-After).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from ironstar.auth.pending import PENDING_COOKIE, PENDING_TTL_SECONDS, PendingSignIn, seal, unseal
from ironstar.auth.providers import Provider, SignInFailed, build_providers
from ironstar.auth.ratelimit import RateLimiter
from ironstar.domain.session import SignInIdentity
from ironstar.settings import Settings
from ironstar.web.context import SESSION_COOKIE, Viewer, check_csrf, require_viewer, services_of
from ironstar.web.errors import WebError
from ironstar.web.templating import render

log = logging.getLogger("ironstar.auth")

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
LOCAL_IDENTITY = SignInIdentity(
    provider="local", provider_user_id="analyst", login="analyst", display_name="Local analyst"
)
SIGN_IN_ATTEMPTS_PER_MINUTE = 10


def limiter_of(request: Request) -> RateLimiter:
    """The app's sign-in limiter (tests may put their own on ``app.state.sign_in_limiter``)."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "sign_in_limiter", None)
    if limiter is None:
        limiter = RateLimiter(limit=SIGN_IN_ATTEMPTS_PER_MINUTE, window=60.0)
        state.sign_in_limiter = limiter
    return limiter


class RateLimitedRoute(APIRoute):
    """A route that counts each request against the client's sign-in allowance."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            client = request.client.host if request.client else "unknown"
            wait = limiter_of(request).hit(client)
            if wait:
                request.app.state.metrics.sign_ins.labels("rate_limited").inc()
                headers = {"Retry-After": RateLimiter.retry_after_header(wait)}
                message = "too many sign-in attempts from your address; wait a minute and retry"
                if _wants_html(request):
                    return await _error_page(
                        request, 429, "rate_limited", "Too many attempts", message, headers=headers
                    )
                return JSONResponse(
                    {
                        "code": "rate_limited",
                        "message": message,
                        "details": {"retry_after_seconds": int(headers["Retry-After"])},
                    },
                    status_code=429,
                    headers=headers,
                )
            return await handler(request)

        return limited


router = APIRouter(tags=["session"])
sign_in = APIRouter(tags=["session"], route_class=RateLimitedRoute)
Signed = Annotated[Viewer, Depends(require_viewer)]


# ── helpers ──────────────────────────────────────────────────────────────────────────


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def providers_of(request: Request) -> dict[str, Provider]:
    state = request.app.state
    providers: dict[str, Provider] | None = getattr(state, "auth_providers", None)
    if providers is None:
        providers = build_providers(_settings(request))
        state.auth_providers = providers
    return providers


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else "/" (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or c == "\x7f" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _is_loopback_host(request: Request) -> bool:
    return (request.url.hostname or "").strip("[]").lower() in LOOPBACK_HOSTS


def _redirect_uri(request: Request, provider: str) -> str:
    public = _settings(request).public_url.rstrip("/")
    if public:
        return f"{public}/auth/{provider}/callback"
    return str(request.url_for("auth_callback", provider=provider))


def _set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=None,  # the server decides expiry (sliding TTL); the cookie lives with the browser
        path="/",
        httponly=True,
        samesite="lax",
        secure=not _is_loopback_host(request),
    )


async def _error_page(
    request: Request,
    status: int,
    code: str,
    title: str,
    message: str,
    *,
    provider: str = "",
    provider_error: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    context = {
        "title": title,
        "code": code,
        "message": message,
        "provider": provider,
        "provider_error": provider_error,
        "user": None,
        "csrf_token": "",
        "current_catalog": None,
    }
    response = await render(request, "auth_error.html", context, status=status, headers=headers)
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    return response


async def _signed_in(request: Request, identity: SignInIdentity, next_url: str) -> Response:
    services = services_of(request)
    session_id, user = await services.workflow.sign_in(identity)
    request.app.state.metrics.sign_ins.labels("success").inc()
    log.info("signed in", extra={"user": user, "provider": identity.provider})
    preferences = await services.app.reads.preferences(user)
    default_catalog = (preferences or {}).get("default_catalog")
    if default_catalog:
        try:
            await services.workflow.select_catalog(user, default_catalog)
        except Exception as exc:  # shown on the catalog page; sign-in still succeeds
            log.info("default catalog %s not selected: %s", default_catalog, exc)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    _set_session_cookie(request, response, session_id)
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    return response


# ── pages ────────────────────────────────────────────────────────────────────────────


@sign_in.get("/login", name="login", include_in_schema=False)
async def login_page(request: Request, next: str = "/") -> Response:
    """The sign-in page; a signed-in visitor goes straight on to ``next``."""
    from ironstar.web.context import current_viewer

    if await current_viewer(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    providers = [{"name": p.name, "label": p.label} for p in providers_of(request).values()]
    return await render(
        request,
        "login.html",
        {
            "providers": providers,
            "local_mode": _settings(request).local_mode,
            "next_url": safe_next(next),
            "user": None,
        },
    )


@sign_in.post("/login/local", name="login_local", include_in_schema=False)
async def login_local(
    request: Request, next_url: Annotated[str, Form(alias="next")] = "/"
) -> Response:
    """Local single-user mode: sign in as the one local analyst (loopback clients only)."""
    if not _settings(request).local_mode:
        raise WebError("local_mode_only", "local sign-in is off because a provider is configured")
    client = request.client.host if request.client else ""
    if client not in ("127.0.0.1", "::1"):
        raise WebError("local_mode_only", "local sign-in is only accepted from this machine")
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise WebError("csrf_failed", "the sign-in form came from another site")
    return await _signed_in(request, LOCAL_IDENTITY, next_url)


@sign_in.get("/auth/{provider}/start", name="auth_start", include_in_schema=False)
async def auth_start(
    request: Request,
    provider: str,
    next: Annotated[str, Query(max_length=2000)] = "/",
) -> Response:
    """Send the browser to the provider, remembering state, verifier and nonce."""
    chosen = providers_of(request).get(provider)
    if chosen is None:
        raise WebError("not_found", f"no sign-in provider called {provider!r} is configured")
    pending = PendingSignIn.begin(provider, safe_next(next))
    try:
        url = await chosen.authorization_url(pending, _redirect_uri(request, provider))
    except SignInFailed as exc:
        request.app.state.metrics.sign_ins.labels("provider_unavailable").inc()
        return await _error_page(
            request,
            exc.status,
            exc.code,
            "Sign-in is unavailable",
            exc.message,
            provider=chosen.label,
        )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        seal(pending, request.app.state.secret),
        max_age=PENDING_TTL_SECONDS,
        path="/auth",
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax sends the cookie
        secure=not _is_loopback_host(request),
    )
    return response


@sign_in.get("/auth/{provider}/callback", name="auth_callback", include_in_schema=False)
async def auth_callback(request: Request, provider: str) -> Response:
    """The provider's redirect back: state check, code exchange, identity, session."""
    chosen = providers_of(request).get(provider)
    if chosen is None:
        raise WebError("not_found", f"no sign-in provider called {provider!r} is configured")
    metrics = request.app.state.metrics.sign_ins
    params = request.query_params
    pending = unseal(request.cookies.get(PENDING_COOKIE), request.app.state.secret)
    if pending is None or pending.provider != provider or params.get("state") != pending.state:
        metrics.labels("state_mismatch").inc()
        return await _error_page(
            request,
            400,
            "oauth_state_mismatch",
            "Sign-in could not be verified",
            "This sign-in response does not match a sign-in started from this browser (it "
            "expired after 10 minutes, or came from elsewhere). Nothing was signed in; "
            "start again.",
            provider=chosen.label,
        )
    if params.get("error"):
        error = params["error"][:100]
        description = params.get("error_description", "")[:300]
        denied = error == "access_denied"
        metrics.labels("denied" if denied else "provider_error").inc()
        return await _error_page(
            request,
            401,
            "oauth_denied" if denied else "oauth_failed",
            "Sign-in was cancelled" if denied else "Sign-in failed",
            (
                f"{chosen.label} did not grant access, so you are not signed in."
                if denied
                else f"{chosen.label} reported an error, so you are not signed in."
            )
            + (f" {description}" if description else ""),
            provider=chosen.label,
            provider_error=error,
        )
    code = params.get("code")
    if not code:
        metrics.labels("failed").inc()
        return await _error_page(
            request,
            400,
            "oauth_failed",
            "Sign-in failed",
            f"{chosen.label} sent no authorization code. Nothing was signed in; start again.",
            provider=chosen.label,
        )
    try:
        identity = await chosen.identity(code, pending, _redirect_uri(request, provider))
    except SignInFailed as exc:
        metrics.labels("failed").inc()
        return await _error_page(
            request,
            exc.status,
            exc.code,
            "Sign-in failed",
            exc.message + ". Nothing was signed in; start again.",
            provider=chosen.label,
            provider_error=exc.provider_error,
        )
    return await _signed_in(request, identity, pending.next_url)


@router.post("/logout", name="logout", include_in_schema=False)
async def logout(
    request: Request,
    viewer: Signed,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Invalidate this session and clear its cookie."""
    check_csrf(request, viewer, csrf_token)
    await services_of(request).workflow.sign_out(viewer.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=not _is_loopback_host(request),
    )
    return response


@router.get(
    "/api/session",
    name="api_session",
    responses={401: {"description": "not signed in, or the session expired"}},
)
async def api_session(request: Request, viewer: Signed) -> dict[str, Any]:
    """The signed-in user, the session's expiry, and the CSRF token for unsafe requests."""
    row = await services_of(request).app.reads.session(viewer.session_id)
    if row is None:  # invalidated between the check and this read
        raise WebError("not_authenticated", "sign in to continue")
    return {
        "user": {"user_id": viewer.user_id, "login": viewer.login, "display_name": viewer.name},
        "provider": row.get("provider"),
        "session": {
            "created_at": row["created_at"],
            "refreshed_at": row["refreshed_at"],
            "expires_at": row["expires_at"],
        },
        "csrf_token": viewer.csrf,
    }


routers = (router, sign_in)
