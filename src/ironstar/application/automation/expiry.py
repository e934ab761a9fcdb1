"""The session-expiry sweeper: records SessionExpired once a session's TTL has elapsed.

Safe with several processes sweeping at once: the command id is derived from the
session, so racing sweepers append the same event ids and the store keeps one; a
session refreshed or signed out meanwhile is refused by the domain and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ironstar.application.automation.periodic import while_leading
from ironstar.application.leadership import Leadership
from ironstar.application.workflow import Workflow
from ironstar.domain.errors import DomainError

log = logging.getLogger(__name__)
JOB = "session-expiry"


async def sweep_expired_sessions(workflow: Workflow, *, now: float | None = None) -> int:
    """Expire every session whose TTL has elapsed; return how many this call expired."""
    due = await workflow.app.reads.sessions_to_expire(workflow.clock() if now is None else now)
    expired = 0
    for session_id in due:
        try:
            result = await workflow.expire_session(session_id)
        except DomainError as exc:  # refreshed, signed out or expired meanwhile
            log.debug("session %s not expired: %s", session_id, exc)
            continue
        if result.events and not result.replayed:
            expired += 1
    return expired


def expiry_job(
    workflow: Workflow,
    leadership: Leadership,
    *,
    interval: float = 30.0,
) -> Callable[[], Awaitable[None]]:
    """A background job: sweep every ``interval`` seconds while this process leads."""

    async def sweep() -> None:
        count = await sweep_expired_sessions(workflow)
        if count:
            log.info("expired %d session(s)", count)

    return while_leading(leadership, JOB, interval, sweep)
