"""Identity providers for tests, speaking real HTTP on loopback.

- ``/oidc/...``: an OpenID Connect provider built from Authlib's server components
  (authorization code grant + PKCE required + OpenID Connect code flow), signing ID tokens
  with a freshly generated RSA key published as JWKS, with a discovery document.
- ``/login/oauth/authorize``, ``/login/oauth/access_token``, ``/user``: a protocol-level
  stand-in for GitHub (its quirks included: the token endpoint answers 200 with an
  ``error`` field, and only returns JSON when asked).

The consent step is automatic: the provider grants ``user`` unless ``deny`` is set, in
which case it answers ``error=access_denied`` as a real provider does when the user
clicks "Cancel".
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "ironstar-test"
CLIENT_SECRET = "test-secret-" + secrets.token_hex(8)  # generated per run, never a real secret


@dataclass
class Person:
    sub: str
    login: str
    name: str


# ── OpenID Connect, from Authlib's server components ────────────────────────────────


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)  # empty: any loopback callback

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "profile", "email"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        if self.redirect_uris:
            return redirect_uri in self.redirect_uris
        return redirect_uri.startswith("http://127.0.0.1:") and redirect_uri.endswith("/callback")

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


class OidcProviderState:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        self.clients = {CLIENT_ID: Client(CLIENT_ID, CLIENT_SECRET)}
        self.codes: dict[str, AuthorizationCode] = {}
        self.user = Person(sub="oidc-user-7", login="ada", name="Ada Lovelace")
        self.deny = False
        self.issuer = ""
        self.audience_override: str | None = None  # to mint ID tokens for another client


def _oidc_grants(state: OidcProviderState) -> tuple[type, OpenIDCode]:
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
            data = request.payload.data
            state.codes[code] = AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=data.get("redirect_uri", ""),
                scope=request.payload.scope,
                user=request.user,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
            found = state.codes.get(code)
            return found if found and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            state.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> Person:
            return authorization_code.user

    class Code(OpenIDCode):
        def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
            return any(c.nonce == nonce for c in state.codes.values())

        def resolve_client_private_key(self, client: Client) -> RSAKey:
            return state.key

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": "test-1"}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            audience = state.audience_override or client.get_client_id()
            return {"iss": state.issuer, "aud": [audience], "exp": int(time.time()) + 300}

        def generate_user_info(self, user: Person, scope: str) -> UserInfo:
            return UserInfo(sub=user.sub, preferred_username=user.login, name=user.name)

    return CodeGrant, Code(require_nonce=True)


class StarletteAuthorizationServer(AuthorizationServer):
    """Authlib's server, adapted to Starlette requests whose form was read beforehand."""

    def __init__(self, state: OidcProviderState) -> None:
        super().__init__(scopes_supported=["openid", "profile", "email"])
        self.state = state
        self.register_token_generator("default", self._bearer)

    @staticmethod
    def _bearer(
        grant_type: str, client: Client, user: Any = None, scope: str | None = None, **_: Any
    ) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(24),
            "expires_in": 300,
            "scope": scope or "",
        }

    def query_client(self, client_id: str) -> Client | None:
        return self.state.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        pass

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: tuple[Request, dict[str, str]]) -> OAuth2Request:
        starlette_request, form = request
        oauth_request = _Request(
            starlette_request.method, str(starlette_request.url), headers=starlette_request.headers
        )
        oauth_request.query = dict(starlette_request.query_params)
        oauth_request.form_data = form
        oauth_request.payload = BasicOAuth2Payload({**oauth_request.query, **form})
        return oauth_request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body, status_code=status, headers=dict(headers))


class _Request(OAuth2Request):
    query: dict[str, str]
    form_data: dict[str, str]

    @property
    def args(self) -> dict[str, str]:
        return self.query

    @property
    def form(self) -> dict[str, str]:
        return self.form_data


def oidc_routes(state: OidcProviderState) -> list[Route]:
    server = StarletteAuthorizationServer(state)
    code_grant, openid = _oidc_grants(state)
    server.register_grant(code_grant, [CodeChallenge(required=True), openid])

    async def discovery(request: Request) -> Response:
        base = state.issuer
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse({"keys": [state.key.as_dict(private=False)]})

    async def authorize(request: Request) -> Response:
        response: Response = server.create_authorization_response(
            (request, {}), grant_user=None if state.deny else state.user
        )
        return response

    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        response: Response = server.create_token_response((request, form))
        return response

    return [
        Route("/oidc/.well-known/openid-configuration", discovery),
        Route("/oidc/jwks", jwks),
        Route("/oidc/authorize", authorize),
        Route("/oidc/token", token, methods=["POST"]),
    ]


# ── GitHub, at the protocol level ────────────────────────────────────────────────────


@dataclass
class GitHubGrant:
    redirect_uri: str
    challenge: str
    user: dict[str, Any]


class GitHubState:
    def __init__(self) -> None:
        self.user: dict[str, Any] = {"id": 583231, "login": "octocat", "name": "The Octocat"}
        self.deny = False
        self.codes: dict[str, GitHubGrant] = {}
        self.tokens: dict[str, dict[str, Any]] = {}


def github_routes(state: GitHubState) -> list[Route]:
    async def authorize(request: Request) -> Response:
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID or not redirect_uri.startswith("http://127.0.0.1:"):
            return JSONResponse({"error": "redirect_uri_mismatch"}, status_code=400)
        back = {"state": q.get("state", "")}
        if state.deny:
            back |= {
                "error": "access_denied",
                "error_description": "The user has denied your application access.",
            }
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            back |= {"error": "invalid_request", "error_description": "PKCE S256 is required"}
        else:
            code = secrets.token_hex(10)
            state.codes[code] = GitHubGrant(redirect_uri, q["code_challenge"], dict(state.user))
            back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    async def access_token(request: Request) -> Response:
        form = await request.form()
        grant = state.codes.pop(str(form.get("code", "")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            answer: dict[str, Any] = {"error": "incorrect_client_credentials"}
        elif grant is None or grant.redirect_uri != form.get("redirect_uri"):
            answer = {
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired.",
            }
        elif not secrets.compare_digest(challenge, grant.challenge):
            answer = {"error": "invalid_grant", "error_description": "code_verifier mismatch"}
        else:
            token = "gho_" + secrets.token_hex(16)
            state.tokens[token] = grant.user
            answer = {"access_token": token, "token_type": "bearer", "scope": "read:user"}
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(answer)  # GitHub reports errors with status 200
        return Response(urlencode(answer), media_type="application/x-www-form-urlencoded")

    async def user(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        found = state.tokens.get(auth.removeprefix("Bearer ").removeprefix("token "))
        if found is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse(found)

    return [
        Route("/login/oauth/authorize", authorize),
        Route("/login/oauth/access_token", access_token, methods=["POST"]),
        Route("/user", user),
    ]


class IdentityProviders:
    """Both providers in one Starlette app (serve it, then set ``base_url``)."""

    def __init__(self) -> None:
        self.oidc = OidcProviderState()
        self.github = GitHubState()
        self.app = Starlette(routes=[*oidc_routes(self.oidc), *github_routes(self.github)])
        self.base_url = ""

    def bind(self, base_url: str) -> None:
        self.base_url = base_url
        self.oidc.issuer = f"{base_url}/oidc"

    @property
    def discovery_url(self) -> str:
        return f"{self.oidc.issuer}/.well-known/openid-configuration"

    def reset(self) -> None:
        self.oidc.deny = self.github.deny = False
        self.oidc.audience_override = None
