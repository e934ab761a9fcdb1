"""The browser's half of a sign-in in progress, in a signed short-lived cookie.

Between ``/auth/{provider}/start`` and the provider's redirect back to the callback,
Ironstar must remember the OAuth ``state``, the PKCE ``code_verifier``, the OIDC ``nonce``
and where to go afterwards. They travel in one HttpOnly cookie, HMAC-signed with the
installation secret and valid for ten minutes, so no server-side store is needed and a
forged or replayed cookie is refused. Nothing in it is a credential on its own: the
verifier is useless without the authorization code, which only the provider hands out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

PENDING_COOKIE = "ironstar_oauth"
PENDING_TTL_SECONDS = 600


@dataclass(frozen=True)
class PendingSignIn:
    provider: str
    state: str
    code_verifier: str
    nonce: str
    next_url: str
    expires_at: float

    @classmethod
    def begin(cls, provider: str, next_url: str, now: float | None = None) -> PendingSignIn:
        return cls(
            provider=provider,
            state=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # 86 characters: within RFC 7636's 43-128
            nonce=secrets.token_urlsafe(24),
            next_url=next_url,
            expires_at=(time.time() if now is None else now) + PENDING_TTL_SECONDS,
        )


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, b"ironstar:oauth-pending", hashlib.sha256).digest()


def seal(pending: PendingSignIn, secret: bytes) -> str:
    body = base64.urlsafe_b64encode(json.dumps(asdict(pending)).encode()).rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(_key(secret), body, hashlib.sha256).digest())
    return f"{body.decode()}.{mac.rstrip(b'=').decode()}"


def unseal(value: str | None, secret: bytes, now: float | None = None) -> PendingSignIn | None:
    """The pending sign-in in ``value``, or None when absent, tampered with or expired."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    expected = base64.urlsafe_b64encode(
        hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    ).rstrip(b"=")
    if not hmac.compare_digest(expected, mac.encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        pending = PendingSignIn(**data)
    except (ValueError, TypeError):
        return None
    if pending.expires_at <= (time.time() if now is None else now):
        return None
    return pending
