"""Structured logs: one JSON object per line, carrying request and correlation ids."""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import threading
import time
from typing import Any

# Attributes every LogRecord has; anything else came in through ``extra=`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _Enqueue(logging.handlers.QueueHandler):
    """Hands the record over as it is: the writer thread formats it (the stock handler
    formats on the caller's thread, and copies the record to do so)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


_STOP = object()


class _LineWriter:
    """Formats queued records and writes them out, everything queued at once in one
    write: under load, one system call (and one GIL hand-back) for many lines."""

    def __init__(self, records: queue.SimpleQueue[Any], stream: Any) -> None:
        self._records = records
        self._stream = stream
        self._format = JsonFormatter().format
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    # After the first record, wait this long for more: under load the thread wakes (and
    # takes the GIL from the database threads) once per 20 ms, not once per request; a
    # lone line is written 20 ms late.
    GATHER_SECONDS = 0.02

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._records.get()]
            if batch[0] is not _STOP:
                time.sleep(self.GATHER_SECONDS)
            while len(batch) < 1000:
                try:
                    batch.append(self._records.get_nowait())
                except queue.Empty:
                    break
            lines = []
            for record in batch:
                if record is _STOP:
                    stopping = True
                    continue
                try:
                    lines.append(self._format(record))
                except Exception as exc:  # a record that cannot be formatted is reported
                    lines.append(f'{{"level": "error", "message": "unloggable record: {exc!r}"}}')
            if lines:
                try:
                    self._stream.write("\n".join(lines) + "\n")
                    self._stream.flush()
                except (OSError, ValueError):  # standard error closed: nowhere to write
                    pass

    def stop(self) -> None:
        self._records.put(_STOP)
        self._thread.join(10)


_writer: _LineWriter | None = None


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on standard error for Ironstar and the server it runs in.

    The event loop only queues a record; a thread formats and writes it. Writing on
    the loop cost a system call per request, and every call that lets go of the GIL
    can wait milliseconds to get it back from busy database threads.
    """
    global _writer
    stop_logging()
    # The records never show the caller's file and line, thread or process: skip
    # looking them up (the logging documentation's "Optimization" settings).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    records: queue.SimpleQueue[Any] = queue.SimpleQueue()
    _writer = _LineWriter(records, sys.stderr)
    root = logging.getLogger()
    root.handlers[:] = [_Enqueue(records)]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel("WARNING")  # our request log replaces it


def stop_logging() -> None:
    """Write out what is queued and stop the writer thread (also run at exit)."""
    global _writer
    if _writer is not None:
        _writer.stop()
        _writer = None


atexit.register(stop_logging)
