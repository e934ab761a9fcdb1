"""Versioned schema migrations: numbered SQL files per database, applied once, in order."""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple


class Migration(NamedTuple):
    version: int
    name: str
    sql: str


def migrations_for(database: str) -> list[Migration]:
    """All migrations shipped for ``database`` ('sqlite' or 'postgres'), in order."""
    found = []
    for entry in resources.files(__name__).joinpath(database).iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    found.sort()
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{database} migrations are not numbered 1..n: {versions}")
    return found
