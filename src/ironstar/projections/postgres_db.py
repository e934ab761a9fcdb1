"""PostgreSQL projection database: read models in their own schema, '?' -> '%s'."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool

T = TypeVar("T")
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@lru_cache(maxsize=1024)
def _pg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class _PgTx:
    __slots__ = ("_conn",)
    dialect = "postgres"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(_pg(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_pg(sql), rows)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.execute(sql, params).fetchone()
        return row

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(sql, params).fetchall())


class PostgresProjectionDatabase:
    dialect = "postgres"

    def __init__(self, url: str, *, schema: str = "ironstar_read") -> None:
        if not _SCHEMA.fullmatch(schema):
            raise ValueError(f"schema name {schema!r} must be a lower-case identifier")
        self.schema = schema
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        options = f"-c search_path={schema}"
        self._writer = psycopg.connect(url, autocommit=True, options=options)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            open=True,
            kwargs={"autocommit": True, "options": options},
        )

    def transaction(self, work: Callable[[Any], T]) -> T:
        with self._writer.transaction():
            return work(_PgTx(self._writer))

    def bulk(self, enabled: bool) -> None:
        pass  # checkpoints and buffers are the server's; nothing to tune per session

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return list(conn.execute(_pg(sql), params).fetchall())

    def read_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._pool.connection() as conn:
            cursor = conn.execute(_pg(sql), params)
            names = [d.name for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def table_names(self) -> set[str]:
        rows = self.read(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            (self.schema,),
        )
        return {r[0] for r in rows}

    def close(self) -> None:
        self._pool.close()
        self._writer.close()
