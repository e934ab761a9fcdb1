"""Sign-in end to end over real HTTP: Ironstar and its identity providers on loopback."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi import Depends
from fastapi.responses import HTMLResponse

from ironstar.auth.ratelimit import RateLimiter
from ironstar.web.context import require_viewer
from tests.integration.web.conftest import (
    ServedApp,
    serve_app,
    serve_ironstar,
    sign_in_locally,
    web_settings,
)
from tests.integration.web.identity_providers import CLIENT_ID, CLIENT_SECRET, IdentityProviders

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def idps() -> Iterator[IdentityProviders]:
    providers = IdentityProviders()
    with serve_app(providers.app) as (url, _):
        providers.bind(url)
        yield providers


@pytest.fixture
def with_providers(tmp_path: Path, idps: IdentityProviders) -> Iterator[ServedApp]:
    idps.reset()
    settings = web_settings(
        tmp_path / "data",
        github_client_id=CLIENT_ID,
        github_client_secret=CLIENT_SECRET,
        github_oauth_url=idps.base_url,
        github_api_url=idps.base_url,
        oidc_discovery_url=idps.discovery_url,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_name="lab",
    )
    with serve_ironstar(settings) as served:
        served.app.state.sign_in_limiter = RateLimiter(limit=1000)
        yield served


def add_probe_page(served: ServedApp) -> None:
    """An HTML page behind sign-in (the real pages live in other modules)."""

    async def probe() -> HTMLResponse:
        return HTMLResponse("<p>inside</p>")

    served.app.add_api_route("/probe", probe, dependencies=[Depends(require_viewer)])


def start(client: httpx.Client, provider: str, next_url: str = "/") -> str:
    """Begin a sign-in; returns the provider's redirect back to Ironstar's callback."""
    began = client.get(f"/auth/{provider}/start", params={"next": next_url})
    assert began.status_code == 303, began.text
    assert "ironstar_oauth" in began.cookies
    consent = httpx.get(began.headers["location"])  # the user's browser at the provider
    assert consent.status_code == 302, consent.text
    back = consent.headers["location"]
    assert back.startswith(f"{str(client.base_url).rstrip('/')}/auth/{provider}/callback?")
    return back


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def session_cookie_header(response: httpx.Response) -> str:
    found = [
        h for h in response.headers.get_list("set-cookie") if h.startswith("ironstar_session=")
    ]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def assert_no_session(served: ServedApp, response: httpx.Response, client: httpx.Client) -> None:
    assert not any(
        h.startswith("ironstar_session=") for h in response.headers.get_list("set-cookie")
    )
    assert served.events("SessionCreated") == []
    assert client.get("/api/session").status_code == 401


# ── successful sign-in ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("provider", "user_id", "login", "name"),
    [
        ("lab", "oidc-user-7", "ada", "Ada Lovelace"),
        ("github", "583231", "octocat", "The Octocat"),
    ],
)
def test_sign_in_creates_a_session_and_a_safe_cookie(
    with_providers: ServedApp, provider: str, user_id: str, login: str, name: str
) -> None:
    with with_providers.client() as client:
        back = start(client, provider, next_url="/datasets?catalog=penguins")
        done = client.get(back)

        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/datasets?catalog=penguins"
        cookie = session_cookie_header(done).lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # served on 127.0.0.1
        created = with_providers.events("SessionCreated")
        assert len(created) == 1
        identity = created[0].data.identity
        assert (identity.provider, identity.provider_user_id, identity.login) == (
            provider,
            user_id,
            login,
        )
        session_id = client.cookies["ironstar_session"]
        row = with_providers.call(with_providers.services.app.reads.session(session_id))
        assert row is not None and row["status"] == "active"
        me = client.get("/api/session").json()
        assert me["user"]["login"] == login and me["user"]["display_name"] == name
        assert me["session"]["expires_at"] > time.time()
        # the one-time sign-in state is used up: replaying the callback signs nobody in
        replay = client.get(back, headers=HTML)
        assert replay.status_code == 400 and "oauth_state_mismatch" in replay.text
    assert len(with_providers.events("SessionCreated")) == 1


def test_login_page_lists_the_configured_providers(with_providers: ServedApp) -> None:
    with with_providers.client() as client:
        page = client.get("/login", params={"next": "/query"}, headers=HTML)
    assert page.status_code == 200
    assert "Sign in with GitHub" in page.text and "Sign in with lab" in page.text
    assert "/auth/github/start?next=/query" in page.text
    assert "Continue as local analyst" not in page.text


def test_cookie_is_secure_off_localhost(served: ServedApp) -> None:
    with served.client(headers={"host": "ironstar.example.org"}) as client:
        done = client.post("/login/local", data={"next": "/"})
    assert done.status_code == 303
    assert "secure" in session_cookie_header(done).lower()


# ── failures: no session, a clear page ──────────────────────────────────────────────


def test_state_mismatch_is_refused(with_providers: ServedApp) -> None:
    with with_providers.client() as client:
        back = start(client, "lab")
        forged = client.get(with_query(back, state="forged-state"), headers=HTML)
        assert forged.status_code == 400
        assert "oauth_state_mismatch" in forged.text and "Nothing was signed in" in forged.text
        assert_no_session(with_providers, forged, client)
    # a callback from a browser that never started a sign-in is refused the same way
    with with_providers.client() as stranger:
        assert stranger.get(back, headers=HTML).status_code == 400
    assert with_providers.events("SessionCreated") == []


@pytest.mark.parametrize("provider", ["lab", "github"])
def test_a_code_used_with_another_pkce_verifier_is_refused(
    with_providers: ServedApp, provider: str
) -> None:
    """An intercepted code injected into another browser's sign-in: state matches there,
    but that browser's verifier does not match the code's challenge."""
    with with_providers.client() as victim, with_providers.client() as attacker:
        stolen_code = parse_qs(urlsplit(start(victim, provider)).query)["code"][0]
        own_back = start(attacker, provider)
        injected = attacker.get(with_query(own_back, code=stolen_code), headers=HTML)
        assert injected.status_code == 401, injected.text
        assert "oauth_token_refused" in injected.text
        assert_no_session(with_providers, injected, attacker)


@pytest.mark.parametrize("provider", ["lab", "github"])
def test_denial_shows_the_providers_answer(
    with_providers: ServedApp, idps: IdentityProviders, provider: str
) -> None:
    idps.oidc.deny = idps.github.deny = True
    with with_providers.client() as client:
        denied = client.get(start(client, provider), headers=HTML)
        assert denied.status_code == 401
        assert "Sign-in was cancelled" in denied.text
        assert "access_denied" in denied.text and "oauth_denied" in denied.text
        assert_no_session(with_providers, denied, client)
    metrics = with_providers.app.state.metrics.sign_ins.labels("denied")._value.get()
    assert metrics == 1


def test_an_id_token_for_another_client_is_refused(
    with_providers: ServedApp, idps: IdentityProviders
) -> None:
    idps.oidc.audience_override = "someone-else"
    with with_providers.client() as client:
        refused = client.get(start(client, "lab"), headers=HTML)
        assert refused.status_code == 401
        assert "oauth_id_token_invalid" in refused.text
        assert_no_session(with_providers, refused, client)


# ── logout, expiry, refresh ─────────────────────────────────────────────────────────


def test_logout_invalidates_the_session_and_clears_the_cookie(served: ServedApp) -> None:
    add_probe_page(served)
    client, csrf = sign_in_locally(served)
    with contextlib.closing(client):
        assert client.get("/probe", headers=HTML).status_code == 200
        refused = client.post("/logout")
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"

        out = client.post("/logout", data={"csrf_token": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        cleared = session_cookie_header(out).lower()
        assert "max-age=0" in cleared or "expires=thu, 01 jan 1970" in cleared
        assert len(served.events("SessionInvalidated")) == 1

        page = client.get("/probe", headers=HTML)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/probe"
        api = client.get("/api/session")
        assert api.status_code == 401 and api.json()["code"] == "not_authenticated"


def test_an_expired_session_redirects_pages_and_refuses_the_api(tmp_path: Path) -> None:
    with serve_ironstar(web_settings(tmp_path / "data", session_ttl_seconds=1)) as served:
        add_probe_page(served)
        client, _ = sign_in_locally(served)
        with contextlib.closing(client):
            time.sleep(1.2)
            page = client.get("/probe", headers=HTML)
            assert page.status_code == 303 and page.headers["location"] == "/login?next=/probe"
            assert client.get("/api/session").status_code == 401


def test_activity_refreshes_the_session_at_most_once_a_minute(tmp_path: Path) -> None:
    now = [1_000_000.0]
    with serve_ironstar(web_settings(tmp_path / "data"), clock=lambda: now[0]) as served:
        client, _ = sign_in_locally(served)
        with contextlib.closing(client):
            now[0] += 30
            assert client.get("/api/session").status_code == 200
            assert served.events("SessionRefreshed") == []
            now[0] += 40  # 70 s after sign-in: one refresh
            first = client.get("/api/session").json()["session"]["expires_at"]
            now[0] += 30  # 30 s after that refresh: none
            second = client.get("/api/session").json()["session"]["expires_at"]
            assert len(served.events("SessionRefreshed")) == 1
            assert first == second == 1_000_000.0 + 70 + served.settings.session_ttl_seconds


# ── local mode, rate limit, redirects ───────────────────────────────────────────────


def test_local_mode_signs_in_loopback_clients_only(served: ServedApp) -> None:
    with served.client() as client:
        page = client.get("/login", headers=HTML)
        assert page.status_code == 200 and "Continue as local analyst" in page.text
        # uvicorn trusts X-Forwarded-For from loopback: this is a proxied remote client
        remote = client.post("/login/local", headers={"x-forwarded-for": "203.0.113.9"})
        assert remote.status_code == 403 and remote.json()["code"] == "local_mode_only"
        elsewhere = client.post("/login/local", headers={"origin": "http://evil.example"})
        assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "csrf_failed"
        assert served.events("SessionCreated") == []

        done = client.post("/login/local", data={"next": "//evil.example/x"})
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert client.get("/api/session").json()["user"]["user_id"] == "local:analyst"


def test_local_sign_in_is_off_when_a_provider_is_configured(with_providers: ServedApp) -> None:
    with with_providers.client() as client:
        refused = client.post("/login/local")
    assert refused.status_code == 403 and refused.json()["code"] == "local_mode_only"


def test_sign_in_attempts_are_rate_limited(served: ServedApp) -> None:
    with served.client() as client:
        for _ in range(10):
            assert client.get("/login").status_code == 200
        limited = client.get("/login")
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert client.post("/login/local").status_code == 429
        # the session API is not a sign-in attempt
        assert client.get("/api/session").status_code == 401


def test_serve_refuses_other_interfaces_in_local_mode(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "IRONSTAR_DATA_DIR": str(tmp_path / "data"),
        "IRONSTAR_DEMO_ON_START": "0",
    }
    for key in ("IRONSTAR_GITHUB_CLIENT_ID", "IRONSTAR_OIDC_DISCOVERY_URL"):
        env.pop(key, None)
    cli = Path(sys.executable).with_name("ironstar")
    done = subprocess.run(
        [str(cli), "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0" in " ".join(done.stdout.split())
