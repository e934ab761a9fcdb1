"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ENV = "IRONSTAR_TEST_POSTGRES_URL"
PG_REQUIRED_ENV = "IRONSTAR_REQUIRE_POSTGRES"
PG_HINT = (
    f"PostgreSQL tests are off: set {PG_ENV}=postgresql://USER@HOST:PORT/DB "
    "(e.g. postgresql://postgres@127.0.0.1:5432/test) to run them"
)


def postgres_url() -> str:
    """The test server's URL, or skip (fail in CI, where it is required)."""
    url = os.environ.get(PG_ENV, "")
    required = os.environ.get(PG_REQUIRED_ENV, "") not in ("", "0")
    if not url:
        if required:
            pytest.fail(f"{PG_REQUIRED_ENV} is set but {PG_ENV} is empty")
        pytest.skip(PG_HINT)
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        if required:
            pytest.fail(f"PostgreSQL at {url} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {url} is unreachable ({exc}); {PG_HINT}")
    return url


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh, empty PostgreSQL schema for one test: yields (url, schema name)."""
    url = postgres_url()
    import psycopg

    schema = f"ironstar_test_{uuid.uuid4().hex[:12]}"
    yield url, schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
