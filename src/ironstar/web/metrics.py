"""Prometheus metrics, one registry per app (tests run several apps in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.request_seconds = Histogram(
            "ironstar_http_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.queries = Counter(
            "ironstar_queries_total", "Query runs by outcome", ["status"], registry=r
        )
        self.queries_running = Gauge(
            "ironstar_queries_running", "Queries DuckDB is running in this process", registry=r
        )
        self.queries_queued = Gauge(
            "ironstar_queries_queued",
            "Queries waiting for a slot (the per-user limit or the worker pool)",
            registry=r,
        )
        self.events_head = Gauge(
            "ironstar_events_head_position", "Global position of the last event", registry=r
        )
        self.events_appended = Counter(
            "ironstar_events_appended_total", "Events appended through this process", registry=r
        )
        self.projection_lag = Gauge(
            "ironstar_projection_lag_events",
            "Events not yet applied by the read models",
            registry=r,
        )
        self.sse_clients = Gauge("ironstar_sse_clients", "Open SSE streams", registry=r)
        self.sign_ins = Counter(
            "ironstar_sign_ins_total", "Sign-in attempts by outcome", ["outcome"], registry=r
        )
