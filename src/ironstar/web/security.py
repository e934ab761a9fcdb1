"""Security headers, CSRF tokens and request size limits."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from pathlib import Path

from starlette.types import Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def load_secret(data_dir: Path) -> bytes:
    """A per-installation secret (CSRF tokens, OAuth state), created on first start."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


@functools.lru_cache(maxsize=10_000)  # one HMAC per session, not one per request
def csrf_token(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(expected: str, token: str | None) -> bool:
    """``token`` is the session's CSRF token (``expected``), compared in constant time."""
    return bool(token) and hmac.compare_digest(expected, token or "")


def add_security_headers(message: Message) -> None:
    """Adds the security headers a response does not set itself (http.response.start)."""
    headers = list(message.get("headers", []))
    present = {name for name, _ in headers}
    message["headers"] = headers + [h for h in HEADERS if h[0] not in present]


class BodyTooLarge(Exception):
    """A request body grew past the limit while it was being read."""


def declared_too_large(scope: Scope, limit: int) -> bool:
    """The request says (Content-Length) that its body is over ``limit`` bytes."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.isdigit() and int(value) > limit
    return False


def limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises BodyTooLarge once more than ``limit`` bytes have come in,
    so a body without (or lying about) Content-Length is never read whole."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return counted


async def refuse_too_large(send: Send, limit: int) -> None:
    body = (
        b'{"code":"payload_too_large","message":"the request body is larger than '
        + str(limit).encode()
        + b' bytes","details":{}}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
