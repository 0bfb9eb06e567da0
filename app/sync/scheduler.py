"""Periodic work: intake poll and outbox drain; one loop per deployment (or cron + `sync once`)."""

from __future__ import annotations

import threading
import time

from app.core.config import get_settings
from app.core.logging import correlation, get_logger
from app.core.retention import purge_job
from app.sync.alerts.jobs import detect_anomalies, sweep_at_risk
from app.sync.booking.escalation import escalate_approvals_job
from app.sync.booking.jobs import drain_outbox, sweep_stalled_intents
from app.sync.exceptions.jobs import sync_feedback
from app.sync.intake.jobs import poll_pickings
from app.sync.tracking.jobs import (
    fan_out_outbound,
    poll_tracking,
    project_tracking,
    republish_inbox,
)

log = get_logger(__name__)

STEPS = (
    ("intake", poll_pickings),
    ("tracking_inbox", republish_inbox),
    ("tracking_projection", project_tracking),
    ("tracking_poll", poll_tracking),
    ("outbound_webhooks", fan_out_outbound),
    ("triage_feedback", sync_feedback),
    ("approval_escalation", escalate_approvals_job),
    ("outbox", drain_outbox),
)
HOURLY = (("retention", purge_job), ("anomaly_alerts", detect_anomalies))
EVERY_FEW_MINUTES = (
    ("stalled_bookings", sweep_stalled_intents),
    ("at_risk_sweep", sweep_at_risk),
)  # audited work that need not run every cycle


def run_periodically(interval: float, stop: threading.Event) -> None:
    """Poll until ``stop`` is set; a failed cycle is logged and retried next interval."""
    last_hourly = last_sweep = 0.0
    while not stop.is_set():
        steps = list(STEPS)
        if time.monotonic() - last_sweep >= 300:
            steps += list(EVERY_FEW_MINUTES)
            last_sweep = time.monotonic()
        if time.monotonic() - last_hourly >= 3600:
            steps += list(HOURLY)
            last_hourly = time.monotonic()
        with correlation(None):
            for name, step in steps:
                try:
                    step()
                except Exception as exc:  # keep going: the next cycle covers this one
                    log.error(
                        "periodic_step_failed",
                        step=name,
                        error=type(exc).__name__,
                        message=str(exc)[:300],
                    )
        stop.wait(interval)


def run_forever() -> None:
    stop = threading.Event()
    try:
        run_periodically(get_settings().poll_interval_seconds, stop)
    except KeyboardInterrupt:
        stop.set()
        time.sleep(0)
