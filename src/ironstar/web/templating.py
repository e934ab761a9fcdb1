"""Server-rendered HTML: one Jinja environment for every route module.

Use it like this from a route::

    from ironstar.web.templating import render

    @router.get("/catalogs", name="catalogs")
    async def catalogs(request: Request, viewer: CurrentViewer) -> HTMLResponse:
        return await render(request, "catalogs.html", {"catalogs": rows, "active_nav": "catalogs"})

``render`` fills in what ``base.html`` needs (``theme``, ``csrf_token``, ``user``,
``current_catalog``) from the signed-in viewer (``request.state.viewer``, set by
``require_viewer``) and the read models; any key the caller passes wins. Signed out, ``user``
is ``None`` and ``base.html`` hides the navigation and the user menu.

Jinja globals: ``static_url(path)`` (a URL under /static with a content-hash version, so
browsers may cache assets for long) and Starlette's ``url_for(name, **params)``.
Undefined variables raise, so a template typo fails loudly in tests instead of rendering "".

A fragment pushed to many browsers (SSE) is rendered once with ``SLOTS`` in the context:
``csrf_token`` and every ``new_key()`` become placeholders, and ``Slotted.fill`` gives each
browser its own token and fresh idempotency keys (two tabs must never share a key, or the
second tab's submission would count as a retry of the first and change nothing).
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ironstar.web.formatting import add_filters

__all__ = ["SLOTS", "TEMPLATES_DIR", "Slotted", "render", "static_url", "templates"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

_versions: dict[str, tuple[float, str]] = {}


def static_url(path: str) -> str:
    """``/static/<path>?v=<hash of the file's content>`` (recomputed when the file changes)."""
    clean = path.lstrip("/")
    file = STATIC_DIR / clean
    try:
        mtime = file.stat().st_mtime
    except OSError:  # a missing asset still gets a URL; the asset tests catch it
        return f"/static/{clean}"
    cached = _versions.get(clean)
    if cached is None or cached[0] != mtime:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
        cached = (mtime, digest)
        _versions[clean] = cached
    return f"/static/{clean}?v={cached[1]}"


templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
)
templates.env.globals["static_url"] = static_url
add_filters(templates.env)


async def page_defaults(request: Request) -> dict[str, Any]:
    """The context ``base.html`` documents, for the viewer of this request (if any)."""
    viewer = getattr(request.state, "viewer", None)
    defaults: dict[str, Any] = {
        "theme": "system",
        "csrf_token": "",
        "user": None,
        "current_catalog": None,
    }
    if viewer is None:
        return defaults
    reads = request.app.state.services.app.reads
    preferences = await reads.preferences(viewer.user_id)
    defaults.update(
        theme=(preferences or {}).get("theme") or "system",
        csrf_token=viewer.csrf,
        user=viewer,
        current_catalog=await reads.current_catalog(viewer.user_id),
    )
    return defaults


async def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``name`` with the base defaults, overridden by ``context``."""
    full = await page_defaults(request)
    full.update(context or {})
    response: HTMLResponse = templates.TemplateResponse(
        request, name, full, status_code=status, headers=headers
    )
    return response


# Random per process, so no text a user typed can pass for a slot.
CSRF_SLOT = f"csrf-slot-{secrets.token_hex(12)}"
KEY_SLOT = f"key-slot-{secrets.token_hex(12)}"
SLOTS: dict[str, Any] = {"csrf_token": CSRF_SLOT, "new_key": lambda: KEY_SLOT}
_SLOT = re.compile(f"({CSRF_SLOT}|{KEY_SLOT})")
_CSRF = CSRF_SLOT.encode()


@dataclass(frozen=True)
class Slotted:
    """Text rendered with ``SLOTS``, kept as UTF-8 pieces with the slots between them
    (encoded once here rather than once per browser)."""

    pieces: tuple[bytes, ...]  # literal, slot, literal, ..., literal

    @classmethod
    def parse(cls, text: str) -> Slotted:
        return cls(tuple(piece.encode() for piece in _SLOT.split(text)))

    def fill(self, csrf_token: str) -> bytes:
        """The text for one browser: its CSRF token, and a fresh key in every key slot."""
        token = csrf_token.encode()
        pieces = list(self.pieces)
        for index in range(1, len(pieces), 2):
            pieces[index] = token if pieces[index] == _CSRF else binascii.b2a_hex(os.urandom(16))
        return b"".join(pieces)
