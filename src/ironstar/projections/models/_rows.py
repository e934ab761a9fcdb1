"""Rows a page of events touches, changed in memory and written back once.

A projection applying a page loads the rows its events touch (by primary key, a few
queries per page), replays the events on those rows in memory with the same meaning as
its SQL (insert-if-absent, update-if-present, delete), then writes each changed row once
with ``executemany``: a session refreshed forty times in a page is one row written, not
forty statements. Applying one event is the same code with a page of one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from ironstar.projections.store import Tx

Row = list[Any]
_CHUNK = 500  # keys per ``IN (...)``: well under every database's parameter limit


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Rows:
    """One table's rows by primary key: its first ``key_columns`` columns, the first of
    which is what rows are loaded by (a session id; a dashboard id for its tabs)."""

    def __init__(self, table: str, columns: Sequence[str], *, key_columns: int = 1) -> None:
        cols = ", ".join(columns)
        keys = columns[:key_columns]
        self._key_columns = key_columns
        self._select = f"SELECT {cols} FROM {table} WHERE {keys[0]} IN "
        self._upsert = (
            f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in columns[key_columns:])
        )
        self._delete = f"DELETE FROM {table} WHERE " + " AND ".join(f"{k} = ?" for k in keys)
        self._current: dict[Hashable, Row | None] = {}  # None: no such row (any more)
        self._stored: dict[Hashable, tuple[Any, ...]] = {}
        self._groups: dict[Hashable, dict[Hashable, None]] = {}  # first key -> keys, in order

    def load(self, tx: Tx, first_keys: Iterable[Hashable]) -> None:
        """Read every row whose first key column is one of ``first_keys`` (once each)."""
        missing = [k for k in dict.fromkeys(first_keys) if k not in self._groups]
        for part in chunks(missing):
            marks = ", ".join("?" * len(part))
            for row in tx.fetchall(f"{self._select}({marks})", part):
                key = self._key_of(row)
                self._stored[key] = tuple(row)
                self._add(key, list(row))
        for first in missing:
            self._groups.setdefault(first, {})

    def get(self, key: Hashable) -> Row | None:
        """The row as the events so far left it (its key must have been loaded)."""
        return self._current.get(key)

    def group(self, first_key: Hashable) -> list[Row]:
        """Every present row whose first key column is ``first_key``."""
        rows = (self._current[k] for k in self._groups.get(first_key, ()))
        return [row for row in rows if row is not None]

    def insert(self, row: Row) -> None:
        """INSERT ... ON CONFLICT DO NOTHING."""
        key = self._key_of(row)
        if self._current.get(key) is None:
            self._add(key, row)

    def delete(self, key: Hashable) -> None:
        if key in self._current:
            self._current[key] = None

    def flush(self, tx: Tx) -> None:
        """Write what changed since loading (deletes first), then forget every row."""
        stored = self._stored
        gone = [k for k, row in self._current.items() if row is None and k in stored]
        changed = [
            tuple(row)
            for k, row in self._current.items()
            if row is not None and tuple(row) != stored.get(k)
        ]
        if gone:
            tx.executemany(self._delete, [(k,) if self._key_columns == 1 else k for k in gone])  # type: ignore[misc]
        if changed:
            tx.executemany(self._upsert, changed)
        self._current, self._stored, self._groups = {}, {}, {}

    def _key_of(self, row: Sequence[Any]) -> Hashable:
        return row[0] if self._key_columns == 1 else tuple(row[: self._key_columns])

    def _add(self, key: Hashable, row: Row) -> None:
        self._current[key] = row
        first = key[0] if self._key_columns > 1 else key  # type: ignore[index]
        self._groups.setdefault(first, {})[key] = None
