"""Locate and load the DuckDB extensions that PyPI packages ship, never downloading any.

Each ``duckdb-extension-<name>`` wheel carries
``extensions/v<duckdb version>/<name>.duckdb_extension``; the file only loads into the DuckDB
release it was built for, so the versions must match.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
from pathlib import Path
from typing import Any

import duckdb

# extension name -> the Python package that ships it
BUNDLED_PACKAGES = {
    "ducklake": "duckdb_extension_ducklake",
    "httpfs": "duckdb_extension_httpfs",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}

# Connection settings that keep DuckDB from fetching anything on its own.
OFFLINE_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


class ExtensionUnavailable(RuntimeError):
    code = "extension_unavailable"


def extension_path(name: str) -> Path:
    """The extension file for ``name`` matching the installed DuckDB, or ExtensionUnavailable."""
    package = BUNDLED_PACKAGES.get(name)
    if package is None:
        raise ExtensionUnavailable(f"extension {name!r} is not bundled with Ironstar")
    distribution = package.replace("_", "-")
    try:
        packaged_version = importlib.metadata.version(distribution)
        root = importlib.resources.files(package)
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError) as exc:
        raise ExtensionUnavailable(f"package {distribution} is not installed") from exc
    if packaged_version != duckdb.__version__:
        raise ExtensionUnavailable(
            f"{distribution} {packaged_version} does not match duckdb {duckdb.__version__}; "
            "pin both to the same version"
        )
    path = Path(str(root)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionUnavailable(f"{distribution} has no extension file at {path}")
    return path


def load_extensions(conn: duckdb.DuckDBPyConnection, names: list[str] | tuple[str, ...]) -> None:
    """LOAD each extension from its bundled file (a no-op if already loaded)."""
    for name in dict.fromkeys(names):
        path = str(extension_path(name)).replace("'", "''")
        conn.execute(f"LOAD '{path}'")


def offline_connection(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that will not install or autoload extensions from the network."""
    conn = duckdb.connect(database, config=dict(OFFLINE_CONFIG))
    conn.execute("SET enable_progress_bar = false")
    return conn
