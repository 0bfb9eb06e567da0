"""A small periodic loop for the intake poll; one per deployment (or use cron + ``sync once``)."""

from __future__ import annotations

import threading
import time

from app.core.config import get_settings
from app.core.logging import correlation, get_logger
from app.sync.intake.jobs import poll_pickings

log = get_logger(__name__)


def run_periodically(interval: float, stop: threading.Event) -> None:
    """Poll until ``stop`` is set; a failed cycle is logged and retried next interval."""
    while not stop.is_set():
        with correlation(None):
            try:
                poll_pickings()
            except Exception as exc:  # keep polling: the next cycle's overlap covers this one
                log.error("intake_poll_failed", error=type(exc).__name__, message=str(exc)[:300])
        stop.wait(interval)


def run_forever() -> None:
    stop = threading.Event()
    try:
        run_periodically(get_settings().poll_interval_seconds, stop)
    except KeyboardInterrupt:
        stop.set()
        time.sleep(0)
