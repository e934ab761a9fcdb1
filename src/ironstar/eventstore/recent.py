"""The events this process committed last, kept in memory for its own subscribers.

Every subscriber in the process (the projection runner, the query runner, live pages)
would otherwise read each new event back from the database: a query, a decode and two
thread hand-offs per subscriber per commit. The writer thread records what it has just
committed here, and a subscriber takes the next events from memory when - and only
when - they continue exactly where it stands.

Positions have no gaps and follow commit order, so "the event right after mine is here"
proves nothing committed in between is missing. Events another process committed are
never here: a subscriber meeting one (a gap) reads from the database as before.
"""

from __future__ import annotations

import threading
from collections import deque

from ironstar.eventstore.model import EventFilter, RecordedEvent


class RecentEvents:
    def __init__(self, capacity: int = 8192) -> None:
        self._capacity = capacity
        self._by_position: dict[int, RecordedEvent] = {}
        self._order: deque[int] = deque()
        self._lock = threading.Lock()

    def add(self, events: list[RecordedEvent]) -> None:
        """Called by the writer thread after the commit that stored ``events``."""
        with self._lock:
            for event in events:
                self._by_position[event.position] = event
                self._order.append(event.position)
            while len(self._order) > self._capacity:
                self._by_position.pop(self._order.popleft(), None)

    def after(self, position: int, limit: int) -> list[RecordedEvent] | None:
        """The events right after ``position``, in order, up to ``limit``; None when the
        next one is not here (not committed by this process, or no longer kept)."""
        with self._lock:
            by_position = self._by_position
            following = by_position.get(position + 1)
            if following is None:
                return None
            run = [following]
            next_position = position + 2
            while len(run) < limit:
                event = by_position.get(next_position)
                if event is None:
                    break
                run.append(event)
                next_position += 1
            return run


def matching(events: list[RecordedEvent], filter: EventFilter) -> list[RecordedEvent]:
    if not filter.stream_types and not filter.event_types:
        return events
    return [e for e in events if filter.matches(e.stream_type, e.event_type)]
