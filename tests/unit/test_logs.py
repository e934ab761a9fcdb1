"""Structured logs carry their extra fields as JSON."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys

from ironstar.logs import JsonFormatter


def test_a_log_line_is_json_with_its_request_fields() -> None:
    record = logging.LogRecord("ironstar.web", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "abc"
    record.correlation_id = "c-1"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "request" and line["level"] == "info"
    assert (line["request_id"], line["correlation_id"]) == ("abc", "c-1")
    assert line["ts"].endswith("Z")


def test_configured_logging_writes_every_line_from_its_thread_by_exit() -> None:
    """The loop only queues records; a thread writes them, and nothing queued is lost
    when the process ends (the queue is drained at exit)."""
    script = (
        "import logging\n"
        "from ironstar.logs import configure_logging\n"
        "configure_logging()\n"
        "log = logging.getLogger('ironstar.test')\n"
        "for n in range(500):\n"
        "    log.info('request', extra={'request_id': f'r{n}'})\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    log.exception('failed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["request_id"] for line in lines[:500]] == [f"r{n}" for n in range(500)]
    assert lines[500]["message"] == "failed"
    assert "ZeroDivisionError" in lines[500]["exception"]


def test_a_sigterm_writes_out_the_queued_lines_before_the_process_ends() -> None:
    """``ironstar serve`` installs this handler: uvicorn re-raises SIGTERM with its
    default action once stopped, which would end the process with lines still queued."""
    script = (
        "import logging, signal\n"
        "from ironstar.cli import _write_logs_then_stop\n"
        "from ironstar.logs import configure_logging\n"
        "configure_logging()\n"
        "signal.signal(signal.SIGTERM, _write_logs_then_stop)\n"
        "log = logging.getLogger('ironstar.test')\n"
        "for n in range(5000):\n"
        "    log.info('request', extra={'request_id': f'r{n}'})\n"
        "signal.raise_signal(signal.SIGTERM)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGTERM  # still ended by the signal
    assert len(done.stderr.splitlines()) == 5000
