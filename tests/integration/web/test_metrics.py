"""Prometheus /metrics: request latency, queries executing and queued, events, lag, SSE."""

from __future__ import annotations

import httpx

from tests.integration.web.conftest import ServedApp


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_metrics_report_what_the_server_is_doing(
    served: ServedApp, local_client: httpx.Client
) -> None:
    made = local_client.post("/api/dashboards", json={"name": "Measured"})
    assert made.status_code == 201
    text = local_client.get("/metrics").text
    head = served.call(served.services.app.events.head_position())
    assert sample(text, "ironstar_events_head_position") == head
    assert sample(text, "ironstar_projection_lag_events") == 0
    assert sample(text, "ironstar_queries_running") == 0
    assert sample(text, "ironstar_queries_queued") == 0
    assert sample(text, "ironstar_sse_clients") == 0
    latency = 'ironstar_http_request_seconds_count{method="POST",route="/api/dashboards"'
    assert latency in text
