"""Identity providers: GitHub OAuth and any OpenID Connect provider, through Authlib.

Both use the authorization code flow with PKCE (S256) and a ``state`` the caller keeps
(see ``pending.py``); the caller checks ``state`` before calling ``identity``. For OpenID
Connect the ID token is the source of identity and is validated in full: signature
against the provider's JWKS, issuer, audience, nonce, expiry.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jws import JWSRegistry

from ironstar.auth.pending import PendingSignIn
from ironstar.domain.session import SignInIdentity
from ironstar.settings import Settings

with warnings.catch_warnings():
    # Authlib prefers the httpx2 fork and warns when it falls back to httpx, which we use.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger("ironstar.auth")
HTTP_TIMEOUT = httpx.Timeout(10.0)
ID_TOKEN_LEEWAY_SECONDS = 60


class SignInFailed(Exception):
    """The provider refused, or answered something we cannot trust: no session."""

    def __init__(
        self, code: str, message: str, *, status: int = 401, provider_error: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.provider_error = provider_error


@dataclass
class Provider:
    """One configured identity provider (``name`` appears in URLs and identities)."""

    name: str
    label: str
    client_id: str
    client_secret: str
    scope: str

    def _client(self, redirect_uri: str, **kwargs: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
            **kwargs,
        )

    async def authorization_endpoint(self) -> str:
        raise NotImplementedError

    async def authorization_url(self, pending: PendingSignIn, redirect_uri: str) -> str:
        """Where to send the browser: the provider's consent page for this attempt."""
        endpoint = await self.authorization_endpoint()
        extra = {"nonce": pending.nonce} if isinstance(self, OidcProvider) else {}
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=pending.state, code_verifier=pending.code_verifier, **extra
            )
        return str(url)

    async def identity(
        self, code: str, pending: PendingSignIn, redirect_uri: str
    ) -> SignInIdentity:
        raise NotImplementedError

    async def _exchange(
        self, token_endpoint: str, code: str, pending: PendingSignIn, redirect_uri: str, **kw: Any
    ) -> dict[str, Any]:
        async with self._client(redirect_uri, **kw) as client:
            try:
                token = await client.fetch_token(
                    token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                    redirect_uri=redirect_uri,
                )
            except AuthlibBaseError as exc:
                raise SignInFailed(
                    "oauth_token_refused",
                    f"{self.label} refused to exchange the authorization code"
                    + (f": {exc.description}" if exc.description else ""),
                    provider_error=str(exc.error or ""),
                ) from exc
            except httpx.HTTPError as exc:
                raise _unreachable(self.label, exc) from exc
        if not token.get("access_token"):
            raise SignInFailed("oauth_token_refused", f"{self.label} returned no access token")
        return dict(token)


@dataclass
class GitHubProvider(Provider):
    oauth_url: str = "https://github.com"
    api_url: str = "https://api.github.com"

    async def authorization_endpoint(self) -> str:
        return f"{self.oauth_url.rstrip('/')}/login/oauth/authorize"

    async def identity(
        self, code: str, pending: PendingSignIn, redirect_uri: str
    ) -> SignInIdentity:
        token_endpoint = f"{self.oauth_url.rstrip('/')}/login/oauth/access_token"
        # GitHub wants the client credentials in the form body.
        token = await self._exchange(
            token_endpoint,
            code,
            pending,
            redirect_uri,
            token_endpoint_auth_method="client_secret_post",
        )
        headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "Accept": "application/vnd.github+json",
        }
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                response = await http.get(f"{self.api_url.rstrip('/')}/user", headers=headers)
        except httpx.HTTPError as exc:
            raise _unreachable(self.label, exc) from exc
        if response.status_code != 200:
            raise SignInFailed(
                "oauth_profile_failed",
                f"{self.label} did not return your profile (HTTP {response.status_code})",
            )
        user = response.json()
        if (
            not isinstance(user, dict)
            or not isinstance(user.get("id"), int)
            or not user.get("login")
        ):
            raise SignInFailed("oauth_profile_failed", f"{self.label} returned an unusable profile")
        return SignInIdentity(
            provider=self.name,
            provider_user_id=str(user["id"]),
            login=str(user["login"]),
            display_name=str(user.get("name") or user["login"]),
        )


