"""Result cache keyed on the data version, not on time.

The key is the normalised SQL, the default catalog and the DuckLake snapshot id of every
catalog the query reads. A new snapshot changes the key, so a stale result can never be
served and no TTL is needed; old entries simply stop being asked for.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping

import duckdb

from ironstar.analytics.blobstore import BlobStore
from ironstar.analytics.results import ResultSummary


def normalise_sql(sql: str) -> str:
    """Comments and whitespace removed, keywords upper-cased; identifiers and literals kept.

    Unquoted identifiers keep their case because DuckDB keeps it in result column names.
    """
    tokens = duckdb.tokenize(sql)
    parts = []
    for index, (start, kind) in enumerate(tokens):
        end = tokens[index + 1][0] if index + 1 < len(tokens) else len(sql)
        text = sql[start:end]
        if kind.name != "string_const":
            text = _strip_comments(text)
        text = text.strip()
        if kind.name == "keyword":
            text = text.upper()
        if text:
            parts.append(text)
    while parts and parts[-1] == ";":
        parts.pop()
    return " ".join(parts)


def _strip_comments(text: str) -> str:
    if text.startswith('"'):
        closing = text.find('"', 1)
        while closing != -1 and text[closing + 1 : closing + 2] == '"':
            closing = text.find('"', closing + 2)
        return text if closing == -1 else text[: closing + 1]
    cut = [i for i in (text.find("--"), text.find("/*")) if i != -1]
    return text[: min(cut)] if cut else text


def cache_key(sql: str, default_catalog: str | None, snapshots: Mapping[str, int]) -> str:
    material = json.dumps(
        {
            "sql": normalise_sql(sql),
            "catalog": default_catalog,
            "snapshots": sorted(snapshots.items()),
        },
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()


class ResultCache:
    """Bounded in-memory index from cache key to a stored result's summary."""

    def __init__(self, store: BlobStore, max_entries: int = 10_000) -> None:
        self._store = store
        self._max = max_entries
        self._entries: OrderedDict[str, ResultSummary] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> ResultSummary | None:
        with self._lock:
            summary = self._entries.get(key)
            if summary is not None:
                self._entries.move_to_end(key)
        if summary is not None and not self._store.exists(summary.result_key):
            with self._lock:  # retention removed the file: the entry is worthless
                self._entries.pop(key, None)
            return None
        return summary

    def put(self, key: str, summary: ResultSummary) -> None:
        with self._lock:
            self._entries[key] = summary
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
