"""Ironstar's settings: the only module that reads environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    # Empty means the embedded SQLite event store in data_dir; otherwise a postgresql:// URL.
    database_url: str = ""
    postgres_schema: str = "ironstar"
    sqlite_synchronous: Synchronous = "FULL"
    host: str = "127.0.0.1"
    port: int = 8000
    query_timeout_seconds: float = 60.0
    session_ttl_seconds: float = 8 * 3600
    expiry_sweep_seconds: float = 30.0
    # 0 keeps every query result; otherwise results older than this many days are removed
    # (a pinned re-run computes one again).
    result_retention_days: float = 0.0
    max_body_bytes: int = 2 * 1024 * 1024
    # Sign-in: with neither GitHub nor OIDC configured, Ironstar runs in local
    # single-user mode and only listens on the loopback interface.
    public_url: str = ""  # e.g. https://ironstar.example.org (for OAuth redirect URLs)
    github_client_id: str = ""
    github_client_secret: str = ""
    github_api_url: str = "https://api.github.com"
    github_oauth_url: str = "https://github.com"
    oidc_discovery_url: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = "oidc"
    demo_on_start: bool = True

    @property
    def local_mode(self) -> bool:
        return not (self.github_client_id or self.oidc_discovery_url)

    extra: dict[str, str] = field(default_factory=dict)

    @property
    def event_db_path(self) -> Path:
        return self.data_dir / "events.db"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        sync = env.get("IRONSTAR_SQLITE_SYNCHRONOUS", "FULL").upper()
        if sync not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(
                f"IRONSTAR_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {sync!r}"
            )
        return cls(
            data_dir=Path(env.get("IRONSTAR_DATA_DIR", "data")),
            database_url=env.get("IRONSTAR_DATABASE_URL", ""),
            postgres_schema=env.get("IRONSTAR_POSTGRES_SCHEMA", "ironstar"),
            sqlite_synchronous=sync,  # type: ignore[arg-type]
            host=env.get("IRONSTAR_HOST", "127.0.0.1"),
            port=int(env.get("IRONSTAR_PORT", "8000")),
            query_timeout_seconds=float(env.get("IRONSTAR_QUERY_TIMEOUT", "60")),
            session_ttl_seconds=float(env.get("IRONSTAR_SESSION_TTL", str(8 * 3600))),
            expiry_sweep_seconds=float(env.get("IRONSTAR_EXPIRY_SWEEP_SECONDS", "30")),
            result_retention_days=_retention_days(env.get("IRONSTAR_RESULT_RETENTION_DAYS", "0")),
            public_url=env.get("IRONSTAR_PUBLIC_URL", ""),
            github_client_id=env.get("IRONSTAR_GITHUB_CLIENT_ID", ""),
            github_client_secret=env.get("IRONSTAR_GITHUB_CLIENT_SECRET", ""),
            github_api_url=env.get("IRONSTAR_GITHUB_API_URL", "https://api.github.com"),
            github_oauth_url=env.get("IRONSTAR_GITHUB_OAUTH_URL", "https://github.com"),
            oidc_discovery_url=env.get("IRONSTAR_OIDC_DISCOVERY_URL", ""),
            oidc_client_id=env.get("IRONSTAR_OIDC_CLIENT_ID", ""),
            oidc_client_secret=env.get("IRONSTAR_OIDC_CLIENT_SECRET", ""),
            oidc_name=env.get("IRONSTAR_OIDC_NAME", "oidc"),
            demo_on_start=env.get("IRONSTAR_DEMO_ON_START", "1") not in ("0", "false", "no"),
        )


def _retention_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days >= 0:  # also refuses NaN
        raise ValueError(
            f"IRONSTAR_RESULT_RETENTION_DAYS must be a number of days, 0 or more, not {text!r}"
        )
    return days
