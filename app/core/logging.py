"""Structured JSON logs with a correlation id bound per request or job, and PII kept out.

The correlation id follows a shipment from the Odoo picking through jobs, carrier calls and
write-back; it lives in a contextvar so every log line made while handling that work carries it.
Redaction runs last before rendering, so a careless ``log.info(..., address=...)`` still cannot
leak a customer's street, phone or e-mail into the log pipeline.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

from app.core.ids import ulid

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

REDACTED = "[redacted]"


def redact(value: Any, *, key: str | None = None) -> Any:
    """Recursively mask PII: values under PII keys, e-mails and phone numbers inside text."""
    from app.core.security_pii import redact_pii

    return redact_pii(value, key=key)


def _redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in ("event", "level", "timestamp", "logger", "correlation_id"):
            continue
        event_dict[key] = redact(event_dict[key], key=key)
    if isinstance(event_dict.get("event"), str):
        event_dict["event"] = redact(event_dict["event"])
    return event_dict


def _add_correlation_id(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    cid = correlation_id_var.get()
    if cid is not None:
        event_dict.setdefault("correlation_id", cid)
    return event_dict


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Route structlog and stdlib logging (uvicorn, rq, alembic) through one JSON renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def new_correlation_id() -> str:
    return f"wb-{ulid().lower()}"


@contextmanager
def correlation(cid: str | None) -> Iterator[str]:
    """Bind a correlation id (a new one if none is given) for the duration of a unit of work."""
    value = cid or new_correlation_id()
    token = correlation_id_var.set(value)
    try:
        yield value
    finally:
        correlation_id_var.reset(token)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
