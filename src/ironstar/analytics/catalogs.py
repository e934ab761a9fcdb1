"""The catalog registry: which DuckLake catalogs exist and how to attach them.

Catalogs come from ``<data_dir>/catalogs.toml`` and from overrides the caller passes in (the
settings module turns environment variables into that mapping). Relative paths are resolved
against the data directory so the file stays portable.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

CatalogKind = Literal["ducklake", "ducklake-postgres"]
CATALOGS_FILE = "catalogs.toml"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_REMOTE_PREFIXES = (
    "hf://",
    "s3://",
    "gs://",
    "gcs://",
    "r2://",
    "az://",
    "abfss://",
    "http://",
    "https://",
)


class CatalogConfigError(ValueError):
    code = "catalog_config_invalid"


@dataclass(frozen=True)
class CatalogConfig:
    """One catalog. ``name`` doubles as the SQL alias it is attached under."""

    name: str
    kind: CatalogKind = "ducklake"
    metadata: str | None = None  # local metadata file (absolute once loaded)
    data_path: str | None = None  # where the Parquet files live
    location: str | None = None  # remote DuckLake, e.g. hf://datasets/org/name
    postgres: str | None = None  # libpq connection string for ducklake-postgres
    description: str = ""

    @property
    def is_remote(self) -> bool:
        return self.location is not None

    @property
    def required_extensions(self) -> tuple[str, ...]:
        extensions = ["ducklake"]
        if self.kind == "ducklake-postgres":
            extensions.append("postgres_scanner")
        for value in (self.location, self.data_path):
            if value and value.startswith(_REMOTE_PREFIXES):
                extensions.append("httpfs")
        return tuple(dict.fromkeys(extensions))

    @property
    def readable_roots(self) -> tuple[str, ...]:
        """Locations the sandbox must still let DuckDB read (the catalog's data files)."""
        roots = [self.data_path or self.location or ""]
        return tuple(_as_directory(root) for root in roots if root)

    def attach_sql(self, alias: str | None = None, snapshot_version: int | None = None) -> str:
        """``ATTACH`` statement for this catalog, always READ_ONLY, optionally time-travelled."""
        options = ["READ_ONLY"]
        if self.data_path:
            options.append(f"DATA_PATH {_literal(self.data_path)}")
        if snapshot_version is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot_version)}")
        target = f"ducklake:{self._metadata_target()}"
        return f"ATTACH {_literal(target)} AS {alias or self.name} ({', '.join(options)})"

    def _metadata_target(self) -> str:
        if self.kind == "ducklake-postgres":
            return f"postgres:{self.postgres}"
        if self.location:
            return self.location
        assert self.metadata is not None
        return self.metadata


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _as_directory(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def parse_catalog(name: str, raw: Mapping[str, Any], base_dir: Path) -> CatalogConfig:
    """Validate one ``[catalogs.<name>]`` table; raise CatalogConfigError with the reason."""
    if not _NAME.match(name):
        raise CatalogConfigError(
            f"catalog name {name!r} must be lower-case letters, digits and underscores"
        )
    kind = raw.get("kind", "ducklake")
    if kind not in ("ducklake", "ducklake-postgres"):
        raise CatalogConfigError(f"catalog {name}: unknown kind {kind!r}")
    unknown = set(raw) - {"kind", "metadata", "data_path", "location", "postgres", "description"}
    if unknown:
        raise CatalogConfigError(f"catalog {name}: unknown keys {sorted(unknown)}")

    def local(key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise CatalogConfigError(f"catalog {name}: {key} must be a non-empty string")
        if value.startswith(_REMOTE_PREFIXES):
            return value
        path = Path(value)
        return str(path if path.is_absolute() else (base_dir / path).resolve())

    location = raw.get("location")
    if kind == "ducklake-postgres":
        if not raw.get("postgres") or not raw.get("data_path"):
            raise CatalogConfigError(
                f"catalog {name}: ducklake-postgres needs postgres and data_path"
            )
    elif location is None and not raw.get("metadata"):
        raise CatalogConfigError(f"catalog {name}: give either metadata (+ data_path) or location")
    return CatalogConfig(
        name=name,
        kind=kind,
        metadata=local("metadata"),
        data_path=local("data_path"),
        location=str(location) if location is not None else None,
        postgres=raw.get("postgres"),
        description=str(raw.get("description", "")),
    )


@dataclass
class CatalogRegistry:
    """Configured catalogs by name, in configuration order."""

    catalogs: dict[str, CatalogConfig] = field(default_factory=dict)

    @classmethod
    def load(
        cls, data_dir: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None
    ) -> CatalogRegistry:
        """Read ``<data_dir>/catalogs.toml`` (if present), then apply ``overrides`` by name."""
        tables: dict[str, Mapping[str, Any]] = {}
        path = data_dir / CATALOGS_FILE
        if path.is_file():
            try:
                document = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise CatalogConfigError(f"{path}: {exc}") from exc
            tables.update(document.get("catalogs", {}))
        tables.update(overrides or {})
        base = data_dir.resolve()
        return cls({name: parse_catalog(name, raw, base) for name, raw in tables.items()})

    def __iter__(self) -> Iterator[CatalogConfig]:
        return iter(self.catalogs.values())

    def __contains__(self, name: object) -> bool:
        return name in self.catalogs

    def __len__(self) -> int:
        return len(self.catalogs)

    def get(self, name: str) -> CatalogConfig:
        try:
            return self.catalogs[name]
        except KeyError:
            raise CatalogConfigError(f"no catalog named {name!r}") from None

    def names(self) -> list[str]:
        return list(self.catalogs)


def render_catalogs_toml(tables: Mapping[str, Mapping[str, str]]) -> str:
    """TOML text for ``[catalogs.<name>]`` tables of plain string values."""
    lines: list[str] = []
    for name, raw in tables.items():
        lines.append(f"[catalogs.{name}]")
        for key, value in raw.items():
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
        lines.append("")
    return "\n".join(lines)
