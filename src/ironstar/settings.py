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
        )
