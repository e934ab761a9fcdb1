"""Static files with caching headers that fit the versioned URLs ``static_url`` builds.

``static_url(path)`` appends ``?v=<hash of the file's content>``. A URL carrying the current
hash never changes meaning, so browsers may keep it for a year without asking again: a
page then starts its scripts (ECharts alone is over 1 MB) from the cache, with no request.
Any other URL (no version, or an old one) is revalidated with its ETag on every use.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Final

from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from ironstar.web.templating import STATIC_DIR, static_url

IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"


class VersionedStaticFiles(StaticFiles):
    """``web/static``, the directory ``static_url`` versions."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIR)
        self.root = STATIC_DIR.resolve()

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        current = _is_current(Path(full_path).resolve().relative_to(self.root).as_posix(), scope)
        response.headers["cache-control"] = IMMUTABLE if current else REVALIDATE
        return response


def _is_current(relative: str, scope: Scope) -> bool:
    query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = query.get("v", [""])[0]
    return bool(asked) and static_url(relative).endswith(f"?v={asked}")
