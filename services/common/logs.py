"""Log lines of every Zuhur process: JSON in containers, human-readable in ``make up``.

``ZUHUR_LOG_FORMAT`` picks the format: ``json`` (one object per line; the Dockerfile sets
it) or ``text`` (the default). Every line carries the request id of the request it serves
(``REQUEST_ID``, set by the gateway's middleware, the services' RPC adapter and the jobs
worker) and, while a span is recording, its trace and span ids, so a line leads to the
trace and back. Extra fields (``log.info("request", extra={...})``) become JSON keys, or
``key=value`` pairs in text.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

FORMAT_ENV = "ZUHUR_LOG_FORMAT"
FORMATS = ("text", "json")
REQUEST_ID: ContextVar[str | None] = ContextVar("zuhur_request_id", default=None)
"""The id of the request the current task serves (None outside one)."""
REQUEST_ID_METADATA = "x-request-id"
"""The gRPC metadata key (and HTTP header) that carries the request id between processes."""

# Attributes every LogRecord has; anything else on a record was passed as ``extra``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``trace_id`` and ``span_id`` of the current context to a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        span = trace.get_current_span().get_span_context()
        if span.is_valid and not hasattr(record, "trace_id"):
            record.trace_id = trace.format_trace_id(span.trace_id)
            record.span_id = trace.format_span_id(span.span_id)
        return True


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record carries beyond the standard ones (``extra``, context ids)."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class TextFormatter(logging.Formatter):
    """The classic one-line format, then the record's extra fields as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{k}={v}" for k, v in extras(record).items())
        return f"{line} {fields}" if fields else line


def json_formatter(service: str) -> logging.Formatter:
    """One JSON object per line: time, level, logger, message, service, then the extras."""
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        static_fields={"service": service},
        reserved_attrs=sorted(_STANDARD - {"message", "asctime", "levelname", "name"}),
    )


def log_format(environ: dict[str, str] | None = None) -> str:
    """The configured format; a value other than ``text`` or ``json`` is an error."""
    value = (environ if environ is not None else os.environ).get(FORMAT_ENV, "text").lower()
    if value not in FORMATS:
        raise ValueError(f"{FORMAT_ENV}={value!r}: must be one of {', '.join(FORMATS)}")
    return value


def configure(level: str, service: str, fmt: str | None = None) -> logging.Handler:
    """Send every logger's records to stderr in the configured format (replacing the handler
    an earlier call installed, and only that one); returns the handler."""
    handler = logging.StreamHandler(sys.stderr)
    chosen = fmt or log_format()
    handler.setFormatter(json_formatter(service) if chosen == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.set_name("zuhur")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "zuhur"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def metadata_request_id(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The request id in gRPC invocation metadata, if the caller sent one."""
    for key, value in metadata or ():
        if key == REQUEST_ID_METADATA:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None