@dataclass
class OidcProvider(Provider):
    discovery_url: str = ""
    _metadata: dict[str, Any] | None = field(default=None, repr=False)
    _jwks: KeySetSerialization | None = field(default=None, repr=False)

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (cached for the life of the process once it loads)."""
        if self._metadata is None:
            document = await self._get_json(self.discovery_url, "discovery document")
            for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(key), str):
                    raise SignInFailed(
                        "oauth_provider_unavailable",
                        f"{self.label}'s discovery document has no {key}",
                        status=502,
                    )
            self._metadata = document
        return self._metadata

    async def jwks(self, *, refresh: bool = False) -> KeySetSerialization:
        if self._jwks is None or refresh:
            document = await self._get_json((await self.metadata())["jwks_uri"], "signing keys")
            if not isinstance(document.get("keys"), list):
                raise SignInFailed(
                    "oauth_provider_unavailable", f"{self.label}'s JWKS has no keys", status=502
                )
            self._jwks = cast(KeySetSerialization, document)
        return self._jwks

    async def authorization_endpoint(self) -> str:
        return str((await self.metadata())["authorization_endpoint"])

    async def identity(
        self, code: str, pending: PendingSignIn, redirect_uri: str
    ) -> SignInIdentity:
        metadata = await self.metadata()
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        token = await self._exchange(
            metadata["token_endpoint"],
            code,
            pending,
            redirect_uri,
            token_endpoint_auth_method=method,
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("oauth_id_token_invalid", f"{self.label} returned no ID token")
        claims = await self._validated_claims(id_token, token, pending.nonce)
        subject = str(claims["sub"])
        login = str(claims.get("preferred_username") or claims.get("email") or subject)
        return SignInIdentity(
            provider=self.name,
            provider_user_id=subject,
            login=login,
            display_name=str(claims.get("name") or login),
        )

    async def _validated_claims(
        self, id_token: str, token: dict[str, Any], nonce: str
    ) -> dict[str, Any]:
        metadata = await self.metadata()
        algorithms = [
            a
            for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            if a != "none"
        ]
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                decoded = jwt.decode(
                    id_token, KeySet.import_key_set(await self.jwks()), registry=registry
                )
            except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
                keys = KeySet.import_key_set(await self.jwks(refresh=True))
                decoded = jwt.decode(id_token, keys, registry=registry)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.client_id},
                },
                {
                    "nonce": nonce,
                    "client_id": self.client_id,
                    "access_token": token["access_token"],
                },
            )
            claims.validate(leeway=ID_TOKEN_LEEWAY_SECONDS)
        except (JoseError, ValueError) as exc:
            log.warning("rejected an ID token from %s: %s", self.name, exc)
            raise SignInFailed(
                "oauth_id_token_invalid",
                f"{self.label}'s ID token failed validation ({getattr(exc, 'error', '') or exc})",
            ) from exc
        return dict(claims)

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unreachable(self.label, exc, what) from exc
        if not isinstance(document, dict):
            raise SignInFailed(
                "oauth_provider_unavailable",
                f"{self.label}'s {what} is not a JSON object",
                status=502,
            )
        return document


def _unreachable(label: str, exc: Exception, what: str = "") -> SignInFailed:
    log.warning("identity provider %s unreachable: %r", label, exc)
    target = f" ({what})" if what else ""
    return SignInFailed(
        "oauth_provider_unavailable",
        f"could not reach {label}{target}; try again in a moment",
        status=502,
    )


def build_providers(settings: Settings) -> dict[str, Provider]:
    """The providers ``settings`` configures, by name (empty in local single-user mode)."""
    providers: dict[str, Provider] = {}
    if settings.github_client_id:
        providers["github"] = GitHubProvider(
            name="github",
            label="GitHub",
            client_id=settings.github_client_id,
            client_secret=settings.github_client_secret,
            scope="read:user",
            oauth_url=settings.github_oauth_url,
            api_url=settings.github_api_url,
        )
    if settings.oidc_discovery_url:
        name = settings.oidc_name or "oidc"
        if name in providers or name == "local":
            raise ValueError(f"IRONSTAR_OIDC_NAME {name!r} clashes with another provider")
        providers[name] = OidcProvider(
            name=name,
            label=name if name != "oidc" else "OpenID Connect",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            scope="openid profile email",
            discovery_url=settings.oidc_discovery_url,
        )
    return providers
