"""Result cache keyed on the data version, not on time.

The key is the normalised SQL, the default catalog and the DuckLake snapshot id of every
catalog the query reads. A new snapshot changes the key, so a stale result can never be
served and no TTL is needed; old entries simply stop being asked for. The index is kept in
the blob store beside the results, so it outlives the process; retention removes both.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping

import duckdb
import msgspec

from ironstar.analytics.blobstore import BlobNotFound, BlobStore
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


INDEX_PREFIX = "result-cache"  # blob keys of the persisted index, beside the results


def _index_key(key: str) -> str:
    return f"{INDEX_PREFIX}/{key}.json"


class ResultCache:
    """Index from cache key to a stored result's summary: in memory, and written beside
    the results in the blob store, so a restarted server (or another node on the same
    storage) still finds the results it already computed. Called on query worker threads.
    """

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
        if summary is None:
            summary = self._stored(key)
            if summary is None:
                return None
            self._remember(key, summary)
        if not self._store.exists(summary.result_key):
            # retention removed the result: the entry is worthless, here and on disk
            with self._lock:
                self._entries.pop(key, None)
            self._store.delete(_index_key(key))
            return None
        return summary

    def put(self, key: str, summary: ResultSummary) -> None:
        self._remember(key, summary)
        try:
            with self._store.writer(_index_key(key)) as handle:
                handle.write(msgspec.json.encode(summary))
        except OSError:
            pass  # the entry stays in memory; on disk it is only a head start after a restart

    def _remember(self, key: str, summary: ResultSummary) -> None:
        with self._lock:
            self._entries[key] = summary
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def _stored(self, key: str) -> ResultSummary | None:
        try:
            with self._store.open(_index_key(key)) as handle:
                return msgspec.json.decode(handle.read(), type=ResultSummary)
        except (BlobNotFound, OSError, msgspec.DecodeError):
            return None  # never written, removed by retention, or cut short: recompute

    def __len__(self) -> int:
        return len(self._entries)
