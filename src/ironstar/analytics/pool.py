"""A pool of warm sandbox sessions: opening one (loading DuckLake, attaching) costs ~0.3 s."""

from __future__ import annotations

import threading

from ironstar.analytics.availability import CatalogHealth
from ironstar.analytics.catalogs import CatalogRegistry
from ironstar.analytics.sandbox import SandboxLimits
from ironstar.analytics.sessions import SandboxSession, open_session


class SessionPool:
    def __init__(
        self,
        registry: CatalogRegistry,
        limits: SandboxLimits,
        health: CatalogHealth,
        attach_timeout: float = 10.0,
    ) -> None:
        self.registry = registry
        self.limits = limits
        self.health = health
        self.attach_timeout = attach_timeout
        self._idle: list[SandboxSession] = []
        self._generation = 0
        self._born: dict[int, int] = {}  # id(session) -> generation it was opened in
        self._lock = threading.Lock()
        self._closed = False

    def acquire(self) -> SandboxSession:
        """An idle session that is still current, or a fresh one (blocking: call in a thread)."""
        while True:
            with self._lock:
                if self._closed:
                    raise RuntimeError("session pool is closed")
                session = self._idle.pop() if self._idle else None
            if session is None:
                return self._open()
            if self._is_current(session):
                return session
            self._discard(session)

    def release(self, session: SandboxSession, reusable: bool = True) -> None:
        with self._lock:
            keep = reusable and not self._closed and self._born.get(id(session)) == self._generation
            if keep:
                self._idle.append(session)
        if not keep:
            self._discard(session)

    def invalidate(self) -> None:
        """Drop every session: the next queries re-attach (e.g. after the catalogs changed)."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
        for session in idle:
            self._discard(session)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for session in idle:
            self._discard(session)

    def _open(self) -> SandboxSession:
        with self._lock:
            generation = self._generation
        session = open_session(self.registry, self.limits, self.health, self.attach_timeout)
        with self._lock:
            self._born[id(session)] = generation
        return session

    def _is_current(self, session: SandboxSession) -> bool:
        with self._lock:
            if self._born.get(id(session)) != self._generation:
                return False
        # A catalog missing from this session whose back-off has elapsed deserves a retry.
        return all(
            name in session.attached or not self.health.would_retry(name)
            for name in self.registry.names()
        )

    def _discard(self, session: SandboxSession) -> None:
        with self._lock:
            self._born.pop(id(session), None)
        session.close()
