"""The session cache never serves a row older than the last applied session event."""

from __future__ import annotations

from ironstar.domain import session as s
from ironstar.eventstore.model import EventMetadata, RecordedEvent
from ironstar.web.context import SessionCache


def session_event(position: int, session_id: str) -> RecordedEvent:
    data = s.SessionInvalidated(session_id=session_id, user_id="u", reason="logout", at=1.0)
    return RecordedEvent(
        position=position,
        stream_id=s.stream_id(session_id),
        stream_type="session",
        stream_version=2,
        event_id=f"e{position}",
        event_type="SessionInvalidated",
        event_version=1,
        data=data,
        metadata=EventMetadata(user_id="u"),
        recorded_at=1.0,
    )


def test_an_applied_session_event_evicts_that_session_only() -> None:
    cache = SessionCache()
    cache.put("a", {"status": "active"}, cache.changes)
    cache.put("b", {"status": "active"}, cache.changes)
    cache.applied([session_event(1, "a")])
    assert cache.get("a") is None
    assert cache.get("b") == {"status": "active"}


def test_a_row_read_while_a_session_changed_is_not_kept() -> None:
    cache = SessionCache()
    before_read = cache.changes
    cache.applied([session_event(1, "a")])  # applied while the row was being read
    cache.put("a", {"status": "active"}, before_read)
    assert cache.get("a") is None


def test_the_cache_stays_bounded() -> None:
    cache = SessionCache(size=3)
    for n in range(10):
        cache.put(str(n), {"n": n}, cache.changes)
    assert sum(cache.get(str(n)) is not None for n in range(10)) <= 3
    assert cache.get("9") == {"n": 9}
