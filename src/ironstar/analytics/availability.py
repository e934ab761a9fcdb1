"""Catalog availability: a typed error and a circuit breaker with exponential back-off.

A catalog that fails to attach is not retried on every request: the breaker opens for a
back-off period (doubling up to a ceiling), callers serve the last known metadata marked
stale, and the first attempt after the back-off (half-open) closes the breaker on success.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class CatalogUnavailable(Exception):
    code = "catalog_unavailable"

    def __init__(self, catalog: str, reason: str, retry_at: float | None = None) -> None:
        super().__init__(f"catalog {catalog!r} is unavailable: {reason}")
        self.catalog = catalog
        self.reason = reason
        self.retry_at = retry_at


@dataclass(frozen=True)
class BreakerState:
    state: str  # "closed" | "open" | "half_open"
    failures: int
    last_reason: str | None
    retry_at: float | None


class CircuitBreaker:
    """Thread-safe breaker; time comes from ``clock`` so tests can move it."""

    def __init__(
        self,
        base_backoff: float = 5.0,
        max_backoff: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base_backoff
        self._max = max_backoff
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._reason: str | None = None
        self._open_until: float | None = None
        self._trial_running = False

    def allow(self) -> bool:
        """May the caller try the catalog now? After back-off, lets one trial through."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._clock() < self._open_until or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._reason = None
            self._open_until = None
            self._trial_running = False

    def record_failure(self, reason: str) -> None:
        with self._lock:
            self._failures += 1
            self._reason = reason
            backoff = min(self._max, self._base * 2 ** (self._failures - 1))
            self._open_until = self._clock() + backoff
            self._trial_running = False

    def snapshot(self) -> BreakerState:
        with self._lock:
            if self._open_until is None:
                state = "closed"
            elif self._clock() < self._open_until:
                state = "open"
            else:
                state = "half_open"
            return BreakerState(state, self._failures, self._reason, self._open_until)

    def unavailable(self, catalog: str) -> CatalogUnavailable:
        """The error to raise while the breaker refuses calls."""
        state = self.snapshot()
        return CatalogUnavailable(catalog, state.last_reason or "not attached", state.retry_at)


class CatalogHealth:
    """One breaker per catalog name, shared by the query engine and the metadata refresher."""

    def __init__(
        self,
        base_backoff: float = 5.0,
        max_backoff: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make = lambda: CircuitBreaker(base_backoff, max_backoff, clock)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def breaker(self, catalog: str) -> CircuitBreaker:
        with self._lock:
            if catalog not in self._breakers:
                self._breakers[catalog] = self._make()
            return self._breakers[catalog]

    def is_closed(self, catalog: str) -> bool:
        return self.breaker(catalog).snapshot().state == "closed"

    def would_retry(self, catalog: str) -> bool:
        """True when an attempt would be let through (closed, or back-off elapsed)."""
        return self.breaker(catalog).snapshot().state != "open"
