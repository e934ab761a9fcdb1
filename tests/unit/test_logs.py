"""Structured logs carry their extra fields as JSON."""

from __future__ import annotations

import json
import logging

from ironstar.logs import JsonFormatter


def test_a_log_line_is_json_with_its_request_fields() -> None:
    record = logging.LogRecord("ironstar.web", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "abc"
    record.correlation_id = "c-1"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "request" and line["level"] == "info"
    assert (line["request_id"], line["correlation_id"]) == ("abc", "c-1")
    assert line["ts"].endswith("Z")
