"""A server and a rebuild of the same read models never run at once.

Every server shares the read models' lock; ``ironstar projections rebuild`` takes it
alone, so a rebuild never drops tables under a running server and a server never starts
on tables a rebuild is refilling.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ironstar.application.leadership import (
    READ_MODELS,
    FileLeadership,
    Leadership,
    PostgresLeadership,
    ReadModelsInUse,
)
from ironstar.bootstrap import build_services
from ironstar.settings import Settings
from tests.conftest import postgres_url
from tests.integration.test_cli import ironstar


def check_share_and_exclude(first: Leadership, second: Leadership, third: Leadership) -> None:
    job = f"job-{uuid.uuid4().hex[:8]}"
    assert first.try_share(job) and second.try_share(job)  # servers side by side
    assert not third.try_acquire(job)  # a rebuild waits for both
    first.release(job)
    assert not third.try_acquire(job)
    second.close()
    assert third.try_acquire(job)
    assert not first.try_share(job)  # and a server waits for the rebuild
    assert not first.try_acquire(job)
    third.release(job)
    assert first.try_share(job)
    first.close()


def test_lock_files_share_or_exclude(tmp_path: Path) -> None:
    check_share_and_exclude(*(FileLeadership(tmp_path) for _ in range(3)))


def test_postgres_advisory_locks_share_or_exclude() -> None:
    url = postgres_url()
    leaderships = [PostgresLeadership(url) for _ in range(3)]
    try:
        check_share_and_exclude(*leaderships)
    finally:
        for leadership in leaderships:
            leadership.close()


def test_the_command_line_refuses_to_rebuild_under_a_running_server(tmp_path: Path) -> None:
    server = FileLeadership(tmp_path / "locks")
    assert server.try_share(READ_MODELS)
    refused = ironstar(tmp_path, "projections", "rebuild", "--all")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "read_models_in_use" in refused.stdout and "stop it" in refused.stdout
    server.close()
    rebuilt = ironstar(tmp_path, "projections", "rebuild", "--all")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr


@pytest.mark.anyio
async def test_a_server_does_not_start_during_a_rebuild(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    rebuild = FileLeadership(tmp_path / "locks")
    assert rebuild.try_acquire(READ_MODELS)
    services = build_services(settings)
    try:
        with pytest.raises(ReadModelsInUse, match="rebuild is running"):
            await services.start()
        assert not services.app.started
    finally:
        await services.close()
    rebuild.close()
    services = build_services(settings)
    try:
        await services.start()
        assert services.app.started
        # ...and while it runs, a rebuild is refused.
        during = FileLeadership(tmp_path / "locks")
        assert not during.try_acquire(READ_MODELS)
        during.close()
    finally:
        await services.close()
    after = FileLeadership(tmp_path / "locks")
    assert after.try_acquire(READ_MODELS)
    after.close()


def test_postgres_locks_are_per_deployment() -> None:
    """Two deployments (schemas) on one database elect their leaders apart."""
    url = postgres_url()
    job = f"job-{uuid.uuid4().hex[:8]}"
    one, other = PostgresLeadership(url, scope="one"), PostgresLeadership(url, scope="other")
    same = PostgresLeadership(url, scope="one")
    try:
        assert one.try_acquire(job)
        assert other.try_acquire(job)
        assert not same.try_acquire(job)
    finally:
        for leadership in (one, other, same):
            leadership.close()
